//! The pages' error type, beside problem+json: a refusal from the domain becomes a page with
//! the same status that says, in plain words, what happened and what to do.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpResponse, ResponseError};
use minijinja::context;

use super::render::{Frame, View, see_other};
use crate::error::AppError;

#[derive(Debug, thiserror::Error)]
pub enum PageError {
    /// Not signed in, or the session ended: sign in, then come back here.
    #[error("sign in first")]
    SignIn { next: String },
    /// A form without its session's token, or posted from another site.
    #[error("the form's CSRF check failed")]
    Csrf,
    #[error(transparent)]
    App(#[from] AppError),
}

pub type PageResult = Result<HttpResponse, PageError>;

/// A local path to come back to after signing in: a path of this site, never another host.
pub fn safe_next(next: &str) -> Option<&str> {
    let ok = next.starts_with('/')
        && !next.starts_with("//")
        && !next.contains('\\')
        && !next.chars().any(char::is_control);
    ok.then_some(next)
}

pub fn sign_in_location(next: &str) -> String {
    match safe_next(next).filter(|n| *n != "/") {
        Some(next) => format!(
            "/sign-in?next={}",
            serde_urlencoded::to_string([("", next)])
                .map(|s| s.trim_start_matches('=').to_string())
                .unwrap_or_default()
        ),
        None => "/sign-in".to_string(),
    }
}

struct Explained {
    heading: &'static str,
    paragraphs: Vec<String>,
    messages: Vec<String>,
}

fn explain(error: &AppError) -> Explained {
    let plain = |heading, paragraphs: &[&str]| Explained {
        heading,
        paragraphs: paragraphs.iter().map(|p| (*p).to_string()).collect(),
        messages: vec![],
    };
    match error {
        AppError::NotFound => plain(
            "Page not found",
            &[
                "If you typed the web address, check it is correct.",
                "If you followed a link, what it pointed to may have been removed, or it may \
                 belong to another organisation.",
            ],
        ),
        AppError::Forbidden(why) => Explained {
            heading: "You cannot do this",
            paragraphs: vec![
                (*why).to_string(),
                "If you think you should be able to, ask your programme manager.".into(),
            ],
            messages: vec![],
        },
        AppError::Conflict { detail, .. } => Explained {
            heading: "This has already changed",
            paragraphs: vec![
                detail.clone(),
                "Go back, reload the page and check what it shows now.".into(),
            ],
            messages: vec![],
        },
        AppError::Validation(errors) => Explained {
            heading: "This could not be done",
            paragraphs: vec!["Nothing was changed, because:".into()],
            messages: errors
                .iter()
                .flat_map(|(field, messages)| {
                    messages
                        .iter()
                        .map(move |m| format!("{} {m}", field.replace('_', " ")))
                })
                .collect(),
        },
        AppError::Unprocessable(detail) | AppError::BadRequest(detail) => Explained {
            heading: "This could not be done",
            paragraphs: vec![detail.clone(), "Nothing was changed.".into()],
            messages: vec![],
        },
        AppError::TooManyRequests { retry_after_secs } => Explained {
            heading: "Too many attempts",
            paragraphs: vec![format!(
                "Wait {} and try again.",
                crate::explain::plural(
                    i64::try_from(retry_after_secs.div_ceil(60)).unwrap_or(i64::MAX),
                    "minute",
                    "minutes"
                )
            )],
            messages: vec![],
        },
        AppError::Unavailable(_) | AppError::NotReady(_) => plain(
            "Sorry, the service is busy",
            &["Nothing was changed. Try again in a minute."],
        ),
        AppError::StorageFull(_) => plain(
            "Sorry, the service cannot save anything just now",
            &[
                "It has run out of storage space, so nothing was changed. Its operators have \
                 been told. Try again later.",
            ],
        ),
        AppError::PayloadTooLarge { .. } => plain(
            "What you sent is too long",
            &["Nothing was changed. Shorten the text and try again."],
        ),
        AppError::Unauthorized(_)
        | AppError::MethodNotAllowed { .. }
        | AppError::PreconditionFailed
        | AppError::PreconditionRequired
        | AppError::UnsupportedMediaType
        | AppError::Internal(_) => plain(
            "Sorry, there is a problem with the service",
            &["Nothing was changed. Try again later."],
        ),
    }
}

fn error_page(status: StatusCode, explained: Explained) -> HttpResponse {
    let view = View::new(
        "error.html",
        explained.heading,
        context! {
            heading => explained.heading,
            paragraphs => explained.paragraphs,
            messages => explained.messages,
            next_href => "/",
            next_label => "Go to your home page",
        },
    )
    .status(status);
    view.render(&Frame {
        session: None,
        csrf_token: "",
        path: "",
    })
}

pub fn not_found_page() -> HttpResponse {
    error_page(StatusCode::NOT_FOUND, explain(&AppError::NotFound))
}

impl ResponseError for PageError {
    fn status_code(&self) -> StatusCode {
        match self {
            Self::SignIn { .. } => StatusCode::SEE_OTHER,
            Self::Csrf => StatusCode::FORBIDDEN,
            Self::App(AppError::Unauthorized(_)) => StatusCode::SEE_OTHER,
            Self::App(e) => e.status_code(),
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            Self::SignIn { next } => see_other(&sign_in_location(next)),
            Self::App(AppError::Unauthorized(_)) => see_other("/sign-in"),
            Self::Csrf => error_page(
                StatusCode::FORBIDDEN,
                Explained {
                    heading: "This form has expired",
                    paragraphs: vec![
                        "Nothing was changed. For your safety, forms stop working when you \
                         sign out, when you have been away for a while, or when they come \
                         from another website."
                            .into(),
                        "Go back, reload the page, and try again.".into(),
                    ],
                    messages: vec![],
                },
            ),
            Self::App(error) => {
                match error {
                    AppError::Internal(detail) => {
                        tracing::error!(error = %detail, "internal error on a page");
                    }
                    AppError::Unavailable(detail) => {
                        tracing::warn!(error = %detail, "database unavailable on a page");
                    }
                    _ => {}
                }
                let mut response = error_page(error.status_code(), explain(error));
                let retry_after = match error {
                    AppError::TooManyRequests { retry_after_secs } => Some(*retry_after_secs),
                    AppError::StorageFull(_) => Some(crate::db::storage::RETRY_AFTER_SECS),
                    _ => None,
                };
                if let Some(secs) = retry_after
                    && let Ok(v) = header::HeaderValue::from_str(&secs.to_string())
                {
                    response.headers_mut().insert(header::RETRY_AFTER, v);
                }
                response
            }
        }
    }
}
