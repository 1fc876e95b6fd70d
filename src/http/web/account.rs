//! The pages emailed links open: choosing a password (invitation or reset) and asking for a
//! reset link.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::Data;

use crate::http::extract::Query;
use actix_web::{HttpRequest, HttpResponse, get, post};
use minijinja::context;
use serde::Deserialize;

use super::errors::PageResult;
use super::render::{FormErrors, Frame, View};
use super::session::{Visitor, VisitorForm};
use crate::config::Secret;
use crate::error::AppError;
use crate::http::extract::{ClientIp, request_id};
use crate::identity::account_tokens;
use crate::state::AppState;

fn respond(view: View, visitor: &Visitor, path: &str) -> HttpResponse {
    let mut response = view.render(&Frame {
        session: None,
        csrf_token: &visitor.token,
        path,
    });
    if let Some(set) = &visitor.set_cookie
        && let Ok(value) = header::HeaderValue::from_str(set)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

fn message(title: &str, paragraphs: &[&str], link: Option<(&str, &str)>) -> View {
    View::new(
        "message.html",
        title,
        context! {
            heading => title,
            paragraphs => paragraphs,
            link => link.map(|(href, label)| context! { href, label }),
        },
    )
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SetPasswordForm {
    token: String,
    password: String,
    confirm: String,
}

fn set_password_form(token: &str, errors: FormErrors) -> View {
    let view = View::new(
        "set_password.html",
        "Choose your password",
        context! { token => token },
    );
    view.with_errors(errors)
}

/// The page an invitation or reset link opens.
#[get("/account/set-password")]
pub async fn set_password_page(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<TokenQuery>,
) -> PageResult {
    let visitor = Visitor::of(&req, &state.settings.web)?;
    let view = match query.token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => set_password_form(token, FormErrors::default()),
        None => message(
            "This link is incomplete",
            &["Open the link from your email again, or ask for a new one."],
            Some((account_tokens::RESET_PASSWORD_PATH, "Ask for a new link")),
        )
        .status(StatusCode::BAD_REQUEST),
    };
    Ok(respond(view, &visitor, account_tokens::SET_PASSWORD_PATH))
}

/// The form, posted back: sets the password, or shows the form again with the reason.
#[post("/account/set-password")]
pub async fn set_password(
    req: HttpRequest,
    state: Data<AppState>,
    posted: VisitorForm<SetPasswordForm>,
) -> PageResult {
    let VisitorForm { visitor, form } = posted;
    let path = account_tokens::SET_PASSWORD_PATH;
    let mut errors = FormErrors::default();
    if form.password.is_empty() {
        errors.add("password", "Enter a new password");
    } else if form.password != form.confirm {
        errors.add("confirm", "The two passwords are not the same");
    }
    if !errors.is_empty() {
        return Ok(respond(
            set_password_form(&form.token, errors),
            &visitor,
            path,
        ));
    }
    let result = account_tokens::set_password_with_token(
        &state.identity,
        &state.db,
        &state.notifications,
        &form.token,
        &Secret::new(form.password),
        request_id(&req),
    )
    .await;
    match result {
        Ok(()) => Ok(respond(
            message(
                "Your password is saved",
                &["You can now sign in to peerpath with your email address and this password."],
                Some(("/sign-in", "Sign in")),
            ),
            &visitor,
            path,
        )),
        Err(AppError::Validation(domain)) => {
            if domain.contains_key("token") {
                return Ok(respond(
                    message(
                        "This link has expired or was used already",
                        &[
                            "Links to choose a password work once, for a limited time.",
                            "Ask for a new link and use it soon after it arrives.",
                        ],
                        Some((account_tokens::RESET_PASSWORD_PATH, "Ask for a new link")),
                    )
                    .status(StatusCode::UNPROCESSABLE_ENTITY),
                    &visitor,
                    path,
                ));
            }
            let errors = FormErrors::from_domain(&domain, &[("password", "The password")]);
            Ok(respond(
                set_password_form(&form.token, errors),
                &visitor,
                path,
            ))
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct ResetForm {
    email: String,
}

fn reset_form(email: &str, errors: FormErrors) -> View {
    let view = View::new(
        "reset_password.html",
        "Forgot your password?",
        context! { email => email },
    );
    view.with_errors(errors)
}

/// Asking for a link to choose a new password (the "password changed" email points here).
#[get("/account/reset-password")]
pub async fn reset_password_page(req: HttpRequest, state: Data<AppState>) -> PageResult {
    let visitor = Visitor::of(&req, &state.settings.web)?;
    Ok(respond(
        reset_form("", FormErrors::default()),
        &visitor,
        account_tokens::RESET_PASSWORD_PATH,
    ))
}

#[post("/account/reset-password")]
pub async fn reset_password(
    req: HttpRequest,
    state: Data<AppState>,
    client: ClientIp,
    posted: VisitorForm<ResetForm>,
) -> PageResult {
    let VisitorForm { visitor, form } = posted;
    let path = account_tokens::RESET_PASSWORD_PATH;
    if form.email.trim().is_empty() {
        let mut errors = FormErrors::default();
        errors.add("email", "Enter the email address of your peerpath account");
        return Ok(respond(reset_form(&form.email, errors), &visitor, path));
    }
    account_tokens::request_password_reset(
        &state.identity,
        &state.db,
        &state.notifications,
        &form.email,
        client.0,
        request_id(&req),
    )
    .await?;
    Ok(respond(
        message(
            "Check your email",
            &[
                "If this address has a peerpath account, we have sent it a link to choose a new \
                 password. The link works for one hour.",
                "If nothing arrives in a few minutes, check your spam folder, or ask your \
                 programme manager.",
            ],
            Some(("/sign-in", "Back to sign in")),
        ),
        &visitor,
        path,
    ))
}
