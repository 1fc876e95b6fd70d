//! Salary bands with dated pay tables. National bands (NHS Agenda for Change) are kept by
//! admins; an organisation may define its own, kept by its programme managers. A pay award
//! is a new table from a date: everyone on the band moves onto it from that date, and no
//! row before that date changes. Money is integer minor units (pence), never a float.

pub mod corrections;
pub mod history;
pub mod steps;

use std::collections::HashMap;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Actor, authz};
use crate::audit::{self, Event};
use crate::db::salary::{AssignmentRow, BandRow, PayPointRow, PayTableRow};
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::OrganisationId;
use crate::validation;

/// The largest annual amount accepted, in minor units (10 million in the major unit).
/// The id of a national Agenda for Change band (England), as seeded by the migration
/// `2026-11-28-000007_afc_england_2024`.
pub fn afc_band_id(band: u8) -> String {
    format!("0193a000-0000-7000-8000-0000000000{band:02}")
}

const MAX_ANNUAL_MINOR: i64 = 1_000_000_000;
const MAX_POINTS: usize = 20;
/// Agenda for Change asks 2 to 5 years at a point; more than this is most likely a typo.
const UNUSUAL_YEARS: i32 = 10;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PayPoint {
    pub point: i32,
    /// Full-time annual pay in minor units (pence): an integer, never a float.
    pub annual_minor: i64,
    /// The minimum years at this point before the next; absent at the top of the band.
    pub years_to_next: Option<i32>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PayTable {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub effective_from: NaiveDate,
    pub source: String,
    pub points: Vec<PayPoint>,
    /// Corrections made to this table since it was entered, oldest first, each with the
    /// figures it replaced.
    pub corrections: Vec<corrections::TableCorrection>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Band {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// Absent for a national band (Agenda for Change), which admins keep.
    pub organisation_id: Option<OrganisationId>,
    pub code: String,
    pub name: String,
    /// ISO 4217, such as GBP.
    pub currency: String,
    pub created_at: DateTime<Utc>,
    /// Oldest first; the last is in force from its date.
    pub pay_tables: Vec<PayTable>,
}

/// The points of a new table, lowest first.
#[derive(Clone, Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PointInput {
    /// Whole minor units (pence).
    #[schema(minimum = 1, maximum = 1_000_000_000)]
    pub annual_minor: i64,
    /// Required on every point but the last.
    #[schema(minimum = 1, maximum = 50)]
    pub years_to_next: Option<i32>,
}

pub struct BandInput {
    pub code: String,
    pub name: String,
    pub currency: String,
    pub table: TableInput,
}

pub struct TableInput {
    pub effective_from: NaiveDate,
    pub source: Option<String>,
    pub points: Vec<PointInput>,
    /// The caller has seen the figures flagged as unusual and says they are right.
    pub confirm_unusual: bool,
}

/// What a pay award did.
#[derive(Debug, Serialize, ToSchema)]
pub struct PayAward {
    pub pay_table: PayTable,
    /// Workers whose pay from the table's date moved onto it.
    pub workers_moved: usize,
}

fn to_band(
    row: BandRow,
    tables: &[PayTableRow],
    points: &[PayPointRow],
    corrections: &[corrections::TableCorrection],
) -> AppResult<Band> {
    let pay_tables = tables
        .iter()
        .filter(|t| t.band_id == row.id)
        .map(|t| to_table(t, points, corrections))
        .collect();
    Ok(Band {
        organisation_id: band_organisation(&row)?,
        id: row.id,
        code: row.code,
        name: row.name,
        currency: row.currency,
        created_at: row.created_at.and_utc(),
        pay_tables,
    })
}

fn to_table(
    table: &PayTableRow,
    points: &[PayPointRow],
    corrections: &[corrections::TableCorrection],
) -> PayTable {
    PayTable {
        corrections: corrections
            .iter()
            .filter(|c| c.pay_table_id == table.id)
            .cloned()
            .collect(),
        id: table.id.clone(),
        effective_from: table.effective_from,
        source: table.source.clone(),
        points: points
            .iter()
            .filter(|p| p.pay_table_id == table.id)
            .map(pay_point)
            .collect(),
    }
}

fn pay_point(p: &PayPointRow) -> PayPoint {
    PayPoint {
        point: p.point,
        annual_minor: p.annual_minor,
        years_to_next: p.years_to_next,
    }
}

/// The organisation that keeps a band; none for a national one.
fn band_organisation(band: &BandRow) -> AppResult<Option<OrganisationId>> {
    band.organisation_id
        .as_deref()
        .map(OrganisationId::from_db)
        .transpose()
}

/// Loads bands with their tables, points and corrections in four queries.
fn with_tables(conn: &mut DbConn, bands: Vec<BandRow>) -> AppResult<Vec<Band>> {
    let ids: Vec<String> = bands.iter().map(|b| b.id.clone()).collect();
    let tables = db::salary::tables_of(conn, &ids)?;
    let table_ids: Vec<String> = tables.iter().map(|t| t.id.clone()).collect();
    let points = db::salary::points_of(conn, &table_ids)?;
    let corrections = corrections::of_tables(conn, &table_ids)?;
    bands
        .into_iter()
        .map(|b| to_band(b, &tables, &points, &corrections))
        .collect()
}

/// A band the caller's organisation may use: national or its own. Others are 404.
pub fn load_usable(conn: &mut DbConn, organisation: &str, id: &str) -> AppResult<BandRow> {
    match db::salary::find_band(conn, id)? {
        Some(b)
            if b.organisation_id
                .as_deref()
                .is_none_or(|o| o == organisation) =>
        {
            Ok(b)
        }
        _ => Err(AppError::NotFound),
    }
}

/// Who keeps a band: admins the national ones, programme managers their organisation's.
fn may_keep(actor: &Actor, band: &BandRow) -> AppResult<()> {
    let allowed = authz::can_keep_band(actor, band.organisation_id.as_deref());
    if allowed {
        return Ok(());
    }
    if band.organisation_id.is_some()
        && actor.organisation_id.map(|o| o.to_db()) != band.organisation_id
    {
        return Err(AppError::NotFound);
    }
    Err(AppError::Forbidden(
        "National bands are kept by admins; an organisation's bands by its programme managers.",
    ))
}

fn check_points(points: &[PointInput], errors: &mut FieldErrors) {
    let mut problem = |message: String| {
        errors.entry("points".into()).or_default().push(message);
    };
    if points.is_empty() || points.len() > MAX_POINTS {
        problem(format!("must hold 1 to {MAX_POINTS} points"));
        return;
    }
    let last = points.len() - 1;
    for (i, p) in points.iter().enumerate() {
        let n = i + 1;
        if !(1..=MAX_ANNUAL_MINOR).contains(&p.annual_minor) {
            problem(format!(
                "point {n}: annual_minor must be a whole number of minor units from 1 to {MAX_ANNUAL_MINOR}"
            ));
        }
        if i > 0 && p.annual_minor < points[i - 1].annual_minor {
            problem(format!("point {n}: pays less than point {i}"));
        }
        match (i == last, p.years_to_next) {
            (true, Some(_)) => problem(format!("point {n}: the top point has no years_to_next")),
            (false, None) => problem(format!(
                "point {n}: years_to_next is required below the top point"
            )),
            (false, Some(y)) if !(1..=50).contains(&y) => {
                problem(format!("point {n}: years_to_next must be 1 to 50"))
            }
            _ => {}
        }
    }
}

/// Figures that pass the rules but are seldom right (a typo more often than a real scale):
/// they are refused until the caller confirms them. `replaces` holds the figures the new
/// ones take over from: the corrected table's, or the current table's for a pay award.
/// The messages name the point, never the value sent.
fn unusual(points: &[PointInput], replaces: Option<&[PayPointRow]>) -> Vec<String> {
    let mut found = vec![];
    for (i, p) in points.iter().enumerate() {
        let n = i + 1;
        if p.years_to_next.is_some_and(|y| y > UNUSUAL_YEARS) {
            found.push(format!(
                "point {n}: more than {UNUSUAL_YEARS} years to the next point"
            ));
        }
        if i > 0 && p.annual_minor > points[i - 1].annual_minor * 5 / 4 {
            found.push(format!("point {n}: more than a quarter above point {i}"));
        }
        let before = replaces.and_then(|r| r.get(i)).map(|r| r.annual_minor);
        if before.is_some_and(|b| (p.annual_minor - b).abs() > b / 5) {
            found.push(format!(
                "point {n}: more than a fifth away from the figure it replaces"
            ));
        }
    }
    found
}

/// Refuses unusual figures the caller has not confirmed.
fn check_unusual(
    points: &[PointInput],
    replaces: Option<&[PayPointRow]>,
    confirmed: bool,
) -> AppResult<()> {
    refuse_unusual(unusual(points, replaces), confirmed)
}

/// Refuses the unusual figures found, unless confirmed.
fn refuse_unusual(found: Vec<String>, confirmed: bool) -> AppResult<()> {
    if found.is_empty() || confirmed {
        return Ok(());
    }
    let mut errors = FieldErrors::new();
    errors.insert("points".into(), found);
    errors.insert(
        "confirm_unusual".into(),
        vec!["these figures are unusual: check them, and send confirm_unusual: true if they are right".into()],
    );
    Err(AppError::Validation(errors))
}

fn table_rows(
    band_id: &str,
    input: &TableInput,
    source: String,
    actor: &Actor,
) -> (PayTableRow, Vec<PayPointRow>) {
    let table = PayTableRow {
        id: uuid::Uuid::now_v7().to_string(),
        band_id: band_id.to_string(),
        effective_from: input.effective_from,
        source,
        created_by: Some(actor.user_id.to_db()),
        created_at: db::now(),
    };
    let points = input
        .points
        .iter()
        .enumerate()
        .map(|(i, p)| PayPointRow {
            pay_table_id: table.id.clone(),
            point: i as i32 + 1,
            annual_minor: p.annual_minor,
            years_to_next: p.years_to_next,
        })
        .collect();
    (table, points)
}

/// Checks a new table's date and points; answers its source, trimmed.
fn check_table(input: &TableInput, errors: &mut FieldErrors) -> String {
    check_effective_from(input.effective_from, errors);
    check_points(&input.points, errors);
    validation::text(
        input.source.as_deref().unwrap_or(""),
        "source",
        300,
        false,
        errors,
    )
}

fn check_effective_from(day: NaiveDate, errors: &mut FieldErrors) {
    let earliest = NaiveDate::from_ymd_opt(2000, 1, 1).unwrap_or(NaiveDate::MIN);
    let latest = Utc::now().date_naive() + chrono::Days::new(366);
    if day < earliest || day > latest {
        errors
            .entry("effective_from".into())
            .or_default()
            .push("must be from 2000 to a year ahead".into());
    }
}

/// Creates a band with its first pay table: a national one (admins) or one of the
/// programme manager's organisation.
pub async fn create_band(db: &Database, actor: &Actor, input: BandInput) -> AppResult<Band> {
    let organisation = authz::organisation_of_new_band(actor)?;
    let mut errors = FieldErrors::new();
    let code = validation::code(&input.code, &mut errors);
    let name = validation::text(&input.name, "name", 100, true, &mut errors);
    let currency = input.currency.trim().to_string();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_uppercase()) {
        errors
            .entry("currency".into())
            .or_default()
            .push("must be an ISO 4217 code such as GBP".into());
    }
    let source = check_table(&input.table, &mut errors);
    crate::error::valid(errors)?;
    check_unusual(&input.table.points, None, input.table.confirm_unusual)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let band = BandRow {
            id: uuid::Uuid::now_v7().to_string(),
            organisation_id: organisation.map(|o| o.to_db()),
            code_key: code.to_lowercase(),
            code,
            name,
            currency,
            created_at: db::now(),
        };
        db::salary::insert_band(conn, &band)?;
        let (table, points) = table_rows(&band.id, &input.table, source, &actor);
        db::salary::insert_table(conn, &table, &points)?;
        audit::record(
            conn,
            Event::by(&actor, "salary_band.created", "salary_band")
                .on(&band.id)
                .in_org(organisation),
        )?;
        to_band(band, &[table], &points, &[])
    })
    .await
}

/// National bands and the caller's organisation's.
pub async fn list_bands(db: &Database, actor: &Actor) -> AppResult<Vec<Band>> {
    let org = actor.organisation_id.map(|o| o.to_db());
    db.run(move |conn| {
        let bands = db::salary::list_bands(conn, org.as_deref())?;
        with_tables(conn, bands)
    })
    .await
}

pub async fn get_band(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<Band> {
    let org = actor.organisation_id.map(|o| o.to_db());
    db.run(move |conn| {
        let band = load_usable(conn, org.as_deref().unwrap_or(""), &id.to_string())?;
        let mut bands = with_tables(conn, vec![band])?;
        bands.pop().ok_or(AppError::NotFound)
    })
    .await
}

/// A pay award: a new table for the band from a date after its current table's. Every
/// worker on the band on or after that date moves onto it at the same point; rows before
/// the date are left as they were.
pub async fn add_pay_table(
    db: &Database,
    actor: &Actor,
    band_id: uuid::Uuid,
    input: TableInput,
) -> AppResult<PayAward> {
    let mut errors = FieldErrors::new();
    let source = check_table(&input, &mut errors);
    crate::error::valid(errors)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let band = db::salary::find_band(conn, &band_id.to_string())?.ok_or(AppError::NotFound)?;
        may_keep(&actor, &band)?;
        if let Some(latest) = db::salary::latest_table(conn, &band.id)? {
            if input.effective_from <= latest.effective_from {
                return Err(AppError::invalid(
                    "effective_from",
                    format!(
                        "must be after {}, the date of the band's current table",
                        latest.effective_from
                    ),
                ));
            }
            let current = db::salary::points_of(conn, std::slice::from_ref(&latest.id))?;
            if current.len() != input.points.len() {
                return Err(AppError::invalid(
                    "points",
                    format!(
                        "must hold {} points, as the band's current table does",
                        current.len()
                    ),
                ));
            }
            check_unusual(&input.points, Some(&current), input.confirm_unusual)?;
        }
        let (table, points) = table_rows(&band.id, &input, source, &actor);
        db::salary::insert_table(conn, &table, &points)?;
        let moved = move_onto_table(conn, &band, &table, &points, &actor)?;
        audit::record(
            conn,
            Event::by(&actor, "salary_band.pay_award", "salary_band")
                .on(&band.id)
                .in_org(band_organisation(&band)?),
        )?;
        Ok(PayAward {
            pay_table: to_table(&table, &points, &[]),
            workers_moved: moved,
        })
    })
    .await
}

/// Moves every worker's pay on the band from the table's date onto the table.
fn move_onto_table(
    conn: &mut DbConn,
    band: &BandRow,
    table: &PayTableRow,
    points: &[PayPointRow],
    actor: &Actor,
) -> AppResult<usize> {
    let amount: HashMap<i32, i64> = points.iter().map(|p| (p.point, p.annual_minor)).collect();
    let rows = db::salary::histories_touching_band(conn, &band.id)?;
    let mut by_worker: Vec<Vec<AssignmentRow>> = vec![];
    for row in rows {
        match by_worker.last_mut() {
            Some(h) if h[0].worker_id == row.worker_id => h.push(row),
            _ => by_worker.push(vec![row]),
        }
    }
    let from = table.effective_from;
    let mut moved = 0;
    for history in by_worker {
        let mut changed = false;
        for row in history
            .iter()
            .filter(|r| r.band_id == band.id && r.effective_from >= from)
        {
            let annual = amount.get(&row.point).copied().ok_or_else(|| {
                AppError::internal("a salary row names a point the new table lacks")
            })?;
            db::salary::reprice(conn, &row.id, &table.id, annual)?;
            changed = true;
        }
        let in_force = history.iter().rev().find(|r| r.effective_from <= from);
        if let Some(row) = in_force.filter(|r| r.band_id == band.id && r.effective_from < from) {
            let annual = amount.get(&row.point).copied().ok_or_else(|| {
                AppError::internal("a salary row names a point the new table lacks")
            })?;
            db::salary::insert_assignment(
                conn,
                &AssignmentRow {
                    id: uuid::Uuid::now_v7().to_string(),
                    worker_id: row.worker_id.clone(),
                    organisation_id: row.organisation_id.clone(),
                    band_id: band.id.clone(),
                    pay_table_id: table.id.clone(),
                    point: row.point,
                    annual_minor: annual,
                    currency: band.currency.clone(),
                    effective_from: from,
                    reason: history::Reason::PayAward.as_str().into(),
                    note: String::new(),
                    approved_by: actor.user_id.to_db(),
                    progression_id: None,
                    created_at: db::now(),
                },
            )?;
            changed = true;
        }
        moved += usize::from(changed);
    }
    Ok(moved)
}
