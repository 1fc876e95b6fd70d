//! Progressions: the current supervisor or a programme manager proposes a move to the next
//! stage with a rationale and the eligibility it stood on; another programme manager
//! approves or declines. Approval changes stage and pay in one transaction; approving a
//! worker who is not eligible needs an override with a reason, shown with the progression.

use std::sync::Arc;

use chrono::{DateTime, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::eligibility::{self, Eligibility};
use super::{StageReason, enter_stage};
use crate::access::{Actor, Role, authz};
use crate::audit::{self, Event};
use crate::db::progressions::{Decision, ProgressionFilter, ProgressionRow};
use crate::db::workers::WorkerRow;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::explain::day;
use crate::ids::UserId;
use crate::notifications::{self, Email, Kind, Notifications};
use crate::pagination::{Page, Paginated};
use crate::salary::history::{self as salary, Placement, Reason};
use crate::validation;
use crate::workers::{self, Relation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ProgressionStatus)]
pub enum Status {
    Proposed,
    Approved,
    Declined,
    Withdrawn,
}

/// In which capacity a decision was taken.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecidedAs {
    ProgrammeManager,
    /// The organisation's named second approver, for its one programme manager's proposal.
    SecondApprover,
}

impl DecidedAs {
    fn as_str(self) -> &'static str {
        match self {
            Self::ProgrammeManager => "programme_manager",
            Self::SecondApprover => "second_approver",
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Proposed => "proposed",
            Self::Approved => "approved",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Progression {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub worker_id: UserId,
    pub worker_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub from_stage_id: String,
    pub from_stage_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub to_stage_id: String,
    pub to_stage_name: String,
    pub status: Status,
    pub rationale: String,
    pub proposed_by: UserId,
    pub proposed_at: DateTime<Utc>,
    /// The eligibility the proposal was made on.
    pub proposal_eligibility: Eligibility,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was declined.
    pub decision_reason: Option<String>,
    /// The first day on the new stage and band.
    pub effective_on: Option<NaiveDate>,
    /// The eligibility the decision was taken on.
    pub decision_eligibility: Option<Eligibility>,
    /// Present when approved although not eligible: why.
    pub override_reason: Option<String>,
    /// For a decision: as a programme manager or as the organisation's second approver.
    pub decided_as: Option<DecidedAs>,
    pub version: i32,
}

/// Progressions with the names a person reads them by: two queries for a page.
fn named(conn: &mut DbConn, rows: Vec<ProgressionRow>) -> AppResult<Vec<Progression>> {
    let Some(org) = rows.first().map(|r| r.organisation_id.clone()) else {
        return Ok(vec![]);
    };
    let workers: Vec<String> = rows.iter().map(|r| r.worker_id.clone()).collect();
    let stages: Vec<String> = rows.iter().map(|r| r.from_stage_id.clone()).collect();
    let names: std::collections::HashMap<String, String> =
        db::users::names_in_organisation(conn, &org, &workers)?
            .into_iter()
            .collect();
    let stage_names = db::pathways::stage_names(conn, &stages)?;
    rows.into_iter()
        .map(|row| {
            let worker = names.get(&row.worker_id).cloned().unwrap_or_default();
            let stage = stage_names
                .get(&row.from_stage_id)
                .cloned()
                .unwrap_or_default();
            Progression::from_row(row, worker, stage)
        })
        .collect()
}

fn reload(conn: &mut DbConn, id: &str) -> AppResult<Progression> {
    let row = db::progressions::find(conn, id)?.ok_or(AppError::NotFound)?;
    named_one(conn, row)
}

fn named_one(conn: &mut DbConn, row: ProgressionRow) -> AppResult<Progression> {
    named(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

impl Progression {
    fn from_row(
        row: ProgressionRow,
        worker_name: String,
        from_stage_name: String,
    ) -> AppResult<Self> {
        let parse = |s: &str| {
            serde_json::from_str::<Eligibility>(s)
                .map_err(|_| AppError::internal("a progression snapshot does not parse"))
        };
        Ok(Self {
            worker_id: UserId::from_db(&row.worker_id)?,
            worker_name,
            from_stage_name,
            status: match row.status.as_str() {
                "approved" => Status::Approved,
                "declined" => Status::Declined,
                "withdrawn" => Status::Withdrawn,
                _ => Status::Proposed,
            },
            decided_as: match row.decided_as.as_deref() {
                Some("programme_manager") => Some(DecidedAs::ProgrammeManager),
                Some("second_approver") => Some(DecidedAs::SecondApprover),
                _ => None,
            },
            proposed_by: UserId::from_db(&row.proposed_by)?,
            proposed_at: row.created_at.and_utc(),
            proposal_eligibility: parse(&row.proposal_snapshot)?,
            decided_by: row.decided_by.as_deref().map(UserId::from_db).transpose()?,
            decided_at: row.decided_at.map(|t| t.and_utc()),
            decision_eligibility: row.decision_snapshot.as_deref().map(parse).transpose()?,
            id: row.id,
            from_stage_id: row.from_stage_id,
            to_stage_id: row.to_stage_id,
            to_stage_name: row.to_stage_name,
            rationale: row.rationale,
            decision_reason: row.decision_reason,
            effective_on: row.effective_on,
            override_reason: row.override_reason,
            version: row.version,
        })
    }
}

fn words(value: &str, field: &str) -> AppResult<String> {
    let mut errors = FieldErrors::new();
    let value = validation::text(value, field, 2000, true, &mut errors);
    crate::error::valid(errors)?;
    Ok(value)
}

fn snapshot(e: &Eligibility) -> AppResult<String> {
    serde_json::to_string(e).map_err(|e| AppError::internal(e.to_string()))
}

/// The worker's eligibility now, with where they stand.
fn judge_now(
    conn: &mut DbConn,
    worker: &WorkerRow,
    today: NaiveDate,
) -> AppResult<(eligibility::Position, Eligibility)> {
    let position = eligibility::position(conn, &worker.user_id)?.ok_or_else(|| {
        AppError::Unprocessable("The worker is not placed on a pathway yet.".into())
    })?;
    let pauses = db::pauses::of_worker(conn, &worker.user_id)?;
    let judged =
        eligibility::evaluate(conn, worker, &position, pauses, today)?.ok_or_else(|| {
            AppError::Unprocessable("The worker is on the last stage of their pathway.".into())
        })?;
    Ok((position, judged))
}

/// Proposes the worker's move to the next stage (their current supervisor or a programme
/// manager). One open proposal per worker.
pub async fn propose(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    rationale: &str,
) -> AppResult<Progression> {
    propose_at(db, actor, worker, rationale, db::now()).await
}

/// As `propose`, stamped with the moment given, so that the demo records its history on
/// the days it happened (a history that is append-only cannot be re-dated); the rest acts now.
pub async fn propose_at(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    rationale: &str,
    at: NaiveDateTime,
) -> AppResult<Progression> {
    let rationale = words(rationale, "rationale")?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, relation) = workers::load_visible(conn, &actor, worker)?;
        if !matches!(relation, Relation::CurrentSupervisor | Relation::Manager) {
            return Err(AppError::Forbidden(
                "The worker's supervisor or a programme manager proposes progressions.",
            ));
        }
        if db::progressions::open_of(conn, &row.user_id)?.is_some() {
            return Err(AppError::conflict(
                "This worker already has an open proposal; it must be decided first.",
            ));
        }
        let today = Utc::now().date_naive();
        let (position, judged) = judge_now(conn, &row, today)?;
        let now = at;
        let new = ProgressionRow {
            id: uuid::Uuid::now_v7().to_string(),
            worker_id: row.user_id.clone(),
            organisation_id: row.organisation_id.clone(),
            from_stage_id: position.current.stage_id.clone(),
            to_stage_id: judged.next_stage.id.clone(),
            to_stage_name: judged.next_stage.name.clone(),
            status: Status::Proposed.as_str().into(),
            rationale,
            proposed_by: actor.user_id.to_db(),
            eligible_when_proposed: judged.eligible,
            proposal_snapshot: snapshot(&judged)?,
            decided_by: None,
            decided_at: None,
            decision_reason: None,
            effective_on: None,
            eligible_when_decided: None,
            decision_snapshot: None,
            override_reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
            decided_as: None,
        };
        db::progressions::insert(conn, &new)?;
        audit::record(
            conn,
            Event::by(&actor, "progression.proposed", "progression").on(&new.id),
        )?;
        named_one(conn, new)
    })
    .await
}

/// A proposal the caller may see: of their organisation, or (an admin) of one that names
/// them its second approver. Anyone else gets 404, as for any other organisation's record.
fn load_visible_proposal(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> AppResult<(ProgressionRow, crate::db::organisations::OrganisationRow)> {
    let row = db::progressions::find(conn, id)?.ok_or(AppError::NotFound)?;
    let org = db::organisations::find(conn, &row.organisation_id)?.ok_or(AppError::NotFound)?;
    let mine = actor.organisation_id.map(|o| o.to_db()) == Some(row.organisation_id.clone());
    let named = org.second_approver_id.as_deref() == Some(actor.user_id.to_db().as_str());
    if !(mine || authz::reaches_progression_as_second_approver(actor, named)) {
        return Err(AppError::NotFound);
    }
    Ok((row, org))
}

/// A proposal the caller may decide, with its worker and the capacity they decide in.
fn load_for_decision(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> AppResult<(ProgressionRow, WorkerRow, DecidedAs)> {
    let (row, org) = load_visible_proposal(conn, actor, id)?;
    let managers = db::users::active_with_role(conn, &org.id, Role::ProgrammeManager.as_str())?;
    let another = managers.iter().any(|m| *m != row.proposed_by);
    let decider = authz::progression_decider(
        actor,
        &row.proposed_by,
        org.second_approver_id.as_deref(),
        another,
    )?;
    let decided_as = match decider {
        authz::Decider::ProgrammeManager => DecidedAs::ProgrammeManager,
        authz::Decider::SecondApprover => DecidedAs::SecondApprover,
    };
    if row.status != Status::Proposed.as_str() {
        return Err(AppError::conflict(format!(
            "This progression was {} already.",
            row.status
        )));
    }
    let worker = db::workers::find(conn, &row.worker_id)?.ok_or(AppError::NotFound)?;
    Ok((row, worker, decided_as))
}

/// Withdraws an open proposal (its proposer, or a programme manager of the organisation),
/// so that a new one can be made; nothing of it is lost.
pub async fn withdraw(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<Progression> {
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, _) = load_visible_proposal(conn, &actor, &id.to_string())?;
        authz::can_withdraw_progression(&actor, &row.proposed_by)?;
        if db::progressions::withdraw(conn, &row.id, &actor.user_id.to_db(), db::now())? == 0 {
            return Err(AppError::conflict(format!(
                "This progression was {} already.",
                row.status
            )));
        }
        audit::record(
            conn,
            Event::by(&actor, "progression.withdrawn", "progression").on(&row.id),
        )?;
        reload(conn, &row.id)
    })
    .await
}

pub struct Approval {
    pub effective_on: Option<NaiveDate>,
    pub override_reason: Option<String>,
}

/// Approves a proposal: in one transaction the decision, the stage change and its history,
/// the salary at the new band's entry point from the effective day, the audit event and the
/// emails to the worker and their supervisor. Any failure leaves all of them undone.
pub async fn approve(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    id: uuid::Uuid,
    approval: Approval,
) -> AppResult<Progression> {
    approve_at(db, mailer, actor, id, approval, db::now()).await
}

/// As `approve`, stamped with the moment given, so that the demo records its history on
/// the days it happened (a history that is append-only cannot be re-dated); the rest acts now.
pub async fn approve_at(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    id: uuid::Uuid,
    approval: Approval,
    at: NaiveDateTime,
) -> AppResult<Progression> {
    let today = Utc::now().date_naive();
    let effective_on = approval.effective_on.unwrap_or(today);
    let mut errors = FieldErrors::new();
    validation::past_day(effective_on, "effective_on", &mut errors);
    let override_reason = approval
        .override_reason
        .as_deref()
        .map(|r| validation::text(r, "override_reason", 2000, true, &mut errors));
    crate::error::valid(errors)?;
    let actor = actor.clone();
    let mailer_in = mailer.clone();
    let decided = db
        .write(move |conn| {
            let (row, worker, decided_as) = load_for_decision(conn, &actor, &id.to_string())?;
            let (position, judged) = judge_now(conn, &worker, today)?;
            if position.current.stage_id != row.from_stage_id
                || judged.next_stage.id != row.to_stage_id
            {
                return Err(AppError::conflict(
                    "The worker's stage changed since this proposal; decline it and propose again.",
                ));
            }
            if !judged.eligible && override_reason.is_none() {
                return Err(AppError::invalid(
                    "override_reason",
                    format!(
                        "the worker is not eligible ({}); approving needs an override with a reason",
                        judged.missing().join("; ")
                    ),
                ));
            }
            if effective_on < position.current.started_on {
                return Err(AppError::invalid(
                    "effective_on",
                    format!(
                        "must not be before the current stage began, {}",
                        position.current.started_on
                    ),
                ));
            }
            let decision = Decision {
                status: Status::Approved.as_str().into(),
                decided_by: actor.user_id.to_db(),
                decided_at: at,
                decision_reason: None,
                effective_on: Some(effective_on),
                eligible_when_decided: judged.eligible,
                decision_snapshot: snapshot(&judged)?,
                // An override is recorded only when it overrode something.
                override_reason: override_reason.filter(|_| !judged.eligible),
                decided_as: decided_as.as_str().into(),
            };
            if db::progressions::decide(conn, &row.id, &decision, at)? == 0 {
                return Err(AppError::conflict("This progression was decided at the same time."));
            }
            let next = position
                .next()
                .cloned()
                .ok_or_else(|| AppError::internal("the next stage vanished"))?;
            enter_stage(
                conn,
                &worker,
                &next,
                effective_on,
                StageReason::Progression,
                Some(row.id.clone()),
                &actor,
            )?;
            if let Some(band) = &next.band_id {
                salary::place(
                    conn,
                    &worker,
                    Placement {
                        band_id: band,
                        point: 1,
                        effective_from: effective_on,
                        reason: Reason::Progression,
                        note: format!("Progression to {}", next.name),
                        approved_by: &actor,
                        progression_id: Some(row.id.clone()),
                    },
                )?;
            }
            audit::record(
                conn,
                Event::by(&actor, "progression.approved", "progression").on(&row.id),
            )?;
            tell(conn, &mailer_in, &worker, &next.name, true, Some(effective_on), &row.id)?;
            reload(conn, &row.id)
        })
        .await?;
    mailer.wake();
    Ok(decided)
}

/// Declines a proposal with a reason.
pub async fn decline(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    id: uuid::Uuid,
    reason: &str,
) -> AppResult<Progression> {
    let reason = words(reason, "reason")?;
    let actor = actor.clone();
    let mailer_in = mailer.clone();
    let decided = db
        .write(move |conn| {
            let (row, worker, decided_as) = load_for_decision(conn, &actor, &id.to_string())?;
            let today = Utc::now().date_naive();
            let judged = match judge_now(conn, &worker, today) {
                Ok((_, judged)) => judged,
                // The worker moved or left the pathway: keep what the proposal stood on.
                Err(_) => serde_json::from_str(&row.proposal_snapshot)
                    .map_err(|_| AppError::internal("a progression snapshot does not parse"))?,
            };
            let decision = Decision {
                status: Status::Declined.as_str().into(),
                decided_by: actor.user_id.to_db(),
                decided_at: db::now(),
                decision_reason: Some(reason),
                effective_on: None,
                eligible_when_decided: judged.eligible,
                decision_snapshot: snapshot(&judged)?,
                override_reason: None,
                decided_as: decided_as.as_str().into(),
            };
            if db::progressions::decide(conn, &row.id, &decision, db::now())? == 0 {
                return Err(AppError::conflict(
                    "This progression was decided at the same time.",
                ));
            }
            audit::record(
                conn,
                Event::by(&actor, "progression.declined", "progression").on(&row.id),
            )?;
            tell(
                conn,
                &mailer_in,
                &worker,
                &row.to_stage_name,
                false,
                None,
                &row.id,
            )?;
            reload(conn, &row.id)
        })
        .await?;
    mailer.wake();
    Ok(decided)
}

/// Emails the worker and their current supervisor about a decision.
fn tell(
    conn: &mut DbConn,
    mailer: &Notifications,
    worker: &WorkerRow,
    stage_name: &str,
    approved: bool,
    effective_on: Option<NaiveDate>,
    progression_id: &str,
) -> AppResult<()> {
    let worker_recipient = notifications::recipient_for_user(conn, &worker.user_id)?;
    let mut recipients = vec![worker_recipient.clone()];
    if let Some(s) = &worker.supervisor_id {
        recipients.push(notifications::recipient_for_user(conn, s)?);
    }
    for recipient in recipients {
        let to = recipient.user_id.clone().unwrap_or_default();
        let own = to == worker.user_id;
        mailer.enqueue(
            conn,
            Email {
                kind: Kind::ProgressionDecided,
                recipient,
                dedupe_key: format!("progression_decided:{progression_id}:{to}"),
                values: serde_json::json!({
                    "own": own,
                    "approved": approved,
                    "worker_name": worker_recipient.name,
                    "stage_name": stage_name,
                    "effective_on": effective_on.map(day).unwrap_or_default(),
                    "link": mailer.link(&crate::notifications::links::pathway_of(&worker.user_id, own)),
                }),
            },
        )?;
    }
    Ok(())
}

/// One progression: its worker, their supervisor, the organisation's programme managers.
pub async fn get(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<Progression> {
    let actor = actor.clone();
    db.run(move |conn| {
        let row = db::progressions::find(conn, &id.to_string())?.ok_or(AppError::NotFound)?;
        let (_, relation) = workers::load_visible(conn, &actor, UserId::from_db(&row.worker_id)?)?;
        if relation == Relation::Admin {
            return Err(AppError::Forbidden(
                "Progressions belong to the organisation.",
            ));
        }
        named_one(conn, row)
    })
    .await
}

/// A worker's progressions, or (programme managers, no worker given) the organisation's.
pub async fn list(
    db: &Database,
    actor: &Actor,
    worker: Option<UserId>,
    status: Option<Status>,
    page: Page,
) -> AppResult<Paginated<Progression>> {
    let org = authz::own_organisation(actor)?;
    if worker.is_none() {
        authz::can_list_organisation_progressions(actor)?;
    }
    let actor = actor.clone();
    let (after, fetch) = (page.after.clone(), page.fetch());
    db.run(move |conn| {
        if let Some(w) = worker {
            workers::load_visible(conn, &actor, w)?;
        }
        let rows = db::progressions::list(
            conn,
            &ProgressionFilter {
                organisation_id: org.to_db(),
                worker_id: worker.map(|w| w.to_db()),
                status: status.map(|s| s.as_str().to_string()),
            },
            after.as_deref(),
            fetch,
        )?;
        let page = page.finish(rows, |r| r.id.clone());
        Ok(Paginated {
            items: named(conn, page.items)?,
            next_cursor: page.next_cursor,
        })
    })
    .await
}
