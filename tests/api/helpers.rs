//! The test harness: the real app on a random port, a fresh database per test (an SQLite
//! file, or a database in a throwaway PostgreSQL cluster started once per run), and typed
//! helpers for the API.

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::Duration;

use actix_web::http::Method;
use actix_web::web::Data;
use awc::http::header::HeaderMap;
use diesel::{Connection, ExpressionMethods, PgConnection, QueryDsl, RunQueryDsl};
use peerpath::app::Application;
use peerpath::config::{Environment, Secret, Settings};
use peerpath::db::Backend;
use peerpath::identity::{passwords::PasswordHasher, users};
use peerpath::state::AppState;
use serde_json::{Value, json};

pub const TEST_KEY: &str = "test-signing-key-0123456789-abcdefghijklmnopqrstuvwxyz";
pub const PASSWORD: &str = "correct-horse-battery-staple";

// ---------------------------------------------------------------- PostgreSQL cluster

pub struct Cluster {
    port: u16,
}

impl Cluster {
    fn admin_url(&self) -> String {
        format!("postgres://peerpath@127.0.0.1:{}/postgres", self.port)
    }
    pub fn url(&self, db: &str) -> String {
        format!("postgres://peerpath@127.0.0.1:{}/{db}", self.port)
    }
    pub fn admin(&self) -> PgConnection {
        PgConnection::establish(&self.admin_url()).expect("connect to the test cluster")
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH")
        .is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(program).is_file()))
}

fn is_root() -> bool {
    euid() == 0
}

fn euid() -> u32 {
    Command::new("id")
        .arg("-u")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1)
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A command run as the `postgres` user when we are root (initdb refuses root).
fn as_cluster_owner(program: &str) -> Command {
    if is_root() {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--", program]);
        c
    } else {
        Command::new(program)
    }
}

fn start_cluster() -> Option<Cluster> {
    let required = std::env::var("PEERPATH_REQUIRE_POSTGRES").is_ok_and(|v| v == "1");
    if !on_path("initdb") || !on_path("postgres") {
        assert!(
            !required,
            "PEERPATH_REQUIRE_POSTGRES=1 but initdb/postgres are not on PATH"
        );
        // Written past the test harness's capture so that the skip is seen.
        use std::io::Write;
        let _ = writeln!(
            std::io::stderr().lock(),
            "\n*** SKIPPING the PostgreSQL half of the suite: initdb/postgres are not on PATH \
             (set PEERPATH_REQUIRE_POSTGRES=1 to fail instead) ***\n"
        );
        return None;
    }
    let dir = std::env::temp_dir().join(format!("peerpath-pg-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("cluster dir");
    if is_root() {
        let status = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .expect("chown");
        assert!(status.success(), "chown of the cluster dir failed");
    }
    let data = dir.join("data");
    let out = as_cluster_owner("initdb")
        .args([
            "-U",
            "peerpath",
            "--auth=trust",
            "-E",
            "UTF8",
            "--no-sync",
            "-D",
        ])
        .arg(&data)
        .output()
        .expect("run initdb");
    assert!(
        out.status.success(),
        "initdb failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let port = free_port();
    // The cluster stops and its folder goes when this test process ends, however it ends.
    let script = format!(
        "postgres -D '{data}' -p {port} -k '{dir}' -c listen_addresses=127.0.0.1 \
         -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
         -c max_connections=400 >'{dir}/log' 2>&1 & pg=$!; \
         while [ -d /proc/{pid} ]; do sleep 0.5; done; \
         kill -INT $pg; wait $pg; rm -rf '{dir}'",
        data = data.display(),
        dir = dir.display(),
        pid = std::process::id(),
    );
    // Detached on purpose: the watchdog outlives this process to stop the cluster after it.
    #[allow(clippy::zombie_processes)]
    as_cluster_owner("sh")
        .args(["-c", &script])
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start postgres");
    let cluster = Cluster { port };
    for _ in 0..200 {
        if PgConnection::establish(&cluster.admin_url()).is_ok() {
            return Some(cluster);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let log = std::fs::read_to_string(dir.join("log")).unwrap_or_default();
    panic!("the test PostgreSQL cluster did not start: {log}");
}

pub fn cluster() -> Option<&'static Cluster> {
    static CLUSTER: OnceLock<Option<Cluster>> = OnceLock::new();
    CLUSTER.get_or_init(start_cluster).as_ref()
}

/// Whether the PostgreSQL half runs (it fails instead of skipping when required).
pub fn postgres_available() -> bool {
    cluster().is_some()
}

// ---------------------------------------------------------------- the app

/// One test's database; removed when the test ends.
pub enum TestDb {
    Sqlite(PathBuf),
    Postgres(String),
}

impl TestDb {
    pub fn new(backend: Backend) -> Self {
        let name = format!("t_{}", uuid::Uuid::new_v4().simple());
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("peerpath-test-{name}"));
                std::fs::create_dir_all(&dir).expect("test dir");
                Self::Sqlite(dir)
            }
            Backend::Postgres => {
                let cluster = cluster().expect("PostgreSQL cluster");
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut cluster.admin())
                    .expect("create the test database");
                Self::Postgres(name)
            }
        }
    }

    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(dir) => format!("sqlite://{}", dir.join("peerpath.db").display()),
            Self::Postgres(name) => cluster().expect("cluster").url(name),
        }
    }

    pub fn data_dir(&self) -> PathBuf {
        match self {
            Self::Sqlite(dir) => dir.clone(),
            Self::Postgres(name) => std::env::temp_dir().join(format!("peerpath-test-{name}")),
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.data_dir());
        if let Self::Postgres(name) = self
            && let Some(cluster) = cluster()
        {
            let _ = diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut cluster.admin());
        }
    }
}

pub fn test_settings(db: &TestDb) -> Settings {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut s = Settings::load_without_env_vars(Environment::Test, &dir).expect("settings");
    s.server.host = "127.0.0.1".into();
    s.server.port = 0;
    s.server.workers = 2;
    s.server.shutdown_timeout_secs = 1;
    s.database.url = Secret::new(db.url());
    s.database.pool_size = 4;
    s.database.checkout_timeout_ms = 1000;
    s.data.dir = db.data_dir();
    s.auth.jwt_secret = Secret::new(TEST_KEY);
    // Cheap hashing keeps the suite fast; the flood test sets the real parameters.
    s.auth.argon2_memory_kib = 1024;
    s.auth.argon2_iterations = 1;
    // Signing in is one step unless a test asks for two (tests/api/mfa.rs turns the
    // requirement on, as the deployment's defaults have it).
    s.auth.mfa_required_roles = vec![];
    // Email goes to files unless a test points it at its SMTP server.
    s.email.transport = peerpath::config::EmailTransport::File;
    s.email.poll_interval_ms = 100;
    s.email.backoff_base_secs = 1;
    s.email.backoff_max_secs = 2;
    s.email.timeout_secs = 2;
    s.email.lease_secs = 30;
    s.scheduler.tick_secs = 3600;
    s
}

pub struct TestApp {
    pub address: String,
    pub state: Data<AppState>,
    pub client: awc::Client,
    handle: actix_web::dev::ServerHandle,
    background: Option<peerpath::app::Background>,
    pub db: std::sync::Arc<TestDb>,
}

impl Drop for TestApp {
    fn drop(&mut self) {
        crate::contract::record_count();
        if let Some(background) = &self.background {
            background.request_stop();
        }
        drop(self.handle.stop(false));
    }
}

/// A response, read whole.
#[derive(Debug)]
pub struct Resp {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    pub fn header(&self, name: &str) -> Option<String> {
        self.headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    }
    pub fn id(&self) -> String {
        self.body["id"].as_str().expect("an id").to_string()
    }
    #[track_caller]
    pub fn assert_problem(&self, status: u16) -> &Self {
        assert_eq!(self.status, status, "body: {}", self.text);
        assert_eq!(
            self.header("content-type").as_deref(),
            Some("application/problem+json"),
            "{}",
            self.text
        );
        assert_eq!(self.body["status"], status);
        assert!(self.body["title"].is_string() && self.body["detail"].is_string());
        assert!(self.body["type"].is_string());
        self
    }
}

/// A request under construction.
pub struct Req<'a> {
    app: &'a TestApp,
    method: Method,
    path: String,
    headers: Vec<(String, String)>,
    body: Option<Vec<u8>>,
}

impl Req<'_> {
    pub fn token(mut self, token: &str) -> Self {
        self.headers
            .push(("authorization".into(), format!("Bearer {token}")));
        self
    }
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
    pub fn json(mut self, body: Value) -> Self {
        self.headers
            .push(("content-type".into(), "application/json".into()));
        self.body = Some(serde_json::to_vec(&body).expect("json"));
        self
    }
    pub fn raw(mut self, content_type: &str, body: impl Into<Vec<u8>>) -> Self {
        self.headers
            .push(("content-type".into(), content_type.into()));
        self.body = Some(body.into());
        self
    }
    pub async fn send(self) -> Resp {
        let url = format!("{}{}", self.app.address, self.path);
        let mut request = self.app.client.request(self.method.clone(), url);
        for (name, value) in &self.headers {
            request = request.insert_header((name.as_str(), value.as_str()));
        }
        let mut response = match self.body {
            Some(body) => request.send_body(body).await,
            None => request.send().await,
        }
        .expect("the request reaches the app");
        let bytes = response
            .body()
            .limit(16 * 1024 * 1024)
            .await
            .expect("a body");
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let content_type = response
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok());
        if let Err(mismatch) = crate::contract::check(
            self.method.as_str(),
            &self.path,
            response.status().as_u16(),
            content_type,
            &bytes,
        ) {
            panic!("the response does not match the OpenAPI document: {mismatch}");
        }
        Resp {
            status: response.status().as_u16(),
            headers: response.headers().clone(),
            body: serde_json::from_slice(&bytes).unwrap_or(Value::Null),
            text,
        }
    }
}

/// A logged-in user.
#[derive(Clone, Debug)]
pub struct Session {
    pub user_id: String,
    pub email: String,
    pub access: String,
    pub refresh: String,
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::spawn_with(backend, |_| {}).await
    }

    pub async fn spawn_with(backend: Backend, tweak: impl FnOnce(&mut Settings)) -> Self {
        let db = std::sync::Arc::new(TestDb::new(backend));
        Self::spawn_on(db, tweak).await
    }

    /// Another app on the same database (for restarts with other settings).
    pub async fn spawn_on(db: std::sync::Arc<TestDb>, tweak: impl FnOnce(&mut Settings)) -> Self {
        let mut settings = test_settings(&db);
        tweak(&mut settings);
        if std::env::var_os("PEERPATH_TEST_LOG").is_some() {
            peerpath::telemetry::init(&settings.log);
        }
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let app = Application::build_on(settings, listener)
            .await
            .expect("the app starts");
        let port = app.port();
        let state = app.state.clone();
        let (server, background) = app.into_parts();
        let handle = server.handle();
        actix_web::rt::spawn(server);
        // Redirects are answers to check, not to follow.
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(120))
            .disable_redirects()
            .finish();
        Self {
            address: format!("http://127.0.0.1:{port}"),
            state,
            client,
            handle,
            background,
            db,
        }
    }

    pub fn req(&self, method: Method, path: &str) -> Req<'_> {
        Req {
            app: self,
            method,
            path: path.to_string(),
            headers: vec![],
            body: None,
        }
    }
    pub fn get(&self, path: &str) -> Req<'_> {
        self.req(Method::GET, path)
    }
    pub fn post(&self, path: &str) -> Req<'_> {
        self.req(Method::POST, path)
    }
    pub fn patch(&self, path: &str) -> Req<'_> {
        self.req(Method::PATCH, path)
    }
    pub fn put(&self, path: &str) -> Req<'_> {
        self.req(Method::PUT, path)
    }
    pub fn delete(&self, path: &str) -> Req<'_> {
        self.req(Method::DELETE, path)
    }

    pub async fn login(&self, email: &str, password: &str) -> Resp {
        self.post("/api/v1/auth/login")
            .json(json!({"email": email, "password": password}))
            .send()
            .await
    }

    pub async fn session(&self, email: &str, password: &str) -> Session {
        let r = self.login(email, password).await;
        assert_eq!(r.status, 200, "login of {email}: {}", r.text);
        let me = self
            .get("/api/v1/me")
            .token(r.body["access_token"].as_str().expect("access"))
            .send()
            .await;
        Session {
            user_id: me.id(),
            email: email.to_string(),
            access: r.body["access_token"].as_str().expect("access").into(),
            refresh: r.body["refresh_token"].as_str().expect("refresh").into(),
        }
    }

    /// The first admin, made the way `peerpath create-admin` makes it, then logged in.
    pub async fn admin(&self) -> Session {
        let email = format!("admin-{}@example.org", uuid::Uuid::new_v4().simple());
        let hasher = PasswordHasher::new(&self.state.settings.auth).expect("hasher");
        users::create_admin(
            &hasher,
            &self.state.db,
            &email,
            "Admin",
            Secret::new(PASSWORD),
        )
        .await
        .expect("create admin");
        self.session(&email, PASSWORD).await
    }

    pub async fn create_org(&self, admin: &Session, name: &str) -> String {
        let r = self
            .post("/api/v1/organisations")
            .token(&admin.access)
            .json(json!({"name": name}))
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.id()
    }

    /// Creates a user with the standard password and logs them in.
    pub async fn user(&self, creator: &Session, role: &str, org: Option<&str>) -> Session {
        let email = format!("{role}-{}@example.org", uuid::Uuid::new_v4().simple());
        let mut body = json!({"email": email, "display_name": format!("A {role}"),
            "role": role, "password": PASSWORD});
        if let Some(org) = org {
            body["organisation_id"] = json!(org);
        }
        let r = self
            .post("/api/v1/users")
            .token(&creator.access)
            .json(body)
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        self.session(&email, PASSWORD).await
    }

    /// An admin, an organisation and its programme manager.
    pub async fn org_with_manager(&self, admin: &Session) -> (String, Session) {
        let org = self
            .create_org(admin, &format!("Org {}", uuid::Uuid::new_v4().simple()))
            .await;
        let manager = self.user(admin, "programme_manager", Some(&org)).await;
        (org, manager)
    }

    /// Emails of a kind in the outbox, whatever their state.
    pub fn emails_of_kind(&self, kind: &str) -> i64 {
        use peerpath::db::schema::notifications;
        notifications::table
            .filter(notifications::kind.eq(kind))
            .count()
            .get_result(&mut *self.conn())
            .expect("count emails")
    }

    /// Emails of a kind about one person (their id is in the email's dedupe key).
    pub fn emails_about(&self, kind: &str, user_id: &str) -> i64 {
        use peerpath::db::schema::notifications;
        notifications::table
            .filter(notifications::kind.eq(kind))
            .filter(diesel::TextExpressionMethods::like(
                notifications::dedupe_key,
                format!("%{user_id}%"),
            ))
            .count()
            .get_result(&mut *self.conn())
            .expect("count emails")
    }

    pub fn conn(&self) -> peerpath::db::PooledConn {
        self.state.db.pool.get().expect("a connection")
    }
}

/// The `peerpath` binary in an environment, reading this repository's config folder.
pub fn cli(env: &str) -> std::process::Command {
    let mut command = std::process::Command::new(env!("CARGO_BIN_EXE_peerpath"));
    command.env("PEERPATH_ENV", env).env(
        "PEERPATH_CONFIG_DIR",
        concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
    );
    command
}

/// Generates each listed test twice: `sqlite::name` and `postgres::name`. Each test is an
/// `async fn name(backend: Backend)`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[actix_web::test]
                async fn $name() {
                    super::$name(peerpath::db::Backend::Sqlite).await
                }
            )*
        }
        mod postgres {
            $(
                #[actix_web::test]
                async fn $name() {
                    if !$crate::helpers::postgres_available() {
                        return;
                    }
                    super::$name(peerpath::db::Backend::Postgres).await
                }
            )*
        }
    };
}
