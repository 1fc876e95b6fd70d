//! Login attempt limits, per account (failures lock it for a while) and per client address
//! (all attempts in a fixed window). Kept in memory: each instance limits on its own, so
//! behind N instances an attacker gets at most N times the allowance.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::config::AuthSettings;
use crate::error::{AppError, AppResult};

/// Past this many tracked keys, expired entries are swept on the next write.
const SWEEP_ABOVE: usize = 10_000;

struct Account {
    failures: u32,
    window_start: Instant,
    locked_until: Option<Instant>,
}

struct Client {
    attempts: u32,
    window_start: Instant,
}

pub struct LoginLimiter {
    accounts: Mutex<HashMap<String, Account>>,
    clients: Mutex<HashMap<IpAddr, Client>>,
    max_failures: u32,
    lock: Duration,
    max_attempts: u32,
    window: Duration,
}

fn retry_after(until: Instant, now: Instant) -> AppError {
    AppError::TooManyRequests {
        retry_after_secs: until.saturating_duration_since(now).as_secs().max(1),
    }
}

impl LoginLimiter {
    pub fn new(settings: &AuthSettings) -> Self {
        Self {
            accounts: Mutex::new(HashMap::new()),
            clients: Mutex::new(HashMap::new()),
            max_failures: settings.max_failures_per_account,
            lock: Duration::from_secs(settings.account_lock_secs),
            max_attempts: settings.max_attempts_per_client,
            window: Duration::from_secs(settings.client_window_secs),
        }
    }

    /// Counts an attempt from `client` on `account`; refuses it (before any hashing) when
    /// either is over its limit. A locked account is refused even with the right password.
    pub fn admit(&self, account: &str, client: IpAddr) -> AppResult<()> {
        let now = Instant::now();
        {
            let mut clients = self.clients.lock().unwrap_or_else(|p| p.into_inner());
            if clients.len() > SWEEP_ABOVE {
                clients.retain(|_, c| now.duration_since(c.window_start) < self.window);
            }
            let entry = clients.entry(client).or_insert(Client {
                attempts: 0,
                window_start: now,
            });
            if now.duration_since(entry.window_start) >= self.window {
                *entry = Client {
                    attempts: 0,
                    window_start: now,
                };
            }
            if entry.attempts >= self.max_attempts {
                return Err(retry_after(entry.window_start + self.window, now));
            }
            entry.attempts += 1;
        }
        let accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(locked_until) = accounts.get(account).and_then(|a| a.locked_until)
            && locked_until > now
        {
            return Err(retry_after(locked_until, now));
        }
        Ok(())
    }

    pub fn record_failure(&self, account: &str) {
        let now = Instant::now();
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        if accounts.len() > SWEEP_ABOVE {
            accounts.retain(|_, a| {
                now.duration_since(a.window_start) < self.lock
                    || a.locked_until.is_some_and(|t| t > now)
            });
        }
        let entry = accounts.entry(account.to_string()).or_insert(Account {
            failures: 0,
            window_start: now,
            locked_until: None,
        });
        if now.duration_since(entry.window_start) >= self.lock
            || entry.locked_until.is_some_and(|t| t <= now)
        {
            *entry = Account {
                failures: 0,
                window_start: now,
                locked_until: None,
            };
        }
        entry.failures += 1;
        if entry.failures >= self.max_failures {
            entry.locked_until = Some(now + self.lock);
        }
    }

    pub fn record_success(&self, account: &str) {
        let mut accounts = self.accounts.lock().unwrap_or_else(|p| p.into_inner());
        accounts.remove(account);
    }
}
