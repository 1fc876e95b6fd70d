//! The worker's rights over their recovery data: export all of it, erase all of it; and key
//! rotation, which re-seals everything under the current key.

use std::sync::Arc;

use diesel::connection::SimpleConnection;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::checkins::{self, Checkin, CheckinStatus};
use super::plan::Plan;
use super::{Keyring, audit_read, owner};
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::crypto::Sealed;
use crate::db::{self, Database, DbConn};
use crate::error::AppResult;
use crate::ids::UserId;

/// One read of a worker's recovery data: who, in which role, what, when.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RecoveryRead {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub at: chrono::DateTime<chrono::Utc>,
    pub reader_name: String,
    pub reader_role: crate::access::Role,
    /// `plan`, `checkins` or `export`.
    pub what: String,
}

const READS: &[(&str, &str)] = &[
    ("recovery.plan_read", "plan"),
    ("recovery.checkins_read", "checkins"),
    ("recovery.exported", "export"),
];

/// Every read of the worker's recovery data, newest first (the worker only).
pub async fn reads(db: &Database, actor: &Actor, worker: UserId) -> AppResult<Vec<RecoveryRead>> {
    let actor = actor.clone();
    db.run(move |conn| {
        let row = owner(conn, &actor, worker)?;
        let actions: Vec<&str> = READS.iter().map(|(a, _)| *a).collect();
        db::audit::about_entity_with_actors(conn, "worker", &row.user_id, &actions)?
            .into_iter()
            .map(|(id, at, action, name, role)| {
                Ok(RecoveryRead {
                    id,
                    at: at.and_utc(),
                    reader_name: name,
                    reader_role: crate::access::Role::parse(&role).ok_or_else(|| {
                        crate::error::AppError::internal("unknown role in the database")
                    })?,
                    what: READS
                        .iter()
                        .find(|(a, _)| *a == action)
                        .map_or("plan", |(_, w)| *w)
                        .to_string(),
                })
            })
            .collect()
    })
    .await
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct RecoveryExport {
    pub plan: Plan,
    pub checkins: Vec<Checkin>,
    pub cadence: CheckinStatus,
}

/// Everything the worker's recovery data holds, opened (the worker only; audited).
pub async fn export(
    db: &Database,
    keys: &Arc<Keyring>,
    actor: &Actor,
    worker: UserId,
) -> AppResult<RecoveryExport> {
    let plan = super::plan::read(db, keys, actor, worker).await?;
    let checkins = checkins::list(db, keys, actor, worker).await?;
    let cadence = checkins::status(db, actor, worker).await?;
    let actor = actor.clone();
    db.write(move |conn| {
        let row = owner(conn, &actor, worker)?;
        audit_read(conn, &actor, "recovery.exported", &row.user_id)
    })
    .await?;
    Ok(RecoveryExport {
        plan,
        checkins,
        cadence,
    })
}

/// Erases the worker's plan, check-ins and cadence (the worker only). SQLite overwrites
/// deleted content (`secure_delete`), and its write-ahead log is checkpointed and truncated
/// so no copy of the pages stays behind.
pub async fn erase(db: &Database, actor: &Actor, worker: UserId) -> AppResult<usize> {
    let actor = actor.clone();
    let removed = db
        .write(move |conn| {
            let row = owner(conn, &actor, worker)?;
            let n = db::recovery::erase(conn, &row.user_id)?;
            audit::record(
                conn,
                Event::by(&actor, "recovery.erased", "worker").on(&row.user_id),
            )?;
            Ok(n)
        })
        .await?;
    db.run(|conn| {
        if let db::DbConn::Sqlite(_) = conn {
            conn.batch_execute("PRAGMA wal_checkpoint(TRUNCATE)")?;
        }
        Ok(())
    })
    .await?;
    Ok(removed)
}

/// Re-seals every value not under the current key; answers (sections, check-ins) re-sealed.
pub fn rotate(conn: &mut DbConn, keys: &Keyring) -> AppResult<(usize, usize)> {
    let current = keys.current_key_id().to_string();
    let (mut sections, mut checkins) = (0, 0);
    loop {
        let batch = db::write_tx(conn, |conn| -> AppResult<usize> {
            let rows = db::recovery::sections_not_under(conn, &current, 200)?;
            for mut row in rows.clone() {
                let context = format!("plan:{}:{}", row.worker_id, row.section);
                let text = keys.open(
                    &Sealed {
                        key_id: row.key_id.clone(),
                        bytes: row.content.clone(),
                    },
                    &context,
                )?;
                let sealed = keys.seal(&text, &context)?;
                row.key_id = sealed.key_id;
                row.content = sealed.bytes;
                db::recovery::reseal_section(conn, &row)?;
            }
            Ok(rows.len())
        })?;
        sections += batch;
        if batch == 0 {
            break;
        }
    }
    loop {
        let batch = db::write_tx(conn, |conn| -> AppResult<usize> {
            let rows = db::recovery::checkins_not_under(conn, &current, 200)?;
            for mut row in rows.clone() {
                let reseal = |bytes: Option<Vec<u8>>, field: &str| -> AppResult<Option<Vec<u8>>> {
                    let Some(bytes) = bytes else { return Ok(None) };
                    let context = format!("checkin:{}:{field}", row.id);
                    let text = keys.open(
                        &Sealed {
                            key_id: row.key_id.clone(),
                            bytes,
                        },
                        &context,
                    )?;
                    Ok(Some(keys.seal(&text, &context)?.bytes))
                };
                let actions = reseal(row.actions.clone(), "actions")?;
                let notes = reseal(row.notes.clone(), "notes")?;
                row.actions = actions;
                row.notes = notes;
                row.key_id = current.clone();
                db::recovery::reseal_checkin(conn, &row)?;
            }
            Ok(rows.len())
        })?;
        checkins += batch;
        if batch == 0 {
            break;
        }
    }
    Ok((sections, checkins))
}
