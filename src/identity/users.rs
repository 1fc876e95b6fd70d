//! User accounts: creation, reading, listing and updating, under the policies in `authz`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::authz::{self, Scope, UserChangeRequest};
use std::sync::Arc;

use super::{Actor, DisplayName, Email, Identity, Role, account_tokens, passwords};
use crate::audit::{self, Event};
use crate::config::Secret;
use crate::db::users::{NewUser, UserChanges, UserFilter, UserRow};
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult};
use crate::ids::{OrganisationId, UserId};
use crate::notifications::Notifications;
use crate::pagination::{Page, Paginated};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub email: String,
    pub display_name: String,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub active: bool,
    /// Whether a password is set (an invited user has none until they accept).
    pub has_password: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The version an `If-Match` header must name to update this user.
    pub version: i32,
}

impl TryFrom<UserRow> for User {
    type Error = AppError;
    fn try_from(row: UserRow) -> AppResult<Self> {
        Ok(Self {
            id: UserId::from_db(&row.id)?,
            email: row.email,
            display_name: row.display_name,
            role: Role::parse(&row.role)
                .ok_or_else(|| AppError::internal("unknown role in the database"))?,
            organisation_id: row
                .organisation_id
                .as_deref()
                .map(OrganisationId::from_db)
                .transpose()?,
            active: row.active,
            has_password: row.password_hash.is_some(),
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// A request to create an account, already parsed.
pub struct NewAccount {
    pub email: Email,
    pub display_name: DisplayName,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub password: Option<Secret>,
}

/// Checks the rules every new account follows, whoever creates it.
fn check_new_account(account: &NewAccount) -> AppResult<()> {
    let belongs = authz::belongs_to_an_organisation(account.role);
    if belongs && account.organisation_id.is_none() {
        return Err(AppError::invalid(
            "organisation_id",
            "is required for every role but admin",
        ));
    }
    if !belongs && account.organisation_id.is_some() {
        return Err(AppError::invalid(
            "organisation_id",
            "must be empty for an admin, who belongs to no organisation",
        ));
    }
    if let Some(p) = &account.password {
        passwords::check_policy(p.expose(), "password")?;
    }
    Ok(())
}

fn insert_account(
    conn: &mut DbConn,
    account: &NewAccount,
    hash: Option<&str>,
) -> AppResult<UserRow> {
    if let Some(org) = account.organisation_id {
        db::organisations::find(conn, &org.to_db())?
            .ok_or_else(|| AppError::invalid("organisation_id", "names no organisation"))?;
    }
    let now = db::now();
    let id = UserId::generate().to_db();
    let org = account.organisation_id.map(|o| o.to_db());
    Ok(db::users::insert(
        conn,
        &NewUser {
            id: &id,
            email: account.email.as_str(),
            email_key: &account.email.key(),
            display_name: account.display_name.as_str(),
            role: account.role.as_str(),
            organisation_id: org.as_deref(),
            password_hash: hash,
            active: true,
            version: 1,
            created_at: now,
            updated_at: now,
        },
    )?)
}

/// Hashes the initial password (if any) before the transaction, so no lock is held while
/// hashing.
async fn initial_hash(identity: &Identity, account: &NewAccount) -> AppResult<Option<String>> {
    match &account.password {
        Some(p) => Ok(Some(identity.hasher.hash(p).await?)),
        None => Ok(None),
    }
}

/// Creates an account for `actor`; a programme manager's default organisation is their own.
/// Without an initial password the user is invited: an email with a single-use link to
/// choose one is queued in the same transaction.
pub async fn create_user(
    identity: &Identity,
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    mut account: NewAccount,
) -> AppResult<User> {
    account.organisation_id = authz::organisation_of_new_account(actor, account.organisation_id);
    authz::can_create_user(actor, account.role, account.organisation_id)?;
    check_new_account(&account)?;
    let hash = initial_hash(identity, &account).await?;
    let actor = actor.clone();
    let mailer_in = mailer.clone();
    let user = db
        .write(move |conn| {
            let row = insert_account(conn, &account, hash.as_deref())?;
            if row.password_hash.is_none() {
                let inviter = db::users::find(conn, &actor.user_id.to_db())?
                    .map(|u| u.display_name)
                    .unwrap_or_default();
                account_tokens::invite(conn, &mailer_in, &row, inviter)?;
            }
            let user = User::try_from(row)?;
            audit::record(
                conn,
                Event::by(&actor, "user.created", "user")
                    .on(user.id)
                    .in_org(user.organisation_id),
            )?;
            Ok(user)
        })
        .await?;
    mailer.wake();
    Ok(user)
}

/// The bootstrap path for the first admin, from the command line.
pub async fn create_admin(
    hasher: &passwords::PasswordHasher,
    db: &Database,
    email: &str,
    display_name: &str,
    password: Secret,
) -> AppResult<User> {
    let account = NewAccount {
        email: Email::parse(email)?,
        display_name: DisplayName::parse(display_name)?,
        role: Role::Admin,
        organisation_id: None,
        password: Some(password),
    };
    check_new_account(&account)?;
    let hash = Some(
        hasher
            .hash(&account.password.clone().unwrap_or_default())
            .await?,
    );
    db.write(move |conn| {
        let user = User::try_from(insert_account(conn, &account, hash.as_deref())?)?;
        audit::record(
            conn,
            Event {
                action: "user.created",
                entity: "user",
                entity_id: Some(user.id.to_string()),
                organisation_id: None,
                actor_id: None,
                request_id: Some("cli"),
            },
        )?;
        Ok(user)
    })
    .await
}

pub async fn get_user(db: &Database, actor: &Actor, id: UserId) -> AppResult<User> {
    let row = db
        .run(move |conn| db::users::find(conn, &id.to_db())?.ok_or(AppError::NotFound))
        .await?;
    let user = User::try_from(row)?;
    authz::can_view_user(actor, &user.id.to_string(), user.organisation_id)?;
    Ok(user)
}

pub async fn list_users(
    db: &Database,
    actor: &Actor,
    mut filter: UserFilter,
    page: Page,
) -> AppResult<Paginated<User>> {
    if let Scope::Organisation(org) = authz::can_list_users(actor)? {
        if filter
            .organisation_id
            .as_ref()
            .is_some_and(|o| *o != org.to_db())
        {
            return Err(AppError::NotFound);
        }
        filter.organisation_id = Some(org.to_db());
    }
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = db
        .run(move |conn| Ok(db::users::list(conn, &filter, after.as_deref(), fetch)?))
        .await?;
    page.finish(rows, |r| r.id.clone()).try_map(User::try_from)
}

/// The changes an update asks for, parsed.
#[derive(Default)]
pub struct UserUpdate {
    pub display_name: Option<DisplayName>,
    pub role: Option<Role>,
    pub active: Option<bool>,
}

/// Updates a user at `expected` version. Deactivation ends the user's sessions at once.
pub async fn update_user(
    db: &Database,
    actor: &Actor,
    id: UserId,
    expected: i32,
    update: UserUpdate,
) -> AppResult<User> {
    let actor = actor.clone();
    db.write(move |conn| {
        let row = db::users::find(conn, &id.to_db())?.ok_or(AppError::NotFound)?;
        let current = User::try_from(row)?;
        authz::can_update_user(
            &actor,
            &current.id.to_string(),
            current.role,
            current.organisation_id,
            &UserChangeRequest {
                display_name: update.display_name.is_some(),
                role: update.role,
                active: update.active,
            },
        )?;
        if update.role.is_some_and(|r| {
            authz::belongs_to_an_organisation(r) != authz::belongs_to_an_organisation(current.role)
        }) {
            return Err(AppError::invalid(
                "role",
                "an account cannot move between admin and an organisation role",
            ));
        }
        let changes = UserChanges {
            display_name: update.display_name.map(|d| d.as_str().to_string()),
            role: update.role.map(|r| r.as_str().to_string()),
            active: update.active,
        };
        let now = db::now();
        if db::users::update(conn, &id.to_db(), expected, &changes, now)? == 0 {
            return Err(AppError::PreconditionFailed);
        }
        if update.active == Some(false) && current.active {
            db::sessions::revoke_all_of_user(conn, &id.to_db(), None, "deactivated", now)?;
            audit::record(
                conn,
                Event::by(&actor, "user.deactivated", "user")
                    .on(id)
                    .in_org(current.organisation_id),
            )?;
        }
        audit::record(
            conn,
            Event::by(&actor, "user.updated", "user")
                .on(id)
                .in_org(current.organisation_id),
        )?;
        let row = db::users::find(conn, &id.to_db())?.ok_or(AppError::NotFound)?;
        User::try_from(row)
    })
    .await
}
