//! The supervisor's queue: pending sign-off requests and unverified training of their
//! supervisees, oldest first, with counts.

use serde::Serialize;
use utoipa::ToSchema;

use crate::access::Actor;
use crate::competencies::signoffs::Signoff;
use crate::db::{self, Database};
use crate::error::AppResult;
use crate::training::records::TrainingRecord;

/// Items shown per list; the counts give the totals.
pub const QUEUE_LIMIT: i64 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCounts {
    pub signoff_requests: i64,
    pub unverified_training: i64,
}

/// A sign-off request with what a person needs to read it (the sign-off carries the
/// competency's code and title).
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedSignoff {
    pub worker_name: String,
    #[serde(flatten)]
    pub signoff: Signoff,
}

/// A training record with what a person needs to read it (the record carries the module's
/// code and title).
#[derive(Debug, Serialize, ToSchema)]
pub struct QueuedTraining {
    pub worker_name: String,
    #[serde(flatten)]
    pub record: TrainingRecord,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupervisorQueue {
    pub counts: QueueCounts,
    /// Oldest first, at most 100.
    pub signoff_requests: Vec<QueuedSignoff>,
    /// Oldest first, at most 100.
    pub unverified_training: Vec<QueuedTraining>,
}

pub async fn supervisor_queue(db: &Database, actor: &Actor) -> AppResult<SupervisorQueue> {
    crate::access::authz::can_read_supervisor_queue(actor)?;
    let me = actor.user_id.to_db();
    db.run(move |conn| {
        let assessed = db::competencies::assessed_by(conn, &me)?;
        let (rows, names): (Vec<_>, Vec<_>) =
            db::queue::pending_signoffs(conn, &me, &assessed, QUEUE_LIMIT)?
                .into_iter()
                .unzip();
        let signoffs = crate::competencies::signoffs::with_histories(conn, rows)?
            .into_iter()
            .zip(names)
            .map(|(signoff, worker_name)| QueuedSignoff {
                worker_name,
                signoff,
            })
            .collect();
        let training = db::queue::unverified_training(conn, &me, QUEUE_LIMIT)?
            .into_iter()
            .map(|(row, worker_name, module_code, module_title)| {
                Ok(QueuedTraining {
                    worker_name,
                    record: TrainingRecord::from_row(row, (module_code, module_title))?,
                })
            })
            .collect::<AppResult<Vec<_>>>()?;
        Ok(SupervisorQueue {
            counts: QueueCounts {
                signoff_requests: db::queue::count_pending_signoffs(conn, &me, &assessed)?,
                unverified_training: db::queue::count_unverified_training(conn, &me)?,
            },
            signoff_requests: signoffs,
            unverified_training: training,
        })
    })
    .await
}
