//! Salary bands, their dated pay tables, workers' salary history and appraisals.

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;

use super::DbConn;
use super::schema::{
    appraisals, pay_points, pay_table_corrections, pay_tables, salary_assignments, salary_bands,
    salary_corrections, workers,
};

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = salary_bands)]
pub struct BandRow {
    pub id: String,
    pub organisation_id: Option<String>,
    pub code: String,
    pub code_key: String,
    pub name: String,
    pub currency: String,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = pay_tables)]
pub struct PayTableRow {
    pub id: String,
    pub band_id: String,
    pub effective_from: NaiveDate,
    pub source: String,
    pub created_by: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = pay_points)]
pub struct PayPointRow {
    pub pay_table_id: String,
    pub point: i32,
    pub annual_minor: i64,
    pub years_to_next: Option<i32>,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = salary_assignments)]
pub struct AssignmentRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub band_id: String,
    pub pay_table_id: String,
    pub point: i32,
    pub annual_minor: i64,
    pub currency: String,
    pub effective_from: NaiveDate,
    pub reason: String,
    pub note: String,
    pub approved_by: String,
    pub progression_id: Option<String>,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = pay_table_corrections)]
pub struct TableCorrectionRow {
    pub id: String,
    pub pay_table_id: String,
    pub note: String,
    pub previous_points: String,
    pub corrected_by: String,
    pub created_at: NaiveDateTime,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = salary_corrections)]
pub struct SalaryCorrectionRow {
    pub id: String,
    pub assignment_id: String,
    pub correction_id: String,
    pub previous_annual_minor: i64,
    pub annual_minor: i64,
}

#[derive(Clone, Debug, Queryable, Selectable, Insertable)]
#[diesel(table_name = appraisals)]
pub struct AppraisalRow {
    pub id: String,
    pub worker_id: String,
    pub organisation_id: String,
    pub held_on: NaiveDate,
    pub appraiser_id: String,
    pub recorded_by: String,
    pub created_at: NaiveDateTime,
}

pub fn insert_band(conn: &mut DbConn, row: &BandRow) -> QueryResult<usize> {
    diesel::insert_into(salary_bands::table)
        .values(row)
        .execute(conn)
}

pub fn find_band(conn: &mut DbConn, id: &str) -> QueryResult<Option<BandRow>> {
    salary_bands::table
        .find(id)
        .select(BandRow::as_select())
        .first(conn)
        .optional()
}

/// National bands and, given an organisation, its own.
pub fn list_bands(conn: &mut DbConn, organisation_id: Option<&str>) -> QueryResult<Vec<BandRow>> {
    let mut query = salary_bands::table
        .select(BandRow::as_select())
        .into_boxed();
    query = match organisation_id {
        Some(org) => query.filter(
            salary_bands::organisation_id
                .is_null()
                .or(salary_bands::organisation_id.eq(org.to_string())),
        ),
        None => query.filter(salary_bands::organisation_id.is_null()),
    };
    query.order(salary_bands::code_key.asc()).load(conn)
}

pub fn insert_table(
    conn: &mut DbConn,
    table: &PayTableRow,
    points: &[PayPointRow],
) -> QueryResult<()> {
    diesel::insert_into(pay_tables::table)
        .values(table)
        .execute(conn)?;
    // One row at a time: a multi-row VALUES is not available over both backends.
    for point in points {
        diesel::insert_into(pay_points::table)
            .values(point)
            .execute(conn)?;
    }
    Ok(())
}

/// The pay tables of several bands, oldest first.
pub fn tables_of(conn: &mut DbConn, band_ids: &[String]) -> QueryResult<Vec<PayTableRow>> {
    pay_tables::table
        .filter(pay_tables::band_id.eq_any(band_ids))
        .order((pay_tables::band_id.asc(), pay_tables::effective_from.asc()))
        .select(PayTableRow::as_select())
        .load(conn)
}

pub fn points_of(conn: &mut DbConn, table_ids: &[String]) -> QueryResult<Vec<PayPointRow>> {
    pay_points::table
        .filter(pay_points::pay_table_id.eq_any(table_ids))
        .order((pay_points::pay_table_id.asc(), pay_points::point.asc()))
        .select(PayPointRow::as_select())
        .load(conn)
}

/// The table of a band in force on `day`.
pub fn table_in_force(
    conn: &mut DbConn,
    band_id: &str,
    day: NaiveDate,
) -> QueryResult<Option<PayTableRow>> {
    pay_tables::table
        .filter(pay_tables::band_id.eq(band_id))
        .filter(pay_tables::effective_from.le(day))
        .order(pay_tables::effective_from.desc())
        .select(PayTableRow::as_select())
        .first(conn)
        .optional()
}

pub fn latest_table(conn: &mut DbConn, band_id: &str) -> QueryResult<Option<PayTableRow>> {
    pay_tables::table
        .filter(pay_tables::band_id.eq(band_id))
        .order(pay_tables::effective_from.desc())
        .select(PayTableRow::as_select())
        .first(conn)
        .optional()
}

pub fn find_point(
    conn: &mut DbConn,
    table_id: &str,
    point: i32,
) -> QueryResult<Option<PayPointRow>> {
    pay_points::table
        .find((table_id, point))
        .select(PayPointRow::as_select())
        .first(conn)
        .optional()
}

pub fn insert_assignment(conn: &mut DbConn, row: &AssignmentRow) -> QueryResult<usize> {
    diesel::insert_into(salary_assignments::table)
        .values(row)
        .execute(conn)
}

/// A worker's salary history, oldest first.
pub fn assignments(conn: &mut DbConn, worker_id: &str) -> QueryResult<Vec<AssignmentRow>> {
    salary_assignments::table
        .filter(salary_assignments::worker_id.eq(worker_id))
        .order(salary_assignments::effective_from.asc())
        .select(AssignmentRow::as_select())
        .load(conn)
}

/// The whole salary history of every worker who was ever on `band_id`, by worker then date.
pub fn histories_touching_band(
    conn: &mut DbConn,
    band_id: &str,
) -> QueryResult<Vec<AssignmentRow>> {
    let on_band: Vec<String> = salary_assignments::table
        .filter(salary_assignments::band_id.eq(band_id))
        .select(salary_assignments::worker_id)
        .distinct()
        .load(conn)?;
    salary_assignments::table
        .filter(salary_assignments::worker_id.eq_any(on_band))
        .order((
            salary_assignments::worker_id.asc(),
            salary_assignments::effective_from.asc(),
        ))
        .select(AssignmentRow::as_select())
        .load(conn)
}

/// The salary history of every worker who has not left, of one organisation or of all, by
/// worker then date.
pub fn histories_of_current_workers(
    conn: &mut DbConn,
    organisation_id: Option<&str>,
) -> QueryResult<Vec<AssignmentRow>> {
    let current = workers::table
        .filter(workers::status.ne("left"))
        .select(workers::user_id);
    let mut query = salary_assignments::table
        .filter(salary_assignments::worker_id.eq_any(current))
        .select(AssignmentRow::as_select())
        .into_boxed();
    if let Some(org) = organisation_id {
        query = query.filter(salary_assignments::organisation_id.eq(org.to_string()));
    }
    query
        .order((
            salary_assignments::worker_id.asc(),
            salary_assignments::effective_from.asc(),
        ))
        .load(conn)
}

/// Re-prices a row onto another table of its band (a pay award from before its date).
pub fn reprice(
    conn: &mut DbConn,
    id: &str,
    table_id: &str,
    annual_minor: i64,
) -> QueryResult<usize> {
    diesel::update(salary_assignments::table.find(id))
        .set((
            salary_assignments::pay_table_id.eq(table_id),
            salary_assignments::annual_minor.eq(annual_minor),
        ))
        .execute(conn)
}

pub fn find_table(conn: &mut DbConn, id: &str) -> QueryResult<Option<PayTableRow>> {
    pay_tables::table
        .find(id)
        .select(PayTableRow::as_select())
        .first(conn)
        .optional()
}

/// Rewrites a table's points in place (a correction) and, where given, its source.
pub fn rewrite_points(
    conn: &mut DbConn,
    table_id: &str,
    points: &[PayPointRow],
    source: Option<&str>,
) -> QueryResult<()> {
    for p in points {
        diesel::update(pay_points::table.find((table_id, p.point)))
            .set((
                pay_points::annual_minor.eq(p.annual_minor),
                pay_points::years_to_next.eq(p.years_to_next),
            ))
            .execute(conn)?;
    }
    if let Some(source) = source {
        diesel::update(pay_tables::table.find(table_id))
            .set(pay_tables::source.eq(source))
            .execute(conn)?;
    }
    Ok(())
}

/// Every salary row priced by a table, by worker then date.
pub fn priced_by(conn: &mut DbConn, table_id: &str) -> QueryResult<Vec<AssignmentRow>> {
    salary_assignments::table
        .filter(salary_assignments::pay_table_id.eq(table_id))
        .order((
            salary_assignments::worker_id.asc(),
            salary_assignments::effective_from.asc(),
        ))
        .select(AssignmentRow::as_select())
        .load(conn)
}

/// Records a correction with the amount each repriced row held before, and reprices them.
pub fn insert_correction(
    conn: &mut DbConn,
    correction: &TableCorrectionRow,
    rows: &[SalaryCorrectionRow],
) -> QueryResult<()> {
    diesel::insert_into(pay_table_corrections::table)
        .values(correction)
        .execute(conn)?;
    for row in rows {
        diesel::insert_into(salary_corrections::table)
            .values(row)
            .execute(conn)?;
        diesel::update(salary_assignments::table.find(&row.assignment_id))
            .set(salary_assignments::annual_minor.eq(row.annual_minor))
            .execute(conn)?;
    }
    Ok(())
}

/// The corrections that repriced any of these salary rows, oldest first, with when and why.
pub fn corrections_of(
    conn: &mut DbConn,
    assignment_ids: &[String],
) -> QueryResult<Vec<(SalaryCorrectionRow, TableCorrectionRow)>> {
    salary_corrections::table
        .inner_join(
            pay_table_corrections::table
                .on(pay_table_corrections::id.eq(salary_corrections::correction_id)),
        )
        .filter(salary_corrections::assignment_id.eq_any(assignment_ids))
        .order(pay_table_corrections::created_at.asc())
        .select((
            SalaryCorrectionRow::as_select(),
            TableCorrectionRow::as_select(),
        ))
        .load(conn)
}

/// The corrections of several tables, oldest first.
pub fn table_corrections(
    conn: &mut DbConn,
    table_ids: &[String],
) -> QueryResult<Vec<TableCorrectionRow>> {
    pay_table_corrections::table
        .filter(pay_table_corrections::pay_table_id.eq_any(table_ids))
        .order(pay_table_corrections::created_at.asc())
        .select(TableCorrectionRow::as_select())
        .load(conn)
}

pub fn insert_appraisal(conn: &mut DbConn, row: &AppraisalRow) -> QueryResult<usize> {
    diesel::insert_into(appraisals::table)
        .values(row)
        .execute(conn)
}

pub fn appraisals(conn: &mut DbConn, worker_id: &str) -> QueryResult<Vec<AppraisalRow>> {
    appraisals::table
        .filter(appraisals::worker_id.eq(worker_id))
        .order((appraisals::held_on.desc(), appraisals::id.desc()))
        .select(AppraisalRow::as_select())
        .load(conn)
}

/// The latest appraisal day of each of several workers.
pub fn latest_appraisals(
    conn: &mut DbConn,
    worker_ids: &[String],
) -> QueryResult<Vec<(String, Option<NaiveDate>)>> {
    appraisals::table
        .filter(appraisals::worker_id.eq_any(worker_ids))
        .group_by(appraisals::worker_id)
        .select((appraisals::worker_id, diesel::dsl::max(appraisals::held_on)))
        .load(conn)
}
