//! Migrations are embedded in the binary, one folder per backend with the same version names.

use diesel::connection::SimpleConnection;
use diesel::migration::{Migration, MigrationSource};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use super::DbConn;

const SQLITE: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES: EmbeddedMigrations = embed_migrations!("migrations/postgres");

type MigrationError = Box<dyn std::error::Error + Send + Sync>;

/// Any fixed number: the PostgreSQL advisory lock that lets one instance at a time migrate.
const MIGRATION_LOCK: i64 = 0x7065_6572_7061_7468; // "peerpath"

/// Applies what is pending; answers the versions applied now. On PostgreSQL several
/// instances may start at once: they take turns under an advisory lock, and the later ones
/// find nothing pending.
pub fn run_pending(conn: &mut DbConn) -> Result<Vec<String>, MigrationError> {
    let applied = match conn {
        DbConn::Sqlite(c) => c.run_pending_migrations(SQLITE)?,
        DbConn::Postgres(c) => {
            c.batch_execute(&format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
            let result = c
                .run_pending_migrations(POSTGRES)
                .map(|versions| versions.iter().map(ToString::to_string).collect::<Vec<_>>());
            c.batch_execute(&format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"))?;
            return result;
        }
    };
    Ok(applied.iter().map(ToString::to_string).collect())
}

/// Reverts every applied migration, newest first.
pub fn revert_all(conn: &mut DbConn) -> Result<Vec<String>, MigrationError> {
    let reverted = match conn {
        DbConn::Sqlite(c) => c.revert_all_migrations(SQLITE)?,
        DbConn::Postgres(c) => c.revert_all_migrations(POSTGRES)?,
    };
    Ok(reverted.iter().map(ToString::to_string).collect())
}

/// Every known migration and whether it is applied.
pub fn status(conn: &mut DbConn) -> Result<Vec<(String, bool)>, MigrationError> {
    fn list<C: MigrationHarness<DB>, DB: diesel::backend::Backend>(
        conn: &mut C,
        source: EmbeddedMigrations,
    ) -> Result<Vec<(String, bool)>, MigrationError>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let applied = conn.applied_migrations()?;
        let all = MigrationSource::<DB>::migrations(&source)?;
        Ok(all
            .iter()
            .map(|m| {
                let name = m.name();
                (name.to_string(), applied.contains(&name.version()))
            })
            .collect())
    }
    match conn {
        DbConn::Sqlite(c) => list(c, SQLITE),
        DbConn::Postgres(c) => list(c, POSTGRES),
    }
}

/// Of the migrations applied to a database, how many this binary knows, and the versions it
/// does not (a database from a newer peerpath).
pub fn applied_known_and_unknown(
    conn: &mut DbConn,
) -> Result<(usize, Vec<String>), MigrationError> {
    fn split<C: MigrationHarness<DB>, DB: diesel::backend::Backend>(
        conn: &mut C,
        source: EmbeddedMigrations,
    ) -> Result<(usize, Vec<String>), MigrationError>
    where
        EmbeddedMigrations: MigrationSource<DB>,
    {
        let known: Vec<_> = MigrationSource::<DB>::migrations(&source)?
            .iter()
            .map(|m| m.name().version().as_owned())
            .collect();
        let (ours, theirs): (Vec<_>, Vec<_>) = conn
            .applied_migrations()?
            .into_iter()
            .partition(|v| known.contains(v));
        Ok((ours.len(), theirs.iter().map(ToString::to_string).collect()))
    }
    match conn {
        DbConn::Sqlite(c) => split(c, SQLITE),
        DbConn::Postgres(c) => split(c, POSTGRES),
    }
}
