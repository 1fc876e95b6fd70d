//! `peerpath seed-demo`: a demonstration organisation with a realistic history, loaded
//! through the same domain services the API uses (so every rule and audit event applies).
//! It refuses to run in production and against a database holding anything else.

mod catalogue;
mod pay;
mod recovery;
mod stories;

use std::sync::Arc;

use chrono::Utc;

use crate::access::{Actor, Role};
use crate::config::Secret;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};
use crate::identity::users::{self, NewAccount};
use crate::identity::{DisplayName, Email, Identity};
use crate::ids::{OrganisationId, SessionId, UserId};
use crate::notifications::Notifications;
use crate::organisations::{self, networks};
use crate::recovery::Keyring;

pub const DEMO_ORGANISATION: &str = "Demo: North West HCV Peer Service";
/// A second organisation, so the demo network has members to bring together.
pub const DEMO_PARTNER: &str = "Demo: Cumbria Peer Support";
pub const DEMO_NETWORK: &str = "Demo: North of England HCV Peer Network";
pub const DEMO_DOMAIN: &str = "demo.peerpath.invalid";

fn uuid(id: &str) -> AppResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id).map_err(|e| AppError::internal(e.to_string()))
}

pub enum SeedOutcome {
    Loaded { password: Option<String> },
    AlreadyLoaded,
}

fn actor(user: UserId, role: Role, organisation: Option<OrganisationId>) -> Actor {
    Actor {
        user_id: user,
        role,
        organisation_id: organisation,
        session_id: SessionId::generate(),
        request_id: Some("seed-demo".into()),
    }
}

/// Whether the database is empty, holds the demo only, or holds other data.
async fn state(db: &Database) -> AppResult<Option<bool>> {
    db.run(|conn| {
        let orgs = db::organisations::list(conn, None, None, 1000)?;
        let users = db::users::list(conn, &Default::default(), None, 1000)?;
        let demo_org = orgs.iter().any(|o| o.name == DEMO_ORGANISATION);
        let others = orgs
            .iter()
            .any(|o| o.name != DEMO_ORGANISATION && o.name != DEMO_PARTNER)
            || users
                .iter()
                .any(|u| !u.email_key.ends_with(&format!("@{DEMO_DOMAIN}")));
        if others {
            return Ok(None);
        }
        Ok(Some(demo_org))
    })
    .await
}

struct People {
    identity: Arc<Identity>,
    db: Database,
    mailer: Arc<Notifications>,
    password: Secret,
}

impl People {
    async fn create(
        &self,
        by: &Actor,
        name: &str,
        role: Role,
        org: Option<OrganisationId>,
    ) -> AppResult<UserId> {
        let local: String = name
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .collect::<String>()
            .replace(' ', ".");
        let user = users::create_user(
            &self.identity,
            &self.db,
            &self.mailer,
            by,
            NewAccount {
                email: Email::parse(&format!("{local}@{DEMO_DOMAIN}"))?,
                display_name: DisplayName::parse(name)?,
                role,
                organisation_id: org,
                password: Some(self.password.clone()),
            },
        )
        .await?;
        Ok(user.id)
    }
}

/// Loads the demo, or reports that it is there already.
pub async fn seed(
    db: &Database,
    identity: &Arc<Identity>,
    mailer: &Arc<Notifications>,
    keys: &Arc<Keyring>,
    password: Option<String>,
) -> AppResult<SeedOutcome> {
    match state(db).await? {
        None => {
            return Err(AppError::conflict(
                "This database holds data other than the demo; seed-demo runs only on an empty database.",
            ));
        }
        Some(true) => return Ok(SeedOutcome::AlreadyLoaded),
        Some(false) => {}
    }
    // The demo's history happened on other days: none of its emails are due today.
    let mailer = &mailer.silenced().map_err(AppError::internal)?;
    let generated = password.is_none();
    let password = match password {
        Some(p) => p,
        None => {
            crate::identity::tokens::random_key().map_err(AppError::internal)?[..20].to_string()
        }
    };
    crate::identity::passwords::check_policy(&password, "PEERPATH_DEMO_PASSWORD")?;
    let people = People {
        identity: identity.clone(),
        db: db.clone(),
        mailer: mailer.clone(),
        password: Secret::new(password.clone()),
    };

    let admin = users::create_admin(
        &identity.hasher,
        db,
        &format!("admin@{DEMO_DOMAIN}"),
        "Demo Admin",
        people.password.clone(),
    )
    .await?;
    let admin = actor(admin.id, Role::Admin, None);
    let org = organisations::create_organisation(db, &admin, DEMO_ORGANISATION)
        .await?
        .id;
    let manager_id = people
        .create(&admin, "Priya Manager", Role::ProgrammeManager, Some(org))
        .await?;
    let manager = actor(manager_id, Role::ProgrammeManager, Some(org));
    people
        .create(&admin, "Chris Manager", Role::ProgrammeManager, Some(org))
        .await?;
    let mut supervisors = vec![];
    for name in ["Alex Supervisor", "Morgan Supervisor"] {
        let id = people
            .create(&manager, name, Role::Supervisor, Some(org))
            .await?;
        supervisors.push(actor(id, Role::Supervisor, Some(org)));
    }
    let supervisors: [Actor; 2] = supervisors
        .try_into()
        .map_err(|_| AppError::internal("the demo has two supervisors"))?;
    let assessors: Vec<UserId> = supervisors.iter().map(|s| s.user_id).collect();
    let catalogue = catalogue::seed(db, &manager, &assessors).await?;

    let today = Utc::now().date_naive();
    let demo = stories::Demo {
        db,
        mailer,
        manager: &manager,
        supervisors: &supervisors,
        catalogue: &catalogue,
        today,
    };
    for story in stories::WORKERS {
        let user = people
            .create(&manager, story.name, Role::PeerWorker, Some(org))
            .await?;
        demo.tell(story, user).await?;
        if story.recovery {
            let me = actor(user, Role::PeerWorker, Some(org));
            recovery::tell(db, keys, mailer, &me, story.name, today).await?;
        }
    }
    // After the history, so that pay awards move everyone on a band, as they would have.
    pay::awards(db, &admin, today).await?;
    network(db, mailer, &admin, &people, org).await?;
    Ok(SeedOutcome::Loaded {
        password: generated.then_some(password),
    })
}

/// A partner organisation with its manager, and a network of the two.
async fn network(
    db: &Database,
    mailer: &Arc<Notifications>,
    admin: &Actor,
    people: &People,
    org: OrganisationId,
) -> AppResult<()> {
    let partner = organisations::create_organisation(db, admin, DEMO_PARTNER)
        .await?
        .id;
    people
        .create(
            admin,
            "Taylor Manager",
            Role::ProgrammeManager,
            Some(partner),
        )
        .await?;
    let network =
        networks::create_network(db, admin, DEMO_NETWORK, networks::NetworkScope::Local).await?;
    for member in [org, partner] {
        networks::set_membership(db, mailer, admin, network.id, member, true).await?;
    }
    Ok(())
}
