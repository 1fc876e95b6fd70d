use actix_web::web::Data;

use crate::http::extract::Query;
use actix_web::{HttpResponse, get};
use serde::Deserialize;
use utoipa::IntoParams;

use crate::access::Actor;
use crate::audit::{self, AuditEvent};
use crate::db::audit::AuditFilter;
use crate::error::{AppResult, Problem};
use crate::ids::{OrganisationId, UserId};
use crate::pagination::{Page, Paginated};
use crate::state::AppState;

#[derive(Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// Admins only; programme managers always see their own organisation.
    pub organisation_id: Option<OrganisationId>,
    pub actor_id: Option<UserId>,
    /// For example `user.created`, `auth.login_failed`.
    pub action: Option<String>,
    pub entity: Option<String>,
    pub entity_id: Option<String>,
    pub limit: Option<i64>,
    pub cursor: Option<String>,
}

/// List audit events, oldest first.
#[utoipa::path(
    tag = "audit",
    security(("bearer" = [])),
    params(AuditQuery),
    responses(
        (status = 200, description = "A page of events", body = Paginated<AuditEvent>),
        (status = 400, description = "Bad filter, limit or cursor", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Admins and programme managers only", body = Problem, content_type = "application/problem+json"),
    )
)]
#[get("/audit-events")]
pub async fn list_audit_events(
    state: Data<AppState>,
    actor: Actor,
    query: Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    let q = query.into_inner();
    let page = Page::from_query(q.limit, q.cursor.as_deref())?;
    let filter = AuditFilter {
        organisation_id: q.organisation_id.map(|o| o.to_db()),
        actor_id: q.actor_id.map(|a| a.to_db()),
        action: q.action,
        entity: q.entity,
        entity_id: q.entity_id,
    };
    Ok(HttpResponse::Ok().json(audit::list(&state.db, &actor, filter, page).await?))
}
