//! Pagination, ETag/If-Match and Idempotency-Key, as every later resource uses them.

use serde_json::json;

use crate::both_backends;
use crate::helpers::TestApp;
use peerpath::db::Backend;

async fn lists_page_with_an_opaque_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for i in 0..5 {
        app.create_org(&admin, &format!("Org {i}")).await;
    }
    let first = app
        .get("/api/v1/organisations?limit=2")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(first.body["items"].as_array().unwrap().len(), 2);
    let mut seen: Vec<String> = first.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap().to_string())
        .collect();
    let mut cursor = first.body["next_cursor"].as_str().unwrap().to_string();
    loop {
        let page = app
            .get(&format!("/api/v1/organisations?limit=2&cursor={cursor}"))
            .token(&admin.access)
            .send()
            .await;
        assert_eq!(page.status, 200, "{}", page.text);
        seen.extend(
            page.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["name"].as_str().unwrap().to_string()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = next.to_string(),
            None => break,
        }
    }
    assert_eq!(seen, (0..5).map(|i| format!("Org {i}")).collect::<Vec<_>>());
    let all = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    assert!(all.body["next_cursor"].is_null());
}

/// Every list answers `{items, next_cursor}`: no GET in the document answers a bare array,
/// and a list read whole (the salary bands) pages by its cursor like the others.
async fn every_list_answers_items_and_a_cursor(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let doc = app.get("/api/v1/openapi.json").send().await.body;
    let mut bare = vec![];
    for (path, item) in doc["paths"].as_object().unwrap() {
        let schema = &item["get"]["responses"]["200"]["content"]["application/json"]["schema"];
        if schema["type"] == "array" {
            bare.push(path.clone());
        }
    }
    assert!(bare.is_empty(), "bare arrays: {bare:?}");

    let admin = app.admin().await;
    let (_, manager) = app.org_with_manager(&admin).await;
    let mut codes = vec![];
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/salary-bands?limit=2&cursor={c}"),
            None => "/api/v1/salary-bands?limit=2".to_string(),
        };
        let page = app.get(&path).token(&manager.access).send().await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.body["items"].as_array().unwrap();
        assert!(items.len() <= 2);
        codes.extend(
            items
                .iter()
                .map(|b| b["code"].as_str().unwrap().to_string()),
        );
        match page.body["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    assert_eq!(codes, ["AfC-2", "AfC-3", "AfC-4", "AfC-5", "AfC-6"]);
    app.get("/api/v1/salary-bands?limit=0")
        .token(&manager.access)
        .send()
        .await
        .assert_problem(400);
    app.get("/api/v1/salary-bands?cursor=garbage")
        .token(&manager.access)
        .send()
        .await
        .assert_problem(400);
}

async fn bad_cursor_and_limit_are_400(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for query in [
        "cursor=garbage",
        "cursor=aWQ6bm90LWEtdXVpZA",
        "limit=0",
        "limit=201",
        "limit=x",
    ] {
        app.get(&format!("/api/v1/organisations?{query}"))
            .token(&admin.access)
            .send()
            .await
            .assert_problem(400);
    }
    let max = app
        .get("/api/v1/organisations?limit=200")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(max.status, 200);
}

async fn updates_need_if_match_and_refuse_stale_versions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let org = app.create_org(&admin, "Versioned").await;
    let path = format!("/api/v1/organisations/{org}");
    let read = app.get(&path).token(&admin.access).send().await;
    let etag = read.header("etag").unwrap();

    app.patch(&path)
        .token(&admin.access)
        .json(json!({"name": "No precondition"}))
        .send()
        .await
        .assert_problem(428);
    app.patch(&path)
        .token(&admin.access)
        .header("if-match", "\"v99\"")
        .json(json!({"name": "Stale"}))
        .send()
        .await
        .assert_problem(412);

    let ok = app
        .patch(&path)
        .token(&admin.access)
        .header("if-match", &etag)
        .json(json!({"name": "Renamed"}))
        .send()
        .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let new_etag = ok.header("etag").unwrap();
    assert_ne!(new_etag, etag);

    // The first writer won; the second, holding the old ETag, is refused and changes nothing.
    app.patch(&path)
        .token(&admin.access)
        .header("if-match", &etag)
        .json(json!({"name": "Lost update"}))
        .send()
        .await
        .assert_problem(412);
    let now = app.get(&path).token(&admin.access).send().await;
    assert_eq!(now.body["name"], "Renamed");
    assert_eq!(now.header("etag").unwrap(), new_etag);
}

async fn idempotency_key_replays_the_first_answer_and_creates_one_row(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let body = json!({"name": "Exactly Once"});
    let send = |body: serde_json::Value, key: &'static str, token: String| {
        let app = &app;
        async move {
            app.post("/api/v1/organisations")
                .token(&token)
                .header("idempotency-key", key)
                .json(body)
                .send()
                .await
        }
    };
    let first = send(body.clone(), "key-1", admin.access.clone()).await;
    assert_eq!(first.status, 201);
    let again = send(
        json!({"name": "Exactly Once"}),
        "key-1",
        admin.access.clone(),
    )
    .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body);
    assert_eq!(again.header("location"), first.header("location"));
    let list = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1, "one row");

    let other = send(
        json!({"name": "Something else"}),
        "key-1",
        admin.access.clone(),
    )
    .await;
    other.assert_problem(422);
    let list = app
        .get("/api/v1/organisations")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "nothing more"
    );

    // Keys are per user: another admin's key-1 is a new request.
    let (org, manager) = app.org_with_manager(&admin).await;
    let worker = send_user(&app, &manager.access, "key-1", &org).await;
    assert_eq!(worker.status, 201, "{}", worker.text);

    app.post("/api/v1/organisations")
        .token(&admin.access)
        .header("idempotency-key", &"k".repeat(256))
        .json(json!({"name": "Bad key"}))
        .send()
        .await
        .assert_problem(400);
    // Spaces between its characters are part of a key, as HTTP allows in a header.
    let spaced = app
        .post("/api/v1/organisations")
        .token(&admin.access)
        .header("idempotency-key", "order 42\tretry")
        .json(json!({"name": "Spaced key"}))
        .send()
        .await;
    assert_eq!(spaced.status, 201, "{}", spaced.text);
}

/// Every POST honours the key, not only the first three: a check-in or a training record
/// retried with its key is answered again and stored once (a retried urgent check-in does not
/// email twice); another body under the key is 422 and stores nothing; keys are per user; a
/// refused request gives its key back.
async fn a_retried_post_with_its_key_acts_once(backend: Backend) {
    use crate::training::{module, team};
    let t = team(backend).await;
    let app = &t.app;
    let w = &t.worker.user_id;
    let post = |path: String,
                who: &crate::helpers::Session,
                key: &'static str,
                body: serde_json::Value| {
        let token = who.access.clone();
        async move {
            app.post(&path)
                .token(&token)
                .header("idempotency-key", key)
                .json(body)
                .send()
                .await
        }
    };
    let today = chrono::Utc::now().date_naive().to_string();
    let urgent =
        json!({"held_on": today, "wellbeing": 1, "risk": "urgent", "call_requested": true});
    let first = post(
        format!("/api/v1/workers/{w}/checkins"),
        &t.worker,
        "checkin-1",
        urgent.clone(),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let emails = app.emails_about("contact_requested", &t.supervisor.user_id);
    let again = post(
        format!("/api/v1/workers/{w}/checkins"),
        &t.worker,
        "checkin-1",
        urgent.clone(),
    )
    .await;
    assert_eq!(again.status, 201, "{}", again.text);
    assert_eq!(again.body, first.body, "the first answer, replayed");
    assert_eq!(again.header("idempotent-replayed").as_deref(), Some("true"));
    assert_eq!(
        app.emails_about("contact_requested", &t.supervisor.user_id),
        emails,
        "no second email"
    );
    let list = app
        .get(&format!("/api/v1/workers/{w}/checkins"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        list.body["items"].as_array().unwrap().len(),
        1,
        "one check-in: {}",
        list.text
    );
    post(
        format!("/api/v1/workers/{w}/checkins"),
        &t.worker,
        "checkin-1",
        json!({"held_on": today, "wellbeing": 4, "risk": "none"}),
    )
    .await
    .assert_problem(422);

    let m = module(app, &t.manager, "IDEM-1", None).await;
    let record =
        json!({"module_id": m, "completed_on": today, "hours": 2.0, "provider": "The Trust"});
    // A refused try (a bad body) gives its key back: the good body may follow under it.
    let bad = post(
        format!("/api/v1/workers/{w}/training-records"),
        &t.worker,
        "record-1",
        json!({"module_id": m, "completed_on": today, "hours": -1.0, "provider": "The Trust"}),
    )
    .await;
    bad.assert_problem(422);
    for _ in 0..3 {
        let r = post(
            format!("/api/v1/workers/{w}/training-records"),
            &t.worker,
            "record-1",
            record.clone(),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let records = app
        .get(&format!("/api/v1/workers/{w}/training-records"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        records.body["items"].as_array().unwrap().len(),
        1,
        "{}",
        records.text
    );
    // The same key from another worker is their own request.
    let c = &t.colleague.user_id;
    let theirs = post(
        format!("/api/v1/workers/{c}/training-records"),
        &t.colleague,
        "record-1",
        record.clone(),
    )
    .await;
    assert_eq!(theirs.status, 201, "{}", theirs.text);
    assert_ne!(theirs.body["id"], records.body["items"][0]["id"]);

    // Keys are forgotten after a day: the daily job purges them, and the key is new again.
    let settings = app.state.settings.scheduler.clone();
    let later = peerpath::db::now() + chrono::TimeDelta::days(2);
    peerpath::scheduler::tick(&app.state.db, &app.state.notifications, &settings, later)
        .await
        .unwrap();
    let r = post(
        format!("/api/v1/workers/{w}/training-records"),
        &t.worker,
        "record-1",
        record.clone(),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(
        r.header("idempotent-replayed"),
        None,
        "a new request: {}",
        r.text
    );
}

async fn send_user(app: &TestApp, token: &str, key: &str, org: &str) -> crate::helpers::Resp {
    app.post("/api/v1/users")
        .token(token)
        .header("idempotency-key", key)
        .json(
            json!({"email": "idem@example.org", "display_name": "Idem", "role": "peer_worker",
            "organisation_id": org}),
        )
        .send()
        .await
}

async fn idempotent_user_creation_replays_without_a_second_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let first = send_user(&app, &manager.access, "create-idem", &org).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = send_user(&app, &manager.access, "create-idem", &org).await;
    assert_eq!(second.status, 201, "replayed, not a 409: {}", second.text);
    assert_eq!(second.body["id"], first.body["id"]);
}

/// What the contract tests found and the document now says: an empty query parameter is
/// not sent; an empty If-Match or Idempotency-Key is none; a request without a token is 401
/// before its key is read; a blank email asks for nothing; text is measured as sent.
async fn blank_parameters_and_headers_are_read_as_not_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    for i in 0..3 {
        app.create_org(&admin, &format!("Blank {i}")).await;
    }
    let all = app
        .get("/api/v1/organisations?cursor=&limit=")
        .token(&admin.access)
        .send()
        .await;
    assert_eq!(all.status, 200, "{}", all.text);
    assert_eq!(all.body["items"].as_array().unwrap().len(), 3);
    app.get("/api/v1/users?organisation_id=nonsense")
        .token(&admin.access)
        .send()
        .await
        .assert_problem(400);
    assert_eq!(
        app.get("/api/v1/users?organisation_id=")
            .token(&admin.access)
            .send()
            .await
            .status,
        200
    );

    let org = app.create_org(&admin, "Precondition").await;
    let path = format!("/api/v1/organisations/{org}");
    app.patch(&path)
        .token(&admin.access)
        .header("if-match", " ")
        .json(json!({"name": "Blank precondition"}))
        .send()
        .await
        .assert_problem(428);
    app.patch(&path)
        .token(&admin.access)
        .header("if-match", "\"v99999999999\"")
        .json(json!({"name": "No such version"}))
        .send()
        .await
        .assert_problem(412);

    let no_token = app
        .post("/api/v1/organisations")
        .header("idempotency-key", "not a key")
        .json(json!({"name": "Anonymous"}))
        .send()
        .await;
    no_token.assert_problem(401);
    let blank_key = app
        .post("/api/v1/organisations")
        .token(&admin.access)
        .header("idempotency-key", " ")
        .json(json!({"name": "Blank key"}))
        .send()
        .await;
    assert_eq!(blank_key.status, 201, "{}", blank_key.text);
    assert!(blank_key.header("idempotent-replayed").is_none());

    let reset = app
        .post("/api/v1/auth/password-reset")
        .json(json!({"email": "  "}))
        .send()
        .await;
    reset.assert_problem(422);
    assert!(reset.body["errors"]["email"].is_array());
    let padded = format!("{}{}", " ".repeat(5), "n".repeat(198));
    let long = app
        .post("/api/v1/organisations")
        .token(&admin.access)
        .json(json!({ "name": padded }))
        .send()
        .await;
    long.assert_problem(422);
    assert_eq!(
        long.body["errors"]["name"][0],
        "is longer than 200 characters"
    );
}

both_backends!(
    blank_parameters_and_headers_are_read_as_not_sent,
    every_list_answers_items_and_a_cursor,
    lists_page_with_an_opaque_cursor,
    bad_cursor_and_limit_are_400,
    updates_need_if_match_and_refuse_stale_versions,
    idempotency_key_replays_the_first_answer_and_creates_one_row,
    a_retried_post_with_its_key_acts_once,
    idempotent_user_creation_replays_without_a_second_account,
);
