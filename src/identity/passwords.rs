//! Argon2id hashing with bounded concurrency, and the password policy.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};
use argon2::{PasswordHasher as _, PasswordVerifier as _};
use tokio::sync::Semaphore;

use crate::config::{AuthSettings, Secret};
use crate::error::{AppError, AppResult};

pub const MIN_CHARS: usize = 8;
pub const MAX_CHARS: usize = 128;

/// How long a login waits for a hashing slot before answering 503.
const PERMIT_WAIT: Duration = Duration::from_secs(10);

/// Common passwords (8 characters or more) from Django's list, itself from Royce Williams'
/// 2017 breach compilation; shorter ones are refused by length anyway.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common-passwords.txt").lines().collect());

/// Checks a new password against the policy; the message names the rule, never the password.
pub fn check_policy(password: &str, field: &str) -> AppResult<()> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(AppError::invalid(
            field,
            format!("must be at least {MIN_CHARS} characters"),
        ));
    }
    if chars > MAX_CHARS {
        return Err(AppError::invalid(
            field,
            format!("must be at most {MAX_CHARS} characters"),
        ));
    }
    if COMMON.contains(password.to_lowercase().as_str()) {
        return Err(AppError::invalid(
            field,
            "is one of the most common passwords; choose another",
        ));
    }
    Ok(())
}

pub struct Verified {
    pub ok: bool,
    /// The stored hash used other parameters than the current ones.
    pub needs_rehash: bool,
}

/// Hashes and verifies on the blocking pool, at most `hashing_concurrency` at a time, so a
/// flood of logins queues here instead of taking every thread.
type Job = Box<dyn FnOnce() + Send>;

/// A few threads of their own for hashing: each Argon2id hash allocates its memory cost
/// (19 MiB by default), and spread over the shared blocking pool's many threads those
/// allocations stayed resident in as many malloc arenas (hundreds of MiB under a login
/// load). On `hashing_concurrency` threads they are reused.
struct HashThreads {
    jobs: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

impl HashThreads {
    fn start(threads: usize) -> Result<Self, String> {
        let (sender, receiver) = std::sync::mpsc::channel::<Job>();
        let receiver = Arc::new(std::sync::Mutex::new(receiver));
        for n in 0..threads.max(1) {
            let receiver = receiver.clone();
            std::thread::Builder::new()
                .name(format!("password-hash-{n}"))
                .spawn(move || {
                    loop {
                        let job = match receiver.lock() {
                            Ok(r) => r.recv(),
                            Err(_) => return,
                        };
                        match job {
                            Ok(job) => job(),
                            Err(_) => return,
                        }
                    }
                })
                .map_err(|e| format!("cannot start a hashing thread: {e}"))?;
        }
        Ok(Self {
            jobs: std::sync::Mutex::new(sender),
        })
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> AppResult<T> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: Job = Box::new(move || {
            let _ = tx.send(f());
        });
        self.jobs
            .lock()
            .map_err(|_| AppError::internal("hashing threads poisoned"))?
            .send(job)
            .map_err(|_| AppError::internal("hashing threads stopped"))?;
        rx.await
            .map_err(|_| AppError::internal("a hashing thread dropped its job"))
    }
}

pub struct PasswordHasher {
    threads: HashThreads,
    params: Params,
    permits: Arc<Semaphore>,
    /// Verified against when the account does not exist, so both paths cost the same.
    dummy_hash: String,
}

impl PasswordHasher {
    pub fn new(settings: &AuthSettings) -> Result<Self, String> {
        let params = Params::new(
            settings.argon2_memory_kib,
            settings.argon2_iterations,
            settings.argon2_parallelism,
            None,
        )
        .map_err(|e| format!("argon2 parameters: {e}"))?;
        let dummy_hash = hash_with(&params, b"not a real password: timing equaliser")?;
        Ok(Self {
            threads: HashThreads::start(settings.hashing_concurrency)?,
            params,
            permits: Arc::new(Semaphore::new(settings.hashing_concurrency)),
            dummy_hash,
        })
    }

    async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> AppResult<T> {
        let _permit = tokio::time::timeout(PERMIT_WAIT, self.permits.clone().acquire_owned())
            .await
            .map_err(|_| AppError::Unavailable("password hashing is saturated".into()))?
            .map_err(|_| AppError::internal("hashing semaphore closed"))?;
        let span = tracing::Span::current();
        self.threads
            .run(move || {
                let _entered = span.enter();
                f()
            })
            .await
    }

    pub async fn hash(&self, password: &Secret) -> AppResult<String> {
        let params = self.params.clone();
        let password = password.clone();
        self.blocking(move || hash_with(&params, password.expose().as_bytes()))
            .await?
            .map_err(AppError::internal)
    }

    /// Verifies `password` against `stored`, or against a dummy hash when there is none.
    pub async fn verify(&self, password: &Secret, stored: Option<String>) -> AppResult<Verified> {
        let params = self.params.clone();
        let password = password.clone();
        let real = stored.is_some();
        let hash = stored.unwrap_or_else(|| self.dummy_hash.clone());
        self.blocking(move || {
            let Ok(parsed) = PasswordHash::new(&hash) else {
                return Verified {
                    ok: false,
                    needs_rehash: false,
                };
            };
            let ok = argon(&params)
                .verify_password(password.expose().as_bytes(), &parsed)
                .is_ok();
            let needs_rehash = Params::try_from(&parsed)
                .map(|p| p != params)
                .unwrap_or(true)
                || parsed.algorithm.as_str() != "argon2id";
            Verified {
                ok: ok && real,
                needs_rehash,
            }
        })
        .await
    }
}

fn argon(params: &Params) -> Argon2<'static> {
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, String> {
    argon(params)
        .hash_password(password)
        .map(|h| h.to_string())
        .map_err(|e| format!("argon2: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_refuses_short_long_and_common() {
        assert!(check_policy("short", "password").is_err());
        assert!(check_policy(&"x".repeat(129), "password").is_err());
        assert!(check_policy("password123", "password").is_err());
        assert!(check_policy("Password123", "password").is_err());
        assert!(check_policy("lantern-river-copper", "password").is_ok());
    }
}
