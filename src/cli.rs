//! The command line: `serve`, `worker`, `migrate`, `create-admin`, `backup`, `restore` and the rest.

use std::io::{BufRead, IsTerminal};

use clap::{Parser, Subcommand};

use crate::app::{self, Application};
use crate::config::{Secret, Settings};
use crate::db::{self, Database};
use crate::identity::{passwords, users};
use crate::telemetry;

#[derive(Parser)]
#[command(
    name = "peerpath",
    version,
    about = "Career pathways for peer workers in hepatitis C care"
)]
pub struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP service (applies pending migrations first). With `email.run_worker` (the
    /// default) it also delivers email and runs scheduled jobs.
    Serve,
    /// Deliver email and run scheduled jobs only, until SIGTERM or SIGINT.
    Worker,
    /// Manage the database schema.
    Migrate {
        #[command(subcommand)]
        action: MigrateAction,
    },
    /// Load the demonstration organisation (not in production; only into an empty database).
    /// Demo accounts share the password in PEERPATH_DEMO_PASSWORD, or one printed once.
    SeedDemo,
    /// Re-seal all recovery content under recovery.current_key_id (keep the old keys
    /// configured until it has run).
    RotateKey,
    /// Copy the SQLite database to a new file while the service runs: a consistent snapshot,
    /// integrity-checked. (PostgreSQL: use pg_dump or base backups.)
    Backup {
        /// The backup file to write; it must not exist.
        #[arg(long)]
        to: std::path::PathBuf,
    },
    /// Put an SQLite backup in place of the database, after checking it. Stop the service
    /// first; the database it replaces is kept beside it.
    Restore {
        /// The backup file (made by `peerpath backup`).
        file: std::path::PathBuf,
    },
    /// Create an admin account. The password comes from PEERPATH_ADMIN_PASSWORD or stdin.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
    },
}

#[derive(Subcommand)]
enum MigrateAction {
    /// Apply pending migrations.
    Run,
    /// Revert every migration (destroys all data).
    RevertAll,
    /// List migrations and whether each is applied.
    Status,
}

/// Runs the command line; answers the process exit code.
pub async fn run() -> i32 {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("peerpath: {e}");
            return 2;
        }
    };
    telemetry::init(&settings.log);
    let result = match cli.command {
        Command::Serve => serve(settings).await,
        Command::Worker => worker(settings).await,
        Command::SeedDemo => seed_demo(settings).await,
        Command::RotateKey => rotate_key(settings).await,
        Command::Migrate { action } => migrate(settings, action).await,
        Command::CreateAdmin { email, name } => create_admin(settings, &email, &name).await,
        Command::Backup { to } => backup(&settings, &to).await,
        Command::Restore { file } => restore(&settings, &file).await,
    };
    match result {
        Ok(()) => 0,
        Err(e) => {
            eprintln!("peerpath: {e}");
            1
        }
    }
}

async fn serve(settings: Settings) -> Result<(), String> {
    let started = std::time::Instant::now();
    let env = settings.env;
    let app = Application::build(settings)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(
        port = app.port(),
        env = env.as_str(),
        startup_ms = started.elapsed().as_millis() as u64,
        "peerpath is serving"
    );
    app.run_until_stopped().await.map_err(|e| e.to_string())
}

async fn worker(settings: Settings) -> Result<(), String> {
    use tokio::signal::unix::{SignalKind, signal};
    let database = Database::connect(&settings.database)?;
    app::migrate(&database).await.map_err(|e| e.to_string())?;
    let notifications = crate::notifications::Notifications::new(&settings)?;
    let background =
        app::Background::start(&settings, &database, &notifications).map_err(|e| e.to_string())?;
    tracing::info!("peerpath worker is running");
    let mut term = signal(SignalKind::terminate()).map_err(|e| e.to_string())?;
    let mut int = signal(SignalKind::interrupt()).map_err(|e| e.to_string())?;
    tokio::select! {
        _ = term.recv() => {}
        _ = int.recv() => {}
    }
    tracing::info!("stopping: finishing the email in hand");
    background.stop().await;
    Ok(())
}

async fn with_connection<T: Send + 'static>(
    settings: &Settings,
    f: impl FnOnce(&mut db::DbConn) -> Result<T, String> + Send + 'static,
) -> Result<T, String> {
    let database = Database::connect(&settings.database)?;
    actix_web::web::block(move || {
        let mut conn = database
            .pool
            .get()
            .map_err(|e| format!("cannot reach the database: {e}"))?;
        f(&mut conn)
    })
    .await
    .map_err(|e| e.to_string())?
}

#[allow(clippy::print_stdout)]
async fn migrate(settings: Settings, action: MigrateAction) -> Result<(), String> {
    with_connection(&settings, move |conn| {
        let err = |e: Box<dyn std::error::Error + Send + Sync>| e.to_string();
        match action {
            MigrateAction::Run => {
                let applied = db::migrations::run_pending(conn).map_err(err)?;
                println!("applied {} migration(s)", applied.len());
                applied.iter().for_each(|m| println!("  {m}"));
            }
            MigrateAction::RevertAll => {
                let reverted = db::migrations::revert_all(conn).map_err(err)?;
                println!("reverted {} migration(s)", reverted.len());
                reverted.iter().for_each(|m| println!("  {m}"));
            }
            MigrateAction::Status => {
                for (name, applied) in db::migrations::status(conn).map_err(err)? {
                    println!("{} {name}", if applied { "[x]" } else { "[ ]" });
                }
            }
        }
        Ok(())
    })
    .await
}

fn read_password() -> Result<Secret, String> {
    if let Ok(p) = std::env::var("PEERPATH_ADMIN_PASSWORD") {
        return Ok(Secret::new(p));
    }
    if std::io::stdin().is_terminal() {
        return rpassword::prompt_password("Password for the new admin: ")
            .map(Secret::new)
            .map_err(|e| format!("cannot read the password: {e}"));
    }
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from stdin: {e}"))?;
    Ok(Secret::new(line.trim_end_matches(['\r', '\n'])))
}

#[allow(clippy::print_stdout)]
async fn create_admin(settings: Settings, email: &str, name: &str) -> Result<(), String> {
    let password = read_password()?;
    let database = Database::connect(&settings.database)?;
    app::migrate(&database).await.map_err(|e| e.to_string())?;
    let hasher = passwords::PasswordHasher::new(&settings.auth)?;
    let user = users::create_admin(&hasher, &database, email, name, password)
        .await
        .map_err(|e| describe(&e))?;
    println!("created admin {} ({})", user.id, user.email);
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn seed_demo(settings: Settings) -> Result<(), String> {
    if settings.env == crate::config::Environment::Production {
        return Err("seed-demo refuses to run in production".into());
    }
    let database = Database::connect(&settings.database)?;
    app::migrate(&database).await.map_err(|e| e.to_string())?;
    let key = app::signing_key(&settings).map_err(|e| e.to_string())?;
    let identity = crate::identity::Identity::new(&settings.auth, &key)?;
    let mailer = crate::notifications::Notifications::new(&settings)?;
    let keys = std::sync::Arc::new(crate::crypto::Keyring::from_settings(&settings)?);
    let password = std::env::var("PEERPATH_DEMO_PASSWORD").ok();
    let outcome = crate::demo::seed(&database, &identity, &mailer, &keys, password)
        .await
        .map_err(|e| describe(&e))?;
    match outcome {
        crate::demo::SeedOutcome::AlreadyLoaded => {
            println!("the demo organisation is already loaded; nothing to do");
        }
        crate::demo::SeedOutcome::Loaded { password } => {
            println!(
                "loaded \"{}\": sign in as admin@, priya.manager@, alex.supervisor@, \
                 robin.ashworth@ ... {} (the README lists every account)",
                crate::demo::DEMO_ORGANISATION,
                crate::demo::DEMO_DOMAIN
            );
            if let Some(password) = password {
                println!("password of every demo account (shown once): {password}");
            }
        }
    }
    Ok(())
}

/// A command-line sentence for a refusal.
fn describe(error: &crate::error::AppError) -> String {
    use crate::error::AppError;
    match error {
        AppError::Validation(fields) => fields
            .iter()
            .map(|(f, m)| format!("{f} {}", m.join(", ")))
            .collect::<Vec<_>>()
            .join("; "),
        AppError::Conflict { detail, .. } => detail.clone(),
        other => other.to_string(),
    }
}

#[allow(clippy::print_stdout)]
async fn rotate_key(settings: Settings) -> Result<(), String> {
    let database = Database::connect(&settings.database)?;
    app::migrate(&database).await.map_err(|e| e.to_string())?;
    let keys = crate::crypto::Keyring::from_settings(&settings)?;
    let current = keys.current_key_id().to_string();
    let (sections, checkins, factors) = database
        .run(move |conn| {
            let (sections, checkins) = crate::recovery::data::rotate(conn, &keys)?;
            let factors = crate::identity::mfa::rotate(conn, &keys)?;
            Ok((sections, checkins, factors))
        })
        .await
        .map_err(|e| describe(&e))?;
    println!(
        "re-sealed {sections} plan sections, {checkins} check-ins and {factors} second-factor \
         secrets under key {current:?}; keys no longer named by any row may now be removed"
    );
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn backup(settings: &Settings, to: &std::path::Path) -> Result<(), String> {
    let target = db::Target::parse(settings.database.url.expose())?;
    let to = to.to_path_buf();
    let copied = actix_web::web::block(move || db::backup::backup(&target, &to))
        .await
        .map_err(|e| e.to_string())??;
    println!(
        "backed up to {} ({} bytes, {} ms); integrity check ok. Keep the signing and \
         recovery keys too, apart from it (docs/OPERATIONS.md)",
        copied.path.display(),
        copied.bytes,
        copied.took.as_millis()
    );
    Ok(())
}

#[allow(clippy::print_stdout)]
async fn restore(settings: &Settings, file: &std::path::Path) -> Result<(), String> {
    let target = db::Target::parse(settings.database.url.expose())?;
    let file = file.to_path_buf();
    let copied = actix_web::web::block(move || db::backup::restore(&target, &file))
        .await
        .map_err(|e| e.to_string())??;
    // Bring an older backup's schema up to this version now, not at the next start.
    let database = Database::connect(&settings.database)?;
    let applied = app::migrate(&database).await.map_err(|e| e.to_string())?;
    println!(
        "restored {} ({} bytes, {} ms; {} migration(s) applied after it)",
        copied.path.display(),
        copied.bytes,
        copied.took.as_millis(),
        applied.len()
    );
    if let Some(aside) = copied.set_aside {
        println!("the database it replaced is kept as {}", aside.display());
    }
    Ok(())
}
