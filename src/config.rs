//! Layered settings: the built-in `config/default.toml`, then `config/<PEERPATH_ENV>.toml`,
//! then `PEERPATH__SECTION__KEY` environment variables. Settings are handed to the app
//! builder; nothing reads them from a global.

use std::fmt;
use std::path::{Path, PathBuf};

use figment::Figment;
use figment::providers::{Env, Format, Toml};
use serde::Deserialize;

const DEFAULTS: &str = include_str!("../config/default.toml");

/// Keys that must never sign production tokens: examples from documentation and tutorials.
const KNOWN_DEFAULT_KEYS: &[&str] = &[
    "secret",
    "changeme",
    "change-me",
    "development",
    "peerpath",
    "your-256-bit-secret",
    "please-change-this-development-signing-key",
];

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Environment {
    Development,
    Test,
    Production,
}

impl Environment {
    pub fn from_env() -> Result<Self, ConfigError> {
        match std::env::var("PEERPATH_ENV").as_deref() {
            Err(_) | Ok("") | Ok("development") => Ok(Self::Development),
            Ok("test") => Ok(Self::Test),
            Ok("production") => Ok(Self::Production),
            Ok(other) => Err(ConfigError(format!(
                "PEERPATH_ENV must be development, test or production, not {other:?}"
            ))),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Development => "development",
            Self::Test => "test",
            Self::Production => "production",
        }
    }
}

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

/// A string that never prints: `Debug` and `Display` show `[redacted]`.
#[derive(Clone, Default, Deserialize, PartialEq, Eq)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Self(value.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("[redacted]")
    }
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    #[serde(skip, default = "default_env")]
    pub env: Environment,
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub log: LogSettings,
    pub data: DataSettings,
    pub email: EmailSettings,
    pub scheduler: SchedulerSettings,
    pub recovery: RecoverySettings,
    pub web: WebSettings,
}

fn default_env() -> Environment {
    Environment::Development
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub public_url: String,
    pub body_limit_bytes: usize,
    pub workers: usize,
    pub shutdown_timeout_secs: u64,
    pub blocking_threads_per_worker: usize,
    pub trust_forwarded_for: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// May carry a password, so it is kept secret.
    pub url: Secret,
    pub pool_size: u32,
    pub checkout_timeout_ms: u64,
    pub sqlite_busy_timeout_ms: u64,
    /// The largest the SQLite file may grow, in MiB; 0 for no cap.
    pub sqlite_max_size_mb: u64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthSettings {
    pub jwt_secret: Secret,
    pub issuer: String,
    pub audience: String,
    pub access_token_ttl_secs: i64,
    pub refresh_token_ttl_days: i64,
    pub argon2_memory_kib: u32,
    pub argon2_iterations: u32,
    pub argon2_parallelism: u32,
    pub hashing_concurrency: usize,
    pub max_failures_per_account: u32,
    pub account_lock_secs: u64,
    pub max_attempts_per_client: u32,
    pub client_window_secs: u64,
    /// Roles that must sign in with a second factor (an authenticator app).
    pub mfa_required_roles: Vec<crate::access::Role>,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum EmailTransport {
    Smtp,
    File,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    None,
    Starttls,
    Tls,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EmailSettings {
    pub transport: EmailTransport,
    pub allow_file_transport_in_production: bool,
    pub smtp_host: String,
    pub smtp_port: u16,
    pub smtp_tls: SmtpTls,
    pub smtp_username: String,
    pub smtp_password: Secret,
    pub from: String,
    pub timeout_secs: u64,
    pub max_attempts: i32,
    pub backoff_base_secs: i64,
    pub backoff_max_secs: i64,
    pub lease_secs: i64,
    pub poll_interval_ms: u64,
    pub batch_size: i64,
    pub concurrency: usize,
    pub run_worker: bool,
    pub invitation_ttl_hours: i64,
    pub password_reset_ttl_minutes: i64,
    pub password_reset_cooldown_secs: i64,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SchedulerSettings {
    pub tick_secs: u64,
    pub daily_hour_utc: u32,
    pub lease_secs: i64,
    pub training_expiry_window_days: u32,
    pub signoff_waiting_days: i64,
    /// Days after a missed check-in before the supervisor is told.
    pub checkin_grace_days: u32,
}

/// Recovery support: the keys that encrypt its free text, and its check-in rhythm.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecoverySettings {
    /// The key new content is sealed with.
    pub current_key_id: String,
    /// Keys by id: 32 bytes each, base64. Old keys stay until `peerpath rotate-key` has
    /// re-sealed everything under the current one.
    pub keys: std::collections::BTreeMap<String, Secret>,
}

/// The pages' sign-in: the session cookie and how long a web session lasts.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebSettings {
    /// `Secure` cookies with the `__Host-` prefix: on everywhere but development, where the
    /// service is reached over plain HTTP.
    pub secure_cookies: bool,
    /// A web session unused this long ends.
    pub idle_timeout_mins: i64,
    /// A web session ends this long after sign-in, however busy.
    pub absolute_timeout_hours: i64,
}

#[derive(Clone, Copy, Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Compact,
    Json,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogSettings {
    pub format: LogFormat,
    pub filter: String,
    /// Adds a `Server-Timing` header with each request's database queries and time, for
    /// developers' tools and the query-count tests; off in production.
    pub server_timing: bool,
}

#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DataSettings {
    pub dir: PathBuf,
}

impl Settings {
    /// Reads the layers for the environment named by `PEERPATH_ENV`.
    pub fn load() -> Result<Self, ConfigError> {
        let env = Environment::from_env()?;
        let dir = std::env::var("PEERPATH_CONFIG_DIR").unwrap_or_else(|_| "config".into());
        Self::load_layers(env, Path::new(&dir), true)
    }

    /// The built-in defaults and the environment's file only: what tests start from.
    pub fn load_without_env_vars(env: Environment, config_dir: &Path) -> Result<Self, ConfigError> {
        Self::load_layers(env, config_dir, false)
    }

    fn load_layers(env: Environment, dir: &Path, env_vars: bool) -> Result<Self, ConfigError> {
        let mut figment = Figment::new()
            .merge(Toml::string(DEFAULTS))
            .merge(Toml::file(dir.join("default.toml")))
            .merge(Toml::file(dir.join(format!("{}.toml", env.as_str()))));
        if env_vars {
            figment = figment.merge(Env::prefixed("PEERPATH__").split("__"));
        }
        let mut settings: Settings = figment.extract().map_err(|e| ConfigError(e.to_string()))?;
        settings.env = env;
        settings.check()?;
        Ok(settings)
    }

    /// Refusals that do not depend on the file system.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.server.body_limit_bytes < 1024 {
            return Err(ConfigError(
                "server.body_limit_bytes must be at least 1024".into(),
            ));
        }
        if self.server.blocking_threads_per_worker == 0 {
            return Err(ConfigError(
                "server.blocking_threads_per_worker must be at least 1".into(),
            ));
        }
        if self.database.pool_size == 0 {
            return Err(ConfigError("database.pool_size must be at least 1".into()));
        }
        if self.auth.hashing_concurrency == 0 {
            return Err(ConfigError(
                "auth.hashing_concurrency must be at least 1".into(),
            ));
        }
        if self.auth.access_token_ttl_secs <= 0 || self.auth.refresh_token_ttl_days <= 0 {
            return Err(ConfigError("token lifetimes must be positive".into()));
        }
        if self.email.max_attempts < 1 || self.email.batch_size < 1 || self.email.lease_secs < 1 {
            return Err(ConfigError(
                "email.max_attempts, email.batch_size and email.lease_secs must be at least 1"
                    .into(),
            ));
        }
        if self.scheduler.daily_hour_utc > 23 {
            return Err(ConfigError(
                "scheduler.daily_hour_utc must be 0 to 23".into(),
            ));
        }
        if self.env == Environment::Production {
            check_production_key(&self.auth.jwt_secret)?;

            if self.email.transport == EmailTransport::File
                && !self.email.allow_file_transport_in_production
            {
                return Err(ConfigError(
                    "email.transport is \"file\" in production, so no email would reach anyone: \
                     configure SMTP (PEERPATH__EMAIL__TRANSPORT=smtp, PEERPATH__EMAIL__SMTP_HOST, ...) \
                     or set email.allow_file_transport_in_production = true"
                        .into(),
                ));
            }
            if self.recovery.keys.is_empty() || self.recovery.current_key_id.is_empty() {
                return Err(ConfigError(
                    "recovery.current_key_id and recovery.keys are required in production: \
                     set PEERPATH__RECOVERY__CURRENT_KEY_ID and PEERPATH__RECOVERY__KEYS__<id> \
                     (32 random bytes, base64)"
                        .into(),
                ));
            }
        }
        Ok(())
    }
}

pub const MIN_KEY_BYTES: usize = 32;

pub fn check_production_key(key: &Secret) -> Result<(), ConfigError> {
    if key.is_empty() {
        return Err(ConfigError(
            "auth.jwt_secret is required in production: set PEERPATH__AUTH__JWT_SECRET \
             to a random value of at least 32 bytes"
                .into(),
        ));
    }
    if key.expose().len() < MIN_KEY_BYTES {
        return Err(ConfigError(format!(
            "auth.jwt_secret is shorter than {MIN_KEY_BYTES} bytes"
        )));
    }
    let lower = key.expose().to_ascii_lowercase();
    if KNOWN_DEFAULT_KEYS.contains(&lower.as_str()) {
        return Err(ConfigError(
            "auth.jwt_secret is a published example value; generate a random key".into(),
        ));
    }
    let first = lower.chars().next().unwrap_or_default();
    if lower.chars().all(|c| c == first) {
        return Err(ConfigError(
            "auth.jwt_secret is one repeated character; generate a random key".into(),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn production_refuses_weak_keys() {
        assert!(check_production_key(&Secret::new("")).is_err());
        assert!(check_production_key(&Secret::new("short")).is_err());
        assert!(check_production_key(&Secret::new("a".repeat(40))).is_err());
        assert!(
            check_production_key(&Secret::new("please-change-this-development-signing-key"))
                .is_err()
        );
        assert!(check_production_key(&Secret::new("q8Jx2mV9tL4wR7nB1cK5zH3pY6sD0fGa")).is_ok());
    }

    #[test]
    fn secrets_do_not_print() {
        let s = Secret::new("hunter2hunter2");
        assert_eq!(format!("{s:?}"), "[redacted]");
    }
}
