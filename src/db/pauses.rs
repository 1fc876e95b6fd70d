//! Wellbeing pauses: dates and a category, which stop a worker's pathway clock.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::wellbeing_pauses;

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = wellbeing_pauses)]
pub struct PauseRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub starts_on: NaiveDate,
    pub planned_return_on: Option<NaiveDate>,
    pub ended_on: Option<NaiveDate>,
    pub category: String,
    pub recorded_by: String,
    pub ended_by: Option<String>,
    pub created_at: NaiveDateTime,
}

pub fn insert(conn: &mut DbConn, row: &PauseRow) -> QueryResult<usize> {
    diesel::insert_into(wellbeing_pauses::table)
        .values(row)
        .execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<PauseRow>> {
    wellbeing_pauses::table
        .find(id)
        .select(PauseRow::as_select())
        .first(conn)
        .optional()
}

/// A worker's pauses, oldest first.
pub fn of_worker(conn: &mut DbConn, worker_id: &str) -> QueryResult<Vec<PauseRow>> {
    wellbeing_pauses::table
        .filter(wellbeing_pauses::worker_id.eq(worker_id))
        .order((
            wellbeing_pauses::starts_on.asc(),
            wellbeing_pauses::id.asc(),
        ))
        .select(PauseRow::as_select())
        .load(conn)
}

/// Ends an open pause; 0 when it was ended already.
pub fn end(conn: &mut DbConn, id: &str, ended_on: NaiveDate, by: &str) -> QueryResult<usize> {
    diesel::update(
        wellbeing_pauses::table
            .filter(wellbeing_pauses::id.eq(id))
            .filter(wellbeing_pauses::ended_on.is_null()),
    )
    .set((
        wellbeing_pauses::ended_on.eq(ended_on),
        wellbeing_pauses::ended_by.eq(by),
    ))
    .execute(conn)
}
