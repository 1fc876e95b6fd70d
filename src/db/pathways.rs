//! Pathways, their stages and each stage's required modules and competencies; workers'
//! stage history.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{
    competencies, pathway_stages, pathways, stage_competencies, stage_history, stage_modules,
    training_modules,
};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = pathways)]
pub struct PathwayRow {
    pub id: String,
    pub organisation_id: String,
    pub name: String,
    pub name_key: String,
    pub description: String,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = pathway_stages)]
pub struct StageRow {
    pub id: String,
    pub pathway_id: String,
    pub position: i32,
    pub name: String,
    pub band_id: Option<String>,
    pub min_months_in_previous: i32,
    pub supervision_minutes: i32,
    pub version: i32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

#[derive(Debug, AsChangeset)]
#[diesel(table_name = pathway_stages, treat_none_as_null = true)]
pub struct StageChanges {
    pub name: String,
    pub band_id: Option<String>,
    pub min_months_in_previous: i32,
    pub supervision_minutes: i32,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = stage_history)]
pub struct StageHistoryRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub pathway_id: String,
    pub stage_id: String,
    pub stage_name: String,
    pub started_on: NaiveDate,
    pub ended_on: Option<NaiveDate>,
    pub reason: String,
    pub progression_id: Option<String>,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

/// A module or competency a stage requires (observations only for competencies).
#[derive(Clone, Debug, Queryable)]
pub struct RequiredRow {
    pub stage_id: String,
    pub id: String,
    pub code: String,
    pub title: String,
    pub observations_required: i32,
}

pub fn insert(conn: &mut DbConn, row: &PathwayRow) -> QueryResult<usize> {
    diesel::insert_into(pathways::table)
        .values(row)
        .execute(conn)
}

pub fn find(conn: &mut DbConn, id: &str) -> QueryResult<Option<PathwayRow>> {
    pathways::table
        .find(id)
        .select(PathwayRow::as_select())
        .first(conn)
        .optional()
}

pub fn list(conn: &mut DbConn, organisation_id: &str) -> QueryResult<Vec<PathwayRow>> {
    pathways::table
        .filter(pathways::organisation_id.eq(organisation_id))
        .order(pathways::name_key.asc())
        .select(PathwayRow::as_select())
        .load(conn)
}

pub fn update(
    conn: &mut DbConn,
    id: &str,
    expected: i32,
    name: &str,
    name_key: &str,
    description: &str,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        pathways::table
            .filter(pathways::id.eq(id))
            .filter(pathways::version.eq(expected)),
    )
    .set((
        pathways::name.eq(name),
        pathways::name_key.eq(name_key),
        pathways::description.eq(description),
        pathways::version.eq(expected + 1),
        pathways::updated_at.eq(now),
    ))
    .execute(conn)
}

pub fn insert_stage(conn: &mut DbConn, row: &StageRow) -> QueryResult<usize> {
    diesel::insert_into(pathway_stages::table)
        .values(row)
        .execute(conn)
}

pub fn find_stage(conn: &mut DbConn, id: &str) -> QueryResult<Option<StageRow>> {
    pathway_stages::table
        .find(id)
        .select(StageRow::as_select())
        .first(conn)
        .optional()
}

/// The stages of several pathways, in order.
pub fn stages_of(conn: &mut DbConn, pathway_ids: &[String]) -> QueryResult<Vec<StageRow>> {
    pathway_stages::table
        .filter(pathway_stages::pathway_id.eq_any(pathway_ids))
        .order((
            pathway_stages::pathway_id.asc(),
            pathway_stages::position.asc(),
        ))
        .select(StageRow::as_select())
        .load(conn)
}

pub fn update_stage(
    conn: &mut DbConn,
    id: &str,
    expected: i32,
    changes: &StageChanges,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    diesel::update(
        pathway_stages::table
            .filter(pathway_stages::id.eq(id))
            .filter(pathway_stages::version.eq(expected)),
    )
    .set((
        changes,
        pathway_stages::version.eq(expected + 1),
        pathway_stages::updated_at.eq(now),
    ))
    .execute(conn)
}

/// Replaces a stage's required modules and competencies.
pub fn set_requirements(
    conn: &mut DbConn,
    stage_id: &str,
    module_ids: &[String],
    competency_ids: &[String],
) -> QueryResult<()> {
    diesel::delete(stage_modules::table.filter(stage_modules::stage_id.eq(stage_id)))
        .execute(conn)?;
    diesel::delete(stage_competencies::table.filter(stage_competencies::stage_id.eq(stage_id)))
        .execute(conn)?;
    // One row at a time: a multi-row VALUES is not available over both backends.
    for module in module_ids {
        diesel::insert_into(stage_modules::table)
            .values((
                stage_modules::stage_id.eq(stage_id),
                stage_modules::module_id.eq(module),
            ))
            .execute(conn)?;
    }
    for competency in competency_ids {
        diesel::insert_into(stage_competencies::table)
            .values((
                stage_competencies::stage_id.eq(stage_id),
                stage_competencies::competency_id.eq(competency),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// The modules several stages require, by code.
pub fn required_modules(conn: &mut DbConn, stage_ids: &[String]) -> QueryResult<Vec<RequiredRow>> {
    stage_modules::table
        .inner_join(training_modules::table)
        .filter(stage_modules::stage_id.eq_any(stage_ids))
        .order(training_modules::code_key.asc())
        .select((
            stage_modules::stage_id,
            training_modules::id,
            training_modules::code,
            training_modules::title,
            0.into_sql::<diesel::sql_types::Integer>(),
        ))
        .load(conn)
}

/// The competencies several stages require, by code.
pub fn required_competencies(
    conn: &mut DbConn,
    stage_ids: &[String],
) -> QueryResult<Vec<RequiredRow>> {
    stage_competencies::table
        .inner_join(competencies::table)
        .filter(stage_competencies::stage_id.eq_any(stage_ids))
        .order(competencies::code_key.asc())
        .select((
            stage_competencies::stage_id,
            competencies::id,
            competencies::code,
            competencies::title,
            competencies::observations_required,
        ))
        .load(conn)
}

/// Whether any worker is or was ever on the stage.
pub fn stage_is_used(conn: &mut DbConn, stage_id: &str) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        stage_history::table.filter(stage_history::stage_id.eq(stage_id)),
    ))
    .get_result(conn)
}

pub fn insert_history(conn: &mut DbConn, row: &StageHistoryRow) -> QueryResult<usize> {
    diesel::insert_into(stage_history::table)
        .values(row)
        .execute(conn)
}

/// The worker's current stage (the open history row).
pub fn current_stage(conn: &mut DbConn, worker_id: &str) -> QueryResult<Option<StageHistoryRow>> {
    stage_history::table
        .filter(stage_history::worker_id.eq(worker_id))
        .filter(stage_history::ended_on.is_null())
        .select(StageHistoryRow::as_select())
        .first(conn)
        .optional()
}

/// Closes the open row of `worker_id` on `ended_on` (the next stage's first day); 0 when
/// `expected` is no longer the open row.
pub fn close_current(
    conn: &mut DbConn,
    worker_id: &str,
    expected: &str,
    ended_on: NaiveDate,
) -> QueryResult<usize> {
    diesel::update(
        stage_history::table
            .filter(stage_history::id.eq(expected))
            .filter(stage_history::worker_id.eq(worker_id))
            .filter(stage_history::ended_on.is_null()),
    )
    .set(stage_history::ended_on.eq(ended_on))
    .execute(conn)
}

pub fn history(conn: &mut DbConn, worker_id: &str) -> QueryResult<Vec<StageHistoryRow>> {
    stage_history::table
        .filter(stage_history::worker_id.eq(worker_id))
        .order((stage_history::started_on.asc(), stage_history::id.asc()))
        .select(StageHistoryRow::as_select())
        .load(conn)
}

/// Corrects the open row in place (a placement entered with the wrong stage or day).
pub fn correct_current(
    conn: &mut DbConn,
    id: &str,
    stage: &StageRow,
    started_on: NaiveDate,
) -> QueryResult<usize> {
    diesel::update(
        stage_history::table
            .filter(stage_history::id.eq(id))
            .filter(stage_history::ended_on.is_null()),
    )
    .set((
        stage_history::pathway_id.eq(&stage.pathway_id),
        stage_history::stage_id.eq(&stage.id),
        stage_history::stage_name.eq(&stage.name),
        stage_history::started_on.eq(started_on),
    ))
    .execute(conn)
}

/// Stage names, by id.
pub fn stage_names(
    conn: &mut DbConn,
    ids: &[String],
) -> QueryResult<std::collections::HashMap<String, String>> {
    Ok(pathway_stages::table
        .filter(pathway_stages::id.eq_any(ids))
        .select((pathway_stages::id, pathway_stages::name))
        .load::<(String, String)>(conn)?
        .into_iter()
        .collect())
}
