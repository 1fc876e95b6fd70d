//! The audit trail: every change and login, scoped by organisation, append-only.

use diesel::RunQueryDsl;
use serde_json::json;

use crate::both_backends;
use crate::helpers::{PASSWORD, TestApp};
use peerpath::db::Backend;

fn actions(body: &serde_json::Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn changes_and_logins_are_audited_with_request_ids(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    app.login(&manager.email, "a-wrong-password").await;
    let created = app
        .post("/api/v1/users")
        .token(&manager.access)
        .header("x-request-id", "req-audit-1")
        .json(
            json!({"email": "w@example.org", "display_name": "W", "role": "peer_worker",
            "password": PASSWORD}),
        )
        .send()
        .await;
    assert_eq!(created.status, 201);

    let r = app
        .get("/api/v1/audit-events?limit=200")
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let seen = actions(&r.body);
    for expected in ["user.created", "auth.login_succeeded", "auth.login_failed"] {
        assert!(
            seen.contains(&expected.to_string()),
            "{expected} in {seen:?}"
        );
    }
    let items = r.body["items"].as_array().unwrap();
    assert!(
        items.iter().all(|e| e["organisation_id"] == org.as_str()),
        "own organisation only"
    );
    let creation = items
        .iter()
        .find(|e| e["request_id"] == "req-audit-1")
        .expect("the request id is recorded");
    assert_eq!(creation["entity_id"], created.body["id"]);
    assert_eq!(creation["actor_id"], manager.user_id.as_str());
    assert!(
        !r.text.contains("w@example.org"),
        "no personal data in the trail"
    );

    let filtered = app
        .get("/api/v1/audit-events?action=auth.login_failed")
        .token(&manager.access)
        .send()
        .await;
    assert!(
        actions(&filtered.body)
            .iter()
            .all(|a| a == "auth.login_failed")
    );
    assert!(!actions(&filtered.body).is_empty());
}

async fn only_admins_and_managers_read_the_trail_and_managers_only_their_own(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let (other, _) = app.org_with_manager(&admin).await;
    let worker = app.user(&manager, "peer_worker", Some(&org)).await;
    app.get("/api/v1/audit-events")
        .token(&worker.access)
        .send()
        .await
        .assert_problem(403);
    let foreign = app
        .get(&format!("/api/v1/audit-events?organisation_id={other}"))
        .token(&manager.access)
        .send()
        .await;
    assert_eq!(foreign.status, 200);
    assert!(foreign.body["items"].as_array().unwrap().is_empty());
    let all = app
        .get(&format!("/api/v1/audit-events?organisation_id={other}"))
        .token(&admin.access)
        .send()
        .await;
    assert!(!all.body["items"].as_array().unwrap().is_empty());
}

async fn audit_events_cannot_be_changed_or_deleted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    app.create_org(&admin, "Audited").await;
    let mut conn = app.conn();
    assert!(
        diesel::sql_query("UPDATE audit_events SET action = 'nothing'")
            .execute(&mut *conn)
            .is_err()
    );
    assert!(
        diesel::sql_query("DELETE FROM audit_events")
            .execute(&mut *conn)
            .is_err()
    );
    let r = app
        .get("/api/v1/audit-events")
        .token(&admin.access)
        .send()
        .await;
    assert!(actions(&r.body).contains(&"organisation.created".to_string()));
}

both_backends!(
    changes_and_logins_are_audited_with_request_ids,
    only_admins_and_managers_read_the_trail_and_managers_only_their_own,
    audit_events_cannot_be_changed_or_deleted,
);
