//! Invitations and password resets: single-use, expiring links whose token (256 random
//! bits) is stored only as its SHA-256, delivered by email through the outbox.

use std::net::IpAddr;
use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, TimeDelta};
use serde::Serialize;

use super::{Email, Identity, passwords, tokens};
use crate::audit::{self, Event};
use crate::config::Secret;
use crate::db::account_tokens::AccountTokenRow;
use crate::db::users::UserRow;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult};
use crate::ids::OrganisationId;
use crate::notifications::{self, Kind, Notifications};

pub const INVITATION: &str = "invitation";
pub const PASSWORD_RESET: &str = "password_reset";
/// The page the emailed links open.
pub const SET_PASSWORD_PATH: &str = "/account/set-password";
/// The page for asking for a reset link.
pub const RESET_PASSWORD_PATH: &str = "/account/reset-password";

#[derive(Serialize)]
struct LinkValues {
    link: String,
    expires: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    inviter_name: Option<String>,
}

#[derive(Serialize)]
struct ChangedValues {
    when: String,
    link: String,
}

pub fn human_time(at: NaiveDateTime) -> String {
    at.format("%-d %B %Y at %H:%M UTC").to_string()
}

fn new_token() -> AppResult<(String, String)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AppError::internal(format!("randomness: {e}")))?;
    let token = URL_SAFE_NO_PAD.encode(bytes);
    let hash = tokens::hash_refresh_token(&token);
    Ok((token, hash))
}

/// Issues a token of `purpose` for `user` (ending earlier unused ones) and queues its email.
/// Runs inside the caller's transaction.
fn issue_and_send(
    conn: &mut DbConn,
    mailer: &Notifications,
    user: &UserRow,
    purpose: &'static str,
    ttl: TimeDelta,
    inviter_name: Option<String>,
) -> AppResult<()> {
    let now = db::now();
    db::account_tokens::retire_all(conn, &user.id, purpose, now)?;
    let (token, hash) = new_token()?;
    let expires_at = now + ttl;
    db::account_tokens::insert(
        conn,
        &AccountTokenRow {
            token_hash: hash.clone(),
            user_id: user.id.clone(),
            purpose: purpose.into(),
            created_at: now,
            expires_at,
            used_at: None,
        },
    )?;
    let kind = if purpose == INVITATION {
        Kind::Invitation
    } else {
        Kind::PasswordReset
    };
    let recipient = notifications::recipient_for_user(conn, &user.id)?;
    mailer.enqueue(
        conn,
        notifications::Email {
            kind,
            recipient,
            // The token's hash names the event: one email per token.
            dedupe_key: format!("{purpose}:{hash}"),
            values: LinkValues {
                link: mailer.link(&format!("{SET_PASSWORD_PATH}?token={token}")),
                expires: human_time(expires_at),
                inviter_name,
            },
        },
    )?;
    Ok(())
}

/// Invites a new user (no password yet) inside the transaction that creates them.
pub fn invite(
    conn: &mut DbConn,
    mailer: &Notifications,
    user: &UserRow,
    inviter_name: String,
) -> AppResult<()> {
    let ttl = TimeDelta::hours(mailer.settings.invitation_ttl_hours);
    issue_and_send(conn, mailer, user, INVITATION, ttl, Some(inviter_name))
}

/// Queues the "your password was changed" notice.
pub fn notify_password_changed(
    conn: &mut DbConn,
    mailer: &Notifications,
    user_id: &str,
) -> AppResult<()> {
    let now = db::now();
    let recipient = notifications::recipient_for_user(conn, user_id)?;
    mailer.enqueue(
        conn,
        notifications::Email {
            kind: Kind::PasswordChanged,
            recipient,
            dedupe_key: format!("password_changed:{user_id}:{}", uuid::Uuid::now_v7()),
            values: ChangedValues {
                when: human_time(now),
                link: mailer.link(RESET_PASSWORD_PATH),
            },
        },
    )?;
    Ok(())
}

/// Asks for a reset link. The answer is the same whether or not the address has an
/// account; an account gets at most one email per cooldown.
pub async fn request_password_reset(
    identity: &Identity,
    db: &Database,
    mailer: &Arc<Notifications>,
    email: &str,
    client: IpAddr,
    request_id: Option<String>,
) -> AppResult<()> {
    if email.trim().is_empty() {
        return Err(AppError::invalid("email", "is required"));
    }
    let key = Email::parse(email)
        .map(|e| e.key())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    identity.reset_limiter.admit(&key, client)?;
    let mailer_in = mailer.clone();
    let cooldown = TimeDelta::seconds(mailer.settings.password_reset_cooldown_secs);
    let ttl = TimeDelta::minutes(mailer.settings.password_reset_ttl_minutes);
    db.write(move |conn| {
        let Some(user) = db::users::find_by_email_key(conn, &key)? else {
            return Ok(());
        };
        if !user.active {
            return Ok(());
        }
        let recent = db::account_tokens::latest_issued(conn, &user.id, PASSWORD_RESET)?;
        if recent.is_some_and(|t| t + cooldown > db::now()) {
            return Ok(());
        }
        issue_and_send(conn, &mailer_in, &user, PASSWORD_RESET, ttl, None)?;
        let org = user
            .organisation_id
            .as_deref()
            .map(OrganisationId::from_db)
            .transpose()?;
        audit::record(
            conn,
            Event {
                action: "auth.password_reset_requested",
                entity: "user",
                entity_id: Some(user.id.clone()),
                organisation_id: org,
                actor_id: None,
                request_id: request_id.as_deref(),
            },
        )
    })
    .await?;
    mailer.wake();
    Ok(())
}

fn link_refused(why: &str) -> AppError {
    AppError::invalid("token", why.to_string())
}

/// Checks and uses up a token, inside the caller's transaction.
fn redeem(conn: &mut DbConn, token: &str) -> AppResult<AccountTokenRow> {
    let hash = tokens::hash_refresh_token(token.trim());
    let row = db::account_tokens::find(conn, &hash)?
        .ok_or_else(|| link_refused("this link is not valid; ask for a new one"))?;
    if row.used_at.is_some() {
        return Err(link_refused(
            "this link was already used (or replaced by a newer one); ask for a new one",
        ));
    }
    if row.expires_at <= db::now() {
        return Err(link_refused("this link has expired; ask for a new one"));
    }
    if db::account_tokens::consume(conn, &hash, db::now())? == 0 {
        return Err(link_refused(
            "this link was already used; ask for a new one",
        ));
    }
    Ok(row)
}

/// Sets a password from an invitation or reset link. A reset ends every session of the
/// account and sends the "password changed" notice.
pub async fn set_password_with_token(
    identity: &Identity,
    db: &Database,
    mailer: &Arc<Notifications>,
    token: &str,
    password: &Secret,
    request_id: Option<String>,
) -> AppResult<()> {
    passwords::check_policy(password.expose(), "password")?;
    let hash = identity.hasher.hash(password).await?;
    let token = token.to_string();
    let mailer_in = mailer.clone();
    db.write(move |conn| {
        let row = redeem(conn, &token)?;
        let user = db::users::find(conn, &row.user_id)?.ok_or(AppError::NotFound)?;
        if !user.active {
            return Err(link_refused("this account is not active"));
        }
        let now = db::now();
        db::users::set_password_hash(conn, &user.id, &hash, now)?;
        let action = if row.purpose == INVITATION {
            "user.invitation_accepted"
        } else {
            db::sessions::revoke_all_of_user(conn, &user.id, None, "password_reset", now)?;
            notify_password_changed(conn, &mailer_in, &user.id)?;
            "auth.password_reset"
        };
        let org = user
            .organisation_id
            .as_deref()
            .map(OrganisationId::from_db)
            .transpose()?;
        audit::record(
            conn,
            Event {
                action,
                entity: "user",
                entity_id: Some(user.id.clone()),
                organisation_id: org,
                actor_id: Some(user.id.clone()),
                request_id: request_id.as_deref(),
            },
        )
    })
    .await?;
    mailer.wake();
    Ok(())
}
