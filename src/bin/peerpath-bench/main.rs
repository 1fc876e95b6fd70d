//! `peerpath-bench`: measures peerpath against its own ceilings, on both databases.
//!
//! `cargo run --release --bin peerpath-bench -- --backend sqlite --scale medium --duration 20s
//! --connections 16,64` generates the dataset, starts the release server (this binary, as
//! `peerpath-bench serve`) on it, and for each scenario reports the maximum rate (closed
//! loop), p50/p99/max latency at half that rate (open loop), errors, and the server's
//! memory; beside them, in the same run, the ceilings: a bare actix-web + diesel server
//! (`peerpath-bench ceiling`) doing one primary-key select (C-select) or one insert
//! (C-insert) through the same pool, and the pathway summary's and the organisation
//! report's own code run directly without HTTP (C-pathway, C-report).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod ceiling;
mod cluster;
mod dataset;
mod load;

use std::collections::BTreeMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use serde::Serialize;
use serde_json::json;

use dataset::{Scale, USER, id};
use load::{Maker, Outcome, Request};
use peerpath::config::{Environment, Secret, Settings};
use peerpath::db::Database;

const PASSWORD: &str = "bench-password-long-enough-1";
const JWT: &str = "bench-signing-key-0123456789-abcdefghijklmnop";

#[derive(Parser)]
#[command(about = "Measures peerpath against its own ceilings")]
struct Args {
    /// sqlite or postgres (a throwaway cluster from initdb/postgres on PATH).
    #[arg(long, default_value = "sqlite")]
    backend: String,
    /// small, medium or large (PostgreSQL only).
    #[arg(long, default_value = "small")]
    scale: String,
    /// How long each measurement runs, such as 20s.
    #[arg(long, default_value = "20s")]
    duration: String,
    /// Connection counts for the maximum-rate runs; latency uses the first.
    #[arg(long, default_value = "16,64")]
    connections: String,
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Only these scenarios (comma-separated names).
    #[arg(long)]
    only: Option<String>,
    /// Where to write the results as JSON.
    #[arg(long)]
    out: Option<String>,
}

fn seconds(value: &str) -> Result<Duration, String> {
    let number = value.trim_end_matches('s');
    number
        .parse::<f64>()
        .map(Duration::from_secs_f64)
        .map_err(|_| format!("--duration {value:?} is not a number of seconds such as 20s"))
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    // The server and the ceiling run as child processes of this same binary.
    match args.get(1).map(String::as_str) {
        Some("serve") => {
            let code = actix_web::rt::System::new().block_on(peerpath::cli::run());
            std::process::exit(code);
        }
        Some("ceiling") => {
            let code = match actix_web::rt::System::new().block_on(ceiling::serve()) {
                Ok(()) => 0,
                Err(e) => {
                    eprintln!("ceiling: {e}");
                    1
                }
            };
            std::process::exit(code);
        }
        _ => {}
    }
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build();
    let result = match runtime {
        Ok(rt) => rt.block_on(run(args)),
        Err(e) => Err(e.to_string()),
    };
    if let Err(e) = result {
        eprintln!("peerpath-bench: {e}");
        std::process::exit(1);
    }
}

/// The environment the server and the ceiling are started with.
fn env_for(url: &str, dir: &std::path::Path, port: u16) -> Vec<(String, String)> {
    [
        ("PEERPATH_ENV", "development".to_string()),
        (
            "PEERPATH_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config").to_string(),
        ),
        ("PEERPATH__DATABASE__URL", url.to_string()),
        ("PEERPATH__DATA__DIR", dir.display().to_string()),
        ("PEERPATH__SERVER__PORT", port.to_string()),
        ("PEERPATH__AUTH__JWT_SECRET", JWT.to_string()),
        ("PEERPATH__AUTH__ACCESS_TOKEN_TTL_SECS", "7200".to_string()),
        (
            "PEERPATH__AUTH__MAX_ATTEMPTS_PER_CLIENT",
            "1000000000".to_string(),
        ),
        // The runs measure the request path of people signed in; the manager signs in with the
        // password alone, as the second step is a cost of signing in, not of a request.
        ("PEERPATH__AUTH__MFA_REQUIRED_ROLES", "[]".to_string()),
        ("PEERPATH__LOG__FILTER", "warn".to_string()),
        ("PEERPATH__LOG__SERVER_TIMING", "false".to_string()),
        ("PEERPATH__EMAIL__RUN_WORKER", "false".to_string()),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect()
}

struct Child_ {
    child: Child,
    port: u16,
}

impl Drop for Child_ {
    fn drop(&mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let _ = self.child.wait();
    }
}

async fn spawn(mode: &str, env: &[(String, String)], port: u16) -> Result<Child_, String> {
    let exe = std::env::current_exe().map_err(|e| e.to_string())?;
    let child = Command::new(exe)
        .arg(mode)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .stdin(Stdio::null())
        .spawn()
        .map_err(|e| e.to_string())?;
    let child = Child_ { child, port };
    for _ in 0..600 {
        if let Ok(mut c) = load::Connection::open(port).await {
            let ready = Request {
                method: "GET",
                path: "/health/ready".into(),
                token: None,
                cookie: None,
                body: None,
            };
            if c.send(&ready).await.is_ok_and(|(s, _)| s == 200) {
                return Ok(child);
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!("{mode} did not become ready"))
}

/// Resident memory of a process, in KiB: (current, peak).
fn memory(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let field = |name: &str| {
        status
            .lines()
            .find(|l| l.starts_with(name))
            .and_then(|l| l.split_whitespace().nth(1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(0)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

async fn login(port: u16, email: &str) -> Result<String, String> {
    let mut c = load::Connection::open(port)
        .await
        .map_err(|e| e.to_string())?;
    let (status, body) = c
        .send(&Request {
            method: "POST",
            path: "/api/v1/auth/login".into(),
            token: None,
            cookie: None,
            body: Some(json!({"email": email, "password": PASSWORD}).to_string()),
        })
        .await
        .map_err(|e| e.to_string())?;
    if status != 200 {
        return Err(format!("login of {email}: {status}"));
    }
    let v: serde_json::Value = serde_json::from_slice(&body).map_err(|e| e.to_string())?;
    v["access_token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| "no access token".into())
}

/// Signs in to the pages as a browser does (the sign-in form's token and visitor cookie,
/// then the post); answers the session cookie as `name=value`.
async fn web_sign_in(port: u16, email: &str) -> Result<String, String> {
    let mut c = load::Connection::open(port)
        .await
        .map_err(|e| e.to_string())?;
    let (_, head, body) = c
        .raw("GET /sign-in HTTP/1.1\r\nHost: bench\r\n\r\n")
        .await
        .map_err(|e| e.to_string())?;
    let set_cookie = |head: &str, prefix: &str| {
        head.lines()
            .filter_map(|l| l.split_once(':'))
            .filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie"))
            .filter_map(|(_, v)| v.trim().split(';').next().map(str::to_string))
            .find(|c| c.contains(prefix))
    };
    let visitor = set_cookie(&head, "visitor=").ok_or("no visitor cookie")?;
    let body = String::from_utf8_lossy(&body);
    let marker = "name=\"csrf_token\" value=\"";
    let token = body
        .split(marker)
        .nth(1)
        .and_then(|t| t.split('"').next())
        .ok_or("no form token")?;
    let form = format!(
        "csrf_token={token}&email={}&password={PASSWORD}",
        email.replace('@', "%40")
    );
    let (status, head, _) = c
        .raw(&format!(
            "POST /sign-in HTTP/1.1\r\nHost: bench\r\nCookie: {visitor}\r\n\
             Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {}\r\n\r\n{form}",
            form.len()
        ))
        .await
        .map_err(|e| e.to_string())?;
    if status != 303 {
        return Err(format!("page sign-in of {email}: {status}"));
    }
    set_cookie(&head, "session=").ok_or_else(|| "no session cookie".into())
}

#[derive(Serialize)]
struct ScenarioResult {
    name: String,
    ceiling: String,
    max: BTreeMap<usize, Outcome>,
    latency_at_half_rate: Outcome,
    ratio_to_ceiling: f64,
}

#[derive(Serialize)]
struct Report {
    backend: String,
    scale: String,
    date: String,
    machine: String,
    duration_secs: f64,
    connections: Vec<usize>,
    rows: usize,
    idle_rss_kib: u64,
    peak_rss_kib: u64,
    ceilings: BTreeMap<String, Outcome>,
    scenarios: Vec<ScenarioResult>,
    writes_acknowledged: u64,
    writes_found: i64,
}

fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let model = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|c| {
            c.lines()
                .find(|l| l.starts_with("model name"))
                .and_then(|l| l.split(':').nth(1))
                .map(|s| s.trim().to_string())
        })
        .unwrap_or_default();
    format!("{cpus} cores, {model}")
}

#[allow(clippy::too_many_lines)]
async fn run(args: Args) -> Result<(), String> {
    let scale = Scale::parse(&args.scale)?;
    let duration = seconds(&args.duration)?;
    let connections: Vec<usize> = args
        .connections
        .split(',')
        .map(|c| c.trim().parse().map_err(|_| format!("--connections {c:?}")))
        .collect::<Result<_, _>>()?;
    if scale == Scale::Large && args.backend != "postgres" {
        return Err("the large scale runs on PostgreSQL only".into());
    }
    let dir = std::env::temp_dir().join(format!("peerpath-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let cluster = match args.backend.as_str() {
        "sqlite" => None,
        "postgres" => Some(cluster::Cluster::start()?),
        other => return Err(format!("unknown backend {other:?}: sqlite or postgres")),
    };
    let url = match &cluster {
        Some(c) => c.url(),
        None => format!("sqlite://{}/bench.db", dir.display()),
    };

    // The dataset, written in-process through the library.
    let config = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config");
    let mut settings =
        Settings::load_without_env_vars(Environment::Development, &config).map_err(|e| e.0)?;
    settings.database.url = Secret::new(url.clone());
    settings.data.dir = dir.clone();
    let db = Database::connect(&settings.database)?;
    peerpath::app::migrate(&db)
        .await
        .map_err(|e| e.to_string())?;
    let hasher = peerpath::identity::passwords::PasswordHasher::new(&settings.auth)?;
    let hash = hasher
        .hash(&Secret::new(PASSWORD))
        .await
        .map_err(|e| e.to_string())?;
    let started = Instant::now();
    let rows = dataset::generate(&db, scale, args.seed, &hash).await?;
    eprintln!(
        "{} {}: {rows} rows in {:.1} s",
        args.backend,
        scale.name(),
        started.elapsed().as_secs_f64()
    );
    ceiling::prepare(&db).await?;

    let port = cluster::free_port()?;
    let env = env_for(&url, &dir, port);
    let server = spawn("serve", &env, port).await?;
    // Idle: after the server's first return of freed memory (two seconds after start).
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (idle_rss, _) = memory(server.child.id());

    let (orgs, per_org) = scale.shape();
    let supervisors = (per_org / dataset::WORKERS_PER_SUPERVISOR).max(2);
    let worker_id = move |org: usize, n: usize| id(USER, org, 1 + supervisors + n);
    let manager = login(port, &dataset::email(0, "manager", 0)).await?;
    let supervisor = login(port, &dataset::email(0, "supervisor", 0)).await?;
    let mut writers = vec![];
    for n in 0..16 {
        writers.push((
            worker_id(0, n),
            login(port, &dataset::email(0, "worker", n)).await?,
        ));
    }
    let (own_worker, own_token) = writers[0].clone();
    let worker_cookie = web_sign_in(port, &dataset::email(0, "worker", 0)).await?;
    let supervisor_cookie = web_sign_in(port, &dataset::email(0, "supervisor", 0)).await?;
    let writers = Arc::new(writers);
    let module = id(4, 0, 1);
    let _ = orgs;

    let m = manager.clone();
    let pick =
        move |n: u64| worker_id(0, (n.wrapping_mul(2_654_435_761) % per_org as u64) as usize);
    let scenarios: Vec<(&str, &str, Maker)> = vec![
        ("profile", "C-select", {
            let m = m.clone();
            Arc::new(move |n| Request {
                method: "GET",
                path: format!("/api/v1/workers/{}", pick(n)),
                token: Some(m.clone()),
                cookie: None,
                body: None,
            })
        }),
        ("pathway", "C-pathway", {
            let m = m.clone();
            Arc::new(move |n| Request {
                method: "GET",
                path: format!("/api/v1/workers/{}/pathway", pick(n)),
                token: Some(m.clone()),
                cookie: None,
                body: None,
            })
        }),
        ("supervisor_queue", "C-select", {
            let s = supervisor.clone();
            Arc::new(move |_| Request {
                method: "GET",
                path: "/api/v1/supervisor-queue".into(),
                token: Some(s.clone()),
                cookie: None,
                body: None,
            })
        }),
        // The worker's home page and the JSON it is made from; the queue page against the
        // queue's JSON (both measured just before, in the same run).
        ("own_pathway", "C-pathway", {
            Arc::new(move |_| Request {
                method: "GET",
                path: format!("/api/v1/workers/{own_worker}/pathway"),
                token: Some(own_token.clone()),
                ..Request::default()
            })
        }),
        ("home_page", "own_pathway", {
            Arc::new(move |_| Request {
                method: "GET",
                path: "/".into(),
                cookie: Some(worker_cookie.clone()),
                ..Request::default()
            })
        }),
        ("queue_page", "supervisor_queue", {
            Arc::new(move |_| Request {
                method: "GET",
                path: "/queue".into(),
                cookie: Some(supervisor_cookie.clone()),
                ..Request::default()
            })
        }),
        ("training_records", "C-select", {
            let m = m.clone();
            Arc::new(move |n| Request {
                method: "GET",
                path: format!("/api/v1/workers/{}/training-records?limit=50", pick(n)),
                token: Some(m.clone()),
                cookie: None,
                body: None,
            })
        }),
        ("post_training_record", "C-insert", {
            let (w, module) = (writers.clone(), module.clone());
            Arc::new(move |n| {
                let (worker, token) = &w[n as usize % w.len()];
                Request {
                    method: "POST",
                    path: format!("/api/v1/workers/{worker}/training-records"),
                    token: Some(token.clone()),
                    cookie: None,
                    body: Some(json!({"module_id": module, "completed_on": "2026-10-01", "hours": 2, "provider": "Bench"}).to_string()),
                }
            })
        }),
        ("org_report", "C-report", {
            let m = m.clone();
            Arc::new(move |_| Request {
                method: "GET",
                path: "/api/v1/reports/progression".into(),
                token: Some(m.clone()),
                cookie: None,
                body: None,
            })
        }),
        ("login", "none", {
            Arc::new(move |_| Request {
                method: "POST",
                path: "/api/v1/auth/login".into(),
                token: None,
                cookie: None,
                body: Some(
                    json!({"email": dataset::email(0, "manager", 0), "password": PASSWORD})
                        .to_string(),
                ),
            })
        }),
    ];

    let before_writes = ceiling::count_records(&db).await?;
    let mut ceilings = BTreeMap::new();
    let first = connections.first().copied().unwrap_or(16);
    {
        let cport = cluster::free_port()?;
        let mut cenv = env_for(&url, &dir, cport);
        cenv.push(("BENCH_USER_ID".into(), worker_id(0, 0)));
        let c = spawn("ceiling", &cenv, cport).await?;
        let user = worker_id(0, 0);
        let select: Maker = Arc::new(move |_| Request {
            method: "GET",
            path: format!("/select/{user}"),
            token: None,
            cookie: None,
            body: None,
        });
        let insert: Maker = Arc::new(|_| Request {
            method: "POST",
            path: "/insert".into(),
            token: None,
            cookie: None,
            body: Some("{}".into()),
        });
        ceilings.insert(
            "C-select".into(),
            load::closed_loop(c.port, first, duration, select).await,
        );
        ceilings.insert(
            "C-insert".into(),
            load::closed_loop(c.port, first, duration, insert).await,
        );
    }
    ceilings.insert(
        "C-pathway".into(),
        ceiling::direct(
            &db,
            first,
            duration,
            ceiling::Direct::Pathway {
                per_org,
                supervisors,
            },
        )
        .await,
    );
    ceilings.insert(
        "C-report".into(),
        ceiling::direct(&db, first, duration, ceiling::Direct::Report).await,
    );

    let mut results = vec![];
    let mut acknowledged = 0;
    for (name, ceiling_name, make) in scenarios {
        if args
            .only
            .as_deref()
            .is_some_and(|o| !o.split(',').any(|x| x == name))
        {
            continue;
        }
        ceiling::settle(&db).await?;
        let mut max = BTreeMap::new();
        for &n in &connections {
            let o = load::closed_loop(port, n, duration, make.clone()).await;
            if name == "post_training_record" {
                acknowledged += o.requests;
            }
            max.insert(n, o);
        }
        let best = max.values().map(|o| o.rps).fold(0.0, f64::max);
        let latency =
            load::open_loop(port, first, (best / 2.0).max(1.0), duration, make.clone()).await;
        if name == "post_training_record" {
            acknowledged += latency.requests;
        }
        let ratio = ceilings
            .get(ceiling_name)
            .map_or(0.0, |c| best / c.rps.max(1e-9));
        eprintln!(
            "{name}: {best:.0}/s (ratio to {ceiling_name} {ratio:.2}), p99 at half rate {:.2} ms",
            latency.p99_ms
        );
        // A page is measured against the JSON of the same data, run just before it.
        if let Some(o) = max.values().max_by(|a, b| a.rps.total_cmp(&b.rps)) {
            ceilings.insert(name.to_string(), o.clone());
        }
        results.push(ScenarioResult {
            name: name.into(),
            ceiling: ceiling_name.into(),
            max,
            latency_at_half_rate: latency,
            ratio_to_ceiling: ratio,
        });
    }
    let (_, peak_rss) = memory(server.child.id());
    drop(server);
    let found = ceiling::count_records(&db).await? - before_writes;

    let report = Report {
        backend: args.backend.clone(),
        scale: scale.name().into(),
        date: chrono::Utc::now().format("%Y-%m-%d").to_string(),
        machine: machine(),
        duration_secs: duration.as_secs_f64(),
        connections: connections.clone(),
        rows,
        idle_rss_kib: idle_rss,
        peak_rss_kib: peak_rss,
        ceilings,
        scenarios: results,
        writes_acknowledged: acknowledged,
        writes_found: found,
    };
    print_table(&report);
    let text = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    if let Some(path) = &args.out {
        std::fs::write(path, &text).map_err(|e| e.to_string())?;
    }
    drop(cluster);
    let _ = std::fs::remove_dir_all(&dir);
    if report.writes_found != report.writes_acknowledged as i64 {
        return Err(format!(
            "{} writes acknowledged but {} found",
            report.writes_acknowledged, report.writes_found
        ));
    }
    Ok(())
}

fn print_table(r: &Report) {
    println!(
        "\n{} at {} ({} rows), {} s per run, {}; server RSS idle {:.1} MiB, peak {:.1} MiB",
        r.backend,
        r.scale,
        r.rows,
        r.duration_secs,
        r.machine,
        r.idle_rss_kib as f64 / 1024.0,
        r.peak_rss_kib as f64 / 1024.0
    );
    println!(
        "\n| ceiling | req/s | p50 ms | p99 ms | errors |\n| --- | ---: | ---: | ---: | --- |"
    );
    for (name, o) in &r.ceilings {
        println!(
            "| {name} | {:.0} | {:.2} | {:.2} | {:?} |",
            o.rps, o.p50_ms, o.p99_ms, o.error_kinds
        );
    }
    let conns: Vec<String> = r
        .connections
        .iter()
        .map(|c| format!("req/s @{c}"))
        .collect();
    println!(
        "\n| scenario | {} | errors | ratio | p50 ms @½ | p99 ms @½ | max ms @½ |",
        conns.join(" | ")
    );
    println!(
        "| --- |{} ---: | ---: | ---: | ---: | ---: |",
        " ---: |".repeat(r.connections.len())
    );
    for s in &r.scenarios {
        let rates: Vec<String> = s.max.values().map(|o| format!("{:.0}", o.rps)).collect();
        let errors: u64 =
            s.max.values().map(|o| o.errors).sum::<u64>() + s.latency_at_half_rate.errors;
        println!(
            "| {} | {} | {errors} | {:.2} of {} | {:.2} | {:.2} | {:.2} |",
            s.name,
            rates.join(" | "),
            s.ratio_to_ceiling,
            s.ceiling,
            s.latency_at_half_rate.p50_ms,
            s.latency_at_half_rate.p99_ms,
            s.latency_at_half_rate.max_ms
        );
    }
    println!(
        "\nwrites acknowledged {}, found afterwards {}",
        r.writes_acknowledged, r.writes_found
    );
}
