//! What the daily reminders look for.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{competency_signoffs, training_modules, training_records, workers};

/// (worker, module, module title, expires on) of verified completions of active workers
/// that run out between `from` and `to`, unless a later verified completion of the same
/// module runs beyond `to`.
pub fn expiring_training(
    conn: &mut DbConn,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(String, String, String, NaiveDate)>> {
    let candidates: Vec<(String, String, String, NaiveDate)> = training_records::table
        .inner_join(training_modules::table)
        .inner_join(workers::table)
        .filter(workers::status.eq("active"))
        .filter(training_records::status.eq("verified"))
        .filter(training_records::expires_on.ge(from))
        .filter(training_records::expires_on.le(to))
        .select((
            training_records::worker_id,
            training_records::module_id,
            training_modules::title,
            training_records::expires_on.assume_not_null(),
        ))
        .order((
            training_records::worker_id.asc(),
            training_records::expires_on.asc(),
        ))
        .load(conn)?;
    let mut due = vec![];
    for (worker, module, title, expires) in candidates {
        let renewed: bool = diesel::select(diesel::dsl::exists(
            training_records::table
                .filter(training_records::worker_id.eq(&worker))
                .filter(training_records::module_id.eq(&module))
                .filter(training_records::status.eq("verified"))
                .filter(training_records::expires_on.gt(to)),
        ))
        .get_result(conn)?;
        if !renewed {
            due.push((worker, module, title, expires));
        }
    }
    Ok(due)
}

/// (supervisor, number of requests) for sign-off requests waiting since before `cutoff`.
pub fn waiting_signoffs(
    conn: &mut DbConn,
    cutoff: NaiveDateTime,
) -> QueryResult<Vec<(String, i64)>> {
    competency_signoffs::table
        .inner_join(workers::table)
        .filter(competency_signoffs::status.eq("requested"))
        .filter(competency_signoffs::created_at.lt(cutoff))
        .filter(workers::supervisor_id.is_not_null())
        .group_by(workers::supervisor_id)
        .select((
            workers::supervisor_id.assume_not_null(),
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// (module title, expires on) of a worker's verified completions that run out between
/// `from` and `to`, unless a later verified completion of the module runs beyond `to`.
pub fn expiring_training_of(
    conn: &mut DbConn,
    worker_id: &str,
    from: NaiveDate,
    to: NaiveDate,
) -> QueryResult<Vec<(String, NaiveDate)>> {
    let records: Vec<(String, String, Option<NaiveDate>)> = training_records::table
        .inner_join(training_modules::table)
        .filter(training_records::worker_id.eq(worker_id))
        .filter(training_records::status.eq("verified"))
        .select((
            training_records::module_id,
            training_modules::title,
            training_records::expires_on,
        ))
        .load(conn)?;
    let mut due: Vec<(String, NaiveDate)> = records
        .iter()
        .filter_map(|(module, title, expires)| {
            let expires = (*expires)?;
            let renewed = records
                .iter()
                .any(|(m, _, e)| m == module && e.is_none_or(|e| e > to));
            (expires >= from && expires <= to && !renewed).then(|| (title.clone(), expires))
        })
        .collect();
    due.sort_by_key(|(_, e)| *e);
    due.dedup();
    Ok(due)
}
