//! A worker's salary history: change points, each holding until the next one, so the
//! history has no gaps or overlaps by construction (and no two changes on one day, by a
//! unique constraint). Programme managers record appointments, pay steps and corrections;
//! progressions and pay awards write their own rows.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::corrections::PeriodCorrection;
use super::steps;
use crate::access::{Actor, authz};
use crate::audit::{self, Event};
use crate::db::salary::{AssignmentRow, BandRow};
use crate::db::workers::WorkerRow;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::UserId;
use crate::validation;
use crate::workers::{self, Relation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    Appointment,
    Progression,
    PayStep,
    PayAward,
    Correction,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Appointment => "appointment",
            Self::Progression => "progression",
            Self::PayStep => "pay_step",
            Self::PayAward => "pay_award",
            Self::Correction => "correction",
        }
    }
    fn parse(value: &str) -> AppResult<Self> {
        [
            Self::Appointment,
            Self::Progression,
            Self::PayStep,
            Self::PayAward,
            Self::Correction,
        ]
        .into_iter()
        .find(|r| r.as_str() == value)
        .ok_or_else(|| AppError::internal("unknown salary reason in the database"))
    }
}

/// One period of pay.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SalaryPeriod {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub band_id: String,
    pub band_code: String,
    pub point: i32,
    /// Full-time annual pay in minor units (pence).
    pub annual_minor: i64,
    pub currency: String,
    pub effective_from: NaiveDate,
    /// The last day of this period: the day before the next one starts; absent for the
    /// current one.
    pub effective_to: Option<NaiveDate>,
    pub reason: Reason,
    pub note: String,
    pub approved_by: UserId,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub progression_id: Option<String>,
    /// Corrections of the pay table that priced this period, oldest first: the amount
    /// above is the corrected one, and each says what the period held before.
    pub corrections: Vec<PeriodCorrection>,
}

/// Periods from change points (oldest first), with the corrections of their amounts.
pub fn periods(
    conn: &mut DbConn,
    rows: &[AssignmentRow],
    bands: &HashMap<String, BandRow>,
) -> AppResult<Vec<SalaryPeriod>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut corrections = super::corrections::of_periods(conn, &ids)?;
    rows.iter()
        .enumerate()
        .map(|(i, row)| {
            Ok(SalaryPeriod {
                id: row.id.clone(),
                band_id: row.band_id.clone(),
                band_code: bands
                    .get(&row.band_id)
                    .map(|b| b.code.clone())
                    .unwrap_or_default(),
                point: row.point,
                annual_minor: row.annual_minor,
                currency: row.currency.clone(),
                effective_from: row.effective_from,
                effective_to: rows
                    .get(i + 1)
                    .and_then(|next| next.effective_from.pred_opt()),
                reason: Reason::parse(&row.reason)?,
                note: row.note.clone(),
                approved_by: UserId::from_db(&row.approved_by)?,
                progression_id: row.progression_id.clone(),
                corrections: corrections.remove(&row.id).unwrap_or_default(),
            })
        })
        .collect()
}

/// Whether the caller sees the worker's pay: the worker, programme managers, and the
/// current supervisor only where the organisation allows it.
pub fn may_see_pay(conn: &mut DbConn, worker: &WorkerRow, relation: Relation) -> AppResult<bool> {
    Ok(match relation {
        Relation::Itself | Relation::Manager => true,
        Relation::CurrentSupervisor => db::organisations::find(conn, &worker.organisation_id)?
            .is_some_and(|o| o.supervisors_see_pay),
        Relation::Admin => false,
    })
}

fn bands_by_id(conn: &mut DbConn, organisation: &str) -> AppResult<HashMap<String, BandRow>> {
    Ok(db::salary::list_bands(conn, Some(organisation))?
        .into_iter()
        .map(|b| (b.id.clone(), b))
        .collect())
}

pub async fn history(db: &Database, actor: &Actor, worker: UserId) -> AppResult<Vec<SalaryPeriod>> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (row, relation) = workers::load_visible(conn, &actor, worker)?;
        if !may_see_pay(conn, &row, relation)? {
            return Err(AppError::Forbidden(
                "Pay is seen by the worker and programme managers (and supervisors where the organisation allows it).",
            ));
        }
        let rows = db::salary::assignments(conn, &row.user_id)?;
        let bands = bands_by_id(conn, &row.organisation_id)?;
        periods(conn, &rows, &bands)
    })
    .await
}

/// A salary change as a programme manager records it.
pub struct AssignInput {
    pub band_id: uuid::Uuid,
    pub point: i32,
    pub effective_from: NaiveDate,
    pub reason: Reason,
    pub note: Option<String>,
}

/// A change to write, checked against the band's tables and the worker's history.
pub struct Placement<'a> {
    pub band_id: &'a str,
    pub point: i32,
    pub effective_from: NaiveDate,
    pub reason: Reason,
    pub note: String,
    pub approved_by: &'a Actor,
    pub progression_id: Option<String>,
}

/// Writes a change point: the band's table in force on the day names the amount.
pub fn place(conn: &mut DbConn, worker: &WorkerRow, p: Placement<'_>) -> AppResult<AssignmentRow> {
    let band = super::load_usable(conn, &worker.organisation_id, p.band_id)
        .map_err(|_| AppError::invalid("band_id", "names no band your organisation can use"))?;
    if p.effective_from < worker.start_date {
        return Err(AppError::invalid(
            "effective_from",
            format!(
                "must not be before the worker's start date, {}",
                worker.start_date
            ),
        ));
    }
    let table = db::salary::table_in_force(conn, &band.id, p.effective_from)?.ok_or_else(|| {
        AppError::invalid(
            "effective_from",
            format!(
                "{} has no pay table in force on {}",
                band.code, p.effective_from
            ),
        )
    })?;
    let point = db::salary::find_point(conn, &table.id, p.point)?.ok_or_else(|| {
        AppError::invalid("point", format!("{} has no point {}", band.code, p.point))
    })?;
    let history = db::salary::assignments(conn, &worker.user_id)?;
    if history.iter().any(|r| r.effective_from == p.effective_from) {
        return Err(AppError::Conflict {
            detail: format!(
                "A salary change already starts on {}; correct it with a change on another day.",
                p.effective_from
            ),
            field: Some("effective_from".into()),
        });
    }
    let row = AssignmentRow {
        id: uuid::Uuid::now_v7().to_string(),
        worker_id: worker.user_id.clone(),
        organisation_id: worker.organisation_id.clone(),
        band_id: band.id.clone(),
        pay_table_id: table.id,
        point: point.point,
        annual_minor: point.annual_minor,
        currency: band.currency.clone(),
        effective_from: p.effective_from,
        reason: p.reason.as_str().into(),
        note: p.note,
        approved_by: p.approved_by.user_id.to_db(),
        progression_id: p.progression_id,
        created_at: db::now(),
    };
    db::salary::insert_assignment(conn, &row)?;
    Ok(row)
}

/// Records an appointment, a pay step or a correction (programme managers). A pay step
/// must be the next point of the same band, on or after its due date, with its readiness
/// met.
pub async fn assign(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    input: AssignInput,
) -> AppResult<SalaryPeriod> {
    authz::own_organisation_as_manager(actor, "Programme managers record salary changes.")?;
    let mut errors = FieldErrors::new();
    let note = validation::text(
        input.note.as_deref().unwrap_or(""),
        "note",
        500,
        false,
        &mut errors,
    );
    if matches!(input.reason, Reason::Progression | Reason::PayAward) {
        errors.entry("reason".into()).or_default().push(
            "progression and pay_award changes are written by approving a progression or adding a pay table"
                .into(),
        );
    }
    crate::error::valid(errors)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, _) = workers::load_visible(conn, &actor, worker)?;
        let band_id = input.band_id.to_string();
        if input.reason == Reason::PayStep {
            steps::check_step(conn, &row, &band_id, input.point, input.effective_from)?;
        }
        let placed = place(
            conn,
            &row,
            Placement {
                band_id: &band_id,
                point: input.point,
                effective_from: input.effective_from,
                reason: input.reason,
                note,
                approved_by: &actor,
                progression_id: None,
            },
        )?;
        audit::record(
            conn,
            Event::by(&actor, "salary.assigned", "worker")
                .on(&row.user_id)
                .in_org(actor.organisation_id),
        )?;
        let rows = db::salary::assignments(conn, &row.user_id)?;
        let bands = bands_by_id(conn, &row.organisation_id)?;
        periods(conn, &rows, &bands)?
            .into_iter()
            .find(|p| p.id == placed.id)
            .ok_or(AppError::NotFound)
    })
    .await
}
