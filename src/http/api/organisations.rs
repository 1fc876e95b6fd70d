use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, get, patch, post, put};
use serde::Deserialize;
use utoipa::ToSchema;

use super::respond::{created, versioned};
use crate::access::Actor;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch};
use crate::ids::OrganisationId;
use crate::organisations::{self, Organisation, OrganisationSettings};
use crate::pagination::{Page, PageQuery, Paginated};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationRequest {
    /// Unique, ignoring case; 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
}

/// Create an organisation (admins).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    request_body = OrganisationRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried POST safe")),
    responses(
        (status = 201, description = "Created", body = Organisation, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name already used", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, or Idempotency-Key reused with another body", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/organisations")]
pub async fn create_organisation(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<OrganisationRequest>,
) -> AppResult<HttpResponse> {
    let org = organisations::create_organisation(&state.db, &actor, &body.value.name).await?;
    Ok(created(
        format!("/api/v1/organisations/{}", org.id),
        org.version,
        &org,
    ))
}

/// List organisations: all for admins, your own for everyone else.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of organisations", body = Paginated<Organisation>),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations")]
pub async fn list_organisations(
    state: Data<AppState>,
    actor: Actor,
    query: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    let list = organisations::list_organisations(&state.db, &actor, page).await?;
    Ok(HttpResponse::Ok().json(list))
}

/// Read an organisation.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The organisation", body = Organisation, headers(("ETag" = String))),
        (status = 404, description = "Not found, or not yours", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/organisations/{id}")]
pub async fn get_organisation(
    state: Data<AppState>,
    actor: Actor,
    id: Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    let org = organisations::get_organisation(&state.db, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, org.version, &org))
}

/// Rename an organisation (admins). Needs `If-Match`.
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = OrganisationRequest,
    responses(
        (status = 200, description = "Updated", body = Organisation, headers(("ETag" = String))),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found, or not yours", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name already used", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/organisations/{id}")]
pub async fn update_organisation(
    state: Data<AppState>,
    actor: Actor,
    id: Path<OrganisationId>,
    if_match: IfMatch,
    body: ApiJson<OrganisationRequest>,
) -> AppResult<HttpResponse> {
    let org = organisations::rename_organisation(
        &state.db,
        &actor,
        id.into_inner(),
        if_match.0,
        &body.value.name,
    )
    .await?;
    Ok(versioned(StatusCode::OK, org.version, &org))
}

/// An organisation's settings (anyone in it).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses((status = 200, description = "The settings", body = OrganisationSettings))
)]
#[get("/organisations/{id}/settings")]
pub async fn get_settings(
    state: Data<AppState>,
    actor: Actor,
    id: Path<OrganisationId>,
) -> AppResult<HttpResponse> {
    Ok(HttpResponse::Ok().json(organisations::settings(&state.db, &actor, id.into_inner()).await?))
}

/// Change an organisation's settings (its programme managers, admins).
#[utoipa::path(
    tag = "organisations",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    request_body = OrganisationSettings,
    responses(
        (status = 200, description = "The settings", body = OrganisationSettings),
        (status = 403, description = "Programme managers and admins only", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/organisations/{id}/settings")]
pub async fn update_settings(
    state: Data<AppState>,
    actor: Actor,
    id: Path<OrganisationId>,
    body: ApiJson<OrganisationSettings>,
) -> AppResult<HttpResponse> {
    let settings =
        organisations::update_settings(&state.db, &actor, id.into_inner(), body.value).await?;
    Ok(HttpResponse::Ok().json(settings))
}
