//! Check-ins: the worker records how things are (alone or with their supervisor); a cadence
//! agreed with the supervisor says when the next is due. The supervisor always sees that a
//! check-in happened, its risk level and any call request, and its text only where shared.
//! Raised or urgent risk, or a call request, asks the supervisor (and, when urgent, the
//! organisation's wellbeing contact) to get in touch at once, without health content.

use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Access, Keyring, access, audit_read, owner};
use crate::access::{Actor, authz};
use crate::audit::{self, Event};
use crate::crypto::Sealed;
use crate::db::pauses::PauseRow;
use crate::db::recovery::{CadenceRow, CheckinRow};
use crate::db::workers::WorkerRow;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::UserId;
use crate::notifications::{self, Email, Kind, Notifications, Recipient};
use crate::validation;
use crate::workers::pauses::{is_paused, paused_days};

const MAX_TEXT: usize = 2000;
/// The window of the counts programme managers see.
pub const COUNT_DAYS: u64 = 90;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Risk {
    None,
    Low,
    Raised,
    Urgent,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "none",
            Self::Low => "low",
            Self::Raised => "raised",
            Self::Urgent => "urgent",
        }
    }
    fn parse(value: &str) -> Self {
        match value {
            "low" => Self::Low,
            "raised" => Self::Raised,
            "urgent" => Self::Urgent,
            _ => Self::None,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Checkin {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub worker_id: UserId,
    pub held_on: NaiveDate,
    pub with_supervisor: bool,
    /// 1 (struggling) to 5 (well).
    pub wellbeing: i32,
    pub risk: Risk,
    pub call_requested: bool,
    /// Absent for the supervisor unless shared.
    pub agreed_actions: Option<String>,
    pub notes: Option<String>,
    pub actions_shared: bool,
    pub notes_shared: bool,
    /// The worker, or the supervisor who recorded a check-in held together.
    pub recorded_by: UserId,
    pub created_at: DateTime<Utc>,
}

pub struct CheckinInput {
    pub held_on: NaiveDate,
    pub with_supervisor: bool,
    pub wellbeing: i32,
    pub risk: Risk,
    pub call_requested: bool,
    pub agreed_actions: Option<String>,
    pub notes: Option<String>,
    pub actions_shared: bool,
    pub notes_shared: bool,
}

fn context(id: &str, field: &str) -> String {
    format!("checkin:{id}:{field}")
}

fn to_checkin(keys: &Keyring, row: CheckinRow, who: Access) -> AppResult<Checkin> {
    let open = |bytes: Option<Vec<u8>>, field: &str, shared: bool| -> AppResult<Option<String>> {
        match bytes {
            Some(bytes) if who == Access::Owner || shared => keys
                .open(
                    &Sealed {
                        key_id: row.key_id.clone(),
                        bytes,
                    },
                    &context(&row.id, field),
                )
                .map(Some),
            _ => Ok(None),
        }
    };
    Ok(Checkin {
        agreed_actions: open(row.actions, "actions", row.actions_shared)?,
        notes: open(row.notes, "notes", row.notes_shared)?,
        worker_id: UserId::from_db(&row.worker_id)?,
        recorded_by: UserId::from_db(row.recorded_by.as_deref().unwrap_or(&row.worker_id))?,
        id: row.id,
        held_on: row.held_on,
        with_supervisor: row.with_supervisor,
        wellbeing: row.wellbeing,
        risk: Risk::parse(&row.risk),
        call_requested: row.call_requested,
        actions_shared: row.actions_shared,
        notes_shared: row.notes_shared,
        created_at: row.created_at.and_utc(),
    })
}

fn seal_optional(
    keys: &Keyring,
    text: &Option<String>,
    id: &str,
    field: &str,
) -> AppResult<Option<Vec<u8>>> {
    text.as_deref()
        .filter(|t| !t.is_empty())
        .map(|t| keys.seal(t, &context(id, field)).map(|s| s.bytes))
        .transpose()
}

/// Records a check-in: the worker, or their current supervisor for one held together. It
/// belongs to the worker either way; what the supervisor wrote starts shared (they wrote it)
/// and the worker decides what stays shared. Raised or urgent risk, or a call request, emails
/// the current supervisor at once unless they recorded it; urgent also the organisation's
/// wellbeing contact.
pub async fn record(
    db: &Database,
    keys: &Arc<Keyring>,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    worker: UserId,
    input: CheckinInput,
) -> AppResult<Checkin> {
    let mut errors = FieldErrors::new();
    validation::past_day(input.held_on, "held_on", &mut errors);
    if !(1..=5).contains(&input.wellbeing) {
        errors
            .entry("wellbeing".into())
            .or_default()
            .push("must be 1 to 5".into());
    }
    let actions = input
        .agreed_actions
        .as_deref()
        .map(|t| validation::text(t, "agreed_actions", MAX_TEXT, false, &mut errors));
    let notes = input
        .notes
        .as_deref()
        .map(|t| validation::text(t, "notes", MAX_TEXT, false, &mut errors));
    crate::error::valid(errors)?;
    let (actor, keys, mailer_in) = (actor.clone(), keys.clone(), mailer.clone());
    let checkin = db
        .write(move |conn| {
            let (row, who) = access(conn, &actor, worker)?;
            let by_supervisor = who == Access::Supervisor;
            if by_supervisor && !input.with_supervisor {
                return Err(only_together());
            }
            let id = uuid::Uuid::now_v7().to_string();
            let now = db::now();
            let checkin = CheckinRow {
                key_id: keys.current_key_id().to_string(),
                actions: seal_optional(&keys, &actions, &id, "actions")?,
                notes: seal_optional(&keys, &notes, &id, "notes")?,
                id,
                worker_id: row.user_id.clone(),
                organisation_id: row.organisation_id.clone(),
                held_on: input.held_on,
                with_supervisor: input.with_supervisor,
                wellbeing: input.wellbeing,
                risk: input.risk.as_str().into(),
                call_requested: input.call_requested,
                actions_shared: input.actions_shared || by_supervisor,
                notes_shared: input.notes_shared || by_supervisor,
                created_at: now,
                updated_at: now,
                recorded_by: Some(actor.user_id.to_db()),
            };
            db::recovery::insert_checkin(conn, &checkin)?;
            audit::record(
                conn,
                Event::by(&actor, "recovery.checkin_recorded", "worker").on(&row.user_id),
            )?;
            if input.call_requested || matches!(input.risk, Risk::Raised | Risk::Urgent) {
                ask_for_contact(conn, &mailer_in, &row, &checkin.id, &input, by_supervisor)?;
            }
            to_checkin(&keys, checkin, who)
        })
        .await?;
    mailer.wake();
    Ok(checkin)
}

fn only_together() -> AppError {
    let mut errors = FieldErrors::new();
    errors.entry("with_supervisor".into()).or_default().push(
        "must be true: a supervisor records only a check-in held together with the worker".into(),
    );
    AppError::Validation(errors)
}

/// Queues the contact request: who asked and a link, nothing about why. The supervisor's
/// email says a call was asked for only when it was; the wellbeing contact, who has no
/// account, gets words that make sense without one and no link.
fn ask_for_contact(
    conn: &mut DbConn,
    mailer: &Notifications,
    worker: &WorkerRow,
    checkin_id: &str,
    input: &CheckinInput,
    by_supervisor: bool,
) -> AppResult<()> {
    let name = notifications::recipient_for_user(conn, &worker.user_id)?.name;
    let supervisor = worker
        .supervisor_id
        .as_deref()
        .map(|s| notifications::recipient_for_user(conn, s))
        .transpose()?;
    if let Some(recipient) = supervisor.clone().filter(|_| !by_supervisor) {
        mailer.enqueue(
            conn,
            Email {
                kind: Kind::ContactRequested,
                recipient,
                dedupe_key: format!("contact_requested:{checkin_id}"),
                values: serde_json::json!({
                    "worker_name": name,
                    "call_requested": input.call_requested,
                    "link": mailer.link(&crate::notifications::links::supervisee_recovery(&worker.user_id)),
                }),
            },
        )?;
    }
    if input.risk != Risk::Urgent {
        return Ok(());
    }
    let org = db::organisations::find(conn, &worker.organisation_id)?;
    if let Some(org) = org
        && let Some(email) = org.wellbeing_contact_email.clone()
    {
        mailer.enqueue(
            conn,
            Email {
                kind: Kind::WellbeingAlert,
                recipient: Recipient {
                    user_id: None,
                    email,
                    name: "Wellbeing contact".into(),
                    organisation_id: Some(crate::ids::OrganisationId::from_db(&org.id)?),
                    organisation_name: Some(org.name),
                },
                dedupe_key: format!("wellbeing_alert:{checkin_id}"),
                values: serde_json::json!({
                    "worker_name": name,
                    "supervisor_name": supervisor.as_ref().map(|s| s.name.clone()),
                    "supervisor_email": supervisor.as_ref().map(|s| s.email.clone()),
                    "supervisor_was_there": by_supervisor,
                }),
            },
        )?;
    }
    Ok(())
}

/// The check-ins the caller may see (latest first); the read is audited.
pub async fn list(
    db: &Database,
    keys: &Arc<Keyring>,
    actor: &Actor,
    worker: UserId,
) -> AppResult<Vec<Checkin>> {
    let (actor, keys) = (actor.clone(), keys.clone());
    db.write(move |conn| {
        let (row, who) = access(conn, &actor, worker)?;
        let list = db::recovery::checkins_of(conn, &row.user_id)?
            .into_iter()
            .map(|c| to_checkin(&keys, c, who))
            .collect::<AppResult<Vec<_>>>()?;
        audit_read(conn, &actor, "recovery.checkins_read", &row.user_id)?;
        Ok(list)
    })
    .await
}

/// Shares or withholds a check-in's text with the supervisor (the worker).
pub async fn share(
    db: &Database,
    keys: &Arc<Keyring>,
    actor: &Actor,
    id: uuid::Uuid,
    actions_shared: bool,
    notes_shared: bool,
) -> AppResult<Checkin> {
    let (actor, keys) = (actor.clone(), keys.clone());
    db.write(move |conn| {
        let row = db::recovery::find_checkin(conn, &id.to_string())?.ok_or(AppError::NotFound)?;
        owner(conn, &actor, UserId::from_db(&row.worker_id)?)?;
        db::recovery::set_sharing(conn, &row.id, actions_shared, notes_shared, db::now())?;
        audit::record(
            conn,
            Event::by(&actor, "recovery.sharing_changed", "worker").on(&row.worker_id),
        )?;
        let row = db::recovery::find_checkin(conn, &row.id)?.ok_or(AppError::NotFound)?;
        to_checkin(&keys, row, Access::Owner)
    })
    .await
}

/// Days between check-ins from a worker's start until they and their supervisor agree another.
pub const DEFAULT_CADENCE_DAYS: i32 = 14;

/// The rhythm check-ins are due on: the agreed one, or the default from the worker's start.
pub struct Cadence {
    pub every_days: i32,
    pub since: NaiveDate,
    pub agreed: bool,
}

impl Cadence {
    pub fn of(agreed: Option<&CadenceRow>, start_date: NaiveDate) -> Self {
        match agreed {
            Some(c) => Self {
                every_days: c.every_days,
                since: c.since,
                agreed: true,
            },
            None => Self {
                every_days: DEFAULT_CADENCE_DAYS,
                since: start_date,
                agreed: false,
            },
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckinStatus {
    pub worker_id: UserId,
    /// The agreed rhythm, or every 14 days from the worker's start until one is agreed.
    pub every_days: i32,
    /// Whether the worker and their supervisor agreed the rhythm (false: the default).
    pub agreed: bool,
    pub last_held_on: Option<NaiveDate>,
    /// Absent only while paused.
    pub next_due_on: Option<NaiveDate>,
    pub overdue: bool,
    pub paused: bool,
}

/// When the next check-in is due: the cadence from the later of the last check-in and the
/// agreement (or the start), moved on by the days paused since; none while paused.
pub fn due_on(
    cadence: &Cadence,
    last: Option<NaiveDate>,
    pauses: &[PauseRow],
    today: NaiveDate,
) -> Option<NaiveDate> {
    if is_paused(pauses, today) {
        return None;
    }
    let base = last.map_or(cadence.since, |l| l.max(cadence.since));
    let every = u64::try_from(cadence.every_days).ok()?;
    base.checked_add_days(Days::new(
        every + paused_days(pauses, base, today.max(base)),
    ))
}

fn status_of(conn: &mut DbConn, worker: &WorkerRow, today: NaiveDate) -> AppResult<CheckinStatus> {
    let id = &worker.user_id;
    let cadence = Cadence::of(db::recovery::cadence(conn, id)?.as_ref(), worker.start_date);
    let last = db::recovery::checkins_of(conn, id)?
        .first()
        .map(|c| c.held_on);
    let pauses = db::pauses::of_worker(conn, id)?;
    let next = due_on(&cadence, last, &pauses, today);
    Ok(CheckinStatus {
        worker_id: UserId::from_db(id)?,
        every_days: cadence.every_days,
        agreed: cadence.agreed,
        last_held_on: last,
        next_due_on: next,
        overdue: next.is_some_and(|d| d < today),
        paused: is_paused(&pauses, today),
    })
}

/// Agrees the cadence (the worker or their current supervisor): every N days from the day
/// it was agreed (today unless given).
pub async fn set_cadence(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    every_days: Option<i32>,
    agreed_on: Option<NaiveDate>,
) -> AppResult<CheckinStatus> {
    let every = every_days.unwrap_or(DEFAULT_CADENCE_DAYS);
    let mut errors = FieldErrors::new();
    if !(1..=90).contains(&every) {
        errors
            .entry("every_days".into())
            .or_default()
            .push("must be 1 to 90".into());
    }
    if let Some(day) = agreed_on {
        validation::past_day(day, "agreed_on", &mut errors);
    }
    crate::error::valid(errors)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, _) = access(conn, &actor, worker)?;
        let today = Utc::now().date_naive();
        db::recovery::set_cadence(
            conn,
            &CadenceRow {
                worker_id: row.user_id.clone(),
                organisation_id: row.organisation_id.clone(),
                every_days: every,
                since: agreed_on.unwrap_or(today),
                agreed_by: actor.user_id.to_db(),
                updated_at: db::now(),
            },
        )?;
        audit::record(
            conn,
            Event::by(&actor, "recovery.cadence_agreed", "worker").on(&row.user_id),
        )?;
        status_of(conn, &row, today)
    })
    .await
}

/// When check-ins are due (the worker, their supervisor): dates only.
pub async fn status(db: &Database, actor: &Actor, worker: UserId) -> AppResult<CheckinStatus> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (row, _) = access(conn, &actor, worker)?;
        status_of(conn, &row, Utc::now().date_naive())
    })
    .await
}

/// What a programme manager sees: whether check-ins happen, never what was said.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CheckinCount {
    pub worker_id: UserId,
    /// Check-ins held in the last 90 days.
    pub done: i64,
    pub overdue: bool,
}

pub async fn counts(db: &Database, actor: &Actor) -> AppResult<Vec<CheckinCount>> {
    let org = authz::own_organisation_as_manager(
        actor,
        "Programme managers see how many check-ins happen.",
    )?;
    db.run(move |conn| {
        let today = Utc::now().date_naive();
        let since = today - Days::new(COUNT_DAYS);
        let done = db::recovery::counts(conn, &org.to_db(), since)?;
        let cadences = db::recovery::cadences_with_latest(conn, Some(&org.to_db()))?;
        let mut ids: Vec<String> = done.iter().map(|(w, ..)| w.clone()).collect();
        ids.extend(cadences.iter().map(|c| c.worker_id.clone()));
        ids.sort();
        ids.dedup();
        let mut out = vec![];
        for id in ids {
            let n = done
                .iter()
                .find(|(w, ..)| *w == id)
                .map_or(0, |(_, n, _)| *n);
            let overdue = match cadences.iter().find(|c| c.worker_id == id) {
                Some(c) => {
                    let pauses = db::pauses::of_worker(conn, &id)?;
                    let cadence = Cadence::of(c.agreed.as_ref(), c.start_date);
                    due_on(&cadence, c.latest, &pauses, today).is_some_and(|d| d < today)
                }
                None => false,
            };
            out.push(CheckinCount {
                worker_id: UserId::from_db(&id)?,
                done: n,
                overdue,
            });
        }
        Ok(out)
    })
    .await
}
