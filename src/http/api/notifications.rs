use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, get, post, put};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::respond::versioned;
use crate::access::Actor;
use crate::db::notifications::NotificationFilter;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch};
use crate::ids::OrganisationId;
use crate::notifications::Kind;
use crate::notifications::admin::{self, NotificationSummary, Status};
use crate::notifications::preferences::{self, Preferences};
use crate::pagination::{Page, Paginated};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PreferencesRequest {
    pub daily_digest: bool,
    /// Routine kinds to turn off. Safety-relevant kinds cannot be muted (422).
    pub muted: Vec<Kind>,
}

/// Your notification preferences.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    responses((status = 200, description = "Your preferences", body = Preferences, headers(("ETag" = String))))
)]
#[get("/me/notification-preferences")]
pub async fn get_preferences(state: Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    let prefs = preferences::get(&state.db, &actor).await?;
    Ok(versioned(StatusCode::OK, prefs.version, &prefs))
}

/// Change your notification preferences. Needs `If-Match` (`"v0"` before the first save).
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = PreferencesRequest,
    responses(
        (status = 200, description = "Saved", body = Preferences, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/me/notification-preferences")]
pub async fn update_preferences(
    state: Data<AppState>,
    actor: Actor,
    if_match: IfMatch,
    body: ApiJson<PreferencesRequest>,
) -> AppResult<HttpResponse> {
    let request = body.value;
    let prefs = preferences::update(
        &state.db,
        &actor,
        if_match.0,
        request.daily_digest,
        request.muted,
    )
    .await?;
    Ok(versioned(StatusCode::OK, prefs.version, &prefs))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct NotificationQuery {
    /// Admins only; programme managers always see their own organisation.
    pub organisation_id: Option<OrganisationId>,
    pub status: Option<Status>,
    pub kind: Option<Kind>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List the outbox (metadata only, never contents): admins all, programme managers their
/// organisation's.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(NotificationQuery),
    responses(
        (status = 200, description = "A page of notifications", body = Paginated<NotificationSummary>),
        (status = 400, description = "Bad filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and programme managers only", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/notifications")]
pub async fn list_notifications(
    state: Data<AppState>,
    actor: Actor,
    query: Query<NotificationQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    let filter = NotificationFilter {
        organisation_id: q.organisation_id.map(|o| o.to_db()),
        status: q.status.map(|s| s.as_str().to_string()),
        kind: q.kind.map(|k| k.as_str().to_string()),
    };
    Ok(HttpResponse::Ok().json(admin::list(&state.db, &actor, filter, page).await?))
}

/// Put a dead email back in the queue.
#[utoipa::path(
    tag = "notifications",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Queued again", body = NotificationSummary),
        (status = 403, description = "Admins and programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not dead", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/notifications/{id}/retry")]
pub async fn retry_notification(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    let summary = admin::retry(&state.db, &state.notifications, &actor, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(summary))
}
