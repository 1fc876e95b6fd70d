use actix_web::web::Data;
use actix_web::{HttpResponse, get};
use serde::Serialize;
use utoipa::ToSchema;

use crate::db;
use crate::error::{AppError, AppResult, Problem};
use crate::state::AppState;
use crate::telemetry;

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
}

/// The process is up.
#[utoipa::path(tag = "operations", responses((status = 200, body = Health)))]
#[get("/health/live")]
pub async fn live() -> HttpResponse {
    HttpResponse::Ok().json(Health { status: "live" })
}

/// The service can reach its database and write to it: 503 while it cannot (the database is
/// unreachable, or has refused writes for want of space in the last minute), 200 again once it can.
#[utoipa::path(
    tag = "operations",
    responses(
        (status = 200, body = Health),
        (status = 503, description = "Database unreachable or out of space; see Retry-After", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/health/ready")]
pub async fn ready(state: Data<AppState>) -> AppResult<HttpResponse> {
    state.db.run(db::ping).await?;
    if state.db.storage_full() {
        return Err(AppError::NotReady(
            "The database is out of storage space: writes are refused until space is freed.",
        ));
    }
    Ok(HttpResponse::Ok().json(Health { status: "ready" }))
}

/// Prometheus metrics: requests by route and status, latency, pool state.
#[utoipa::path(
    tag = "operations",
    responses((status = 200, description = "Prometheus text format", body = String, content_type = "text/plain"))
)]
#[get("/metrics")]
pub async fn metrics(state: Data<AppState>) -> HttpResponse {
    let pool = state.db.pool.state();
    ::metrics::gauge!("db_pool_connections").set(f64::from(pool.connections));
    ::metrics::gauge!("db_pool_idle_connections").set(f64::from(pool.idle_connections));
    ::metrics::gauge!("db_pool_max_size").set(f64::from(state.db.pool.max_size()));
    let handle = telemetry::metrics_handle();
    handle.run_upkeep();
    HttpResponse::Ok()
        .content_type("text/plain; version=0.0.4")
        .body(handle.render())
}

/// The page the `type` of every problem answer points to.
pub async fn problem_types() -> HttpResponse {
    let items: String = crate::error::PROBLEM_TYPES
        .iter()
        .map(|(slug, title, text)| {
            format!("<dt id=\"{slug}\">{title} <code>{slug}</code></dt><dd>{text}</dd>\n")
        })
        .collect();
    HttpResponse::Ok()
        .content_type("text/html; charset=utf-8")
        .body(format!(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
             <title>peerpath problem types</title></head><body><main>\
             <h1>Problem types</h1><p>Every error peerpath answers is \
             <code>application/problem+json</code> (RFC 9457) with one of these types.</p>\
             <dl>\n{items}</dl></main></body></html>"
        ))
}
