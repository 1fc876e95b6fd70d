use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, delete, get, post, put};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::page_of;
use super::respond::{created, versioned};
use crate::access::Actor;
use crate::competencies::framework::{self, Competency, CompetencyInput};
use crate::competencies::observations::{self, Observation, ObservationInput, Outcome};
use crate::competencies::signoffs::{self, Decision, Signoff, SignoffStatus};
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch, MaybeJson};
use crate::ids::UserId;
use crate::pagination::{ActivePageQuery, Page, Paginated};
use crate::state::AppState;
use crate::supervisor_queue::{self, SupervisorQueue};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CompetencyRequest {
    #[schema(min_length = 1, max_length = 20, pattern = r"^\s*[A-Za-z0-9._-]+\s*$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub domain: String,
    /// "Able to ...".
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub description: Option<String>,
    /// Observed practices needed before sign-off; 0 (the default) for none.
    #[schema(minimum = 0, maximum = 100)]
    pub observations_required: Option<i32>,
    /// `false` retires it.
    pub active: Option<bool>,
}

impl From<CompetencyRequest> for CompetencyInput {
    fn from(r: CompetencyRequest) -> Self {
        Self {
            code: r.code,
            domain: r.domain,
            title: r.title,
            description: r.description,
            observations_required: r.observations_required,
            active: r.active,
        }
    }
}

/// Add a competency to your organisation's framework (programme managers).
#[utoipa::path(tag = "competencies", security(("bearer" = [])), request_body = CompetencyRequest,
    responses(
        (status = 201, description = "Created", body = Competency, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code already used", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/competencies")]
pub async fn create_competency(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<CompetencyRequest>,
) -> AppResult<HttpResponse> {
    let c = framework::create(&state.db, &actor, body.value.into()).await?;
    Ok(created(
        format!("/api/v1/competencies/{}", c.id),
        c.version,
        &c,
    ))
}

/// Your organisation's competency framework.
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(ActivePageQuery),
    responses((status = 200, description = "A page of competencies", body = Paginated<Competency>)))]
#[get("/competencies")]
pub async fn list_competencies(
    state: Data<AppState>,
    actor: Actor,
    query: Query<ActivePageQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    Ok(HttpResponse::Ok().json(framework::list(&state.db, &actor, q.active, page).await?))
}

/// Read a competency.
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The competency", body = Competency, headers(("ETag" = String)))))]
#[get("/competencies/{id}")]
pub async fn get_competency(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    let c = framework::get(&state.db, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, c.version, &c))
}

/// Replace a competency (programme managers). Needs `If-Match`.
#[utoipa::path(tag = "competencies", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = CompetencyRequest,
    responses(
        (status = 200, description = "Updated", body = Competency, headers(("ETag" = String))),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ))]
#[put("/competencies/{id}")]
pub async fn update_competency(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    if_match: IfMatch,
    body: ApiJson<CompetencyRequest>,
) -> AppResult<HttpResponse> {
    let c = framework::update(
        &state.db,
        &actor,
        id.into_inner(),
        if_match.0,
        body.value.into(),
    )
    .await?;
    Ok(versioned(StatusCode::OK, c.version, &c))
}

/// Delete an unused competency (programme managers); retire one in use.
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 409, description = "In use: retire it instead", body = Problem, content_type = "application/problem+json"),
    ))]
#[delete("/competencies/{id}")]
pub async fn delete_competency(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    framework::delete(&state.db, &actor, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

/// Make a supervisor an assessor of the competency (programme managers). Idempotent.
#[utoipa::path(tag = "competencies", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The competency", body = Competency)))]
#[put("/competencies/{id}/assessors/{user_id}")]
pub async fn add_assessor(
    state: Data<AppState>,
    actor: Actor,
    path: Path<(uuid::Uuid, UserId)>,
) -> AppResult<HttpResponse> {
    let (id, user) = path.into_inner();
    Ok(HttpResponse::Ok().json(framework::set_assessor(&state.db, &actor, id, user, true).await?))
}

/// Withdraw a supervisor's assessor level (programme managers). Idempotent.
#[utoipa::path(tag = "competencies", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("user_id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The competency", body = Competency)))]
#[delete("/competencies/{id}/assessors/{user_id}")]
pub async fn remove_assessor(
    state: Data<AppState>,
    actor: Actor,
    path: Path<(uuid::Uuid, UserId)>,
) -> AppResult<HttpResponse> {
    let (id, user) = path.into_inner();
    Ok(HttpResponse::Ok().json(framework::set_assessor(&state.db, &actor, id, user, false).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SignoffRequest {
    #[schema(value_type = String, format = Uuid)]
    pub competency_id: uuid::Uuid,
    /// What shows the competency (at most 2000 characters).
    #[schema(min_length = 1, max_length = 2000)]
    pub evidence: String,
}

/// An optional note with a sign-off (the body may be left out).
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteRequest {
    /// Shown in the sign-off's history (at most 1000 characters).
    #[schema(max_length = 1000)]
    pub note: Option<String>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReasonRequest {
    /// Why, in words the person can act on (at most 1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct SignoffListQuery {
    pub status: Option<SignoffStatus>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Ask for a sign-off, with evidence (the worker).
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = SignoffRequest,
    responses(
        (status = 201, description = "Requested", body = Signoff, headers(("Location" = String))),
        (status = 403, description = "Only the worker", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already requested or signed off", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/workers/{id}/signoffs")]
pub async fn request_signoff(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<SignoffRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let s = signoffs::request(
        &state.db,
        &state.notifications,
        &actor,
        id.into_inner(),
        r.competency_id,
        r.evidence,
    )
    .await?;
    Ok(created(format!("/api/v1/signoffs/{}", s.id), s.version, &s))
}

/// A worker's sign-offs, with their history.
#[utoipa::path(tag = "competencies", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker"), SignoffListQuery),
    responses((status = 200, description = "A page of sign-offs", body = Paginated<Signoff>)))]
#[get("/workers/{id}/signoffs")]
pub async fn list_signoffs(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    query: Query<SignoffListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    Ok(HttpResponse::Ok()
        .json(signoffs::list(&state.db, &actor, id.into_inner(), q.status, page).await?))
}

/// Read a sign-off with its history.
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The sign-off", body = Signoff)))]
#[get("/signoffs/{id}")]
pub async fn get_signoff(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(signoffs::get(&state.db, &actor, id.into_inner()).await?))
}

/// Sign off (the worker's current supervisor, or an assessor of the competency), with an
/// optional note kept in the history; the body may be left out.
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid)),
    request_body(content = Option<NoteRequest>, description = "Optional"),
    responses(
        (status = 200, description = "Signed off", body = Signoff),
        (status = 403, description = "Not the supervisor or an assessor; or your own", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for a decision (decided, withdrawn)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Too few observed practices; says how many are missing", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/signoffs/{id}/sign-off")]
pub async fn sign_off(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: MaybeJson<NoteRequest>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        signoffs::decide(
            &state.db,
            &state.notifications,
            &actor,
            id.into_inner(),
            Decision::SignOff(body.0.and_then(|b| b.note)),
        )
        .await?,
    ))
}

/// Return a request with a reason (the worker's current supervisor, or an assessor).
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid)),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Returned", body = Signoff),
        (status = 403, description = "Not the supervisor or an assessor; or your own", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not waiting for a decision", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/signoffs/{id}/return")]
pub async fn return_signoff(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let decision = Decision::Return(body.value.reason);
    Ok(HttpResponse::Ok().json(
        signoffs::decide(
            &state.db,
            &state.notifications,
            &actor,
            id.into_inner(),
            decision,
        )
        .await?,
    ))
}

/// Withdraw your request before the decision (the worker).
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Withdrawn", body = Signoff),
        (status = 409, description = "Already decided", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/signoffs/{id}/withdraw")]
pub async fn withdraw_signoff(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(signoffs::withdraw(&state.db, &actor, id.into_inner()).await?))
}

/// Revoking a sign-off: why, and whether the observations recorded so far still count.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RevokeRequest {
    /// Why, in words the person can act on (at most 1000 characters).
    #[schema(min_length = 1, max_length = 1000)]
    pub reason: String,
    /// The observations recorded so far still count toward a new request (default: they
    /// are kept but set aside).
    #[serde(default)]
    pub observations_stand: bool,
}

/// Revoke a sign-off with a reason (programme managers). The worker's observations of the
/// competency are set aside (kept, no longer counted) unless `observations_stand`.
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid)),
    request_body = RevokeRequest,
    responses(
        (status = 200, description = "Revoked", body = Signoff),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not signed off", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/signoffs/{id}/revoke")]
pub async fn revoke_signoff(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: ApiJson<RevokeRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    Ok(HttpResponse::Ok().json(
        signoffs::revoke(
            &state.db,
            &actor,
            id.into_inner(),
            &r.reason,
            r.observations_stand,
        )
        .await?,
    ))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ObservationRequest {
    #[schema(value_type = String, format = Uuid)]
    pub competency_id: uuid::Uuid,
    pub observed_on: NaiveDate,
    pub outcome: Outcome,
    /// At most 500 characters.
    pub note: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ObservationQuery {
    pub competency_id: Option<uuid::Uuid>,
    /// Items per page: 1 to 200, default 50.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Record an observed practice (the observer: the worker's supervisor or an assessor).
#[utoipa::path(tag = "competencies", security(("bearer" = [])), params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = ObservationRequest,
    responses(
        (status = 201, description = "Recorded", body = Observation),
        (status = 403, description = "Not the supervisor or an assessor; or yourself", body = Problem, content_type = "application/problem+json"),
    ))]
#[post("/workers/{id}/observations")]
pub async fn create_observation(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<ObservationRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let o = observations::record(
        &state.db,
        &actor,
        id.into_inner(),
        ObservationInput {
            competency_id: r.competency_id,
            observed_on: r.observed_on,
            outcome: r.outcome,
            note: r.note,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(o))
}

/// A worker's observed practices.
#[utoipa::path(tag = "competencies", security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker"), ObservationQuery),
    responses((status = 200, description = "Oldest first", body = Paginated<Observation>)))]
#[get("/workers/{id}/observations")]
pub async fn list_observations(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    query: Query<ObservationQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        query.limit,
        query.cursor.as_deref(),
        observations::list(&state.db, &actor, id.into_inner(), query.competency_id).await?,
        |x| x.id.clone(),
    )
}

/// Your queue: supervisees' sign-off requests and unverified training, oldest first.
#[utoipa::path(tag = "competencies", security(("bearer" = [])),
    responses(
        (status = 200, description = "The queue", body = SupervisorQueue),
        (status = 403, description = "Supervisors only", body = Problem, content_type = "application/problem+json"),
    ))]
#[get("/supervisor-queue")]
pub async fn get_supervisor_queue(state: Data<AppState>, actor: Actor) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(supervisor_queue::supervisor_queue(&state.db, &actor).await?))
}
