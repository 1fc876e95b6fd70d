//! Password resets and setting a password from an emailed link: the JSON API (the pages the
//! links open are in `web::account`).

use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, post};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::Secret;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, ClientIp, request_id};
use crate::identity::account_tokens;
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordResetRequest {
    #[schema(min_length = 1)]
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
    #[schema(min_length = 1)]
    pub token: String,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
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
