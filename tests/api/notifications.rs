//! Email through the outbox, delivered over SMTP to a real server: invitations, password
//! resets, preferences, digests, and the failure paths (server down, 451, 550, hanging,
//! a worker dying after its claim, two workers on one queue).

use std::time::Duration;

use chrono::TimeDelta;
use diesel::prelude::*;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{PASSWORD, Session, TestApp};
use crate::smtp::{Behaviour, SmtpServer, unused_port};
use peerpath::config::{EmailTransport, Settings};
use peerpath::db::schema::{account_tokens, notifications};
use peerpath::db::{self, Backend};

const WAIT: Duration = Duration::from_secs(20);

pub fn via(port: u16) -> impl FnOnce(&mut Settings) {
    move |s: &mut Settings| {
        s.email.transport = EmailTransport::Smtp;
        s.email.smtp_host = "127.0.0.1".into();
        s.email.smtp_port = port;
    }
}

/// Polls until `check` holds on the notification rows (the worker runs on its own).
async fn until_rows(
    app: &TestApp,
    check: impl Fn(&[(String, i32, Option<String>)]) -> bool,
) -> Vec<(String, i32, Option<String>)> {
    let deadline = std::time::Instant::now() + WAIT;
    loop {
        let rows: Vec<(String, i32, Option<String>)> = notifications::table
            .select((
                notifications::status,
                notifications::attempts,
                notifications::last_error,
            ))
            .order(notifications::id.asc())
            .load(&mut *app.conn())
            .unwrap();
        if check(&rows) || std::time::Instant::now() > deadline {
            return rows;
        }
        actix_web::rt::time::sleep(Duration::from_millis(50)).await;
    }
}

fn count_rows(app: &TestApp) -> i64 {
    notifications::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

async fn invite(app: &TestApp, by: &Session, org: &str, email: &str) -> crate::helpers::Resp {
    app.post("/api/v1/users")
        .token(&by.access)
        .json(
            json!({"email": email, "display_name": "Robin Peer", "role": "peer_worker",
            "organisation_id": org}),
        )
        .send()
        .await
}

fn token_of(mail: &crate::smtp::Received) -> String {
    mail.find_after("set-password?token=")
        .expect("a link with a token")
}

async fn invitation_email_leads_to_a_password_once(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let r = invite(&app, &manager, &org, "robin@example.org").await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["has_password"], false);

    let mail = smtp.wait_for(1, WAIT).await;
    assert_eq!(mail.len(), 1);
    let mail = &mail[0];
    assert!(mail.to[0].contains("robin@example.org"));
    assert!(mail.header("subject").unwrap().contains("invited"));
    assert!(
        mail.header("content-type")
            .unwrap()
            .contains("multipart/alternative")
    );
    assert!(mail.data.contains("text/plain") && mail.data.contains("text/html"));
    assert!(mail.header("message-id").is_some());
    let org_name = app
        .get(&format!("/api/v1/organisations/{org}"))
        .token(&admin.access)
        .send()
        .await
        .body["name"]
        .as_str()
        .unwrap()
        .to_string();
    assert!(mail.data.contains(&org_name), "the organisation is named");
    let token = token_of(mail);
    assert!(token.len() >= 43, "at least 256 bits: {token}");

    // The link opens a page with a form.
    let page = app
        .get(&format!("/account/set-password?token={token}"))
        .send()
        .await;
    assert_eq!(page.status, 200);
    assert!(page.text.contains("<form") && page.text.contains("type=\"password\""));

    let weak = app
        .post("/api/v1/auth/set-password")
        .json(json!({"token": token, "password": "password123"}))
        .send()
        .await;
    weak.assert_problem(422);
    let set = app
        .post("/api/v1/auth/set-password")
        .json(json!({"token": token, "password": PASSWORD}))
        .send()
        .await;
    assert_eq!(set.status, 204, "{}", set.text);
    assert_eq!(app.login("robin@example.org", PASSWORD).await.status, 200);

    let again = app
        .post("/api/v1/auth/set-password")
        .json(json!({"token": token, "password": "another-long-password"}))
        .send()
        .await;
    again.assert_problem(422);
    assert!(
        again.body["errors"]["token"][0]
            .as_str()
            .unwrap()
            .contains("already used")
    );
    assert_eq!(
        app.login("robin@example.org", PASSWORD).await.status,
        200,
        "unchanged"
    );

    // Delivered link emails do not keep their link in the database.
    let body: String = notifications::table
        .select(notifications::body_text)
        .first(&mut *app.conn())
        .unwrap();
    assert!(!body.contains(&token));
}

async fn the_emailed_link_works_in_a_plain_browser_form(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    invite(&app, &manager, &org, "browser@example.org").await;
    let token = token_of(&smtp.wait_for(1, WAIT).await[0]);
    let link = format!("/account/set-password?token={token}");
    let action = "/account/set-password";
    let mut browser = crate::pages::Browser::new(&app);
    let mismatch = [
        ("token", token.as_str()),
        ("password", "one-long-password"),
        ("confirm", "two-long-password"),
    ];
    let mismatch = browser.submit(&link, action, &mismatch).await;
    assert_eq!(mismatch.status, 422);
    assert!(mismatch.text.contains("not the same") && mismatch.text.contains("<form"));
    let good = [
        ("token", token.as_str()),
        ("password", PASSWORD),
        ("confirm", PASSWORD),
    ];
    let saved = browser.submit(&link, action, &good).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert!(saved.text.contains("password is saved"));
    assert!(saved.text.contains("href=\"/sign-in\""));
    assert_eq!(app.login("browser@example.org", PASSWORD).await.status, 200);
    let reused = browser.submit(&link, action, &good).await;
    assert_eq!(reused.status, 422);
    assert!(reused.text.contains("used already"));

    let asked = browser.get("/account/reset-password").await;
    assert!(asked.text.contains("type=\"email\""));
    let sent = browser
        .submit(
            "/account/reset-password",
            "/account/reset-password",
            &[("email", "browser@example.org")],
        )
        .await;
    assert_eq!(sent.status, 200);
    assert!(sent.text.contains("Check your email"));
    let mail = smtp.wait_for(2, WAIT).await;
    assert!(mail[1].header("subject").unwrap().contains("Reset"));
}

async fn expired_and_unknown_links_are_refused(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    invite(&app, &manager, &org, "late@example.org").await;
    let token = token_of(&smtp.wait_for(1, WAIT).await[0]);
    diesel::update(account_tokens::table)
        .set(account_tokens::expires_at.eq(db::now() - TimeDelta::minutes(1)))
        .execute(&mut *app.conn())
        .unwrap();
    let r = app
        .post("/api/v1/auth/set-password")
        .json(json!({"token": token, "password": PASSWORD}))
        .send()
        .await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["token"][0]
            .as_str()
            .unwrap()
            .contains("expired")
    );
    let r = app
        .post("/api/v1/auth/set-password")
        .json(json!({"token": "made-up", "password": PASSWORD}))
        .send()
        .await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["token"][0]
            .as_str()
            .unwrap()
            .contains("not valid")
    );
    app.login("late@example.org", PASSWORD)
        .await
        .assert_problem(401);
}

async fn password_reset_answers_alike_and_ends_sessions(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let known = app
        .post("/api/v1/auth/password-reset")
        .json(json!({"email": admin.email.to_uppercase()}))
        .send()
        .await;
    let unknown = app
        .post("/api/v1/auth/password-reset")
        .json(json!({"email": "nobody@example.org"}))
        .send()
        .await;
    assert_eq!(known.status, 202);
    assert_eq!(known.text, unknown.text);
    let mail = smtp.wait_for(1, WAIT).await;
    assert_eq!(mail.len(), 1, "only the real account gets an email");
    assert!(mail[0].to[0].contains(&admin.email));
    let token = token_of(&mail[0]);

    // A second request inside the cooldown sends nothing more, and answers the same.
    let again = app
        .post("/api/v1/auth/password-reset")
        .json(json!({"email": admin.email}))
        .send()
        .await;
    assert_eq!(again.text, known.text);

    let r = app
        .post("/api/v1/auth/set-password")
        .json(json!({"token": token, "password": "a-brand-new-passphrase"}))
        .send()
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    app.get("/api/v1/me")
        .token(&admin.access)
        .send()
        .await
        .assert_problem(401);
    app.login(&admin.email, PASSWORD).await.assert_problem(401);
    assert_eq!(
        app.login(&admin.email, "a-brand-new-passphrase")
            .await
            .status,
        200
    );
    let mail = smtp.wait_for(2, WAIT).await;
    assert_eq!(mail.len(), 2);
    assert!(
        mail[1]
            .header("subject")
            .unwrap()
            .contains("password was changed")
    );
    app.post("/api/v1/auth/set-password")
        .json(json!({"token": token, "password": "yet-another-passphrase"}))
        .send()
        .await
        .assert_problem(422);
}

async fn password_reset_requests_are_limited_per_client(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.auth.max_attempts_per_client = 3).await;
    for i in 0..3 {
        let r = app
            .post("/api/v1/auth/password-reset")
            .json(json!({"email": format!("x{i}@example.org")}))
            .send()
            .await;
        assert_eq!(r.status, 202);
    }
    let r = app
        .post("/api/v1/auth/password-reset")
        .json(json!({"email": "x9@example.org"}))
        .send()
        .await;
    r.assert_problem(429);
    assert!(r.header("retry-after").is_some());
}

async fn changing_a_password_sends_a_notice(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let r = app
        .post("/api/v1/auth/password")
        .token(&admin.access)
        .json(json!({"current_password": PASSWORD, "new_password": "fresh-long-passphrase"}))
        .send()
        .await;
    assert_eq!(r.status, 204);
    let mail = smtp.wait_for(1, WAIT).await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0]
            .header("subject")
            .unwrap()
            .contains("password was changed")
    );
    assert!(!mail[0].data.contains("fresh-long-passphrase"));
}

async fn a_failed_transaction_queues_no_email(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let before = count_rows(&app);
    app.user(&manager, "supervisor", Some(&org)).await;
    let taken = app
        .get("/api/v1/users?role=supervisor")
        .token(&manager.access)
        .send()
        .await;
    let email = taken.body["items"][0]["email"]
        .as_str()
        .unwrap()
        .to_string();
    // An invitation for an address already in use: the user insert fails, so does the email.
    invite(&app, &manager, &org, &email)
        .await
        .assert_problem(409);
    assert_eq!(count_rows(&app), before);
}

async fn a_retried_request_queues_one_email(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    for _ in 0..3 {
        let r = app
            .post("/api/v1/users")
            .token(&manager.access)
            .header("idempotency-key", "invite-once")
            .json(
                json!({"email": "once@example.org", "display_name": "Once", "role": "peer_worker",
                "organisation_id": org}),
            )
            .send()
            .await;
        assert_eq!(r.status, 201);
    }
    assert_eq!(smtp.wait_for(1, WAIT).await.len(), 1);
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1);
    assert_eq!(count_rows(&app), 1);
}

async fn the_same_dedupe_key_queues_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.email.run_worker = false).await;
    let admin = app.admin().await;
    let mailer = app.state.notifications.clone();
    let admin_id = admin.user_id.clone();
    let outcomes = app
        .state
        .db
        .write(move |conn| {
            let mut out = vec![];
            for _ in 0..2 {
                let recipient = peerpath::notifications::recipient_for_user(conn, &admin_id)?;
                out.push(mailer.enqueue(
                    conn,
                    peerpath::notifications::Email {
                        kind: peerpath::notifications::Kind::PasswordChanged,
                        recipient,
                        dedupe_key: "event-42".into(),
                        values: json!({"when": "today", "link": "http://x"}),
                    },
                )?);
            }
            Ok(out)
        })
        .await
        .unwrap();
    use peerpath::notifications::Queued;
    assert_eq!(outcomes, vec![Queued::Queued, Queued::Duplicate]);
    assert_eq!(count_rows(&app), 1);
}

async fn an_email_queued_while_the_server_is_down_arrives_when_it_is_up(backend: Backend) {
    let port = unused_port();
    let app = TestApp::spawn_with(backend, via(port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let r = invite(&app, &manager, &org, "patient@example.org").await;
    assert_eq!(r.status, 201, "the API answers at once");
    let rows = until_rows(&app, |rows| rows.iter().any(|r| r.2.is_some())).await;
    assert_eq!(rows[0].0, "pending", "{rows:?}");
    assert_eq!(rows[0].2.as_deref(), Some("transient: connection"));
    let smtp = SmtpServer::start_on(port, Behaviour::default());
    let mail = smtp.wait_for(1, WAIT).await;
    assert_eq!(mail.len(), 1);
    let rows = until_rows(&app, |rows| rows[0].0 == "sent").await;
    assert_eq!(rows[0].0, "sent");
}

async fn a_451_is_retried_and_delivered_once(backend: Backend) {
    let smtp = SmtpServer::start_on(
        0,
        Behaviour {
            temp_failures: 1,
            ..Behaviour::default()
        },
    );
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    invite(&app, &manager, &org, "second-try@example.org").await;
    let rows = until_rows(&app, |rows| rows[0].0 == "sent").await;
    assert_eq!(rows[0].0, "sent", "{rows:?}");
    assert_eq!(rows[0].1, 2, "one refusal, one delivery");
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1);
}

async fn a_550_is_dead_at_once_and_others_still_go(backend: Backend) {
    let smtp = SmtpServer::start_on(
        0,
        Behaviour {
            reject_containing: Some("bounce".into()),
            ..Behaviour::default()
        },
    );
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    invite(&app, &manager, &org, "bounce@example.org").await;
    invite(&app, &manager, &org, "fine@example.org").await;
    let rows = until_rows(&app, |rows| {
        rows.iter().all(|r| r.0 == "sent" || r.0 == "dead")
    })
    .await;
    assert_eq!(
        rows[0],
        ("dead".into(), 1, Some("permanent: 550".into())),
        "{rows:?}"
    );
    assert_eq!(rows[1].0, "sent");
    let mail = smtp.received();
    assert_eq!(mail.len(), 1);
    assert!(mail[0].to[0].contains("fine@example.org"));

    // The manager sees it (metadata only) and can put it back in the queue.
    let list = app
        .get("/api/v1/notifications?status=dead")
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    let items = list.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert!(items[0].get("body_text").is_none() && items[0].get("recipient_email").is_none());
    let id = items[0]["id"].as_str().unwrap();
    let sent_id = app
        .get("/api/v1/notifications?status=sent")
        .token(&manager.access)
        .send()
        .await
        .body["items"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/notifications/{sent_id}/retry"))
        .token(&manager.access)
        .send()
        .await
        .assert_problem(409);
    smtp.set(Behaviour::default());
    let retried = app
        .post(&format!("/api/v1/notifications/{id}/retry"))
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(retried.status, 200, "{}", retried.text);
    assert_eq!(smtp.wait_for(2, WAIT).await.len(), 2);

    // Others may not look.
    let worker = app.user(&manager, "peer_worker", Some(&org)).await;
    app.get("/api/v1/notifications")
        .token(&worker.access)
        .send()
        .await
        .assert_problem(403);
    let (_, outsider) = app.org_with_manager(&admin).await;
    let theirs = app
        .get("/api/v1/notifications")
        .token(&outsider.access)
        .send()
        .await;
    assert!(theirs.body["items"].as_array().unwrap().is_empty());
    app.post(&format!("/api/v1/notifications/{id}/retry"))
        .token(&outsider.access)
        .send()
        .await
        .assert_problem(404);
}

async fn a_server_that_never_answers_times_out_without_stalling_the_api(backend: Backend) {
    let smtp = SmtpServer::start_on(
        0,
        Behaviour {
            hang: true,
            ..Behaviour::default()
        },
    );
    let app = TestApp::spawn_with(backend, |s| {
        via(smtp.port)(s);
        s.email.timeout_secs = 1;
    })
    .await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    invite(&app, &manager, &org, "slow@example.org").await;
    let rows = until_rows(&app, |rows| rows[0].2.is_some()).await;
    assert_eq!(rows[0].2.as_deref(), Some("transient: timeout"), "{rows:?}");
    // The API went on answering meanwhile.
    assert_eq!(
        app.get("/api/v1/me")
            .token(&manager.access)
            .send()
            .await
            .status,
        200
    );
    smtp.set(Behaviour::default());
    assert_eq!(smtp.wait_for(1, WAIT).await.len(), 1);
}

async fn a_claim_whose_worker_died_is_taken_again_after_the_lease(backend: Backend) {
    let smtp = SmtpServer::start();
    // This app queues but does not deliver; a "worker" claims and dies.
    let app = TestApp::spawn_with(backend, |s| {
        via(smtp.port)(s);
        s.email.run_worker = false;
    })
    .await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    invite(&app, &manager, &org, "orphan@example.org").await;
    let claimed = app
        .state
        .db
        .write(|conn| {
            let now = db::now();
            Ok(db::notifications::claim_due(
                conn,
                now,
                now + TimeDelta::seconds(1),
                "dead-worker",
                10,
            )?)
        })
        .await
        .unwrap();
    assert_eq!(claimed.len(), 1);
    // A live worker starts; the row is leased to the dead one until the lease runs out.
    let live = TestApp::spawn_on(app.db.clone(), via(smtp.port)).await;
    let mail = smtp.wait_for(1, WAIT).await;
    assert_eq!(mail.len(), 1);
    let rows = until_rows(&live, |rows| rows[0].0 == "sent").await;
    assert_eq!(rows[0].0, "sent");
    assert_eq!(rows[0].1, 2, "claimed twice, delivered once");
}

async fn two_workers_deliver_each_of_100_emails_exactly_once(backend: Backend) {
    let smtp = SmtpServer::start();
    let first = TestApp::spawn_with(backend, |s| {
        via(smtp.port)(s);
        s.email.run_worker = false;
    })
    .await;
    let admin = first.admin().await;
    let mailer = first.state.notifications.clone();
    let admin_id = admin.user_id.clone();
    first
        .state
        .db
        .write(move |conn| {
            for i in 0..100 {
                let recipient = peerpath::notifications::recipient_for_user(conn, &admin_id)?;
                mailer.enqueue(
                    conn,
                    peerpath::notifications::Email {
                        kind: peerpath::notifications::Kind::PasswordChanged,
                        recipient,
                        dedupe_key: format!("bulk-{i}"),
                        values: json!({"when": format!("moment {i}"), "link": "http://x"}),
                    },
                )?;
            }
            Ok(())
        })
        .await
        .unwrap();
    let small_batches = |s: &mut Settings| {
        via(smtp.port)(s);
        s.email.batch_size = 5;
    };
    let a = TestApp::spawn_on(first.db.clone(), small_batches).await;
    let b = TestApp::spawn_on(first.db.clone(), small_batches).await;
    let mail = smtp.wait_for(100, Duration::from_secs(60)).await;
    actix_web::rt::time::sleep(Duration::from_millis(500)).await;
    let mail = if mail.len() >= 100 {
        smtp.received()
    } else {
        mail
    };
    let mut ids: Vec<String> = mail
        .iter()
        .map(|m| m.header("message-id").unwrap())
        .collect();
    assert_eq!(ids.len(), 100, "every email delivered once");
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 100, "no email delivered twice");
    let rows = until_rows(&a, |rows| rows.iter().all(|r| r.0 == "sent")).await;
    assert!(
        rows.iter().all(|r| r.0 == "sent" && r.1 == 1),
        "one attempt each"
    );
    drop(b);
}

async fn preferences_mute_routine_kinds_only(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let prefs = app
        .get("/api/v1/me/notification-preferences")
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(prefs.status, 200);
    assert_eq!(prefs.header("etag").as_deref(), Some("\"v0\""));
    let kinds = prefs.body["kinds"].as_array().unwrap();
    let safety = kinds
        .iter()
        .find(|k| k["kind"] == "password_changed")
        .unwrap();
    assert_eq!(safety["can_mute"], false);

    let refused = app
        .req(
            actix_web::http::Method::PUT,
            "/api/v1/me/notification-preferences",
        )
        .token(&manager.access)
        .header("if-match", "\"v0\"")
        .json(json!({"daily_digest": false, "muted": ["password_changed"]}))
        .send()
        .await;
    refused.assert_problem(422);
    assert!(refused.body["errors"]["muted"].is_array());

    let saved = app
        .req(
            actix_web::http::Method::PUT,
            "/api/v1/me/notification-preferences",
        )
        .token(&manager.access)
        .header("if-match", "\"v0\"")
        .json(json!({"daily_digest": false, "muted": ["network_joined"]}))
        .send()
        .await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.header("etag").as_deref(), Some("\"v1\""));
    app.req(
        actix_web::http::Method::PUT,
        "/api/v1/me/notification-preferences",
    )
    .token(&manager.access)
    .header("if-match", "\"v0\"")
    .json(json!({"daily_digest": true, "muted": []}))
    .send()
    .await
    .assert_problem(412);

    // A muted routine email is not sent; a safety one still is.
    join_network(&app, &admin, &org).await;
    app.post("/api/v1/auth/password")
        .token(&manager.access)
        .json(json!({"current_password": PASSWORD, "new_password": "muted-but-safe-pass"}))
        .send()
        .await;
    let mail = smtp.wait_for(1, WAIT).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let mail = if mail.len() == 1 {
        smtp.received()
    } else {
        mail
    };
    assert_eq!(mail.len(), 1, "only the password notice");
    assert!(mail[0].header("subject").unwrap().contains("password"));
}

async fn join_network(app: &TestApp, admin: &Session, org: &str) {
    let network = app
        .post("/api/v1/networks")
        .token(&admin.access)
        .json(
            json!({"name": format!("Net {}", uuid::Uuid::new_v4().simple()), "scope": "national"}),
        )
        .send()
        .await
        .id();
    let r = app
        .req(
            actix_web::http::Method::PUT,
            &format!("/api/v1/networks/{network}/organisations/{org}"),
        )
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(r.status, 200);
}

async fn routine_emails_go_out_at_once_or_in_one_daily_digest(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    join_network(&app, &admin, &org).await;
    let mail = smtp.wait_for(1, WAIT).await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0]
            .header("subject")
            .unwrap()
            .contains("has joined the")
    );

    app.req(
        actix_web::http::Method::PUT,
        "/api/v1/me/notification-preferences",
    )
    .token(&manager.access)
    .header("if-match", "\"v0\"")
    .json(json!({"daily_digest": true, "muted": []}))
    .send()
    .await;
    join_network(&app, &admin, &org).await;
    join_network(&app, &admin, &org).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(smtp.received().len(), 1, "held for the digest");

    // The daily job, run by two instances at once for the same day, sends one digest.
    let other = TestApp::spawn_on(app.db.clone(), via(smtp.port)).await;
    let tomorrow = db::now() + TimeDelta::days(1);
    let settings = app.state.settings.scheduler.clone();
    let (ran_a, ran_b) = futures_util::future::join(
        peerpath::scheduler::tick(&app.state.db, &app.state.notifications, &settings, tomorrow),
        peerpath::scheduler::tick(
            &other.state.db,
            &other.state.notifications,
            &settings,
            tomorrow,
        ),
    )
    .await;
    let runs = ran_a.unwrap().len() + ran_b.unwrap().len();
    assert_eq!(runs, peerpath::scheduler::JOBS.len(), "each job ran once");
    let mail = smtp.wait_for(2, WAIT).await;
    actix_web::rt::time::sleep(Duration::from_millis(300)).await;
    let mail = if mail.len() == 2 {
        smtp.received()
    } else {
        mail
    };
    assert_eq!(mail.len(), 2);
    let digest = &mail[1];
    assert!(
        digest.header("subject").unwrap().contains("2 updates"),
        "{:?}",
        digest.header("subject")
    );
    // A later tick for the same day runs nothing.
    let again =
        peerpath::scheduler::tick(&app.state.db, &app.state.notifications, &settings, tomorrow)
            .await
            .unwrap();
    assert!(again.is_empty());
}

async fn metrics_count_emails(backend: Backend) {
    let smtp = SmtpServer::start();
    let app = TestApp::spawn_with(backend, via(smtp.port)).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    invite(&app, &manager, &org, "counted@example.org").await;
    smtp.wait_for(1, WAIT).await;
    actix_web::rt::time::sleep(Duration::from_millis(200)).await;
    let m = app.get("/metrics").send().await;
    assert!(m.text.contains("notifications_sent_total"), "{}", m.text);
    assert!(m.text.contains("notifications_pending"));
    assert!(m.text.contains("notifications_oldest_pending_age_seconds"));
}

both_backends!(
    invitation_email_leads_to_a_password_once,
    the_emailed_link_works_in_a_plain_browser_form,
    expired_and_unknown_links_are_refused,
    password_reset_answers_alike_and_ends_sessions,
    password_reset_requests_are_limited_per_client,
    changing_a_password_sends_a_notice,
    a_failed_transaction_queues_no_email,
    a_retried_request_queues_one_email,
    the_same_dedupe_key_queues_once,
    an_email_queued_while_the_server_is_down_arrives_when_it_is_up,
    a_451_is_retried_and_delivered_once,
    a_550_is_dead_at_once_and_others_still_go,
    a_server_that_never_answers_times_out_without_stalling_the_api,
    a_claim_whose_worker_died_is_taken_again_after_the_lease,
    two_workers_deliver_each_of_100_emails_exactly_once,
    preferences_mute_routine_kinds_only,
    routine_emails_go_out_at_once_or_in_one_daily_digest,
    metrics_count_emails,
);

/// Production refuses the file transport unless told so.
#[test]
fn production_refuses_the_file_transport() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_peerpath"))
        .args(["migrate", "status"])
        .env("PEERPATH_ENV", "production")
        .env(
            "PEERPATH_CONFIG_DIR",
            concat!(env!("CARGO_MANIFEST_DIR"), "/config"),
        )
        .env(
            "PEERPATH__AUTH__JWT_SECRET",
            "q8Jx2mV9tL4wR7nB1cK5zH3pY6sD0fGa-long-enough",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("email.transport"));
}
