//! The demo's peer workers, each with a story told through the domain services on the days it
//! happened: a start as a peer support worker, stages reached (the last one of Robin's through
//! a proposal the manager approved), training with its renewals, sign-offs after their observed
//! practice, fortnightly supervision, an appraisal, and for one a wellbeing pause. (Recovery
//! plans and check-ins are told apart, in `recovery.rs`.)

use std::collections::BTreeMap;
use std::sync::Arc;

use chrono::{Days, Months, NaiveDate, NaiveDateTime, NaiveTime};

use super::catalogue::{Catalogue, MANDATORY_MODULES, STAGES, first_pay_table};
use super::{actor, uuid};
use crate::access::{Actor, Role};
use crate::competencies::observations::{self, ObservationInput, Outcome};
use crate::competencies::signoffs;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};
use crate::ids::UserId;
use crate::notifications::Notifications;
use crate::training::records::{self, RecordInput};
use crate::workers::pauses::{self, Category as PauseCategory};
use crate::workers::supervision::{self, SessionInput, SessionKind};
use crate::workers::{self, NewWorker};
use crate::{pathway, salary};

/// One demo worker's story.
pub struct Story {
    pub name: &'static str,
    /// Months since they started, as a peer support worker.
    pub months: u32,
    /// 0: Alex Supervisor, 1: Morgan Supervisor.
    pub supervisor: usize,
    /// Each later stage reached: its index in the pathway and the months after the start.
    pub moves: &'static [(usize, u32)],
    /// The last move came through a proposal their supervisor made and the manager approved.
    pub proposed: bool,
    /// Has done everything the next stage asks; only time in stage may be missing.
    pub ready: bool,
    /// Keeps a recovery plan and checks in, sharing some of it.
    pub recovery: bool,
    /// On a wellbeing pause now.
    pub paused: bool,
}

const fn story(name: &'static str, months: u32, supervisor: usize) -> Story {
    Story {
        name,
        months,
        supervisor,
        moves: &[],
        proposed: false,
        ready: false,
        recovery: false,
        paused: false,
    }
}

/// Every paid stage is shown: Robin and Lee are peer case workers, Danny, Maxine and Sam
/// advanced peer support workers, Jo a peer support worker. Danny is eligible for the next
/// stage now, Maxine within weeks (time in stage is all she lacks), Lee is paused.
pub const WORKERS: &[Story] = &[
    Story {
        moves: &[(2, 12), (3, 36)],
        proposed: true,
        ..story("Robin Ashworth", 43, 0)
    },
    Story {
        moves: &[(2, 12)],
        ready: true,
        recovery: true,
        ..story("Danny Kowalski", 34, 0)
    },
    Story {
        moves: &[(2, 12)],
        ready: true,
        recovery: true,
        ..story("Maxine Achebe", 29, 0)
    },
    Story {
        moves: &[(2, 12), (3, 36)],
        paused: true,
        ..story("Lee Fairbairn", 48, 1)
    },
    Story {
        moves: &[(2, 12)],
        recovery: true,
        ..story("Sam O'Rourke", 20, 1)
    },
    story("Jo Whitfield", 5, 1),
];

/// A module every worker has logged recently and that still waits for verification, so each
/// supervisor's queue has training to check. It is in no stage, so it blocks nobody.
const AWAITING_VERIFICATION: &str = "HCV-11";

/// What every story is told with.
pub struct Demo<'a> {
    pub db: &'a Database,
    pub mailer: &'a Arc<Notifications>,
    pub manager: &'a Actor,
    pub supervisors: &'a [Actor; 2],
    pub catalogue: &'a Catalogue,
    pub today: NaiveDate,
}

fn months_after(day: NaiveDate, months: u32) -> NaiveDate {
    day.checked_add_months(Months::new(months)).unwrap_or(day)
}

fn days_before(day: NaiveDate, days: u64) -> NaiveDate {
    day.checked_sub_days(Days::new(days)).unwrap_or(day)
}

/// Half past nine in the morning `days` after `day`, never later than now: when the demo's
/// history was recorded.
fn at(day: NaiveDate, days: u64) -> NaiveDateTime {
    let day = day.checked_add_days(Days::new(days)).unwrap_or(day);
    day.and_time(NaiveTime::from_hms_opt(9, 30, 0).unwrap_or(NaiveTime::MIN))
        .min(db::now())
}

/// The `k`-th of `n` days spread evenly through `[from, to)`.
fn spread(from: NaiveDate, to: NaiveDate, k: usize, n: usize) -> NaiveDate {
    let span = (to - from).num_days().max(1);
    let step = span * (k as i64 + 1) / (n as i64 + 1);
    from.checked_add_days(Days::new(step as u64))
        .unwrap_or(from)
}

/// What a worker achieved, each item on the day it happened.
#[derive(Default)]
struct Plan {
    /// Module code to the day of its first completion.
    modules: BTreeMap<&'static str, NaiveDate>,
    /// Competency code to the day it was signed off (or, if `None`, only asked for).
    competencies: Vec<(&'static str, Option<NaiveDate>)>,
}

impl Plan {
    fn module(&mut self, code: &'static str, on: NaiveDate) {
        let day = self.modules.entry(code).or_insert(on);
        *day = (*day).min(on);
    }
}

/// The days each stage was reached, the first at the start.
fn reached(s: &Story, start: NaiveDate) -> Vec<(usize, NaiveDate)> {
    std::iter::once((1, start))
        .chain(
            s.moves
                .iter()
                .map(|(stage, m)| (*stage, months_after(start, *m))),
        )
        .collect()
}

/// What the story's worker did: each stage's requirements before reaching it, the mandatory
/// subjects in their first weeks, and toward the next stage all of it (ready) or a part.
fn plan_of(s: &Story, start: NaiveDate, today: NaiveDate) -> Plan {
    let mut plan = Plan::default();
    let stages = reached(s, start);
    for code in MANDATORY_MODULES {
        plan.module(code, spread(start, months_after(start, 2), 0, 1));
    }
    // Each stage's requirements were met in the time before it was reached (the first
    // stage's in the first three months).
    for (i, (stage, on)) in stages.iter().enumerate() {
        let (from, to) = match i.checked_sub(1) {
            Some(before) => (stages[before].1, *on),
            None => (start, months_after(start, 3)),
        };
        let (.., modules, competencies) = STAGES[*stage];
        for (k, code) in modules.iter().enumerate() {
            plan.module(code, spread(from, to, k, modules.len()));
        }
        for (k, code) in competencies.iter().enumerate() {
            plan.competencies
                .push((code, Some(spread(from, to, k, competencies.len()))));
        }
    }
    let (current, since) = stages[stages.len() - 1];
    let next = current + 1;
    if next < STAGES.len() {
        let (.., modules, competencies) = STAGES[next];
        let until = days_before(today, 14).max(since);
        // Not ready: about half of the next stage done, and the next competency asked for.
        let part = |n: usize| if s.ready { n } else { n / 2 };
        for (k, code) in modules.iter().take(part(modules.len())).enumerate() {
            plan.module(code, spread(since, until, k, modules.len()));
        }
        let signed = part(competencies.len());
        for (k, code) in competencies.iter().enumerate() {
            if k < signed {
                plan.competencies
                    .push((code, Some(spread(since, until, k, competencies.len()))));
            } else if k == signed {
                plan.competencies.push((code, None));
            }
        }
    }
    plan
}

/// Completions of a module from its first: renewed as each one runs out, the last of some
/// moved so that it falls due within weeks (so reminders have something to say).
fn completions(
    first: NaiveDate,
    validity: Option<u32>,
    due_soon: bool,
    today: NaiveDate,
) -> Vec<NaiveDate> {
    let mut days = vec![first];
    let Some(months) = validity else {
        return days;
    };
    while let Some(next) = days
        .last()
        .and_then(|d| d.checked_add_months(Months::new(months)))
        .filter(|d| *d <= today)
    {
        days.push(next);
    }
    let soon = today
        .checked_sub_months(Months::new(months))
        .and_then(|d| d.checked_add_days(Days::new(30)))
        .unwrap_or(today);
    let earlier = days.len().checked_sub(2).map(|i| days[i]);
    if let Some(last) = days
        .last_mut()
        .filter(|_| due_soon && soon >= first && earlier.is_none_or(|e| soon > e))
    {
        *last = soon;
    }
    days
}

impl Demo<'_> {
    /// Tells one story: the worker and everything they did, on its days.
    pub async fn tell(&self, s: &Story, user: UserId) -> AppResult<()> {
        let today = self.today;
        let start = today
            .checked_sub_months(Months::new(s.months))
            .unwrap_or(today);
        let supervisor = &self.supervisors[s.supervisor];
        let org = self.manager.organisation_id;
        workers::create_worker(
            self.db,
            self.manager,
            NewWorker {
                user_id: user,
                supervisor_id: Some(supervisor.user_id),
                preferred_name: None,
                start_date: start,
            },
        )
        .await?;
        let me = actor(user, Role::PeerWorker, org);
        let mut stages = reached(s, start);
        let approved = if s.proposed { stages.pop() } else { None };
        self.place_and_pay(user, &stages).await?;
        let plan = plan_of(s, start, today);
        self.training(&me, supervisor, &plan).await?;
        self.signoffs(&me, supervisor, start, &plan).await?;
        self.supervision(&me, supervisor, start).await?;
        if start < days_before(today, 90) {
            salary::steps::record_appraisal(
                self.db,
                supervisor,
                user,
                days_before(today, 60),
                None,
            )
            .await?;
        }
        if let Some((_, on)) = approved {
            self.progression(supervisor, user, on).await?;
        }
        if s.paused {
            pauses::start(
                self.db,
                supervisor,
                user,
                days_before(today, 20),
                today.checked_add_days(Days::new(25)),
                PauseCategory::Leave,
            )
            .await?;
        }
        Ok(())
    }

    /// Places the worker at each stage on the day they reached it, with the stage's pay.
    async fn place_and_pay(&self, worker: UserId, stages: &[(usize, NaiveDate)]) -> AppResult<()> {
        let mut pay: Vec<(NaiveDate, usize)> = vec![];
        for (stage, since) in stages {
            pathway::place(
                self.db,
                self.manager,
                worker,
                self.catalogue.stages[*stage],
                *since,
            )
            .await?;
            let from = (*since).max(first_pay_table());
            // Stages before the first table collapse onto its day: the later stage's pay holds.
            pay.retain(|(day, _)| *day != from);
            pay.push((from, *stage));
        }
        for (from, stage) in pay {
            let band = STAGES[stage].1.unwrap_or(3);
            salary::history::assign(
                self.db,
                self.manager,
                worker,
                salary::history::AssignInput {
                    band_id: uuid(&salary::afc_band_id(band))?,
                    point: 1,
                    effective_from: from,
                    reason: salary::history::Reason::Appointment,
                    note: Some(format!("Appointed as {}", STAGES[stage].0)),
                },
            )
            .await?;
        }
        Ok(())
    }

    /// Logged by the worker the day after the training.
    async fn log(
        &self,
        me: &Actor,
        module: uuid::Uuid,
        completed_on: NaiveDate,
    ) -> AppResult<uuid::Uuid> {
        let record = records::log_training_at(
            self.db,
            me,
            me.user_id,
            RecordInput {
                module_id: module,
                completed_on,
                hours: 3.0,
                provider: "Hepatitis C Trust peer training".into(),
                evidence: Some("Certificate on file".into()),
            },
            at(completed_on, 1),
        )
        .await?;
        uuid(&record.id)
    }

    /// Every completion logged by the worker and verified by the supervisor a week later;
    /// one recent module still waits for verification.
    async fn training(&self, me: &Actor, supervisor: &Actor, plan: &Plan) -> AppResult<()> {
        for (k, (code, first)) in plan.modules.iter().enumerate() {
            let (_, module, validity) = self
                .catalogue
                .module(code)
                .ok_or_else(|| AppError::internal("a demo module is missing"))?;
            for done in completions(*first, *validity, k % 5 == 1, self.today) {
                let id = self.log(me, *module, done).await?;
                records::decide_record_at(self.db, self.mailer, supervisor, id, None, at(done, 8))
                    .await?;
            }
        }
        let (_, module, _) = self
            .catalogue
            .module(AWAITING_VERIFICATION)
            .ok_or_else(|| AppError::internal("a demo module is missing"))?;
        self.log(me, *module, days_before(self.today, 4)).await?;
        Ok(())
    }

    /// Each sign-off asked for a week before it was given, after its observed practice; the
    /// last one asked for waits in the supervisor's queue.
    async fn signoffs(
        &self,
        me: &Actor,
        supervisor: &Actor,
        start: NaiveDate,
        plan: &Plan,
    ) -> AppResult<()> {
        for (code, signed_on) in &plan.competencies {
            let (_, competency, observed) = self
                .catalogue
                .competency(code)
                .ok_or_else(|| AppError::internal("a demo competency is missing"))?;
            // Asked for a week before the sign-off; the open requests came in this week, so
            // none is yet overdue in the supervisor's queue.
            let asked_on = match signed_on {
                Some(day) => days_before(*day, 7),
                None => days_before(self.today, 3),
            }
            .max(start);
            for n in 0..*observed {
                let back = u64::try_from(n).unwrap_or(0) * 5 + 2;
                observations::record(
                    self.db,
                    supervisor,
                    me.user_id,
                    ObservationInput {
                        competency_id: *competency,
                        observed_on: days_before(asked_on, back).max(start),
                        outcome: Outcome::Competent,
                        note: Some("Observed at the outreach clinic".into()),
                    },
                )
                .await?;
            }
            let asked = signoffs::request_at(
                self.db,
                self.mailer,
                me,
                me.user_id,
                *competency,
                "Practice log and reflections".into(),
                at(asked_on, 0),
            )
            .await?;
            if let Some(day) = signed_on {
                signoffs::decide_at(
                    self.db,
                    self.mailer,
                    supervisor,
                    uuid(&asked.id)?,
                    signoffs::Decision::SignOff(None),
                    at(*day, 0),
                )
                .await?;
            }
        }
        Ok(())
    }

    /// Supervision every fortnight over the last two years, a one-to-one and a reflective
    /// practice group in turn; the latest session waits for the worker to confirm it.
    async fn supervision(&self, me: &Actor, supervisor: &Actor, start: NaiveDate) -> AppResult<()> {
        let from = self
            .today
            .checked_sub_months(Months::new(24))
            .unwrap_or(start)
            .max(start);
        let mut held = days_before(self.today, 5);
        let mut latest = true;
        let mut n = 0u32;
        while held >= from {
            let (kind, minutes) = if n.is_multiple_of(2) {
                (SessionKind::OneToOne, 60)
            } else {
                (SessionKind::ReflectivePractice, 90)
            };
            let session = supervision::record(
                self.db,
                supervisor,
                me.user_id,
                SessionInput {
                    held_on: held,
                    minutes,
                    kind,
                    theme: Some("Caseload and wellbeing".into()),
                },
            )
            .await?;
            if !latest {
                supervision::confirm(self.db, me, uuid(&session.id)?).await?;
            }
            latest = false;
            n += 1;
            held = days_before(held, 14);
        }
        Ok(())
    }

    /// The supervisor proposed the move three weeks before it took effect; the manager
    /// approved it a week before.
    async fn progression(
        &self,
        supervisor: &Actor,
        worker: UserId,
        on: NaiveDate,
    ) -> AppResult<()> {
        let proposed = pathway::progressions::propose_at(
            self.db,
            supervisor,
            worker,
            "Runs the outreach FibroScan clinic and mentors the newer peer workers",
            at(days_before(on, 21), 0),
        )
        .await?;
        pathway::progressions::approve_at(
            self.db,
            self.mailer,
            self.manager,
            uuid(&proposed.id)?,
            pathway::progressions::Approval {
                effective_on: Some(on),
                override_reason: None,
            },
            at(days_before(on, 7), 0),
        )
        .await?;
        Ok(())
    }
}
