//! Worker profiles and their supervisor history.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{supervisor_assignments, workers};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = workers)]
pub struct WorkerRow {
    pub user_id: String,
    pub organisation_id: String,
    pub supervisor_id: Option<String>,
    pub preferred_name: Option<String>,
    pub start_date: NaiveDate,
    pub status: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default, AsChangeset)]
#[diesel(table_name = workers)]
pub struct WorkerChanges {
    pub preferred_name: Option<Option<String>>,
    pub start_date: Option<NaiveDate>,
    pub status: Option<String>,
    pub supervisor_id: Option<Option<String>>,
}

#[derive(Debug, Default)]
pub struct WorkerFilter {
    pub user_id: Option<String>,
    pub organisation_id: Option<String>,
    pub supervisor_id: Option<String>,
    pub status: Option<String>,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = supervisor_assignments)]
pub struct AssignmentRow {
    pub id: String,
    pub worker_id: String,
    pub supervisor_id: Option<String>,
    pub assigned_by: String,
    pub started_at: NaiveDateTime,
    pub ended_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, row: &WorkerRow) -> QueryResult<usize> {
    diesel::insert_into(workers::table)
        .values(row)
        .execute(conn)
}

pub fn find(conn: &mut DbConn, user_id: &str) -> QueryResult<Option<WorkerRow>> {
    workers::table
        .find(user_id)
        .select(WorkerRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConn,
    filter: &WorkerFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<WorkerRow>> {
    let mut query = workers::table.select(WorkerRow::as_select()).into_boxed();
    if let Some(v) = &filter.user_id {
        query = query.filter(workers::user_id.eq(v.clone()));
    }
    if let Some(v) = &filter.organisation_id {
        query = query.filter(workers::organisation_id.eq(v.clone()));
    }
    if let Some(v) = &filter.supervisor_id {
        query = query.filter(workers::supervisor_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(workers::status.eq(v.clone()));
    }
    if let Some(after) = after {
        query = query.filter(workers::user_id.gt(after.to_string()));
    }
    query.order(workers::user_id.asc()).limit(limit).load(conn)
}

pub fn update(
    conn: &mut DbConn,
    user_id: &str,
    expected: i32,
    changes: &WorkerChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        workers::table
            .filter(workers::user_id.eq(user_id))
            .filter(workers::version.eq(expected)),
    )
    .set((
        changes,
        workers::version.eq(expected + 1),
        workers::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn insert_assignment(conn: &mut DbConn, row: &AssignmentRow) -> QueryResult<usize> {
    diesel::insert_into(supervisor_assignments::table)
        .values(row)
        .execute(conn)
}

/// Ends the open assignment of a worker.
pub fn end_assignment(
    conn: &mut DbConn,
    worker_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        supervisor_assignments::table
            .filter(supervisor_assignments::worker_id.eq(worker_id))
            .filter(supervisor_assignments::ended_at.is_null()),
    )
    .set(supervisor_assignments::ended_at.eq(now))
    .execute(conn)
}

pub fn assignments(conn: &mut DbConn, worker_id: &str) -> QueryResult<Vec<AssignmentRow>> {
    supervisor_assignments::table
        .filter(supervisor_assignments::worker_id.eq(worker_id))
        .order(supervisor_assignments::started_at.asc())
        .select(AssignmentRow::as_select())
        .load(conn)
}
