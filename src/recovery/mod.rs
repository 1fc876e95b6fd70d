//! Recovery support: relapse-prevention plans and check-ins that belong to the worker.
//!
//! A walled garden. This module may use `db::recovery`, `notifications`, `audit` and the
//! worker profile (relation, pauses); nothing in `pathway`, `salary`, reports or any
//! manager-facing code imports it, and `db::recovery` is imported only from here (a test
//! reads the source tree to keep it so). Free text is sealed at rest (`crate::crypto`); every read
//! of it writes an audit event; programme managers get counts only.

pub use crate::crypto::Keyring;
pub mod checkins;
pub mod data;
pub mod plan;
pub mod reminders;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::db::DbConn;
use crate::db::workers::WorkerRow;
use crate::error::{AppError, AppResult};
use crate::ids::UserId;
use crate::workers::{self, Relation};

/// Who is reading or writing: the worker, or their current supervisor (who sees what the
/// worker shares). Anyone else is refused; a former supervisor from their next request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Access {
    Owner,
    Supervisor,
}

const ONLY_WORKER_AND_SUPERVISOR: &str =
    "Recovery support belongs to the worker; their current supervisor sees what they share.";

pub(crate) fn access(
    conn: &mut DbConn,
    actor: &Actor,
    worker: UserId,
) -> AppResult<(WorkerRow, Access)> {
    let (row, relation) = workers::load_visible(conn, actor, worker)?;
    match relation {
        Relation::Itself => Ok((row, Access::Owner)),
        Relation::CurrentSupervisor => Ok((row, Access::Supervisor)),
        Relation::Manager | Relation::Admin => Err(AppError::Forbidden(ONLY_WORKER_AND_SUPERVISOR)),
    }
}

/// Only the worker themselves.
pub(crate) fn owner(conn: &mut DbConn, actor: &Actor, worker: UserId) -> AppResult<WorkerRow> {
    match access(conn, actor, worker)? {
        (row, Access::Owner) => Ok(row),
        _ => Err(AppError::Forbidden(
            "Only the worker can do this with their recovery data.",
        )),
    }
}

/// The audit event of a read of recovery content (what was read, never the content).
pub(crate) fn audit_read(
    conn: &mut DbConn,
    actor: &Actor,
    action: &'static str,
    worker: &str,
) -> AppResult<()> {
    audit::record(conn, Event::by(actor, action, "worker").on(worker))
}
