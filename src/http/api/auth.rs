use actix_web::web::Data;
use actix_web::{HttpRequest, HttpResponse, post};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::Actor;
use crate::config::Secret;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, ClientIp, request_id};
use crate::identity::{mfa, sessions};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    #[schema(min_length = 1)]
    pub email: String,
    #[schema(value_type = String, format = Password)]
    pub password: Secret,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    #[schema(min_length = 1)]
    pub refresh_token: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    #[schema(value_type = String, format = Password, min_length = 1)]
    pub current_password: Secret,
    #[schema(value_type = String, format = Password, min_length = 8, max_length = 128)]
    pub new_password: Secret,
}

/// Log in with email and password.
///
/// An unknown email, a wrong password and a deactivated account get the same answer.
/// Attempts are limited per account and per client address. A person with two-step
/// verification (required of admins and programme managers) gets 202 and a challenge for
/// `POST /api/v1/auth/mfa`; one who must set it up gets the secret to add to an app too.
#[utoipa::path(
    tag = "auth",
    request_body = LoginRequest,
    responses(
        (status = 200, description = "Logged in", body = sessions::TokenPair),
        (status = 202, description = "The password is right; the second step is next", body = mfa::SecondFactorChallenge),
        (status = 401, description = "Wrong email or password, or the account is not active (told alike)", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
        (status = 503, description = "Busy or database unavailable", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/login")]
pub async fn login(
    state: Data<AppState>,
    req: HttpRequest,
    client: ClientIp,
    body: ApiJson<LoginRequest>,
) -> AppResult<HttpResponse> {
    let LoginRequest { email, password } = body.value;
    let outcome = sessions::login(
        &state.identity,
        &state.db,
        &state.sealing_keys,
        &email,
        &password,
        client.0,
        request_id(&req),
    )
    .await?;
    Ok(match outcome {
        sessions::LoginOutcome::Tokens(pair) => HttpResponse::Ok().json(pair),
        sessions::LoginOutcome::SecondStep(challenge) => HttpResponse::Accepted().json(challenge),
    })
}

/// The second step of a log-in: the code from the authenticator app (or a recovery code)
/// for the challenge `POST /auth/login` answered. Completing a setting-up answers the
/// recovery codes too, this once. Wrong codes count like wrong passwords.
#[utoipa::path(
    tag = "auth",
    request_body = mfa::SecondStep,
    responses(
        (status = 200, description = "Logged in", body = sessions::TokenPair),
        (status = 401, description = "The code is wrong, or the challenge expired or was used", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/mfa")]
pub async fn second_step(
    state: Data<AppState>,
    req: HttpRequest,
    client: ClientIp,
    body: ApiJson<mfa::SecondStep>,
) -> AppResult<HttpResponse> {
    let completed = mfa::complete(
        &state.identity,
        &state.db,
        &state.sealing_keys,
        body.value,
        client.0,
        request_id(&req),
    )
    .await?;
    let mut pair = sessions::open_with_tokens(
        &state.identity,
        &state.db,
        completed.verified,
        request_id(&req),
    )
    .await?;
    pair.recovery_codes = completed.recovery_codes;
    Ok(HttpResponse::Ok().json(pair))
}

/// Swap a refresh token for a new access and refresh token.
///
/// Each refresh token works once. Presenting a used one ends its whole session.
#[utoipa::path(
    tag = "auth",
    request_body = RefreshRequest,
    responses(
        (status = 200, description = "New tokens", body = sessions::TokenPair),
        (status = 401, description = "The refresh token is unknown, used, expired or revoked", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/refresh")]
pub async fn refresh_tokens(
    state: Data<AppState>,
    req: HttpRequest,
    body: ApiJson<RefreshRequest>,
) -> AppResult<HttpResponse> {
    let pair = sessions::refresh(
        &state.identity,
        &state.db,
        &body.value.refresh_token,
        request_id(&req),
    )
    .await?;
    Ok(HttpResponse::Ok().json(pair))
}

/// End the current session; its access and refresh tokens stop working at once.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 204, description = "Logged out"),
    )
)]
#[post("/auth/logout")]
pub async fn logout(state: Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    sessions::logout(&state.db, &actor).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Change your password; your other sessions end.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = ChangePasswordRequest,
    responses(
        (status = 204, description = "Password changed"),
        (status = 422, description = "Current password wrong, or new one refused by the policy", body = Problem, content_type = "application/problem+json"),
        (status = 429, description = "Too many attempts", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/auth/password")]
pub async fn change_password(
    state: Data<AppState>,
    actor: Actor,
    client: ClientIp,
    body: ApiJson<ChangePasswordRequest>,
) -> AppResult<HttpResponse> {
    let ChangePasswordRequest {
        current_password,
        new_password,
    } = body.value;
    sessions::change_password(
        &state.identity,
        &state.db,
        &state.notifications,
        &actor,
        &current_password,
        &new_password,
        client.0,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}
