//! The scheduler's ledger: one row per job and period, so a period runs once across
//! every instance.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::DbConn;
use super::schema::scheduled_runs;

/// Claims (job, period) for `claim`: a new row, or one whose runner's lease expired before
/// it finished. Answers whether this caller holds it.
pub fn claim(
    conn: &mut DbConn,
    job: &str,
    period: &str,
    claim: &str,
    now: NaiveDateTime,
    lease_until: NaiveDateTime,
) -> QueryResult<bool> {
    use scheduled_runs::dsl as r;
    let row = (
        r::job.eq(job),
        r::period.eq(period),
        r::status.eq("running"),
        r::claim_id.eq(claim),
        r::lease_expires_at.eq(lease_until),
        r::started_at.eq(now),
    );
    let inserted = match conn {
        DbConn::Postgres(c) => diesel::insert_into(r::scheduled_runs)
            .values(row)
            .on_conflict((r::job, r::period))
            .do_nothing()
            .execute(c)?,
        DbConn::Sqlite(c) => diesel::insert_into(r::scheduled_runs)
            .values(row)
            .on_conflict((r::job, r::period))
            .do_nothing()
            .execute(c)?,
    };
    if inserted == 1 {
        return Ok(true);
    }
    let taken_over = diesel::update(
        r::scheduled_runs
            .filter(r::job.eq(job))
            .filter(r::period.eq(period))
            .filter(r::status.eq("running"))
            .filter(r::lease_expires_at.lt(now)),
    )
    .set((
        r::claim_id.eq(claim),
        r::lease_expires_at.eq(lease_until),
        r::started_at.eq(now),
    ))
    .execute(conn)?;
    Ok(taken_over == 1)
}

pub fn finish(
    conn: &mut DbConn,
    job: &str,
    period: &str,
    claim: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    use scheduled_runs::dsl as r;
    diesel::update(
        r::scheduled_runs
            .filter(r::job.eq(job))
            .filter(r::period.eq(period))
            .filter(r::claim_id.eq(claim)),
    )
    .set((r::status.eq("done"), r::finished_at.eq(now)))
    .execute(conn)
}

/// Completed periods of a job, newest first.
pub fn done_periods(conn: &mut DbConn, job: &str) -> QueryResult<Vec<String>> {
    use scheduled_runs::dsl as r;
    r::scheduled_runs
        .filter(r::job.eq(job))
        .filter(r::status.eq("done"))
        .order(r::period.desc())
        .select(r::period)
        .load(conn)
}
