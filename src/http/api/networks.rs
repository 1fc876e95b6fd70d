use actix_web::http::StatusCode;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, delete, get, patch, post, put};
use serde::Deserialize;
use utoipa::ToSchema;

use super::respond::{created, versioned};
use crate::access::Actor;
use crate::error::{AppResult, Problem};
use crate::http::extract::{ApiJson, IfMatch};
use crate::ids::{NetworkId, OrganisationId};
use crate::organisations::networks::{self, Network, NetworkScope};
use crate::pagination::{Page, PageQuery, Paginated};
use crate::state::AppState;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NetworkRequest {
    #[schema(min_length = 1, max_length = 200)]
    pub name: String,
    pub scope: NetworkScope,
}

/// Create a network of organisations (admins).
#[utoipa::path(
    tag = "networks",
    security(("bearer" = [])),
    request_body = NetworkRequest,
    params(("Idempotency-Key" = Option<String>, Header, description = "Makes a retried POST safe")),
    responses(
        (status = 201, description = "Created", body = Network, headers(("ETag" = String), ("Location" = String))),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Name already used", body = Problem, content_type = "application/problem+json"),
    )
)]
#[post("/networks")]
pub async fn create_network(
    state: Data<AppState>,
    actor: Actor,
    body: ApiJson<NetworkRequest>,
) -> AppResult<HttpResponse> {
    let n = networks::create_network(&state.db, &actor, &body.value.name, body.value.scope).await?;
    Ok(created(format!("/api/v1/networks/{}", n.id), n.version, &n))
}

/// List networks: all for admins, your organisation's for everyone else.
#[utoipa::path(
    tag = "networks",
    security(("bearer" = [])),
    params(PageQuery),
    responses(
        (status = 200, description = "A page of networks", body = Paginated<Network>),
        (status = 400, description = "Bad limit or cursor", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/networks")]
pub async fn list_networks(
    state: Data<AppState>,
    actor: Actor,
    query: Query<PageQuery>,
) -> AppResult<HttpResponse> {
    let page = Page::from_query(query.limit, query.cursor.as_deref())?;
    Ok(HttpResponse::Ok().json(networks::list_networks(&state.db, &actor, page).await?))
}

/// Read a network.
#[utoipa::path(
    tag = "networks",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The network", body = Network, headers(("ETag" = String))),
        (status = 404, description = "Not found, or your organisation is not a member", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/networks/{id}")]
pub async fn get_network(
    state: Data<AppState>,
    actor: Actor,
    id: Path<NetworkId>,
) -> AppResult<HttpResponse> {
    let n = networks::get_network(&state.db, &actor, id.into_inner()).await?;
    Ok(versioned(StatusCode::OK, n.version, &n))
}

/// Rename a network or change its scope (admins). Needs `If-Match`.
#[utoipa::path(
    tag = "networks",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("If-Match" = String, Header, description = "The ETag from your last read")),
    request_body = NetworkRequest,
    responses(
        (status = 200, description = "Updated", body = Network, headers(("ETag" = String))),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "Not found", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "Stale If-Match", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    )
)]
#[patch("/networks/{id}")]
pub async fn update_network(
    state: Data<AppState>,
    actor: Actor,
    id: Path<NetworkId>,
    if_match: IfMatch,
    body: ApiJson<NetworkRequest>,
) -> AppResult<HttpResponse> {
    let n = networks::update_network(
        &state.db,
        &actor,
        id.into_inner(),
        if_match.0,
        &body.value.name,
        body.value.scope,
    )
    .await?;
    Ok(versioned(StatusCode::OK, n.version, &n))
}

/// Add an organisation to a network (admins). Idempotent.
#[utoipa::path(
    tag = "networks",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("organisation_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The network with its members", body = Network),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such network or organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[put("/networks/{id}/organisations/{organisation_id}")]
pub async fn add_network_member(
    state: Data<AppState>,
    actor: Actor,
    path: Path<(NetworkId, OrganisationId)>,
) -> AppResult<HttpResponse> {
    let (network, org) = path.into_inner();
    let n = networks::set_membership(&state.db, &state.notifications, &actor, network, org, true)
        .await?;
    Ok(HttpResponse::Ok().json(n))
}

/// Remove an organisation from a network (admins). Idempotent.
#[utoipa::path(
    tag = "networks",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid), ("organisation_id" = String, Path, format = Uuid)),
    responses(
        (status = 200, description = "The network with its members", body = Network),
        (status = 403, description = "Admins only", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "No such network or organisation", body = Problem, content_type = "application/problem+json"),
    )
)]
#[delete("/networks/{id}/organisations/{organisation_id}")]
pub async fn remove_network_member(
    state: Data<AppState>,
    actor: Actor,
    path: Path<(NetworkId, OrganisationId)>,
) -> AppResult<HttpResponse> {
    let (network, org) = path.into_inner();
    let n = networks::set_membership(&state.db, &state.notifications, &actor, network, org, false)
        .await?;
    Ok(HttpResponse::Ok().json(n))
}
