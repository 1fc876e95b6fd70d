//! Backups of an SQLite database a small organisation can trust: a consistent copy taken while
//! the service runs (`VACUUM INTO` reads one snapshot, whatever is being written), checked
//! before it is called a backup, and put back only after the same check, with the database it
//! replaces kept aside. PostgreSQL has its own tools (docs/OPERATIONS.md).

use std::fs::{File, OpenOptions};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use diesel::connection::SimpleConnection;
use diesel::prelude::*;
use diesel::sqlite::SqliteConnection;

use super::{DbConn, Target};

/// What a backup or a restore did.
#[derive(Debug)]
pub struct Copied {
    pub path: PathBuf,
    pub bytes: u64,
    pub took: Duration,
    /// On restore: where the database it replaced was kept, if there was one.
    pub set_aside: Option<PathBuf>,
}

/// The file beside the database that every process using it holds shared, and a restore
/// holds alone: a restore never swaps a file under a running service.
pub fn lock_path(database: &Path) -> PathBuf {
    let mut name = database.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

/// Holds the database's lock shared for as long as the answer lives.
pub fn hold_shared(database: &Path) -> Result<File, String> {
    let file = open_lock(database)?;
    match file.try_lock_shared() {
        Ok(()) => Ok(file),
        Err(std::fs::TryLockError::WouldBlock) => Err(format!(
            "{} is being restored; start again when the restore has finished",
            database.display()
        )),
        Err(std::fs::TryLockError::Error(e)) => Err(format!(
            "cannot lock {}: {e}",
            lock_path(database).display()
        )),
    }
}

fn open_lock(database: &Path) -> Result<File, String> {
    let path = lock_path(database);
    OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(&path)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))
}

fn sqlite_path(target: &Target, verb: &str) -> Result<PathBuf, String> {
    match target {
        Target::Sqlite(path) => Ok(path.clone()),
        Target::Postgres(_) => Err(format!(
            "peerpath {verb} works on SQLite; back up PostgreSQL with its own tools \
             (pg_dump --format=custom, or base backups with WAL archiving: docs/OPERATIONS.md)"
        )),
    }
}

fn quoted(path: &Path) -> Result<String, String> {
    let text = path
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
    Ok(format!("'{}'", text.replace('\'', "''")))
}

fn open(path: &Path) -> Result<SqliteConnection, String> {
    let url = path
        .to_str()
        .ok_or_else(|| format!("{} is not a UTF-8 path", path.display()))?;
    let mut conn = SqliteConnection::establish(url)
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    conn.batch_execute("PRAGMA busy_timeout = 5000")
        .map_err(|e| format!("cannot open {}: {e}", path.display()))?;
    Ok(conn)
}

/// A file that does not exist yet, next to `path`, for writing before it is renamed into place.
fn partial(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".partial");
    PathBuf::from(name)
}

fn sync(path: &Path) -> Result<(), String> {
    File::open(path)
        .and_then(|f| f.sync_all())
        .map_err(|e| format!("cannot write {} to disk: {e}", path.display()))?;
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        // The rename must reach the disk too; a folder that cannot be opened is left as is.
        if let Ok(dir) = File::open(parent) {
            let _ = dir.sync_all();
        }
    }
    Ok(())
}

fn size(path: &Path) -> u64 {
    std::fs::metadata(path).map_or(0, |m| m.len())
}

/// Copies the live database to `to` (which must not exist): a snapshot consistent with every
/// transaction committed before it began, checked with `integrity_check` before it is named.
pub fn backup(target: &Target, to: &Path) -> Result<Copied, String> {
    let database = sqlite_path(target, "backup")?;
    if !database.exists() {
        return Err(format!("there is no database at {}", database.display()));
    }
    if to.exists() {
        return Err(format!(
            "{} exists already; choose a new file name (a backup never overwrites one)",
            to.display()
        ));
    }
    let started = Instant::now();
    let partial = partial(to);
    let _ = std::fs::remove_file(&partial);
    let result = open(&database).and_then(|mut conn| {
        conn.batch_execute(&format!("VACUUM INTO {}", quoted(&partial)?))
            .map_err(|e| format!("the copy failed: {e}"))
    });
    let checked = result.and_then(|()| check(&partial).map(|_| ()));
    if let Err(e) = checked.and_then(|()| sync(&partial)) {
        let _ = std::fs::remove_file(&partial);
        return Err(e);
    }
    std::fs::rename(&partial, to).map_err(|e| format!("cannot name the backup: {e}"))?;
    sync(to)?;
    Ok(Copied {
        path: to.to_path_buf(),
        bytes: size(to),
        took: started.elapsed(),
        set_aside: None,
    })
}

/// The checks a file passes before it is taken for a peerpath database: SQLite's own
/// `integrity_check`, and migrations all known to this binary. Answers how many are applied.
pub fn check(path: &Path) -> Result<usize, String> {
    #[derive(QueryableByName)]
    struct Integrity {
        #[diesel(sql_type = diesel::sql_types::Text)]
        integrity_check: String,
    }
    let not_a_backup = |why: String| format!("{} is not a usable backup: {why}", path.display());
    if !path.is_file() {
        return Err(not_a_backup("there is no such file".into()));
    }
    let mut conn = open(path)?;
    let rows = diesel::sql_query("PRAGMA integrity_check")
        .load::<Integrity>(&mut conn)
        .map_err(|e| not_a_backup(format!("SQLite cannot read it ({e})")))?;
    if rows.len() != 1 || rows[0].integrity_check != "ok" {
        return Err(not_a_backup(format!(
            "SQLite's integrity check found {} problem(s)",
            rows.len()
        )));
    }
    let mut conn = DbConn::Sqlite(conn);
    let (known, unknown) = super::migrations::applied_known_and_unknown(&mut conn)
        .map_err(|_| not_a_backup("it is not a peerpath database".into()))?;
    if known == 0 {
        return Err(not_a_backup("it is not a peerpath database".into()));
    }
    if let Some(newer) = unknown.first() {
        return Err(not_a_backup(format!(
            "it was made by a newer peerpath (migration {newer}); restore it with that version"
        )));
    }
    Ok(known)
}

/// Puts the backup `from` in place of the database, after checking it. Refused while any
/// peerpath process has the database open. The database replaced is kept beside it as
/// `<name>.before-restore-<UTC time>`.
pub fn restore(target: &Target, from: &Path) -> Result<Copied, String> {
    let database = sqlite_path(target, "restore")?;
    let started = Instant::now();
    check(from)?;
    super::ensure_parent_dir(&database)?;
    let lock = open_lock(&database)?;
    if lock.try_lock().is_err() {
        return Err(format!(
            "{} is in use: stop peerpath serve and peerpath worker first",
            database.display()
        ));
    }
    let incoming = partial(&database);
    let put_in_place = || -> Result<Option<PathBuf>, String> {
        std::fs::copy(from, &incoming).map_err(|e| format!("cannot copy the backup: {e}"))?;
        sync(&incoming)?;
        let set_aside = if database.exists() {
            let stamp = chrono::Utc::now().format("%Y%m%dT%H%M%SZ");
            let mut name = database.as_os_str().to_owned();
            name.push(format!(".before-restore-{stamp}"));
            let aside = PathBuf::from(name);
            // A copy through SQLite, so that what its write-ahead log holds is kept too.
            open(&database).and_then(|mut conn| {
                conn.batch_execute(&format!("VACUUM INTO {}", quoted(&aside)?))
                    .map_err(|e| format!("cannot keep the current database aside: {e}"))
            })?;
            Some(aside)
        } else {
            None
        };
        for suffix in ["-wal", "-shm"] {
            let mut name = database.as_os_str().to_owned();
            name.push(suffix);
            match std::fs::remove_file(PathBuf::from(name)) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(format!("cannot remove the old {suffix} file: {e}")),
            }
        }
        std::fs::rename(&incoming, &database)
            .map_err(|e| format!("cannot put the backup in place: {e}"))?;
        sync(&database)?;
        Ok(set_aside)
    };
    let set_aside = put_in_place().inspect_err(|_| {
        let _ = std::fs::remove_file(&incoming);
    })?;
    drop(lock);
    Ok(Copied {
        path: database.clone(),
        bytes: size(&database),
        took: started.elapsed(),
        set_aside,
    })
}
