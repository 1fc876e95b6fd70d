//! Correcting a pay table that was entered wrong (a typo in an amount or in the years to the
//! next point). Unlike a pay award, a correction changes the past: the figures were never
//! right, so every salary period the table priced takes the corrected amount from its own
//! date. Nothing is lost: the correction keeps the figures it replaced, and each repriced
//! period lists the amount it held before, so the salary history reads as what happened.
//! A preview answers whom a correction would change before it is made.

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{PayPoint, PayTable, PointInput};
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::db::salary::{
    AssignmentRow, BandRow, PayPointRow, PayTableRow, SalaryCorrectionRow, TableCorrectionRow,
};
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::UserId;
use crate::validation;

/// A correction as a table shows it: when, by whom, why, and the figures it replaced.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TableCorrection {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub pay_table_id: String,
    pub corrected_at: DateTime<Utc>,
    pub corrected_by: UserId,
    pub corrected_by_name: String,
    pub note: String,
    /// The points as they were before this correction.
    pub previous_points: Vec<PayPoint>,
}

/// A salary period whose amount the correction changes.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct PeriodChange {
    pub worker_id: UserId,
    pub worker_name: String,
    pub effective_from: NaiveDate,
    pub point: i32,
    pub currency: String,
    pub annual_minor_before: i64,
    pub annual_minor_after: i64,
}

/// A worker whose next pay step moves because the years at their point change.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct StepChange {
    pub worker_id: UserId,
    pub worker_name: String,
    pub point: i32,
    pub years_to_next_before: Option<i32>,
    pub years_to_next_after: Option<i32>,
}

/// Whom a correction changes.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct Changes {
    /// Distinct workers among the periods and steps below.
    pub workers_changed: usize,
    pub periods: Vec<PeriodChange>,
    pub pay_steps: Vec<StepChange>,
}

/// What a correction would do, before it is made.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionPreview {
    /// The table as it would read once corrected.
    pub pay_table: PayTable,
    pub changes: Changes,
    /// Figures that must be confirmed (`confirm_unusual`) before the correction is made.
    pub unusual: Vec<String>,
}

/// A correction made.
#[derive(Debug, Serialize, ToSchema)]
pub struct CorrectionMade {
    pub correction: TableCorrection,
    pub pay_table: PayTable,
    pub changes: Changes,
}

pub struct CorrectionInput {
    pub points: Vec<PointInput>,
    pub source: Option<String>,
    /// Why: what was wrong. Required.
    pub note: String,
    pub confirm_unusual: bool,
}

/// The input checked, with its note and source trimmed.
fn check(input: CorrectionInput) -> AppResult<CorrectionInput> {
    let mut errors = FieldErrors::new();
    super::check_points(&input.points, &mut errors);
    let note = validation::text(&input.note, "note", 500, true, &mut errors);
    let source = input
        .source
        .as_deref()
        .map(|s| validation::text(s, "source", 300, false, &mut errors));
    crate::error::valid(errors)?;
    Ok(CorrectionInput {
        points: input.points,
        note,
        source,
        confirm_unusual: input.confirm_unusual,
    })
}

/// A correction worked out against the database, not yet written.
struct Plan {
    band: BandRow,
    table: PayTableRow,
    before: Vec<PayPointRow>,
    after: Vec<PayPointRow>,
    repriced: Vec<(AssignmentRow, i64)>,
    changes: Changes,
    unusual: Vec<String>,
}

fn plan(
    conn: &mut DbConn,
    actor: &Actor,
    band_id: uuid::Uuid,
    table_id: uuid::Uuid,
    points: &[PointInput],
) -> AppResult<Plan> {
    let band = db::salary::find_band(conn, &band_id.to_string())?.ok_or(AppError::NotFound)?;
    super::may_keep(actor, &band)?;
    let table = db::salary::find_table(conn, &table_id.to_string())?
        .filter(|t| t.band_id == band.id)
        .ok_or(AppError::NotFound)?;
    may_correct(conn, actor, &table)?;
    let before = db::salary::points_of(conn, std::slice::from_ref(&table.id))?;
    if before.len() != points.len() {
        return Err(AppError::invalid(
            "points",
            format!(
                "must hold {} points, as the table corrected does",
                before.len()
            ),
        ));
    }
    let after: Vec<PayPointRow> = before
        .iter()
        .zip(points)
        .map(|(b, p)| PayPointRow {
            pay_table_id: table.id.clone(),
            point: b.point,
            annual_minor: p.annual_minor,
            years_to_next: p.years_to_next,
        })
        .collect();
    let unusual = super::unusual(points, Some(&before));
    let (repriced, changes) = whom(conn, &band, &table, &before, &after)?;
    Ok(Plan {
        band,
        table,
        before,
        after,
        repriced,
        changes,
        unusual,
    })
}

/// Who corrects a table: the person who entered it. A table nobody entered (the national
/// tables the migrations seed), or whose author no longer keeps the band, falls to
/// whoever keeps the band now, so no table is left uncorrectable.
fn may_correct(conn: &mut DbConn, actor: &Actor, table: &PayTableRow) -> AppResult<()> {
    let Some(author) = &table.created_by else {
        return Ok(());
    };
    if *author == actor.user_id.to_db() {
        return Ok(());
    }
    let author = db::users::find(conn, author)?;
    let author_keeps = author.is_some_and(|u| {
        crate::access::authz::author_still_keeps(
            actor,
            &u.role,
            u.organisation_id.as_deref(),
            u.active,
        )
    });
    if author_keeps {
        return Err(AppError::Forbidden(
            "A pay table is corrected by the person who entered it.",
        ));
    }
    Ok(())
}

/// The periods priced by the table whose amount changes, and the workers now at a point
/// whose years to the next change.
fn whom(
    conn: &mut DbConn,
    band: &BandRow,
    table: &PayTableRow,
    before: &[PayPointRow],
    after: &[PayPointRow],
) -> AppResult<(Vec<(AssignmentRow, i64)>, Changes)> {
    let amount_after: HashMap<i32, i64> = after.iter().map(|p| (p.point, p.annual_minor)).collect();
    let years = |points: &[PayPointRow], point: i32| {
        points
            .iter()
            .find(|p| p.point == point)
            .and_then(|p| p.years_to_next)
    };
    let today = Utc::now().date_naive();
    let rows = db::salary::histories_touching_band(conn, &band.id)?;
    let mut repriced = vec![];
    let mut steps = vec![];
    for history in rows.chunk_by(|a, b| a.worker_id == b.worker_id) {
        for row in history.iter().filter(|r| r.pay_table_id == table.id) {
            let new = amount_after
                .get(&row.point)
                .copied()
                .ok_or_else(|| AppError::internal("a salary row names a point its table lacks"))?;
            if new != row.annual_minor {
                repriced.push((row.clone(), new));
            }
        }
        let current = super::steps::current_run(history, today).map(|run| run.current);
        if let Some(row) = current.filter(|r| r.pay_table_id == table.id) {
            let (was, will) = (years(before, row.point), years(after, row.point));
            if was != will {
                steps.push((row, was, will));
            }
        }
    }
    let mut ids: Vec<String> = repriced
        .iter()
        .map(|(r, _)| r.worker_id.clone())
        .chain(steps.iter().map(|(r, _, _)| r.worker_id.clone()))
        .collect();
    ids.sort();
    ids.dedup();
    let names: HashMap<String, String> = db::users::names_of(conn, &ids)?.into_iter().collect();
    let name = |id: &str| names.get(id).cloned().unwrap_or_default();
    let periods = repriced
        .iter()
        .map(|(row, new)| {
            Ok(PeriodChange {
                worker_id: UserId::from_db(&row.worker_id)?,
                worker_name: name(&row.worker_id),
                effective_from: row.effective_from,
                point: row.point,
                currency: row.currency.clone(),
                annual_minor_before: row.annual_minor,
                annual_minor_after: *new,
            })
        })
        .collect::<AppResult<_>>()?;
    let pay_steps = steps
        .iter()
        .map(|(row, was, will)| {
            Ok(StepChange {
                worker_id: UserId::from_db(&row.worker_id)?,
                worker_name: name(&row.worker_id),
                point: row.point,
                years_to_next_before: *was,
                years_to_next_after: *will,
            })
        })
        .collect::<AppResult<_>>()?;
    Ok((
        repriced,
        Changes {
            workers_changed: ids.len(),
            periods,
            pay_steps,
        },
    ))
}

fn corrected_table(plan: &Plan, source: Option<&str>, corrections: &[TableCorrection]) -> PayTable {
    let mut table = plan.table.clone();
    if let Some(source) = source {
        table.source = source.to_string();
    }
    super::to_table(&table, &plan.after, corrections)
}

/// What a correction would change; changes nothing.
pub async fn preview(
    db: &Database,
    actor: &Actor,
    band_id: uuid::Uuid,
    table_id: uuid::Uuid,
    input: CorrectionInput,
) -> AppResult<CorrectionPreview> {
    let input = check(input)?;
    let actor = actor.clone();
    db.run(move |conn| {
        let plan = plan(conn, &actor, band_id, table_id, &input.points)?;
        let earlier = of_tables(conn, std::slice::from_ref(&plan.table.id))?;
        Ok(CorrectionPreview {
            pay_table: corrected_table(&plan, input.source.as_deref(), &earlier),
            changes: plan.changes.clone(),
            unusual: plan.unusual.clone(),
        })
    })
    .await
}

/// Corrects a table in place and reprices every period it priced, recording what each held.
pub async fn correct(
    db: &Database,
    actor: &Actor,
    band_id: uuid::Uuid,
    table_id: uuid::Uuid,
    input: CorrectionInput,
) -> AppResult<CorrectionMade> {
    let input = check(input)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let plan = plan(conn, &actor, band_id, table_id, &input.points)?;
        super::refuse_unusual(plan.unusual.clone(), input.confirm_unusual)?;
        if plan
            .before
            .iter()
            .zip(&plan.after)
            .all(|(b, a)| b.annual_minor == a.annual_minor && b.years_to_next == a.years_to_next)
        {
            return Err(AppError::invalid(
                "points",
                "are the table's figures already: there is nothing to correct",
            ));
        }
        let previous = serde_json::to_string(
            &plan
                .before
                .iter()
                .map(super::pay_point)
                .collect::<Vec<PayPoint>>(),
        )
        .map_err(|_| AppError::internal("pay points could not be written"))?;
        let row = TableCorrectionRow {
            id: uuid::Uuid::now_v7().to_string(),
            pay_table_id: plan.table.id.clone(),
            note: input.note.clone(),
            previous_points: previous,
            corrected_by: actor.user_id.to_db(),
            created_at: db::now(),
        };
        let salary_rows: Vec<SalaryCorrectionRow> = plan
            .repriced
            .iter()
            .map(|(r, new)| SalaryCorrectionRow {
                id: uuid::Uuid::now_v7().to_string(),
                assignment_id: r.id.clone(),
                correction_id: row.id.clone(),
                previous_annual_minor: r.annual_minor,
                annual_minor: *new,
            })
            .collect();
        db::salary::rewrite_points(conn, &plan.table.id, &plan.after, input.source.as_deref())?;
        db::salary::insert_correction(conn, &row, &salary_rows)?;
        audit::record(
            conn,
            Event::by(&actor, "salary_band.pay_table_corrected", "pay_table")
                .on(&plan.table.id)
                .in_org(super::band_organisation(&plan.band)?),
        )?;
        let corrections = of_tables(conn, std::slice::from_ref(&plan.table.id))?;
        let correction = corrections
            .iter()
            .find(|c| c.id == row.id)
            .cloned()
            .ok_or(AppError::NotFound)?;
        Ok(CorrectionMade {
            pay_table: corrected_table(&plan, input.source.as_deref(), &corrections),
            correction,
            changes: plan.changes,
        })
    })
    .await
}

/// The corrections of several tables, oldest first, with their authors' names.
pub fn of_tables(conn: &mut DbConn, table_ids: &[String]) -> AppResult<Vec<TableCorrection>> {
    let rows = db::salary::table_corrections(conn, table_ids)?;
    let authors: Vec<String> = rows.iter().map(|r| r.corrected_by.clone()).collect();
    let names: HashMap<String, String> = db::users::names_of(conn, &authors)?.into_iter().collect();
    rows.into_iter()
        .map(|r| {
            let previous_points = serde_json::from_str(&r.previous_points)
                .map_err(|_| AppError::internal("a correction's points could not be read"))?;
            Ok(TableCorrection {
                corrected_by_name: names.get(&r.corrected_by).cloned().unwrap_or_default(),
                corrected_by: UserId::from_db(&r.corrected_by)?,
                corrected_at: r.created_at.and_utc(),
                id: r.id,
                pay_table_id: r.pay_table_id,
                note: r.note,
                previous_points,
            })
        })
        .collect()
}

/// What corrections did to salary periods: by period id, oldest first.
pub fn of_periods(
    conn: &mut DbConn,
    assignment_ids: &[String],
) -> AppResult<HashMap<String, Vec<PeriodCorrection>>> {
    let mut by_period: HashMap<String, Vec<PeriodCorrection>> = HashMap::new();
    for (row, correction) in db::salary::corrections_of(conn, assignment_ids)? {
        by_period
            .entry(row.assignment_id)
            .or_default()
            .push(PeriodCorrection {
                corrected_at: correction.created_at.and_utc(),
                previous_annual_minor: row.previous_annual_minor,
                annual_minor: row.annual_minor,
                note: correction.note,
            });
    }
    Ok(by_period)
}

/// A correction of a period's amount, as the salary history shows it.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PeriodCorrection {
    pub corrected_at: DateTime<Utc>,
    /// The amount the period held before (minor units).
    pub previous_annual_minor: i64,
    pub annual_minor: i64,
    /// Why the pay table was corrected.
    pub note: String,
}
