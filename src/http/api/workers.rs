use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, get, patch, post};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::page_of;
use super::respond::{created, versioned};
use crate::access::Actor;
use crate::db::workers::WorkerFilter;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch};
use crate::ids::UserId;
use crate::pagination::{Page, PageQuery, Paginated};
use crate::state::AppState;
use crate::workers::supervision::{
    self, SessionInput, SessionKind, SupervisionLog, SupervisionSession,
};
use crate::workers::{self, NewWorker, SupervisorAssignment, Worker, WorkerStatus, WorkerUpdate};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateWorkerRequest {
    /// The peer worker's user account (of your organisation).
    pub user_id: UserId,
    pub supervisor_id: Option<UserId>,
    #[schema(max_length = 100)]
    pub preferred_name: Option<String>,
    pub start_date: NaiveDate,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateWorkerRequest {
    /// `null` clears it.
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Option<String>, max_length = 100)]
    pub preferred_name: Option<Option<String>>,
    pub start_date: Option<NaiveDate>,
    pub status: Option<WorkerStatus>,
    /// A new supervisor (an active supervisor of the organisation); `null` for none.
    #[serde(default, deserialize_with = "crate::http::extract::present")]
    #[schema(value_type = Option<String>, format = Uuid)]
    pub supervisor_id: Option<Option<UserId>>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct WorkerListQuery {
    pub status: Option<WorkerStatus>,
    pub supervisor_id: Option<UserId>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Create the worker profile of a peer worker account (programme managers).
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    request_body = CreateWorkerRequest,
    responses(
        (status = 201, description = "Created", body = Worker, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The account already has a profile", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workers")]
pub async fn create_worker(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<CreateWorkerRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let worker = workers::create_worker(
        &state.db,
        &actor,
        NewWorker {
            user_id: r.user_id,
            supervisor_id: r.supervisor_id,
            preferred_name: r.preferred_name,
            start_date: r.start_date,
        },
    )
    .await?;
    Ok(created(
        format!("/api/v1/workers/{}", worker.id),
        worker.version,
        &worker,
    ))
}

/// List workers: your organisation's (managers), your supervisees (supervisors), yourself.
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(WorkerListQuery),
    responses((status = 200, description = "A page of workers", body = Paginated<Worker>))
)]
#[get("/workers")]
pub async fn list_workers(
    state: Data<AppState>,
    actor: Actor,
    query: Query<WorkerListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    let filter = WorkerFilter {
        user_id: None,
        organisation_id: None,
        supervisor_id: q.supervisor_id.map(|s| s.to_db()),
        status: q.status.map(|s| s.as_str().to_string()),
    };
    Ok(HttpResponse::Ok().json(workers::list_workers(&state.db, &actor, filter, page).await?))
}

/// Read a worker profile.
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The worker", body = Worker, headers(("ETag" = String))),
        (status = 403, description = "Not your worker", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workers/{id}")]
pub async fn get_worker(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    let worker = workers::get_worker(&state.db, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, worker.version, &worker))
}

/// Update a worker profile, or change their supervisor (programme managers). Needs `If-Match`.
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = UpdateWorkerRequest,
    responses(
        (status = 200, description = "Updated", body = Worker, headers(("ETag" = String))),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/workers/{id}")]
pub async fn update_worker(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    if_match: IfMatch,
    body: ApiJson<UpdateWorkerRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let worker = workers::update_worker(
        &state.db,
        &actor,
        id.into_inner(),
        if_match.0,
        WorkerUpdate {
            preferred_name: r.preferred_name,
            start_date: r.start_date,
            status: r.status,
            supervisor_id: r.supervisor_id,
        },
    )
    .await?;
    Ok(versioned(StatusCode::OK, worker.version, &worker))
}

/// A worker's supervisors over time.
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(PageQuery, ("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "Oldest first", body = Paginated<SupervisorAssignment>))
)]
#[get("/workers/{id}/supervisors")]
pub async fn list_supervisor_history(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        page.limit,
        page.cursor.as_deref(),
        workers::supervisor_history(&state.db, &actor, id.into_inner()).await?,
        |x| x.id.clone(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SupervisionRequest {
    pub held_on: NaiveDate,
    /// 1 to 600.
    #[schema(minimum = 1, maximum = 600)]
    pub minutes: i32,
    pub kind: SessionKind,
    /// At most 200 characters.
    pub theme: Option<String>,
}

/// Record a supervision session (the worker's current supervisor).
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = SupervisionRequest,
    responses(
        (status = 201, description = "Recorded, awaiting the worker's confirmation", body = SupervisionSession),
        (status = 403, description = "Not the worker's current supervisor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workers/{id}/supervision-sessions")]
pub async fn create_supervision_session(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<SupervisionRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let session = supervision::record(
        &state.db,
        &actor,
        id.into_inner(),
        SessionInput {
            held_on: r.held_on,
            minutes: r.minutes,
            kind: r.kind,
            theme: r.theme,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(session))
}

/// A worker's supervision log with its totals (confirmed sessions only count).
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "The log", body = SupervisionLog))
)]
#[get("/workers/{id}/supervision-sessions")]
pub async fn list_supervision_sessions(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(supervision::log(&state.db, &actor, id.into_inner()).await?))
}

/// Confirm a session recorded for you (the worker).
#[utoipa::path(
    tag = "workers",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Confirmed", body = SupervisionSession),
        (status = 403, description = "Only the worker", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already confirmed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/supervision-sessions/{id}/confirm")]
pub async fn confirm_supervision_session(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(supervision::confirm(&state.db, &actor, id.into_inner()).await?))
}
