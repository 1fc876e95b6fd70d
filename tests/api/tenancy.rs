//! Organisations, networks and users: who may see and change what.

use serde_json::json;

use crate::both_backends;
use crate::helpers::{PASSWORD, TestApp};
use peerpath::db::Backend;

async fn the_foundation_walkthrough(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let org = app.create_org(&admin, "Hepatitis C Trust North").await;
    let manager = app.user(&admin, "programme_manager", Some(&org)).await;

    // The manager creates a supervisor and a peer worker; the organisation defaults to theirs.
    let r = app
        .post("/api/v1/users")
        .token(&manager.access)
        .json(
            json!({"email": "sup@example.org", "display_name": "Sam Supervisor",
            "role": "supervisor", "password": PASSWORD}),
        )
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["organisation_id"], org.as_str());
    assert!(r.header("location").unwrap().ends_with(&r.id()));
    let worker = app.user(&manager, "peer_worker", Some(&org)).await;

    // A manager of another organisation sees neither.
    let (_, outsider) = app.org_with_manager(&admin).await;
    for id in [r.id(), worker.user_id.clone()] {
        app.get(&format!("/api/v1/users/{id}"))
            .token(&outsider.access)
            .send()
            .await
            .assert_problem(404);
    }
    let listed = app
        .get("/api/v1/users")
        .token(&outsider.access)
        .send()
        .await;
    assert_eq!(
        listed.body["items"].as_array().unwrap().len(),
        1,
        "only themselves"
    );

    // The peer worker cannot create users.
    app.post("/api/v1/users")
        .token(&worker.access)
        .json(
            json!({"email": "x@example.org", "display_name": "X", "role": "peer_worker",
            "organisation_id": org}),
        )
        .send()
        .await
        .assert_problem(403);

    // Nor change their own role: refused, and unchanged.
    let me = app.get("/api/v1/me").token(&worker.access).send().await;
    let etag = me.header("etag").unwrap();
    app.patch(&format!("/api/v1/users/{}", worker.user_id))
        .token(&worker.access)
        .header("if-match", &etag)
        .json(json!({"role": "programme_manager"}))
        .send()
        .await
        .assert_problem(403);
    // Nor smuggle fields the API does not accept.
    app.patch(&format!("/api/v1/users/{}", worker.user_id))
        .token(&worker.access)
        .header("if-match", &etag)
        .json(json!({"organisation_id": r.body["organisation_id"], "display_name": "Me"}))
        .send()
        .await
        .assert_problem(422);
    let after = app.get("/api/v1/me").token(&worker.access).send().await;
    assert_eq!(after.body["role"], "peer_worker");
    assert_eq!(after.body["version"], me.body["version"]);

    // They may change their own display name.
    let renamed = app
        .patch(&format!("/api/v1/users/{}", worker.user_id))
        .token(&worker.access)
        .header("if-match", &etag)
        .json(json!({"display_name": "Rowan"}))
        .send()
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.text);
    assert_eq!(renamed.body["display_name"], "Rowan");
}

async fn programme_managers_create_only_supervisors_and_peer_workers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    for role in ["programme_manager", "admin"] {
        let mut body =
            json!({"email": format!("{role}@example.org"), "display_name": "X", "role": role});
        if role != "admin" {
            body["organisation_id"] = json!(org);
        }
        app.post("/api/v1/users")
            .token(&manager.access)
            .json(body)
            .send()
            .await
            .assert_problem(403);
    }
    // Nor in another organisation: that one is not visible to them.
    let other = app.create_org(&admin, "Elsewhere").await;
    app.post("/api/v1/users")
        .token(&manager.access)
        .json(
            json!({"email": "e@example.org", "display_name": "E", "role": "peer_worker",
            "organisation_id": other}),
        )
        .send()
        .await
        .assert_problem(404);
}

async fn supervisors_cannot_manage_accounts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let supervisor = app.user(&manager, "supervisor", Some(&org)).await;
    let worker = app.user(&manager, "peer_worker", Some(&org)).await;
    app.get("/api/v1/users")
        .token(&supervisor.access)
        .send()
        .await
        .assert_problem(403);
    app.get(&format!("/api/v1/users/{}", worker.user_id))
        .token(&supervisor.access)
        .send()
        .await
        .assert_problem(403);
}

async fn etag(app: &TestApp, id: &str, token: &str) -> String {
    let r = app
        .get(&format!("/api/v1/users/{id}"))
        .token(token)
        .send()
        .await;
    r.header("etag").unwrap()
}

async fn managers_cannot_change_other_managers_or_promote(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let colleague = app.user(&admin, "programme_manager", Some(&org)).await;
    let worker = app.user(&manager, "peer_worker", Some(&org)).await;
    let e = etag(&app, &colleague.user_id, &manager.access).await;
    app.patch(&format!("/api/v1/users/{}", colleague.user_id))
        .token(&manager.access)
        .header("if-match", &e)
        .json(json!({"active": false}))
        .send()
        .await
        .assert_problem(403);
    let e = etag(&app, &worker.user_id, &manager.access).await;
    app.patch(&format!("/api/v1/users/{}", worker.user_id))
        .token(&manager.access)
        .header("if-match", &e)
        .json(json!({"role": "programme_manager"}))
        .send()
        .await
        .assert_problem(403);
    let ok = app
        .patch(&format!("/api/v1/users/{}", worker.user_id))
        .token(&manager.access)
        .header("if-match", &e)
        .json(json!({"role": "supervisor"}))
        .send()
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["role"], "supervisor");
}

async fn organisations_are_admin_managed_and_visible_only_to_their_people(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let (other, _) = app.org_with_manager(&admin).await;
    app.post("/api/v1/organisations")
        .token(&manager.access)
        .json(json!({"name": "Mine now"}))
        .send()
        .await
        .assert_problem(403);
    assert_eq!(
        app.get(&format!("/api/v1/organisations/{org}"))
            .token(&manager.access)
            .send()
            .await
            .status,
        200
    );
    app.get(&format!("/api/v1/organisations/{other}"))
        .token(&manager.access)
        .send()
        .await
        .assert_problem(404);
    let listed = app
        .get("/api/v1/organisations")
        .token(&manager.access)
        .send()
        .await;
    let items = listed.body["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["id"], org.as_str());
    let all = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(all.body["items"].as_array().unwrap().len(), 2);
}

async fn networks_group_organisations_and_members_see_only_themselves(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (a, manager_a) = app.org_with_manager(&admin).await;
    let (b, manager_b) = app.org_with_manager(&admin).await;
    let (_, manager_c) = app.org_with_manager(&admin).await;
    let r = app
        .post("/api/v1/networks")
        .token(&admin.access)
        .json(json!({"name": "North West HCV Peers", "scope": "local"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let network = r.id();
    for org in [&a, &b, &a] {
        let r = app
            .req(
                actix_web::http::Method::PUT,
                &format!("/api/v1/networks/{network}/organisations/{org}"),
            )
            .token(&admin.access)
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
    let seen = app
        .get(&format!("/api/v1/networks/{network}"))
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(seen.body["organisation_ids"].as_array().unwrap().len(), 2);

    let by_a = app
        .get(&format!("/api/v1/networks/{network}"))
        .token(&manager_a.access)
        .send()
        .await;
    assert_eq!(by_a.status, 200);
    assert_eq!(
        by_a.body["organisation_ids"],
        json!([a]),
        "members are not disclosed"
    );
    assert_eq!(
        app.get("/api/v1/networks")
            .token(&manager_b.access)
            .send()
            .await
            .body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
    app.get(&format!("/api/v1/networks/{network}"))
        .token(&manager_c.access)
        .send()
        .await
        .assert_problem(404);
    app.post("/api/v1/networks")
        .token(&manager_a.access)
        .json(json!({"name": "Mine", "scope": "national"}))
        .send()
        .await
        .assert_problem(403);
    let bad_scope = app
        .post("/api/v1/networks")
        .token(&admin.access)
        .json(json!({"name": "Galactic", "scope": "galactic"}))
        .send()
        .await;
    bad_scope.assert_problem(422);
    assert!(bad_scope.body["errors"]["scope"].is_array());

    let removed = app
        .req(
            actix_web::http::Method::DELETE,
            &format!("/api/v1/networks/{network}/organisations/{a}"),
        )
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(removed.body["organisation_ids"], json!([b]));
    app.get(&format!("/api/v1/networks/{network}"))
        .token(&manager_a.access)
        .send()
        .await
        .assert_problem(404);
}

both_backends!(
    the_foundation_walkthrough,
    programme_managers_create_only_supervisors_and_peer_workers,
    supervisors_cannot_manage_accounts,
    managers_cannot_change_other_managers_or_promote,
    organisations_are_admin_managed_and_visible_only_to_their_people,
    networks_group_organisations_and_members_see_only_themselves,
);
