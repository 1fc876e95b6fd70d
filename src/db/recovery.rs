//! Recovery plans, check-ins and cadences. Only `crate::recovery` uses this module.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{checkin_cadences, checkins, recovery_plan_sections, recovery_plans, workers};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = recovery_plans)]
pub struct PlanRow {
    pub worker_id: String,
    pub organisation_id: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = recovery_plan_sections)]
pub struct SectionRow {
    pub worker_id: String,
    pub section: String,
    pub key_id: String,
    pub content: Vec<u8>,
    pub shared: bool,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkin_cadences)]
pub struct CadenceRow {
    pub worker_id: String,
    pub organisation_id: String,
    pub every_days: i32,
    pub since: NaiveDate,
    pub agreed_by: String,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = checkins)]
pub struct CheckinRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub held_on: NaiveDate,
    pub with_supervisor: bool,
    pub wellbeing: i32,
    pub risk: String,
    pub call_requested: bool,
    pub key_id: String,
    pub actions: Option<Vec<u8>>,
    pub notes: Option<Vec<u8>>,
    pub actions_shared: bool,
    pub notes_shared: bool,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    /// The supervisor, for a check-in they recorded; absent when the worker did.
    pub recorded_by: Option<String>,
}

pub fn plan(conn: &mut DbConn, worker_id: &str) -> QueryResult<Option<PlanRow>> {
    recovery_plans::table
        .find(worker_id)
        .select(PlanRow::as_select())
        .first(conn)
        .optional()
}

pub fn sections(conn: &mut DbConn, worker_id: &str) -> QueryResult<Vec<SectionRow>> {
    recovery_plan_sections::table
        .filter(recovery_plan_sections::worker_id.eq(worker_id))
        .select(SectionRow::as_select())
        .load(conn)
}

pub fn insert_plan(conn: &mut DbConn, row: &PlanRow) -> QueryResult<usize> {
    diesel::insert_into(recovery_plans::table)
        .values(row)
        .execute(conn)
}

/// Moves the plan to the next version if it is still at `expected`.
pub fn bump_plan(
    conn: &mut DbConn,
    worker_id: &str,
    expected: i32,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        recovery_plans::table
            .filter(recovery_plans::worker_id.eq(worker_id))
            .filter(recovery_plans::version.eq(expected)),
    )
    .set((
        recovery_plans::version.eq(expected + 1),
        recovery_plans::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Replaces every section of a plan.
pub fn replace_sections(
    conn: &mut DbConn,
    worker_id: &str,
    rows: &[SectionRow],
) -> QueryResult<()> {
    diesel::delete(
        recovery_plan_sections::table.filter(recovery_plan_sections::worker_id.eq(worker_id)),
    )
    .execute(conn)?;
    for row in rows {
        diesel::insert_into(recovery_plan_sections::table)
            .values(row)
            .execute(conn)?;
    }
    Ok(())
}

pub fn cadence(conn: &mut DbConn, worker_id: &str) -> QueryResult<Option<CadenceRow>> {
    checkin_cadences::table
        .find(worker_id)
        .select(CadenceRow::as_select())
        .first(conn)
        .optional()
}

pub fn set_cadence(conn: &mut DbConn, row: &CadenceRow) -> QueryResult<usize> {
    diesel::delete(checkin_cadences::table.find(&row.worker_id)).execute(conn)?;
    diesel::insert_into(checkin_cadences::table)
        .values(row)
        .execute(conn)
}

pub fn insert_checkin(conn: &mut DbConn, row: &CheckinRow) -> QueryResult<usize> {
    diesel::insert_into(checkins::table)
        .values(row)
        .execute(conn)
}

pub fn find_checkin(conn: &mut DbConn, id: &str) -> QueryResult<Option<CheckinRow>> {
    checkins::table
        .find(id)
        .select(CheckinRow::as_select())
        .first(conn)
        .optional()
}

/// A worker's check-ins, latest first.
pub fn checkins_of(conn: &mut DbConn, worker_id: &str) -> QueryResult<Vec<CheckinRow>> {
    checkins::table
        .filter(checkins::worker_id.eq(worker_id))
        .order((checkins::held_on.desc(), checkins::id.desc()))
        .select(CheckinRow::as_select())
        .load(conn)
}

pub fn set_sharing(
    conn: &mut DbConn,
    id: &str,
    actions_shared: bool,
    notes_shared: bool,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(checkins::table.find(id))
        .set((
            checkins::actions_shared.eq(actions_shared),
            checkins::notes_shared.eq(notes_shared),
            checkins::updated_at.eq(now),
        ))
        .execute(conn)
}

/// (worker, check-ins held since `since`, latest day) for the workers of an organisation.
pub fn counts(
    conn: &mut DbConn,
    organisation_id: &str,
    since: NaiveDate,
) -> QueryResult<Vec<(String, i64, Option<NaiveDate>)>> {
    let recent: Vec<(String, i64)> = checkins::table
        .filter(checkins::organisation_id.eq(organisation_id))
        .filter(checkins::held_on.ge(since))
        .group_by(checkins::worker_id)
        .select((checkins::worker_id, diesel::dsl::count_star()))
        .load(conn)?;
    let latest: Vec<(String, Option<NaiveDate>)> = checkins::table
        .filter(checkins::organisation_id.eq(organisation_id))
        .group_by(checkins::worker_id)
        .select((checkins::worker_id, diesel::dsl::max(checkins::held_on)))
        .load(conn)?;
    Ok(latest
        .into_iter()
        .map(|(w, day)| {
            let n = recent.iter().find(|(r, _)| *r == w).map_or(0, |(_, n)| *n);
            (w, n, day)
        })
        .collect())
}

/// A worker who has not left: their start date, agreed cadence if any and latest check-in.
pub struct WorkerCadence {
    pub worker_id: String,
    pub start_date: NaiveDate,
    pub agreed: Option<CadenceRow>,
    pub latest: Option<NaiveDate>,
}

/// Every worker who has not left (of one organisation, or of all), with what their check-in
/// rhythm is read from: three queries whatever their number.
pub fn cadences_with_latest(
    conn: &mut DbConn,
    organisation_id: Option<&str>,
) -> QueryResult<Vec<WorkerCadence>> {
    let mut query = workers::table
        .filter(workers::status.ne("left"))
        .select((workers::user_id, workers::start_date))
        .into_boxed();
    if let Some(org) = organisation_id {
        query = query.filter(workers::organisation_id.eq(org.to_string()));
    }
    let current: Vec<(String, NaiveDate)> = query.load(conn)?;
    let ids: Vec<&String> = current.iter().map(|(w, _)| w).collect();
    let mut agreed: std::collections::HashMap<String, CadenceRow> = checkin_cadences::table
        .filter(checkin_cadences::worker_id.eq_any(&ids))
        .select(CadenceRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|c| (c.worker_id.clone(), c))
        .collect();
    let latest: std::collections::HashMap<String, Option<NaiveDate>> = checkins::table
        .filter(checkins::worker_id.eq_any(&ids))
        .group_by(checkins::worker_id)
        .select((checkins::worker_id, diesel::dsl::max(checkins::held_on)))
        .load::<(String, Option<NaiveDate>)>(conn)?
        .into_iter()
        .collect();
    Ok(current
        .into_iter()
        .map(|(worker_id, start_date)| WorkerCadence {
            agreed: agreed.remove(&worker_id),
            latest: latest.get(&worker_id).copied().flatten(),
            worker_id,
            start_date,
        })
        .collect())
}

/// Deletes everything of a worker's recovery data; answers the rows removed.
pub fn erase(conn: &mut DbConn, worker_id: &str) -> QueryResult<usize> {
    let mut n = diesel::delete(
        recovery_plan_sections::table.filter(recovery_plan_sections::worker_id.eq(worker_id)),
    )
    .execute(conn)?;
    n += diesel::delete(recovery_plans::table.find(worker_id)).execute(conn)?;
    n += diesel::delete(checkins::table.filter(checkins::worker_id.eq(worker_id))).execute(conn)?;
    n += diesel::delete(checkin_cadences::table.find(worker_id)).execute(conn)?;
    Ok(n)
}

/// Sections sealed under another key than `current`, a batch at a time.
pub fn sections_not_under(
    conn: &mut DbConn,
    current: &str,
    limit: i64,
) -> QueryResult<Vec<SectionRow>> {
    recovery_plan_sections::table
        .filter(recovery_plan_sections::key_id.ne(current))
        .limit(limit)
        .select(SectionRow::as_select())
        .load(conn)
}

pub fn reseal_section(conn: &mut DbConn, row: &SectionRow) -> QueryResult<usize> {
    diesel::update(recovery_plan_sections::table.find((&row.worker_id, &row.section)))
        .set((
            recovery_plan_sections::key_id.eq(&row.key_id),
            recovery_plan_sections::content.eq(&row.content),
        ))
        .execute(conn)
}

pub fn checkins_not_under(
    conn: &mut DbConn,
    current: &str,
    limit: i64,
) -> QueryResult<Vec<CheckinRow>> {
    checkins::table
        .filter(checkins::key_id.ne(current))
        .limit(limit)
        .select(CheckinRow::as_select())
        .load(conn)
}

pub fn reseal_checkin(conn: &mut DbConn, row: &CheckinRow) -> QueryResult<usize> {
    diesel::update(checkins::table.find(&row.id))
        .set((
            checkins::key_id.eq(&row.key_id),
            checkins::actions.eq(&row.actions),
            checkins::notes.eq(&row.notes),
        ))
        .execute(conn)
}
