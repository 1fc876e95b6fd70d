use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, delete, get, post, put};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use super::competencies::ReasonRequest;
use super::respond::{created, versioned};
use crate::access::Actor;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch};
use crate::ids::UserId;
use crate::pagination::{ActivePageQuery, Page, Paginated};
use crate::state::AppState;
use crate::training::modules::{self, Category, Module, ModuleInput};
use crate::training::records::{self, ListFilter, RecordInput, RecordStatus, TrainingRecord};

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ModuleRequest {
    /// Unique in the organisation, ignoring case; letters, digits, '-', '_', '.'.
    #[schema(min_length = 1, max_length = 20, pattern = r"^\s*[A-Za-z0-9._-]+\s*$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 200)]
    pub title: String,
    pub description: Option<String>,
    pub category: Category,
    pub typical_hours: Option<f64>,
    /// 1 to 120; absent when the module never needs renewing.
    #[schema(minimum = 1, maximum = 120)]
    pub validity_months: Option<i32>,
    /// `false` retires the module.
    pub active: Option<bool>,
    /// Statutory and mandatory training, which a pay step needs in date (default `false`).
    pub mandatory: Option<bool>,
}

impl From<ModuleRequest> for ModuleInput {
    fn from(r: ModuleRequest) -> Self {
        Self {
            code: r.code,
            title: r.title,
            description: r.description,
            category: r.category,
            typical_hours: r.typical_hours,
            validity_months: r.validity_months,
            active: r.active,
            mandatory: r.mandatory,
        }
    }
}

/// Add a module to your organisation's catalogue (programme managers).
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    request_body = ModuleRequest,
    responses(
        (status = 201, description = "Created", body = Module, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code already used", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/training-modules")]
pub async fn create_module(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<ModuleRequest>,
) -> AppResult<HttpResponse> {
    let module = modules::create_module(&state.db, &actor, body.value.into()).await?;
    Ok(created(
        format!("/api/v1/training-modules/{}", module.id),
        module.version,
        &module,
    ))
}

/// Your organisation's module catalogue.
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(ActivePageQuery),
    responses((status = 200, description = "A page of modules", body = Paginated<Module>))
)]
#[get("/training-modules")]
pub async fn list_modules(
    state: Data<AppState>,
    actor: Actor,
    query: Query<ActivePageQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    Ok(HttpResponse::Ok().json(modules::list_modules(&state.db, &actor, q.active, page).await?))
}

/// Read a module.
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The module", body = Module, headers(("ETag" = String))))
)]
#[get("/training-modules/{id}")]
pub async fn get_module(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    let module = modules::get_module(&state.db, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, module.version, &module))
}

/// Replace a module (programme managers). Needs `If-Match`. A new validity moves the
/// expiry of its records.
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = ModuleRequest,
    responses(
        (status = 200, description = "Updated", body = Module, headers(("ETag" = String))),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Code already used", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/training-modules/{id}")]
pub async fn update_module(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    if_match: IfMatch,
    body: ApiJson<ModuleRequest>,
) -> AppResult<HttpResponse> {
    let module = modules::update_module(
        &state.db,
        &actor,
        id.into_inner(),
        if_match.0,
        body.value.into(),
    )
    .await?;
    Ok(versioned(StatusCode::OK, module.version, &module))
}

/// Delete a module that has no records (programme managers); retire one that has.
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Programme managers only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "It has records: retire it instead", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/training-modules/{id}")]
pub async fn delete_module(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    modules::delete_module(&state.db, &actor, id.into_inner()).await?;
    Ok(HttpResponse::NoContent().finish())
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordRequest {
    #[schema(value_type = String, format = Uuid)]
    pub module_id: uuid::Uuid,
    /// Not in the future, not before 2000, not more than 5 years before the worker started.
    pub completed_on: NaiveDate,
    /// More than 0 and at most 200.
    pub hours: f64,
    #[schema(min_length = 1, max_length = 200)]
    pub provider: String,
    pub evidence: Option<String>,
}

impl From<RecordRequest> for RecordInput {
    fn from(r: RecordRequest) -> Self {
        Self {
            module_id: r.module_id,
            completed_on: r.completed_on,
            hours: r.hours,
            provider: r.provider,
            evidence: r.evidence,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct RecordListQuery {
    pub status: Option<RecordStatus>,
    /// In date, and expiring within this many days (0 to 3650; not with `expired`).
    #[param(minimum = 0, maximum = 3650)]
    pub expires_within_days: Option<u32>,
    /// `true`: only expired records.
    pub expired: Option<bool>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// Log a completed module (the worker, for themselves).
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = RecordRequest,
    responses(
        (status = 201, description = "Logged, awaiting verification", body = TrainingRecord, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Only the worker logs their training", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workers/{id}/training-records")]
pub async fn create_training_record(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<RecordRequest>,
) -> AppResult<HttpResponse> {
    let record =
        records::log_training(&state.db, &actor, id.into_inner(), body.value.into()).await?;
    Ok(created(
        format!("/api/v1/training-records/{}", record.id),
        record.version,
        &record,
    ))
}

/// A worker's training records, filtered by status and expiry.
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker"), RecordListQuery),
    responses(
        (status = 200, description = "A page of records", body = Paginated<TrainingRecord>),
        (status = 403, description = "Not your worker", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workers/{id}/training-records")]
pub async fn list_training_records(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    query: Query<RecordListQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    let filter = ListFilter {
        status: q.status,
        expires_within_days: q.expires_within_days,
        expired: q.expired,
    };
    Ok(HttpResponse::Ok()
        .json(records::list_records(&state.db, &actor, id.into_inner(), filter, page).await?))
}

/// Read a training record.
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The record", body = TrainingRecord, headers(("ETag" = String))))
)]
#[get("/training-records/{id}")]
pub async fn get_training_record(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    let record = records::get_record(&state.db, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, record.version, &record))
}

/// Correct your record while it awaits verification. Needs `If-Match`.
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = RecordRequest,
    responses(
        (status = 200, description = "Corrected", body = TrainingRecord, headers(("ETag" = String))),
        (status = 403, description = "Only the worker", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or withdrawn", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/training-records/{id}")]
pub async fn correct_training_record(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    if_match: IfMatch,
    body: ApiJson<RecordRequest>,
) -> AppResult<HttpResponse> {
    let record = records::correct_record(
        &state.db,
        &actor,
        id.into_inner(),
        if_match.0,
        body.value.into(),
    )
    .await?;
    Ok(versioned(StatusCode::OK, record.version, &record))
}

/// Withdraw your record while it awaits verification.
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Withdrawn", body = TrainingRecord),
        (status = 403, description = "Only the worker", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/training-records/{id}/withdraw")]
pub async fn withdraw_training_record(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    Ok(
        HttpResponse::Ok()
            .json(records::withdraw_record(&state.db, &actor, id.into_inner()).await?),
    )
}

/// Verify a record (the worker's supervisor, or a programme manager).
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "Verified", body = TrainingRecord),
        (status = 403, description = "Not the worker's supervisor, or your own record", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/training-records/{id}/verify")]
pub async fn verify_training_record(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(
        records::decide_record(
            &state.db,
            &state.notifications,
            &actor,
            id.into_inner(),
            None,
        )
        .await?,
    ))
}

/// Reject a record with a reason (the worker's supervisor, or a programme manager).
#[utoipa::path(
    tag = "training",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body = ReasonRequest,
    responses(
        (status = 200, description = "Rejected", body = TrainingRecord),
        (status = 403, description = "Not the worker's supervisor, or your own record", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already decided or withdrawn", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/training-records/{id}/reject")]
pub async fn reject_training_record(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: ApiJson<ReasonRequest>,
) -> AppResult<HttpResponse> {
    let record = records::decide_record(
        &state.db,
        &state.notifications,
        &actor,
        id.into_inner(),
        Some(body.value.reason),
    )
    .await?;
    Ok(HttpResponse::Ok().json(record))
}
