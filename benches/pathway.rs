//! Pathway summary benchmark: `GET /api/v1/workers/{id}/pathway` over HTTP on the demo data
//! (`seed-demo`), one request at a time for latency, then 8 at once for throughput, with the
//! queries each summary runs (from `Server-Timing`).
//!
//! `cargo bench --bench pathway` (SQLite in a temporary folder), or with
//! `PEERPATH_BENCH_DATABASE_URL=postgres://...` for PostgreSQL (an empty database).
#![allow(clippy::unwrap_used, clippy::print_stdout)]

use std::net::TcpListener;
use std::time::{Duration, Instant};

use peerpath::app::Application;
use peerpath::config::{Environment, Secret, Settings};
use serde_json::{Value, json};

const SEQUENTIAL: usize = 2000;
const CONCURRENT: usize = 8;
const PER_TASK: usize = 500;
const PASSWORD: &str = "bench-password-long-enough";

fn settings(url: &str, dir: &std::path::Path) -> Settings {
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut s = Settings::load_without_env_vars(Environment::Test, &config).unwrap();
    s.server.port = 0;
    s.database.url = Secret::new(url);
    s.data.dir = dir.to_path_buf();
    s.auth.jwt_secret = Secret::new("bench-signing-key-0123456789-abcdefghijklmnop");
    s.email.run_worker = false;
    s.scheduler.tick_secs = 3600;
    s.log.server_timing = true;
    s
}

fn queries(response: &awc::ClientResponse<impl futures_util::Stream>) -> u64 {
    let timing = response
        .headers()
        .get("server-timing")
        .unwrap()
        .to_str()
        .unwrap();
    let desc = timing.split("desc=\"").nth(1).unwrap();
    desc.split(' ').next().unwrap().parse().unwrap()
}

fn main() {
    actix_web::rt::System::new().block_on(async {
        let dir = std::env::temp_dir().join(format!("peerpath-bench-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        let url = std::env::var("PEERPATH_BENCH_DATABASE_URL")
            .unwrap_or_else(|_| format!("sqlite://{}/bench.db", dir.display()));
        let backend = if url.starts_with("postgres") { "postgres" } else { "sqlite" };
        let s = settings(&url, &dir);
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let app = Application::build_on(s, listener).await.unwrap();
        let port = app.port();
        let state = app.state.clone();
        peerpath::demo::seed(
            &state.db,
            &state.identity,
            &state.notifications,
            &state.sealing_keys,
            Some(PASSWORD.into()),
        )
        .await
        .unwrap();
        let (server, _background) = app.into_parts();
        actix_web::rt::spawn(server);

        let base = format!("http://127.0.0.1:{port}/api/v1");
        let client = awc::Client::builder()
            .timeout(Duration::from_secs(30))
            .finish();
        let mut login = client
            .post(format!("{base}/auth/login"))
            .send_json(&json!({"email": format!("priya.manager@{}", peerpath::demo::DEMO_DOMAIN),
                "password": PASSWORD}))
            .await
            .unwrap();
        let token: Value = login.json().await.unwrap();
        let bearer = format!("Bearer {}", token["access_token"].as_str().unwrap());
        let mut list = client
            .get(format!("{base}/workers"))
            .insert_header(("Authorization", bearer.clone()))
            .send()
            .await
            .unwrap();
        let workers: Value = list.json().await.unwrap();
        let ids: Vec<String> = workers["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["id"].as_str().unwrap().to_string())
            .collect();

        let get = |i: usize| {
            client
                .get(format!("{base}/workers/{}/pathway", ids[i % ids.len()]))
                .insert_header(("Authorization", bearer.clone()))
                .send()
        };
        for i in 0..100 {
            get(i).await.unwrap().body().await.unwrap();
        }
        let mut samples = Vec::with_capacity(SEQUENTIAL);
        let mut most_queries = 0;
        for i in 0..SEQUENTIAL {
            let t = Instant::now();
            let mut r = get(i).await.unwrap();
            r.body().await.unwrap();
            samples.push(t.elapsed());
            assert_eq!(r.status(), 200);
            most_queries = most_queries.max(queries(&r));
        }
        samples.sort();
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "{backend}: pathway summary, one at a time over {SEQUENTIAL} requests: p50 {:.2} ms, p95 {:.2} ms, p99 {:.2} ms, max {:.2} ms; at most {most_queries} queries each",
            ms(samples[SEQUENTIAL / 2]),
            ms(samples[SEQUENTIAL * 95 / 100]),
            ms(samples[SEQUENTIAL * 99 / 100]),
            ms(samples[SEQUENTIAL - 1]),
        );

        let started = Instant::now();
        let tasks: Vec<_> = (0..CONCURRENT)
            .map(|task| {
                let (client, base, bearer, ids) =
                    (client.clone(), base.clone(), bearer.clone(), ids.clone());
                actix_web::rt::spawn(async move {
                    for i in 0..PER_TASK {
                        let mut r = client
                            .get(format!("{base}/workers/{}/pathway", ids[(task + i) % ids.len()]))
                            .insert_header(("Authorization", bearer.clone()))
                            .send()
                            .await
                            .unwrap();
                        r.body().await.unwrap();
                        assert_eq!(r.status(), 200);
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let total = CONCURRENT * PER_TASK;
        println!(
            "{backend}: pathway summary, {CONCURRENT} at once: {total} requests in {:.2} s: {:.0} requests/s",
            started.elapsed().as_secs_f64(),
            total as f64 / started.elapsed().as_secs_f64()
        );
        let _ = std::fs::remove_dir_all(&dir);
    });
}
