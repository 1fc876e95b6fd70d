//! The module catalogue and training records.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{training_modules, training_records};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = training_modules)]
pub struct ModuleRow {
    pub id: String,
    pub organisation_id: String,
    pub code: String,
    pub code_key: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub typical_minutes: Option<i32>,
    pub validity_months: Option<i32>,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub mandatory: bool,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = training_modules, treat_none_as_null = true)]
pub struct ModuleChanges {
    pub code: String,
    pub code_key: String,
    pub title: String,
    pub description: String,
    pub category: String,
    pub typical_minutes: Option<i32>,
    pub validity_months: Option<i32>,
    pub active: bool,
    pub mandatory: bool,
}

pub fn insert_module(conn: &mut DbConn, row: &ModuleRow) -> QueryResult<usize> {
    diesel::insert_into(training_modules::table)
        .values(row)
        .execute(conn)
}

pub fn find_module(conn: &mut DbConn, id: &str) -> QueryResult<Option<ModuleRow>> {
    training_modules::table
        .find(id)
        .select(ModuleRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_modules(
    conn: &mut DbConn,
    organisation_id: &str,
    active: Option<bool>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<ModuleRow>> {
    let mut query = training_modules::table
        .filter(training_modules::organisation_id.eq(organisation_id.to_string()))
        .select(ModuleRow::as_select())
        .into_boxed();
    if let Some(active) = active {
        query = query.filter(training_modules::active.eq(active));
    }
    if let Some(after) = after {
        query = query.filter(training_modules::id.gt(after.to_string()));
    }
    query
        .order(training_modules::id.asc())
        .limit(limit)
        .load(conn)
}

pub fn update_module(
    conn: &mut DbConn,
    id: &str,
    expected: i32,
    changes: &ModuleChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        training_modules::table
            .filter(training_modules::id.eq(id))
            .filter(training_modules::version.eq(expected)),
    )
    .set((
        changes,
        training_modules::version.eq(expected + 1),
        training_modules::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn delete_module(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(training_modules::table.find(id)).execute(conn)
}

pub fn module_has_records(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        training_records::table.filter(training_records::module_id.eq(id)),
    ))
    .get_result(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = training_records)]
pub struct RecordRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub module_id: String,
    pub completed_on: NaiveDate,
    pub minutes: i32,
    pub provider: String,
    pub evidence: String,
    pub status: String,
    pub expires_on: Option<NaiveDate>,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub decision_reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, Default)]
pub struct RecordFilter {
    pub worker_id: Option<String>,
    pub status: Option<String>,
    /// Expiring on or before this day (and not yet expired, when `not_before` is set).
    pub expires_by: Option<NaiveDate>,
    pub expires_from: Option<NaiveDate>,
}

pub fn insert_record(conn: &mut DbConn, row: &RecordRow) -> QueryResult<usize> {
    diesel::insert_into(training_records::table)
        .values(row)
        .execute(conn)
}

pub fn find_record(conn: &mut DbConn, id: &str) -> QueryResult<Option<RecordRow>> {
    training_records::table
        .find(id)
        .select(RecordRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_records(
    conn: &mut DbConn,
    filter: &RecordFilter,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<RecordRow>> {
    let mut query = training_records::table
        .select(RecordRow::as_select())
        .into_boxed();
    if let Some(v) = &filter.worker_id {
        query = query.filter(training_records::worker_id.eq(v.clone()));
    }
    if let Some(v) = &filter.status {
        query = query.filter(training_records::status.eq(v.clone()));
    }
    if let Some(v) = filter.expires_by {
        query = query.filter(training_records::expires_on.le(v));
    }
    if let Some(v) = filter.expires_from {
        query = query.filter(training_records::expires_on.ge(v));
    }
    if let Some(after) = after {
        query = query.filter(training_records::id.gt(after.to_string()));
    }
    query
        .order(training_records::id.asc())
        .limit(limit)
        .load(conn)
}

/// The changes a worker may make to a logged record.
#[derive(Debug, AsChangeset)]
#[diesel(table_name = training_records, treat_none_as_null = true)]
pub struct RecordCorrection {
    pub module_id: String,
    pub completed_on: NaiveDate,
    pub minutes: i32,
    pub provider: String,
    pub evidence: String,
    pub expires_on: Option<NaiveDate>,
}

/// Corrects a record that is still `logged` at `expected` version.
pub fn correct_record(
    conn: &mut DbConn,
    id: &str,
    expected: i32,
    correction: &RecordCorrection,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        training_records::table
            .filter(training_records::id.eq(id))
            .filter(training_records::version.eq(expected))
            .filter(training_records::status.eq("logged")),
    )
    .set((
        correction,
        training_records::version.eq(expected + 1),
        training_records::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Moves a `logged` record to `status`; 0 rows when it is no longer logged.
pub fn decide_record(
    conn: &mut DbConn,
    id: &str,
    status: &str,
    by: Option<&str>,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        training_records::table
            .filter(training_records::id.eq(id))
            .filter(training_records::status.eq("logged")),
    )
    .set((
        training_records::status.eq(status),
        training_records::decided_by.eq(by),
        training_records::decided_at.eq(now),
        training_records::decision_reason.eq(reason),
        training_records::version.eq(training_records::version + 1),
        training_records::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Records of a module, for recomputing expiry when its validity changes.
pub fn records_of_module(
    conn: &mut DbConn,
    module_id: &str,
) -> QueryResult<Vec<(String, NaiveDate)>> {
    training_records::table
        .filter(training_records::module_id.eq(module_id))
        .select((training_records::id, training_records::completed_on))
        .load(conn)
}

pub fn set_expiry(
    conn: &mut DbConn,
    id: &str,
    expires_on: Option<NaiveDate>,
) -> QueryResult<usize> {
    diesel::update(training_records::table.find(id))
        .set(training_records::expires_on.eq(expires_on))
        .execute(conn)
}

/// A worker's verified or logged records of several modules (what eligibility weighs).
pub fn standing_records(
    conn: &mut DbConn,
    worker_id: &str,
    module_ids: &[String],
) -> QueryResult<Vec<RecordRow>> {
    training_records::table
        .filter(training_records::worker_id.eq(worker_id))
        .filter(training_records::module_id.eq_any(module_ids))
        .filter(training_records::status.eq_any(["logged", "verified"]))
        .order(training_records::completed_on.asc())
        .select(RecordRow::as_select())
        .load(conn)
}

/// (worker, module, expiry) of the verified records of several workers in several modules.
pub fn verified_expiries(
    conn: &mut DbConn,
    worker_ids: &[String],
    module_ids: &[String],
) -> QueryResult<Vec<(String, String, Option<NaiveDate>)>> {
    training_records::table
        .filter(training_records::worker_id.eq_any(worker_ids))
        .filter(training_records::module_id.eq_any(module_ids))
        .filter(training_records::status.eq("verified"))
        .select((
            training_records::worker_id,
            training_records::module_id,
            training_records::expires_on,
        ))
        .load(conn)
}

/// The active statutory and mandatory modules of several organisations.
pub fn mandatory_modules(
    conn: &mut DbConn,
    organisation_ids: &[String],
) -> QueryResult<Vec<ModuleRow>> {
    training_modules::table
        .filter(training_modules::organisation_id.eq_any(organisation_ids))
        .filter(training_modules::mandatory.eq(true))
        .filter(training_modules::active.eq(true))
        .order(training_modules::code_key.asc())
        .select(ModuleRow::as_select())
        .load(conn)
}

/// Codes and titles of modules, by id.
pub fn module_titles(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, (String, String)>> {
    Ok(training_modules::table
        .filter(training_modules::id.eq_any(ids))
        .select((
            training_modules::id,
            training_modules::code,
            training_modules::title,
        ))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, title)| (id, (code, title)))
        .collect())
}
