//! What admins and programme managers see of the outbox: metadata only (never bodies),
//! and a retry for dead emails.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Actor;
use crate::access::authz::{self, Scope};
use crate::audit::{self, Event};
use crate::db::notifications::{NotificationFilter, NotificationRow};
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};
use crate::ids::OrganisationId;
use crate::pagination::{Page, Paginated};

use super::Notifications;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = NotificationStatus)]
pub enum Status {
    /// Kept for the recipient's daily digest.
    Held,
    Pending,
    Sending,
    Sent,
    /// Gave up: a permanent refusal, or too many failed attempts.
    Dead,
    /// Sent as part of a digest.
    Digested,
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Held => "held",
            Self::Pending => "pending",
            Self::Sending => "sending",
            Self::Sent => "sent",
            Self::Dead => "dead",
            Self::Digested => "digested",
        }
    }
    fn parse(value: &str) -> AppResult<Self> {
        [
            Self::Held,
            Self::Pending,
            Self::Sending,
            Self::Sent,
            Self::Dead,
            Self::Digested,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
        .ok_or_else(|| AppError::internal("unknown notification status in the database"))
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct NotificationSummary {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub kind: String,
    pub organisation_id: Option<OrganisationId>,
    pub recipient_user_id: Option<String>,
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    /// The class of the last failure (for example `transient: 451`), never the server's text.
    pub last_error: Option<String>,
    pub created_at: DateTime<Utc>,
    pub sent_at: Option<DateTime<Utc>>,
}

fn summary(row: NotificationRow) -> AppResult<NotificationSummary> {
    Ok(NotificationSummary {
        id: row.id,
        kind: row.kind,
        organisation_id: row
            .organisation_id
            .as_deref()
            .map(OrganisationId::from_db)
            .transpose()?,
        recipient_user_id: row.recipient_user_id,
        status: Status::parse(&row.status)?,
        attempts: row.attempts,
        next_attempt_at: row.next_attempt_at.and_utc(),
        last_error: row.last_error,
        created_at: row.created_at.and_utc(),
        sent_at: row.sent_at.map(|t| t.and_utc()),
    })
}

fn can_manage(actor: &Actor) -> AppResult<Scope> {
    authz::can_manage_outbox(actor)
}

pub async fn list(
    db: &Database,
    actor: &Actor,
    mut filter: NotificationFilter,
    page: Page,
) -> AppResult<Paginated<NotificationSummary>> {
    if let Scope::Organisation(org) = can_manage(actor)? {
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
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = db
        .run(move |conn| {
            Ok(db::notifications::list(
                conn,
                &filter,
                after.as_deref(),
                fetch,
            )?)
        })
        .await?;
    page.finish(rows, |r| r.id.clone()).try_map(summary)
}

/// Puts a dead email back in the queue.
pub async fn retry(
    db: &Database,
    notifications: &Notifications,
    actor: &Actor,
    id: uuid::Uuid,
) -> AppResult<NotificationSummary> {
    let scope = can_manage(actor)?;
    let actor = actor.clone();
    let row = db
        .write(move |conn| {
            let id = id.to_string();
            let row = db::notifications::find(conn, &id)?.ok_or(AppError::NotFound)?;
            if let Scope::Organisation(org) = scope
                && row.organisation_id.as_deref() != Some(org.to_db().as_str())
            {
                return Err(AppError::NotFound);
            }
            if db::notifications::requeue_dead(conn, &id, db::now())? == 0 {
                return Err(AppError::conflict(format!(
                    "Only a dead email can be retried; this one is {}.",
                    row.status
                )));
            }
            audit::record(
                conn,
                Event::by(&actor, "notification.retried", "notification")
                    .on(&id)
                    .in_org(
                        row.organisation_id
                            .as_deref()
                            .map(OrganisationId::from_db)
                            .transpose()?,
                    ),
            )?;
            db::notifications::find(conn, &id)?.ok_or(AppError::NotFound)
        })
        .await?;
    notifications.wake();
    summary(row)
}
