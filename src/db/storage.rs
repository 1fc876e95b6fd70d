//! Whether the database has run out of space. A write refused for want of space answers 507
//! with Retry-After; readiness says so while it lasts, and one log line per interval tells
//! the operators (a full disk under load would otherwise write a line per request to a log
//! that may share the disk).

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long readiness reports a full database after the last refused write, unless a write
/// succeeds first. Expiring it lets a drained instance take traffic again and find out.
pub const FULL_FOR: Duration = Duration::from_secs(60);

/// At most one log line per this interval while writes are refused.
pub const LOG_EVERY: Duration = Duration::from_secs(60);

/// Seconds a client should wait before retrying a write refused for want of space.
pub const RETRY_AFTER_SECS: u64 = 60;

#[derive(Debug, Default)]
struct Seen {
    /// The last write refused for want of space, unless a write succeeded since.
    full_at: Option<Instant>,
    last_logged: Option<Instant>,
    /// Refusals since the last log line, told in the next one.
    unlogged: u64,
}

#[derive(Debug, Default)]
pub struct StorageWatch {
    seen: Mutex<Seen>,
}

/// What to tell the operators of a refused write: nothing, or a line with the refusals it
/// stands for.
#[derive(Debug, PartialEq, Eq)]
pub enum LogLine {
    Quiet,
    Write { refusals: u64 },
}

impl StorageWatch {
    fn seen(&self) -> std::sync::MutexGuard<'_, Seen> {
        // A panic while holding this lock leaves plain data behind; it is still usable.
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// A write was refused for want of space at `now`.
    pub fn refused(&self, now: Instant) -> LogLine {
        let mut seen = self.seen();
        seen.full_at = Some(now);
        seen.unlogged += 1;
        let due = seen
            .last_logged
            .is_none_or(|last| now.duration_since(last) >= LOG_EVERY);
        if !due {
            return LogLine::Quiet;
        }
        seen.last_logged = Some(now);
        let refusals = std::mem::take(&mut seen.unlogged);
        LogLine::Write { refusals }
    }

    /// A write was committed: there is space again.
    pub fn wrote(&self) {
        let mut seen = self.seen();
        if seen.full_at.is_some() {
            seen.full_at = None;
            seen.unlogged = 0;
            drop(seen);
            tracing::info!("the database accepts writes again");
        }
    }

    /// Whether writes are being refused for want of space, as readiness reports it.
    pub fn is_full(&self, now: Instant) -> bool {
        self.seen()
            .full_at
            .is_some_and(|at| now.duration_since(at) < FULL_FOR)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_full_database_is_logged_once_per_interval_and_forgotten_when_a_write_succeeds() {
        let watch = StorageWatch::default();
        let start = Instant::now();
        assert!(!watch.is_full(start));
        assert_eq!(watch.refused(start), LogLine::Write { refusals: 1 });
        for second in 1..=59 {
            let now = start + Duration::from_secs(second);
            assert_eq!(watch.refused(now), LogLine::Quiet);
            assert!(watch.is_full(now));
        }
        let later = start + LOG_EVERY + Duration::from_secs(1);
        assert_eq!(watch.refused(later), LogLine::Write { refusals: 60 });
        assert!(!watch.is_full(later + FULL_FOR));
        assert!(watch.is_full(later + Duration::from_secs(1)));
        watch.wrote();
        assert!(!watch.is_full(later + Duration::from_secs(1)));
    }
}
