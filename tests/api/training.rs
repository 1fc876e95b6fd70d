//! Worker profiles, the module catalogue and training records: every rule and refusal.

use chrono::{Months, NaiveDate, Utc};
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, Session, TestApp};
use peerpath::db::Backend;

/// An organisation with a manager, two supervisors, a worker supervised by the first, and
/// a second worker; plus another organisation with its manager and supervisor.
pub struct Team {
    pub app: TestApp,
    pub admin: Session,
    pub org: String,
    pub manager: Session,
    pub supervisor: Session,
    pub other_supervisor: Session,
    pub worker: Session,
    pub colleague: Session,
    pub outsider_manager: Session,
    pub outsider_supervisor: Session,
}

pub async fn profile(
    app: &TestApp,
    manager: &Session,
    user: &str,
    supervisor: Option<&str>,
) -> Resp {
    app.post("/api/v1/workers")
        .token(&manager.access)
        .json(json!({"user_id": user, "supervisor_id": supervisor, "start_date": "2024-03-01"}))
        .send()
        .await
}

pub async fn team(backend: Backend) -> Team {
    team_with(backend, |_| {}).await
}

pub async fn team_with(
    backend: Backend,
    tweak: impl FnOnce(&mut peerpath::config::Settings),
) -> Team {
    let app = TestApp::spawn_with(backend, tweak).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let supervisor = app.user(&manager, "supervisor", Some(&org)).await;
    let other_supervisor = app.user(&manager, "supervisor", Some(&org)).await;
    let worker = app.user(&manager, "peer_worker", Some(&org)).await;
    let colleague = app.user(&manager, "peer_worker", Some(&org)).await;
    let r = profile(&app, &manager, &worker.user_id, Some(&supervisor.user_id)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = profile(
        &app,
        &manager,
        &colleague.user_id,
        Some(&other_supervisor.user_id),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let (outsider_org, outsider_manager) = app.org_with_manager(&admin).await;
    let outsider_supervisor = app
        .user(&outsider_manager, "supervisor", Some(&outsider_org))
        .await;
    Team {
        app,
        admin,
        org,
        manager,
        supervisor,
        other_supervisor,
        worker,
        colleague,
        outsider_manager,
        outsider_supervisor,
    }
}

pub async fn module(app: &TestApp, manager: &Session, code: &str, validity: Option<i32>) -> String {
    let r = app
        .post("/api/v1/training-modules")
        .token(&manager.access)
        .json(
            json!({"code": code, "title": format!("Module {code}"), "category": "testing",
            "typical_hours": 3.5, "validity_months": validity}),
        )
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.id()
}

pub async fn log(app: &TestApp, worker: &Session, body: Value) -> Resp {
    app.post(&format!(
        "/api/v1/workers/{}/training-records",
        worker.user_id
    ))
    .token(&worker.access)
    .json(body)
    .send()
    .await
}

fn record(module: &str, completed_on: NaiveDate) -> Value {
    json!({"module_id": module, "completed_on": completed_on, "hours": 2.5,
        "provider": "Hepatitis C Trust", "evidence": "Certificate 1234"})
}

fn today() -> NaiveDate {
    Utc::now().date_naive()
}

fn items(r: &Resp) -> Vec<Value> {
    r.body["items"].as_array().unwrap().clone()
}

async fn profiles_are_kept_by_programme_managers(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let another = app.user(&t.manager, "peer_worker", Some(&t.org)).await;
    profile(app, &t.supervisor, &another.user_id, None)
        .await
        .assert_problem(403);
    let r = profile(app, &t.outsider_manager, &another.user_id, None).await;
    r.assert_problem(422);
    assert!(r.body["errors"]["user_id"].is_array());
    let r = profile(app, &t.manager, &another.user_id, Some(&t.worker.user_id)).await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["supervisor_id"].is_array(),
        "a peer worker is no supervisor"
    );
    let r = profile(app, &t.manager, &t.supervisor.user_id, None).await;
    r.assert_problem(422);
    let r = profile(app, &t.manager, &t.worker.user_id, None).await;
    r.assert_problem(409);

    let me = app
        .get(&format!("/api/v1/workers/{}", t.worker.user_id))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(me.status, 200);
    assert_eq!(me.body["supervisor_id"], t.supervisor.user_id.as_str());
    assert_eq!(me.body["status"], "active");
    app.get(&format!("/api/v1/workers/{}", t.worker.user_id))
        .token(&t.colleague.access)
        .send()
        .await
        .assert_problem(403);
    app.get(&format!("/api/v1/workers/{}", t.worker.user_id))
        .token(&t.other_supervisor.access)
        .send()
        .await
        .assert_problem(403);
    app.get(&format!("/api/v1/workers/{}", t.worker.user_id))
        .token(&t.outsider_manager.access)
        .send()
        .await
        .assert_problem(404);

    let supervisees = app
        .get("/api/v1/workers")
        .token(&t.supervisor.access)
        .send()
        .await;
    let ids: Vec<String> = items(&supervisees)
        .iter()
        .map(|w| w["id"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(ids, vec![t.worker.user_id.clone()]);
    // A list reads with names: the worker's and their supervisor's, as their accounts give them.
    let name_of = |who: &Session| {
        let token = who.access.clone();
        async move {
            app.get("/api/v1/me").token(&token).send().await.body["display_name"]
                .as_str()
                .unwrap()
                .to_string()
        }
    };
    let first = &items(&supervisees)[0];
    assert_eq!(first["name"], name_of(&t.worker).await.as_str());
    assert_eq!(
        first["supervisor_name"],
        name_of(&t.supervisor).await.as_str()
    );
    let one = app
        .get(&format!("/api/v1/workers/{}", t.colleague.user_id))
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(one.body["name"], name_of(&t.colleague).await.as_str());
    assert_eq!(
        one.body["supervisor_name"],
        name_of(&t.other_supervisor).await.as_str()
    );
    assert_eq!(
        items(
            &app.get("/api/v1/workers")
                .token(&t.manager.access)
                .send()
                .await
        )
        .len(),
        2
    );
    assert_eq!(
        items(
            &app.get("/api/v1/workers")
                .token(&t.colleague.access)
                .send()
                .await
        )
        .len(),
        1
    );
    // A worker sees their own profile however many come before it.
    let late = app.user(&t.manager, "peer_worker", Some(&t.org)).await;
    assert_eq!(
        profile(app, &t.manager, &late.user_id, None).await.status,
        201
    );
    let mine = app
        .get("/api/v1/workers?limit=1")
        .token(&late.access)
        .send()
        .await;
    assert_eq!(items(&mine).len(), 1);
    assert_eq!(items(&mine)[0]["id"], late.user_id.as_str());
}

async fn changing_the_supervisor_moves_access_at_once_and_keeps_history(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let path = format!("/api/v1/workers/{}", t.worker.user_id);
    let etag = app
        .get(&path)
        .token(&t.manager.access)
        .send()
        .await
        .header("etag")
        .unwrap();
    let r = app
        .patch(&path)
        .token(&t.manager.access)
        .header("if-match", &etag)
        .json(json!({"supervisor_id": t.other_supervisor.user_id}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        app.get(&path)
            .token(&t.other_supervisor.access)
            .send()
            .await
            .status,
        200
    );
    app.get(&path)
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);
    let history = app
        .get(&format!("{path}/supervisors"))
        .token(&t.manager.access)
        .send()
        .await;
    let history = history.body["items"].as_array().unwrap().clone();
    assert_eq!(history.len(), 2);
    assert_eq!(history[0]["supervisor_id"], t.supervisor.user_id.as_str());
    assert!(history[0]["ended_at"].is_string());
    assert_eq!(
        history[1]["supervisor_id"],
        t.other_supervisor.user_id.as_str()
    );
    assert!(history[1]["ended_at"].is_null());
    // Only managers change profiles.
    app.patch(&path)
        .token(&t.other_supervisor.access)
        .header("if-match", &r.header("etag").unwrap())
        .json(json!({"status": "left"}))
        .send()
        .await
        .assert_problem(403);
}

async fn the_catalogue_is_kept_by_managers_and_read_by_the_organisation(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = module(app, &t.manager, "HCV-05", Some(12)).await;
    let r = app
        .post("/api/v1/training-modules")
        .token(&t.manager.access)
        .json(json!({"code": "hcv-05", "title": "Again", "category": "testing"}))
        .send()
        .await;
    r.assert_problem(409);
    assert_eq!(r.body["field"], "code");
    let r = app
        .post("/api/v1/training-modules")
        .token(&t.manager.access)
        .json(
            json!({"code": "bad code!", "title": "x".repeat(201), "category": "testing",
            "validity_months": 0, "typical_hours": -1}),
        )
        .send()
        .await;
    r.assert_problem(422);
    for field in ["code", "title", "validity_months", "typical_hours"] {
        assert!(r.body["errors"][field].is_array(), "{field}: {}", r.text);
    }
    app.post("/api/v1/training-modules")
        .token(&t.supervisor.access)
        .json(json!({"code": "X", "title": "X", "category": "other"}))
        .send()
        .await
        .assert_problem(403);
    assert_eq!(
        app.get(&format!("/api/v1/training-modules/{id}"))
            .token(&t.worker.access)
            .send()
            .await
            .status,
        200
    );
    app.get(&format!("/api/v1/training-modules/{id}"))
        .token(&t.outsider_manager.access)
        .send()
        .await
        .assert_problem(404);

    // Unused: deleted. Used: retired, not deleted.
    let unused = module(app, &t.manager, "TMP", None).await;
    let r = app
        .req(
            actix_web::http::Method::DELETE,
            &format!("/api/v1/training-modules/{unused}"),
        )
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(r.status, 204);
    assert_eq!(log(app, &t.worker, record(&id, today())).await.status, 201);
    app.req(
        actix_web::http::Method::DELETE,
        &format!("/api/v1/training-modules/{id}"),
    )
    .token(&t.manager.access)
    .send()
    .await
    .assert_problem(409);
    let etag = app
        .get(&format!("/api/v1/training-modules/{id}"))
        .token(&t.manager.access)
        .send()
        .await
        .header("etag")
        .unwrap();
    let retired = app
        .req(
            actix_web::http::Method::PUT,
            &format!("/api/v1/training-modules/{id}"),
        )
        .token(&t.manager.access)
        .header("if-match", &etag)
        .json(
            json!({"code": "HCV-05", "title": "Dried blood spot testing", "category": "testing",
            "validity_months": 12, "active": false}),
        )
        .send()
        .await;
    assert_eq!(retired.status, 200, "{}", retired.text);
    let active = app
        .get("/api/v1/training-modules?active=true")
        .token(&t.worker.access)
        .send()
        .await;
    assert!(items(&active).is_empty());
}

async fn bad_training_input_is_refused_per_field_and_changes_nothing(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = module(app, &t.manager, "HCV-04", Some(12)).await;
    let retired = module(app, &t.manager, "OLD", None).await;
    let etag = app
        .get(&format!("/api/v1/training-modules/{retired}"))
        .token(&t.manager.access)
        .send()
        .await
        .header("etag")
        .unwrap();
    app.req(
        actix_web::http::Method::PUT,
        &format!("/api/v1/training-modules/{retired}"),
    )
    .token(&t.manager.access)
    .header("if-match", &etag)
    .json(json!({"code": "OLD", "title": "Old", "category": "other", "active": false}))
    .send()
    .await;
    let foreign = module(app, &t.outsider_manager, "THEIRS", None).await;
    let tomorrow = today().succ_opt().unwrap();
    let cases = [
        (
            json!({"module_id": id, "completed_on": tomorrow, "hours": 2, "provider": "P"}),
            "completed_on",
        ),
        (
            json!({"module_id": id, "completed_on": "1999-12-31", "hours": 2, "provider": "P"}),
            "completed_on",
        ),
        (
            json!({"module_id": id, "completed_on": "2015-01-01", "hours": 2, "provider": "P"}),
            "completed_on",
        ),
        (
            json!({"module_id": id, "completed_on": today(), "hours": -1, "provider": "P"}),
            "hours",
        ),
        (
            json!({"module_id": id, "completed_on": today(), "hours": 0, "provider": "P"}),
            "hours",
        ),
        (
            json!({"module_id": id, "completed_on": today(), "hours": 201, "provider": "P"}),
            "hours",
        ),
        (
            json!({"module_id": uuid::Uuid::now_v7(), "completed_on": today(), "hours": 2, "provider": "P"}),
            "module_id",
        ),
        (
            json!({"module_id": foreign, "completed_on": today(), "hours": 2, "provider": "P"}),
            "module_id",
        ),
        (
            json!({"module_id": retired, "completed_on": today(), "hours": 2, "provider": "P"}),
            "module_id",
        ),
        (
            json!({"module_id": id, "completed_on": today(), "hours": 2, "provider": ""}),
            "provider",
        ),
        (
            json!({"module_id": id, "completed_on": today(), "hours": 2, "provider": "P", "evidence": "e".repeat(2001)}),
            "evidence",
        ),
        (
            json!({"module_id": id, "completed_on": "31/12/2025", "hours": 2, "provider": "P"}),
            "completed_on",
        ),
    ];
    for (body, field) in cases {
        let r = log(app, &t.worker, body.clone()).await;
        r.assert_problem(422);
        assert!(
            r.body["errors"][field].is_array(),
            "{field} for {body}: {}",
            r.text
        );
    }
    let list = app
        .get(&format!(
            "/api/v1/workers/{}/training-records",
            t.worker.user_id
        ))
        .token(&t.worker.access)
        .send()
        .await;
    assert!(items(&list).is_empty(), "nothing was created");
}

async fn a_worker_logs_and_their_supervisor_verifies(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = module(app, &t.manager, "HCV-05", Some(12)).await;
    let done = NaiveDate::from_ymd_opt(2026, 3, 3).unwrap();
    let r = log(app, &t.worker, record(&id, done)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "logged");
    assert_eq!(r.body["expires_on"], "2027-03-03");
    assert_eq!(r.body["hours"], 2.5);
    assert_eq!(
        r.body["module_code"], "HCV-05",
        "a record reads with its module"
    );
    assert!(
        r.body["module_title"]
            .as_str()
            .is_some_and(|t| !t.is_empty())
    );
    let rec = r.id();
    let listed = app
        .get(&format!(
            "/api/v1/workers/{}/training-records",
            t.worker.user_id
        ))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        listed.body["items"][0]["module_code"], "HCV-05",
        "{}",
        listed.text
    );
    // Others cannot log for the worker.
    for other in [&t.colleague, &t.supervisor, &t.manager] {
        app.post(&format!(
            "/api/v1/workers/{}/training-records",
            t.worker.user_id
        ))
        .token(&other.access)
        .json(record(&id, done))
        .send()
        .await
        .assert_problem(403);
    }

    let v = app
        .post(&format!("/api/v1/training-records/{rec}/verify"))
        .token(&t.supervisor.access)
        .send()
        .await;
    assert_eq!(v.status, 200, "{}", v.text);
    assert_eq!(v.body["status"], "verified");
    assert_eq!(v.body["decided_by"], t.supervisor.user_id.as_str());
    // Decided: the worker can no longer change it.
    app.post(&format!("/api/v1/training-records/{rec}/withdraw"))
        .token(&t.worker.access)
        .send()
        .await
        .assert_problem(409);
    app.post(&format!("/api/v1/training-records/{rec}/reject"))
        .token(&t.supervisor.access)
        .json(json!({"reason": "second thoughts"}))
        .send()
        .await
        .assert_problem(409);
}

async fn only_the_supervisor_or_a_manager_decides_and_never_the_worker(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = module(app, &t.manager, "HCV-06", Some(12)).await;
    let rec = log(app, &t.worker, record(&id, today())).await.id();
    let verify = |token: String| {
        let path = format!("/api/v1/training-records/{rec}/verify");
        async move { app.post(&path).token(&token).send().await }
    };
    verify(t.worker.access.clone()).await.assert_problem(403);
    verify(t.other_supervisor.access.clone())
        .await
        .assert_problem(403);
    verify(t.colleague.access.clone()).await.assert_problem(403);
    verify(t.outsider_supervisor.access.clone())
        .await
        .assert_problem(404);
    verify(t.outsider_manager.access.clone())
        .await
        .assert_problem(404);
    verify(t.admin.access.clone()).await.assert_problem(403);
    let still = app
        .get(&format!("/api/v1/training-records/{rec}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(still.body["status"], "logged", "nothing changed");

    let empty = app
        .post(&format!("/api/v1/training-records/{rec}/reject"))
        .token(&t.manager.access)
        .json(json!({"reason": "  "}))
        .send()
        .await;
    empty.assert_problem(422);
    assert!(empty.body["errors"]["reason"].is_array());
    let rejected = app
        .post(&format!("/api/v1/training-records/{rec}/reject"))
        .token(&t.manager.access)
        .json(json!({"reason": "The certificate is for another course."}))
        .send()
        .await;
    assert_eq!(rejected.status, 200, "{}", rejected.text);
    assert_eq!(rejected.body["status"], "rejected");
    assert_eq!(
        rejected.body["decision_reason"],
        "The certificate is for another course."
    );
}

async fn the_worker_corrects_or_withdraws_only_while_unverified(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = module(app, &t.manager, "HCV-07", Some(24)).await;
    let created = log(app, &t.worker, record(&id, today())).await;
    let rec = created.id();
    let path = format!("/api/v1/training-records/{rec}");
    let etag = created.header("etag").unwrap();
    let mut fixed = record(&id, NaiveDate::from_ymd_opt(2025, 1, 10).unwrap());
    fixed["hours"] = json!(6);
    let put = |etag: String, token: String, body: Value| {
        let path = path.clone();
        async move {
            app.req(actix_web::http::Method::PUT, &path)
                .token(&token)
                .header("if-match", &etag)
                .json(body)
                .send()
                .await
        }
    };
    put(etag.clone(), t.supervisor.access.clone(), fixed.clone())
        .await
        .assert_problem(403);
    let ok = put(etag.clone(), t.worker.access.clone(), fixed.clone()).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(ok.body["hours"], 6.0);
    assert_eq!(ok.body["expires_on"], "2027-01-10");
    put(etag, t.worker.access.clone(), fixed.clone())
        .await
        .assert_problem(412);

    let w = app
        .post(&format!("{path}/withdraw"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(w.status, 200);
    assert_eq!(w.body["status"], "withdrawn");
    app.post(&format!("{path}/verify"))
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(409);
    put(
        w.header("etag")
            .unwrap_or(format!("\"v{}\"", w.body["version"])),
        t.worker.access.clone(),
        fixed,
    )
    .await
    .assert_problem(409);
}

async fn two_decisions_racing_give_exactly_one_winner(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = module(app, &t.manager, "HCV-08", None).await;
    for _ in 0..5 {
        let rec = log(app, &t.worker, record(&id, today())).await.id();
        let verify = app
            .post(&format!("/api/v1/training-records/{rec}/verify"))
            .token(&t.supervisor.access)
            .send();
        let reject = app
            .post(&format!("/api/v1/training-records/{rec}/reject"))
            .token(&t.manager.access)
            .json(json!({"reason": "No"}))
            .send();
        let (a, b) = futures_util::future::join(verify, reject).await;
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
    }
}

async fn records_filter_by_status_and_expiry(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let yearly = module(app, &t.manager, "Y", Some(12)).await;
    let forever = module(app, &t.manager, "F", None).await;
    let months_ago = |m: u32| today().checked_sub_months(Months::new(m)).unwrap();
    let expired = log(app, &t.worker, record(&yearly, months_ago(13)))
        .await
        .id();
    // Expires in about 20 days.
    let soon_day = today().checked_sub_months(Months::new(12)).unwrap() + chrono::Days::new(20);
    let soon = log(app, &t.worker, record(&yearly, soon_day)).await.id();
    let _later = log(app, &t.worker, record(&yearly, months_ago(1)))
        .await
        .id();
    let never = log(app, &t.worker, record(&forever, months_ago(30)))
        .await
        .id();
    app.post(&format!("/api/v1/training-records/{never}/verify"))
        .token(&t.supervisor.access)
        .send()
        .await;

    let base = format!("/api/v1/workers/{}/training-records", t.worker.user_id);
    let ids = |r: Resp| -> Vec<String> {
        items(&r)
            .iter()
            .map(|i| i["id"].as_str().unwrap().to_string())
            .collect()
    };
    let got = ids(app
        .get(&format!("{base}?expired=true"))
        .token(&t.supervisor.access)
        .send()
        .await);
    assert_eq!(got, vec![expired.clone()]);
    let got = ids(app
        .get(&format!("{base}?expires_within_days=30"))
        .token(&t.worker.access)
        .send()
        .await);
    assert_eq!(got, vec![soon]);
    let got = ids(app
        .get(&format!("{base}?status=verified"))
        .token(&t.manager.access)
        .send()
        .await);
    assert_eq!(got, vec![never]);
    let all = app.get(&base).token(&t.worker.access).send().await;
    assert_eq!(items(&all).len(), 4);
    let first = items(&all)
        .into_iter()
        .find(|i| i["id"] == expired.as_str())
        .unwrap();
    assert_eq!(first["expired"], true);
    // Each is well formed; together they ask for two different lists.
    app.get(&format!("{base}?expired=true&expires_within_days=3"))
        .token(&t.worker.access)
        .send()
        .await
        .assert_problem(422);
    app.get(&base)
        .token(&t.colleague.access)
        .send()
        .await
        .assert_problem(403);
    app.get(&base)
        .token(&t.outsider_manager.access)
        .send()
        .await
        .assert_problem(404);
}

async fn a_new_validity_moves_the_expiry_of_existing_records(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = module(app, &t.manager, "V", Some(12)).await;
    let rec = log(
        app,
        &t.worker,
        record(&id, NaiveDate::from_ymd_opt(2026, 1, 31).unwrap()),
    )
    .await
    .id();
    let etag = app
        .get(&format!("/api/v1/training-modules/{id}"))
        .token(&t.manager.access)
        .send()
        .await
        .header("etag")
        .unwrap();
    let r = app
        .req(
            actix_web::http::Method::PUT,
            &format!("/api/v1/training-modules/{id}"),
        )
        .token(&t.manager.access)
        .header("if-match", &etag)
        .json(json!({"code": "V", "title": "V", "category": "testing", "validity_months": 1}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let rec = app
        .get(&format!("/api/v1/training-records/{rec}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        rec.body["expires_on"], "2026-02-28",
        "end of a shorter month"
    );
}

async fn the_supervision_log_counts_confirmed_sessions(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let path = format!("/api/v1/workers/{}/supervision-sessions", t.worker.user_id);
    let session = |who: &Session, minutes: i32, kind: &str| {
        let (token, path) = (who.access.clone(), path.clone());
        let body = json!({"held_on": today(), "minutes": minutes, "kind": kind, "theme": "Boundaries at outreach"});
        async move { app.post(&path).token(&token).json(body).send().await }
    };
    session(&t.other_supervisor, 60, "one_to_one")
        .await
        .assert_problem(403);
    session(&t.worker, 60, "one_to_one")
        .await
        .assert_problem(403);
    session(&t.manager, 60, "one_to_one")
        .await
        .assert_problem(403);
    session(&t.outsider_supervisor, 60, "one_to_one")
        .await
        .assert_problem(404);
    let bad = session(&t.supervisor, 0, "one_to_one").await;
    bad.assert_problem(422);
    assert!(bad.body["errors"]["minutes"].is_array());

    let a = session(&t.supervisor, 90, "one_to_one").await;
    assert_eq!(a.status, 201, "{}", a.text);
    let b = session(&t.supervisor, 30, "reflective_practice").await.id();
    session(&t.supervisor, 45, "group").await;
    let confirm = |who: &Session, id: String| {
        let token = who.access.clone();
        async move {
            app.post(&format!("/api/v1/supervision-sessions/{id}/confirm"))
                .token(&token)
                .send()
                .await
        }
    };
    confirm(&t.supervisor, a.id()).await.assert_problem(403);
    assert_eq!(confirm(&t.worker, a.id()).await.status, 200);
    confirm(&t.worker, a.id()).await.assert_problem(409);
    assert_eq!(confirm(&t.worker, b).await.status, 200);
    let log = app.get(&path).token(&t.manager.access).send().await;
    assert_eq!(log.status, 200, "{}", log.text);
    assert_eq!(log.body["totals"]["confirmed_hours"], 2.0);
    assert_eq!(log.body["totals"]["reflective_practice_hours"], 0.5);
    assert_eq!(log.body["totals"]["unconfirmed_sessions"], 1);
    assert_eq!(log.body["sessions"].as_array().unwrap().len(), 3);
    app.get(&path)
        .token(&t.colleague.access)
        .send()
        .await
        .assert_problem(403);
}

both_backends!(
    the_supervision_log_counts_confirmed_sessions,
    profiles_are_kept_by_programme_managers,
    changing_the_supervisor_moves_access_at_once_and_keeps_history,
    the_catalogue_is_kept_by_managers_and_read_by_the_organisation,
    bad_training_input_is_refused_per_field_and_changes_nothing,
    a_worker_logs_and_their_supervisor_verifies,
    only_the_supervisor_or_a_manager_decides_and_never_the_worker,
    the_worker_corrects_or_withdraws_only_while_unverified,
    two_decisions_racing_give_exactly_one_winner,
    records_filter_by_status_and_expiry,
    a_new_validity_moves_the_expiry_of_existing_records,
);
