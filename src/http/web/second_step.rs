//! The second step of signing in: the code from an authenticator app, a recovery code, or,
//! for a role that must use one and has none, setting one up. The challenge the password
//! opened travels in a short-lived cookie of its own, never in a URL.

use actix_web::http::{StatusCode, header};
use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, get, post};
use minijinja::context;
use serde::Deserialize;

use super::errors::{PageResult, safe_next};
use super::render::{FormErrors, Frame, View, see_other};
use super::session::{Visitor, VisitorForm, cookie, read_cookie};
use super::signin::with_session;
use crate::config::WebSettings;
use crate::error::AppError;
use crate::http::extract::{ClientIp, Query, request_id};
use crate::identity::mfa::{self, ChallengeKind, SecondFactorChallenge, SecondStep};
use crate::identity::web_sessions;
use crate::state::AppState;

fn challenge_cookie_name(web: &WebSettings) -> &'static str {
    if web.secure_cookies {
        "__Host-peerpath-second-step"
    } else {
        "peerpath-second-step"
    }
}

fn with_cookie(mut response: HttpResponse, set: &str) -> HttpResponse {
    if let Ok(value) = header::HeaderValue::from_str(set) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// After a right password: keep the challenge and go to the page of the second step.
pub fn begin(web: &WebSettings, challenge: &SecondFactorChallenge, next: &str) -> HttpResponse {
    let page = match challenge.status {
        ChallengeKind::CodeRequired => "/sign-in/code",
        ChallengeKind::EnrolmentRequired => "/sign-in/set-up",
    };
    let to = format!("{page}?next={}", encode(next));
    with_cookie(
        see_other(&to),
        &cookie(
            web,
            challenge_cookie_name(web),
            &challenge.challenge,
            Some(mfa::CHALLENGE_MINUTES * 60),
        ),
    )
}

fn encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' | b'/' => {
                char::from(b).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}

/// Back to the password page, saying why, when the challenge is gone.
fn start_again(web: &WebSettings) -> HttpResponse {
    with_cookie(
        see_other("/sign-in?expired=1"),
        &cookie(web, challenge_cookie_name(web), "", Some(0)),
    )
}

#[derive(Deserialize)]
pub struct NextQuery {
    next: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
    next: String,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct RecoveryForm {
    recovery_code: String,
    next: String,
}

fn page(view: View, visitor: &Visitor, path: &str) -> HttpResponse {
    let response = view.render(&Frame {
        session: None,
        csrf_token: &visitor.token,
        path,
    });
    match &visitor.set_cookie {
        Some(set) => with_cookie(response, set),
        None => response,
    }
}

fn code_view(next: &str, errors: FormErrors) -> View {
    View::new(
        "sign_in_code.html",
        "Enter the code from your app",
        context! { next => next, next_q => encode(next) },
    )
    .with_errors(errors)
}

fn recovery_view(next: &str, errors: FormErrors) -> View {
    View::new(
        "sign_in_recovery.html",
        "Use a recovery code",
        context! { next => next, next_q => encode(next) },
    )
    .with_errors(errors)
}

fn set_up_view(enrolment: &mfa::Enrolment, next: &str, errors: FormErrors) -> View {
    View::new(
        "sign_in_set_up.html",
        "Set up two-step verification",
        context! { secret => enrolment.secret, next => next, qr => "/sign-in/set-up/qr.svg" },
    )
    .with_errors(errors)
}

/// The page a challenge of another kind belongs on.
fn challenge_of(req: &HttpRequest, web: &WebSettings) -> Option<String> {
    read_cookie(req, challenge_cookie_name(web))
}

/// A page of the second step, for a visitor holding a challenge; else back to the password.
fn step_page(
    req: &HttpRequest,
    state: &AppState,
    next: Option<&str>,
    view: fn(&str, FormErrors) -> View,
    path: &str,
) -> PageResult {
    let web = &state.settings.web;
    if challenge_of(req, web).is_none() {
        return Ok(start_again(web));
    }
    let next = next.and_then(safe_next).unwrap_or("/");
    let visitor = Visitor::of(req, web)?;
    Ok(page(view(next, FormErrors::default()), &visitor, path))
}

#[get("/sign-in/code")]
pub async fn code_page(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<NextQuery>,
) -> PageResult {
    step_page(
        &req,
        &state,
        query.next.as_deref(),
        code_view,
        "/sign-in/code",
    )
}

#[get("/sign-in/recovery-code")]
pub async fn recovery_page(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<NextQuery>,
) -> PageResult {
    step_page(
        &req,
        &state,
        query.next.as_deref(),
        recovery_view,
        "/sign-in/recovery-code",
    )
}

#[get("/sign-in/set-up")]
pub async fn set_up_page(
    req: HttpRequest,
    state: Data<AppState>,
    query: Query<NextQuery>,
) -> PageResult {
    let web = &state.settings.web;
    let Some(challenge) = challenge_of(&req, web) else {
        return Ok(start_again(web));
    };
    let enrolment = match mfa::enrolment_of(&state.db, &state.sealing_keys, &challenge).await {
        Ok(e) => e,
        Err(AppError::Unauthorized(_)) => return Ok(start_again(web)),
        Err(e) => return Err(e.into()),
    };
    let next = query.next.as_deref().and_then(safe_next).unwrap_or("/");
    let visitor = Visitor::of(&req, web)?;
    Ok(page(
        set_up_view(&enrolment, next, FormErrors::default()),
        &visitor,
        "/sign-in/set-up",
    ))
}

/// The QR code of the secret being set up, as an image of its own (the page's policy lets
/// images come from this site only, and an `img` carries its text alternative).
#[get("/sign-in/set-up/qr.svg")]
pub async fn set_up_qr(req: HttpRequest, state: Data<AppState>) -> PageResult {
    let web = &state.settings.web;
    let challenge = challenge_of(&req, web).ok_or(AppError::NotFound)?;
    let enrolment = mfa::enrolment_of(&state.db, &state.sealing_keys, &challenge)
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(enrolment.qr_svg))
}

/// What a second step's answer comes to: signed in, or the same page again with the reason.
async fn take(
    req: &HttpRequest,
    state: &AppState,
    client: ClientIp,
    visitor: &Visitor,
    answer: (Option<String>, Option<String>),
    next: &str,
    again: impl Fn(FormErrors) -> (View, &'static str),
) -> PageResult {
    let web = &state.settings.web;
    let Some(challenge) = challenge_of(req, web) else {
        return Ok(start_again(web));
    };
    let field = if answer.0.is_some() {
        "code"
    } else {
        "recovery_code"
    };
    if answer
        .0
        .iter()
        .chain(answer.1.iter())
        .all(|a| a.trim().is_empty())
    {
        let mut errors = FormErrors::default();
        errors.add(field, "Enter the code");
        let (view, path) = again(errors);
        return Ok(page(view, visitor, path));
    }
    let step = SecondStep {
        challenge,
        code: answer.0,
        recovery_code: answer.1,
    };
    let done = mfa::complete(
        &state.identity,
        &state.db,
        &state.sealing_keys,
        step,
        client.0,
        request_id(req),
    )
    .await;
    let completed = match done {
        Ok(c) => c,
        Err(AppError::Unauthorized(why)) if why == mfa::WRONG_CODE => {
            let mut errors = FormErrors::default();
            errors.add(
                field,
                if field == "code" {
                    "The code is not right. Enter the newest code your app shows; if it still \
                     fails, check the time on your phone is set automatically."
                } else {
                    "This recovery code is not right, or it was used before. Each one works once."
                },
            );
            let (view, path) = again(errors);
            return Ok(page(view.status(StatusCode::UNAUTHORIZED), visitor, path));
        }
        Err(AppError::Unauthorized(_)) => return Ok(start_again(web)),
        Err(e) => return Err(e.into()),
    };
    let signed_in = web_sessions::open(&state.db, web, completed.verified, request_id(req)).await?;
    let cleared = cookie(web, challenge_cookie_name(web), "", Some(0));
    let response = match completed.recovery_codes {
        // Shown once, in the answer itself: never behind a link that could be opened again.
        Some(codes) => View::new(
            "recovery_codes.html",
            "Save your recovery codes",
            context! { codes => codes, next => next, first_time => true },
        )
        .render(&Frame {
            session: None,
            csrf_token: "",
            path: "/sign-in/set-up",
        }),
        None => see_other(next),
    };
    Ok(with_cookie(
        with_session(response, web, &signed_in),
        &cleared,
    ))
}

#[post("/sign-in/code")]
pub async fn code(
    req: HttpRequest,
    state: Data<AppState>,
    client: ClientIp,
    posted: VisitorForm<CodeForm>,
) -> PageResult {
    let VisitorForm { visitor, form } = posted;
    let next = safe_next(&form.next).unwrap_or("/").to_string();
    take(
        &req,
        &state,
        client,
        &visitor,
        (Some(form.code), None),
        &next,
        |errors| (code_view(&next, errors), "/sign-in/code"),
    )
    .await
}

#[post("/sign-in/recovery-code")]
pub async fn recovery(
    req: HttpRequest,
    state: Data<AppState>,
    client: ClientIp,
    posted: VisitorForm<RecoveryForm>,
) -> PageResult {
    let VisitorForm { visitor, form } = posted;
    let next = safe_next(&form.next).unwrap_or("/").to_string();
    take(
        &req,
        &state,
        client,
        &visitor,
        (None, Some(form.recovery_code)),
        &next,
        |errors| (recovery_view(&next, errors), "/sign-in/recovery-code"),
    )
    .await
}

#[post("/sign-in/set-up")]
pub async fn set_up(
    req: HttpRequest,
    state: Data<AppState>,
    client: ClientIp,
    posted: VisitorForm<CodeForm>,
) -> PageResult {
    let VisitorForm { visitor, form } = posted;
    let next = safe_next(&form.next).unwrap_or("/").to_string();
    let web = &state.settings.web;
    let Some(challenge) = challenge_of(&req, web) else {
        return Ok(start_again(web));
    };
    let enrolment = match mfa::enrolment_of(&state.db, &state.sealing_keys, &challenge).await {
        Ok(e) => e,
        Err(AppError::Unauthorized(_)) => return Ok(start_again(web)),
        Err(e) => return Err(e.into()),
    };
    take(
        &req,
        &state,
        client,
        &visitor,
        (Some(form.code), None),
        &next,
        |errors| (set_up_view(&enrolment, &next, errors), "/sign-in/set-up"),
    )
    .await
}
