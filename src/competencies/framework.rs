//! The competency framework of an organisation, and its assessors. Programme managers keep
//! it; everyone in the organisation reads it. A competency in use is retired, not deleted.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Actor;
use crate::access::authz;
use crate::audit::{self, Event};
use crate::db::competencies::{CompetencyChanges, CompetencyRow};
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::{OrganisationId, UserId};
use crate::pagination::{Page, Paginated};
use crate::validation::{self, text};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Competency {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub organisation_id: OrganisationId,
    pub code: String,
    pub domain: String,
    /// In the "able to ..." style.
    pub title: String,
    pub description: String,
    /// Observed practices needed before sign-off (0: no direct observation).
    pub observations_required: i32,
    pub active: bool,
    /// Supervisors who hold this competency at assessor level.
    pub assessor_ids: Vec<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

fn to_competency(row: CompetencyRow, assessors: Vec<String>) -> AppResult<Competency> {
    Ok(Competency {
        id: row.id,
        organisation_id: OrganisationId::from_db(&row.organisation_id)?,
        code: row.code,
        domain: row.domain,
        title: row.title,
        description: row.description,
        observations_required: row.observations_required,
        active: row.active,
        assessor_ids: assessors
            .iter()
            .map(|a| UserId::from_db(a))
            .collect::<AppResult<_>>()?,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        version: row.version,
    })
}

pub struct CompetencyInput {
    pub code: String,
    pub domain: String,
    pub title: String,
    pub description: Option<String>,
    pub observations_required: Option<i32>,
    pub active: Option<bool>,
}

struct Checked {
    code: String,
    domain: String,
    title: String,
    description: String,
    observations_required: i32,
}

fn check(input: &CompetencyInput) -> AppResult<Checked> {
    let mut errors = FieldErrors::new();
    let code = validation::code(&input.code, &mut errors);
    let domain = text(&input.domain, "domain", 100, true, &mut errors);
    let title = text(&input.title, "title", 200, true, &mut errors);
    let description = text(
        input.description.as_deref().unwrap_or_default(),
        "description",
        2000,
        false,
        &mut errors,
    );
    let observations_required = input.observations_required.unwrap_or(0);
    if !(0..=100).contains(&observations_required) {
        errors
            .entry("observations_required".into())
            .or_default()
            .push("must be 0 to 100".into());
    }
    crate::error::valid(errors)?;
    Ok(Checked {
        code,
        domain,
        title,
        description,
        observations_required,
    })
}

/// A competency of `org` (404 for another organisation's).
pub fn load(conn: &mut DbConn, org: &str, id: &str) -> AppResult<CompetencyRow> {
    let row = db::competencies::find(conn, id)?.ok_or(AppError::NotFound)?;
    if row.organisation_id != org {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

fn reload(conn: &mut DbConn, id: &str) -> AppResult<Competency> {
    let row = db::competencies::find(conn, id)?.ok_or(AppError::NotFound)?;
    let assessors = db::competencies::assessors(conn, id)?;
    to_competency(row, assessors)
}

pub async fn create(db: &Database, actor: &Actor, input: CompetencyInput) -> AppResult<Competency> {
    let org = authz::own_organisation_as_manager(
        actor,
        "Programme managers keep the competency framework.",
    )?;
    let checked = check(&input)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let now = db::now();
        let row = CompetencyRow {
            id: uuid::Uuid::now_v7().to_string(),
            organisation_id: org.to_db(),
            code_key: checked.code.to_lowercase(),
            code: checked.code,
            domain: checked.domain,
            title: checked.title,
            description: checked.description,
            observations_required: checked.observations_required,
            active: input.active.unwrap_or(true),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        db::competencies::insert(conn, &row)?;
        audit::record(
            conn,
            Event::by(&actor, "competency.created", "competency").on(&row.id),
        )?;
        to_competency(row, vec![])
    })
    .await
}

pub async fn get(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<Competency> {
    let org = authz::own_organisation(actor)?;
    db.run(move |conn| {
        load(conn, &org.to_db(), &id.to_string())?;
        reload(conn, &id.to_string())
    })
    .await
}

pub async fn list(
    db: &Database,
    actor: &Actor,
    active: Option<bool>,
    page: Page,
) -> AppResult<Paginated<Competency>> {
    let org = authz::own_organisation(actor)?;
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = db
        .run(move |conn| {
            let rows = db::competencies::list(conn, &org.to_db(), active, after.as_deref(), fetch)?;
            let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
            let mut assessors: std::collections::HashMap<String, Vec<String>> =
                std::collections::HashMap::new();
            for (competency, user) in db::competencies::assessors_of(conn, &ids)? {
                assessors.entry(competency).or_default().push(user);
            }
            Ok(rows
                .into_iter()
                .map(|r| {
                    let of = assessors.remove(&r.id).unwrap_or_default();
                    (r, of)
                })
                .collect::<Vec<_>>())
        })
        .await?;
    page.finish(rows, |(r, _)| r.id.clone())
        .try_map(|(r, a)| to_competency(r, a))
}

pub async fn update(
    db: &Database,
    actor: &Actor,
    id: uuid::Uuid,
    expected: i32,
    input: CompetencyInput,
) -> AppResult<Competency> {
    let org = authz::own_organisation_as_manager(
        actor,
        "Programme managers keep the competency framework.",
    )?;
    let checked = check(&input)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let id = id.to_string();
        let current = load(conn, &org.to_db(), &id)?;
        let changes = CompetencyChanges {
            code_key: checked.code.to_lowercase(),
            code: checked.code,
            domain: checked.domain,
            title: checked.title,
            description: checked.description,
            observations_required: checked.observations_required,
            active: input.active.unwrap_or(current.active),
        };
        if db::competencies::update(conn, &id, expected, &changes, db::now())? == 0 {
            return Err(AppError::PreconditionFailed);
        }
        audit::record(
            conn,
            Event::by(&actor, "competency.updated", "competency").on(&id),
        )?;
        reload(conn, &id)
    })
    .await
}

pub async fn delete(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<()> {
    let org = authz::own_organisation_as_manager(
        actor,
        "Programme managers keep the competency framework.",
    )?;
    let actor = actor.clone();
    db.write(move |conn| {
        let id = id.to_string();
        load(conn, &org.to_db(), &id)?;
        if db::competencies::is_used(conn, &id)? {
            return Err(AppError::conflict(
                "This competency has sign-offs or observations; retire it (active: false) instead.",
            ));
        }
        db::competencies::delete(conn, &id)?;
        audit::record(
            conn,
            Event::by(&actor, "competency.deleted", "competency").on(&id),
        )
    })
    .await
}

/// Grants or withdraws assessor level in a competency to a supervisor of the organisation.
pub async fn set_assessor(
    db: &Database,
    actor: &Actor,
    id: uuid::Uuid,
    user: UserId,
    assessor: bool,
) -> AppResult<Competency> {
    let org = authz::own_organisation_as_manager(
        actor,
        "Programme managers keep the competency framework.",
    )?;
    let actor = actor.clone();
    db.write(move |conn| {
        let id = id.to_string();
        load(conn, &org.to_db(), &id)?;
        let target = db::users::find(conn, &user.to_db())?;
        match target {
            Some(u) if u.organisation_id.as_deref() == Some(org.to_db().as_str()) => {
                if !authz::may_take_part(&u.role, authz::Part::Assessor, true) {
                    return Err(AppError::invalid(
                        "user_id",
                        "only supervisors can be assessors",
                    ));
                }
            }
            _ => return Err(AppError::NotFound),
        }
        let holds = db::competencies::is_assessor(conn, &id, &user.to_db())?;
        let action = match (assessor, holds) {
            (true, false) => {
                db::competencies::grant_assessor(
                    conn,
                    &id,
                    &user.to_db(),
                    &actor.user_id.to_db(),
                    db::now(),
                )?;
                Some("competency.assessor_granted")
            }
            (false, true) => {
                db::competencies::revoke_assessor(conn, &id, &user.to_db())?;
                Some("competency.assessor_withdrawn")
            }
            _ => None,
        };
        if let Some(action) = action {
            audit::record(conn, Event::by(&actor, action, "competency").on(&id))?;
        }
        reload(conn, &id)
    })
    .await
}
