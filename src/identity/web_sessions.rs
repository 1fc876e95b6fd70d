//! Signing in to the pages: a session row like the API's (so logout, deactivation and a
//! password change end it the same way) carried in a cookie, with an idle and an absolute
//! timeout and a CSRF token for its forms.

use std::net::IpAddr;

use chrono::Duration;

use super::sessions::{open_session, verify_credentials};
use super::{Actor, Identity, Role, tokens};
use crate::config::{Secret, WebSettings};
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};
use crate::ids::{OrganisationId, SessionId, UserId};

/// A signed-in person on a page request.
#[derive(Clone, Debug)]
pub struct WebSession {
    pub actor: Actor,
    pub display_name: String,
    /// Every form of the session carries it; a post without it changes nothing.
    pub csrf_token: String,
}

/// What the browser keeps: the cookie's value (never stored) and the session's CSRF token.
pub struct SignedIn {
    pub cookie: String,
    pub role: Role,
}

/// Re-stamping `last_seen_at` on every page would be a write per request; once a minute
/// keeps the idle timeout within a minute of exact.
const TOUCH_EVERY: Duration = Duration::seconds(60);

/// What a right password opens on the web: a session, or the second step first.
pub enum SignInOutcome {
    Open(SignedIn),
    SecondStep(super::mfa::SecondFactorChallenge),
}

/// What a person typed on the sign-in page.
pub struct Credentials<'a> {
    pub email: &'a str,
    pub password: &'a Secret,
}

pub async fn sign_in(
    identity: &std::sync::Arc<Identity>,
    db: &Database,
    keys: &std::sync::Arc<crate::crypto::Keyring>,
    web: &WebSettings,
    typed: Credentials<'_>,
    client: IpAddr,
    request_id: Option<String>,
) -> AppResult<SignInOutcome> {
    let verified = verify_credentials(
        identity,
        db,
        typed.email,
        typed.password,
        client,
        request_id.as_deref(),
    )
    .await?;
    if let Some(challenge) = super::mfa::after_password(identity, db, keys, &verified).await? {
        return Ok(SignInOutcome::SecondStep(challenge));
    }
    open(db, web, verified, request_id)
        .await
        .map(SignInOutcome::Open)
}

/// Opens a web session for a person verified (by password, and second factor where they
/// have one).
pub async fn open(
    db: &Database,
    web: &WebSettings,
    verified: super::sessions::Verified,
    request_id: Option<String>,
) -> AppResult<SignedIn> {
    let role = Role::parse(&verified.user.role)
        .ok_or_else(|| AppError::internal("unknown role in the database"))?;
    let session = SessionId::generate();
    let (cookie, cookie_hash) = tokens::new_secret("ws_")?;
    let (csrf, _) = tokens::new_secret("")?;
    let expires_at = db::now() + Duration::hours(web.absolute_timeout_hours);
    db.write(move |conn| {
        open_session(conn, &verified, &session, expires_at, request_id.as_deref())?;
        db::web_sessions::insert(conn, &cookie_hash, &session.to_db(), &csrf, db::now())?;
        Ok(())
    })
    .await?;
    Ok(SignedIn { cookie, role })
}

/// The person a cookie carries, or `None` when the session ended (signed out, timed out,
/// revoked, or the account deactivated).
pub async fn authenticate(
    db: &Database,
    web: &WebSettings,
    cookie: &str,
    request_id: Option<String>,
) -> AppResult<Option<WebSession>> {
    let hash = tokens::hash_refresh_token(cookie);
    let idle = Duration::minutes(web.idle_timeout_mins);
    let live = db
        .run(move |conn| {
            let now = db::now();
            let live = db::web_sessions::find_live(conn, &hash, now, now - idle)?;
            if let Some(found) = &live
                && now - found.last_seen_at > TOUCH_EVERY
            {
                db::web_sessions::touch(conn, &hash, now)?;
            }
            Ok(live)
        })
        .await?;
    let Some(live) = live else {
        return Ok(None);
    };
    Ok(Some(WebSession {
        actor: Actor {
            user_id: UserId::from_db(&live.user_id)?,
            role: Role::parse(&live.role)
                .ok_or_else(|| AppError::internal("unknown role in the database"))?,
            organisation_id: live
                .organisation_id
                .as_deref()
                .map(OrganisationId::from_db)
                .transpose()?,
            session_id: SessionId::from_db(&live.session_id)?,
            request_id,
        },
        display_name: live.display_name,
        csrf_token: live.csrf_token,
    }))
}
