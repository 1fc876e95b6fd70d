//! Password resets and setting a password from an emailed link: the JSON API, and the small
//! page the link opens (plain HTML, no script, works with any browser or screen reader).

use actix_web::web::{Data, Form, Query};
use actix_web::{HttpRequest, HttpResponse, get, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::extract::{ApiJson, ClientIp, request_id};
use crate::config::Secret;
use crate::error::{AppError, AppResult, Problem};
use crate::identity::account_tokens;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    pub email: String,
}

#[derive(Serialize, ToSchema)]
pub struct Accepted {
    pub status: &'static str,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetPasswordRequest {
    /// The token from the emailed link.
    pub token: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

/// Ask for a password-reset link by email.
///
/// The answer is the same whether or not the address has an account.
#[utoipa::path(
    tag = "auth",
    request_body = PasswordResetRequest,
    responses(
        (status = 202, description = "If the address has an active account, a link is on its way", body = Accepted),
        (status = 429, description = "Too many requests from this address", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password-reset")]
pub async fn request_password_reset(
    state: Data<AppState>,
    req: HttpRequest,
    client: ClientIp,
    body: ApiJson<PasswordResetRequest>,
) -> AppResult<HttpResponse> {
    account_tokens::request_password_reset(
        &state.identity,
        &state.db,
        &state.notifications,
        &body.value.email,
        client.0,
        request_id(&req),
    )
    .await?;
    Ok(HttpResponse::Accepted().json(Accepted {
        status: "If this address has an account, we have sent it a link to choose a new password.",
    }))
}

/// Set a password with the token from an invitation or password-reset email.
///
/// The token works once and expires. After a reset every session of the account ends.
#[utoipa::path(
    tag = "auth",
    request_body = SetPasswordRequest,
    responses(
        (status = 204, description = "Password set; log in with it"),
        (status = 422, description = "The link is not valid, expired or used, or the password is refused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/set-password")]
pub async fn set_password(
    state: Data<AppState>,
    req: HttpRequest,
    body: ApiJson<SetPasswordRequest>,
) -> AppResult<HttpResponse> {
    account_tokens::set_password_with_token(
        &state.identity,
        &state.db,
        &state.notifications,
        &body.value.token,
        &body.value.password,
        request_id(&req),
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize)]
pub struct TokenQuery {
    token: Option<String>,
}

#[derive(Deserialize)]
pub struct SetPasswordForm {
    token: String,
    password: String,
    confirm: String,
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn page(status: actix_web::http::StatusCode, body: &str) -> HttpResponse {
    HttpResponse::build(status)
        .content_type("text/html; charset=utf-8")
        .insert_header(("Referrer-Policy", "no-referrer"))
        .insert_header(("Cache-Control", "no-store"))
        .insert_header((
            "Content-Security-Policy",
            "default-src 'none'; form-action 'self'",
        ))
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <meta name=\"viewport\" content=\"width=device-width\">\
             <title>Choose your password - peerpath</title></head>\
             <body style=\"font-family:Arial,Helvetica,sans-serif;font-size:18px;line-height:1.5;\
             max-width:32em;margin:2em auto;padding:0 1em;\"><main>{body}</main></body></html>"
        ))
}

fn form(token: &str, error: Option<&str>) -> String {
    let error = error
        .map(|e| {
            format!(
                "<p role=\"alert\" style=\"color:#a00000\"><strong>{}</strong></p>",
                escape(e)
            )
        })
        .unwrap_or_default();
    format!(
        "<h1>Choose your password</h1>{error}\
         <form method=\"post\" action=\"{path}\">\
         <input type=\"hidden\" name=\"token\" value=\"{token}\">\
         <p><label for=\"password\">New password (at least 8 characters)</label><br>\
         <input id=\"password\" name=\"password\" type=\"password\" autocomplete=\"new-password\" \
         minlength=\"8\" maxlength=\"128\" required style=\"font-size:18px;width:100%\"></p>\
         <p><label for=\"confirm\">The same password again</label><br>\
         <input id=\"confirm\" name=\"confirm\" type=\"password\" autocomplete=\"new-password\" \
         required style=\"font-size:18px;width:100%\"></p>\
         <p><button type=\"submit\" style=\"font-size:18px;padding:.5em 1em\">Save password</button></p>\
         </form>",
        path = account_tokens::SET_PASSWORD_PATH,
        token = escape(token),
    )
}

/// The page an invitation or reset link opens.
#[get("/account/set-password")]
pub async fn set_password_page(query: Query<TokenQuery>) -> HttpResponse {
    match query.token.as_deref().filter(|t| !t.is_empty()) {
        Some(token) => page(actix_web::http::StatusCode::OK, &form(token, None)),
        None => page(
            actix_web::http::StatusCode::BAD_REQUEST,
            "<h1>This link is incomplete</h1><p>Open the link from your email again, \
             or ask for a new one.</p>",
        ),
    }
}

/// The page's form, posted back: sets the password, or shows the form again with the reason.
#[post("/account/set-password")]
pub async fn submit_set_password_page(
    state: Data<AppState>,
    req: HttpRequest,
    form_data: Form<SetPasswordForm>,
) -> HttpResponse {
    let form_data = form_data.into_inner();
    if form_data.password != form_data.confirm {
        return page(
            actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
            &form(
                &form_data.token,
                Some("The two passwords are not the same."),
            ),
        );
    }
    let result = account_tokens::set_password_with_token(
        &state.identity,
        &state.db,
        &state.notifications,
        &form_data.token,
        &Secret::new(form_data.password),
        request_id(&req),
    )
    .await;
    match result {
        Ok(()) => page(
            actix_web::http::StatusCode::OK,
            "<h1>Your password is saved</h1><p>You can now sign in to peerpath with your email \
             address and this password.</p>",
        ),
        Err(AppError::Validation(errors)) => {
            let reason = errors
                .iter()
                .map(|(field, messages)| {
                    let subject = if field == "token" {
                        "The link"
                    } else {
                        "The password"
                    };
                    format!("{subject} {}", messages.join(", "))
                })
                .collect::<Vec<_>>()
                .join(". ");
            page(
                actix_web::http::StatusCode::UNPROCESSABLE_ENTITY,
                &form(&form_data.token, Some(&format!("{reason}."))),
            )
        }
        Err(other) => {
            let status = actix_web::ResponseError::status_code(&other);
            if status.is_server_error() {
                tracing::error!(error = %other, "setting a password from a link failed");
            }
            page(
                status,
                "<h1>Something went wrong</h1><p>Your password was not changed. Please try \
                 again in a few minutes.</p>",
            )
        }
    }
}

#[derive(Deserialize)]
pub struct ResetForm {
    email: String,
}

const RESET_FORM: &str = "<h1>Forgot your password?</h1>\
     <p>Give the email address of your peerpath account. We will send it a link to choose a new \
     password.</p>\
     <form method=\"post\" action=\"/account/reset-password\">\
     <p><label for=\"email\">Email address</label><br>\
     <input id=\"email\" name=\"email\" type=\"email\" autocomplete=\"email\" required \
     style=\"font-size:18px;width:100%\"></p>\
     <p><button type=\"submit\" style=\"font-size:18px;padding:.5em 1em\">Send me a link</button></p>\
     </form>";

/// The page the "password changed" email points to, for asking for a reset link.
#[get("/account/reset-password")]
pub async fn reset_password_page() -> HttpResponse {
    page(actix_web::http::StatusCode::OK, RESET_FORM)
}

#[post("/account/reset-password")]
pub async fn submit_reset_password_page(
    state: Data<AppState>,
    req: HttpRequest,
    client: ClientIp,
    form_data: Form<ResetForm>,
) -> HttpResponse {
    let result = account_tokens::request_password_reset(
        &state.identity,
        &state.db,
        &state.notifications,
        &form_data.email,
        client.0,
        request_id(&req),
    )
    .await;
    match result {
        Ok(()) => page(
            actix_web::http::StatusCode::OK,
            "<h1>Check your email</h1><p>If this address has a peerpath account, we have sent \
             it a link to choose a new password. The link works for one hour.</p>",
        ),
        Err(AppError::TooManyRequests { .. }) => page(
            actix_web::http::StatusCode::TOO_MANY_REQUESTS,
            "<h1>Too many requests</h1><p>Please wait a minute and try again.</p>",
        ),
        Err(other) => {
            tracing::error!(error = %other, "a password reset request failed");
            page(
                actix_web::http::StatusCode::SERVICE_UNAVAILABLE,
                "<h1>Something went wrong</h1><p>Please try again in a few minutes.</p>",
            )
        }
    }
}
