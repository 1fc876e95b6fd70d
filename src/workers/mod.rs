//! Worker profiles: the peer worker side of a user, with their supervisor (history kept)
//! and status. Programme managers manage them; supervisors see their supervisees; workers
//! see themselves.

pub mod pauses;
pub mod supervision;

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Actor, authz};
use crate::audit::{self, Event};
use crate::db::workers::{AssignmentRow, WorkerChanges, WorkerFilter, WorkerRow};
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult};
use crate::ids::{OrganisationId, UserId};
use crate::pagination::{Page, Paginated};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkerStatus {
    Active,
    Paused,
    Left,
}

impl WorkerStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Paused => "paused",
            Self::Left => "left",
        }
    }
    pub fn parse(value: &str) -> AppResult<Self> {
        match value {
            "active" => Ok(Self::Active),
            "paused" => Ok(Self::Paused),
            "left" => Ok(Self::Left),
            _ => Err(AppError::internal("unknown worker status in the database")),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Worker {
    /// The worker's user id.
    pub id: UserId,
    /// The worker's name as their account gives it.
    pub name: String,
    pub organisation_id: OrganisationId,
    pub supervisor_id: Option<UserId>,
    pub supervisor_name: Option<String>,
    pub preferred_name: Option<String>,
    pub start_date: NaiveDate,
    pub status: WorkerStatus,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

/// Profiles with the names a person reads them by: one query for the names of every
/// worker and supervisor among them.
fn with_names(conn: &mut DbConn, rows: Vec<WorkerRow>) -> AppResult<Vec<Worker>> {
    let Some(org) = rows.first().map(|r| r.organisation_id.clone()) else {
        return Ok(vec![]);
    };
    let mut ids: Vec<String> = rows.iter().map(|r| r.user_id.clone()).collect();
    ids.extend(rows.iter().filter_map(|r| r.supervisor_id.clone()));
    let names: std::collections::HashMap<String, String> =
        db::users::names_in_organisation(conn, &org, &ids)?
            .into_iter()
            .collect();
    rows.into_iter()
        .map(|row| {
            Ok(Worker {
                id: UserId::from_db(&row.user_id)?,
                name: names.get(&row.user_id).cloned().unwrap_or_default(),
                organisation_id: OrganisationId::from_db(&row.organisation_id)?,
                supervisor_name: row
                    .supervisor_id
                    .as_ref()
                    .and_then(|s| names.get(s).cloned()),
                supervisor_id: row
                    .supervisor_id
                    .as_deref()
                    .map(UserId::from_db)
                    .transpose()?,
                preferred_name: row.preferred_name,
                start_date: row.start_date,
                status: WorkerStatus::parse(&row.status)?,
                created_at: row.created_at.and_utc(),
                updated_at: row.updated_at.and_utc(),
                version: row.version,
            })
        })
        .collect()
}

fn one_with_names(conn: &mut DbConn, row: WorkerRow) -> AppResult<Worker> {
    with_names(conn, vec![row])?.pop().ok_or(AppError::NotFound)
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SupervisorAssignment {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub supervisor_id: Option<UserId>,
    pub assigned_by: UserId,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl TryFrom<AssignmentRow> for SupervisorAssignment {
    type Error = AppError;
    fn try_from(row: AssignmentRow) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            supervisor_id: row
                .supervisor_id
                .as_deref()
                .map(UserId::from_db)
                .transpose()?,
            assigned_by: UserId::from_db(&row.assigned_by)?,
            started_at: row.started_at.and_utc(),
            ended_at: row.ended_at.map(|t| t.and_utc()),
        })
    }
}

pub use crate::access::authz::Relation;

/// The caller's relation to a worker (the policy is `authz::relation_to_worker`).
pub fn relation(actor: &Actor, worker: &WorkerRow) -> AppResult<Relation> {
    authz::relation_to_worker(
        actor,
        &worker.user_id,
        &worker.organisation_id,
        worker.supervisor_id.as_deref(),
    )
}

/// Loads a worker the caller may see, with the relation.
pub fn load_visible(
    conn: &mut DbConn,
    actor: &Actor,
    id: UserId,
) -> AppResult<(WorkerRow, Relation)> {
    let row = db::workers::find(conn, &id.to_db())?.ok_or(AppError::NotFound)?;
    let relation = relation(actor, &row)?;
    Ok((row, relation))
}

/// Checks that `supervisor` is an active supervisor of `organisation`.
fn check_supervisor(conn: &mut DbConn, supervisor: UserId, organisation: &str) -> AppResult<()> {
    let user = db::users::find(conn, &supervisor.to_db())?;
    match user {
        Some(u)
            if u.active
                && authz::may_take_part(
                    &u.role,
                    authz::Part::Supervisor,
                    u.organisation_id.as_deref() == Some(organisation),
                ) =>
        {
            Ok(())
        }
        _ => Err(AppError::invalid(
            "supervisor_id",
            "must be an active supervisor of the worker's organisation",
        )),
    }
}

pub struct NewWorker {
    pub user_id: UserId,
    pub supervisor_id: Option<UserId>,
    pub preferred_name: Option<String>,
    pub start_date: NaiveDate,
}

pub fn check_preferred_name(name: Option<&str>) -> AppResult<Option<String>> {
    let Some(sent) = name else {
        return Ok(None);
    };
    let name = sent.trim();
    if name.is_empty() {
        return Ok(None);
    }
    if sent.chars().count() > 100 {
        return Err(AppError::invalid(
            "preferred_name",
            "is longer than 100 characters",
        ));
    }
    if name.chars().any(crate::validation::unfit_for_a_name) {
        return Err(AppError::invalid(
            "preferred_name",
            crate::validation::UNFIT_NAME,
        ));
    }
    Ok(Some(name.to_string()))
}

fn check_start_date(date: NaiveDate) -> AppResult<()> {
    let today = Utc::now().date_naive();
    if date > today + chrono::Days::new(366) {
        return Err(AppError::invalid(
            "start_date",
            "must not be more than a year ahead",
        ));
    }
    if date < NaiveDate::from_ymd_opt(1970, 1, 1).unwrap_or(date) {
        return Err(AppError::invalid("start_date", "must be 1970 or later"));
    }
    Ok(())
}

fn assign(
    conn: &mut DbConn,
    worker: &str,
    supervisor: Option<UserId>,
    by: &Actor,
) -> AppResult<()> {
    let now = db::now();
    db::workers::end_assignment(conn, worker, now)?;
    db::workers::insert_assignment(
        conn,
        &AssignmentRow {
            id: uuid::Uuid::now_v7().to_string(),
            worker_id: worker.to_string(),
            supervisor_id: supervisor.map(|s| s.to_db()),
            assigned_by: by.user_id.to_db(),
            started_at: now,
            ended_at: None,
        },
    )?;
    Ok(())
}

/// Creates the profile of a peer worker account of the manager's organisation.
pub async fn create_worker(db: &Database, actor: &Actor, new: NewWorker) -> AppResult<Worker> {
    let org =
        authz::own_organisation_as_manager(actor, "Programme managers manage worker profiles.")?;
    check_start_date(new.start_date)?;
    let preferred_name = check_preferred_name(new.preferred_name.as_deref())?;
    let actor = actor.clone();
    db.write(move |conn| {
        let user = db::users::find(conn, &new.user_id.to_db())?;
        let user = match user {
            Some(u) if u.organisation_id.as_deref() == Some(org.to_db().as_str()) => u,
            _ => {
                return Err(AppError::invalid(
                    "user_id",
                    "names no user of your organisation",
                ));
            }
        };
        if !authz::may_take_part(&user.role, authz::Part::PeerWorkerProfile, true) {
            return Err(AppError::invalid(
                "user_id",
                "must be a peer worker's account",
            ));
        }
        if let Some(s) = new.supervisor_id {
            check_supervisor(conn, s, &org.to_db())?;
        }
        let now = db::now();
        db::workers::insert(
            conn,
            &WorkerRow {
                user_id: user.id.clone(),
                organisation_id: org.to_db(),
                supervisor_id: new.supervisor_id.map(|s| s.to_db()),
                preferred_name,
                start_date: new.start_date,
                status: WorkerStatus::Active.as_str().into(),
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        assign(conn, &user.id, new.supervisor_id, &actor)?;
        audit::record(
            conn,
            Event::by(&actor, "worker.created", "worker").on(&user.id),
        )?;
        let row = db::workers::find(conn, &user.id)?.ok_or(AppError::NotFound)?;
        one_with_names(conn, row)
    })
    .await
}

pub async fn get_worker(db: &Database, actor: &Actor, id: UserId) -> AppResult<Worker> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (row, _) = load_visible(conn, &actor, id)?;
        one_with_names(conn, row)
    })
    .await
}

/// Lists workers: a manager their organisation's, a supervisor their supervisees, a worker
/// themselves.
pub async fn list_workers(
    db: &Database,
    actor: &Actor,
    mut filter: WorkerFilter,
    page: Page,
) -> AppResult<Paginated<Worker>> {
    let org = actor.organisation_id.ok_or(AppError::Forbidden(
        "Workers belong to organisations; admins have none.",
    ))?;
    filter.organisation_id = Some(org.to_db());
    match authz::worker_list_scope(actor)? {
        authz::WorkerList::Organisation => {}
        authz::WorkerList::Supervisees => filter.supervisor_id = Some(actor.user_id.to_db()),
        authz::WorkerList::Itself => filter.user_id = Some(actor.user_id.to_db()),
    }
    let (after, fetch) = (page.after.clone(), page.fetch());
    db.run(move |conn| {
        let rows = db::workers::list(conn, &filter, after.as_deref(), fetch)?;
        let page = page.finish(rows, |r| r.user_id.clone());
        Ok(Paginated {
            items: with_names(conn, page.items)?,
            next_cursor: page.next_cursor,
        })
    })
    .await
}

pub struct WorkerUpdate {
    pub preferred_name: Option<Option<String>>,
    pub start_date: Option<NaiveDate>,
    pub status: Option<WorkerStatus>,
    pub supervisor_id: Option<Option<UserId>>,
}

/// Updates a profile; a change of supervisor ends the current assignment and starts a new
/// one, and the new supervisor's queue has the worker's requests at once.
pub async fn update_worker(
    db: &Database,
    actor: &Actor,
    id: UserId,
    expected: i32,
    update: WorkerUpdate,
) -> AppResult<Worker> {
    authz::own_organisation_as_manager(actor, "Programme managers manage worker profiles.")?;
    if let Some(date) = update.start_date {
        check_start_date(date)?;
    }
    let preferred_name = update
        .preferred_name
        .map(|n| check_preferred_name(n.as_deref()))
        .transpose()?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (row, _) = load_visible(conn, &actor, id)?;
        if let Some(Some(s)) = update.supervisor_id {
            check_supervisor(conn, s, &row.organisation_id)?;
        }
        let supervisor_changes = update
            .supervisor_id
            .filter(|s| s.map(|s| s.to_db()) != row.supervisor_id);
        let changes = WorkerChanges {
            preferred_name,
            start_date: update.start_date,
            status: update.status.map(|s| s.as_str().to_string()),
            supervisor_id: supervisor_changes.map(|s| s.map(|s| s.to_db())),
        };
        if db::workers::update(conn, &row.user_id, expected, &changes, db::now())? == 0 {
            return Err(AppError::PreconditionFailed);
        }
        if let Some(new_supervisor) = supervisor_changes {
            assign(conn, &row.user_id, new_supervisor, &actor)?;
            audit::record(
                conn,
                Event::by(&actor, "worker.supervisor_changed", "worker").on(&row.user_id),
            )?;
        }
        audit::record(
            conn,
            Event::by(&actor, "worker.updated", "worker").on(&row.user_id),
        )?;
        let row = db::workers::find(conn, &row.user_id)?.ok_or(AppError::NotFound)?;
        one_with_names(conn, row)
    })
    .await
}

pub async fn supervisor_history(
    db: &Database,
    actor: &Actor,
    id: UserId,
) -> AppResult<Vec<SupervisorAssignment>> {
    let actor = actor.clone();
    let rows = db
        .run(move |conn| {
            let (row, _) = load_visible(conn, &actor, id)?;
            Ok(db::workers::assignments(conn, &row.user_id)?)
        })
        .await?;
    rows.into_iter()
        .map(SupervisorAssignment::try_from)
        .collect()
}

/// The names of colleagues in the caller's organisation, by user id, for what people read
/// (a queue item says whose it is). Ids of other organisations get no name.
pub async fn names(
    db: &Database,
    actor: &Actor,
    ids: Vec<String>,
) -> AppResult<std::collections::HashMap<String, String>> {
    let org = authz::own_organisation(actor)?;
    db.run(move |conn| {
        Ok(db::users::names_in_organisation(conn, &org.to_db(), &ids)?
            .into_iter()
            .collect())
    })
    .await
}
