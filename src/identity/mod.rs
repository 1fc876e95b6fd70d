//! Who is calling and what they may do: users, roles, passwords, tokens, sessions, and the
//! authorisation policies every handler consults.

pub mod account_tokens;
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

use crate::config::AuthSettings;

pub use values::{DisplayName, Email};

// The kernel, for the account services below.
use crate::access::{Actor, Role, authz};

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
