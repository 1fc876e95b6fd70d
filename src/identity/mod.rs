//! Who is calling and what they may do: users, roles, passwords, tokens, sessions, and the
//! authorisation policies every handler consults.

pub mod account_tokens;
pub mod authz;
pub mod login_limits;
pub mod mfa;
pub mod passwords;
pub mod sessions;
pub mod tokens;
pub mod totp;
pub mod users;
pub mod values;
pub mod web_sessions;

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::config::AuthSettings;
use crate::ids::{OrganisationId, SessionId, UserId};

pub use values::{DisplayName, Email};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Admin,
    ProgrammeManager,
    Supervisor,
    PeerWorker,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "admin",
            Self::ProgrammeManager => "programme_manager",
            Self::Supervisor => "supervisor",
            Self::PeerWorker => "peer_worker",
        }
    }

    pub fn parse(value: &str) -> Option<Self> {
        [
            Self::Admin,
            Self::ProgrammeManager,
            Self::Supervisor,
            Self::PeerWorker,
        ]
        .into_iter()
        .find(|r| r.as_str() == value)
    }
}

/// The authenticated caller of one request.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: UserId,
    pub role: Role,
    pub organisation_id: Option<OrganisationId>,
    pub session_id: SessionId,
    pub request_id: Option<String>,
}

/// Identity's long-lived parts, built once at start-up.
pub struct Identity {
    pub tokens: tokens::TokenKeys,
    pub hasher: passwords::PasswordHasher,
    pub limiter: login_limits::LoginLimiter,
    /// Password-reset requests per client address (accounts are limited by a cooldown).
    pub reset_limiter: login_limits::LoginLimiter,
    pub refresh_ttl: chrono::Duration,
    pub pepper: Vec<u8>,
    /// Roles that must sign in with a second factor (`auth.mfa_required_roles`).
    pub mfa_required_roles: Vec<Role>,
}

impl Identity {
    pub fn new(settings: &AuthSettings, signing_key: &[u8]) -> Result<Arc<Self>, String> {
        Ok(Arc::new(Self {
            tokens: tokens::TokenKeys::new(settings, signing_key)?,
            hasher: passwords::PasswordHasher::new(settings)?,
            limiter: login_limits::LoginLimiter::new(settings),
            reset_limiter: login_limits::LoginLimiter::new(settings),
            refresh_ttl: chrono::Duration::days(settings.refresh_token_ttl_days),
            pepper: fingerprint_pepper(signing_key),
            mfa_required_roles: settings.mfa_required_roles.clone(),
        }))
    }
}

/// The key that makes stored request fingerprints unguessable without the server's secret.
pub fn fingerprint_pepper(signing_key: &[u8]) -> Vec<u8> {
    use sha2::Digest;
    sha2::Sha256::new()
        .chain_update(b"peerpath idempotency fingerprint")
        .chain_update(signing_key)
        .finalize()
        .to_vec()
}
