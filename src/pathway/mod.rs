//! Career pathways: ordered stages, each naming its salary band, the months needed in the
//! stage before it, the modules and competencies it requires and the supervision hours.
//! Programme managers keep them; everyone in the organisation reads them. Editing a stage
//! never rewrites a decision taken: progressions keep the eligibility they were decided on
//! and stage history keeps the stage's name at the time.

pub mod clock;
pub mod eligibility;
pub mod progressions;
pub mod summary;

use std::collections::HashSet;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Actor, authz};
use crate::audit::{self, Event};
use crate::db::pathways::{PathwayRow, RequiredRow, StageChanges, StageHistoryRow, StageRow};
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::identity::values::parse_name;
use crate::ids::{OrganisationId, UserId};
use crate::training::modules::hours_to_minutes;
use crate::validation;
use crate::workers::{self, Relation};

const MAX_STAGES: i32 = 20;
const MAX_MONTHS: i32 = 240;
const MAX_SUPERVISION_HOURS: f64 = 2000.0;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Required {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub code: String,
    pub title: String,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Stage {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    /// 1 for the first stage.
    pub position: i32,
    pub name: String,
    /// The salary band a worker moves onto at this stage; absent for an unpaid stage.
    #[schema(value_type = Option<String>, format = Uuid)]
    pub band_id: Option<String>,
    /// Months in the previous stage (not counting pauses) before moving to this one.
    pub min_months_in_previous: i32,
    /// Supervision hours in the previous stage (confirmed by the worker).
    pub supervision_hours: f64,
    /// Modules completed, verified and in date.
    pub modules: Vec<Required>,
    /// Competencies signed off.
    pub competencies: Vec<Required>,
    pub version: i32,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Pathway {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub organisation_id: OrganisationId,
    pub name: String,
    pub description: String,
    pub stages: Vec<Stage>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

pub(crate) fn to_stage(row: &StageRow, modules: &[RequiredRow], comps: &[RequiredRow]) -> Stage {
    let pick = |rows: &[RequiredRow]| {
        rows.iter()
            .filter(|r| r.stage_id == row.id)
            .map(|r| Required {
                id: r.id.clone(),
                code: r.code.clone(),
                title: r.title.clone(),
            })
            .collect()
    };
    Stage {
        id: row.id.clone(),
        position: row.position,
        name: row.name.clone(),
        band_id: row.band_id.clone(),
        min_months_in_previous: row.min_months_in_previous,
        supervision_hours: f64::from(row.supervision_minutes) / 60.0,
        modules: pick(modules),
        competencies: pick(comps),
        version: row.version,
    }
}

/// A pathway with its stages and their requirements, in four queries.
fn assemble(conn: &mut DbConn, rows: Vec<PathwayRow>) -> AppResult<Vec<Pathway>> {
    let ids: Vec<String> = rows.iter().map(|p| p.id.clone()).collect();
    let stages = db::pathways::stages_of(conn, &ids)?;
    let stage_ids: Vec<String> = stages.iter().map(|s| s.id.clone()).collect();
    let modules = db::pathways::required_modules(conn, &stage_ids)?;
    let comps = db::pathways::required_competencies(conn, &stage_ids)?;
    rows.into_iter()
        .map(|p| {
            Ok(Pathway {
                organisation_id: OrganisationId::from_db(&p.organisation_id)?,
                stages: stages
                    .iter()
                    .filter(|s| s.pathway_id == p.id)
                    .map(|s| to_stage(s, &modules, &comps))
                    .collect(),
                id: p.id,
                name: p.name,
                description: p.description,
                created_at: p.created_at.and_utc(),
                updated_at: p.updated_at.and_utc(),
                version: p.version,
            })
        })
        .collect()
}

/// A pathway of the caller's organisation; another organisation's is 404.
fn load(conn: &mut DbConn, actor: &Actor, id: &str) -> AppResult<PathwayRow> {
    let org = authz::own_organisation(actor)?;
    match db::pathways::find(conn, id)? {
        Some(p) if p.organisation_id == org.to_db() => Ok(p),
        _ => Err(AppError::NotFound),
    }
}

fn reload(conn: &mut DbConn, id: &str) -> AppResult<Pathway> {
    let row = db::pathways::find(conn, id)?.ok_or(AppError::NotFound)?;
    assemble(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

const MANAGERS_ONLY: &str = "Programme managers keep pathways.";

/// A pathway's name (unique ignoring case: the key) and description, checked.
fn check_pathway(name: &str, description: Option<&str>) -> AppResult<(String, String, String)> {
    let (name, name_key) = parse_name(name)?;
    let mut errors = FieldErrors::new();
    let description = validation::text(
        description.unwrap_or(""),
        "description",
        2000,
        false,
        &mut errors,
    );
    crate::error::valid(errors)?;
    Ok((name, name_key, description))
}

pub async fn create(
    db: &Database,
    actor: &Actor,
    name: &str,
    description: Option<&str>,
) -> AppResult<Pathway> {
    let org = authz::own_organisation_as_manager(actor, MANAGERS_ONLY)?;
    let (name, name_key, description) = check_pathway(name, description)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let now = db::now();
        let row = PathwayRow {
            id: uuid::Uuid::now_v7().to_string(),
            organisation_id: org.to_db(),
            name,
            name_key,
            description,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        db::pathways::insert(conn, &row)?;
        audit::record(
            conn,
            Event::by(&actor, "pathway.created", "pathway").on(&row.id),
        )?;
        reload(conn, &row.id)
    })
    .await
}

pub async fn list(db: &Database, actor: &Actor) -> AppResult<Vec<Pathway>> {
    let org = authz::own_organisation(actor)?;
    db.run(move |conn| {
        let rows = db::pathways::list(conn, &org.to_db())?;
        assemble(conn, rows)
    })
    .await
}

pub async fn get(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<Pathway> {
    let actor = actor.clone();
    db.run(move |conn| {
        let row = load(conn, &actor, &id.to_string())?;
        reload(conn, &row.id)
    })
    .await
}

pub async fn update(
    db: &Database,
    actor: &Actor,
    id: uuid::Uuid,
    expected: i32,
    name: &str,
    description: Option<&str>,
) -> AppResult<Pathway> {
    authz::own_organisation_as_manager(actor, MANAGERS_ONLY)?;
    let (name, name_key, description) = check_pathway(name, description)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let row = load(conn, &actor, &id.to_string())?;
        if db::pathways::update(
            conn,
            &row.id,
            expected,
            &name,
            &name_key,
            &description,
            db::now(),
        )? == 0
        {
            return Err(AppError::PreconditionFailed);
        }
        audit::record(
            conn,
            Event::by(&actor, "pathway.updated", "pathway").on(&row.id),
        )?;
        reload(conn, &row.id)
    })
    .await
}

/// A stage as submitted.
pub struct StageInput {
    pub name: String,
    pub band_id: Option<uuid::Uuid>,
    pub min_months_in_previous: i32,
    pub supervision_hours: f64,
    pub module_ids: Vec<uuid::Uuid>,
    pub competency_ids: Vec<uuid::Uuid>,
}

struct CheckedStage {
    name: String,
    band_id: Option<String>,
    months: i32,
    minutes: i32,
    modules: Vec<String>,
    competencies: Vec<String>,
}

fn check_stage(input: StageInput) -> AppResult<CheckedStage> {
    let mut errors = FieldErrors::new();
    let name = validation::text(&input.name, "name", 100, true, &mut errors);
    if !(0..=MAX_MONTHS).contains(&input.min_months_in_previous) {
        errors
            .entry("min_months_in_previous".into())
            .or_default()
            .push(format!("must be 0 to {MAX_MONTHS}"));
    }
    let minutes = if input.supervision_hours == 0.0 {
        0
    } else {
        hours_to_minutes(
            input.supervision_hours,
            "supervision_hours",
            MAX_SUPERVISION_HOURS,
        )
        .unwrap_or_else(|e| {
            if let AppError::Validation(e) = e {
                errors.extend(e);
            }
            0
        })
    };
    let unique = |ids: &[uuid::Uuid]| {
        let set: HashSet<_> = ids.iter().collect();
        set.len() == ids.len()
    };
    for (field, ids) in [
        ("module_ids", &input.module_ids),
        ("competency_ids", &input.competency_ids),
    ] {
        if ids.len() > 100 || !unique(ids) {
            errors
                .entry(field.into())
                .or_default()
                .push("must list at most 100 ids, each once".into());
        }
    }
    crate::error::valid(errors)?;
    Ok(CheckedStage {
        name,
        band_id: input.band_id.map(|b| b.to_string()),
        months: input.min_months_in_previous,
        minutes,
        modules: input.module_ids.iter().map(ToString::to_string).collect(),
        competencies: input
            .competency_ids
            .iter()
            .map(ToString::to_string)
            .collect(),
    })
}

/// Checks that the band, modules and competencies are the organisation's to use.
fn check_references(conn: &mut DbConn, org: &str, stage: &CheckedStage) -> AppResult<()> {
    if let Some(band) = &stage.band_id {
        crate::salary::load_usable(conn, org, band)
            .map_err(|_| AppError::invalid("band_id", "names no band your organisation can use"))?;
    }
    for id in &stage.modules {
        if !db::training::find_module(conn, id)?
            .is_some_and(|m| m.organisation_id == org && m.active)
        {
            return Err(AppError::invalid(
                "module_ids",
                format!("{id} is not an active module of your organisation"),
            ));
        }
    }
    for id in &stage.competencies {
        if !db::competencies::find(conn, id)?.is_some_and(|c| c.organisation_id == org && c.active)
        {
            return Err(AppError::invalid(
                "competency_ids",
                format!("{id} is not an active competency of your organisation"),
            ));
        }
    }
    Ok(())
}

/// Adds a stage at the end of the pathway.
pub async fn add_stage(
    db: &Database,
    actor: &Actor,
    pathway: uuid::Uuid,
    input: StageInput,
) -> AppResult<Pathway> {
    authz::own_organisation_as_manager(actor, MANAGERS_ONLY)?;
    let stage = check_stage(input)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let row = load(conn, &actor, &pathway.to_string())?;
        check_references(conn, &row.organisation_id, &stage)?;
        let existing = db::pathways::stages_of(conn, std::slice::from_ref(&row.id))?;
        let position = existing.last().map_or(1, |s| s.position + 1);
        if position > MAX_STAGES {
            return Err(AppError::Unprocessable(format!(
                "A pathway holds at most {MAX_STAGES} stages."
            )));
        }
        let now = db::now();
        let new = StageRow {
            id: uuid::Uuid::now_v7().to_string(),
            pathway_id: row.id.clone(),
            position,
            name: stage.name,
            band_id: stage.band_id,
            min_months_in_previous: stage.months,
            supervision_minutes: stage.minutes,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        db::pathways::insert_stage(conn, &new)?;
        db::pathways::set_requirements(conn, &new.id, &stage.modules, &stage.competencies)?;
        audit::record(
            conn,
            Event::by(&actor, "pathway.stage_added", "pathway").on(&row.id),
        )?;
        reload(conn, &row.id)
    })
    .await
}

/// Replaces a stage's name, band and requirements (If-Match). Decisions already taken keep
/// what they were decided on.
pub async fn update_stage(
    db: &Database,
    actor: &Actor,
    pathway: uuid::Uuid,
    stage_id: uuid::Uuid,
    expected: i32,
    input: StageInput,
) -> AppResult<Pathway> {
    authz::own_organisation_as_manager(actor, MANAGERS_ONLY)?;
    let stage = check_stage(input)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let row = load(conn, &actor, &pathway.to_string())?;
        let current = db::pathways::find_stage(conn, &stage_id.to_string())?
            .filter(|s| s.pathway_id == row.id)
            .ok_or(AppError::NotFound)?;
        check_references(conn, &row.organisation_id, &stage)?;
        let changes = StageChanges {
            name: stage.name,
            band_id: stage.band_id,
            min_months_in_previous: stage.months,
            supervision_minutes: stage.minutes,
        };
        if db::pathways::update_stage(conn, &current.id, expected, &changes, db::now())? == 0 {
            return Err(AppError::PreconditionFailed);
        }
        db::pathways::set_requirements(conn, &current.id, &stage.modules, &stage.competencies)?;
        audit::record(
            conn,
            Event::by(&actor, "pathway.stage_updated", "pathway").on(&row.id),
        )?;
        reload(conn, &row.id)
    })
    .await
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StageReason {
    Placement,
    Progression,
}

/// A period on a stage.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StagePeriod {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    #[schema(value_type = String, format = Uuid)]
    pub pathway_id: String,
    #[schema(value_type = String, format = Uuid)]
    pub stage_id: String,
    /// The stage's name when the worker was on it.
    pub stage_name: String,
    pub started_on: NaiveDate,
    /// The first day on the next stage; absent for the current one.
    pub ended_on: Option<NaiveDate>,
    pub reason: StageReason,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub progression_id: Option<String>,
    pub recorded_by: UserId,
}

impl TryFrom<StageHistoryRow> for StagePeriod {
    type Error = AppError;
    fn try_from(row: StageHistoryRow) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            pathway_id: row.pathway_id,
            stage_id: row.stage_id,
            stage_name: row.stage_name,
            started_on: row.started_on,
            ended_on: row.ended_on,
            reason: if row.reason == "progression" {
                StageReason::Progression
            } else {
                StageReason::Placement
            },
            progression_id: row.progression_id,
            recorded_by: UserId::from_db(&row.recorded_by)?,
        })
    }
}

/// Moves the worker onto a stage from `since`, closing the current one.
pub(crate) fn enter_stage(
    conn: &mut DbConn,
    worker: &crate::db::workers::WorkerRow,
    stage: &StageRow,
    since: NaiveDate,
    reason: StageReason,
    progression_id: Option<String>,
    by: &Actor,
) -> AppResult<()> {
    if let Some(current) = db::pathways::current_stage(conn, &worker.user_id)? {
        if since < current.started_on {
            return Err(AppError::invalid(
                "since",
                format!(
                    "must not be before the current stage began, {}",
                    current.started_on
                ),
            ));
        }
        if db::pathways::close_current(conn, &worker.user_id, &current.id, since)? == 0 {
            return Err(AppError::conflict(
                "The worker's stage changed at the same time; retry.",
            ));
        }
    }
    db::pathways::insert_history(
        conn,
        &StageHistoryRow {
            id: uuid::Uuid::now_v7().to_string(),
            worker_id: worker.user_id.clone(),
            organisation_id: worker.organisation_id.clone(),
            pathway_id: stage.pathway_id.clone(),
            stage_id: stage.id.clone(),
            stage_name: stage.name.clone(),
            started_on: since,
            ended_on: None,
            reason: match reason {
                StageReason::Placement => "placement",
                StageReason::Progression => "progression",
            }
            .into(),
            progression_id,
            recorded_by: by.user_id.to_db(),
            created_at: db::now(),
        },
    )?;
    Ok(())
}

/// Places a worker on a stage of a pathway (programme managers): their first placement, a
/// move to another stage from a day, or (with an earlier day) a correction of the current
/// placement. Moves up a pathway go through progressions.
pub async fn place(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    stage_id: uuid::Uuid,
    since: NaiveDate,
) -> AppResult<Vec<StagePeriod>> {
    authz::own_organisation_as_manager(actor, "Programme managers place workers on pathways.")?;
    let mut errors = FieldErrors::new();
    validation::past_day(since, "since", &mut errors);
    crate::error::valid(errors)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, _) = workers::load_visible(conn, &actor, worker)?;
        let stage = db::pathways::find_stage(conn, &stage_id.to_string())?;
        let pathway = match &stage {
            Some(s) => db::pathways::find(conn, &s.pathway_id)?,
            None => None,
        };
        let (Some(stage), Some(_)) = (
            stage,
            pathway.filter(|p| p.organisation_id == row.organisation_id),
        ) else {
            return Err(AppError::invalid(
                "stage_id",
                "names no stage of your organisation's pathways",
            ));
        };
        if since < row.start_date {
            return Err(AppError::invalid(
                "since",
                format!(
                    "must not be before the worker's start date, {}",
                    row.start_date
                ),
            ));
        }
        let history = db::pathways::history(conn, &row.user_id)?;
        match history.iter().find(|h| h.ended_on.is_none()) {
            // An earlier day corrects the placement itself, as long as it stays after the
            // stages before it.
            Some(current) if since < current.started_on => {
                if current.reason != "placement" {
                    return Err(AppError::invalid(
                        "since",
                        format!(
                            "must not be before the current stage began, {}",
                            current.started_on
                        ),
                    ));
                }
                if let Some(before) = history.iter().filter_map(|h| h.ended_on).max()
                    && since < before
                {
                    return Err(AppError::invalid(
                        "since",
                        format!("must not be before the previous stage ended, {before}"),
                    ));
                }
                if db::pathways::correct_current(conn, &current.id, &stage, since)? == 0 {
                    return Err(AppError::conflict(
                        "The worker's stage changed at the same time; retry.",
                    ));
                }
            }
            _ => enter_stage(
                conn,
                &row,
                &stage,
                since,
                StageReason::Placement,
                None,
                &actor,
            )?,
        }
        audit::record(
            conn,
            Event::by(&actor, "worker.placed", "worker").on(&row.user_id),
        )?;
        db::pathways::history(conn, &row.user_id)?
            .into_iter()
            .map(StagePeriod::try_from)
            .collect()
    })
    .await
}

/// A worker's stages over time (the worker, their supervisor, programme managers).
pub async fn stage_history(
    db: &Database,
    actor: &Actor,
    worker: UserId,
) -> AppResult<Vec<StagePeriod>> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (row, relation) = workers::load_visible(conn, &actor, worker)?;
        if relation == Relation::Admin {
            return Err(AppError::Forbidden("Pathways belong to the organisation."));
        }
        db::pathways::history(conn, &row.user_id)?
            .into_iter()
            .map(StagePeriod::try_from)
            .collect()
    })
    .await
}
