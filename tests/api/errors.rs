//! Every error class is answered as problem+json with its status, and changes nothing.

use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;
use peerpath::db::Backend;

async fn unknown_route_is_404(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.get("/api/v1/no-such-thing")
        .send()
        .await
        .assert_problem(404);
    app.get("/health/nothing-here")
        .send()
        .await
        .assert_problem(404);
    // Outside the API an unknown path is a page.
    let page = app.get("/nothing-here").send().await;
    assert_eq!(page.status, 404);
    assert!(
        page.header("content-type")
            .unwrap()
            .starts_with("text/html")
    );
    assert!(page.text.contains("Page not found"));
}

async fn wrong_method_is_405_with_allow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .req(actix_web::http::Method::DELETE, "/api/v1/organisations")
        .send()
        .await;
    r.assert_problem(405);
    let allow = r.header("allow").unwrap();
    assert!(allow.contains("GET") && allow.contains("POST"), "{allow}");
    let r = app
        .req(
            actix_web::http::Method::PUT,
            "/api/v1/users/0190b0a4-0000-7000-8000-000000000000",
        )
        .send()
        .await;
    r.assert_problem(405);
}

async fn malformed_json_is_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .post("/api/v1/auth/login")
        .raw("application/json", "{\"email\": ")
        .send()
        .await;
    r.assert_problem(400);
}

async fn wrong_content_type_is_415(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let r = app
        .post("/api/v1/auth/login")
        .raw("text/plain", "email=a&password=b")
        .send()
        .await;
    r.assert_problem(415);
}

async fn body_over_the_limit_is_413(backend: Backend) {
    let app = TestApp::spawn_with(backend, |s| s.server.body_limit_bytes = 2048).await;
    let admin = app.admin().await;
    let r = app
        .post("/api/v1/organisations")
        .token(&admin.access)
        .json(json!({"name": "x".repeat(4000)}))
        .send()
        .await;
    r.assert_problem(413);
    let list = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        0,
        "nothing created"
    );
}

async fn validation_is_422_with_per_field_errors(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let org = app.create_org(&admin, "Validation House").await;
    let r = app
        .post("/api/v1/users")
        .token(&admin.access)
        .json(
            json!({"email": "not-an-email", "display_name": "X", "role": "peer_worker",
            "organisation_id": org}),
        )
        .send()
        .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["email"].is_array(), "{}", r.text);

    let r = app
        .post("/api/v1/users")
        .token(&admin.access)
        .json(json!({"display_name": "X", "role": "peer_worker", "organisation_id": org}))
        .send()
        .await;
    r.assert_problem(422);
    assert_eq!(r.body["errors"]["email"][0], "is required");

    let r = app
        .post("/api/v1/users")
        .token(&admin.access)
        .json(
            json!({"email": "a@example.org", "display_name": "X", "role": "overlord",
            "organisation_id": org}),
        )
        .send()
        .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["role"].is_array(), "{}", r.text);
    assert!(!r.text.contains("overlord"), "input is not echoed");

    let r = app
        .post("/api/v1/users")
        .token(&admin.access)
        .json(
            json!({"email": "a@example.org", "display_name": "X", "role": "peer_worker",
            "organisation_id": org, "password": "password123"}),
        )
        .send()
        .await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["password"].is_array(),
        "common password refused"
    );

    let users = app.get("/api/v1/users").token(&admin.access).send().await;
    assert_eq!(
        users.body["items"].as_array().unwrap().len(),
        1,
        "only the admin"
    );
}

async fn unknown_fields_are_refused_by_name(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let r = app
        .post("/api/v1/organisations")
        .token(&admin.access)
        .json(json!({"name": "Fine", "is_premium": true}))
        .send()
        .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["is_premium"].is_array(), "{}", r.text);
}

async fn uniqueness_is_409_naming_the_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, _) = app.org_with_manager(&admin).await;
    let body = json!({"email": "Same@Example.org", "display_name": "One", "role": "supervisor",
        "organisation_id": org});
    let first = app
        .post("/api/v1/users")
        .token(&admin.access)
        .json(body)
        .send()
        .await;
    assert_eq!(first.status, 201);
    let r = app
        .post("/api/v1/users")
        .token(&admin.access)
        .json(
            json!({"email": "same@example.ORG", "display_name": "Two", "role": "supervisor",
            "organisation_id": org}),
        )
        .send()
        .await;
    r.assert_problem(409);
    assert_eq!(r.body["field"], "email");
    assert!(
        !r.text.contains("UNIQUE") && !r.text.contains("constraint"),
        "{}",
        r.text
    );

    app.create_org(&admin, "Twin").await;
    let r = app
        .post("/api/v1/organisations")
        .token(&admin.access)
        .json(json!({"name": "TWIN"}))
        .send()
        .await;
    r.assert_problem(409);
    assert_eq!(r.body["field"], "name");
}

async fn internal_error_is_500_without_detail(backend: Backend) {
    use diesel::RunQueryDsl;
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    // A row no code path could write: an id that is not a UUID.
    diesel::sql_query(
        "INSERT INTO organisations (id, name, name_key, version, created_at, updated_at) \
         VALUES ('corrupt', 'Corrupt', 'corrupt', 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
    )
    .execute(&mut *app.conn())
    .unwrap();
    let r = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    r.assert_problem(500);
    assert_eq!(r.body["detail"], "Something went wrong on our side.");
    assert!(!r.text.contains("malformed") && !r.text.contains("OrganisationId"));
    assert!(
        r.header("x-request-id").is_some(),
        "the id ties the answer to the log"
    );
}

async fn malformed_path_id_is_404_and_bad_query_is_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    app.get("/api/v1/users/not-a-uuid")
        .token(&admin.access)
        .send()
        .await
        .assert_problem(404);
    app.get("/api/v1/users?active=maybe")
        .token(&admin.access)
        .send()
        .await
        .assert_problem(400);
}

both_backends!(
    unknown_route_is_404,
    wrong_method_is_405_with_allow,
    malformed_json_is_400,
    wrong_content_type_is_415,
    body_over_the_limit_is_413,
    validation_is_422_with_per_field_errors,
    unknown_fields_are_refused_by_name,
    uniqueness_is_409_naming_the_field,
    internal_error_is_500_without_detail,
    malformed_path_id_is_404_and_bad_query_is_400,
);
