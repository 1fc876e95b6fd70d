//! Two-step verification of one's own account, and an admin's reset of a lost factor.

use actix_web::web::{Data, Path};
use actix_web::{HttpResponse, delete, get, post};
use serde::Deserialize;
use utoipa::ToSchema;

use crate::access::Actor;
use crate::error::{AppResult, Problem};
use crate::http::extract::ApiJson;
use crate::identity::mfa;
use crate::ids::UserId;
use crate::state::AppState;

/// A code from the authenticator app.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CodeRequest {
    /// The six digits the app shows now.
    #[schema(min_length = 1)]
    pub code: String,
}

/// Whether your two-step verification is on, whether your role requires it, and how many
/// recovery codes are left.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses((status = 200, body = mfa::MfaStatus))
)]
#[get("/me/mfa")]
pub async fn get_status(state: Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(mfa::status(&state.db, &state.identity, &actor).await?))
}

/// Start setting up two-step verification: a new secret to add to an authenticator app
/// (as a QR code and as text). Confirm it with its first code.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    responses(
        (status = 201, body = mfa::Enrolment),
        (status = 409, description = "Two-step verification is already on", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/mfa")]
pub async fn start(state: Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let enrolment = mfa::start(&state.db, &state.sealing_keys, &actor).await?;
    Ok(HttpResponse::Created().json(enrolment))
}

/// Confirm the setting-up with the app's first code; answers ten recovery codes, shown
/// this once.
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, body = mfa::RecoveryCodes),
        (status = 409, description = "No setting-up was started", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/mfa/confirm")]
pub async fn confirm(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<CodeRequest>,
) -> AppResult<HttpResponse> {
    let codes = mfa::confirm(
        &state.db,
        &state.identity,
        &state.sealing_keys,
        &actor,
        body.value.code,
    )
    .await?;
    Ok(HttpResponse::Ok().json(codes))
}

/// New recovery codes in place of the old ones (a code from the app proves it is you).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 200, body = mfa::RecoveryCodes),
        (status = 409, description = "Two-step verification is not on", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/mfa/recovery-codes")]
pub async fn renew_recovery_codes(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<CodeRequest>,
) -> AppResult<HttpResponse> {
    let codes = mfa::renew_recovery_codes(
        &state.db,
        &state.identity,
        &state.sealing_keys,
        &actor,
        body.value.code,
    )
    .await?;
    Ok(HttpResponse::Ok().json(codes))
}

/// Turn two-step verification off (where your role does not require it).
#[utoipa::path(
    tag = "auth",
    security(("bearer" = [])),
    request_body = CodeRequest,
    responses(
        (status = 204, description = "Turned off"),
        (status = 409, description = "Two-step verification is not on", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/me/mfa/off")]
pub async fn turn_off(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<CodeRequest>,
) -> AppResult<HttpResponse> {
    mfa::turn_off(
        &state.db,
        &state.identity,
        &state.sealing_keys,
        &actor,
        body.value.code,
    )
    .await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Reset a person's lost second factor (admins; never their own). Their sessions end, they
/// are told by email, and their next sign-in sets up a new one.
#[utoipa::path(
    tag = "users",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "Reset"),
        (status = 409, description = "The person has no second factor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/users/{id}/mfa")]
pub async fn reset(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    mfa::reset(&state.db, &state.notifications, &actor, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}
