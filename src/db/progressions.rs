//! Proposed moves to a pathway's next stage and their decisions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::progressions;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = progressions)]
pub struct ProgressionRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub from_stage_id: String,
    pub to_stage_id: String,
    pub to_stage_name: String,
    pub status: String,
    pub rationale: String,
    pub proposed_by: String,
    pub eligible_when_proposed: bool,
    pub proposal_snapshot: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub effective_on: Option<NaiveDate>,
    pub eligible_when_decided: Option<bool>,
    pub decision_snapshot: Option<String>,
    pub override_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// `programme_manager` or `second_approver`, for a decision.
    pub decided_as: Option<String>,
}

/// What a decision writes.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = progressions)]
pub struct Decision {
    pub status: String,
    pub decided_by: String,
    pub decided_at: NaiveDateTime,
    pub decision_reason: Option<String>,
    pub effective_on: Option<NaiveDate>,
    pub eligible_when_decided: bool,
    pub decision_snapshot: String,
    pub override_reason: Option<String>,
    pub decided_as: String,
}

/// Withdraws a proposal that is still open; 0 when a decision came first.
pub fn withdraw(conn: &mut DbConn, id: &str, by: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        progressions::table
            .filter(progressions::id.eq(id))
            .filter(progressions::status.eq("proposed")),
    )
    .set((
        progressions::status.eq("withdrawn"),
        progressions::decided_by.eq(by),
        progressions::decided_at.eq(now),
        progressions::version.eq(progressions::version + 1),
        progressions::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn insert(conn: &mut DbConn, row: &ProgressionRow) -> QueryResult<usize> {
    diesel::insert_into(progressions::table)
        .values(row)
        .execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<ProgressionRow>> {
    progressions::table
        .find(id)
        .select(ProgressionRow::as_select())
        .first(conn)
        .optional()
}

pub fn open_of(conn: &mut DbConn, worker_id: &str) -> QueryResult<Option<ProgressionRow>> {
    progressions::table
        .filter(progressions::worker_id.eq(worker_id))
        .filter(progressions::status.eq("proposed"))
        .select(ProgressionRow::as_select())
        .first(conn)
        .optional()
}

pub struct ProgressionFilter {
    pub organisation_id: String,
    pub worker_id: Option<String>,
    pub status: Option<String>,
}

pub fn list(
    conn: &mut DbConn,
    filter: &ProgressionFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ProgressionRow>> {
    let mut query = progressions::table
        .filter(progressions::organisation_id.eq(filter.organisation_id.clone()))
        .select(ProgressionRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.worker_id {
        query = query.filter(progressions::worker_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(progressions::status.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(progressions::id.gt(after.to_string()));
    }
    query.order(progressions::id.asc()).limit(limit).load(conn)
}

/// Decides a proposal that is still open; 0 when another decision came first.
pub fn decide(
    conn: &mut DbConn,
    id: &str,
    decision: &Decision,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        progressions::table
            .filter(progressions::id.eq(id))
            .filter(progressions::status.eq("proposed")),
    )
    .set((
        decision,
        progressions::version.eq(progressions::version + 1),
        progressions::updated_at.eq(now),
    ))
    .execute(conn)
}
