//! Networks of organisations: local, national or international. Admins manage them; an
//! organisation's people see the networks it belongs to.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::audit::{self, Event};
use std::sync::Arc;

use crate::access::authz::{self, Scope};
use crate::access::{Actor, Role};
use crate::db::networks::NetworkRow;
use crate::db::users::UserFilter;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult};
use crate::identity::values::parse_name;
use crate::ids::{NetworkId, OrganisationId};
use crate::notifications::{self, Kind, Notifications};
use crate::pagination::{Page, Paginated};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NetworkScope {
    Local,
    National,
    International,
}

impl NetworkScope {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::National => "national",
            Self::International => "international",
        }
    }
    fn parse(value: &str) -> AppResult<Self> {
        match value {
            "local" => Ok(Self::Local),
            "national" => Ok(Self::National),
            "international" => Ok(Self::International),
            _ => Err(AppError::internal("unknown network scope in the database")),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Network {
    pub id: NetworkId,
    pub name: String,
    pub scope: NetworkScope,
    /// Member organisations (for a non-admin, only their own organisation is named).
    pub organisation_ids: Vec<OrganisationId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

fn to_network(row: NetworkRow, members: Vec<String>) -> AppResult<Network> {
    Ok(Network {
        id: NetworkId::from_db(&row.id)?,
        name: row.name,
        scope: NetworkScope::parse(&row.scope)?,
        organisation_ids: members
            .iter()
            .map(|m| OrganisationId::from_db(m))
            .collect::<AppResult<_>>()?,
        created_at: row.created_at.and_utc(),
        updated_at: row.updated_at.and_utc(),
        version: row.version,
    })
}

/// Reads a network as `actor` may see it: non-admins only networks their organisation is
/// in, and only their own organisation among the members.
fn load_visible(conn: &mut DbConn, actor: &Actor, id: NetworkId) -> AppResult<Network> {
    let row = db::networks::find(conn, &id.to_db())?.ok_or(AppError::NotFound)?;
    let mut members = db::networks::members(conn, &row.id)?;
    if authz::network_view(actor) == authz::NetworkView::OwnOrganisation {
        let own = actor.organisation_id.map(|o| o.to_db()).unwrap_or_default();
        if !members.contains(&own) {
            return Err(AppError::NotFound);
        }
        members = vec![own];
    }
    to_network(row, members)
}

pub async fn create_network(
    db: &Database,
    actor: &Actor,
    name: &str,
    scope: NetworkScope,
) -> AppResult<Network> {
    authz::can_manage_networks(actor)?;
    let (name, name_key) = parse_name(name)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let now = db::now();
        let row = db::networks::insert(
            conn,
            &NetworkRow {
                id: NetworkId::generate().to_db(),
                name,
                name_key,
                scope: scope.as_str().into(),
                version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        let network = to_network(row, vec![])?;
        audit::record(
            conn,
            Event::by(&actor, "network.created", "network").on(network.id),
        )?;
        Ok(network)
    })
    .await
}

pub async fn get_network(db: &Database, actor: &Actor, id: NetworkId) -> AppResult<Network> {
    let actor = actor.clone();
    db.run(move |conn| load_visible(conn, &actor, id)).await
}

pub async fn list_networks(
    db: &Database,
    actor: &Actor,
    page: Page,
) -> AppResult<Paginated<Network>> {
    let member = match authz::organisation_scope(actor)? {
        Scope::All => None,
        Scope::Organisation(org) => Some(org.to_db()),
    };
    let actor = actor.clone();
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = db
        .run(move |conn| {
            let rows = db::networks::list(conn, member.as_deref(), after.as_deref(), fetch)?;
            rows.into_iter()
                .map(|row| {
                    let members = match authz::network_view(&actor) {
                        authz::NetworkView::Everyone => db::networks::members(conn, &row.id)?,
                        authz::NetworkView::OwnOrganisation => member.iter().cloned().collect(),
                    };
                    Ok((row, members))
                })
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    page.finish(rows, |(r, _)| r.id.clone())
        .try_map(|(row, members)| to_network(row, members))
}

pub async fn update_network(
    db: &Database,
    actor: &Actor,
    id: NetworkId,
    expected: i32,
    name: &str,
    scope: NetworkScope,
) -> AppResult<Network> {
    authz::can_manage_networks(actor)?;
    let (name, name_key) = parse_name(name)?;
    let actor = actor.clone();
    db.write(move |conn| {
        db::networks::find(conn, &id.to_db())?.ok_or(AppError::NotFound)?;
        let changed = db::networks::update(
            conn,
            &id.to_db(),
            expected,
            &name,
            &name_key,
            scope.as_str(),
            db::now(),
        )?;
        if changed == 0 {
            return Err(AppError::PreconditionFailed);
        }
        audit::record(conn, Event::by(&actor, "network.updated", "network").on(id))?;
        load_visible(conn, &actor, id)
    })
    .await
}

#[derive(Serialize)]
struct JoinedValues {
    /// "the North West HCV Peers network", or "the North West Network" for a name that
    /// already says network: an email never says "network network".
    network_words: String,
    network_scope: &'static str,
    link: String,
}

pub fn network_words(name: &str) -> String {
    let name = name.trim();
    let the = if name.to_lowercase().starts_with("the ") {
        ""
    } else {
        "the "
    };
    if name.to_lowercase().ends_with("network") {
        format!("{the}{name}")
    } else {
        format!("{the}{name} network")
    }
}

/// Tells the organisation's programme managers that it joined a network (a routine email).
fn announce_joining(
    conn: &mut DbConn,
    mailer: &Notifications,
    network: &NetworkRow,
    organisation: &str,
) -> AppResult<()> {
    let managers = db::users::list(
        conn,
        &UserFilter {
            organisation_id: Some(organisation.to_string()),
            role: Some(Role::ProgrammeManager.as_str().into()),
            active: Some(true),
        },
        None,
        crate::pagination::MAX_LIMIT,
    )?;
    let joined_at = uuid::Uuid::now_v7();
    for manager in managers {
        let recipient = notifications::recipient_for_user(conn, &manager.id)?;
        mailer.enqueue(
            conn,
            notifications::Email {
                kind: Kind::NetworkJoined,
                recipient,
                dedupe_key: format!("network_joined:{}:{}:{joined_at}", network.id, manager.id),
                values: JoinedValues {
                    network_words: network_words(&network.name),
                    network_scope: NetworkScope::parse(&network.scope)?.as_str(),
                    link: mailer.link(&crate::notifications::links::home()),
                },
            },
        )?;
    }
    Ok(())
}

/// Adds or removes a member organisation; both are idempotent.
pub async fn set_membership(
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    network: NetworkId,
    organisation: OrganisationId,
    member: bool,
) -> AppResult<Network> {
    authz::can_manage_networks(actor)?;
    let actor = actor.clone();
    let mailer_in = mailer.clone();
    let result = db
        .write(move |conn| {
            let row = db::networks::find(conn, &network.to_db())?.ok_or(AppError::NotFound)?;
            db::organisations::find(conn, &organisation.to_db())?.ok_or(AppError::NotFound)?;
            let (n, o) = (network.to_db(), organisation.to_db());
            let is_member = db::networks::is_member(conn, &n, &o)?;
            let action = match (member, is_member) {
                (true, false) => {
                    db::networks::add_member(conn, &n, &o, db::now())?;
                    announce_joining(conn, &mailer_in, &row, &o)?;
                    Some("network.member_added")
                }
                (false, true) => {
                    db::networks::remove_member(conn, &n, &o)?;
                    Some("network.member_removed")
                }
                _ => None,
            };
            if let Some(action) = action {
                audit::record(
                    conn,
                    Event::by(&actor, action, "network")
                        .on(network)
                        .in_org(Some(organisation)),
                )?;
            }
            load_visible(conn, &actor, network)
        })
        .await?;
    mailer.wake();
    Ok(result)
}
