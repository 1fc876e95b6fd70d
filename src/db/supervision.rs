//! Supervision sessions.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::supervision_sessions;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = supervision_sessions)]
pub struct SessionRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub supervisor_id: String,
    pub held_on: NaiveDate,
    pub minutes: i32,
    pub kind: String,
    pub theme: String,
    pub confirmed_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &SessionRow) -> QueryResult<usize> {
    diesel::insert_into(supervision_sessions::table)
        .values(row)
        .execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<SessionRow>> {
    supervision_sessions::table
        .find(id)
        .select(SessionRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn, worker_id: &str) -> QueryResult<Vec<SessionRow>> {
    supervision_sessions::table
        .filter(supervision_sessions::worker_id.eq(worker_id))
        .order(supervision_sessions::id.asc())
        .select(SessionRow::as_select())
        .load(conn)
}

/// Confirms an unconfirmed session; 0 rows when it was confirmed already.
pub fn confirm(conn: &mut DbConn, id: &str, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        supervision_sessions::table
            .filter(supervision_sessions::id.eq(id))
            .filter(supervision_sessions::confirmed_at.is_null()),
    )
    .set(supervision_sessions::confirmed_at.eq(now))
    .execute(conn)
}

/// Minutes of a worker's supervision held on or after `since`: (confirmed, unconfirmed).
pub fn minutes_since(
    conn: &mut DbConn,
    worker_id: &str,
    since: NaiveDate,
) -> QueryResult<(i64, i64)> {
    let rows: Vec<(Option<NaiveDateTime>, i32)> = supervision_sessions::table
        .filter(supervision_sessions::worker_id.eq(worker_id))
        .filter(supervision_sessions::held_on.ge(since))
        .select((
            supervision_sessions::confirmed_at,
            supervision_sessions::minutes,
        ))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .fold((0, 0), |(c, u), (confirmed, minutes)| match confirmed {
            Some(_) => (c + i64::from(minutes), u),
            None => (c, u + i64::from(minutes)),
        }))
}
