//! Logging in and out, refresh rotation, revocation, password rules and login limits.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use diesel::prelude::*;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{PASSWORD, TestApp};
use peerpath::db::Backend;
use peerpath::db::schema::users;

async fn login_answers_a_token_pair(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let r = app.login(&admin.email, PASSWORD).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.body["token_type"], "Bearer");
    assert_eq!(r.body["expires_in"], 600);
    assert!(r.body["access_token"].as_str().unwrap().split('.').count() == 3);
    assert!(r.body["refresh_token"].as_str().unwrap().starts_with("rt_"));
    let me = app.get("/api/v1/me").token(&admin.access).send().await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["role"], "admin");
    assert!(me.header("etag").is_some());
    assert!(me.body.get("password_hash").is_none());
}

async fn email_is_matched_ignoring_case(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let r = app.login(&admin.email.to_uppercase(), PASSWORD).await;
    assert_eq!(r.status, 200);
}

async fn unknown_email_and_wrong_password_answer_alike(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let wrong = app.login(&admin.email, "not-the-password-at-all").await;
    let unknown = app
        .login("nobody@example.org", "not-the-password-at-all")
        .await;
    wrong.assert_problem(401);
    unknown.assert_problem(401);
    assert_eq!(wrong.text, unknown.text);
}

async fn missing_or_garbage_bearer_is_401(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app.get("/api/v1/me").send().await;
    r.assert_problem(401);
    assert!(r.header("www-authenticate").is_some());
    app.get("/api/v1/me")
        .token("garbage")
        .send()
        .await
        .assert_problem(401);
}

async fn logout_stops_both_tokens_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let r = app
        .post("/api/v1/auth/logout")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(r.status, 204);
    app.get("/api/v1/me")
        .token(&admin.access)
        .send()
        .await
        .assert_problem(401);
    app.post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": admin.refresh}))
        .send()
        .await
        .assert_problem(401);
}

async fn refresh_rotates_and_reuse_revokes_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let first = app
        .post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": admin.refresh}))
        .send()
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    let new_refresh = first.body["refresh_token"].as_str().unwrap().to_string();
    let new_access = first.body["access_token"].as_str().unwrap().to_string();
    assert_ne!(new_refresh, admin.refresh);
    assert_eq!(
        app.get("/api/v1/me").token(&new_access).send().await.status,
        200
    );

    // The old token again: somebody holds a copy, so the whole session ends.
    app.post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": admin.refresh}))
        .send()
        .await
        .assert_problem(401);
    app.get("/api/v1/me")
        .token(&new_access)
        .send()
        .await
        .assert_problem(401);
    app.post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": new_refresh}))
        .send()
        .await
        .assert_problem(401);
    // Another session of the same user is untouched.
    let other = app.session(&admin.email, PASSWORD).await;
    assert_eq!(
        app.get("/api/v1/me")
            .token(&other.access)
            .send()
            .await
            .status,
        200
    );
}

async fn deactivation_ends_sessions_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let worker = app.user(&manager, "peer_worker", Some(&org)).await;
    assert_eq!(
        app.get("/api/v1/me")
            .token(&worker.access)
            .send()
            .await
            .status,
        200
    );
    let read = app
        .get(&format!("/api/v1/users/{}", worker.user_id))
        .token(&manager.access)
        .send()
        .await;
    let r = app
        .patch(&format!("/api/v1/users/{}", worker.user_id))
        .token(&manager.access)
        .header("if-match", &read.header("etag").unwrap())
        .json(json!({"active": false}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["active"], false);
    app.get("/api/v1/me")
        .token(&worker.access)
        .send()
        .await
        .assert_problem(401);
    app.post("/api/v1/auth/refresh")
        .json(json!({"refresh_token": worker.refresh}))
        .send()
        .await
        .assert_problem(401);
    app.login(&worker.email, PASSWORD).await.assert_problem(401);
}

async fn password_change_needs_the_current_one_and_ends_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let other = app.session(&admin.email, PASSWORD).await;
    let r = app
        .post("/api/v1/auth/password")
        .token(&admin.access)
        .json(json!({"current_password": "wrong-wrong-wrong", "new_password": "a-new-long-passphrase"}))
        .send()
        .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["current_password"].is_array());
    let r = app
        .post("/api/v1/auth/password")
        .token(&admin.access)
        .json(json!({"current_password": PASSWORD, "new_password": "short"}))
        .send()
        .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["new_password"].is_array());
    // Nothing changed by the refusals.
    assert_eq!(app.login(&admin.email, PASSWORD).await.status, 200);

    let r = app
        .post("/api/v1/auth/password")
        .token(&admin.access)
        .json(json!({"current_password": PASSWORD, "new_password": "a-new-long-passphrase"}))
        .send()
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        app.get("/api/v1/me")
            .token(&admin.access)
            .send()
            .await
            .status,
        200
    );
    app.get("/api/v1/me")
        .token(&other.access)
        .send()
        .await
        .assert_problem(401);
    app.login(&admin.email, PASSWORD).await.assert_problem(401);
    assert_eq!(
        app.login(&admin.email, "a-new-long-passphrase")
            .await
            .status,
        200
    );
}

async fn account_lock_answers_429_even_for_the_right_password(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.auth.max_failures_per_account = 3).await;
    let admin = app.admin().await;
    for _ in 0..3 {
        app.login(&admin.email, "wrong-password-here")
            .await
            .assert_problem(401);
    }
    let r = app.login(&admin.email, PASSWORD).await;
    r.assert_problem(429);
    let retry: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0 && retry <= 900);
    // Another account from the same client is not locked.
    let (_, manager) = app.org_with_manager(&admin).await;
    assert_eq!(app.login(&manager.email, PASSWORD).await.status, 200);
}

async fn client_address_limit_answers_429(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.auth.max_attempts_per_client = 4).await;
    for i in 0..4 {
        let r = app
            .login(&format!("n{i}@example.org"), "whatever-password")
            .await;
        r.assert_problem(401);
    }
    let r = app.login("n9@example.org", "whatever-password").await;
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some());
}

async fn other_endpoints_stay_responsive_during_a_login_flood(backend: Backend) {
    const LOGINS: usize = 40;
    let app = TestApp::spawn_with(backend, |s| {
        s.auth.argon2_memory_kib = 19456;
        s.auth.argon2_iterations = 2;
        s.auth.hashing_concurrency = 1;
        s.auth.max_attempts_per_client = 10_000;
        s.auth.max_failures_per_account = 10_000;
    })
    .await;
    let admin = app.admin().await;
    let done = Arc::new(AtomicUsize::new(0));
    let flood = (0..LOGINS).map(|i| {
        let done = done.clone();
        let app = &app;
        async move {
            let r = app
                .login(&format!("flood{i}@example.org"), "wrong-password!")
                .await;
            done.fetch_add(1, Ordering::SeqCst);
            r.status
        }
    });
    let probes = async {
        let mut finished_before = vec![];
        for _ in 0..5 {
            let me = app.get("/api/v1/me").token(&admin.access).send().await;
            assert_eq!(me.status, 200);
            assert_eq!(app.get("/health/ready").send().await.status, 200);
            finished_before.push(done.load(Ordering::SeqCst));
        }
        finished_before
    };
    let (statuses, finished_before) =
        futures_util::future::join(futures_util::future::join_all(flood), probes).await;
    assert!(
        statuses.iter().all(|s| *s == 401 || *s == 503),
        "{statuses:?}"
    );
    assert!(
        finished_before.iter().all(|n| *n < LOGINS),
        "the probes were answered while logins were still queued: {finished_before:?}"
    );
}

async fn hash_is_upgraded_at_login_when_parameters_change(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let stored = |app: &TestApp| -> String {
        users::table
            .filter(users::id.eq(&admin.user_id))
            .select(users::password_hash)
            .first::<Option<String>>(&mut *app.conn())
            .unwrap()
            .unwrap()
    };
    let before = stored(&app);
    assert!(
        before.starts_with("$argon2id$") && before.contains("m=1024"),
        "{before}"
    );
    let upgraded = TestApp::spawn_on(app.db.clone(), |s| s.auth.argon2_memory_kib = 2048).await;
    assert_eq!(upgraded.login(&admin.email, PASSWORD).await.status, 200);
    let after = stored(&upgraded);
    assert!(after.contains("m=2048"), "{after}");
    assert_eq!(upgraded.login(&admin.email, PASSWORD).await.status, 200);
}

both_backends!(
    login_answers_a_token_pair,
    email_is_matched_ignoring_case,
    unknown_email_and_wrong_password_answer_alike,
    missing_or_garbage_bearer_is_401,
    logout_stops_both_tokens_at_once,
    refresh_rotates_and_reuse_revokes_the_session,
    deactivation_ends_sessions_at_once,
    password_change_needs_the_current_one_and_ends_other_sessions,
    account_lock_answers_429_even_for_the_right_password,
    client_address_limit_answers_429,
    other_endpoints_stay_responsive_during_a_login_flood,
    hash_is_upgraded_at_login_when_parameters_change,
);

/// `peerpath create-admin` takes the password from the environment, never from argv, and
/// the admin can log in through the API.
#[actix_web::test]
async fn create_admin_command_makes_an_admin_who_can_log_in() {
    let app = TestApp::spawn(Backend::Sqlite).await;
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_peerpath"))
        .args([
            "create-admin",
            "--email",
            "root@example.org",
            "--name",
            "Root",
        ])
        .env("PEERPATH_ENV", "test")
        .env(
            "PEERPATH_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env("PEERPATH__DATABASE__URL", app.db.url())
        .env("PEERPATH__DATA__DIR", app.db.data_dir())
        .env("PEERPATH_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me = app.session("root@example.org", PASSWORD).await;
    let r = app.get("/api/v1/me").token(&me.access).send().await;
    assert_eq!(r.body["role"], "admin");

    let again = std::process::Command::new(env!("CARGO_BIN_EXE_peerpath"))
        .args([
            "create-admin",
            "--email",
            "ROOT@example.org",
            "--name",
            "Root",
        ])
        .env("PEERPATH_ENV", "test")
        .env("PEERPATH__DATABASE__URL", app.db.url())
        .env("PEERPATH_ADMIN_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("email"));
}

/// In production the service refuses to start without a proper signing key.
#[test]
fn production_refuses_to_start_without_a_strong_key() {
    for key in [
        "",
        "short-key",
        "please-change-this-development-signing-key",
    ] {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_peerpath"))
            .args(["migrate", "status"])
            .env("PEERPATH_ENV", "production")
            .env(
                "PEERPATH_CONFIG_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
            )
            .env("PEERPATH__AUTH__JWT_SECRET", key)
            .output()
            .unwrap();
        assert!(!out.status.success(), "started with key {key:?}");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(stderr.contains("jwt_secret"), "{stderr}");
        if !key.is_empty() {
            assert!(!stderr.contains(key), "the key is never printed: {stderr}");
        }
    }
}

/// With no key configured, development generates one, once, readable by the owner only.
#[actix_web::test]
async fn development_key_is_generated_once_with_mode_0600() {
    use std::os::unix::fs::PermissionsExt;
    let app = TestApp::spawn_with(Backend::Sqlite, |s| {
        s.env = peerpath::config::Environment::Development;
        s.auth.jwt_secret = peerpath::config::Secret::default();
    })
    .await;
    let path = app.db.data_dir().join("jwt-signing.key");
    let meta = std::fs::metadata(&path).unwrap();
    assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    let key = std::fs::read_to_string(&path).unwrap();
    let admin = app.admin().await;
    let again = TestApp::spawn_on(app.db.clone(), |s| {
        s.env = peerpath::config::Environment::Development;
        s.auth.jwt_secret = peerpath::config::Secret::default();
    })
    .await;
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        key,
        "kept, not regenerated"
    );
    assert_eq!(
        again
            .get("/api/v1/me")
            .token(&admin.access)
            .send()
            .await
            .status,
        200
    );
}
