//! Pay steps inside a band, after the NHS Agenda for Change pay progression standards (in
//! force since April 2023): a step is due on the pay-step date, once the minimum years at
//! the point have passed, and is met only when statutory and mandatory training is in date
//! and an appraisal was held in the 12 months before. Appraisals are recorded here.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Actor, Role, authz};
use crate::audit::{self, Event};
use crate::db::salary::{AppraisalRow, AssignmentRow, PayPointRow};
use crate::db::training::ModuleRow;
use crate::db::workers::WorkerRow;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::explain::{Requirement, RequirementKind, day, missing};
use crate::ids::UserId;
use crate::notifications::{self, Email, Kind, Notifications};
use crate::validation;
use crate::workers::{self, Relation};

/// How far back an appraisal counts.
const APPRAISAL_MONTHS: u32 = 12;
/// Steps due within this many days that are not met are emailed about.
pub const WARNING_DAYS: u64 = 30;

/// Where a worker stands in their band: the point and since when (pay awards and
/// corrections at the same band and point do not restart the clock).
#[derive(Clone, Debug)]
pub struct PointRun {
    pub current: AssignmentRow,
    pub since: NaiveDate,
}

/// The run in force on `today` from a worker's history (oldest first).
pub fn current_run(history: &[AssignmentRow], today: NaiveDate) -> Option<PointRun> {
    let at = history.iter().rposition(|r| r.effective_from <= today)?;
    let current = history[at].clone();
    let mut since = current.effective_from;
    for row in history[..at].iter().rev() {
        if row.band_id != current.band_id || row.point != current.point {
            break;
        }
        since = row.effective_from;
    }
    Some(PointRun { current, since })
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    pub met: bool,
    /// The day the requirements are judged on: the pay-step date, or today once it passed.
    pub evaluated_on: NaiveDate,
    pub requirements: Vec<Requirement>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PayStep {
    pub point: i32,
    /// The next point's annual pay in the current table, in minor units.
    pub annual_minor: i64,
    pub currency: String,
    pub due_on: NaiveDate,
    pub readiness: Readiness,
}

/// The next point and its due date, unless the worker is at the top of the band.
pub fn next_step<'a>(
    run: &PointRun,
    points: &'a [PayPointRow],
) -> Option<(&'a PayPointRow, NaiveDate)> {
    let here = points
        .iter()
        .find(|p| p.pay_table_id == run.current.pay_table_id && p.point == run.current.point)?;
    let years = u32::try_from(here.years_to_next?).ok()?;
    let next = points
        .iter()
        .find(|p| p.pay_table_id == here.pay_table_id && p.point == here.point + 1)?;
    let due = run.since.checked_add_months(Months::new(years * 12))?;
    Some((next, due))
}

/// Judges a step due on `due_on`: mandatory training in date and an appraisal in the 12
/// months before, both on the later of the due date and today.
pub fn readiness(
    due_on: NaiveDate,
    today: NaiveDate,
    mandatory: &[&ModuleRow],
    expiries: &HashMap<&str, Vec<Option<NaiveDate>>>,
    last_appraisal: Option<NaiveDate>,
) -> Readiness {
    let on = due_on.max(today);
    let mut requirements = vec![];
    if mandatory.is_empty() {
        requirements.push(Requirement::new(
            RequirementKind::MandatoryTraining,
            true,
            "No statutory and mandatory modules are marked in the catalogue".into(),
        ));
    }
    for module in mandatory {
        let records = expiries.get(module.id.as_str());
        let in_date = records.is_some_and(|r| r.iter().any(|e| e.is_none_or(|e| e >= on)));
        let latest = records.and_then(|r| r.iter().flatten().max().copied());
        let requirement = if in_date {
            Requirement::new(
                RequirementKind::MandatoryTraining,
                true,
                format!("{} in date on {}", module.title, day(on)),
            )
        } else if let Some(latest) = latest {
            let verb = if latest < today { "expired" } else { "expires" };
            Requirement::new(
                RequirementKind::MandatoryTraining,
                false,
                format!(
                    "{} {verb} on {}, before {}",
                    module.title,
                    day(latest),
                    day(on)
                ),
            )
            .on(Some(latest))
        } else {
            Requirement::new(
                RequirementKind::MandatoryTraining,
                false,
                format!("{}: no verified completion", module.title),
            )
        };
        requirements.push(requirement.about(&module.id));
    }
    let window = on
        .checked_sub_months(Months::new(APPRAISAL_MONTHS))
        .unwrap_or(on);
    requirements.push(match last_appraisal {
        Some(held) if held >= window => Requirement::new(
            RequirementKind::Appraisal,
            true,
            format!("Appraisal held on {}", day(held)),
        )
        .on(Some(held)),
        Some(held) => Requirement::new(
            RequirementKind::Appraisal,
            false,
            format!(
                "Last appraisal on {}, more than 12 months before {}: hold one on or after {}",
                day(held),
                day(on),
                day(window)
            ),
        )
        .on(Some(held)),
        None => Requirement::new(
            RequirementKind::Appraisal,
            false,
            format!(
                "No appraisal recorded: hold one on or after {}",
                day(window)
            ),
        ),
    });
    Readiness {
        met: requirements.iter().all(|r| r.met),
        evaluated_on: on,
        requirements,
    }
}

/// Everything the readiness of several workers' steps needs, in four queries.
struct StepFacts {
    points: Vec<PayPointRow>,
    mandatory: Vec<ModuleRow>,
    expiries: HashMap<String, HashMap<String, Vec<Option<NaiveDate>>>>,
    appraisals: HashMap<String, NaiveDate>,
}

fn step_facts(conn: &mut DbConn, runs: &[(WorkerKey, PointRun)]) -> AppResult<StepFacts> {
    let mut table_ids: Vec<String> = runs
        .iter()
        .map(|(_, r)| r.current.pay_table_id.clone())
        .collect();
    table_ids.sort();
    table_ids.dedup();
    let points = db::salary::points_of(conn, &table_ids)?;
    let mut orgs: Vec<String> = runs
        .iter()
        .map(|(w, _)| w.organisation_id.clone())
        .collect();
    orgs.sort();
    orgs.dedup();
    let mandatory = if runs.is_empty() {
        vec![]
    } else {
        db::training::mandatory_modules(conn, &orgs)?
    };
    let worker_ids: Vec<String> = runs.iter().map(|(w, _)| w.worker_id.clone()).collect();
    let module_ids: Vec<String> = mandatory.iter().map(|m| m.id.clone()).collect();
    let mut expiries: HashMap<String, HashMap<String, Vec<Option<NaiveDate>>>> = HashMap::new();
    if !module_ids.is_empty() {
        for (worker, module, expires) in
            db::training::verified_expiries(conn, &worker_ids, &module_ids)?
        {
            expiries
                .entry(worker)
                .or_default()
                .entry(module)
                .or_default()
                .push(expires);
        }
    }
    let appraisals = if worker_ids.is_empty() {
        HashMap::new()
    } else {
        db::salary::latest_appraisals(conn, &worker_ids)?
            .into_iter()
            .filter_map(|(w, d)| d.map(|d| (w, d)))
            .collect()
    };
    Ok(StepFacts {
        points,
        mandatory,
        expiries,
        appraisals,
    })
}

#[derive(Clone, Debug)]
struct WorkerKey {
    worker_id: String,
    organisation_id: String,
}

impl StepFacts {
    fn step(&self, key: &WorkerKey, run: &PointRun, today: NaiveDate) -> Option<PayStep> {
        let (next, due_on) = next_step(run, &self.points)?;
        let mandatory: Vec<&ModuleRow> = self
            .mandatory
            .iter()
            .filter(|m| m.organisation_id == key.organisation_id)
            .collect();
        let empty = HashMap::new();
        let expiries: HashMap<&str, Vec<Option<NaiveDate>>> = self
            .expiries
            .get(&key.worker_id)
            .unwrap_or(&empty)
            .iter()
            .map(|(k, v)| (k.as_str(), v.clone()))
            .collect();
        Some(PayStep {
            point: next.point,
            annual_minor: next.annual_minor,
            currency: run.current.currency.clone(),
            due_on,
            readiness: readiness(
                due_on,
                today,
                &mandatory,
                &expiries,
                self.appraisals.get(&key.worker_id).copied(),
            ),
        })
    }
}

/// The next pay step of one worker, from their salary history.
pub fn for_worker(
    conn: &mut DbConn,
    worker: &WorkerRow,
    history: &[AssignmentRow],
    today: NaiveDate,
) -> AppResult<Option<PayStep>> {
    let Some(run) = current_run(history, today) else {
        return Ok(None);
    };
    let key = WorkerKey {
        worker_id: worker.user_id.clone(),
        organisation_id: worker.organisation_id.clone(),
    };
    let runs = vec![(key.clone(), run.clone())];
    let facts = step_facts(conn, &runs)?;
    Ok(facts.step(&key, &run, today))
}

/// Refuses a pay step that is not the next point, is early, or is not met.
pub fn check_step(
    conn: &mut DbConn,
    worker: &WorkerRow,
    band_id: &str,
    point: i32,
    effective_from: NaiveDate,
) -> AppResult<()> {
    let history = db::salary::assignments(conn, &worker.user_id)?;
    let run = current_run(&history, effective_from)
        .filter(|r| r.current.band_id == band_id)
        .ok_or_else(|| {
            AppError::invalid("band_id", "a pay step stays in the worker's current band")
        })?;
    let today = Utc::now().date_naive();
    let step = for_worker(conn, worker, &history, effective_from.max(today))?;
    let Some(step) = step.filter(|s| s.point == point) else {
        return Err(AppError::invalid(
            "point",
            format!(
                "a pay step moves from point {} to the next point of the band",
                run.current.point
            ),
        ));
    };
    if effective_from < step.due_on {
        return Err(AppError::invalid(
            "effective_from",
            format!("the step is due on {}", step.due_on),
        ));
    }
    if !step.readiness.met {
        return Err(AppError::Unprocessable(format!(
            "The pay step is not met: {}.",
            missing(&step.readiness.requirements).join("; ")
        )));
    }
    Ok(())
}

/// A step due soon, for the programme managers' list.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct DueStep {
    pub worker_id: UserId,
    pub worker_name: String,
    pub band_code: String,
    pub current_point: i32,
    #[serde(flatten)]
    pub step: PayStep,
}

/// Steps due by `today + within_days` (overdue ones included) of the workers of one
/// organisation, or of all: earliest first.
fn due_steps(
    conn: &mut DbConn,
    organisation: Option<&str>,
    today: NaiveDate,
    within_days: u64,
) -> AppResult<Vec<(WorkerKey, String, i32, PayStep)>> {
    let rows = db::salary::histories_of_current_workers(conn, organisation)?;
    let mut runs = vec![];
    let mut start = 0;
    while start < rows.len() {
        let end = rows[start..]
            .iter()
            .position(|r| r.worker_id != rows[start].worker_id)
            .map_or(rows.len(), |n| start + n);
        if let Some(run) = current_run(&rows[start..end], today) {
            let key = WorkerKey {
                worker_id: rows[start].worker_id.clone(),
                organisation_id: rows[start].organisation_id.clone(),
            };
            runs.push((key, run));
        }
        start = end;
    }
    let facts = step_facts(conn, &runs)?;
    let horizon = today + chrono::Days::new(within_days);
    let mut due: Vec<_> = runs
        .iter()
        .filter_map(|(key, run)| {
            let step = facts.step(key, run, today)?;
            (step.due_on <= horizon).then(|| {
                (
                    key.clone(),
                    run.current.band_id.clone(),
                    run.current.point,
                    step,
                )
            })
        })
        .collect();
    due.sort_by_key(|(k, _, _, s)| (s.due_on, k.worker_id.clone()));
    Ok(due)
}

/// The pay steps due in the next `within_days` days in the manager's organisation.
pub async fn list_due(db: &Database, actor: &Actor, within_days: u32) -> AppResult<Vec<DueStep>> {
    let org = authz::own_organisation_as_manager(actor, "Programme managers see pay steps due.")?;
    if within_days > 366 {
        return Err(AppError::invalid("within_days", "must be 0 to 366"));
    }
    db.run(move |conn| {
        let today = Utc::now().date_naive();
        let due = due_steps(conn, Some(&org.to_db()), today, u64::from(within_days))?;
        let bands: HashMap<String, String> = db::salary::list_bands(conn, Some(&org.to_db()))?
            .into_iter()
            .map(|b| (b.id, b.code))
            .collect();
        let ids: Vec<String> = due.iter().map(|(k, ..)| k.worker_id.clone()).collect();
        let names: HashMap<String, String> = db::users::names_of(conn, &ids)?.into_iter().collect();
        due.into_iter()
            .map(|(key, band_id, point, step)| {
                Ok(DueStep {
                    worker_id: UserId::from_db(&key.worker_id)?,
                    worker_name: names.get(&key.worker_id).cloned().unwrap_or_default(),
                    band_code: bands.get(&band_id).cloned().unwrap_or_default(),
                    current_point: point,
                    step,
                })
            })
            .collect()
    })
    .await
}

/// Emails the worker and their organisation's programme managers, once per step, when a
/// step due within 30 days is not met.
pub async fn warn_unmet(
    db: &Database,
    mailer: &Arc<Notifications>,
    today: NaiveDate,
) -> AppResult<()> {
    let mailer_in = mailer.clone();
    db.write(move |conn| {
        for (key, _, _, step) in due_steps(conn, None, today, WARNING_DAYS)? {
            if step.readiness.met || step.due_on < today {
                continue;
            }
            let worker = notifications::recipient_for_user(conn, &key.worker_id)?;
            let missing = missing(&step.readiness.requirements);
            let mut recipients = vec![worker.clone()];
            for manager in db::users::active_with_role(
                conn,
                &key.organisation_id,
                Role::ProgrammeManager.as_str(),
            )? {
                recipients.push(notifications::recipient_for_user(conn, &manager)?);
            }
            for recipient in recipients {
                let to = recipient.user_id.clone().unwrap_or_default();
                let own = to == key.worker_id;
                mailer_in.enqueue(
                    conn,
                    Email {
                        kind: Kind::PayStepAtRisk,
                        recipient,
                        dedupe_key: format!("pay_step_at_risk:{}:{}:{to}", key.worker_id, step.due_on),
                        values: serde_json::json!({
                            "own": own,
                            "worker_name": worker.name,
                            "due_on": day(step.due_on),
                            "missing": missing,
                            "link": mailer_in.link(&crate::notifications::links::pathway_of(&key.worker_id, own)),
                        }),
                    },
                )?;
            }
        }
        Ok(())
    })
    .await?;
    mailer.wake();
    Ok(())
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Appraisal {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub worker_id: UserId,
    pub held_on: NaiveDate,
    pub appraiser_id: UserId,
    pub recorded_by: UserId,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<AppraisalRow> for Appraisal {
    type Error = AppError;
    fn try_from(row: AppraisalRow) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            worker_id: UserId::from_db(&row.worker_id)?,
            held_on: row.held_on,
            appraiser_id: UserId::from_db(&row.appraiser_id)?,
            recorded_by: UserId::from_db(&row.recorded_by)?,
            created_at: row.created_at.and_utc(),
        })
    }
}

/// Records an appraisal (the current supervisor or a programme manager); the appraiser is
/// the caller unless another supervisor or manager of the organisation is named.
pub async fn record_appraisal(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    held_on: NaiveDate,
    appraiser: Option<UserId>,
) -> AppResult<Appraisal> {
    let mut errors = FieldErrors::new();
    validation::past_day(held_on, "held_on", &mut errors);
    crate::error::valid(errors)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, relation) = workers::load_visible(conn, &actor, worker)?;
        if !matches!(relation, Relation::CurrentSupervisor | Relation::Manager) {
            return Err(AppError::Forbidden(
                "The worker's supervisor or a programme manager records appraisals.",
            ));
        }
        let appraiser = appraiser.unwrap_or(actor.user_id).to_db();
        let user = db::users::find(conn, &appraiser)?;
        if !user.is_some_and(|u| {
            let same = u.organisation_id.as_deref() == Some(row.organisation_id.as_str());
            u.active && authz::may_take_part(&u.role, authz::Part::Appraiser, same)
        }) {
            return Err(AppError::invalid(
                "appraiser_id",
                "must be an active supervisor or programme manager of the organisation",
            ));
        }
        let appraisal = AppraisalRow {
            id: uuid::Uuid::now_v7().to_string(),
            worker_id: row.user_id.clone(),
            organisation_id: row.organisation_id.clone(),
            held_on,
            appraiser_id: appraiser,
            recorded_by: actor.user_id.to_db(),
            created_at: db::now(),
        };
        db::salary::insert_appraisal(conn, &appraisal)?;
        audit::record(
            conn,
            Event::by(&actor, "appraisal.recorded", "worker")
                .on(&row.user_id)
                .in_org(actor.organisation_id),
        )?;
        Appraisal::try_from(appraisal)
    })
    .await
}

pub async fn list_appraisals(
    db: &Database,
    actor: &Actor,
    worker: UserId,
) -> AppResult<Vec<Appraisal>> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (row, relation) = workers::load_visible(conn, &actor, worker)?;
        if relation == Relation::Admin {
            return Err(AppError::Forbidden(
                "Appraisals belong to the organisation.",
            ));
        }
        db::salary::appraisals(conn, &row.user_id)?
            .into_iter()
            .map(Appraisal::try_from)
            .collect()
    })
    .await
}

#[cfg(test)]
mod tests {
    //! Pay-step readiness alone, on boundary days, with no database: each row a case.

    use chrono::NaiveDateTime;

    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    fn module(id: &str) -> ModuleRow {
        ModuleRow {
            id: id.into(),
            organisation_id: "o".into(),
            code: id.to_uppercase(),
            code_key: id.into(),
            title: format!("Module {id}"),
            description: String::new(),
            category: "statutory".into(),
            typical_minutes: None,
            validity_months: Some(12),
            active: true,
            version: 1,
            created_at: NaiveDateTime::default(),
            updated_at: NaiveDateTime::default(),
            mandatory: true,
        }
    }

    /// Judged on the due date (or today, once it has passed): training in date on that day
    /// (its expiry day included), an appraisal in the 12 months before it (the first day of
    /// the window included).
    #[test]
    fn readiness_on_its_boundary_days() {
        let due = d(2026, 4, 1);
        let window_opens = d(2025, 4, 1);
        let fire = module("fire");
        type Case = (
            &'static str,
            NaiveDate,
            Vec<Option<NaiveDate>>,
            Option<NaiveDate>,
            bool,
            NaiveDate,
        );
        let cases: Vec<Case> = vec![
            (
                "all in date",
                d(2026, 3, 1),
                vec![Some(d(2026, 9, 1))],
                Some(d(2025, 10, 1)),
                true,
                due,
            ),
            (
                "training expires on the due date",
                d(2026, 3, 1),
                vec![Some(due)],
                Some(d(2025, 10, 1)),
                true,
                due,
            ),
            (
                "training expires the day before",
                d(2026, 3, 1),
                vec![due.pred_opt()],
                Some(d(2025, 10, 1)),
                false,
                due,
            ),
            (
                "training that never expires",
                d(2026, 3, 1),
                vec![None],
                Some(d(2025, 10, 1)),
                true,
                due,
            ),
            (
                "no completion at all",
                d(2026, 3, 1),
                vec![],
                Some(d(2025, 10, 1)),
                false,
                due,
            ),
            (
                "appraisal on the window's first day",
                d(2026, 3, 1),
                vec![None],
                Some(window_opens),
                true,
                due,
            ),
            (
                "appraisal the day before the window",
                d(2026, 3, 1),
                vec![None],
                window_opens.pred_opt(),
                false,
                due,
            ),
            ("no appraisal", d(2026, 3, 1), vec![None], None, false, due),
            // Past its date the step is judged on today: an appraisal that was in time for
            // the due date may no longer be.
            (
                "judged on today once overdue",
                d(2026, 5, 1),
                vec![None],
                Some(d(2025, 4, 15)),
                false,
                d(2026, 5, 1),
            ),
        ];
        for (what, today, expiries, appraisal, met, on) in cases {
            let records: HashMap<&str, Vec<Option<NaiveDate>>> = if expiries.is_empty() {
                HashMap::new()
            } else {
                HashMap::from([("fire", expiries.clone())])
            };
            let judged = readiness(due, today, &[&fire], &records, appraisal);
            assert_eq!(judged.met, met, "{what}: {:?}", judged.requirements);
            assert_eq!(judged.evaluated_on, on, "{what}");
        }
        // No mandatory module in the catalogue: the training requirement is met and says so.
        let judged = readiness(
            due,
            d(2026, 3, 1),
            &[],
            &HashMap::new(),
            Some(d(2025, 10, 1)),
        );
        assert!(judged.met);
        assert!(
            judged.requirements[0]
                .reason
                .contains("No statutory and mandatory modules")
        );
        // Expired before today reads "expired"; later than today but before the date, "expires".
        let soon = HashMap::from([("fire", vec![Some(d(2026, 3, 20))])]);
        let judged = readiness(due, d(2026, 3, 1), &[&fire], &soon, Some(d(2025, 10, 1)));
        assert!(
            judged.requirements[0]
                .reason
                .contains("expires on 20 March 2026")
        );
        let judged = readiness(due, d(2026, 3, 25), &[&fire], &soon, Some(d(2025, 10, 1)));
        assert!(
            judged.requirements[0]
                .reason
                .contains("expired on 20 March 2026")
        );
    }
}
