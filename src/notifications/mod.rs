//! Email notifications through a transactional outbox: a change and the emails it causes
//! commit together (`enqueue` runs inside the caller's transaction); the delivery worker
//! sends them afterwards, retrying until delivered or dead.

pub mod admin;
pub mod delivery;
pub mod kinds;
pub mod links;
pub mod preferences;
pub mod templates;

use std::sync::Arc;

use serde::Serialize;
use tokio::sync::Notify;

use crate::config::{EmailSettings, Settings};
use crate::db::notifications::NotificationRow;
use crate::db::{self, DbConn};
use crate::error::{AppError, AppResult};
use crate::ids::OrganisationId;
pub use kinds::Kind;
use templates::{Context, Templates};

/// Who an email goes to.
#[derive(Clone, Debug)]
pub struct Recipient {
    pub user_id: Option<String>,
    pub email: String,
    pub name: String,
    pub organisation_id: Option<OrganisationId>,
    pub organisation_name: Option<String>,
}

impl Recipient {
    /// People are greeted by their first name; an address without an account, by none.
    pub fn first_name(&self) -> Option<String> {
        self.user_id.as_ref()?;
        self.name.split_whitespace().next().map(str::to_string)
    }
}

/// One email to queue. `dedupe_key` names the event: the same event never queues twice.
pub struct Email<T: Serialize> {
    pub kind: Kind,
    pub recipient: Recipient,
    pub dedupe_key: String,
    pub values: T,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Queued {
    /// Will be sent as soon as the worker sees it.
    Queued,
    /// Kept for the recipient's daily digest.
    Held,
    /// The recipient turned this kind off.
    Muted,
    /// This event's email was queued before.
    Duplicate,
}

pub struct Notifications {
    templates: Templates,
    pub settings: EmailSettings,
    public_url: String,
    message_id_domain: String,
    wake: Notify,
    /// Loading made-up history (the demo): nothing is queued, as nothing happened today.
    silent: bool,
}

impl Notifications {
    pub fn new(settings: &Settings) -> Result<Arc<Self>, String> {
        let message_id_domain = settings
            .email
            .from
            .rsplit_once('@')
            .map(|(_, domain)| domain.trim_end_matches('>').trim().to_string())
            .filter(|d| !d.is_empty())
            .unwrap_or_else(|| "peerpath.invalid".into());
        Ok(Arc::new(Self {
            templates: Templates::load()?,
            settings: settings.email.clone(),
            public_url: settings.server.public_url.trim_end_matches('/').to_string(),
            message_id_domain,
            wake: Notify::new(),
            silent: false,
        }))
    }

    /// The same outbox that queues nothing: for loading history whose emails were never due.
    pub fn silenced(&self) -> Result<Arc<Self>, String> {
        Ok(Arc::new(Self {
            templates: Templates::load()?,
            settings: self.settings.clone(),
            public_url: self.public_url.clone(),
            message_id_domain: self.message_id_domain.clone(),
            wake: Notify::new(),
            silent: true,
        }))
    }

    /// A link into the service, from its public base URL.
    pub fn link(&self, path: &str) -> String {
        format!("{}{path}", self.public_url)
    }

    /// Tells this process's delivery worker that something was queued (call after commit).
    pub fn wake(&self) {
        self.wake.notify_one();
    }

    pub(crate) async fn woken(&self) {
        self.wake.notified().await;
    }

    pub fn templates(&self) -> &Templates {
        &self.templates
    }

    /// Queues an email inside the caller's transaction, honouring the recipient's
    /// preferences: a muted routine kind is dropped, a digest reader's routine kind is held.
    pub fn enqueue<T: Serialize>(&self, conn: &mut DbConn, email: Email<T>) -> AppResult<Queued> {
        if self.silent {
            return Ok(Queued::Muted);
        }
        let mut status = "pending";
        if email.kind.is_routine()
            && let Some(user) = &email.recipient.user_id
            && let Some(prefs) = db::notifications::preferences(conn, user)?
        {
            if preferences::is_muted(&prefs.muted_kinds, email.kind) {
                return Ok(Queued::Muted);
            }
            if prefs.daily_digest {
                status = "held";
            }
        }
        let rendered = self.templates.render(
            email.kind,
            &Context {
                recipient_name: email.recipient.name.clone(),
                first_name: email.recipient.first_name(),
                organisation_name: email.recipient.organisation_name.clone(),
                values: &email.values,
            },
        )?;
        let now = db::now();
        let id = uuid::Uuid::now_v7();
        let inserted = db::notifications::insert_once(
            conn,
            &NotificationRow {
                id: id.to_string(),
                organisation_id: email.recipient.organisation_id.map(|o| o.to_db()),
                recipient_user_id: email.recipient.user_id.clone(),
                recipient_email: email.recipient.email.clone(),
                kind: email.kind.as_str().into(),
                subject: rendered.subject,
                body_text: rendered.text,
                body_html: rendered.html,
                dedupe_key: email.dedupe_key,
                message_id: format!("<{}@{}>", id.simple(), self.message_id_domain),
                status: status.into(),
                attempts: 0,
                next_attempt_at: now,
                lease_expires_at: None,
                claim_id: None,
                last_error: None,
                created_at: now,
                sent_at: None,
                updated_at: now,
            },
        )?;
        Ok(match (inserted, status) {
            (false, _) => Queued::Duplicate,
            (true, "held") => Queued::Held,
            (true, _) => Queued::Queued,
        })
    }
}

/// The recipient details of a user: address, name, organisation.
pub fn recipient_for_user(conn: &mut DbConn, user_id: &str) -> AppResult<Recipient> {
    let user = db::users::find(conn, user_id)?.ok_or(AppError::NotFound)?;
    let organisation = match &user.organisation_id {
        Some(org) => db::organisations::find(conn, org)?,
        None => None,
    };
    Ok(Recipient {
        user_id: Some(user.id),
        email: user.email,
        name: user.display_name,
        organisation_id: user
            .organisation_id
            .as_deref()
            .map(OrganisationId::from_db)
            .transpose()?,
        organisation_name: organisation.map(|o| o.name),
    })
}
