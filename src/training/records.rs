//! Training records: a worker logs a completed module; their supervisor (or a programme
//! manager of the organisation) verifies or rejects it; the worker may correct or withdraw
//! it only while it is unverified. Expiry follows the module's validity.

use std::sync::Arc;

use chrono::{DateTime, Days, NaiveDate, NaiveDateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::modules::{self, hours_to_minutes, text};
use crate::validation;

use crate::access::Actor;
use crate::audit::{self, Event};
use crate::db::training::{RecordCorrection, RecordFilter, RecordRow};
use crate::db::workers::WorkerRow;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::{OrganisationId, UserId};
use crate::notifications::{self, Kind, Notifications};
use crate::pagination::{Page, Paginated};
use crate::workers::{self, Relation};

/// The most hours one record may claim.
pub const MAX_HOURS: f64 = 200.0;
/// How long before their start date a worker's earlier training is still accepted.
const BEFORE_START_YEARS: u64 = 5;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RecordStatus {
    Logged,
    Verified,
    Rejected,
    Withdrawn,
}

impl RecordStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Logged => "logged",
            Self::Verified => "verified",
            Self::Rejected => "rejected",
            Self::Withdrawn => "withdrawn",
        }
    }
    fn parse(value: &str) -> AppResult<Self> {
        match value {
            "logged" => Ok(Self::Logged),
            "verified" => Ok(Self::Verified),
            "rejected" => Ok(Self::Rejected),
            "withdrawn" => Ok(Self::Withdrawn),
            _ => Err(AppError::internal(
                "unknown training record status in the database",
            )),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct TrainingRecord {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub worker_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub module_id: String,
    pub module_code: String,
    pub module_title: String,
    pub completed_on: NaiveDate,
    pub hours: f64,
    pub provider: String,
    pub evidence: String,
    pub status: RecordStatus,
    /// When the completion runs out (from the module's validity); absent if it never does.
    pub expires_on: Option<NaiveDate>,
    pub expired: bool,
    pub decided_by: Option<UserId>,
    pub decided_at: Option<DateTime<Utc>>,
    /// Why it was rejected.
    pub decision_reason: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

impl TrainingRecord {
    /// A record with its module's code and title.
    pub(crate) fn from_row(
        row: RecordRow,
        (module_code, module_title): (String, String),
    ) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            worker_id: UserId::from_db(&row.worker_id)?,
            module_id: row.module_id,
            module_code,
            module_title,
            completed_on: row.completed_on,
            hours: f64::from(row.minutes) / 60.0,
            provider: row.provider,
            evidence: row.evidence,
            status: RecordStatus::parse(&row.status)?,
            expired: row.expires_on.is_some_and(|e| e < today()),
            expires_on: row.expires_on,
            decided_by: row.decided_by.as_deref().map(UserId::from_db).transpose()?,
            decided_at: row.decided_at.map(|t| t.and_utc()),
            decision_reason: row.decision_reason,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// A record as the worker submits it.
pub struct RecordInput {
    pub module_id: uuid::Uuid,
    pub completed_on: NaiveDate,
    pub hours: f64,
    pub provider: String,
    pub evidence: Option<String>,
}

struct Checked {
    module_id: String,
    completed_on: NaiveDate,
    minutes: i32,
    provider: String,
    evidence: String,
    expires_on: Option<NaiveDate>,
}

/// Checks a submission against the worker and the catalogue. Refused: a date after today
/// (UTC), before 2000, or more than five years before the worker started; hours not in
/// (0, 200]; a module of another organisation or a retired one; oversized text.
fn check(conn: &mut DbConn, worker: &WorkerRow, input: &RecordInput) -> AppResult<Checked> {
    let mut errors = FieldErrors::new();
    validation::past_day(input.completed_on, "completed_on", &mut errors);
    let start_floor = worker
        .start_date
        .checked_sub_days(Days::new(BEFORE_START_YEARS * 365))
        .unwrap_or(NaiveDate::MIN);
    if !errors.contains_key("completed_on") && input.completed_on < start_floor {
        errors
            .entry("completed_on".into())
            .or_default()
            .push(format!(
                "must not be more than {BEFORE_START_YEARS} years before the worker started ({})",
                worker.start_date
            ));
    }
    let mut fail = |field: &str, message: String| {
        errors.entry(field.into()).or_default().push(message);
    };
    let minutes = match hours_to_minutes(input.hours, "hours", MAX_HOURS) {
        Ok(m) => m,
        Err(AppError::Validation(e)) => {
            for (f, messages) in e {
                for m in messages {
                    fail(&f, m);
                }
            }
            0
        }
        Err(other) => return Err(other),
    };
    let module = db::training::find_module(conn, &input.module_id.to_string())?
        .filter(|m| m.organisation_id == worker.organisation_id);
    let validity = match &module {
        None => {
            fail(
                "module_id",
                "names no module of the worker's organisation".into(),
            );
            None
        }
        Some(m) if !m.active => {
            fail("module_id", "is retired and takes no new records".into());
            None
        }
        Some(m) => m.validity_months,
    };
    let provider = text(&input.provider, "provider", 200, true, &mut errors);
    let evidence = text(
        input.evidence.as_deref().unwrap_or_default(),
        "evidence",
        2000,
        false,
        &mut errors,
    );
    crate::error::valid(errors)?;
    Ok(Checked {
        module_id: input.module_id.to_string(),
        completed_on: input.completed_on,
        minutes,
        provider,
        evidence,
        expires_on: modules::expiry(input.completed_on, validity),
    })
}

fn only_the_worker(relation: Relation) -> AppResult<()> {
    match relation {
        Relation::Itself => Ok(()),
        _ => Err(AppError::Forbidden(
            "Only the worker logs, corrects or withdraws their training.",
        )),
    }
}

fn event<'a>(
    actor: &'a Actor,
    action: &'static str,
    record: &str,
    org: &str,
) -> AppResult<Event<'a>> {
    Ok(Event::by(actor, action, "training_record")
        .on(record)
        .in_org(Some(OrganisationId::from_db(org)?)))
}

pub async fn log_training(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    input: RecordInput,
) -> AppResult<TrainingRecord> {
    log_training_at(db, actor, worker, input, db::now()).await
}

/// As `log_training`, stamped with the moment given, so that the demo records its history on
/// the days it happened (a history that is append-only cannot be re-dated); the rest acts now.
pub async fn log_training_at(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    input: RecordInput,
    at: NaiveDateTime,
) -> AppResult<TrainingRecord> {
    let actor = actor.clone();
    db.write(move |conn| {
        let (worker, relation) = workers::load_visible(conn, &actor, worker)?;
        only_the_worker(relation)?;
        let checked = check(conn, &worker, &input)?;
        let now = at;
        let row = RecordRow {
            id: uuid::Uuid::now_v7().to_string(),
            worker_id: worker.user_id.clone(),
            organisation_id: worker.organisation_id.clone(),
            module_id: checked.module_id,
            completed_on: checked.completed_on,
            minutes: checked.minutes,
            provider: checked.provider,
            evidence: checked.evidence,
            status: RecordStatus::Logged.as_str().into(),
            expires_on: checked.expires_on,
            decided_by: None,
            decided_at: None,
            decision_reason: None,
            version: 1,
            created_at: now,
            updated_at: now,
        };
        db::training::insert_record(conn, &row)?;
        audit::record(
            conn,
            event(
                &actor,
                "training_record.logged",
                &row.id,
                &row.organisation_id,
            )?,
        )?;
        titled_one(conn, row)
    })
    .await
}

/// Records with their modules' codes and titles: one query for a page.
fn titled(conn: &mut DbConn, rows: Vec<RecordRow>) -> AppResult<Vec<TrainingRecord>> {
    let ids: Vec<String> = rows.iter().map(|r| r.module_id.clone()).collect();
    let titles = db::training::module_titles(conn, &ids)?;
    rows.into_iter()
        .map(|row| {
            let title = titles.get(&row.module_id).cloned().unwrap_or_default();
            TrainingRecord::from_row(row, title)
        })
        .collect()
}

fn titled_one(conn: &mut DbConn, row: RecordRow) -> AppResult<TrainingRecord> {
    titled(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

/// Loads a record with its worker, if the caller may see it.
fn load(conn: &mut DbConn, actor: &Actor, id: &str) -> AppResult<(RecordRow, WorkerRow, Relation)> {
    let record = db::training::find_record(conn, id)?.ok_or(AppError::NotFound)?;
    let worker_id = UserId::from_db(&record.worker_id)?;
    let (worker, relation) = workers::load_visible(conn, actor, worker_id)?;
    Ok((record, worker, relation))
}

fn reload(conn: &mut DbConn, id: &str) -> AppResult<TrainingRecord> {
    let row = db::training::find_record(conn, id)?.ok_or(AppError::NotFound)?;
    titled_one(conn, row)
}

pub async fn get_record(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<TrainingRecord> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (record, _, _) = load(conn, &actor, &id.to_string())?;
        titled_one(conn, record)
    })
    .await
}

fn not_logged(record: &RecordRow) -> AppError {
    AppError::conflict(format!(
        "This record is {}; only a record awaiting verification can change.",
        record.status
    ))
}

/// The worker corrects their record while it awaits verification.
pub async fn correct_record(
    db: &Database,
    actor: &Actor,
    id: uuid::Uuid,
    expected: i32,
    input: RecordInput,
) -> AppResult<TrainingRecord> {
    let actor = actor.clone();
    db.write(move |conn| {
        let id = id.to_string();
        let (record, worker, relation) = load(conn, &actor, &id)?;
        only_the_worker(relation)?;
        if record.status != RecordStatus::Logged.as_str() {
            return Err(not_logged(&record));
        }
        let checked = check(conn, &worker, &input)?;
        let correction = RecordCorrection {
            module_id: checked.module_id,
            completed_on: checked.completed_on,
            minutes: checked.minutes,
            provider: checked.provider,
            evidence: checked.evidence,
            expires_on: checked.expires_on,
        };
        if db::training::correct_record(conn, &id, expected, &correction, db::now())? == 0 {
            return Err(AppError::PreconditionFailed);
        }
        audit::record(
            conn,
            event(
                &actor,
                "training_record.corrected",
                &id,
                &record.organisation_id,
            )?,
        )?;
        reload(conn, &id)
    })
    .await
}

/// The worker withdraws their record while it awaits verification.
pub async fn withdraw_record(
    db: &Database,
    actor: &Actor,
    id: uuid::Uuid,
) -> AppResult<TrainingRecord> {
    let actor = actor.clone();
    db.write(move |conn| {
        let id = id.to_string();
        let (record, _, relation) = load(conn, &actor, &id)?;
        only_the_worker(relation)?;
        if db::training::decide_record(
            conn,
            &id,
            RecordStatus::Withdrawn.as_str(),
            None,
            None,
            db::now(),
        )? == 0
        {
            return Err(not_logged(&record));
        }
        audit::record(
            conn,
            event(
                &actor,
                "training_record.withdrawn",
                &id,
                &record.organisation_id,
            )?,
        )?;
        reload(conn, &id)
    })
    .await
}

/// Who decides a worker's training: their current supervisor, or a programme manager of
/// the organisation; never the worker.
fn may_decide(relation: Relation) -> AppResult<()> {
    match relation {
        Relation::CurrentSupervisor | Relation::Manager => Ok(()),
        Relation::Itself => Err(AppError::Forbidden(
            "You cannot verify or reject your own training.",
        )),
        Relation::Admin => Err(AppError::Forbidden(
            "Training is verified by the worker's supervisor or a programme manager.",
        )),
    }
}

/// Verifies (`reason` absent) or rejects (`reason` given) a record awaiting verification.
/// Of two decisions racing, the first wins and the second gets 409.
pub async fn decide_record(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    id: uuid::Uuid,
    rejection: Option<String>,
) -> AppResult<TrainingRecord> {
    decide_record_at(db, mailer, actor, id, rejection, db::now()).await
}

/// As `decide_record`, stamped with the moment given, so that the demo records its history on
/// the days it happened (a history that is append-only cannot be re-dated); the rest acts now.
pub async fn decide_record_at(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    id: uuid::Uuid,
    rejection: Option<String>,
    at: NaiveDateTime,
) -> AppResult<TrainingRecord> {
    let reason = match rejection {
        Some(r) => {
            let mut errors = FieldErrors::new();
            let r = text(&r, "reason", 1000, true, &mut errors);
            crate::error::valid(errors)?;
            Some(r)
        }
        None => None,
    };
    let actor = actor.clone();
    let mailer_in = mailer.clone();
    let decided = db
        .write(move |conn| {
            let id = id.to_string();
            let (record, _, relation) = load(conn, &actor, &id)?;
            may_decide(relation)?;
            let (status, action) = match reason {
                Some(_) => (RecordStatus::Rejected, "training_record.rejected"),
                None => (RecordStatus::Verified, "training_record.verified"),
            };
            let decided = db::training::decide_record(
                conn,
                &id,
                status.as_str(),
                Some(&actor.user_id.to_db()),
                reason.as_deref(),
                at,
            )?;
            if decided == 0 {
                return Err(not_logged(&record));
            }
            audit::record(conn, event(&actor, action, &id, &record.organisation_id)?)?;
            if status == RecordStatus::Rejected {
                let module = db::training::find_module(conn, &record.module_id)?
                    .ok_or(AppError::NotFound)?;
                let decider_name =
                    notifications::recipient_for_user(conn, &actor.user_id.to_db())?.name;
                let recipient = notifications::recipient_for_user(conn, &record.worker_id)?;
                mailer_in.enqueue(
                    conn,
                    notifications::Email {
                        kind: Kind::TrainingRejected,
                        recipient,
                        dedupe_key: format!("training_rejected:{id}"),
                        values: serde_json::json!({
                            "module_title": module.title,
                            "decider_name": decider_name,
                            "link": mailer_in.link(&notifications::links::training_record(&id)),
                        }),
                    },
                )?;
            }
            reload(conn, &id)
        })
        .await?;
    mailer.wake();
    Ok(decided)
}

/// A worker's records, filtered by status and expiry.
pub struct ListFilter {
    pub status: Option<RecordStatus>,
    /// Still in date but expiring within this many days.
    pub expires_within_days: Option<u32>,
    /// `true`: only those already expired.
    pub expired: Option<bool>,
}

pub async fn list_records(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    filter: ListFilter,
    page: Page,
) -> AppResult<Paginated<TrainingRecord>> {
    if filter.expired.is_some() && filter.expires_within_days.is_some() {
        return Err(AppError::invalid(
            "expires_within_days",
            "cannot be used together with expired; use one of them",
        ));
    }
    let today = today();
    let mut db_filter = RecordFilter {
        worker_id: Some(worker.to_db()),
        status: filter.status.map(|s| s.as_str().to_string()),
        ..RecordFilter::default()
    };
    if let Some(days) = filter.expires_within_days {
        if days > 3650 {
            return Err(AppError::bad_request(
                "expires_within_days must be at most 3650",
            ));
        }
        db_filter.expires_from = Some(today);
        db_filter.expires_by = today.checked_add_days(Days::new(u64::from(days)));
    }
    if filter.expired == Some(true) {
        db_filter.expires_by = today.pred_opt();
    }
    let actor = actor.clone();
    let (after, fetch) = (page.after.clone(), page.fetch());
    db.run(move |conn| {
        workers::load_visible(conn, &actor, worker)?;
        let rows = db::training::list_records(conn, &db_filter, after.as_deref(), fetch)?;
        let page = page.finish(rows, |r| r.id.clone());
        Ok(Paginated {
            items: titled(conn, page.items)?,
            next_cursor: page.next_cursor,
        })
    })
    .await
}
