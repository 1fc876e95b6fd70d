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
    assert_eq!(accounts.len(), 10, "{accounts:?}");
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
