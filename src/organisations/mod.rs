//! Organisations (the tenants: their data never crosses to another) and the networks that
//! group them.

pub mod networks;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Actor;
use crate::access::authz::{self, Scope};
use crate::audit::{self, Event};
use crate::db::organisations::OrganisationRow;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};
use crate::identity::values::parse_name;
use crate::ids::{OrganisationId, UserId};
use crate::pagination::{Page, Paginated};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Organisation {
    pub id: OrganisationId,
    pub name: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl TryFrom<OrganisationRow> for Organisation {
    type Error = AppError;
    fn try_from(row: OrganisationRow) -> AppResult<Self> {
        Ok(Self {
            id: OrganisationId::from_db(&row.id)?,
            name: row.name,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

pub async fn create_organisation(
    db: &Database,
    actor: &Actor,
    name: &str,
) -> AppResult<Organisation> {
    authz::can_manage_organisations(actor)?;
    let (name, name_key) = parse_name(name)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let now = db::now();
        let row = db::organisations::insert(
            conn,
            &OrganisationRow {
                id: OrganisationId::generate().to_db(),
                name,
                name_key,
                version: 1,
                created_at: now,
                updated_at: now,
                supervisors_see_pay: false,
                wellbeing_contact_email: None,
                second_approver_id: None,
                mfa_for_supervisors: false,
            },
        )?;
        let org = Organisation::try_from(row)?;
        audit::record(
            conn,
            Event::by(&actor, "organisation.created", "organisation")
                .on(org.id)
                .in_org(Some(org.id)),
        )?;
        Ok(org)
    })
    .await
}

pub async fn get_organisation(
    db: &Database,
    actor: &Actor,
    id: OrganisationId,
) -> AppResult<Organisation> {
    authz::can_see_organisation(actor, id)?;
    let row = db
        .run(move |conn| db::organisations::find(conn, &id.to_db())?.ok_or(AppError::NotFound))
        .await?;
    Organisation::try_from(row)
}

pub async fn list_organisations(
    db: &Database,
    actor: &Actor,
    page: Page,
) -> AppResult<Paginated<Organisation>> {
    let only = match authz::organisation_scope(actor)? {
        Scope::All => None,
        Scope::Organisation(org) => Some(org.to_db()),
    };
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = db
        .run(move |conn| {
            Ok(db::organisations::list(
                conn,
                only.as_deref(),
                after.as_deref(),
                fetch,
            )?)
        })
        .await?;
    page.finish(rows, |r| r.id.clone())
        .try_map(Organisation::try_from)
}

pub async fn rename_organisation(
    db: &Database,
    actor: &Actor,
    id: OrganisationId,
    expected: i32,
    name: &str,
) -> AppResult<Organisation> {
    authz::can_see_organisation(actor, id)?;
    authz::can_manage_organisations(actor)?;
    let (name, name_key) = parse_name(name)?;
    let actor = actor.clone();
    db.write(move |conn| {
        db::organisations::find(conn, &id.to_db())?.ok_or(AppError::NotFound)?;
        if db::organisations::rename(conn, &id.to_db(), expected, &name, &name_key, db::now())? == 0
        {
            return Err(AppError::PreconditionFailed);
        }
        audit::record(
            conn,
            Event::by(&actor, "organisation.updated", "organisation")
                .on(id)
                .in_org(Some(id)),
        )?;
        Organisation::try_from(
            db::organisations::find(conn, &id.to_db())?.ok_or(AppError::NotFound)?,
        )
    })
    .await
}

/// What an organisation decides for itself.
#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct OrganisationSettings {
    /// Whether supervisors see their supervisees' pay (off unless the organisation allows it).
    pub supervisors_see_pay: bool,
    /// Who is told, besides the supervisor, when a worker's check-in says the risk is
    /// urgent (an address; the email holds no health content).
    #[serde(default)]
    pub wellbeing_contact_email: Option<String>,
    /// Decides the progressions proposed by the organisation's only programme manager: one of
    /// its supervisors, or an admin. Recorded in each decision they take.
    #[serde(default)]
    pub second_approver_id: Option<UserId>,
    /// Supervisors must sign in with a second factor (an authenticator app), as admins and
    /// programme managers always do.
    #[serde(default)]
    pub mfa_for_supervisors: bool,
}

/// Reads the settings (anyone in the organisation, admins).
pub async fn settings(
    db: &Database,
    actor: &Actor,
    id: OrganisationId,
) -> AppResult<OrganisationSettings> {
    authz::can_see_organisation(actor, id)?;
    let row = db
        .run(move |conn| db::organisations::find(conn, &id.to_db())?.ok_or(AppError::NotFound))
        .await?;
    Ok(OrganisationSettings {
        supervisors_see_pay: row.supervisors_see_pay,
        wellbeing_contact_email: row.wellbeing_contact_email,
        second_approver_id: row
            .second_approver_id
            .as_deref()
            .map(UserId::from_db)
            .transpose()?,
        mfa_for_supervisors: row.mfa_for_supervisors,
    })
}

/// Changes the settings (the organisation's programme managers, admins).
pub async fn update_settings(
    db: &Database,
    actor: &Actor,
    id: OrganisationId,
    new: OrganisationSettings,
) -> AppResult<OrganisationSettings> {
    authz::can_change_organisation_settings(actor, id)?;
    let contact = new
        .wellbeing_contact_email
        .as_deref()
        .map(str::trim)
        .filter(|e| !e.is_empty())
        .map(|e| {
            crate::identity::Email::parse(e)
                .map(|_| e.to_string())
                .map_err(|_| {
                    AppError::invalid("wellbeing_contact_email", "is not an email address")
                })
        })
        .transpose()?;
    let new = OrganisationSettings {
        supervisors_see_pay: new.supervisors_see_pay,
        wellbeing_contact_email: contact,
        second_approver_id: new.second_approver_id,
        mfa_for_supervisors: new.mfa_for_supervisors,
    };
    let actor = actor.clone();
    db.write(move |conn| {
        if let Some(approver) = new.second_approver_id {
            let user = db::users::find(conn, &approver.to_db())?;
            let fits = user.is_some_and(|u| {
                let same = u.organisation_id.as_deref() == Some(id.to_db().as_str());
                u.active && authz::may_take_part(&u.role, authz::Part::SecondApprover, same)
            });
            if !fits {
                return Err(AppError::invalid(
                    "second_approver_id",
                    "must be an active supervisor of this organisation, or an admin",
                ));
            }
        }
        if db::organisations::set_settings(
            conn,
            &id.to_db(),
            new.supervisors_see_pay,
            new.wellbeing_contact_email.as_deref(),
            new.second_approver_id.map(|u| u.to_db()).as_deref(),
            new.mfa_for_supervisors,
            db::now(),
        )? == 0
        {
            return Err(AppError::NotFound);
        }
        audit::record(
            conn,
            Event::by(&actor, "organisation.settings_changed", "organisation")
                .on(id)
                .in_org(Some(id)),
        )?;
        Ok(new)
    })
    .await
}
