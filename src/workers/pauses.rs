//! Wellbeing pauses: agreed time away (leave, a return-to-work plan) that stops the
//! pathway clock without losing anything. A pause holds dates and a category only, never
//! why in detail, so the pathway may read it without touching recovery data.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::db::pauses::PauseRow;
use crate::db::workers::WorkerChanges;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::UserId;
use crate::notifications::{self, Email, Kind, Notifications};
use crate::validation;
use std::sync::Arc;

use super::{Relation, WorkerStatus, load_visible};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = PauseCategory)]
pub enum Category {
    Leave,
    ReturnToWork,
    Other,
}

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Leave => "leave",
            Self::ReturnToWork => "return_to_work",
            Self::Other => "other",
        }
    }
    fn parse(value: &str) -> Self {
        match value {
            "leave" => Self::Leave,
            "return_to_work" => Self::ReturnToWork,
            _ => Self::Other,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Pause {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub worker_id: UserId,
    pub starts_on: NaiveDate,
    pub planned_return_on: Option<NaiveDate>,
    /// The first day back; absent while the pause lasts.
    pub ended_on: Option<NaiveDate>,
    pub category: Category,
    pub recorded_by: UserId,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<PauseRow> for Pause {
    type Error = AppError;
    fn try_from(row: PauseRow) -> AppResult<Self> {
        Ok(Self {
            worker_id: UserId::from_db(&row.worker_id)?,
            recorded_by: UserId::from_db(&row.recorded_by)?,
            category: Category::parse(&row.category),
            id: row.id,
            starts_on: row.starts_on,
            planned_return_on: row.planned_return_on,
            ended_on: row.ended_on,
            created_at: row.created_at.and_utc(),
        })
    }
}

/// Paused days in `[from, to)`: each pause runs from its start to the day before its end
/// (the first day back), or on to `to` while it lasts.
pub fn paused_days(pauses: &[PauseRow], from: NaiveDate, to: NaiveDate) -> u64 {
    pauses
        .iter()
        .map(|p| {
            let start = p.starts_on.max(from);
            let end = p.ended_on.unwrap_or(to).min(to);
            u64::try_from((end - start).num_days()).unwrap_or(0)
        })
        .sum()
}

/// Whether a pause covers `today`.
pub fn is_paused(pauses: &[PauseRow], today: NaiveDate) -> bool {
    pauses
        .iter()
        .any(|p| p.starts_on <= today && p.ended_on.is_none_or(|e| e > today))
}

/// The worker and their current supervisor agree a pause, and either records it; a
/// programme manager may too.
fn may_record(relation: Relation) -> AppResult<()> {
    if matches!(
        relation,
        Relation::Itself | Relation::CurrentSupervisor | Relation::Manager
    ) {
        Ok(())
    } else {
        Err(AppError::Forbidden(
            "The worker, their supervisor or a programme manager records an agreed pause.",
        ))
    }
}

/// How far past the first day back the return email looks for training running out.
const RETURN_WINDOW_DAYS: u64 = 30;

/// Tells the returning worker which training ran out during the pause or runs out soon
/// (reminders stop while paused, so nothing expires without a word).
fn tell_on_return(
    conn: &mut DbConn,
    mailer: &Notifications,
    worker: &str,
    pause: &PauseRow,
    ended_on: NaiveDate,
) -> AppResult<()> {
    let until = ended_on + chrono::Days::new(RETURN_WINDOW_DAYS);
    let due = db::reminders::expiring_training_of(conn, worker, pause.starts_on, until)?;
    if due.is_empty() {
        return Ok(());
    }
    let items: Vec<serde_json::Value> = due
        .iter()
        .map(|(title, expires)| {
            serde_json::json!({"title": title, "expires": crate::explain::day(*expires)})
        })
        .collect();
    let recipient = notifications::recipient_for_user(conn, worker)?;
    mailer.enqueue(
        conn,
        Email {
            kind: Kind::TrainingExpiring,
            recipient,
            dedupe_key: format!("training_expiring:{worker}:return:{}", pause.id),
            values: serde_json::json!({
                "items": items,
                "link": mailer.link(&crate::notifications::links::training()),
            }),
        },
    )?;
    Ok(())
}

fn set_status(conn: &mut DbConn, worker: &str, status: WorkerStatus) -> AppResult<()> {
    let row = db::workers::find(conn, worker)?.ok_or(AppError::NotFound)?;
    let changes = WorkerChanges {
        status: Some(status.as_str().into()),
        ..Default::default()
    };
    db::workers::update(conn, worker, row.version, &changes, db::now())?;
    Ok(())
}

/// Starts a pause (today or earlier); the worker's status becomes paused.
pub async fn start(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    starts_on: NaiveDate,
    planned_return_on: Option<NaiveDate>,
    category: Category,
) -> AppResult<Pause> {
    let mut errors = FieldErrors::new();
    validation::past_day(starts_on, "starts_on", &mut errors);
    if planned_return_on.is_some_and(|r| r <= starts_on) {
        errors
            .entry("planned_return_on".into())
            .or_default()
            .push("must be after starts_on".into());
    }
    crate::error::valid(errors)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, relation) = load_visible(conn, &actor, worker)?;
        may_record(relation)?;
        let pauses = db::pauses::of_worker(conn, &row.user_id)?;
        if pauses.iter().any(|p| p.ended_on.is_none()) {
            return Err(AppError::conflict(
                "This worker is paused already; end that pause first.",
            ));
        }
        if let Some(last) = pauses.iter().filter_map(|p| p.ended_on).max()
            && starts_on < last
        {
            return Err(AppError::invalid(
                "starts_on",
                format!("must not be before the end of the previous pause, {last}"),
            ));
        }
        let pause = PauseRow {
            id: uuid::Uuid::now_v7().to_string(),
            worker_id: row.user_id.clone(),
            organisation_id: row.organisation_id.clone(),
            starts_on,
            planned_return_on,
            ended_on: None,
            category: category.as_str().into(),
            recorded_by: actor.user_id.to_db(),
            ended_by: None,
            created_at: db::now(),
        };
        db::pauses::insert(conn, &pause)?;
        set_status(conn, &row.user_id, WorkerStatus::Paused)?;
        audit::record(
            conn,
            Event::by(&actor, "worker.paused", "worker").on(&row.user_id),
        )?;
        Pause::try_from(pause)
    })
    .await
}

/// Ends a pause on the first day back (today or earlier); the clock runs again.
pub async fn end(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    worker: UserId,
    id: uuid::Uuid,
    ended_on: NaiveDate,
) -> AppResult<Pause> {
    let mut errors = FieldErrors::new();
    validation::past_day(ended_on, "ended_on", &mut errors);
    crate::error::valid(errors)?;
    let (actor, mailer_in) = (actor.clone(), mailer.clone());
    let ended = db
        .write(move |conn| {
            let (row, relation) = load_visible(conn, &actor, worker)?;
            may_record(relation)?;
            let pause = db::pauses::find(conn, &id.to_string())?
                .filter(|p| p.worker_id == row.user_id)
                .ok_or(AppError::NotFound)?;
            if ended_on < pause.starts_on {
                return Err(AppError::invalid(
                    "ended_on",
                    format!("must not be before the pause began, {}", pause.starts_on),
                ));
            }
            if db::pauses::end(conn, &pause.id, ended_on, &actor.user_id.to_db())? == 0 {
                return Err(AppError::conflict("This pause has ended already."));
            }
            set_status(conn, &row.user_id, WorkerStatus::Active)?;
            audit::record(
                conn,
                Event::by(&actor, "worker.resumed", "worker").on(&row.user_id),
            )?;
            tell_on_return(conn, &mailer_in, &row.user_id, &pause, ended_on)?;
            Pause::try_from(db::pauses::find(conn, &pause.id)?.ok_or(AppError::NotFound)?)
        })
        .await?;
    mailer.wake();
    Ok(ended)
}

pub async fn list(db: &Database, actor: &Actor, worker: UserId) -> AppResult<Vec<Pause>> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (row, relation) = load_visible(conn, &actor, worker)?;
        if relation == Relation::Admin {
            return Err(AppError::Forbidden("Pauses belong to the organisation."));
        }
        db::pauses::of_worker(conn, &row.user_id)?
            .into_iter()
            .map(Pause::try_from)
            .collect()
    })
    .await
}
