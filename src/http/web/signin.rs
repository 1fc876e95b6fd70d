//! Signing in and out of the pages.

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::web::Data;

use crate::http::extract::Query;
use actix_web::{HttpRequest, HttpResponse, get, post};
use minijinja::context;
use serde::Deserialize;

use super::errors::{PageResult, safe_next};
use super::render::{FormErrors, Frame, View, see_other};
use super::session::{
    MaybeSignedIn, SignedInForm, Visitor, VisitorForm, cookie, session_cookie_name,
};
use crate::config::Secret;
use crate::error::AppError;
use crate::http::extract::{ClientIp, request_id};
use crate::identity::{sessions, web_sessions};
use crate::state::AppState;

#[derive(Deserialize)]
pub struct SignInQuery {
    next: Option<String>,
    signed_out: Option<String>,
    expired: Option<String>,
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SignInForm {
    email: String,
    password: String,
    next: String,
}

fn form_page(email: &str, next: &str, errors: FormErrors, notice: Option<String>) -> View {
    let view = View::new(
        "sign_in.html",
        "Sign in",
        context! { email => email, next => next },
    )
    .notice(notice);
    view.with_errors(errors)
}

fn respond(view: View, visitor: &Visitor) -> HttpResponse {
    let mut response = view.render(&Frame {
        session: None,
        csrf_token: &visitor.token,
        path: "/sign-in",
    });
    if let Some(set) = &visitor.set_cookie
        && let Ok(value) = header::HeaderValue::from_str(set)
    {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[get("/sign-in")]
pub async fn sign_in_page(
    req: HttpRequest,
    state: Data<AppState>,
    current: MaybeSignedIn,
    query: Query<SignInQuery>,
) -> PageResult {
    let next = query.next.as_deref().and_then(safe_next).unwrap_or("/");
    if current.0.is_some() {
        return Ok(see_other(next));
    }
    let visitor = Visitor::of(&req, &state.settings.web)?;
    let notice = if query.signed_out.is_some() {
        Some("You have signed out.".to_string())
    } else {
        query.expired.is_some().then(|| {
            "Signing in took too long, or the code was not accepted too many times. Sign in \
             again with your password."
                .to_string()
        })
    };
    Ok(respond(
        form_page("", next, FormErrors::default(), notice),
        &visitor,
    ))
}

#[post("/sign-in")]
pub async fn sign_in(
    req: HttpRequest,
    state: Data<AppState>,
    client: ClientIp,
    posted: VisitorForm<SignInForm>,
) -> PageResult {
    let VisitorForm { visitor, form } = posted;
    let next = safe_next(&form.next).unwrap_or("/").to_string();
    let mut errors = FormErrors::default();
    if form.email.trim().is_empty() {
        errors.add("email", "Enter your email address");
    }
    if form.password.is_empty() {
        errors.add("password", "Enter your password");
    }
    if !errors.is_empty() {
        return Ok(respond(
            form_page(&form.email, &next, errors, None),
            &visitor,
        ));
    }
    let web = &state.settings.web;
    let result = web_sessions::sign_in(
        &state.identity,
        &state.db,
        &state.sealing_keys,
        web,
        web_sessions::Credentials {
            email: &form.email,
            password: &Secret::new(form.password),
        },
        client.0,
        request_id(&req),
    )
    .await;
    match result {
        Ok(web_sessions::SignInOutcome::Open(signed_in)) => {
            Ok(with_session(see_other(&next), web, &signed_in))
        }
        Ok(web_sessions::SignInOutcome::SecondStep(challenge)) => {
            Ok(super::second_step::begin(web, &challenge, &next))
        }
        Err(AppError::Unauthorized(_)) => {
            let mut errors = FormErrors::default();
            errors.add(
                "email",
                "Enter the email address and password of your peerpath account. One of them \
                 is not right, or the account is no longer active.",
            );
            Ok(respond(
                form_page(&form.email, &next, errors, None),
                &visitor,
            ))
        }
        Err(AppError::TooManyRequests { retry_after_secs }) => {
            let mut errors = FormErrors::default();
            errors.add(
                "email",
                format!(
                    "Too many attempts to sign in. Wait {} and try again, or choose a new password.",
                    crate::explain::plural(
                        i64::try_from(retry_after_secs.div_ceil(60)).unwrap_or(i64::MAX),
                        "minute",
                        "minutes"
                    )
                ),
            );
            let view =
                form_page(&form.email, &next, errors, None).status(StatusCode::TOO_MANY_REQUESTS);
            Ok(respond(view, &visitor))
        }
        Err(other) => Err(other.into()),
    }
}

/// A response that starts the web session just opened.
pub fn with_session(
    mut response: HttpResponse,
    web: &crate::config::WebSettings,
    signed_in: &web_sessions::SignedIn,
) -> HttpResponse {
    let set = cookie(
        web,
        session_cookie_name(web),
        &signed_in.cookie,
        Some(web.absolute_timeout_hours * 3600),
    );
    if let Ok(value) = header::HeaderValue::from_str(&set) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

#[derive(Default, Deserialize)]
pub struct NoFields {}

#[post("/sign-out")]
pub async fn sign_out(state: Data<AppState>, posted: SignedInForm<NoFields>) -> PageResult {
    sessions::logout(&state.db, &posted.signed_in.session.actor).await?;
    let web = &state.settings.web;
    let mut response = see_other("/sign-in?signed_out=1");
    let clear = cookie(web, session_cookie_name(web), "", Some(0));
    if let Ok(value) = header::HeaderValue::from_str(&clear) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    Ok(response)
}
