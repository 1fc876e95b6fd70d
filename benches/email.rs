//! Email delivery benchmark: throughput of the delivery worker against a local SMTP server,
//! and the time from a committed change to the email's arrival.
//!
//! `cargo bench --bench email` (SQLite in a temporary folder), or with
//! `PEERPATH_BENCH_DATABASE_URL=postgres://...` for PostgreSQL (an empty database).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

#[path = "../tests/api/smtp.rs"]
#[allow(dead_code)]
mod smtp;

use std::net::TcpListener;
use std::time::{Duration, Instant};

use peerpath::app::{Application, Background};
use peerpath::config::{EmailTransport, Environment, Secret, Settings};
use peerpath::notifications::{Email, Kind, recipient_for_user};
use serde_json::json;

const EMAILS: usize = 2000;
const LATENCY_SAMPLES: usize = 100;

fn settings(url: &str, dir: &std::path::Path, smtp_port: u16) -> Settings {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut s = Settings::load_without_env_vars(Environment::Test, &config).unwrap();
    s.server.port = 0;
    s.database.url = Secret::new(url);
    s.data.dir = dir.to_path_buf();
    s.auth.jwt_secret = Secret::new("bench-signing-key-0123456789-abcdefghijklmnop");
    s.email.transport = EmailTransport::Smtp;
    s.email.smtp_host = "127.0.0.1".into();
    s.email.smtp_port = smtp_port;
    s.email.run_worker = false;
    s.scheduler.tick_secs = 3600;
    s
}

async fn enqueue(app: &Application, user: &str, from: usize, to: usize) {
    let mailer = app.state.notifications.clone();
    let user = user.to_string();
    app.state
        .db
        .write(move |conn| {
            let recipient = recipient_for_user(conn, &user)?;
            for i in from..to {
                mailer.enqueue(
                    conn,
                    Email {
                        kind: Kind::PasswordChanged,
                        recipient: recipient.clone(),
                        dedupe_key: format!("bench-{i}"),
                        values: json!({"when": format!("moment {i}"), "link": "http://x"}),
                    },
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let dir = std::env::temp_dir().join(format!("peerpath-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = std::env::var("PEERPATH_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.display()));
        let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
        let sink = smtp::SmtpServer::start();
        let s = settings(&url, &dir, sink.port);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let app = Application::build_on(s.clone(), listener).await.unwrap();
        let hasher = peerpath::identity::passwords::PasswordHasher::new(&s.auth).unwrap();
        let user = peerpath::identity::users::create_admin(
            &hasher,
            &app.state.db,
            &format!("bench-{}@example.org", uuid::Uuid::new_v4().simple()),
            "Bench",
            Secret::new("bench-password-long-enough"),
        )
        .await
        .unwrap();
        let user = user.id.to_string();

        // Throughput: a backlog of EMAILS, then one worker drains it.
        enqueue(&app, &user, 0, EMAILS).await;
        let started = Instant::now();
        let worker = Background::start(&s, &app.state.db, &app.state.notifications).unwrap();
        let got = sink.wait_for(EMAILS, Duration::from_secs(600)).await.len();
        let elapsed = started.elapsed();
        assert_eq!(got, EMAILS);
        println!(
            "{backend}: delivered {EMAILS} emails in {:.2} s: {:.0} emails/s (one worker, batch {})",
            elapsed.as_secs_f64(),
            EMAILS as f64 / elapsed.as_secs_f64(),
            s.email.batch_size
        );

        // Commit to delivery: one email at a time, the worker woken after each commit.
        let mut samples = vec![];
        for i in 0..LATENCY_SAMPLES {
            let before = sink.received().len();
            let t = Instant::now();
            enqueue(&app, &user, EMAILS + i, EMAILS + i + 1).await;
            app.state.notifications.wake();
            sink.wait_for(before + 1, Duration::from_secs(30)).await;
            samples.push(t.elapsed());
        }
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{backend}: commit to delivery over {LATENCY_SAMPLES} emails: p50 {:.1} ms, p95 {:.1} ms, max {:.1} ms",
            ms(samples[LATENCY_SAMPLES / 2]),
            ms(samples[LATENCY_SAMPLES * 95 / 100]),
            ms(samples[LATENCY_SAMPLES - 1])
        );
        worker.stop().await;
        let _ = std::fs::remove_dir_all(&dir);
    });
}
