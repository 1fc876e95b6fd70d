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

/// A query-string refusal names the parameter and what it takes, never the value sent.
async fn a_query_error_names_the_parameter_not_the_value(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let r = app
        .get("/api/v1/progressions?status=%3Cscript%3Ealert(1)%3C/script%3E")
        .token(&admin.access)
        .send()
        .await;
    r.assert_problem(400);
    assert!(!r.text.contains("script"), "no echo: {}", r.text);
    let detail = r.body["detail"].as_str().unwrap();
    assert!(
        detail.contains("`status`") && detail.contains("approved"),
        "{detail}"
    );
    let r = app
        .get("/api/v1/users?limit=ten-CANARY")
        .token(&admin.access)
        .send()
        .await;
    r.assert_problem(400);
    assert!(!r.text.contains("CANARY"), "no echo: {}", r.text);
    let r = app
        .get("/api/v1/users?CANARY=1")
        .token(&admin.access)
        .send()
        .await;
    r.assert_problem(400);
    assert!(!r.text.contains("CANARY"), "no echo: {}", r.text);
    assert!(
        r.body["detail"].as_str().unwrap().contains("limit"),
        "{}",
        r.text
    );
}

/// serde reads a struct from an array by position; a body must be an object, and an array
/// that fits creates nothing.
async fn a_body_that_is_not_an_object_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for body in [
        json!(["An array organisation"]),
        json!("text"),
        json!(7),
        json!(null),
    ] {
        let r = app
            .post("/api/v1/organisations")
            .token(&admin.access)
            .json(body)
            .send()
            .await;
        r.assert_problem(422);
        assert!(
            r.body["detail"].as_str().unwrap().contains("JSON object"),
            "{}",
            r.text
        );
    }
    let orgs = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(orgs.body["items"], json!([]), "nothing was created");
}

/// The `Bearer` scheme is matched in any case (RFC 9110); a token longer than any issued is
/// refused before it is parsed.
async fn the_bearer_scheme_ignores_case_and_huge_tokens_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for scheme in ["Bearer", "bearer", "BEARER"] {
        let r = app
            .get("/api/v1/me")
            .header("authorization", &format!("{scheme} {}", admin.access))
            .send()
            .await;
        assert_eq!(r.status, 200, "{scheme}: {}", r.text);
    }
    let huge = "a".repeat(9 * 1024);
    let r = app
        .get("/api/v1/me")
        .header("authorization", &format!("Bearer {huge}"))
        .send()
        .await;
    r.assert_problem(401);
    assert!(
        r.body["detail"].as_str().unwrap().contains("longer"),
        "{}",
        r.text
    );
    app.get("/api/v1/me")
        .header("authorization", &format!("Basic {}", admin.access))
        .send()
        .await
        .assert_problem(401);
}

/// Names refuse the invisible characters that let one name pass for another (a right-to-left
/// override, a zero-width space), and keep the joiners some scripts need.
async fn names_refuse_invisible_formatting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let user = |name: &str| {
        json!({"email": format!("{}@example.org", uuid::Uuid::new_v4().simple()),
               "display_name": name, "role": "admin", "password": crate::helpers::PASSWORD})
    };
    for name in [
        "Alex\u{202E}rosivrepuS",
        "Al\u{200B}ex",
        "\u{2066}Alex\u{2069}",
    ] {
        let r = app
            .post("/api/v1/users")
            .token(&admin.access)
            .json(user(name))
            .send()
            .await;
        r.assert_problem(422);
        assert!(
            r.body["errors"]["display_name"]
                .to_string()
                .contains("invisible"),
            "{}",
            r.text
        );
        let r = app
            .post("/api/v1/organisations")
            .token(&admin.access)
            .json(json!({"name": name}))
            .send()
            .await;
        r.assert_problem(422);
    }
    let orgs = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(orgs.body["items"], json!([]), "nothing was created");
    // A zero-width non-joiner belongs in Persian names.
    let r = app
        .post("/api/v1/users")
        .token(&admin.access)
        .json(user("Mohammad\u{200C}reza"))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
}

both_backends!(
    names_refuse_invisible_formatting,
    a_query_error_names_the_parameter_not_the_value,
    a_body_that_is_not_an_object_is_refused,
    the_bearer_scheme_ignores_case_and_huge_tokens_are_refused,
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
