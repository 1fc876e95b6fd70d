//! The competency framework, assessors, sign-offs and their history, observations.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{
    competencies, competency_assessors, competency_signoffs, observations, signoff_events,
};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = competencies)]
pub struct CompetencyRow {
    pub id: String,
    pub organisation_id: String,
    pub code: String,
    pub code_key: String,
    pub domain: String,
    pub title: String,
    pub description: String,
    pub observations_required: i32,
    pub active: bool,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = competencies)]
pub struct CompetencyChanges {
    pub code: String,
    pub code_key: String,
    pub domain: String,
    pub title: String,
    pub description: String,
    pub observations_required: i32,
    pub active: bool,
}

pub fn insert(conn: &mut DbConn, row: &CompetencyRow) -> QueryResult<usize> {
    diesel::insert_into(competencies::table)
        .values(row)
        .execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<CompetencyRow>> {
    competencies::table
        .find(id)
        .select(CompetencyRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(
    conn: &mut DbConn,
    organisation_id: &str,
    active: Option<bool>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<CompetencyRow>> {
    let mut query = competencies::table
        .filter(competencies::organisation_id.eq(organisation_id.to_string()))
        .select(CompetencyRow::as_select())
        .into_boxed();
    if let Some(active) = active {
        query = query.filter(competencies::active.eq(active));
    }
    if let Some(after) = after {
        query = query.filter(competencies::id.gt(after.to_string()));
    }
    query.order(competencies::id.asc()).limit(limit).load(conn)
}

pub fn update(
    conn: &mut DbConn,
    id: &str,
    expected: i32,
    changes: &CompetencyChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        competencies::table
            .filter(competencies::id.eq(id))
            .filter(competencies::version.eq(expected)),
    )
    .set((
        changes,
        competencies::version.eq(expected + 1),
        competencies::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn is_used(conn: &mut DbConn, id: &str) -> QueryResult<bool> {
    let signoffs: bool = diesel::select(diesel::dsl::exists(
        competency_signoffs::table.filter(competency_signoffs::competency_id.eq(id)),
    ))
    .get_result(conn)?;
    let observed: bool = diesel::select(diesel::dsl::exists(
        observations::table.filter(observations::competency_id.eq(id)),
    ))
    .get_result(conn)?;
    Ok(signoffs || observed)
}

pub fn delete(conn: &mut DbConn, id: &str) -> QueryResult<usize> {
    diesel::delete(competency_assessors::table.filter(competency_assessors::competency_id.eq(id)))
        .execute(conn)?;
    diesel::delete(competencies::table.find(id)).execute(conn)
}

/// Codes and titles of competencies, by id.
pub fn titles(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, (String, String)>> {
    Ok(competencies::table
        .filter(competencies::id.eq_any(ids))
        .select((competencies::id, competencies::code, competencies::title))
        .load::<(String, String, String)>(conn)?
        .into_iter()
        .map(|(id, code, title)| (id, (code, title)))
        .collect())
}

/// The competencies a user assesses.
pub fn assessed_by(conn: &mut DbConn, user_id: &str) -> QueryResult<Vec<String>> {
    competency_assessors::table
        .filter(competency_assessors::user_id.eq(user_id))
        .select(competency_assessors::competency_id)
        .load(conn)
}

pub fn is_assessor(conn: &mut DbConn, competency_id: &str, user_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        competency_assessors::table
            .filter(competency_assessors::competency_id.eq(competency_id))
            .filter(competency_assessors::user_id.eq(user_id)),
    ))
    .get_result(conn)
}

pub fn assessors(conn: &mut DbConn, competency_id: &str) -> QueryResult<Vec<String>> {
    competency_assessors::table
        .filter(competency_assessors::competency_id.eq(competency_id))
        .select(competency_assessors::user_id)
        .order(competency_assessors::user_id.asc())
        .load(conn)
}

pub fn grant_assessor(
    conn: &mut DbConn,
    competency_id: &str,
    user_id: &str,
    by: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::insert_into(competency_assessors::table)
        .values((
            competency_assessors::competency_id.eq(competency_id),
            competency_assessors::user_id.eq(user_id),
            competency_assessors::granted_by.eq(by),
            competency_assessors::granted_at.eq(now),
        ))
        .execute(conn)
}

pub fn revoke_assessor(
    conn: &mut DbConn,
    competency_id: &str,
    user_id: &str,
) -> QueryResult<usize> {
    diesel::delete(
        competency_assessors::table
            .filter(competency_assessors::competency_id.eq(competency_id))
            .filter(competency_assessors::user_id.eq(user_id)),
    )
    .execute(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = competency_signoffs)]
pub struct SignoffRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub competency_id: String,
    pub status: String,
    pub evidence: String,
    pub decided_by: Option<String>,
    pub decided_at: Option<NaiveDateTime>,
    pub reason: Option<String>,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

pub fn insert_signoff(conn: &mut DbConn, row: &SignoffRow) -> QueryResult<usize> {
    diesel::insert_into(competency_signoffs::table)
        .values(row)
        .execute(conn)
}

pub fn find_signoff(conn: &mut DbConn, id: &str) -> QueryResult<Option<SignoffRow>> {
    competency_signoffs::table
        .find(id)
        .select(SignoffRow::as_select())
        .first(conn)
        .optional()
}

/// A worker's sign-offs of a competency that are open or standing.
pub fn current_signoff(
    conn: &mut DbConn,
    worker_id: &str,
    competency_id: &str,
) -> QueryResult<Option<SignoffRow>> {
    competency_signoffs::table
        .filter(competency_signoffs::worker_id.eq(worker_id))
        .filter(competency_signoffs::competency_id.eq(competency_id))
        .filter(competency_signoffs::status.eq_any(["requested", "signed_off"]))
        .select(SignoffRow::as_select())
        .first(conn)
        .optional()
}

pub fn list_signoffs(
    conn: &mut DbConn,
    worker_id: &str,
    status: Option<&str>,
    after: Option<&str>,
    limit: i64,
) -> QueryResult<Vec<SignoffRow>> {
    let mut query = competency_signoffs::table
        .filter(competency_signoffs::worker_id.eq(worker_id.to_string()))
        .select(SignoffRow::as_select())
        .into_boxed();
    if let Some(status) = status {
        query = query.filter(competency_signoffs::status.eq(status.to_string()));
    }
    if let Some(after) = after {
        query = query.filter(competency_signoffs::id.gt(after.to_string()));
    }
    query
        .order(competency_signoffs::id.asc())
        .limit(limit)
        .load(conn)
}

/// Moves a sign-off from `from` to `to`; 0 rows when it is no longer in `from`.
pub fn transition(
    conn: &mut DbConn,
    id: &str,
    from: &str,
    to: &str,
    by: &str,
    reason: Option<&str>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        competency_signoffs::table
            .filter(competency_signoffs::id.eq(id))
            .filter(competency_signoffs::status.eq(from)),
    )
    .set((
        competency_signoffs::status.eq(to),
        competency_signoffs::decided_by.eq(by),
        competency_signoffs::decided_at.eq(now),
        competency_signoffs::reason.eq(reason),
        competency_signoffs::version.eq(competency_signoffs::version + 1),
        competency_signoffs::updated_at.eq(now),
    ))
    .execute(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = signoff_events)]
pub struct SignoffEventRow {
    pub id: String,
    pub signoff_id: String,
    pub occurred_at: NaiveDateTime,
    pub actor_id: String,
    pub action: String,
    pub note: Option<String>,
}

pub fn insert_event(conn: &mut DbConn, row: &SignoffEventRow) -> QueryResult<usize> {
    diesel::insert_into(signoff_events::table)
        .values(row)
        .execute(conn)
}

pub fn events(conn: &mut DbConn, signoff_id: &str) -> QueryResult<Vec<SignoffEventRow>> {
    signoff_events::table
        .filter(signoff_events::signoff_id.eq(signoff_id))
        .order(signoff_events::id.asc())
        .select(SignoffEventRow::as_select())
        .load(conn)
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = observations)]
pub struct ObservationRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub competency_id: String,
    pub observer_id: String,
    pub observed_on: NaiveDate,
    pub outcome: String,
    pub note: String,
    pub created_at: NaiveDateTime,
    /// Set aside by a revocation: kept, but no longer counted.
    pub superseded_at: Option<NaiveDateTime>,
}

/// Sets aside the observations recorded so far of a worker's competency.
pub fn supersede_observations(
    conn: &mut DbConn,
    worker_id: &str,
    competency_id: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        observations::table
            .filter(observations::worker_id.eq(worker_id))
            .filter(observations::competency_id.eq(competency_id))
            .filter(observations::superseded_at.is_null()),
    )
    .set(observations::superseded_at.eq(now))
    .execute(conn)
}

pub fn insert_observation(conn: &mut DbConn, row: &ObservationRow) -> QueryResult<usize> {
    diesel::insert_into(observations::table)
        .values(row)
        .execute(conn)
}

pub fn list_observations(
    conn: &mut DbConn,
    worker_id: &str,
    competency_id: Option<&str>,
) -> QueryResult<Vec<ObservationRow>> {
    let mut query = observations::table
        .filter(observations::worker_id.eq(worker_id.to_string()))
        .select(ObservationRow::as_select())
        .into_boxed();
    if let Some(c) = competency_id {
        query = query.filter(observations::competency_id.eq(c.to_string()));
    }
    query.order(observations::id.asc()).load(conn)
}

/// Observations of a worker in a competency judged competent.
pub fn competent_observations(
    conn: &mut DbConn,
    worker_id: &str,
    competency_id: &str,
) -> QueryResult<i64> {
    observations::table
        .filter(observations::worker_id.eq(worker_id))
        .filter(observations::competency_id.eq(competency_id))
        .filter(observations::outcome.eq("competent"))
        .filter(observations::superseded_at.is_null())
        .count()
        .get_result(conn)
}

/// The history of several sign-offs in one query, oldest first within each.
pub fn events_of(conn: &mut DbConn, signoff_ids: &[String]) -> QueryResult<Vec<SignoffEventRow>> {
    if signoff_ids.is_empty() {
        return Ok(vec![]);
    }
    signoff_events::table
        .filter(signoff_events::signoff_id.eq_any(signoff_ids))
        .order(signoff_events::id.asc())
        .select(SignoffEventRow::as_select())
        .load(conn)
}

/// (competency, assessor) pairs of several competencies in one query.
pub fn assessors_of(
    conn: &mut DbConn,
    competency_ids: &[String],
) -> QueryResult<Vec<(String, String)>> {
    if competency_ids.is_empty() {
        return Ok(vec![]);
    }
    competency_assessors::table
        .filter(competency_assessors::competency_id.eq_any(competency_ids))
        .order((
            competency_assessors::competency_id.asc(),
            competency_assessors::user_id.asc(),
        ))
        .select((
            competency_assessors::competency_id,
            competency_assessors::user_id,
        ))
        .load(conn)
}

/// A worker's sign-offs of several competencies, oldest first.
pub fn signoffs_of(
    conn: &mut DbConn,
    worker_id: &str,
    competency_ids: &[String],
) -> QueryResult<Vec<SignoffRow>> {
    competency_signoffs::table
        .filter(competency_signoffs::worker_id.eq(worker_id))
        .filter(competency_signoffs::competency_id.eq_any(competency_ids))
        .order((
            competency_signoffs::created_at.asc(),
            competency_signoffs::id.asc(),
        ))
        .select(SignoffRow::as_select())
        .load(conn)
}

/// Competent observations of a worker per competency, for several competencies.
pub fn competent_counts(
    conn: &mut DbConn,
    worker_id: &str,
    competency_ids: &[String],
) -> QueryResult<Vec<(String, i64)>> {
    observations::table
        .filter(observations::worker_id.eq(worker_id))
        .filter(observations::competency_id.eq_any(competency_ids))
        .filter(observations::outcome.eq("competent"))
        .filter(observations::superseded_at.is_null())
        .group_by(observations::competency_id)
        .select((observations::competency_id, diesel::dsl::count_star()))
        .load(conn)
}
