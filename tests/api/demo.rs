//! `peerpath seed-demo`: loads the demonstration organisation once, only into an empty
//! database, never in production.

use diesel::{QueryDsl, RunQueryDsl};
use std::process::{Command, Output};

use crate::both_backends;
use crate::helpers::TestApp;
use peerpath::db::Backend;

fn seed(app: &TestApp, env: &str, password: Option<&str>) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_peerpath"));
    command
        .arg("seed-demo")
        .env("PEERPATH_ENV", env)
        .env(
            "PEERPATH_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env("PEERPATH__DATABASE__URL", app.db.url())
        .env("PEERPATH__DATA__DIR", app.db.data_dir())
        .env("PEERPATH__AUTH__JWT_SECRET", crate::helpers::TEST_KEY)
        .env(
            "PEERPATH__EMAIL__ALLOW_FILE_TRANSPORT_IN_PRODUCTION",
            "true",
        )
        .env_remove("PEERPATH_DEMO_PASSWORD");
    if let Some(p) = password {
        command.env("PEERPATH_DEMO_PASSWORD", p);
    }
    command.output().unwrap()
}

async fn the_demo_loads_once_with_a_realistic_history(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.email.run_worker = false).await;
    let out = seed(&app, "development", Some("demo-password-for-tests"));
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        !stdout.contains("demo-password-for-tests"),
        "a given password is not printed"
    );

    let manager = app
        .session(
            "priya.manager@demo.peerpath.invalid",
            "demo-password-for-tests",
        )
        .await;
    let workers = app
        .get("/api/v1/workers")
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(workers.body["items"].as_array().unwrap().len(), 6);
    // Loading made-up history sends nothing: no flood of emails about it today.
    let queued: i64 = peerpath::db::schema::notifications::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert!(queued < 10, "{queued} emails queued by the demo");
    // The README lists every demo account a newcomer can sign in as.
    let readme = include_str!("../../README.md");
    let accounts: Vec<String> = peerpath::db::schema::users::table
        .select(peerpath::db::schema::users::email)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(accounts.len(), 12, "{accounts:?}");
    for email in &accounts {
        let local = email.split('@').next().unwrap();
        assert!(
            readme.contains(&format!("`{local}@`")),
            "the README does not list the demo account {email}"
        );
    }
    // Peer support workers on band 3, advanced on band 4, peer case workers on band 5.
    let mut stages = vec![];
    for w in workers.body["items"].as_array().unwrap() {
        let s = app
            .get(&format!(
                "/api/v1/workers/{}/pathway",
                w["id"].as_str().unwrap()
            ))
            .token(&manager.access)
            .send()
            .await;
        assert_eq!(s.status, 200, "{}", s.text);
        let stage = s.body["stage"]["name"].as_str().unwrap().to_string();
        let band = match stage.as_str() {
            "Peer support worker" => "AfC-3",
            "Advanced peer support worker" => "AfC-4",
            "Peer case worker" => "AfC-5",
            other => panic!("unexpected stage {other}"),
        };
        assert_eq!(s.body["pay"]["band_code"], band, "{}", s.text);
        assert!(
            s.body["next_stage"]["requirements"]
                .as_array()
                .unwrap()
                .len()
                > 3
        );
        stages.push(stage);
    }
    stages.sort();
    stages.dedup();
    assert_eq!(
        stages.len(),
        3,
        "all three paid stages are shown: {stages:?}"
    );
    let modules = app
        .get("/api/v1/training-modules?limit=200")
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(
        modules.body["items"].as_array().unwrap().len(),
        19,
        "the HCV catalogue"
    );
    let competencies = app
        .get("/api/v1/competencies")
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(competencies.body["items"].as_array().unwrap().len(), 13);
    let supervisor = app
        .session(
            "alex.supervisor@demo.peerpath.invalid",
            "demo-password-for-tests",
        )
        .await;
    let queue = app
        .get("/api/v1/supervisor-queue")
        .token(&supervisor.access)
        .send()
        .await;
    assert!(
        queue.body["counts"]["unverified_training"]
            .as_i64()
            .unwrap()
            > 0
    );
    let robin = app
        .session(
            "robin.ashworth@demo.peerpath.invalid",
            "demo-password-for-tests",
        )
        .await;
    let soon = app
        .get(&format!(
            "/api/v1/workers/{}/training-records?expires_within_days=60",
            robin.user_id
        ))
        .token(&robin.access)
        .send()
        .await;
    assert!(
        !soon.body["items"].as_array().unwrap().is_empty(),
        "some renewals fall due"
    );

    the_demo_shows_the_product_working(&app, &manager, &supervisor).await;

    let again = seed(&app, "development", Some("demo-password-for-tests"));
    assert!(again.status.success());
    assert!(String::from_utf8_lossy(&again.stdout).contains("already loaded"));
    let workers = app
        .get("/api/v1/workers")
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(
        workers.body["items"].as_array().unwrap().len(),
        6,
        "idempotent"
    );
}

/// The demo's workers by first name, with their ids.
fn by_name(workers: &serde_json::Value, first: &str) -> String {
    workers["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|w| w["name"].as_str().unwrap().starts_with(first))
        .and_then(|w| w["id"].as_str())
        .unwrap_or_else(|| panic!("no demo worker {first}"))
        .to_string()
}

/// What issue 13.12 asked of a fresh demo: an eligible worker, one eligible soon, a decided
/// progression, a shared plan section the supervisor reads, a paused worker, a history spread
/// over the months it claims, a second manager, a network, pay tables up to this year.
async fn the_demo_shows_the_product_working(
    app: &TestApp,
    manager: &crate::helpers::Session,
    supervisor: &crate::helpers::Session,
) {
    let today = chrono::Utc::now().date_naive();
    let workers = app
        .get("/api/v1/workers")
        .token(&manager.access)
        .send()
        .await;
    let pathway = |first: &str| {
        let id = by_name(&workers.body, first);
        async move {
            let r = app
                .get(&format!("/api/v1/workers/{id}/pathway"))
                .token(&manager.access)
                .send()
                .await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.body
        }
    };
    let danny = pathway("Danny").await;
    assert_eq!(danny["next_stage"]["eligible"], true, "{danny}");
    let maxine = pathway("Maxine").await;
    let unmet: Vec<&serde_json::Value> = maxine["next_stage"]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["met"] == false)
        .collect();
    assert_eq!(unmet.len(), 1, "only time is missing: {maxine}");
    assert_eq!(unmet[0]["kind"], "time_in_stage", "{maxine}");
    let from: chrono::NaiveDate = unmet[0]["date"].as_str().unwrap().parse().unwrap();
    assert!(
        from > today && (from - today).num_days() <= 62,
        "eligible soon: {from}"
    );

    // Robin's move to peer case worker was proposed and approved months ago.
    let decided = app
        .get("/api/v1/progressions?status=approved")
        .token(&manager.access)
        .send()
        .await;
    let items = decided.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", decided.text);
    assert!(
        items[0]["worker_name"]
            .as_str()
            .unwrap()
            .starts_with("Robin")
    );
    let decided_at: chrono::DateTime<chrono::Utc> =
        items[0]["decided_at"].as_str().unwrap().parse().unwrap();
    assert!(
        (today - decided_at.date_naive()).num_days() > 60,
        "{decided_at}"
    );

    // Sign-offs are dated across the years they happened, not on the day of loading.
    let robin = by_name(&workers.body, "Robin");
    let signoffs = app
        .get(&format!("/api/v1/workers/{robin}/signoffs?limit=200"))
        .token(&manager.access)
        .send()
        .await;
    let days: Vec<chrono::NaiveDate> = signoffs.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|s| s["decided_at"].as_str())
        .map(|d| {
            d.parse::<chrono::DateTime<chrono::Utc>>()
                .unwrap()
                .date_naive()
        })
        .collect();
    assert!(days.len() > 5, "{}", signoffs.text);
    let (first, last) = (days.iter().min().unwrap(), days.iter().max().unwrap());
    assert!(
        (*last - *first).num_days() > 700,
        "spread over the years: {days:?}"
    );
    assert!(
        days.iter().all(|d| *d < today),
        "none decided today: {days:?}"
    );

    // Danny's supervisor reads what he shares of his plan, and nothing he keeps.
    let danny_id = by_name(&workers.body, "Danny");
    let plan = app
        .get(&format!("/api/v1/workers/{danny_id}/recovery-plan"))
        .token(&supervisor.access)
        .send()
        .await;
    assert_eq!(plan.status, 200, "{}", plan.text);
    assert!(
        plan.text.contains("the Thursday peer group"),
        "{}",
        plan.text
    );
    assert!(
        !plan.text.contains("Anniversaries"),
        "a private part: {}",
        plan.text
    );

    let lee = by_name(&workers.body, "Lee");
    let lee = app
        .get(&format!("/api/v1/workers/{lee}"))
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(lee.body["status"], "paused", "{}", lee.text);

    // A second programme manager, and a network of two demo organisations.
    let admin = app
        .session("admin@demo.peerpath.invalid", "demo-password-for-tests")
        .await;
    let users = app
        .get("/api/v1/users?limit=200")
        .token(&admin.access)
        .send()
        .await;
    let managers = users.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|u| {
            u["role"] == "programme_manager"
                && u["organisation_id"] == manager_org(&users.body, "priya")
        })
        .count();
    assert_eq!(managers, 2, "{}", users.text);
    let networks = app
        .get("/api/v1/networks")
        .token(&admin.access)
        .send()
        .await;
    let network = &networks.body["items"][0];
    assert_eq!(
        network["organisation_ids"].as_array().map(Vec::len),
        Some(2),
        "{}",
        networks.text
    );

    // Pay tables up to this year, the unofficial ones saying so.
    let band = app
        .get(&format!(
            "/api/v1/salary-bands/{}",
            peerpath::salary::afc_band_id(4)
        ))
        .token(&manager.access)
        .send()
        .await;
    let tables = band.body["pay_tables"].as_array().unwrap();
    let latest: chrono::NaiveDate = tables.last().unwrap()["effective_from"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (today - latest).num_days() < 366,
        "a table of this pay year: {latest}"
    );
    assert!(
        tables
            .iter()
            .any(|t| t["source"].as_str().unwrap().contains("3.6%"))
    );
    for t in tables
        .iter()
        .filter(|t| t["effective_from"].as_str().unwrap() > "2025-04-01")
    {
        assert!(
            t["source"].as_str().unwrap().starts_with("Example figures"),
            "{t}"
        );
    }
}

/// The organisation of the demo user whose email starts with `local`.
fn manager_org(users: &serde_json::Value, local: &str) -> serde_json::Value {
    users["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["email"].as_str().unwrap().starts_with(local))
        .map(|u| u["organisation_id"].clone())
        .unwrap()
}

async fn the_demo_refuses_other_data_and_production(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.email.run_worker = false).await;
    let out = seed(&app, "production", Some("demo-password-for-tests"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("production"));
    let admin = app.admin().await;
    app.create_org(&admin, "A real organisation").await;
    let out = seed(&app, "development", None);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("other than the demo"));
    let orgs = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(
        orgs.body["items"].as_array().unwrap().len(),
        1,
        "nothing added"
    );
}

async fn without_a_password_one_is_generated_and_shown_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.email.run_worker = false).await;
    let out = seed(&app, "development", None);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let password = stdout
        .lines()
        .find_map(|l| l.split("(shown once): ").nth(1))
        .expect("the password is printed")
        .trim()
        .to_string();
    assert_eq!(
        app.login("admin@demo.peerpath.invalid", &password)
            .await
            .status,
        200
    );
    let again = seed(&app, "development", None);
    assert!(!String::from_utf8_lossy(&again.stdout).contains("shown once"));
}

both_backends!(
    the_demo_loads_once_with_a_realistic_history,
    the_demo_refuses_other_data_and_production,
    without_a_password_one_is_generated_and_shown_once,
);
