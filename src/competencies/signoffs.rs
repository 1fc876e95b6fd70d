//! Sign-offs: the worker asks with evidence; their current supervisor, or a supervisor who
//! assesses the competency, signs it off or returns it with a reason; the worker may
//! withdraw before the decision; a programme manager may revoke a sign-off with a reason.
//! Every change is an event in an append-only history.

use std::sync::Arc;

use chrono::{DateTime, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::framework;
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::db::competencies::{SignoffEventRow, SignoffRow};
use crate::db::workers::WorkerRow;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::{OrganisationId, UserId};
use crate::notifications::{self, Kind, Notifications};
use crate::pagination::{Page, Paginated};
use crate::validation::text;
use crate::workers::{self, Relation};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SignoffStatus {
    Requested,
    SignedOff,
    Returned,
    Withdrawn,
    Revoked,
}

impl SignoffStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Requested => "requested",
            Self::SignedOff => "signed_off",
            Self::Returned => "returned",
            Self::Withdrawn => "withdrawn",
            Self::Revoked => "revoked",
        }
    }
    fn parse(value: &str) -> AppResult<Self> {
        [
            Self::Requested,
            Self::SignedOff,
            Self::Returned,
            Self::Withdrawn,
            Self::Revoked,
        ]
        .into_iter()
        .find(|s| s.as_str() == value)
        .ok_or_else(|| AppError::internal("unknown sign-off status in the database"))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SignoffEvent {
    pub at: DateTime<Utc>,
    pub actor_id: UserId,
    /// requested, signed_off, returned, withdrawn, revoked.
    pub action: String,
    /// The reason given for a return or revocation, or the note given with a sign-off.
    pub note: Option<String>,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Signoff {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub worker_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub competency_id: String,
    pub competency_code: String,
    pub competency_title: String,
    pub status: SignoffStatus,
    pub evidence: String,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    pub reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
    /// Every change, oldest first.
    pub history: Vec<SignoffEvent>,
}

fn to_signoff(
    row: SignoffRow,
    events: Vec<SignoffEventRow>,
    (competency_code, competency_title): (String, String),
) -> AppResult<Signoff> {
    Ok(Signoff {
        id: row.id,
        worker_id: UserId::from_db(&row.worker_id)?,
        competency_id: row.competency_id,
        competency_code,
        competency_title,
        status: SignoffStatus::parse(&row.status)?,
        evidence: row.evidence,
        decided_by: row.decided_by.as_deref().map(UserId::from_db).transpose()?,
        decided_at: row.decided_at.map(|t| t.and_utc()),
        reason: row.reason,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        version: row.version,
        history: events
            .into_iter()
            .map(|e| {
                Ok(SignoffEvent {
                    at: e.occurred_at.and_utc(),
                    actor_id: UserId::from_db(&e.actor_id)?,
                    action: e.action,
                    note: e.note,
                })
            })
            .collect::<AppResult<_>>()?,
    })
}

/// Sign-offs with their histories and competency titles, read in two queries whatever their
/// number.
pub fn with_histories(conn: &mut DbConn, rows: Vec<SignoffRow>) -> AppResult<Vec<Signoff>> {
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let mut by_signoff: std::collections::HashMap<String, Vec<SignoffEventRow>> =
        std::collections::HashMap::new();
    for event in db::competencies::events_of(conn, &ids)? {
        by_signoff
            .entry(event.signoff_id.clone())
            .or_default()
            .push(event);
    }
    let competency_ids: Vec<String> = rows.iter().map(|r| r.competency_id.clone()).collect();
    let titles = db::competencies::titles(conn, &competency_ids)?;
    rows.into_iter()
        .map(|row| {
            let events = by_signoff.remove(&row.id).unwrap_or_default();
            let title = titles.get(&row.competency_id).cloned().unwrap_or_default();
            to_signoff(row, events, title)
        })
        .collect()
}

fn reload(conn: &mut DbConn, id: &str) -> AppResult<Signoff> {
    let row = db::competencies::find_signoff(conn, id)?.ok_or(AppError::NotFound)?;
    let events = db::competencies::events(conn, id)?;
    let title = db::competencies::titles(conn, std::slice::from_ref(&row.competency_id))?
        .remove(&row.competency_id)
        .unwrap_or_default();
    to_signoff(row, events, title)
}

fn record_event(
    conn: &mut DbConn,
    signoff: &str,
    actor: &Actor,
    action: &str,
    note: Option<&str>,
    at: NaiveDateTime,
) -> AppResult<()> {
    db::competencies::insert_event(
        conn,
        &SignoffEventRow {
            id: uuid::Uuid::now_v7().to_string(),
            signoff_id: signoff.to_string(),
            occurred_at: at,
            actor_id: actor.user_id.to_db(),
            action: action.to_string(),
            note: note.map(str::to_string),
        },
    )?;
    Ok(())
}

/// Who assesses a worker in a competency (decides sign-offs, records observations): the
/// worker's current supervisor, or a supervisor of the organisation who holds the
/// competency at assessor level. Never the worker; another organisation's worker is 404.
pub fn may_assess(
    conn: &mut DbConn,
    actor: &Actor,
    worker: &WorkerRow,
    competency: &str,
) -> AppResult<()> {
    let me = actor.user_id.to_db();
    crate::access::authz::may_assess(
        actor,
        &worker.user_id,
        &worker.organisation_id,
        worker.supervisor_id.as_deref(),
        || Ok(db::competencies::is_assessor(conn, competency, &me)?),
    )
}

/// Loads a sign-off and its worker if the caller may see it: those who may see the worker,
/// and the competency's assessors.
fn load(
    conn: &mut DbConn,
    actor: &Actor,
    id: &str,
) -> AppResult<(SignoffRow, WorkerRow, Option<Relation>)> {
    let row = db::competencies::find_signoff(conn, id)?.ok_or(AppError::NotFound)?;
    let worker = db::workers::find(conn, &row.worker_id)?.ok_or(AppError::NotFound)?;
    match workers::relation(actor, &worker) {
        Ok(relation) => Ok((row, worker, Some(relation))),
        Err(AppError::Forbidden(reason)) => {
            may_assess(conn, actor, &worker, &row.competency_id)
                .map_err(|_| AppError::Forbidden(reason))?;
            Ok((row, worker, None))
        }
        Err(other) => Err(other),
    }
}

fn decision_note(value: &str) -> AppResult<String> {
    let mut errors = FieldErrors::new();
    let value = text(value, "note", 1000, false, &mut errors);
    crate::error::valid(errors)?;
    Ok(value)
}

fn reason(value: &str) -> AppResult<String> {
    let mut errors = FieldErrors::new();
    let value = text(value, "reason", 1000, true, &mut errors);
    crate::error::valid(errors)?;
    Ok(value)
}

fn conflict(row: &SignoffRow, wanted: &str) -> AppError {
    AppError::conflict(format!(
        "This sign-off is {}; it can be {wanted} only while it is {}.",
        row.status,
        if wanted == "revoked" {
            "signed off"
        } else {
            "requested"
        }
    ))
}

fn audit_event<'a>(
    actor: &'a Actor,
    action: &'static str,
    row: &SignoffRow,
) -> AppResult<Event<'a>> {
    Ok(Event::by(actor, action, "competency_signoff")
        .on(&row.id)
        .in_org(Some(OrganisationId::from_db(&row.organisation_id)?)))
}

/// The worker asks for a sign-off with evidence.
pub async fn request(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    worker: UserId,
    competency: uuid::Uuid,
    evidence: String,
) -> AppResult<Signoff> {
    request_at(db, mailer, actor, worker, competency, evidence, db::now()).await
}

/// As `request`, stamped with the moment given, so that the demo records its history on
/// the days it happened (a history that is append-only cannot be re-dated); the rest acts now.
pub async fn request_at(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    worker: UserId,
    competency: uuid::Uuid,
    evidence: String,
    at: NaiveDateTime,
) -> AppResult<Signoff> {
    let mut errors = FieldErrors::new();
    let evidence = text(&evidence, "evidence", 2000, true, &mut errors);
    crate::error::valid(errors)?;
    let actor = actor.clone();
    let mailer_in = mailer.clone();
    let signoff = db
        .write(move |conn| {
            let (worker, relation) = workers::load_visible(conn, &actor, worker)?;
            if relation != Relation::Itself {
                return Err(AppError::Forbidden(
                    "Only the worker asks for their own sign-off.",
                ));
            }
            let competency = db::competencies::find(conn, &competency.to_string())?
                .filter(|c| c.organisation_id == worker.organisation_id)
                .ok_or_else(|| {
                    AppError::invalid("competency_id", "names no competency of your organisation")
                })?;
            if !competency.active {
                return Err(AppError::invalid("competency_id", "is retired"));
            }
            if let Some(open) =
                db::competencies::current_signoff(conn, &worker.user_id, &competency.id)?
            {
                return Err(AppError::conflict(if open.status == "requested" {
                    "A sign-off of this competency is already waiting for a decision."
                } else {
                    "This competency is already signed off."
                }));
            }
            let now = at;
            let row = SignoffRow {
                id: uuid::Uuid::now_v7().to_string(),
                worker_id: worker.user_id.clone(),
                organisation_id: worker.organisation_id.clone(),
                competency_id: competency.id,
                status: SignoffStatus::Requested.as_str().into(),
                evidence,
                decided_by: None,
                decided_at: None,
                reason: None,
                version: 1,
                created_at: now,
                updated_at: now,
            };
            db::competencies::insert_signoff(conn, &row)?;
            record_event(conn, &row.id, &actor, "requested", None, at)?;
            audit::record(conn, audit_event(&actor, "signoff.requested", &row)?)?;
            if let Some(supervisor) = &worker.supervisor_id {
                let worker_name = notifications::recipient_for_user(conn, &worker.user_id)?.name;
                let recipient = notifications::recipient_for_user(conn, supervisor)?;
                mailer_in.enqueue(
                    conn,
                    notifications::Email {
                        kind: Kind::SignoffRequested,
                        recipient,
                        dedupe_key: format!("signoff_requested:{}", row.id),
                        values: serde_json::json!({
                            "worker_name": worker_name,
                            "competency_title": competency.title,
                            "link": mailer_in.link(&notifications::links::signoff_decision(&row.id)),
                        }),
                    },
                )?;
            }
            reload(conn, &row.id)
        })
        .await?;
    mailer.wake();
    Ok(signoff)
}

pub async fn get(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<Signoff> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (row, _, _) = load(conn, &actor, &id.to_string())?;
        reload(conn, &row.id)
    })
    .await
}

pub async fn list(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    status: Option<SignoffStatus>,
    page: Page,
) -> AppResult<Paginated<Signoff>> {
    let actor = actor.clone();
    let (after, fetch) = (page.after.clone(), page.fetch());
    let signoffs = db
        .run(move |conn| {
            workers::load_visible(conn, &actor, worker)?;
            let rows = db::competencies::list_signoffs(
                conn,
                &worker.to_db(),
                status.map(SignoffStatus::as_str),
                after.as_deref(),
                fetch,
            )?;
            with_histories(conn, rows)
        })
        .await?;
    Ok(page.finish(signoffs, |s| s.id.clone()))
}

/// What a decision does.
#[derive(Clone, Debug)]
pub enum Decision {
    /// With an optional note, kept in the history.
    SignOff(Option<String>),
    Return(String),
}

/// Signs off or returns a requested sign-off. A competency that needs observed practice
/// is signed off only once enough competent observations are recorded. Of two decisions
/// racing, the first wins and the other gets 409.
pub async fn decide(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    id: uuid::Uuid,
    decision: Decision,
) -> AppResult<Signoff> {
    decide_at(db, mailer, actor, id, decision, db::now()).await
}

/// As `decide`, stamped with the moment given, so that the demo records its history on
/// the days it happened (a history that is append-only cannot be re-dated); the rest acts now.
pub async fn decide_at(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    id: uuid::Uuid,
    decision: Decision,
    at: NaiveDateTime,
) -> AppResult<Signoff> {
    let note = match &decision {
        Decision::Return(r) => Some(reason(r)?),
        Decision::SignOff(note) => note
            .as_deref()
            .filter(|n| !n.trim().is_empty())
            .map(decision_note)
            .transpose()?,
    };
    let actor = actor.clone();
    let mailer_in = mailer.clone();
    let signoff = db.write(move |conn| {
        let (row, worker, _) = load(conn, &actor, &id.to_string())?;
        may_assess(conn, &actor, &worker, &row.competency_id)?;
        let (to, action) = match decision {
            Decision::SignOff(_) => {
                let competency = framework::load(conn, &row.organisation_id, &row.competency_id)?;
                let needed = i64::from(competency.observations_required);
                // Observed practice is judged by those who hold the competency as assessors.
                if needed > 0 && !db::competencies::is_assessor(conn, &competency.id, &actor.user_id.to_db())? {
                    return Err(AppError::Forbidden(
                        "This competency needs observed practice: only one of its assessors signs it off. You can still return the request.",
                    ));
                }
                if needed > 0 {
                    let done = db::competencies::competent_observations(conn, &worker.user_id, &competency.id)?;
                    if done < needed {
                        return Err(AppError::invalid(
                            "observations",
                            format!(
                                "{done} of {needed} observed practices recorded; {} more needed before sign-off",
                                needed - done
                            ),
                        ));
                    }
                }
                (SignoffStatus::SignedOff, "signed_off")
            }
            Decision::Return(_) => (SignoffStatus::Returned, "returned"),
        };
        let moved = db::competencies::transition(
            conn,
            &row.id,
            SignoffStatus::Requested.as_str(),
            to.as_str(),
            &actor.user_id.to_db(),
            // The sign-off's reason is a return's; a sign-off's note lives in its history.
            note.as_deref().filter(|_| to == SignoffStatus::Returned),
            at,
        )?;
        if moved == 0 {
            return Err(conflict(&row, if to == SignoffStatus::SignedOff { "signed off" } else { "returned" }));
        }
        record_event(conn, &row.id, &actor, action, note.as_deref(), at)?;
        let audit_action = if to == SignoffStatus::SignedOff { "signoff.signed_off" } else { "signoff.returned" };
        audit::record(conn, audit_event(&actor, audit_action, &row)?)?;
        let competency = framework::load(conn, &row.organisation_id, &row.competency_id)?;
        let decider_name = notifications::recipient_for_user(conn, &actor.user_id.to_db())?.name;
        let recipient = notifications::recipient_for_user(conn, &worker.user_id)?;
        mailer_in.enqueue(
            conn,
            notifications::Email {
                kind: Kind::SignoffDecided,
                recipient,
                dedupe_key: format!("signoff_decided:{}:{action}", row.id),
                values: serde_json::json!({
                    "signed_off": to == SignoffStatus::SignedOff,
                    "competency_title": competency.title,
                    "decider_name": decider_name,
                    "link": mailer_in.link(&notifications::links::competency(&row.competency_id)),
                }),
            },
        )?;
        reload(conn, &row.id)
    })
    .await?;
    mailer.wake();
    Ok(signoff)
}

/// The worker withdraws their request before the decision.
pub async fn withdraw(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<Signoff> {
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, _, relation) = load(conn, &actor, &id.to_string())?;
        if relation != Some(Relation::Itself) {
            return Err(AppError::Forbidden(
                "Only the worker withdraws their request.",
            ));
        }
        let moved = db::competencies::transition(
            conn,
            &row.id,
            SignoffStatus::Requested.as_str(),
            SignoffStatus::Withdrawn.as_str(),
            &actor.user_id.to_db(),
            None,
            db::now(),
        )?;
        if moved == 0 {
            return Err(conflict(&row, "withdrawn"));
        }
        record_event(conn, &row.id, &actor, "withdrawn", None, db::now())?;
        audit::record(conn, audit_event(&actor, "signoff.withdrawn", &row)?)?;
        reload(conn, &row.id)
    })
    .await
}

/// A programme manager revokes a sign-off, with a reason. The observations recorded so far
/// stop counting toward a new request unless the manager says they still stand.
pub async fn revoke(
    db: &Database,
    actor: &Actor,
    id: uuid::Uuid,
    why: &str,
    observations_stand: bool,
) -> AppResult<Signoff> {
    let note = reason(why)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, _, relation) = load(conn, &actor, &id.to_string())?;
        if relation != Some(Relation::Manager) {
            return Err(AppError::Forbidden(
                "Only a programme manager revokes a sign-off.",
            ));
        }
        let moved = db::competencies::transition(
            conn,
            &row.id,
            SignoffStatus::SignedOff.as_str(),
            SignoffStatus::Revoked.as_str(),
            &actor.user_id.to_db(),
            Some(&note),
            db::now(),
        )?;
        if moved == 0 {
            return Err(conflict(&row, "revoked"));
        }
        if !observations_stand {
            db::competencies::supersede_observations(
                conn,
                &row.worker_id,
                &row.competency_id,
                db::now(),
            )?;
        }
        record_event(conn, &row.id, &actor, "revoked", Some(&note), db::now())?;
        audit::record(conn, audit_event(&actor, "signoff.revoked", &row)?)?;
        reload(conn, &row.id)
    })
    .await
}
