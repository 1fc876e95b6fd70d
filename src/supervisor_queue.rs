//! The supervisor's queue: pending sign-off requests and unverified training of their
//! supervisees, oldest first, with counts.

use serde::Serialize;
use utoipa::ToSchema;

use crate::competencies::signoffs::Signoff;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};
use crate::identity::{Actor, Role};
use crate::training::records::TrainingRecord;

/// Items shown per list; the counts give the totals.
pub const QUEUE_LIMIT: i64 = 100;

#[derive(Debug, Serialize, ToSchema)]
pub struct QueueCounts {
    pub signoff_requests: i64,
    pub unverified_training: i64,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SupervisorQueue {
    pub counts: QueueCounts,
    /// Oldest first, at most 100.
    pub signoff_requests: Vec<Signoff>,
    /// Oldest first, at most 100.
    pub unverified_training: Vec<TrainingRecord>,
}

pub async fn supervisor_queue(db: &Database, actor: &Actor) -> AppResult<SupervisorQueue> {
    if actor.role != Role::Supervisor {
        return Err(AppError::Forbidden("The queue is a supervisor's."));
    }
    let me = actor.user_id.to_db();
    db.run(move |conn| {
        let signoffs = db::queue::pending_signoffs(conn, &me, QUEUE_LIMIT)?;
        let signoffs = crate::competencies::signoffs::with_histories(conn, signoffs)?;
        let training = db::queue::unverified_training(conn, &me, QUEUE_LIMIT)?
            .into_iter()
            .map(TrainingRecord::try_from)
            .collect::<AppResult<Vec<_>>>()?;
        Ok(SupervisorQueue {
            counts: QueueCounts {
                signoff_requests: db::queue::count_pending_signoffs(conn, &me)?,
                unverified_training: db::queue::count_unverified_training(conn, &me)?,
            },
            signoff_requests: signoffs,
            unverified_training: training,
        })
    })
    .await
}
