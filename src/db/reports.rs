//! The aggregates behind the organisation's progression numbers.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::{progressions, stage_history, workers};

/// (status, workers) of an organisation.
pub fn workers_by_status(
    conn: &mut DbConn,
    organisation_id: &str,
) -> QueryResult<Vec<(String, i64)>> {
    workers::table
        .filter(workers::organisation_id.eq(organisation_id))
        .group_by(workers::status)
        .select((workers::status, diesel::dsl::count_star()))
        .load(conn)
}

/// (stage, worker status, workers) of the current stages of an organisation's workers.
pub fn current_stages(
    conn: &mut DbConn,
    organisation_id: &str,
) -> QueryResult<Vec<(String, String, i64)>> {
    stage_history::table
        .inner_join(workers::table.on(workers::user_id.eq(stage_history::worker_id)))
        .filter(stage_history::organisation_id.eq(organisation_id))
        .filter(stage_history::ended_on.is_null())
        .group_by((stage_history::stage_id, workers::status))
        .select((
            stage_history::stage_id,
            workers::status,
            diesel::dsl::count_star(),
        ))
        .load(conn)
}

/// (status, progressions) of an organisation's progressions open now or decided since
/// `since`, and how many of those approved were approved by override.
pub fn progressions_since(
    conn: &mut DbConn,
    organisation_id: &str,
    since: NaiveDateTime,
) -> QueryResult<(Vec<(String, i64)>, i64)> {
    let by_status = progressions::table
        .filter(progressions::organisation_id.eq(organisation_id))
        .filter(
            progressions::status
                .eq("proposed")
                .or(progressions::decided_at.ge(since)),
        )
        .group_by(progressions::status)
        .select((progressions::status, diesel::dsl::count_star()))
        .load(conn)?;
    let overridden = progressions::table
        .filter(progressions::organisation_id.eq(organisation_id))
        .filter(progressions::status.eq("approved"))
        .filter(progressions::decided_at.ge(since))
        .filter(progressions::override_reason.is_not_null())
        .count()
        .get_result(conn)?;
    Ok((by_status, overridden))
}
