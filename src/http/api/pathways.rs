//! Pathways and stages, placements, the pathway summary, progressions and pauses.

use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, get, patch, post, put};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::competencies::ReasonRequest;
use super::page_of;
use super::respond::{created, versioned};
use crate::access::Actor;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch};
use crate::ids::UserId;
use crate::pagination::{Page, PageQuery, Paginated};
use crate::pathway::progressions::{self, Approval, Progression, Status};
use crate::pathway::summary::{self, PathwaySummary};
use crate::pathway::{self, Pathway, StageInput, StagePeriod};
use crate::state::AppState;
use crate::workers::pauses::{self, Category, Pause};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PathwayRequest {
    /// Unique in the organisation, ignoring case.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    #[schema(max_length = 2000)]
    pub description: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct StageRequest {
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// The band a worker moves onto at this stage (national or your organisation's); absent
    /// for an unpaid stage.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub band_id: Option<uuid::Uuid>,
    /// 0 to 240 months in the previous stage (pauses do not count).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 240)]
    pub min_months_in_previous: i32,
    /// Confirmed supervision hours in the previous stage (0 to 2000).
    #[serde(default)]
    #[schema(minimum = 0, maximum = 2000)]
    pub supervision_hours: f64,
    /// Active modules of your catalogue that must be verified and in date.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub module_ids: Vec<uuid::Uuid>,
    /// Active competencies that must be signed off.
    #[serde(default)]
    #[schema(value_type = Vec<String>)]
    pub competency_ids: Vec<uuid::Uuid>,
}

impl From<StageRequest> for StageInput {
    fn from(r: StageRequest) -> Self {
        Self {
            name: r.name,
            band_id: r.band_id,
            min_months_in_previous: r.min_months_in_previous,
            supervision_hours: r.supervision_hours,
            module_ids: r.module_ids,
            competency_ids: r.competency_ids,
        }
    }
}

/// Create a pathway (programme managers); add its stages next.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    request_body = PathwayRequest,
    responses(
        (status = 201, description = "Created", body = Pathway, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name already used", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pathways")]
pub async fn create_pathway(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<PathwayRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let p = pathway::create(&state.db, &actor, &r.name, r.description.as_deref()).await?;
    Ok(created(format!("/api/v1/pathways/{}", p.id), p.version, &p))
}

/// Your organisation's pathways with their stages and requirements.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "By name", body = Paginated<Pathway>))
)]
#[get("/pathways")]
pub async fn list_pathways(
    state: Data<AppState>,
    actor: Actor,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        page.limit,
        page.cursor.as_deref(),
        pathway::list(&state.db, &actor).await?,
        |x| x.id.clone(),
    )
}

/// A pathway with its stages and their requirements.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The pathway", body = Pathway, headers(("ETag" = String))))
)]
#[get("/pathways/{id}")]
pub async fn get_pathway(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    let p = pathway::get(&state.db, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}

/// Rename a pathway or change its description (programme managers). Needs `If-Match`.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = PathwayRequest,
    responses(
        (status = 200, description = "Updated", body = Pathway, headers(("ETag" = String))),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/pathways/{id}")]
pub async fn update_pathway(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    if_match: IfMatch,
    body: ApiJson<PathwayRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let p = pathway::update(
        &state.db,
        &actor,
        id.into_inner(),
        if_match.0,
        &r.name,
        r.description.as_deref(),
    )
    .await?;
    Ok(versioned(StatusCode::OK, p.version, &p))
}

/// Add a stage at the end of a pathway (programme managers).
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body = StageRequest,
    responses(
        (status = 201, description = "The pathway with the new stage", body = Pathway),
        (status = 422, description = "A field is wrong, or names another organisation's module, competency or band", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/pathways/{id}/stages")]
pub async fn add_stage(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: ApiJson<StageRequest>,
) -> AppResult<HttpResponse> {
    let p = pathway::add_stage(&state.db, &actor, id.into_inner(), body.value.into()).await?;
    Ok(HttpResponse::Created().json(p))
}

/// Replace a stage's name, band and requirements (programme managers). Needs the stage's
/// `If-Match` ("v" and its version). Decisions already taken keep what they stood on.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid),
        ("stage_id" = String, Path, format = Uuid),
        ("If-Match" = String, Header, description = "The stage's version, as \"v3\""),
    ),
    request_body = StageRequest,
    responses(
        (status = 200, description = "The pathway", body = Pathway),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/pathways/{id}/stages/{stage_id}")]
pub async fn update_stage(
    state: Data<AppState>,
    actor: Actor,
    path: Path<(uuid::Uuid, uuid::Uuid)>,
    if_match: IfMatch,
    body: ApiJson<StageRequest>,
) -> AppResult<HttpResponse> {
    let (id, stage) = path.into_inner();
    let p =
        pathway::update_stage(&state.db, &actor, id, stage, if_match.0, body.value.into()).await?;
    Ok(HttpResponse::Ok().json(p))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PlacementRequest {
    #[schema(value_type = String, format = Uuid)]
    pub stage_id: uuid::Uuid,
    /// The first day on the stage: not in the future, not before the worker's start date.
    pub since: NaiveDate,
}

/// Place a worker on a stage (programme managers): their first placement or a correction.
/// Moves up go through progressions.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = PlacementRequest,
    responses((status = 200, description = "The worker's stage history", body = Vec<StagePeriod>))
)]
#[put("/workers/{id}/placement")]
pub async fn place_worker(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<PlacementRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let history = pathway::place(&state.db, &actor, id.into_inner(), r.stage_id, r.since).await?;
    Ok(HttpResponse::Ok().json(history))
}

/// A worker's stages over time.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(PageQuery, ("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "Oldest first", body = Paginated<StagePeriod>))
)]
#[get("/workers/{id}/stage-history")]
pub async fn stage_history(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        page.limit,
        page.cursor.as_deref(),
        pathway::stage_history(&state.db, &actor, id.into_inner()).await?,
        |x| x.id.clone(),
    )
}

/// A worker's pathway: current stage and since when, pay, the next stage with its
/// explained eligibility, the next pay step with its readiness. Pay is shown to the worker
/// and programme managers, and to the supervisor only where the organisation allows it.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    responses(
        (status = 200, description = "The summary", body = PathwaySummary),
        (status = 403, description = "Not your worker", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workers/{id}/pathway")]
pub async fn get_pathway_summary(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(summary::summary(&state.db, &actor, id.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ProposalRequest {
    /// Why now (at most 2000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub rationale: String,
}

/// Propose a worker's move to the next stage (their supervisor or a programme manager).
/// The proposal keeps the eligibility it was made on.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = ProposalRequest,
    responses(
        (status = 201, description = "Proposed", body = Progression),
        (status = 409, description = "An open proposal exists", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not on a pathway, or at its last stage", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workers/{id}/progressions")]
pub async fn propose_progression(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<ProposalRequest>,
) -> AppResult<HttpResponse> {
    let p =
        progressions::propose(&state.db, &actor, id.into_inner(), &body.value.rationale).await?;
    Ok(created(
        format!("/api/v1/progressions/{}", p.id),
        p.version,
        &p,
    ))
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ProgressionListQuery {
    pub status: Option<Status>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// A worker's progressions.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker"), ProgressionListQuery),
    responses((status = 200, description = "Oldest first", body = Paginated<Progression>))
)]
#[get("/workers/{id}/progressions")]
pub async fn list_worker_progressions(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    query: Query<ProgressionListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    let list = progressions::list(&state.db, &actor, Some(id.into_inner()), q.status, page).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// The organisation's progressions, such as those waiting for a decision (programme
/// managers).
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(ProgressionListQuery),
    responses((status = 200, description = "Oldest first", body = Paginated<Progression>))
)]
#[get("/progressions")]
pub async fn list_progressions(
    state: Data<AppState>,
    actor: Actor,
    query: Query<ProgressionListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    Ok(HttpResponse::Ok().json(progressions::list(&state.db, &actor, None, q.status, page).await?))
}

/// One progression.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The progression", body = Progression))
)]
#[get("/progressions/{id}")]
pub async fn get_progression(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(progressions::get(&state.db, &actor, id.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ApprovalRequest {
    /// The first day on the new stage and band (default today; not in the future).
    pub effective_on: Option<NaiveDate>,
    /// Required when the worker is not eligible: why approve all the same.
    #[schema(min_length = 1, max_length = 2000)]
    pub override_reason: Option<String>,
}

/// Approve a proposal (a programme manager other than the proposer): stage, stage history,
/// salary at the new band's entry point, audit and emails, all in one transaction.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body = ApprovalRequest,
    responses(
        (status = 200, description = "Approved", body = Progression),
        (status = 403, description = "Not a programme manager, or the proposer", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided already, the stage changed, or a salary change starts that day", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Not eligible and no override_reason", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/progressions/{id}/approve")]
pub async fn approve_progression(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: ApiJson<ApprovalRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let p = progressions::approve(
        &state.db,
        &state.notifications,
        &actor,
        id.into_inner(),
        Approval {
            effective_on: r.effective_on,
            override_reason: r.override_reason,
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Decline a proposal with a reason (a programme manager other than the proposer; or, for
/// the proposal of an organisation's only programme manager, its named second approver).
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Declined", body = Progression),
        (status = 409, description = "Decided already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/progressions/{id}/decline")]
pub async fn decline_progression(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let p = progressions::decline(
        &state.db,
        &state.notifications,
        &actor,
        id.into_inner(),
        &body.value.reason,
    )
    .await?;
    Ok(HttpResponse::Ok().json(p))
}

/// Withdraw an open proposal (its proposer, or a programme manager of the organisation), so
/// that another can be made. It stays in the worker's progressions as withdrawn.
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Withdrawn", body = Progression),
        (status = 403, description = "Neither the proposer nor a programme manager", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Decided already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/progressions/{id}/withdraw")]
pub async fn withdraw_progression(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(progressions::withdraw(&state.db, &actor, id.into_inner()).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseRequest {
    /// Today or earlier.
    pub starts_on: NaiveDate,
    pub planned_return_on: Option<NaiveDate>,
    /// A category only; never why in detail.
    pub category: Category,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseEndRequest {
    /// The first day back (today or earlier).
    pub ended_on: NaiveDate,
}

/// Record a wellbeing pause agreed with the worker (their supervisor or a programme
/// manager): the pathway clock stops until it ends.
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = PauseRequest,
    responses(
        (status = 201, description = "Paused", body = Pause),
        (status = 409, description = "Already paused", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workers/{id}/pauses")]
pub async fn start_pause(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<PauseRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let p = pauses::start(
        &state.db,
        &actor,
        id.into_inner(),
        r.starts_on,
        r.planned_return_on,
        r.category,
    )
    .await?;
    Ok(HttpResponse::Created().json(p))
}

/// End a pause: the clock runs again from the first day back.
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker"), ("pause_id" = String, Path, format = Uuid)),
    request_body = PauseEndRequest,
    responses(
        (status = 200, description = "Ended", body = Pause),
        (status = 409, description = "Ended already", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workers/{id}/pauses/{pause_id}/end")]
pub async fn end_pause(
    state: Data<AppState>,
    actor: Actor,
    path: Path<(UserId, uuid::Uuid)>,
    body: ApiJson<PauseEndRequest>,
) -> AppResult<HttpResponse> {
    let (worker, pause) = path.into_inner();
    let p = pauses::end(
        &state.db,
        &state.notifications,
        &actor,
        worker,
        pause,
        body.value.ended_on,
    )
    .await?;
    Ok(HttpResponse::Ok().json(p))
}

/// A worker's pauses (dates and categories only).
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(PageQuery, ("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "Oldest first", body = Paginated<Pause>))
)]
#[get("/workers/{id}/pauses")]
pub async fn list_pauses(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        page.limit,
        page.cursor.as_deref(),
        pauses::list(&state.db, &actor, id.into_inner()).await?,
        |x| x.id.clone(),
    )
}

/// Your organisation's progression numbers: workers by status and by current stage, open
/// proposals, approvals (and overrides) and declines in the last 12 months (programme
/// managers).
#[utoipa::path(
    tag = "pathways",
    security(("bearer" = [])),
    responses(
        (status = 200, description = "The numbers", body = crate::reports::ProgressionNumbers),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/reports/progression")]
pub async fn progression_report(state: Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(crate::reports::progression(&state.db, &actor).await?))
}
