//! Salary bands and pay tables, workers' salary history, appraisals and pay steps.

use actix_web::web::{Data, Path};

use crate::http::extract::Query;

use super::page_of;
use crate::pagination::{PageQuery, Paginated};
use actix_web::{HttpResponse, get, post};
use chrono::NaiveDate;
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};

use crate::access::Actor;
use crate::error::{AppResult, Problem};
use crate::http::extract::ApiJson;
use crate::ids::UserId;
use crate::salary::corrections::{self, CorrectionInput, CorrectionMade, CorrectionPreview};
use crate::salary::history::{self, AssignInput, Reason, SalaryPeriod};
use crate::salary::steps::{self, Appraisal, DueStep};
use crate::salary::{self, Band, BandInput, PayAward, PointInput, TableInput};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct BandRequest {
    /// Such as AfC-4; unique among the bands you can use, ignoring case.
    #[schema(min_length = 1, max_length = 20, pattern = r"^\s*[A-Za-z0-9._-]+\s*$")]
    pub code: String,
    #[schema(min_length = 1, max_length = 100)]
    pub name: String,
    /// ISO 4217, such as GBP.
    #[schema(pattern = r"^\s*[A-Z]{3}\s*$", example = "GBP")]
    pub currency: String,
    /// The first pay table's date.
    pub effective_from: NaiveDate,
    /// Where the figures come from.
    #[schema(max_length = 300)]
    pub source: Option<String>,
    /// Lowest first; amounts in whole minor units (pence), never a float.
    #[schema(min_items = 1, max_items = 20)]
    pub points: Vec<PointInput>,
    /// Set once you have checked figures answered as unusual (over 10 years at a point, a
    /// point more than a quarter above the one below).
    #[serde(default)]
    pub confirm_unusual: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PayTableRequest {
    /// After the band's current table's date.
    pub effective_from: NaiveDate,
    #[schema(max_length = 300)]
    pub source: Option<String>,
    /// As many points as the current table; whole minor units.
    #[schema(min_items = 1, max_items = 20)]
    pub points: Vec<PointInput>,
    /// Set once you have checked figures answered as unusual (also: a point more than a
    /// fifth away from the current table's).
    #[serde(default)]
    pub confirm_unusual: bool,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CorrectionRequest {
    /// The corrected points, lowest first, as many as the table holds; whole minor units.
    #[schema(min_items = 1, max_items = 20)]
    pub points: Vec<PointInput>,
    /// What was wrong (up to 500 characters); kept with the correction.
    #[schema(min_length = 1, max_length = 500)]
    pub note: String,
    /// A corrected source, if the source was wrong too.
    #[schema(max_length = 300)]
    pub source: Option<String>,
    /// Set once you have checked figures answered as unusual (also: a point more than a
    /// fifth away from the figure it corrects).
    #[serde(default)]
    pub confirm_unusual: bool,
}

impl CorrectionRequest {
    fn into_input(self) -> CorrectionInput {
        CorrectionInput {
            points: self.points,
            note: self.note,
            source: self.source,
            confirm_unusual: self.confirm_unusual,
        }
    }
}

/// Define a salary band with its first pay table: your organisation's (programme
/// managers) or a national one (admins).
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    request_body = BandRequest,
    responses(
        (status = 201, description = "Created", body = Band),
        (status = 409, description = "Code already used", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/salary-bands")]
pub async fn create_band(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<BandRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let band = salary::create_band(
        &state.db,
        &actor,
        BandInput {
            code: r.code,
            name: r.name,
            currency: r.currency,
            table: TableInput {
                effective_from: r.effective_from,
                source: r.source,
                points: r.points,
                confirm_unusual: r.confirm_unusual,
            },
        },
    )
    .await?;
    Ok(HttpResponse::Created()
        .insert_header(("Location", format!("/api/v1/salary-bands/{}", band.id)))
        .json(band))
}

/// The national bands (Agenda for Change) and your organisation's, with their pay tables.
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(PageQuery),
    responses((status = 200, description = "By code", body = Paginated<Band>))
)]
#[get("/salary-bands")]
pub async fn list_bands(
    state: Data<AppState>,
    actor: Actor,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        page.limit,
        page.cursor.as_deref(),
        salary::list_bands(&state.db, &actor).await?,
        |x| x.id.clone(),
    )
}

/// A band with its pay tables.
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The band", body = Band))
)]
#[get("/salary-bands/{id}")]
pub async fn get_band(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(salary::get_band(&state.db, &actor, id.into_inner()).await?))
}

/// A pay award: a new pay table from a date. Everyone on the band from that date moves
/// onto it at the same point; nothing before the date changes.
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body = PayTableRequest,
    responses(
        (status = 201, description = "Added, with how many workers moved", body = PayAward),
        (status = 403, description = "National bands are kept by admins", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/salary-bands/{id}/pay-tables")]
pub async fn add_pay_table(
    state: Data<AppState>,
    actor: Actor,
    id: Path<uuid::Uuid>,
    body: ApiJson<PayTableRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let award = salary::add_pay_table(
        &state.db,
        &actor,
        id.into_inner(),
        TableInput {
            effective_from: r.effective_from,
            source: r.source,
            points: r.points,
            confirm_unusual: r.confirm_unusual,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(award))
}

/// Whom a correction of a pay table would change, and which figures must be confirmed;
/// changes nothing. Open to whoever may correct the table.
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "The band"),
        ("table_id" = String, Path, format = Uuid, description = "The pay table"),
    ),
    request_body = CorrectionRequest,
    responses(
        (status = 200, description = "What the correction would do", body = CorrectionPreview),
        (status = 403, description = "Not yours to correct", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such band or table", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/salary-bands/{id}/pay-tables/{table_id}/correction-preview")]
pub async fn preview_correction(
    state: Data<AppState>,
    actor: Actor,
    ids: Path<(uuid::Uuid, uuid::Uuid)>,
    body: ApiJson<CorrectionRequest>,
) -> AppResult<HttpResponse> {
    let (band, table) = ids.into_inner();
    let preview =
        corrections::preview(&state.db, &actor, band, table, body.value.into_input()).await?;
    Ok(HttpResponse::Ok().json(preview))
}

/// Correct a pay table entered wrong: whoever entered it (the band's keepers for a table
/// nobody entered). Every salary period it priced takes the corrected amount, and keeps
/// the amount it held before; unusual figures must be confirmed.
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "The band"),
        ("table_id" = String, Path, format = Uuid, description = "The pay table"),
    ),
    request_body = CorrectionRequest,
    responses(
        (status = 201, description = "Corrected, with whom it changed", body = CorrectionMade),
        (status = 403, description = "Not yours to correct", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such band or table", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A figure is wrong or unusual and unconfirmed", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/salary-bands/{id}/pay-tables/{table_id}/corrections")]
pub async fn correct_pay_table(
    state: Data<AppState>,
    actor: Actor,
    ids: Path<(uuid::Uuid, uuid::Uuid)>,
    body: ApiJson<CorrectionRequest>,
) -> AppResult<HttpResponse> {
    let (band, table) = ids.into_inner();
    let made =
        corrections::correct(&state.db, &actor, band, table, body.value.into_input()).await?;
    Ok(HttpResponse::Created().json(made))
}

/// A worker's salary history: periods without gaps or overlaps, oldest first.
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(PageQuery, ("id" = String, Path, format = Uuid, description = "The worker")),
    responses(
        (status = 200, description = "Oldest first", body = Paginated<SalaryPeriod>),
        (status = 403, description = "Pay is not yours to see", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/workers/{id}/salary")]
pub async fn salary_history(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        page.limit,
        page.cursor.as_deref(),
        history::history(&state.db, &actor, id.into_inner()).await?,
        |x| x.id.clone(),
    )
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SalaryRequest {
    #[schema(value_type = String, format = Uuid)]
    pub band_id: uuid::Uuid,
    pub point: i32,
    pub effective_from: NaiveDate,
    /// appointment, pay_step or correction (progressions and pay awards write their own).
    pub reason: Reason,
    pub note: Option<String>,
}

/// Record a salary change from a date (programme managers). A pay step must be due and met.
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = SalaryRequest,
    responses(
        (status = 201, description = "Recorded", body = SalaryPeriod),
        (status = 409, description = "A change already starts that day", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "A field is wrong, or the pay step is not met", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/workers/{id}/salary")]
pub async fn assign_salary(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<SalaryRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let period = history::assign(
        &state.db,
        &actor,
        id.into_inner(),
        AssignInput {
            band_id: r.band_id,
            point: r.point,
            effective_from: r.effective_from,
            reason: r.reason,
            note: r.note,
        },
    )
    .await?;
    Ok(HttpResponse::Created().json(period))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppraisalRequest {
    /// Today or earlier.
    pub held_on: NaiveDate,
    /// Default: you.
    pub appraiser_id: Option<UserId>,
}

/// Record an appraisal (the worker's supervisor or a programme manager).
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The worker")),
    request_body = AppraisalRequest,
    responses((status = 201, description = "Recorded", body = Appraisal))
)]
#[post("/workers/{id}/appraisals")]
pub async fn record_appraisal(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    body: ApiJson<AppraisalRequest>,
) -> AppResult<HttpResponse> {
    let r = body.value;
    let a = steps::record_appraisal(
        &state.db,
        &actor,
        id.into_inner(),
        r.held_on,
        r.appraiser_id,
    )
    .await?;
    Ok(HttpResponse::Created().json(a))
}

/// A worker's appraisals, latest first.
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(PageQuery, ("id" = String, Path, format = Uuid, description = "The worker")),
    responses((status = 200, description = "Latest first", body = Paginated<Appraisal>))
)]
#[get("/workers/{id}/appraisals")]
pub async fn list_appraisals(
    state: Data<AppState>,
    actor: Actor,
    id: Path<UserId>,
    page: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    page_of(
        page.limit,
        page.cursor.as_deref(),
        steps::list_appraisals(&state.db, &actor, id.into_inner()).await?,
        |x| x.id.clone(),
    )
}

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct PayStepQuery {
    /// Steps due within this many days (0 to 366, default 90); overdue ones are included.
    #[param(minimum = 0, maximum = 366)]
    pub within_days: Option<u32>,
    /// Items per page: 1 to 200, default 50.
    pub limit: Option<i64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

/// Pay steps due soon in your organisation, each met or not with reasons (programme
/// managers).
#[utoipa::path(
    tag = "pay",
    security(("bearer" = [])),
    params(PayStepQuery),
    responses((status = 200, description = "Earliest first", body = Paginated<DueStep>))
)]
#[get("/pay-steps")]
pub async fn list_pay_steps(
    state: Data<AppState>,
    actor: Actor,
    query: Query<PayStepQuery>,
) -> AppResult<HttpResponse> {
    let within = query.within_days.unwrap_or(90);
    page_of(
        query.limit,
        query.cursor.as_deref(),
        steps::list_due(&state.db, &actor, within).await?,
        |x| x.worker_id.to_db(),
    )
}
