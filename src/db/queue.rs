//! What waits for a supervisor: their supervisees' open sign-off requests and unverified
//! training, oldest first. Joined on the worker's current supervisor, so a change of
//! supervisor moves the queue at once, and on the worker's name (and a training record's
//! module code and title), so the queue reads without another query.

use diesel::prelude::*;

use super::DbConn;
use super::competencies::SignoffRow;
use super::schema::{competency_signoffs, training_modules, training_records, users, workers};
use super::training::RecordRow;

/// A queued training record with the worker's name and the module's code and title.
pub type NamedRecord = (RecordRow, String, String, String);

/// Requests a supervisor may decide: their supervisees', and (never their own) those of the
/// competencies they assess.
/// `assessed`: the competencies the supervisor assesses (`competencies::assessed_by`).
pub fn pending_signoffs(
    conn: &mut DbConn,
    supervisor: &str,
    assessed: &[String],
    limit: i64,
) -> QueryResult<Vec<(SignoffRow, String)>> {
    competency_signoffs::table
        .inner_join(workers::table)
        .inner_join(users::table.on(users::id.eq(workers::user_id)))
        .filter(
            workers::supervisor_id
                .eq(supervisor)
                .or(competency_signoffs::competency_id
                    .eq_any(assessed)
                    .and(workers::user_id.ne(supervisor))
                    .nullable()),
        )
        .filter(competency_signoffs::status.eq("requested"))
        .order((
            competency_signoffs::created_at.asc(),
            competency_signoffs::id.asc(),
        ))
        .limit(limit)
        .select((SignoffRow::as_select(), users::display_name))
        .load(conn)
}

pub fn count_pending_signoffs(
    conn: &mut DbConn,
    supervisor: &str,
    assessed: &[String],
) -> QueryResult<i64> {
    competency_signoffs::table
        .inner_join(workers::table)
        .filter(
            workers::supervisor_id
                .eq(supervisor)
                .or(competency_signoffs::competency_id
                    .eq_any(assessed)
                    .and(workers::user_id.ne(supervisor))
                    .nullable()),
        )
        .filter(competency_signoffs::status.eq("requested"))
        .count()
        .get_result(conn)
}

pub fn unverified_training(
    conn: &mut DbConn,
    supervisor: &str,
    limit: i64,
) -> QueryResult<Vec<NamedRecord>> {
    training_records::table
        .inner_join(workers::table)
        .inner_join(training_modules::table)
        .inner_join(users::table.on(users::id.eq(workers::user_id)))
        .filter(workers::supervisor_id.eq(supervisor))
        .filter(training_records::status.eq("logged"))
        .order((
            training_records::created_at.asc(),
            training_records::id.asc(),
        ))
        .limit(limit)
        .select((
            RecordRow::as_select(),
            users::display_name,
            training_modules::code,
            training_modules::title,
        ))
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
