//! What waits for a supervisor: their supervisees' open sign-off requests and unverified
//! training, oldest first. Joined on the worker's current supervisor, so a change of
//! supervisor moves the queue at once.

use diesel::prelude::*;

use super::DbConn;
use super::competencies::SignoffRow;
use super::schema::{competency_signoffs, training_records, workers};
use super::training::RecordRow;

pub fn pending_signoffs(
    conn: &mut DbConn,
    supervisor: &str,
    limit: i64,
) -> QueryResult<Vec<SignoffRow>> {
    competency_signoffs::table
        .inner_join(workers::table)
        .filter(workers::supervisor_id.eq(supervisor))
        .filter(competency_signoffs::status.eq("requested"))
        .order((
            competency_signoffs::created_at.asc(),
            competency_signoffs::id.asc(),
        ))
        .limit(limit)
        .select(SignoffRow::as_select())
        .load(conn)
}

pub fn count_pending_signoffs(conn: &mut DbConn, supervisor: &str) -> QueryResult<i64> {
    competency_signoffs::table
        .inner_join(workers::table)
        .filter(workers::supervisor_id.eq(supervisor))
        .filter(competency_signoffs::status.eq("requested"))
        .count()
        .get_result(conn)
}

pub fn unverified_training(
    conn: &mut DbConn,
    supervisor: &str,
    limit: i64,
) -> QueryResult<Vec<RecordRow>> {
    training_records::table
        .inner_join(workers::table)
        .filter(workers::supervisor_id.eq(supervisor))
        .filter(training_records::status.eq("logged"))
        .order((
            training_records::created_at.asc(),
            training_records::id.asc(),
        ))
        .limit(limit)
        .select(RecordRow::as_select())
        .load(conn)
}

pub fn count_unverified_training(conn: &mut DbConn, supervisor: &str) -> QueryResult<i64> {
    training_records::table
        .inner_join(workers::table)
        .filter(workers::supervisor_id.eq(supervisor))
        .filter(training_records::status.eq("logged"))
        .count()
        .get_result(conn)
}
