//! Assembling the service: settings in, a bound server out.

use std::fs::OpenOptions;
use std::io::Write;
use std::net::TcpListener;
use std::os::unix::fs::OpenOptionsExt;
use std::sync::Arc;
use std::time::Duration;

use actix_web::dev::Server;
use actix_web::middleware::from_fn;
use actix_web::web::Data;
use actix_web::{App, HttpServer, web};
use tokio::sync::watch;
use utoipa_actix_web::AppExt;
use utoipa_swagger_ui::{Config, SwaggerUi};

use crate::config::{Environment, Settings};
use crate::db::{self, Database};
use crate::http::{self, RouteTable};
use crate::identity::{Identity, tokens};
use crate::notifications::Notifications;
use crate::notifications::delivery::{self, Transport};
use crate::scheduler;
use crate::state::AppState;
use crate::telemetry;

const DEV_KEY_FILE: &str = "jwt-signing.key";

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct StartError(pub String);

impl From<String> for StartError {
    fn from(s: String) -> Self {
        Self(s)
    }
}

/// The signing key: from settings, or in development a key generated once into the data
/// folder (mode 0600). Production settings were refused earlier without a good key.
pub fn signing_key(settings: &Settings) -> Result<Vec<u8>, StartError> {
    if !settings.auth.jwt_secret.is_empty() {
        return Ok(settings.auth.jwt_secret.expose().as_bytes().to_vec());
    }
    if settings.env == Environment::Production {
        return Err(StartError(
            "auth.jwt_secret is required in production".into(),
        ));
    }
    let path = settings.data.dir.join(DEV_KEY_FILE);
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let key = existing.trim();
        if key.len() >= crate::config::MIN_KEY_BYTES {
            return Ok(key.as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(&settings.data.dir).map_err(|e| {
        StartError(format!(
            "cannot create {}: {e}",
            settings.data.dir.display()
        ))
    })?;
    let key = tokens::random_key()?;
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)
        .map_err(|e| StartError(format!("cannot write {}: {e}", path.display())))?;
    file.write_all(key.as_bytes())
        .map_err(|e| StartError(format!("cannot write {}: {e}", path.display())))?;
    tracing::warn!(
        path = %path.display(),
        "no auth.jwt_secret configured: generated a development signing key; \
         set PEERPATH__AUTH__JWT_SECRET in production"
    );
    Ok(key.into_bytes())
}

/// Applies pending migrations; the service does not start on an unmigrated database.
pub async fn migrate(database: &Database) -> Result<Vec<String>, StartError> {
    let pool = database.pool.clone();
    web::block(move || -> Result<Vec<String>, String> {
        let mut conn = pool
            .get()
            .map_err(|e| format!("cannot reach the database: {e}"))?;
        db::migrations::run_pending(&mut conn).map_err(|e| format!("migrations failed: {e}"))
    })
    .await
    .map_err(|e| StartError(e.to_string()))?
    .map_err(StartError)
}

/// The email delivery worker and the scheduler, running beside the HTTP server (or alone,
/// in `peerpath worker`).
pub struct Background {
    stop: watch::Sender<bool>,
    tasks: Vec<actix_web::rt::task::JoinHandle<()>>,
}

impl Background {
    pub fn start(
        settings: &Settings,
        db: &Database,
        notifications: &Arc<Notifications>,
    ) -> Result<Self, StartError> {
        let transport = Arc::new(Transport::from_settings(settings)?);
        let (stop, stopped) = watch::channel(false);
        let tasks = vec![
            actix_web::rt::spawn(delivery::run(
                db.clone(),
                notifications.clone(),
                transport,
                stopped.clone(),
            )),
            actix_web::rt::spawn(scheduler::run(
                db.clone(),
                notifications.clone(),
                settings.scheduler.clone(),
                stopped,
            )),
        ];
        Ok(Self { stop, tasks })
    }

    /// Asks both to stop without waiting.
    pub fn request_stop(&self) {
        let _ = self.stop.send(true);
    }

    /// Asks both to stop and waits: the send in hand finishes, nothing new is claimed.
    pub async fn stop(self) {
        self.request_stop();
        for task in self.tasks {
            let _ = task.await;
        }
    }
}

/// A bound, migrated, ready-to-run service.
pub struct Application {
    port: u16,
    server: Server,
    pub state: Data<AppState>,
    background: Option<Background>,
}

impl Application {
    pub async fn build(settings: Settings) -> Result<Self, StartError> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))
            .map_err(|e| {
                StartError(format!(
                    "cannot listen on {}:{}: {e}",
                    settings.server.host, settings.server.port
                ))
            })?;
        Self::build_on(settings, listener).await
    }

    pub async fn build_on(settings: Settings, listener: TcpListener) -> Result<Self, StartError> {
        // Installed before the first request so no early measurement is lost.
        telemetry::metrics_handle();
        http::web::render::check()?;
        let database = Database::connect(&settings.database)?;
        migrate(&database).await?;
        let key = signing_key(&settings)?;
        let identity = Identity::new(&settings.auth, &key)?;
        let notifications = Notifications::new(&settings)?;
        let sealing_keys = Arc::new(crate::crypto::Keyring::from_settings(&settings)?);
        let port = listener
            .local_addr()
            .map_err(|e| StartError(e.to_string()))?
            .port();
        let background = if settings.email.run_worker {
            Some(Background::start(&settings, &database, &notifications)?)
        } else {
            None
        };
        let state = Data::new(AppState {
            db: database,
            identity,
            notifications,
            settings: Arc::new(settings),
            sealing_keys,
        });
        let server = serve(state.clone(), listener)?;
        actix_web::rt::spawn(crate::memory::release_periodically());
        Ok(Self {
            port,
            server,
            state,
            background,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Runs until SIGTERM or SIGINT, then finishes requests in flight (up to the
    /// configured shutdown timeout).
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        let served = self.server.await;
        if let Some(background) = self.background {
            background.stop().await;
        }
        served
    }

    /// The server and the background work, for callers that run them themselves (tests).
    pub fn into_parts(self) -> (Server, Option<Background>) {
        (self.server, self.background)
    }
}

fn serve(state: Data<AppState>, listener: TcpListener) -> Result<Server, StartError> {
    let settings = state.settings.clone();
    let document = openapi_document();
    let route_table = Data::new(RouteTable::from_document(&document));
    // Serialised once and shared: the document as utoipa values is several MiB, and a copy
    // per worker (and per factory clone) was most of the idle memory.
    let document = Data::new(http::api::openapi::Document::serialise(&document)?);
    let mut server = HttpServer::new(move || {
        // The document is served before the API scope, which claims every path under it.
        let (app, _) = App::new()
            .route(
                "/docs/problems",
                web::get().to(http::api::health::problem_types),
            )
            .service(
                web::resource(http::OPENAPI_PATH)
                    .app_data(document.clone())
                    .get(http::api::openapi::serve_document),
            )
            .service(SwaggerUi::new("/docs/{_:.*}").config(Config::new([http::OPENAPI_PATH])))
            .service(web::redirect("/docs", "/docs/"))
            .configure(http::web::routes)
            .into_utoipa_app()
            .app_data(state.clone())
            .app_data(route_table.clone())
            .app_data(http::path_config())
            .configure(http::routes)
            .split_for_parts();
        app.default_service(web::to(http::fallback))
            .wrap(from_fn(http::idempotent::idempotent))
            .wrap(from_fn(telemetry::observe))
    })
    .shutdown_timeout(settings.server.shutdown_timeout_secs)
    .worker_max_blocking_threads(settings.server.blocking_threads_per_worker)
    .client_request_timeout(Duration::from_secs(30));
    if settings.server.workers > 0 {
        server = server.workers(settings.server.workers);
    }
    let server = server
        .listen(listener)
        .map_err(|e| StartError(format!("cannot serve: {e}")))?
        .run();
    Ok(server)
}

/// The OpenAPI document as served at /api/v1/openapi.json.
pub fn openapi_document() -> utoipa::openapi::OpenApi {
    let (_, mut api) = App::new()
        .into_utoipa_app()
        .openapi(http::base_document())
        .configure(http::routes)
        .split_for_parts();
    http::add_common_responses(&mut api);
    api
}
