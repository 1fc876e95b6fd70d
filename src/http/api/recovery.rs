//! Recovery support: the worker's plan and check-ins, their export and erasure, and the
//! counts programme managers see.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, delete, get, post, put};
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::page_of;
use super::respond::versioned;
use crate::access::Actor;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch};
use crate::ids::UserId;
use crate::pagination::{PageQuery, Paginated};
use crate::recovery::checkins::{self, Checkin, CheckinCount, CheckinInput, CheckinStatus, Risk};
use crate::recovery::data::{self, RecoveryExport};
use crate::recovery::plan::{self, Plan, PlanSection};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlanRequest {
    /// Every section the plan holds (others are removed); text up to 4000 characters each.
    pub sections: Vec<PlanSection>,
}

/// Your relapse-prevention plan (the worker: every section), or the sections a supervisee
/// shares (their current supervisor). Each read is audited.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    responses(
        (status = 200, description = "The plan", body = Plan, headers(("ETag" = String))),
        (status = 403, description = "Not the worker or their current supervisor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workers/{id}/recovery-plan")]
pub async fn get_plan(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    let plan = plan::read(&state.db, &state.sealing_keys, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, plan.version, &plan))
}

/// Save your plan (the worker only). Needs `If-Match` (`"v0"` for the first save).
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker"), ("If-Match" = String, Header)),
    request_body = PlanRequest,
    responses(
        (status = 200, description = "Saved", body = Plan, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/workers/{id}/recovery-plan")]
pub async fn put_plan(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    if_match: IfMatch,
    body: ApiJson<PlanRequest>,
) -> AppResult<HttpResponse> {
    let plan = plan::write(
        &state.db,
        &state.sealing_keys,
        &actor,
        id.into_inner(),
        if_match.0,
        body.value.sections,
    )
    .await?;
    Ok(versioned(StatusCode::OK, plan.version, &plan))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CheckinRequest {
    /// Today or earlier.
    pub held_on: NaiveDate,
    #[serde(default)]
    pub with_supervisor: bool,
    /// 1 (struggling) to 5 (well).
    #[schema(minimum = 1, maximum = 5)]
    pub wellbeing: i32,
    pub risk: Risk,
    /// "I'd like a call": your supervisor is asked to get in touch at once.
    #[serde(default)]
    pub call_requested: bool,
    #[schema(max_length = 2000)]
    pub agreed_actions: Option<String>,
    #[schema(max_length = 2000)]
    pub notes: Option<String>,
    /// Whether your supervisor may read the agreed actions (default no).
    #[serde(default)]
    pub actions_shared: bool,
    /// Whether your supervisor may read the notes (default no).
    #[serde(default)]
    pub notes_shared: bool,
}

/// Record a check-in: the worker, or their current supervisor for a check-in held together
/// (`with_supervisor` must then be true; 422 otherwise). It belongs to the worker either way:
/// text the supervisor records starts shared and the worker decides what stays shared. Raised
/// or urgent risk, or a call request, emails the supervisor at once unless they recorded it
/// (urgent: also the organisation's wellbeing contact), with no content.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = CheckinRequest,
    responses((status = 201, description = "Recorded", body = Checkin))
)]
#[post("/workers/{id}/checkins")]
pub async fn create_checkin(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<CheckinRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let c = checkins::record(
        &state.db,
        &state.sealing_keys,
        &state.notifications,
        &actor,
        id.into_inner(),
        CheckinInput {
            held_on: r.held_on,
            with_supervisor: r.with_supervisor,
            wellbeing: r.wellbeing,
            risk: r.risk,
            call_requested: r.call_requested,
            agreed_actions: r.agreed_actions,
            notes: r.notes,
            actions_shared: r.actions_shared,
            notes_shared: r.notes_shared,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(c))
}

/// Check-ins, latest first: all of them for the worker; for their current supervisor that
/// each happened, its risk and call request, and the text only where shared. Audited.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(PageQuery, ("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "Latest first", body = Paginated<Checkin>))
)]
#[get("/workers/{id}/checkins")]
pub async fn list_checkins(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let list = checkins::list(&state.db, &state.sealing_keys, &actor, id.into_inner()).await?;
    page_of(page.limit, page.cursor.as_deref(), list, |x| x.id.clone())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SharingRequest {
    pub actions_shared: bool,
    pub notes_shared: bool,
}

/// Share or withhold a check-in's text with your supervisor (the worker).
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body = SharingRequest,
    responses((status = 200, description = "The check-in", body = Checkin))
)]
#[put("/checkins/{id}/sharing")]
pub async fn share_checkin(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: ApiJson<SharingRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let c = checkins::share(
        &state.db,
        &state.sealing_keys,
        &actor,
        id.into_inner(),
        r.actions_shared,
        r.notes_shared,
    )
    .await?;
    Ok(HttpResponse::Ok().json(c))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CadenceRequest {
    /// 1 to 90 days; default from settings (14).
    #[schema(minimum = 1, maximum = 90)]
    pub every_days: Option<i32>,
    /// The day it was agreed (today or earlier; default today): the first check-in is due
    /// `every_days` after it.
    pub agreed_on: Option<NaiveDate>,
}

/// Agree how often check-ins happen (the worker or their current supervisor), from today.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = CadenceRequest,
    responses((status = 200, description = "When the next is due", body = CheckinStatus))
)]
#[put("/workers/{id}/checkin-cadence")]
pub async fn set_cadence(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<CadenceRequest>,
) -> AppResult<HttpResponse> {
    let s = checkins::set_cadence(
        &state.db,
        &actor,
        id.into_inner(),
        body.value.every_days,
        body.value.agreed_on,
    )
    .await?;
    Ok(HttpResponse::Ok().json(s))
}

/// When check-ins are due (the worker, their current supervisor): dates only.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "Dates only", body = CheckinStatus))
)]
#[get("/workers/{id}/checkin-status")]
pub async fn checkin_status(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(checkins::status(&state.db, &actor, id.into_inner()).await?))
}

/// Per worker of your organisation, how many check-ins happened in the last 90 days and
/// whether one is overdue (programme managers): never what was said.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "Counts only", body = Paginated<CheckinCount>))
)]
#[get("/checkin-counts")]
pub async fn checkin_counts(
    state: Data<AppState>,
    actor: Actor,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        page.limit,
        page.cursor.as_deref(),
        checkins::counts(&state.db, &actor).await?,
        |x| x.worker_id.to_db(),
    )
}

/// Everything your recovery data holds, as JSON (the worker only; audited).
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "Your data", body = RecoveryExport))
)]
#[get("/workers/{id}/recovery-export")]
pub async fn export(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    let e = data::export(&state.db, &state.sealing_keys, &actor, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(e))
}

/// Who has read your recovery data, newest first (the worker only): every read of the plan
/// or the check-ins, and every export.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(PageQuery, ("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "The reads", body = Paginated<data::RecoveryRead>))
)]
#[get("/workers/{id}/recovery-access")]
pub async fn list_reads(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let reads = data::reads(&state.db, &actor, id.into_inner()).await?;
    page_of(page.limit, page.cursor.as_deref(), reads, |x| x.id.clone())
}

#[derive(Serialize, ToSchema)]
pub struct Erased {
    /// Rows removed.
    pub removed: usize,
}

/// Erase your plan, check-ins and cadence (the worker only). The bytes are overwritten.
#[utoipa::path(
    tag = "recovery",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "Erased", body = Erased))
)]
#[delete("/workers/{id}/recovery-data")]
pub async fn erase(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    let removed = data::erase(&state.db, &actor, id.into_inner()).await?;
    Ok(HttpResponse::Ok().json(Erased { removed }))
}
