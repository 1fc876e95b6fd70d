//! The append-only audit trail: who did what to which record, when, in which request.
//! It holds identifiers and action names only, never free text or secrets.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Actor;
use crate::access::authz::{self, Scope};
use crate::db::audit::{AuditFilter, AuditRow};
use crate::db::{self, Database, DbConn};
use crate::error::AppResult;
use crate::ids::{AuditEventId, OrganisationId};
use crate::pagination::{Page, Paginated};

/// One recorded event, written in the same transaction as the change it describes.
pub struct Event<'a> {
    pub action: &'static str,
    pub entity: &'static str,
    pub entity_id: Option<String>,
    pub organisation_id: Option<OrganisationId>,
    pub actor_id: Option<String>,
    pub request_id: Option<&'a str>,
}

impl<'a> Event<'a> {
    /// An event caused by an authenticated caller.
    pub fn by(actor: &'a Actor, action: &'static str, entity: &'static str) -> Self {
        Self {
            action,
            entity,
            entity_id: None,
            organisation_id: actor.organisation_id,
            actor_id: Some(actor.user_id.to_string()),
            request_id: actor.request_id.as_deref(),
        }
    }

    pub fn on(mut self, entity_id: impl ToString) -> Self {
        self.entity_id = Some(entity_id.to_string());
        self
    }

    pub fn in_org(mut self, organisation: Option<OrganisationId>) -> Self {
        self.organisation_id = organisation;
        self
    }
}

pub fn record(conn: &mut DbConn, event: Event<'_>) -> AppResult<()> {
    db::audit::insert(
        conn,
        &AuditRow {
            id: AuditEventId::generate().to_db(),
            occurred_at: db::now(),
            actor_id: event.actor_id,
            organisation_id: event.organisation_id.map(|o| o.to_db()),
            action: event.action.into(),
            entity: event.entity.into(),
            entity_id: event.entity_id,
            request_id: event.request_id.map(str::to_string),
        },
    )?;
    Ok(())
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEvent {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub occurred_at: DateTime<Utc>,
    pub actor_id: Option<String>,
    pub organisation_id: Option<String>,
    /// What happened, for example `user.created` or `auth.login_failed`.
    pub action: String,
    pub entity: String,
    pub entity_id: Option<String>,
    pub request_id: Option<String>,
}

impl From<AuditRow> for AuditEvent {
    fn from(row: AuditRow) -> Self {
        Self {
            id: row.id,
            occurred_at: row.occurred_at.and_utc(),
            actor_id: row.actor_id,
            organisation_id: row.organisation_id,
            action: row.action,
            entity: row.entity,
            entity_id: row.entity_id,
            request_id: row.request_id,
        }
    }
}

/// Lists events: admins all (or one organisation's), programme managers their own only.
pub async fn list(
    db: &Database,
    actor: &Actor,
    mut filter: AuditFilter,
    page: Page,
) -> AppResult<Paginated<AuditEvent>> {
    match authz::can_read_audit(actor)? {
        Scope::All => {}
        Scope::Organisation(org) => {
            if filter
                .organisation_id
                .as_ref()
                .is_some_and(|o| *o != org.to_db())
            {
                return Ok(Paginated {
                    items: vec![],
                    next_cursor: None,
                });
            }
            filter.organisation_id = Some(org.to_db());
        }
    }
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = db
        .run(move |conn| Ok(db::audit::list(conn, &filter, after.as_deref(), fetch)?))
        .await?;
    Ok(page.finish(rows, |r| r.id.clone()).map(AuditEvent::from))
}
