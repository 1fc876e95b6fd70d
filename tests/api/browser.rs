//! Journeys through the pages in headless Chromium (Debian's package), driven by
//! playwright-core from `tests/browser/`, with axe-core run on every page reached. Each runs
//! on the demo organisation, on SQLite and on PostgreSQL. Without Chromium, Node.js or the
//! installed packages the journeys are skipped with a visible message;
//! `PEERPATH_REQUIRE_BROWSER=1` makes that a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use serde_json::Value;

use crate::both_backends;
use crate::helpers::TestApp;
use peerpath::db::Backend;

pub const DEMO_PASSWORD: &str = "demo-password-for-browser-tests";
pub const WORKER: &str = "robin.ashworth@demo.peerpath.invalid";
pub const SUPERVISOR: &str = "alex.supervisor@demo.peerpath.invalid";
/// The newest demo worker, five months in, supervised (and assessed) by Morgan.
pub const NEW_WORKER: &str = "jo.whitfield@demo.peerpath.invalid";
pub const ASSESSOR: &str = "morgan.supervisor@demo.peerpath.invalid";
pub const MANAGER: &str = "priya.manager@demo.peerpath.invalid";

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

fn chromium() -> PathBuf {
    std::env::var_os("PEERPATH_CHROMIUM")
        .map_or_else(|| PathBuf::from("/usr/bin/chromium"), PathBuf::from)
}

/// Whether the journeys can run here; says once, loudly, why not.
pub fn browser_available() -> bool {
    static AVAILABLE: OnceLock<bool> = OnceLock::new();
    *AVAILABLE.get_or_init(|| {
        let required = std::env::var("PEERPATH_REQUIRE_BROWSER").is_ok_and(|v| v == "1");
        let node = Command::new("node")
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success());
        let missing = if !chromium().is_file() {
            Some(format!("no Chromium at {}", chromium().display()))
        } else if !node {
            Some("no node on PATH".to_string())
        } else if !browser_dir().join("node_modules/playwright-core").is_dir()
            || !browser_dir().join("node_modules/axe-core").is_dir()
        {
            Some(
                "tests/browser/node_modules lacks playwright-core or axe-core (npm ci there)"
                    .into(),
            )
        } else {
            None
        };
        match missing {
            None => true,
            Some(why) => {
                assert!(!required, "PEERPATH_REQUIRE_BROWSER=1 but {why}");
                use std::io::Write;
                let _ = writeln!(
                    std::io::stderr().lock(),
                    "\n*** SKIPPING the browser journeys: {why} \
                     (set PEERPATH_REQUIRE_BROWSER=1 to fail instead) ***\n"
                );
                false
            }
        }
    })
}

/// The app with the demo organisation loaded.
pub async fn demo_app(backend: Backend) -> TestApp {
    demo_app_with(backend, |_| {}).await
}

pub async fn demo_app_with(
    backend: Backend,
    tweak: impl FnOnce(&mut peerpath::config::Settings),
) -> TestApp {
    let app = TestApp::spawn_with(backend, tweak).await;
    let s = &app.state;
    peerpath::demo::seed(
        &s.db,
        &s.identity,
        &s.notifications,
        &s.sealing_keys,
        Some(DEMO_PASSWORD.into()),
    )
    .await
    .expect("the demo loads");
    app
}

/// Runs one journey against the app; returns its report after asserting it passed.
pub async fn journey(app: &TestApp, name: &str) -> Value {
    let mut command = Command::new("node");
    command
        .current_dir(browser_dir())
        .arg("journeys.mjs")
        .arg(name)
        .env("PEERPATH_URL", &app.address)
        .env("PEERPATH_PASSWORD", DEMO_PASSWORD)
        .env("PEERPATH_WORKER", WORKER)
        .env("PEERPATH_WORKER_NAME", "Robin Ashworth")
        .env("PEERPATH_SUPERVISOR", SUPERVISOR)
        .env("PEERPATH_NEW_WORKER", NEW_WORKER)
        .env("PEERPATH_NEW_WORKER_NAME", "Jo Whitfield")
        .env("PEERPATH_ASSESSOR", ASSESSOR)
        .env("PEERPATH_MANAGER", MANAGER)
        .env("PEERPATH_CHROMIUM", chromium());
    // The app serves on this thread's runtime: the journey waits on another thread.
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .expect("the journey's thread")
        .expect("node starts");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let report: Value = stdout
        .lines()
        .rev()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or(Value::Null);
    assert!(
        output.status.success(),
        "journey {name} failed: {}\n{}",
        serde_json::to_string_pretty(&report["failures"]).unwrap_or_default(),
        String::from_utf8_lossy(&output.stderr)
    );
    let pages = report["pages"].as_array().map_or(0, Vec::len);
    assert!(pages > 0, "journey {name} checked no page: {stdout}");
    println!("journey {name}: {pages} pages checked, 0 failures");
    report
}

async fn a_worker_logs_training_the_supervisor_verifies_it_and_the_worker_sees_it(
    backend: Backend,
) {
    if !browser_available() {
        return;
    }
    let app = demo_app(backend).await;
    journey(&app, "training_is_logged_verified_and_seen").await;
    // The decision is in the database, not only on the screen.
    use diesel::prelude::*;
    use peerpath::db::schema::{training_records, users};
    let worker: String = users::table
        .filter(users::email.eq(WORKER))
        .select(users::id)
        .first(&mut *app.conn())
        .unwrap();
    let verified: i64 = training_records::table
        .filter(training_records::worker_id.eq(&worker))
        .filter(training_records::provider.eq("The Hepatitis C Trust"))
        .filter(training_records::status.eq("verified"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(verified, 1);
}

async fn a_worker_logs_training_by_keyboard_alone(backend: Backend) {
    if !browser_available() {
        return;
    }
    let app = demo_app(backend).await;
    journey(&app, "a_worker_logs_training_by_keyboard_alone").await;
}

async fn a_worker_logs_and_withdraws_training_without_javascript(backend: Backend) {
    if !browser_available() {
        return;
    }
    let app = demo_app(backend).await;
    journey(
        &app,
        "a_worker_logs_and_withdraws_training_without_javascript",
    )
    .await;
}

async fn a_sign_off_needing_observations_is_refused_then_signed_off_once_they_are_recorded(
    backend: Backend,
) {
    if !browser_available() {
        return;
    }
    let app = demo_app(backend).await;
    let before = app.emails_of_kind("signoff_decided");
    journey(&app, "a_sign_off_waits_for_its_observed_practice").await;
    use diesel::prelude::*;
    use peerpath::db::schema::{competencies, competency_signoffs, observations, users};
    let jo: String = users::table
        .filter(users::email.eq(NEW_WORKER))
        .select(users::id)
        .first(&mut *app.conn())
        .unwrap();
    let rna: String = competencies::table
        .filter(competencies::code.eq("C-04"))
        .select(competencies::id)
        .first(&mut *app.conn())
        .unwrap();
    let status: String = competency_signoffs::table
        .filter(competency_signoffs::worker_id.eq(&jo))
        .filter(competency_signoffs::competency_id.eq(&rna))
        .select(competency_signoffs::status)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(status, "signed_off");
    let seen: i64 = observations::table
        .filter(observations::worker_id.eq(&jo))
        .filter(observations::competency_id.eq(&rna))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(
        seen, 5,
        "exactly the five recorded, none from the refused attempt"
    );
    assert_eq!(
        app.emails_of_kind("signoff_decided"),
        before + 1,
        "one decision, one email"
    );
}

async fn a_call_request_reaches_the_supervisor_at_once_and_only_shared_words_are_shown(
    backend: Backend,
) {
    if !browser_available() {
        return;
    }
    let smtp = crate::smtp::SmtpServer::start();
    let app = demo_app_with(backend, crate::notifications::via(smtp.port)).await;
    journey(
        &app,
        "recovery_support_is_shared_only_as_the_worker_chooses",
    )
    .await;
    // The email reached the supervisor over SMTP, and says nothing of what was written.
    let wanted = |m: &crate::smtp::Received| {
        m.to.iter().any(|t| t.contains(SUPERVISOR))
            && m.header("subject")
                .is_some_and(|s| s.contains("would like you to get in touch"))
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let mail = loop {
        if let Some(m) = smtp.received().into_iter().find(wanted) {
            break m;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no contact email reached the supervisor"
        );
        actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert!(!mail.data.contains("PRIVATE-CANARY") && !mail.data.contains("peer line"));
    let link = mail.find_after("http://localhost:8080").unwrap();
    assert!(
        link.starts_with("/supervisees/") && link.ends_with("/recovery"),
        "{link}"
    );
}

async fn every_other_page_passes_the_same_checks(backend: Backend) {
    if !browser_available() {
        return;
    }
    let app = demo_app(backend).await;
    journey(&app, "every_other_page_passes_the_same_checks").await;
    use diesel::prelude::*;
    use peerpath::db::schema::progressions;
    let open: i64 = progressions::table
        .filter(progressions::status.eq("proposed"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(open, 1, "the proposal made on the page is stored");
}

/// Two-step verification as the deployment's defaults have it (required of managers).
async fn a_manager_sets_up_two_step_verification_and_signs_in_with_it(backend: Backend) {
    if !browser_available() {
        return;
    }
    use peerpath::access::Role;
    let app = demo_app_with(backend, |s| {
        s.auth.mfa_required_roles = vec![Role::Admin, Role::ProgrammeManager];
    })
    .await;
    journey(
        &app,
        "a_manager_sets_up_two_step_verification_and_signs_in_with_it",
    )
    .await;
    use diesel::prelude::*;
    use peerpath::db::schema::{audit_events, mfa_recovery_codes};
    let used: i64 = mfa_recovery_codes::table
        .filter(mfa_recovery_codes::used_at.is_not_null())
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(used, 1, "one recovery code spent");
    let passed: i64 = audit_events::table
        .filter(audit_events::action.eq("auth.mfa_passed"))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(passed, 1);
}

async fn a_worker_turns_two_step_verification_on_and_off(backend: Backend) {
    if !browser_available() {
        return;
    }
    let app = demo_app(backend).await;
    journey(&app, "a_worker_turns_two_step_verification_on_and_off").await;
    use diesel::prelude::*;
    use peerpath::db::schema::mfa_factors;
    let left: i64 = mfa_factors::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(left, 0, "turned off: nothing of the factor is kept");
}

both_backends!(
    a_worker_turns_two_step_verification_on_and_off,
    a_manager_sets_up_two_step_verification_and_signs_in_with_it,
    every_other_page_passes_the_same_checks,
    a_call_request_reaches_the_supervisor_at_once_and_only_shared_words_are_shown,
    a_sign_off_needing_observations_is_refused_then_signed_off_once_they_are_recorded,
    a_worker_logs_training_the_supervisor_verifies_it_and_the_worker_sees_it,
    a_worker_logs_training_by_keyboard_alone,
    a_worker_logs_and_withdraws_training_without_javascript,
);
