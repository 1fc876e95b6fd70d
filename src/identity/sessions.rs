//! Logging in and out: sessions, access tokens, rotating refresh tokens, password changes.

use std::net::IpAddr;
use std::sync::Arc;

use serde::Serialize;
use utoipa::ToSchema;

use super::{Actor, Email, Identity, Role, account_tokens, passwords, tokens};
use crate::audit::{self, Event};
use crate::config::Secret;
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult};
use crate::ids::{OrganisationId, SessionId, UserId};
use crate::notifications::Notifications;

const BAD_LOGIN: &str = "The email or password is not right.";
const BAD_REFRESH: &str = "The refresh token is invalid, expired or already used.";

#[derive(Debug, Serialize, ToSchema)]
pub struct TokenPair {
    pub access_token: String,
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the access token expires.
    pub expires_in: i64,
    /// After setting up two-step verification at sign-in only: the recovery codes, shown
    /// this once.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recovery_codes: Option<Vec<String>>,
}

fn pair(
    identity: &Identity,
    user: UserId,
    session: SessionId,
    refresh: String,
) -> AppResult<TokenPair> {
    Ok(TokenPair {
        access_token: identity
            .tokens
            .issue(user, session, chrono::Utc::now().timestamp())?,
        refresh_token: refresh,
        token_type: "Bearer",
        expires_in: identity.tokens.access_ttl_secs,
        recovery_codes: None,
    })
}

fn anonymous_event<'a>(action: &'static str, request_id: Option<&'a str>) -> Event<'a> {
    Event {
        action,
        entity: "user",
        entity_id: None,
        organisation_id: None,
        actor_id: None,
        request_id,
    }
}

/// A person whose password was checked, ready for a session of either kind.
pub struct Verified {
    pub user: db::users::UserRow,
    pub organisation: Option<OrganisationId>,
    /// A new hash when the stored one was made with other parameters.
    pub rehash: Option<String>,
}

/// Checks the password against the login limits. Unknown email, wrong password and inactive
/// account all answer the same 401 after the same hashing work, and are audited.
pub(super) async fn verify_credentials(
    identity: &Identity,
    db: &Database,
    email: &str,
    password: &Secret,
    client: IpAddr,
    request_id: Option<&str>,
) -> AppResult<Verified> {
    let account = Email::parse(email)
        .map(|e| e.key())
        .unwrap_or_else(|_| email.trim().to_lowercase());
    identity.limiter.admit(&account, client)?;

    let key = account.clone();
    let user = db
        .run(move |conn| Ok(db::users::find_by_email_key(conn, &key)?))
        .await?;
    let stored = user.as_ref().and_then(|u| u.password_hash.clone());
    let verified = identity.hasher.verify(password, stored).await?;
    let user = match user {
        Some(u) if verified.ok && u.active => u,
        other => {
            identity.limiter.record_failure(&account);
            let user_id = other.as_ref().map(|u| u.id.clone());
            let org = other
                .as_ref()
                .and_then(|u| u.organisation_id.as_deref())
                .map(OrganisationId::from_db)
                .transpose()?;
            let request_id = request_id.map(str::to_string);
            db.write(move |conn| {
                let mut event =
                    anonymous_event("auth.login_failed", request_id.as_deref()).in_org(org);
                event.entity_id = user_id;
                audit::record(conn, event)
            })
            .await?;
            return Err(AppError::Unauthorized(BAD_LOGIN));
        }
    };
    identity.limiter.record_success(&account);
    let rehash = if verified.needs_rehash {
        Some(identity.hasher.hash(password).await?)
    } else {
        None
    };
    let organisation = user
        .organisation_id
        .as_deref()
        .map(OrganisationId::from_db)
        .transpose()?;
    Ok(Verified {
        user,
        organisation,
        rehash,
    })
}

/// Inside the transaction that opens a session: the upgraded hash, the session row and the
/// audit event of the successful login.
pub(super) fn open_session(
    conn: &mut DbConn,
    verified: &Verified,
    session: &SessionId,
    expires_at: chrono::NaiveDateTime,
    request_id: Option<&str>,
) -> AppResult<()> {
    let now = db::now();
    let user = &verified.user;
    if let Some(hash) = &verified.rehash {
        db::users::set_password_hash(conn, &user.id, hash, now)?;
    }
    db::sessions::insert(
        conn,
        &db::sessions::NewSession {
            id: &session.to_db(),
            user_id: &user.id,
            created_at: now,
            expires_at,
        },
    )?;
    let mut event =
        anonymous_event("auth.login_succeeded", request_id).in_org(verified.organisation);
    event.actor_id = Some(user.id.clone());
    event.entity_id = Some(user.id.clone());
    audit::record(conn, event)
}

/// What a right password opens: a session, or the second step first.
pub enum LoginOutcome {
    Tokens(TokenPair),
    SecondStep(super::mfa::SecondFactorChallenge),
}

/// Checks the password; opens a session with a token pair, or answers the challenge of a
/// second step for a person who signs in with one (or must set one up).
pub async fn login(
    identity: &Arc<Identity>,
    db: &Database,
    keys: &Arc<crate::crypto::Keyring>,
    email: &str,
    password: &Secret,
    client: IpAddr,
    request_id: Option<String>,
) -> AppResult<LoginOutcome> {
    let verified =
        verify_credentials(identity, db, email, password, client, request_id.as_deref()).await?;
    if let Some(challenge) = super::mfa::after_password(identity, db, keys, &verified).await? {
        return Ok(LoginOutcome::SecondStep(challenge));
    }
    open_with_tokens(identity, db, verified, request_id)
        .await
        .map(LoginOutcome::Tokens)
}

/// Opens a session for a person verified (by password, and second factor where they have
/// one) and answers its token pair.
pub async fn open_with_tokens(
    identity: &Identity,
    db: &Database,
    verified: Verified,
    request_id: Option<String>,
) -> AppResult<TokenPair> {
    let user_id = UserId::from_db(&verified.user.id)?;
    let session = SessionId::generate();
    let (refresh, refresh_hash) = tokens::new_refresh_token()?;
    let expires_at = db::now() + identity.refresh_ttl;
    db.write(move |conn| {
        open_session(conn, &verified, &session, expires_at, request_id.as_deref())?;
        db::sessions::insert_refresh(conn, &refresh_hash, &session.to_db(), db::now())?;
        Ok(())
    })
    .await?;
    pair(identity, user_id, session, refresh)
}

enum RefreshOutcome {
    Rotated {
        user: UserId,
        session: SessionId,
    },
    /// The token was used before: the whole session is revoked.
    Reused,
    Invalid,
}

/// Swaps a refresh token for a new pair. Presenting a token that was already used revokes
/// its session, since one of the two holders is not the user.
pub async fn refresh(
    identity: &Identity,
    db: &Database,
    token: &str,
    request_id: Option<String>,
) -> AppResult<TokenPair> {
    let hash = tokens::hash_refresh_token(token);
    let (new_refresh, new_hash) = tokens::new_refresh_token()?;
    let outcome = db
        .write(move |conn| rotate(conn, &hash, &new_hash, request_id.as_deref()))
        .await?;
    match outcome {
        RefreshOutcome::Rotated { user, session } => pair(identity, user, session, new_refresh),
        RefreshOutcome::Reused => {
            tracing::warn!("a used refresh token was presented again; its session is revoked");
            Err(AppError::Unauthorized(BAD_REFRESH))
        }
        RefreshOutcome::Invalid => Err(AppError::Unauthorized(BAD_REFRESH)),
    }
}

fn rotate(
    conn: &mut DbConn,
    hash: &str,
    new_hash: &str,
    request_id: Option<&str>,
) -> AppResult<RefreshOutcome> {
    let now = db::now();
    let Some(token) = db::sessions::find_refresh(conn, hash)? else {
        return Ok(RefreshOutcome::Invalid);
    };
    let Some(session) = db::sessions::find(conn, &token.session_id)? else {
        return Ok(RefreshOutcome::Invalid);
    };
    if db::sessions::consume_refresh(conn, hash, now)? == 0 {
        if db::sessions::revoke(conn, &session.id, "refresh_token_reused", now)? > 0 {
            let mut event = anonymous_event("auth.refresh_reuse_detected", request_id);
            event.entity = "session";
            event.entity_id = Some(session.id.clone());
            event.actor_id = Some(session.user_id.clone());
            audit::record(conn, event)?;
        }
        return Ok(RefreshOutcome::Reused);
    }
    let live = db::sessions::find_live(conn, &session.id, &session.user_id, now)?;
    if live.is_none() {
        return Ok(RefreshOutcome::Invalid);
    }
    db::sessions::insert_refresh(conn, new_hash, &session.id, now)?;
    Ok(RefreshOutcome::Rotated {
        user: UserId::from_db(&session.user_id)?,
        session: SessionId::from_db(&session.id)?,
    })
}

/// Ends the caller's session: its access and refresh tokens stop working at once.
pub async fn logout(db: &Database, actor: &Actor) -> AppResult<()> {
    let actor = actor.clone();
    db.write(move |conn| {
        db::sessions::revoke(conn, &actor.session_id.to_db(), "logout", db::now())?;
        audit::record(
            conn,
            Event::by(&actor, "auth.logout", "session").on(actor.session_id),
        )
    })
    .await
}

/// Changes the caller's password after checking the current one; ends their other sessions.
pub async fn change_password(
    identity: &Identity,
    db: &Database,
    mailer: &Arc<Notifications>,
    actor: &Actor,
    current: &Secret,
    new: &Secret,
    client: IpAddr,
) -> AppResult<()> {
    passwords::check_policy(new.expose(), "new_password")?;
    let id = actor.user_id.to_db();
    let user = db
        .run(move |conn| db::users::find(conn, &id)?.ok_or(AppError::NotFound))
        .await?;
    let account = user.email_key.clone();
    identity.limiter.admit(&account, client)?;
    let verified = identity
        .hasher
        .verify(current, user.password_hash.clone())
        .await?;
    if !verified.ok {
        identity.limiter.record_failure(&account);
        return Err(AppError::invalid("current_password", "is not right"));
    }
    let hash = identity.hasher.hash(new).await?;
    let actor = actor.clone();
    let mailer_in = mailer.clone();
    db.write(move |conn| {
        let now = db::now();
        db::users::set_password_hash(conn, &user.id, &hash, now)?;
        db::sessions::revoke_all_of_user(
            conn,
            &user.id,
            Some(&actor.session_id.to_db()),
            "password_changed",
            now,
        )?;
        account_tokens::notify_password_changed(conn, &mailer_in, &user.id)?;
        audit::record(
            conn,
            Event::by(&actor, "auth.password_changed", "user").on(actor.user_id),
        )
    })
    .await?;
    mailer.wake();
    Ok(())
}

/// Turns a bearer token into the caller, checking that the session is live and the
/// account active on every request, so logout and deactivation take effect at once.
pub async fn authenticate(
    identity: &Identity,
    db: &Database,
    token: &str,
    request_id: Option<String>,
) -> AppResult<Actor> {
    let (user, session) = identity.tokens.verify(token)?;
    let live = db
        .run(move |conn| {
            Ok(db::sessions::find_live(
                conn,
                &session.to_db(),
                &user.to_db(),
                db::now(),
            )?)
        })
        .await?
        .ok_or(AppError::Unauthorized(
            "The session has ended; log in again.",
        ))?;
    Ok(Actor {
        user_id: user,
        role: Role::parse(&live.role)
            .ok_or_else(|| AppError::internal("unknown role in the database"))?,
        organisation_id: live
            .organisation_id
            .as_deref()
            .map(OrganisationId::from_db)
            .transpose()?,
        session_id: session,
        request_id,
    })
}
