//! Eligibility for the next stage, explained: every requirement met or not, in plain words,
//! with a date where one applies. Loading is a fixed number of queries whatever the number
//! of records; judging is a pure function of what was loaded.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::clock;
use crate::db::competencies::SignoffRow;
use crate::db::pathways::{PathwayRow, RequiredRow, StageHistoryRow, StageRow};
use crate::db::pauses::PauseRow;
use crate::db::training::RecordRow;
use crate::db::workers::WorkerRow;
use crate::db::{self, DbConn};
use crate::error::AppResult;
use crate::explain::{Requirement, RequirementKind, day, hours, plural};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StageRef {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub name: String,
    pub position: i32,
    #[schema(value_type = Option<String>, format = Uuid)]
    pub band_id: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Eligibility {
    pub next_stage: StageRef,
    pub eligible: bool,
    pub evaluated_on: NaiveDate,
    pub requirements: Vec<Requirement>,
}

impl Eligibility {
    /// The unmet requirements' reasons, for a refusal.
    pub fn missing(&self) -> Vec<String> {
        crate::explain::missing(&self.requirements)
    }
}

/// Where a worker stands on their pathway.
pub struct Position {
    pub current: StageHistoryRow,
    pub pathway: PathwayRow,
    pub stages: Vec<StageRow>,
}

impl Position {
    pub fn stage(&self) -> Option<&StageRow> {
        self.stages.iter().find(|s| s.id == self.current.stage_id)
    }
    pub fn next(&self) -> Option<&StageRow> {
        let here = self.stage()?.position;
        self.stages.iter().find(|s| s.position > here)
    }
}

/// The worker's pathway position in three queries, or none when not placed.
pub fn position(conn: &mut DbConn, worker_id: &str) -> AppResult<Option<Position>> {
    let Some(current) = db::pathways::current_stage(conn, worker_id)? else {
        return Ok(None);
    };
    let Some(pathway) = db::pathways::find(conn, &current.pathway_id)? else {
        return Ok(None);
    };
    let stages = db::pathways::stages_of(conn, std::slice::from_ref(&pathway.id))?;
    Ok(Some(Position {
        current,
        pathway,
        stages,
    }))
}

/// What the judgement weighs.
pub struct Facts {
    pub since: NaiveDate,
    pub pauses: Vec<PauseRow>,
    pub modules: Vec<RequiredRow>,
    pub records: Vec<RecordRow>,
    pub competencies: Vec<RequiredRow>,
    pub signoffs: Vec<SignoffRow>,
    pub observations: HashMap<String, i64>,
    /// Supervision minutes in the stage: (confirmed, awaiting the worker's confirmation).
    pub supervision: (i64, i64),
}

/// Loads what the next stage's requirements need, skipping what it does not require.
pub fn facts(
    conn: &mut DbConn,
    worker: &WorkerRow,
    since: NaiveDate,
    next: &StageRow,
    pauses: Vec<PauseRow>,
) -> AppResult<Facts> {
    let stage = std::slice::from_ref(&next.id);
    let modules = db::pathways::required_modules(conn, stage)?;
    let competencies = db::pathways::required_competencies(conn, stage)?;
    let module_ids: Vec<String> = modules.iter().map(|m| m.id.clone()).collect();
    let competency_ids: Vec<String> = competencies.iter().map(|c| c.id.clone()).collect();
    let records = if module_ids.is_empty() {
        vec![]
    } else {
        db::training::standing_records(conn, &worker.user_id, &module_ids)?
    };
    let signoffs = if competency_ids.is_empty() {
        vec![]
    } else {
        db::competencies::signoffs_of(conn, &worker.user_id, &competency_ids)?
    };
    let observations = if competencies.iter().any(|c| c.observations_required > 0) {
        db::competencies::competent_counts(conn, &worker.user_id, &competency_ids)?
            .into_iter()
            .collect()
    } else {
        HashMap::new()
    };
    let supervision = if next.supervision_minutes > 0 {
        db::supervision::minutes_since(conn, &worker.user_id, since)?
    } else {
        (0, 0)
    };
    Ok(Facts {
        since,
        pauses,
        modules,
        records,
        competencies,
        signoffs,
        observations,
        supervision,
    })
}

/// Judges the next stage's requirements on `today`.
pub fn judge(next: &StageRow, facts: &Facts, today: NaiveDate) -> Eligibility {
    let mut requirements = vec![];
    if next.min_months_in_previous > 0 {
        requirements.push(time_in_stage(next, facts, today));
    }
    for module in &facts.modules {
        requirements.push(module_requirement(module, &facts.records, today));
    }
    for competency in &facts.competencies {
        requirements.push(competency_requirement(competency, facts));
    }
    if next.supervision_minutes > 0 {
        let (done, waiting) = facts.supervision;
        let needed = i64::from(next.supervision_minutes);
        let mut reason = format!("{} of {} supervision hours", hours(done), hours(needed));
        if waiting > 0 && done < needed {
            reason.push_str(&format!(
                " ({} more recorded, awaiting the worker's confirmation)",
                hours(waiting)
            ));
        }
        requirements.push(Requirement::new(
            RequirementKind::SupervisionHours,
            done >= needed,
            reason,
        ));
    }
    Eligibility {
        next_stage: StageRef {
            id: next.id.clone(),
            name: next.name.clone(),
            position: next.position,
            band_id: next.band_id.clone(),
        },
        eligible: requirements.iter().all(|r| r.met),
        evaluated_on: today,
        requirements,
    }
}

fn time_in_stage(next: &StageRow, facts: &Facts, today: NaiveDate) -> Requirement {
    let months = u32::try_from(next.min_months_in_previous).unwrap_or(0);
    let served_on = clock::served_on(facts.since, months, &facts.pauses, today);
    let paused = clock::is_paused(&facts.pauses, today);
    let mut reason = if served_on <= today {
        format!(
            "{} in stage served on {}",
            plural(i64::from(months), "month", "months"),
            day(served_on)
        )
    } else {
        let left = clock::months_left(facts.since, months, &facts.pauses, today);
        let days = (served_on - today).num_days();
        let more = if left >= 2 {
            plural(i64::from(left), "more month", "more months")
        } else {
            plural(days, "more day", "more days")
        };
        format!("{more} in stage: eligible from {}", day(served_on))
    };
    if paused {
        reason.push_str(" (the clock is stopped while the worker is paused)");
    }
    Requirement::new(
        RequirementKind::TimeInStage,
        served_on <= today && !paused,
        reason,
    )
    .on(Some(served_on))
}

fn module_requirement(
    module: &RequiredRow,
    records: &[RecordRow],
    today: NaiveDate,
) -> Requirement {
    let mine: Vec<&RecordRow> = records
        .iter()
        .filter(|r| r.module_id == module.id)
        .collect();
    let verified: Vec<&&RecordRow> = mine.iter().filter(|r| r.status == "verified").collect();
    let in_date = verified
        .iter()
        .filter(|r| r.expires_on.is_none_or(|e| e >= today))
        .max_by_key(|r| r.expires_on.unwrap_or(NaiveDate::MAX));
    let requirement = if let Some(r) = in_date {
        let reason = match r.expires_on {
            Some(e) => format!("{}: completed, in date until {}", module.title, day(e)),
            None => format!("{}: completed on {}", module.title, day(r.completed_on)),
        };
        Requirement::new(RequirementKind::Module, true, reason).on(r.expires_on)
    } else if let Some(expired) = verified.iter().filter_map(|r| r.expires_on).max() {
        Requirement::new(
            RequirementKind::Module,
            false,
            format!("{} expired on {}", module.title, day(expired)),
        )
        .on(Some(expired))
    } else if let Some(logged) = mine.iter().find(|r| r.status == "logged") {
        Requirement::new(
            RequirementKind::Module,
            false,
            format!(
                "{}: completed on {}, awaiting verification",
                module.title,
                day(logged.completed_on)
            ),
        )
    } else {
        Requirement::new(
            RequirementKind::Module,
            false,
            format!("{}: not completed yet", module.title),
        )
    };
    requirement.about(&module.id)
}

fn competency_requirement(competency: &RequiredRow, facts: &Facts) -> Requirement {
    let mine: Vec<&SignoffRow> = facts
        .signoffs
        .iter()
        .filter(|s| s.competency_id == competency.id)
        .collect();
    if let Some(s) = mine.iter().find(|s| s.status == "signed_off") {
        return Requirement::new(
            RequirementKind::Competency,
            true,
            format!(
                "{}: signed off on {}",
                competency.title,
                day(s.decided_at.unwrap_or(s.updated_at).date())
            ),
        )
        .about(&competency.id);
    }
    let state = match mine.last().map(|s| s.status.as_str()) {
        Some("requested") => "sign-off requested, awaiting a decision".to_string(),
        Some("returned") => "returned with a note on what is still needed".to_string(),
        Some("revoked") => {
            let on = mine
                .last()
                .and_then(|s| s.decided_at)
                .map(|d| day(d.date()));
            format!("sign-off revoked on {}", on.unwrap_or_default())
        }
        _ => "not signed off yet".to_string(),
    };
    let mut reason = format!("{}: {state}", competency.title);
    let needed = i64::from(competency.observations_required);
    if needed > 0 {
        let done = facts.observations.get(&competency.id).copied().unwrap_or(0);
        reason.push_str(&format!(
            "; {} of {needed} observed practices recorded",
            done.min(needed)
        ));
    }
    Requirement::new(RequirementKind::Competency, false, reason).about(&competency.id)
}

/// The eligibility of a placed worker for their next stage, or none at the top.
pub fn evaluate(
    conn: &mut DbConn,
    worker: &WorkerRow,
    position: &Position,
    pauses: Vec<PauseRow>,
    today: NaiveDate,
) -> AppResult<Option<Eligibility>> {
    let Some(next) = position.next() else {
        return Ok(None);
    };
    let facts = facts(conn, worker, position.current.started_on, next, pauses)?;
    Ok(Some(judge(next, &facts, today)))
}
