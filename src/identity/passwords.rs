//! Argon2id hashing with bounded concurrency, and the password policy.

use std::collections::HashSet;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use argon2::password_hash::phc::{Output, ParamsString, Salt};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
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
            let ok = matches(&parsed, password.expose().as_bytes());
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

/// Argon2's memory is allocated with at least this capacity, above glibc's largest dynamic
/// mmap threshold (32 MiB on 64-bit): such a block is always mapped for the hash and returned
/// to the system after it. A block the size of the memory cost (19 MiB) raised the threshold
/// instead and stayed on the heap, hundreds of MiB under a burst of logins. Only the memory
/// cost is touched, so only it is ever resident.
const ALWAYS_MAPPED_BYTES: usize = 33 << 20;

/// Runs Argon2 with `params` over `password` and `salt` into `out`.
fn compute(
    algorithm: Algorithm,
    version: Version,
    params: Params,
    password: &[u8],
    salt: &[u8],
    out: &mut [u8],
) -> Result<(), argon2::Error> {
    let count = params.block_count();
    let mut blocks: Vec<Block> = Vec::with_capacity(count.max(ALWAYS_MAPPED_BYTES / Block::SIZE));
    blocks.resize(count, Block::new());
    Argon2::new(algorithm, version, params).hash_password_into_with_memory(
        password,
        salt,
        out,
        blocks.as_mut_slice(),
    )
}

fn hash_with(params: &Params, password: &[u8]) -> Result<String, String> {
    let fail = |e: &dyn std::fmt::Display| format!("argon2: {e}");
    let salt = Salt::generate();
    let mut out = vec![0; params.output_len().unwrap_or(Params::DEFAULT_OUTPUT_LEN)];
    compute(
        Algorithm::Argon2id,
        Version::V0x13,
        params.clone(),
        password,
        &salt,
        &mut out,
    )
    .map_err(|e| fail(&e))?;
    let hash = PasswordHash {
        algorithm: Algorithm::Argon2id.ident(),
        version: Some(Version::V0x13.into()),
        params: ParamsString::try_from(params).map_err(|e| fail(&e))?,
        salt: Some(salt),
        hash: Some(Output::new(&out).map_err(|e| fail(&e))?),
    };
    Ok(hash.to_string())
}

/// Recomputes the hash with the stored algorithm, version, parameters and salt, and compares
/// in constant time (`Output`'s equality).
fn matches(stored: &PasswordHash, password: &[u8]) -> bool {
    let (Some(salt), Some(expected)) = (&stored.salt, &stored.hash) else {
        return false;
    };
    let Ok(algorithm) = Algorithm::try_from(stored.algorithm.as_str()) else {
        return false;
    };
    let Ok(version) = stored
        .version
        .map_or(Ok(Version::default()), Version::try_from)
    else {
        return false;
    };
    let Ok(params) = Params::try_from(stored) else {
        return false;
    };
    let mut out = vec![0; expected.len()];
    compute(algorithm, version, params, password, salt, &mut out).is_ok()
        && Output::new(&out).is_ok_and(|computed| computed == *expected)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn small() -> Params {
        Params::new(64, 1, 1, None).expect("valid parameters")
    }

    #[test]
    fn hashes_verify_with_the_library_and_ours() {
        use argon2::PasswordVerifier as _;
        let stored = hash_with(&small(), b"lantern-river-copper").expect("a hash");
        let parsed = PasswordHash::new(&stored).expect("a PHC string");
        assert_eq!(parsed.algorithm.as_str(), "argon2id");
        assert!(matches(&parsed, b"lantern-river-copper"));
        assert!(!matches(&parsed, b"lantern-river-coppeR"));
        let library = Argon2::new(Algorithm::Argon2id, Version::V0x13, small());
        assert!(
            library
                .verify_password(b"lantern-river-copper", &parsed)
                .is_ok()
        );
        // A hash made by the library (as stored before this code) still verifies.
        use argon2::PasswordHasher as _;
        let theirs = library
            .hash_password(b"lantern-river-copper")
            .expect("a hash");
        assert!(matches(&theirs, b"lantern-river-copper"));
        assert!(!matches(&theirs, b"other-password-entirely"));
    }

    #[test]
    fn policy_refuses_short_long_and_common() {
        assert!(check_policy("short", "password").is_err());
        assert!(check_policy(&"x".repeat(129), "password").is_err());
        assert!(check_policy("password123", "password").is_err());
        assert!(check_policy("Password123", "password").is_err());
        assert!(check_policy("lantern-river-copper", "password").is_ok());
    }
}
