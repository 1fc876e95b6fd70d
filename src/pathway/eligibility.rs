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

#[cfg(test)]
mod tests {
    //! The judgement alone, on boundary days, with no database: each row a case.

    use chrono::{Days, NaiveDateTime};

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn stage(months: i32, supervision_minutes: i32) -> StageRow {
        StageRow {
            id: "stage".into(),
            pathway_id: "pathway".into(),
            position: 2,
            name: "Advanced peer support worker".into(),
            band_id: None,
            min_months_in_previous: months,
            supervision_minutes,
            version: 1,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        }
    }

    fn required(id: &str, observations: i32) -> RequiredRow {
        RequiredRow {
            stage_id: "stage".into(),
            id: id.into(),
            code: id.to_uppercase(),
            title: format!("Title of {id}"),
            observations_required: observations,
        }
    }

    fn record(
        module: &str,
        status: &str,
        completed: NaiveDate,
        expires: Option<NaiveDate>,
    ) -> RecordRow {
        RecordRow {
            id: format!("{module}-{status}-{completed}"),
            worker_id: "w".into(),
            organisation_id: "o".into(),
            module_id: module.into(),
            completed_on: completed,
            minutes: 60,
            provider: "p".into(),
            evidence: String::new(),
            status: status.into(),
            expires_on: expires,
            decided_by: None,
            decided_at: None,
            decision_reason: None,
            version: 1,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        }
    }

    fn signoff(competency: &str, status: &str) -> SignoffRow {
        SignoffRow {
            id: format!("{competency}-{status}"),
            worker_id: "w".into(),
            organisation_id: "o".into(),
            competency_id: competency.into(),
            status: status.into(),
            evidence: "e".into(),
            decided_by: None,
            decided_at: Some(d(2026, 3, 1).and_hms_opt(10, 0, 0).unwrap_or_default()),
            reason: None,
            version: 1,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
        }
    }

    fn facts(since: NaiveDate) -> Facts {
        Facts {
            since,
            pauses: vec![],
            modules: vec![],
            records: vec![],
            competencies: vec![],
            signoffs: vec![],
            observations: HashMap::new(),
            supervision: (0, 0),
        }
    }

    /// Time in stage: met on the very day it is served, not the day before; a pause moves
    /// the day by its length and holds the clock while it lasts.
    #[test]
    fn time_in_stage_on_its_boundary_days() {
        let since = d(2026, 1, 31);
        let pause = |from: NaiveDate, to: Option<NaiveDate>| PauseRow {
            id: "p".into(),
            worker_id: "w".into(),
            organisation_id: "o".into(),
            starts_on: from,
            planned_return_on: None,
            ended_on: to,
            category: "leave".into(),
            recorded_by: "s".into(),
            ended_by: None,
            created_at: NaiveDateTime::default(),
        };
        let cases: &[(&str, Vec<PauseRow>, NaiveDate, bool, NaiveDate)] = &[
            // Six months from 31 January end on the last day of July.
            (
                "the day before",
                vec![],
                d(2026, 7, 30),
                false,
                d(2026, 7, 31),
            ),
            (
                "the day itself",
                vec![],
                d(2026, 7, 31),
                true,
                d(2026, 7, 31),
            ),
            ("the day after", vec![], d(2026, 8, 1), true, d(2026, 7, 31)),
            (
                "a ten-day pause moves it ten days",
                vec![pause(d(2026, 3, 1), Some(d(2026, 3, 11)))],
                d(2026, 8, 9),
                false,
                d(2026, 8, 10),
            ),
            (
                "and it is met on that day",
                vec![pause(d(2026, 3, 1), Some(d(2026, 3, 11)))],
                d(2026, 8, 10),
                true,
                d(2026, 8, 10),
            ),
            (
                "an open pause holds the clock even past the day",
                vec![pause(d(2026, 7, 1), None)],
                d(2026, 9, 1),
                false,
                d(2026, 7, 31) + Days::new(62),
            ),
        ];
        for (what, pauses, today, met, on) in cases {
            let mut f = facts(since);
            f.pauses = pauses.clone();
            let judged = judge(&stage(6, 0), &f, *today);
            let time = &judged.requirements[0];
            assert_eq!(time.kind, RequirementKind::TimeInStage, "{what}");
            assert_eq!(time.met, *met, "{what}: {}", time.reason);
            assert_eq!(time.date, Some(*on), "{what}: {}", time.reason);
            assert_eq!(judged.eligible, *met, "{what}");
        }
    }

    /// A module counts when verified and in date on the day judged (its expiry day included);
    /// an expired, logged or missing one says which.
    #[test]
    fn modules_on_their_expiry_day() {
        let today = d(2026, 6, 15);
        let done = d(2025, 6, 15);
        let cases: &[(&str, Vec<RecordRow>, bool, &str)] = &[
            ("none", vec![], false, "not completed yet"),
            (
                "logged only",
                vec![record("m", "logged", done, None)],
                false,
                "awaiting verification",
            ),
            (
                "verified, no expiry",
                vec![record("m", "verified", done, None)],
                true,
                "completed on",
            ),
            (
                "expires today",
                vec![record("m", "verified", done, Some(today))],
                true,
                "in date until",
            ),
            (
                "expired yesterday",
                vec![record("m", "verified", done, today.pred_opt())],
                false,
                "expired on",
            ),
            (
                "an expired one and a renewal",
                vec![
                    record("m", "verified", done, today.pred_opt()),
                    record("m", "verified", today, Some(d(2027, 6, 15))),
                ],
                true,
                "in date until 15 June 2027",
            ),
            (
                "rejected",
                vec![record("m", "rejected", done, None)],
                false,
                "not completed yet",
            ),
            (
                "another module's",
                vec![record("x", "verified", done, None)],
                false,
                "not completed yet",
            ),
        ];
        for (what, records, met, says) in cases {
            let mut f = facts(d(2020, 1, 1));
            f.modules = vec![required("m", 0)];
            f.records = records.clone();
            let judged = judge(&stage(0, 0), &f, today);
            let module = &judged.requirements[0];
            assert_eq!(module.met, *met, "{what}: {}", module.reason);
            assert!(module.reason.contains(says), "{what}: {}", module.reason);
            assert_eq!(judged.eligible, *met, "{what}");
        }
    }

    /// Competencies by the state of their sign-off; the observed practices told as done of
    /// needed, never more than needed; supervision hours met at exactly the hours asked.
    #[test]
    fn competencies_and_supervision_at_their_thresholds() {
        let today = d(2026, 6, 15);
        let cases: &[(&str, Vec<SignoffRow>, i64, bool, &str)] = &[
            (
                "nothing",
                vec![],
                0,
                false,
                "not signed off yet; 0 of 5 observed",
            ),
            (
                "requested",
                vec![signoff("c", "requested")],
                3,
                false,
                "awaiting a decision; 3 of 5",
            ),
            (
                "returned",
                vec![signoff("c", "returned")],
                5,
                false,
                "returned with a note",
            ),
            (
                "revoked",
                vec![signoff("c", "revoked")],
                9,
                false,
                "revoked on 1 March 2026; 5 of 5",
            ),
            (
                "signed off",
                vec![signoff("c", "signed_off")],
                5,
                true,
                "signed off on 1 March 2026",
            ),
        ];
        for (what, signoffs, observed, met, says) in cases {
            let mut f = facts(d(2020, 1, 1));
            f.competencies = vec![required("c", 5)];
            f.signoffs = signoffs.clone();
            f.observations.insert("c".into(), *observed);
            let judged = judge(&stage(0, 0), &f, today);
            let c = &judged.requirements[0];
            assert_eq!(c.met, *met, "{what}: {}", c.reason);
            assert!(c.reason.contains(says), "{what}: {}", c.reason);
        }
        for (done, waiting, met) in [
            (599, 0, false),
            (600, 0, true),
            (540, 120, false),
            (660, 0, true),
        ] {
            let mut f = facts(d(2020, 1, 1));
            f.supervision = (done, waiting);
            let judged = judge(&stage(0, 600), &f, today);
            let s = &judged.requirements[0];
            assert_eq!(s.kind, RequirementKind::SupervisionHours);
            assert_eq!(s.met, met, "{done} minutes: {}", s.reason);
            assert_eq!(
                s.reason.contains("awaiting the worker's confirmation"),
                waiting > 0
            );
        }
        // Nothing required: eligible, with nothing to list.
        let judged = judge(&stage(0, 0), &facts(d(2020, 1, 1)), today);
        assert!(judged.eligible && judged.requirements.is_empty());
    }
}
