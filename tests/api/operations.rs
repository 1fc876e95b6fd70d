//! Health, readiness, metrics, request ids, migrations, the OpenAPI document and docs page.

use crate::both_backends;
use crate::helpers::TestApp;
use peerpath::db::{self, Backend};

async fn health_live_and_ready_answer_200(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let live = app.get("/health/live").send().await;
    assert_eq!(live.status, 200);
    let ready = app.get("/health/ready").send().await;
    assert_eq!(ready.status, 200);
    assert_eq!(ready.body["status"], "ready");
}

async fn ready_is_503_with_retry_after_while_no_connection_can_be_had_then_200(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    assert_eq!(app.get("/health/ready").send().await.status, 200);
    // Hold every pooled connection: the next checkout times out as when the database is down.
    let pool = app.state.db.pool.clone();
    let held = actix_web::web::block(move || {
        (0..pool.max_size())
            .map(|_| pool.get().unwrap())
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    let r = app.get("/health/ready").send().await;
    r.assert_problem(503);
    assert!(r.header("retry-after").is_some());
    assert!(!r.text.to_lowercase().contains("timed out"), "{}", r.text);
    drop(held);
    assert_eq!(app.get("/health/ready").send().await.status, 200);
}

async fn request_id_is_kept_when_well_formed_and_made_otherwise(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .get("/health/live")
        .header("x-request-id", "abc-123.XYZ_7")
        .send()
        .await;
    assert_eq!(r.header("x-request-id").as_deref(), Some("abc-123.XYZ_7"));
    let r = app
        .get("/health/live")
        .header("x-request-id", "bad id with spaces")
        .send()
        .await;
    let made = r.header("x-request-id").unwrap();
    assert_ne!(made, "bad id with spaces");
    assert!(uuid::Uuid::parse_str(&made).is_ok());
    let r = app.get("/nowhere").send().await;
    assert!(
        r.header("x-request-id").is_some(),
        "errors carry the id too"
    );
}

async fn metrics_show_requests_by_route_and_status_latency_and_pool(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get("/health/ready").send().await;
    let r = app.get("/metrics").send().await;
    assert_eq!(r.status, 200);
    assert!(r.text.contains("http_requests_total"), "{}", r.text);
    assert!(r.text.contains("route=\"/health/ready\""));
    assert!(r.text.contains("status=\"200\""));
    assert!(r.text.contains("http_request_duration_seconds_bucket"));
    assert!(r.text.contains("db_pool_connections"));
}

async fn migrations_revert_all_and_reapply(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let pool = app.state.db.pool.clone();
    actix_web::web::block(move || {
        let mut conn = pool.get().unwrap();
        let status = db::migrations::status(&mut conn).unwrap();
        assert!(!status.is_empty() && status.iter().all(|(_, applied)| *applied));
        let reverted = db::migrations::revert_all(&mut conn).unwrap();
        assert_eq!(reverted.len(), status.len());
        assert!(
            db::migrations::status(&mut conn)
                .unwrap()
                .iter()
                .all(|(_, applied)| !applied)
        );
        let applied = db::migrations::run_pending(&mut conn).unwrap();
        assert_eq!(applied.len(), status.len());
    })
    .await
    .unwrap();
    // The schema works after the round trip.
    let admin = app.admin().await;
    app.create_org(&admin, "After the round trip").await;
}

async fn openapi_document_lists_every_route_with_security_and_problems(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get("/api/v1/openapi.json").send().await;
    assert_eq!(r.status, 200);
    let doc = &r.body;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    let paths = doc["paths"].as_object().unwrap();
    for path in [
        "/api/v1/auth/login",
        "/api/v1/auth/refresh",
        "/api/v1/auth/logout",
        "/api/v1/auth/password",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/organisations",
        "/api/v1/organisations/{id}",
        "/api/v1/networks",
        "/api/v1/audit-events",
        "/api/v1/auth/password-reset",
        "/api/v1/auth/set-password",
        "/api/v1/me/notification-preferences",
        "/api/v1/notifications",
        "/api/v1/notifications/{id}/retry",
        "/health/ready",
        "/metrics",
        "/api/v1/pathways/{id}/stages/{stage_id}",
        "/api/v1/workers/{id}/pathway",
        "/api/v1/progressions/{id}/approve",
        "/api/v1/salary-bands/{id}/pay-tables",
        "/api/v1/workers/{id}/salary",
        "/api/v1/pay-steps",
    ] {
        assert!(paths.contains_key(path), "{path} is missing");
    }
    let me = &doc["paths"]["/api/v1/me"]["get"];
    assert!(me["security"].is_array(), "secured endpoints say so");
    assert!(me["responses"]["401"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    assert!(doc["components"]["schemas"]["Problem"].is_object());
    // Money is whole minor units everywhere: every amount in the document is an integer.
    let mut amounts = 0;
    for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
        for (field, property) in schema["properties"].as_object().into_iter().flatten() {
            if field.ends_with("_minor") {
                amounts += 1;
                let kind = property["type"].to_string();
                assert!(
                    kind.contains("integer") && !kind.contains("number"),
                    "{name}.{field} is {kind}"
                );
            }
        }
    }
    assert!(amounts >= 5, "the pay schemas are described");
    let create = &doc["components"]["schemas"]["CreateUserRequest"];
    assert_eq!(
        create["additionalProperties"], false,
        "request schemas refuse unknown fields: {create}"
    );
}

async fn docs_page_is_served_from_the_binary(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get("/docs/").send().await;
    assert_eq!(r.status, 200);
    assert!(
        r.text.contains("swagger"),
        "{}",
        &r.text[..200.min(r.text.len())]
    );
    assert!(!r.text.contains("unpkg.com") && !r.text.contains("cdn."));
    let css = app.get("/docs/swagger-ui.css").send().await;
    assert_eq!(css.status, 200);
}

both_backends!(
    health_live_and_ready_answer_200,
    ready_is_503_with_retry_after_while_no_connection_can_be_had_then_200,
    request_id_is_kept_when_well_formed_and_made_otherwise,
    metrics_show_requests_by_route_and_status_latency_and_pool,
    migrations_revert_all_and_reapply,
    openapi_document_lists_every_route_with_security_and_problems,
    docs_page_is_served_from_the_binary,
);

/// A real outage: the test database refuses connections, then accepts them again.
#[actix_web::test]
async fn postgres_ready_is_503_during_an_outage_and_recovers_without_restart() {
    let Some(cluster) = crate::helpers::cluster() else {
        return;
    };
    // Without the email worker and scheduler, only these requests use the pool.
    let app = TestApp::spawn_with(Backend::Postgres, |s| s.email.run_worker = false).await;
    // Four connections in the pool, all checked out moments ago (so trusted without a
    // round trip until something shows they may have gone bad).
    drop((0..4).map(|_| app.conn()).collect::<Vec<_>>());
    assert_eq!(app.state.db.pool.state().idle_connections, 4);
    let crate::helpers::TestDb::Postgres(name) = &*app.db else {
        unreachable!()
    };
    use diesel::RunQueryDsl;
    let mut admin = cluster.admin();
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS false"))
        .execute(&mut admin)
        .unwrap();
    diesel::sql_query(format!(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"
    ))
    .execute(&mut admin)
    .unwrap();
    let r = app.get("/health/ready").send().await;
    r.assert_problem(503);
    assert!(r.header("retry-after").is_some());
    diesel::sql_query(format!("ALTER DATABASE {name} ALLOW_CONNECTIONS true"))
        .execute(&mut admin)
        .unwrap();
    // Every idle connection died with the outage: each is checked before use, none fails.
    for _ in 0..6 {
        assert_eq!(app.get("/health/ready").send().await.status, 200);
    }
}

/// `peerpath serve` on a fresh SQLite database in `dir`, logging JSON to a pipe: the child,
/// the pipe's lines and the port it serves on (read from its "serving" line).
fn serve_in(
    dir: &std::path::Path,
) -> (
    std::process::Child,
    std::io::Lines<std::io::BufReader<std::process::ChildStderr>>,
    u64,
) {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let mut child = Command::new(env!("CARGO_BIN_EXE_peerpath"))
        .arg("serve")
        .current_dir(std::env::temp_dir())
        .env(
            "PEERPATH_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env("PEERPATH__SERVER__PORT", "0")
        .env("PEERPATH__DATA__DIR", dir)
        .env(
            "PEERPATH__DATABASE__URL",
            format!("sqlite://{}/peerpath.db", dir.display()),
        )
        .env("PEERPATH__LOG__FORMAT", "json")
        .env("PEERPATH_LOG", "info")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let port = loop {
        let line = lines.next().expect("serve logs its port").unwrap();
        let event: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if event["fields"]["message"] == "peerpath is serving" {
            break event["fields"]["port"].as_u64().unwrap();
        }
    };
    (child, lines, port)
}

/// `peerpath serve` from nothing: creates its data folder and database, answers ready, and
/// stops cleanly on SIGTERM.
#[actix_web::test]
async fn serve_starts_from_nothing_and_stops_on_sigterm() {
    use std::process::Command;
    let dir = std::env::temp_dir().join(format!("peerpath-serve-{}", uuid::Uuid::new_v4()));
    let started = std::time::Instant::now();
    let (mut child, _logs, port) = serve_in(&dir);
    let client = awc::Client::default();
    let ready = client
        .get(format!("http://127.0.0.1:{port}/health/ready"))
        .send()
        .await
        .unwrap();
    assert_eq!(ready.status().as_u16(), 200);
    println!("serve to ready on SQLite: {:?}", started.elapsed());
    assert!(dir.join("peerpath.db").is_file());
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "graceful exit, got {exit:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Logging never stops serving: with the process's stderr gone (a log shipper that died), a
/// log line that cannot be written is dropped and counted, and every request is answered.
#[actix_web::test]
async fn a_dead_log_reader_does_not_stop_serving() {
    let dir = std::env::temp_dir().join(format!("peerpath-logs-{}", uuid::Uuid::new_v4()));
    let (mut child, lines, port) = serve_in(&dir);
    // The reader exits: every later write to the pipe fails.
    drop(lines);
    let client = awc::Client::default();
    for path in [
        "/health/live",
        "/health/ready",
        "/api/v1/me",
        "/health/live",
    ] {
        for _ in 0..5 {
            let r = client
                .get(format!("http://127.0.0.1:{port}{path}"))
                .send()
                .await
                .unwrap_or_else(|e| panic!("{path} got no answer: {e}"));
            assert!(r.status().as_u16() < 500, "{path}: {}", r.status());
        }
    }
    let mut metrics = client
        .get(format!("http://127.0.0.1:{port}/metrics"))
        .send()
        .await
        .unwrap();
    let text = String::from_utf8(metrics.body().await.unwrap().to_vec()).unwrap();
    let dropped: f64 = text
        .lines()
        .find(|l| l.starts_with("log_writes_dropped_total"))
        .and_then(|l| l.split_whitespace().last())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    assert!(dropped >= 20.0, "the dropped lines are counted: {dropped}");
    let _ = child.kill();
    let _ = child.wait();
    let _ = std::fs::remove_dir_all(&dir);
}

/// Several instances starting at once on a fresh PostgreSQL database take turns migrating.
#[actix_web::test]
async fn postgres_instances_starting_together_migrate_once() {
    if !crate::helpers::postgres_available() {
        return;
    }
    let db = std::sync::Arc::new(crate::helpers::TestDb::new(Backend::Postgres));
    let (a, b, c) = futures_util::future::join3(
        TestApp::spawn_on(db.clone(), |_| {}),
        TestApp::spawn_on(db.clone(), |_| {}),
        TestApp::spawn_on(db.clone(), |_| {}),
    )
    .await;
    for app in [&a, &b, &c] {
        assert_eq!(app.get("/health/ready").send().await.status, 200);
    }
}

/// `peerpath worker` delivers email on its own and stops cleanly on SIGTERM.
#[actix_web::test]
async fn worker_command_delivers_and_stops_on_sigterm() {
    use std::process::{Command, Stdio};
    let smtp = crate::smtp::SmtpServer::start();
    // An app that queues but does not deliver: the worker process must do it.
    let app = TestApp::spawn_with(Backend::Sqlite, |s| s.email.run_worker = false).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let r = app
        .post("/api/v1/users")
        .token(&manager.access)
        .json(
            serde_json::json!({"email": "by-worker@example.org", "display_name": "W",
            "role": "peer_worker", "organisation_id": org}),
        )
        .send()
        .await;
    assert_eq!(r.status, 201);
    let mut child = Command::new(env!("CARGO_BIN_EXE_peerpath"))
        .arg("worker")
        .env("PEERPATH_ENV", "test")
        .env(
            "PEERPATH_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env("PEERPATH__DATABASE__URL", app.db.url())
        .env("PEERPATH__DATA__DIR", app.db.data_dir())
        .env("PEERPATH__EMAIL__TRANSPORT", "smtp")
        .env("PEERPATH__EMAIL__SMTP_HOST", "127.0.0.1")
        .env("PEERPATH__EMAIL__SMTP_PORT", smtp.port.to_string())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mail = smtp.wait_for(1, std::time::Duration::from_secs(30)).await;
    assert_eq!(mail.len(), 1);
    assert!(mail[0].to[0].contains("by-worker@example.org"));
    let status = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "graceful exit");
}

/// Two Rust types of one name would publish one schema for both (the second overwriting the
/// first), so clients generated from the document would get the wrong values. Every type the
/// document draws on has a schema name of its own, and the enums that once collided publish
/// their own values.
#[test]
fn every_schema_has_a_name_of_its_own() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut stack = vec![root];
    let mut names: std::collections::HashMap<String, String> = Default::default();
    let mut seen = 0;
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let text = std::fs::read_to_string(&path).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, line) in lines.iter().enumerate() {
                if !(line.trim_start().starts_with("#[derive(") && line.contains("ToSchema")) {
                    continue;
                }
                // The attributes up to the item, then the item's name.
                let mut alias = None;
                for next in &lines[i + 1..] {
                    let t = next.trim_start();
                    if let Some(rest) = t.strip_prefix("#[schema(as = ") {
                        alias = rest.split(')').next().map(str::to_string);
                    }
                    if let Some(item) = t
                        .strip_prefix("pub struct ")
                        .or_else(|| t.strip_prefix("pub enum "))
                    {
                        let name: String = item
                            .chars()
                            .take_while(|c| c.is_alphanumeric() || *c == '_')
                            .collect();
                        let schema = alias.clone().unwrap_or(name);
                        let place = path.display().to_string();
                        seen += 1;
                        if let Some(other) = names.insert(schema.clone(), place.clone()) {
                            panic!("two schemas named {schema}: {other} and {place}");
                        }
                        break;
                    }
                }
            }
        }
    }
    assert!(seen > 100, "the source tree was read ({seen} schemas)");
    let doc = serde_json::to_value(peerpath::app::openapi_document()).unwrap();
    let values = |schema: &str| doc["components"]["schemas"][schema]["enum"].to_string();
    assert!(values("ProgressionStatus").contains("withdrawn"));
    assert!(values("NotificationStatus").contains("held"));
    assert!(values("ModuleCategory").contains("hcv_clinical"));
    assert!(values("PauseCategory").contains("return_to_work"));
}

/// A database out of space (a real SQLite file grown past its configured cap by another
/// connection): writes and logins answer 507 with Retry-After and store nothing, readiness
/// says so, reads go on, and writes resume without a restart once space is freed.
#[actix_web::test]
async fn a_full_sqlite_database_answers_507_and_recovers_when_space_returns() {
    use diesel::{Connection, SqliteConnection, connection::SimpleConnection};
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.database.sqlite_max_size_mb = 2;
        s.email.run_worker = false;
    })
    .await;
    let admin = app.admin().await;
    let crate::helpers::TestDb::Sqlite(dir) = &*app.db else {
        unreachable!()
    };
    let mut filler =
        SqliteConnection::establish(&dir.join("peerpath.db").to_string_lossy()).unwrap();
    filler
        .batch_execute(
            "PRAGMA busy_timeout = 5000; CREATE TABLE filler (b BLOB);
             INSERT INTO filler VALUES (zeroblob(3 * 1024 * 1024));",
        )
        .unwrap();

    // Pages left free in the tables' last pages take a few writes before the cap bites.
    let mut refused = None;
    for n in 0..400 {
        let r = app
            .post("/api/v1/organisations")
            .token(&admin.access)
            .json(serde_json::json!({"name": format!("Full {n} {}", "x".repeat(150))}))
            .send()
            .await;
        if r.status != 201 {
            refused = Some((n, r));
            break;
        }
    }
    let (n, r) = refused.expect("a write is refused before 400 organisations");
    r.assert_problem(507);
    assert_eq!(r.body["type"], "/docs/problems#storage-full");
    assert_eq!(r.header("retry-after").as_deref(), Some("60"));
    assert!(
        !r.text.contains("disk is full"),
        "no database text: {}",
        r.text
    );
    let listed = app
        .get("/api/v1/organisations?limit=200")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(listed.status, 200, "reads go on: {}", listed.text);
    assert!(
        !listed.text.contains(&format!("Full {n} ")),
        "the refused organisation was not stored"
    );
    // A login writes its session: refused the same way (once the sessions table's last
    // page is full too), never a 500.
    let mut login = app.login(&admin.email, crate::helpers::PASSWORD).await;
    for _ in 0..100 {
        if login.status != 200 {
            break;
        }
        login = app.login(&admin.email, crate::helpers::PASSWORD).await;
    }
    login.assert_problem(507);
    let ready = app.get("/health/ready").send().await;
    ready.assert_problem(503);
    assert!(ready.header("retry-after").is_some());
    assert!(ready.body["detail"].as_str().unwrap().contains("storage"));
    let metrics = app.get("/metrics").send().await;
    assert!(
        metrics.text.contains("db_storage_full_total"),
        "{}",
        metrics.text
    );

    // Space returns (the filler's pages go to the free list): writes resume at once.
    filler.batch_execute("DELETE FROM filler").unwrap();
    let r = app
        .post("/api/v1/organisations")
        .token(&admin.access)
        .json(serde_json::json!({"name": "Space again"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(app.get("/health/ready").send().await.status, 200);
    assert_eq!(
        app.login(&admin.email, crate::helpers::PASSWORD)
            .await
            .status,
        200
    );
}
