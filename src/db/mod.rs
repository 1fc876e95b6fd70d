//! Storage: one diesel code base over SQLite (embedded default) and PostgreSQL (production).
//! The backend is chosen from the URL scheme here, never by trial connection.

pub mod account_tokens;
pub mod audit;
pub mod backup;
pub mod competencies;
pub mod idempotency;
pub mod mfa;
pub mod migrations;
pub mod networks;
pub mod notifications;
pub mod organisations;
pub mod pathways;
pub mod pauses;
pub mod progressions;
pub mod queue;
pub mod recovery;
pub mod reminders;
pub mod reports;
pub mod salary;
pub mod scheduled_runs;
pub mod schema;
pub mod sessions;
pub mod storage;
pub mod supervision;
pub mod training;
pub mod users;
pub mod web_sessions;
pub mod workers;

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use chrono::{NaiveDateTime, SubsecRound, Utc};
use diesel::connection::{
    AnsiTransactionManager, Instrumentation, InstrumentationEvent, SimpleConnection,
    TransactionManager,
};
use diesel::pg::PgConnection;
use diesel::prelude::*;
use diesel::r2d2::{self, ManageConnection};
use diesel::result::DatabaseErrorKind;
use diesel::sqlite::SqliteConnection;

use crate::config::DatabaseSettings;
use crate::error::{AppError, AppResult};

thread_local! {
    /// Statements run on this thread, for counting a request's queries.
    static QUERIES: Cell<u64> = const { Cell::new(0) };
}

tokio::task_local! {
    /// The database work of the request being served, where one is.
    pub static REQUEST_DB: Arc<DbStats>;
}

/// Queries and time a request spent in the database.
#[derive(Debug, Default)]
pub struct DbStats {
    pub queries: AtomicU64,
    pub micros: AtomicU64,
}

/// Connections are checked with a round trip only when they may have gone bad: when idle for
/// longer than this, or when any connection of the pool has lost its server since they were
/// last checked. A check on every checkout cost a third of PostgreSQL's read throughput.
const CHECK_WHEN_IDLE_FOR: Duration = Duration::from_secs(5);

/// Each connection's instrumentation: counts statements (for a request's query count) and
/// notices a lost server, so the pool drops that connection and checks the others.
struct Watch {
    lost: bool,
    last_checkout: Instant,
    /// The pool's loss count when this connection was last checked.
    checked_at_losses: u64,
    pool_losses: Arc<AtomicU64>,
}

impl Instrumentation for Watch {
    fn on_connection_event(&mut self, event: InstrumentationEvent<'_>) {
        match event {
            InstrumentationEvent::StartQuery { .. } => QUERIES.with(|q| q.set(q.get() + 1)),
            InstrumentationEvent::FinishQuery {
                error:
                    Some(diesel::result::Error::DatabaseError(
                        DatabaseErrorKind::ClosedConnection
                        | DatabaseErrorKind::UnableToSendCommand,
                        _,
                    )),
                ..
            } => {
                self.lost = true;
                self.pool_losses.fetch_add(1, Ordering::Relaxed);
            }
            _ => {}
        }
    }
}

fn watch(conn: &mut DbConn) -> Option<&mut Watch> {
    conn.instrumentation().downcast_mut::<Watch>()
}

#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Postgres(PgConnection),
    Sqlite(SqliteConnection),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Where a database URL points, decided from its scheme alone.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    Postgres(String),
    Sqlite(PathBuf),
}

impl Target {
    pub fn parse(url: &str) -> Result<Self, String> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            return Ok(Self::Postgres(url.to_string()));
        }
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))
            .unwrap_or(url);
        if path.contains("://") {
            let scheme = url.split("://").next().unwrap_or_default();
            return Err(format!(
                "database.url has the unsupported scheme {scheme:?}: use postgres:// or sqlite://"
            ));
        }
        if path.is_empty() || path == ":memory:" {
            return Err(
                "database.url must name an SQLite file (an in-memory database \
                 would be a different empty database on every pooled connection)"
                    .into(),
            );
        }
        Ok(Self::Sqlite(PathBuf::from(path)))
    }

    pub fn backend(&self) -> Backend {
        match self {
            Self::Postgres(_) => Backend::Postgres,
            Self::Sqlite(_) => Backend::Sqlite,
        }
    }
}

/// Opens connections for the pool, with each backend's session set-up.
#[derive(Debug)]
pub struct Manager {
    target: Target,
    busy_timeout_ms: u64,
    /// A cap on the SQLite file (0: none), so that it cannot fill a disk it shares.
    sqlite_max_size_mb: u64,
    /// Connections of this pool that lost their server, ever.
    losses: Arc<AtomicU64>,
}

impl Manager {
    fn watch(&self) -> Watch {
        Watch {
            lost: false,
            last_checkout: Instant::now(),
            checked_at_losses: self.losses.load(Ordering::Relaxed),
            pool_losses: self.losses.clone(),
        }
    }
}

impl ManageConnection for Manager {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.target {
            Target::Postgres(url) => {
                let mut conn =
                    PgConnection::establish(url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute("SET TIME ZONE 'UTC'")
                    .map_err(r2d2::Error::QueryError)?;
                conn.set_instrumentation(self.watch());
                Ok(DbConn::Postgres(conn))
            }
            Target::Sqlite(path) => {
                let url = path.to_string_lossy();
                let mut conn =
                    SqliteConnection::establish(&url).map_err(r2d2::Error::ConnectionError)?;
                conn.batch_execute(&format!(
                    "PRAGMA busy_timeout = {}; PRAGMA journal_mode = WAL; \
                     PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; \
                     PRAGMA secure_delete = ON;",
                    self.busy_timeout_ms
                ))
                .map_err(r2d2::Error::QueryError)?;
                if self.sqlite_max_size_mb > 0 {
                    cap_sqlite_size(&mut conn, self.sqlite_max_size_mb)
                        .map_err(r2d2::Error::QueryError)?;
                }
                conn.set_instrumentation(self.watch());
                Ok(DbConn::Sqlite(conn))
            }
        }
    }

    /// Called on every checkout; a round trip only when the connection may have gone bad.
    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        let losses = self.losses.load(Ordering::Relaxed);
        let trusted = watch(conn).is_some_and(|w| {
            let recent = w.last_checkout.elapsed() < CHECK_WHEN_IDLE_FOR;
            w.last_checkout = Instant::now();
            recent && w.checked_at_losses == losses && !w.lost
        });
        if trusted {
            return Ok(());
        }
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)?;
        if let Some(w) = watch(conn) {
            w.checked_at_losses = losses;
        }
        Ok(())
    }

    fn has_broken(&self, conn: &mut DbConn) -> bool {
        use diesel::r2d2::R2D2Connection;
        conn.is_broken() || watch(conn).is_some_and(|w| w.lost)
    }
}

pub type Pool = r2d2::Pool<Manager>;
pub type PooledConn = r2d2::PooledConnection<Manager>;

/// The pool, which backend it speaks, and whether its storage is full.
#[derive(Clone)]
pub struct Database {
    pub pool: Pool,
    pub backend: Backend,
    pub storage: Arc<storage::StorageWatch>,
    /// SQLite: the database's lock, held shared so that a restore waits for this process.
    _lock: Option<Arc<std::fs::File>>,
}

impl Database {
    /// Builds the pool without connecting, so the service can start (and report not ready)
    /// while the database is down.
    pub fn connect(settings: &DatabaseSettings) -> Result<Self, String> {
        let target = Target::parse(settings.url.expose())?;
        let lock = match &target {
            Target::Sqlite(path) => {
                ensure_parent_dir(path)?;
                Some(Arc::new(backup::hold_shared(path)?))
            }
            Target::Postgres(_) => None,
        };
        let backend = target.backend();
        let manager = Manager {
            target,
            busy_timeout_ms: settings.sqlite_busy_timeout_ms,
            sqlite_max_size_mb: settings.sqlite_max_size_mb,
            losses: Arc::default(),
        };
        let pool = r2d2::Pool::builder()
            .max_size(settings.pool_size)
            .min_idle(Some(0))
            .connection_timeout(Duration::from_millis(settings.checkout_timeout_ms))
            .test_on_check_out(true)
            .build_unchecked(manager);
        Ok(Self {
            pool,
            backend,
            storage: Arc::default(),
            _lock: lock,
        })
    }

    pub fn get(&self) -> AppResult<PooledConn> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking database work on actix's blocking pool, inside the caller's span.
    pub async fn run<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let pool = self.pool.clone();
        let span = tracing::Span::current();
        let (result, queries, elapsed) = actix_web::web::block(move || {
            let _entered = span.enter();
            let mut conn = match pool.get() {
                Ok(conn) => conn,
                Err(e) => return (Err(e.into()), 0, Duration::ZERO),
            };
            let (before, started) = (QUERIES.with(Cell::get), Instant::now());
            let result = f(&mut conn);
            (result, QUERIES.with(Cell::get) - before, started.elapsed())
        })
        .await?;
        let _ = REQUEST_DB.try_with(|stats| {
            stats.queries.fetch_add(queries, Ordering::Relaxed);
            stats.micros.fetch_add(
                u64::try_from(elapsed.as_micros()).unwrap_or(u64::MAX),
                Ordering::Relaxed,
            );
        });
        if let Err(AppError::StorageFull(detail)) = &result {
            ::metrics::counter!("db_storage_full_total").increment(1);
            if let storage::LogLine::Write { refusals } = self.storage.refused(Instant::now()) {
                tracing::error!(
                    error = %detail,
                    refusals,
                    "the database is out of space: writes are refused until space is freed"
                );
            }
        }
        result
    }

    /// `run` inside a write transaction (immediate on SQLite).
    pub async fn write<T, F>(&self, f: F) -> AppResult<T>
    where
        F: FnOnce(&mut DbConn) -> AppResult<T> + Send + 'static,
        T: Send + 'static,
    {
        let result = self.run(move |conn| write_tx(conn, f)).await;
        if result.is_ok() {
            self.storage.wrote();
        }
        result
    }

    /// Whether writes are being refused for want of space (readiness reports it).
    pub fn storage_full(&self) -> bool {
        self.storage.is_full(Instant::now())
    }
}

/// Caps the file at `mb` MiB for this connection (SQLite keeps the cap per connection; a cap
/// below the file's size holds it at its size).
fn cap_sqlite_size(conn: &mut SqliteConnection, mb: u64) -> QueryResult<()> {
    #[derive(QueryableByName)]
    struct PageSize {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        page_size: i64,
    }
    let page = diesel::sql_query("PRAGMA page_size").get_result::<PageSize>(conn)?;
    let pages = (mb * 1024 * 1024) / u64::try_from(page.page_size.max(512)).unwrap_or(4096);
    conn.batch_execute(&format!("PRAGMA max_page_count = {pages}"))
}

fn ensure_parent_dir(path: &Path) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot create the folder {}: {e}", parent.display()))?;
    }
    Ok(())
}

/// A write transaction. On SQLite it begins IMMEDIATE so that two writers queue on the
/// busy timeout instead of one failing when it upgrades a read lock.
pub fn write_tx<T, E, F>(conn: &mut DbConn, f: F) -> Result<T, E>
where
    F: FnOnce(&mut DbConn) -> Result<T, E>,
    E: From<diesel::result::Error>,
{
    let DbConn::Sqlite(inner) = conn else {
        return conn.transaction(f);
    };
    AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")?;
    let result = f(conn);
    let DbConn::Sqlite(inner) = conn else {
        unreachable!("the connection cannot change backend")
    };
    match result {
        Ok(value) => {
            AnsiTransactionManager::commit_transaction(inner)?;
            Ok(value)
        }
        Err(e) => {
            // SQLite may have rolled back already (it does on SQLITE_FULL): the first error
            // is the one to answer. A connection whose rollback failed is marked broken, and
            // the pool drops it.
            if let Err(rollback) = AnsiTransactionManager::rollback_transaction(inner) {
                tracing::debug!(error = %rollback, "rollback after a failed write");
            }
            Err(e)
        }
    }
}

/// The current instant as stored: UTC, truncated to microseconds so both backends agree.
pub fn now() -> NaiveDateTime {
    Utc::now().naive_utc().trunc_subsecs(6)
}

/// Checks that the connection answers.
pub fn ping(conn: &mut DbConn) -> AppResult<()> {
    conn.batch_execute("SELECT 1").map_err(AppError::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backend_comes_from_the_scheme() {
        assert_eq!(
            Target::parse("postgres://u@h/db").map(|t| t.backend()),
            Ok(Backend::Postgres)
        );
        assert_eq!(
            Target::parse("sqlite://data/x.db"),
            Ok(Target::Sqlite("data/x.db".into()))
        );
        assert_eq!(
            Target::parse("data/x.db"),
            Ok(Target::Sqlite("data/x.db".into()))
        );
        assert!(Target::parse("postgress://u@h/db").is_err());
        assert!(Target::parse("sqlite://:memory:").is_err());
    }

    /// A connection checked out again soon is trusted without a round trip; one idle for
    /// long, or one whose pool has lost a connection since its last check, is checked.
    #[test]
    fn checkouts_are_checked_only_when_a_connection_may_have_gone_bad() {
        let dir = std::env::temp_dir().join(format!("peerpath-watch-{}", uuid::Uuid::new_v4()));
        let manager = Manager {
            target: Target::Sqlite(dir.join("w.db")),
            busy_timeout_ms: 100,
            sqlite_max_size_mb: 0,
            losses: Arc::default(),
        };
        let _ = std::fs::create_dir_all(&dir);
        let mut conn = manager.connect().expect("a connection");
        let round_trips = |conn: &mut DbConn| {
            let before = QUERIES.with(Cell::get);
            manager.is_valid(conn).expect("valid");
            QUERIES.with(Cell::get) - before
        };
        assert_eq!(round_trips(&mut conn), 0);
        manager.losses.fetch_add(1, Ordering::Relaxed);
        assert_eq!(round_trips(&mut conn), 1);
        assert_eq!(round_trips(&mut conn), 0);
        if let Some(w) = watch(&mut conn) {
            w.last_checkout -= CHECK_WHEN_IDLE_FOR;
        }
        assert_eq!(round_trips(&mut conn), 1);
        assert!(!manager.has_broken(&mut conn));
        let _ = std::fs::remove_dir_all(dir);
    }
}
