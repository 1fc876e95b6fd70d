//! The competency framework, sign-offs, observed practice and the supervisor queue.

use chrono::Utc;
use diesel::RunQueryDsl;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, Session, TestApp};
use crate::training::{Team, log, module, team};
use peerpath::db::Backend;

async fn competency(app: &TestApp, manager: &Session, code: &str, observations: i32) -> String {
    let r = app
        .post("/api/v1/competencies")
        .token(&manager.access)
        .json(json!({"code": code, "domain": "Testing",
            "title": "Able to collect a dried blood spot sample",
            "observations_required": observations}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.id()
}

async fn ask(app: &TestApp, worker: &Session, competency: &str) -> Resp {
    app.post(&format!("/api/v1/workers/{}/signoffs", worker.user_id))
        .token(&worker.access)
        .json(json!({"competency_id": competency, "evidence": "Did 10 under supervision at the clinic"}))
        .send()
        .await
}

async fn decide(app: &TestApp, who: &Session, signoff: &str) -> Resp {
    app.post(&format!("/api/v1/signoffs/{signoff}/sign-off"))
        .token(&who.access)
        .send()
        .await
}

async fn observe(
    app: &TestApp,
    who: &Session,
    worker: &Session,
    competency: &str,
    outcome: &str,
) -> Resp {
    app.post(&format!("/api/v1/workers/{}/observations", worker.user_id))
        .token(&who.access)
        .json(
            json!({"competency_id": competency, "observed_on": Utc::now().date_naive(),
            "outcome": outcome, "note": "At the Tuesday clinic"}),
        )
        .send()
        .await
}

pub async fn assessor(t: &Team, competency: &str, user: &Session) {
    let r = t
        .app
        .req(
            actix_web::http::Method::PUT,
            &format!(
                "/api/v1/competencies/{competency}/assessors/{}",
                user.user_id
            ),
        )
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn actions(signoff: &Value) -> Vec<String> {
    signoff["history"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_string())
        .collect()
}

async fn the_framework_is_kept_by_managers(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "DBS", 10).await;
    let dup = app
        .post("/api/v1/competencies")
        .token(&t.manager.access)
        .json(json!({"code": "dbs", "domain": "Testing", "title": "Again"}))
        .send()
        .await;
    dup.assert_problem(409);
    assert_eq!(dup.body["field"], "code");
    let bad = app
        .post("/api/v1/competencies")
        .token(&t.manager.access)
        .json(json!({"code": "", "domain": "", "title": "t".repeat(201), "observations_required": -1}))
        .send()
        .await;
    bad.assert_problem(422);
    for field in ["code", "domain", "title", "observations_required"] {
        assert!(
            bad.body["errors"][field].is_array(),
            "{field}: {}",
            bad.text
        );
    }
    app.post("/api/v1/competencies")
        .token(&t.supervisor.access)
        .json(json!({"code": "X", "domain": "X", "title": "X"}))
        .send()
        .await
        .assert_problem(403);
    app.get(&format!("/api/v1/competencies/{id}"))
        .token(&t.outsider_manager.access)
        .send()
        .await
        .assert_problem(404);
    assert_eq!(
        app.get(&format!("/api/v1/competencies/{id}"))
            .token(&t.worker.access)
            .send()
            .await
            .status,
        200
    );

    // Assessors are supervisors of the organisation.
    let r = app
        .req(
            actix_web::http::Method::PUT,
            &format!("/api/v1/competencies/{id}/assessors/{}", t.worker.user_id),
        )
        .token(&t.manager.access)
        .send()
        .await;
    r.assert_problem(422);
    app.req(
        actix_web::http::Method::PUT,
        &format!(
            "/api/v1/competencies/{id}/assessors/{}",
            t.outsider_supervisor.user_id
        ),
    )
    .token(&t.manager.access)
    .send()
    .await
    .assert_problem(404);
    assessor(&t, &id, &t.other_supervisor).await;
    let c = app
        .get(&format!("/api/v1/competencies/{id}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(c.body["assessor_ids"], json!([t.other_supervisor.user_id]));

    // Unused: deleted; used: retired.
    let unused = competency(app, &t.manager, "TMP", 0).await;
    let del = app
        .req(
            actix_web::http::Method::DELETE,
            &format!("/api/v1/competencies/{unused}"),
        )
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(del.status, 204);
    ask(app, &t.worker, &id).await;
    app.req(
        actix_web::http::Method::DELETE,
        &format!("/api/v1/competencies/{id}"),
    )
    .token(&t.manager.access)
    .send()
    .await
    .assert_problem(409);
}

async fn a_request_is_signed_off_by_the_supervisor_with_its_history(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "TALK", 0).await;
    let r = ask(app, &t.worker, &id).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["status"], "requested");
    let signoff = r.id();
    ask(app, &t.worker, &id).await.assert_problem(409);
    app.post(&format!("/api/v1/workers/{}/signoffs", t.worker.user_id))
        .token(&t.supervisor.access)
        .json(json!({"competency_id": id, "evidence": "x"}))
        .send()
        .await
        .assert_problem(403);
    let bad = app
        .post(&format!("/api/v1/workers/{}/signoffs", t.worker.user_id))
        .token(&t.worker.access)
        .json(json!({"competency_id": uuid::Uuid::now_v7(), "evidence": ""}))
        .send()
        .await;
    bad.assert_problem(422);
    assert!(bad.body["errors"]["evidence"].is_array());

    let done = decide(app, &t.supervisor, &signoff).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.body["status"], "signed_off");
    assert_eq!(actions(&done.body), vec!["requested", "signed_off"]);
    let again = ask(app, &t.worker, &id).await;
    again.assert_problem(409);
    assert!(
        again.body["detail"]
            .as_str()
            .unwrap()
            .contains("already signed off")
    );
    let seen = app
        .get(&format!("/api/v1/signoffs/{signoff}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(actions(&seen.body), vec!["requested", "signed_off"]);
}

async fn only_the_current_supervisor_or_an_assessor_decides(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "HR", 0).await;
    let signoff = ask(app, &t.worker, &id).await.id();
    decide(app, &t.worker, &signoff).await.assert_problem(403);
    decide(app, &t.other_supervisor, &signoff)
        .await
        .assert_problem(403);
    decide(app, &t.colleague, &signoff)
        .await
        .assert_problem(403);
    decide(app, &t.manager, &signoff).await.assert_problem(403);
    decide(app, &t.outsider_supervisor, &signoff)
        .await
        .assert_problem(404);
    decide(app, &t.outsider_manager, &signoff)
        .await
        .assert_problem(404);
    let still = app
        .get(&format!("/api/v1/signoffs/{signoff}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(still.body["status"], "requested", "nothing changed");
    // An assessor of the competency may decide though not the worker's supervisor.
    assessor(&t, &id, &t.other_supervisor).await;
    let r = decide(app, &t.other_supervisor, &signoff).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

async fn observed_competencies_need_enough_competent_observations(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "DBS", 3).await;
    let signoff = ask(app, &t.worker, &id).await.id();
    // Observed practice is signed off by an assessor only, even the worker's own supervisor.
    let r = decide(app, &t.supervisor, &signoff).await;
    r.assert_problem(403);
    assert!(
        r.body["detail"].as_str().unwrap().contains("assessors"),
        "{}",
        r.text
    );
    assessor(&t, &id, &t.supervisor).await;
    let r = decide(app, &t.supervisor, &signoff).await;
    r.assert_problem(422);
    assert_eq!(
        r.body["errors"]["observations"][0],
        "0 of 3 observed practices recorded; 3 more needed before sign-off"
    );
    observe(app, &t.worker, &t.worker, &id, "competent")
        .await
        .assert_problem(403);
    observe(app, &t.other_supervisor, &t.worker, &id, "competent")
        .await
        .assert_problem(403);
    observe(app, &t.outsider_supervisor, &t.worker, &id, "competent")
        .await
        .assert_problem(404);
    let future = app
        .post(&format!(
            "/api/v1/workers/{}/observations",
            t.worker.user_id
        ))
        .token(&t.supervisor.access)
        .json(
            json!({"competency_id": id, "observed_on": Utc::now().date_naive().succ_opt().unwrap(),
            "outcome": "competent", "note": "n".repeat(501)}),
        )
        .send()
        .await;
    future.assert_problem(422);
    assert!(
        future.body["errors"]["observed_on"].is_array() && future.body["errors"]["note"].is_array()
    );

    for outcome in ["competent", "competent", "not_yet"] {
        assert_eq!(
            observe(app, &t.supervisor, &t.worker, &id, outcome)
                .await
                .status,
            201
        );
    }
    let r = decide(app, &t.supervisor, &signoff).await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["observations"][0]
            .as_str()
            .unwrap()
            .starts_with("2 of 3")
    );
    // An assessor may observe too.
    assessor(&t, &id, &t.other_supervisor).await;
    assert_eq!(
        observe(app, &t.other_supervisor, &t.worker, &id, "competent")
            .await
            .status,
        201
    );
    let r = decide(app, &t.supervisor, &signoff).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let list = app
        .get(&format!(
            "/api/v1/workers/{}/observations?competency_id={id}",
            t.worker.user_id
        ))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 4);
}

async fn withdrawn_and_returned_requests(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "REF", 0).await;
    let first = ask(app, &t.worker, &id).await.id();
    app.post(&format!("/api/v1/signoffs/{first}/withdraw"))
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);
    let w = app
        .post(&format!("/api/v1/signoffs/{first}/withdraw"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(w.body["status"], "withdrawn");
    decide(app, &t.supervisor, &first).await.assert_problem(409);

    let second = ask(app, &t.worker, &id).await.id();
    let empty = app
        .post(&format!("/api/v1/signoffs/{second}/return"))
        .token(&t.supervisor.access)
        .json(json!({"reason": ""}))
        .send()
        .await;
    empty.assert_problem(422);
    let back = app
        .post(&format!("/api/v1/signoffs/{second}/return"))
        .token(&t.supervisor.access)
        .json(json!({"reason": "Please add the referral log."}))
        .send()
        .await;
    assert_eq!(back.status, 200, "{}", back.text);
    assert_eq!(back.body["status"], "returned");
    assert_eq!(
        back.body["history"][1]["note"],
        "Please add the referral log."
    );
    app.post(&format!("/api/v1/signoffs/{second}/withdraw"))
        .token(&t.worker.access)
        .send()
        .await
        .assert_problem(409);
    assert_eq!(
        ask(app, &t.worker, &id).await.status,
        201,
        "asked again after a return"
    );
}

async fn a_manager_revokes_a_sign_off_with_a_reason(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "CONF", 0).await;
    let signoff = ask(app, &t.worker, &id).await.id();
    let revoke = |who: &Session, reason: &str| {
        let path = format!("/api/v1/signoffs/{signoff}/revoke");
        let (token, reason) = (who.access.clone(), reason.to_string());
        async move {
            app.post(&path)
                .token(&token)
                .json(json!({"reason": reason}))
                .send()
                .await
        }
    };
    revoke(&t.manager, "Too early").await.assert_problem(409);
    decide(app, &t.supervisor, &signoff).await;
    revoke(&t.supervisor, "Mine").await.assert_problem(403);
    revoke(&t.outsider_manager, "Theirs")
        .await
        .assert_problem(404);
    revoke(&t.manager, " ").await.assert_problem(422);
    let r = revoke(&t.manager, "Confidentiality breach on 2 November").await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "revoked");
    assert_eq!(actions(&r.body), vec!["requested", "signed_off", "revoked"]);
    assert_eq!(
        ask(app, &t.worker, &id).await.status,
        201,
        "may be asked again"
    );
}

async fn two_decisions_racing_on_one_request_give_one_winner(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "RACE", 0).await;
    assessor(&t, &id, &t.other_supervisor).await;
    for _ in 0..5 {
        let signoff = ask(app, &t.worker, &id).await.id();
        let a = decide(app, &t.supervisor, &signoff);
        let b = app
            .post(&format!("/api/v1/signoffs/{signoff}/return"))
            .token(&t.other_supervisor.access)
            .json(json!({"reason": "Not yet"}))
            .send();
        let (a, b) = futures_util::future::join(a, b).await;
        let mut statuses = [a.status, b.status];
        statuses.sort();
        assert_eq!(statuses, [200, 409], "{} / {}", a.text, b.text);
        let seen = app
            .get(&format!("/api/v1/signoffs/{signoff}"))
            .token(&t.worker.access)
            .send()
            .await;
        assert_eq!(
            seen.body["history"].as_array().unwrap().len(),
            2,
            "one decision recorded"
        );
        if seen.body["status"] == "signed_off" {
            app.post(&format!("/api/v1/signoffs/{signoff}/revoke"))
                .token(&t.manager.access)
                .json(json!({"reason": "reset for the next round"}))
                .send()
                .await;
        }
    }
}

async fn the_queue_follows_the_current_supervisor(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "Q", 0).await;
    let m = module(app, &t.manager, "QM", None).await;
    ask(app, &t.worker, &id).await;
    log(app, &t.worker, json!({"module_id": m, "completed_on": Utc::now().date_naive(), "hours": 1, "provider": "P"})).await;
    let queue = |who: &Session| {
        let token = who.access.clone();
        async move {
            app.get("/api/v1/supervisor-queue")
                .token(&token)
                .send()
                .await
        }
    };
    let mine = queue(&t.supervisor).await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(
        mine.body["counts"],
        json!({"signoff_requests": 1, "unverified_training": 1})
    );
    assert_eq!(mine.body["signoff_requests"].as_array().unwrap().len(), 1);
    let me = app.get("/api/v1/me").token(&t.worker.access).send().await;
    let name = me.body["display_name"].clone();
    assert!(name.is_string(), "{}", me.text);
    let signoff = &mine.body["signoff_requests"][0];
    assert_eq!(
        signoff["worker_name"], name,
        "a queue item reads with names"
    );
    assert_eq!(signoff["competency_code"], "Q");
    assert_eq!(
        signoff["competency_title"],
        "Able to collect a dried blood spot sample"
    );
    assert_eq!(signoff["competency_id"], id.as_str());
    let training = &mine.body["unverified_training"][0];
    assert_eq!(training["worker_name"], name);
    assert_eq!(training["module_code"], "QM");
    assert!(training["module_title"].is_string());
    assert_eq!(training["module_id"], m.as_str());
    assert_eq!(
        queue(&t.other_supervisor).await.body["counts"]["signoff_requests"],
        0
    );
    queue(&t.manager).await.assert_problem(403);
    queue(&t.worker).await.assert_problem(403);

    let path = format!("/api/v1/workers/{}", t.worker.user_id);
    let etag = app
        .get(&path)
        .token(&t.manager.access)
        .send()
        .await
        .header("etag")
        .unwrap();
    app.patch(&path)
        .token(&t.manager.access)
        .header("if-match", &etag)
        .json(json!({"supervisor_id": t.other_supervisor.user_id}))
        .send()
        .await;
    assert_eq!(
        queue(&t.supervisor).await.body["counts"],
        json!({"signoff_requests": 0, "unverified_training": 0})
    );
    assert_eq!(
        queue(&t.other_supervisor).await.body["counts"],
        json!({"signoff_requests": 1, "unverified_training": 1})
    );
}

async fn a_sign_off_may_carry_a_note_kept_in_its_history(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let id = competency(app, &t.manager, "NOTE", 0).await;
    let signoff = ask(app, &t.worker, &id).await.id();
    let path = format!("/api/v1/signoffs/{signoff}/sign-off");
    let send = |body: Value| {
        app.post(&path)
            .token(&t.supervisor.access)
            .json(body)
            .send()
    };
    let r = send(json!({"note": "x".repeat(1001)})).await;
    r.assert_problem(422);
    assert!(r.body["errors"]["note"].is_array(), "{}", r.text);
    send(json!({"remark": "hi"})).await.assert_problem(422);
    let r = app
        .post(&path)
        .token(&t.supervisor.access)
        .raw("application/json", "{not json")
        .send()
        .await;
    r.assert_problem(400);
    let still = app
        .get(&format!("/api/v1/signoffs/{signoff}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        still.body["status"], "requested",
        "refusals changed nothing"
    );

    let r = send(json!({"note": "Confident with every client at the Tuesday clinic"})).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["status"], "signed_off");
    let last = r.body["history"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(last["action"], "signed_off");
    assert_eq!(
        last["note"],
        "Confident with every client at the Tuesday clinic"
    );
    assert_eq!(
        r.body["reason"],
        Value::Null,
        "a note is not a return's reason"
    );
    // A sign-off reads with its competency's code and title, alone and in a list.
    assert_eq!(r.body["competency_code"], "NOTE");
    assert_eq!(
        r.body["competency_title"],
        "Able to collect a dried blood spot sample"
    );
    let list = app
        .get(&format!("/api/v1/workers/{}/signoffs", t.worker.user_id))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        list.body["items"][0]["competency_code"], "NOTE",
        "{}",
        list.text
    );

    // Without a body, as before.
    let other = competency(app, &t.manager, "BARE", 0).await;
    let bare = ask(app, &t.worker, &other).await.id();
    let r = decide(app, &t.supervisor, &bare).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.body["history"].as_array().unwrap().last().unwrap()["note"],
        Value::Null
    );
}

/// An assessor sees the requests they may decide in their queue, beyond their supervisees,
/// and reads the observations of the competencies they assess.
async fn assessors_see_what_they_may_decide_and_the_observations_they_assess(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let fib = competency(app, &t.manager, "FIB", 1).await;
    let plain = competency(app, &t.manager, "TALK", 0).await;
    assessor(&t, &fib, &t.other_supervisor).await;
    for c in [&fib, &plain] {
        assert_eq!(ask(app, &t.worker, c).await.status, 201);
    }
    for (c, note) in [(&fib, "FIB-SEEN"), (&plain, "TALK-SEEN")] {
        let r = app
            .post(&format!(
                "/api/v1/workers/{}/observations",
                t.worker.user_id
            ))
            .token(&t.supervisor.access)
            .json(
                json!({"competency_id": c, "observed_on": Utc::now().date_naive(),
                "outcome": "competent", "note": note}),
            )
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let queue = |who: &Session| {
        let token = who.access.clone();
        async move {
            app.get("/api/v1/supervisor-queue")
                .token(&token)
                .send()
                .await
        }
    };
    let theirs = queue(&t.other_supervisor).await;
    assert_eq!(
        theirs.body["counts"]["signoff_requests"], 1,
        "{}",
        theirs.text
    );
    assert_eq!(theirs.body["signoff_requests"][0]["competency_code"], "FIB");
    assert_eq!(
        queue(&t.supervisor).await.body["counts"]["signoff_requests"],
        2
    );
    let bystander = app.user(&t.manager, "supervisor", Some(&t.org)).await;
    assert_eq!(
        queue(&bystander).await.body["counts"]["signoff_requests"],
        0
    );

    let path = format!("/api/v1/workers/{}/observations", t.worker.user_id);
    let seen = app
        .get(&path)
        .token(&t.other_supervisor.access)
        .send()
        .await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(
        seen.text.contains("FIB-SEEN") && !seen.text.contains("TALK-SEEN"),
        "{}",
        seen.text
    );
    assert_eq!(seen.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(
        seen.body["items"][0]["competency_code"], "FIB",
        "read with its competency"
    );
    app.get(&path)
        .token(&bystander.access)
        .send()
        .await
        .assert_problem(403);
    app.get(&path)
        .token(&t.outsider_supervisor.access)
        .send()
        .await
        .assert_problem(404);
    let all = app.get(&path).token(&t.supervisor.access).send().await;
    assert_eq!(
        all.body["items"].as_array().unwrap().len(),
        2,
        "the supervisor reads all"
    );
}

/// Observations recorded before a sign-off was revoked do not count toward the next
/// request, unless the revoking manager says they still stand.
async fn a_revocation_sets_the_observations_aside_unless_they_stand(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    for (code, stand) in [("OBS-A", false), ("OBS-B", true)] {
        let id = competency(app, &t.manager, code, 1).await;
        assessor(&t, &id, &t.supervisor).await;
        assert_eq!(
            observe(app, &t.supervisor, &t.worker, &id, "competent")
                .await
                .status,
            201
        );
        let first = ask(app, &t.worker, &id).await.id();
        assert_eq!(decide(app, &t.supervisor, &first).await.status, 200);
        let r = app
            .post(&format!("/api/v1/signoffs/{first}/revoke"))
            .token(&t.manager.access)
            .json(json!({"reason": "Assessed by someone not trained", "observations_stand": stand}))
            .send()
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let seen = app
            .get(&format!(
                "/api/v1/workers/{}/observations?competency_id={id}",
                t.worker.user_id
            ))
            .token(&t.supervisor.access)
            .send()
            .await;
        assert_eq!(
            seen.body["items"].as_array().unwrap().len(),
            1,
            "kept either way"
        );
        assert_eq!(seen.body["items"][0]["superseded_at"].is_string(), !stand);
        let again = ask(app, &t.worker, &id).await.id();
        let r = decide(app, &t.supervisor, &again).await;
        if stand {
            assert_eq!(
                r.status, 200,
                "{code}: the observations still stand: {}",
                r.text
            );
        } else {
            r.assert_problem(422);
            assert_eq!(
                r.body["errors"]["observations"][0],
                "0 of 1 observed practices recorded; 1 more needed before sign-off"
            );
            assert_eq!(
                observe(app, &t.supervisor, &t.worker, &id, "competent")
                    .await
                    .status,
                201
            );
            assert_eq!(decide(app, &t.supervisor, &again).await.status, 200);
        }
    }
}

async fn sign_off_history_is_append_only(backend: Backend) {
    let t = team(backend).await;
    let id = competency(&t.app, &t.manager, "AO", 0).await;
    ask(&t.app, &t.worker, &id).await;
    let mut conn = t.app.conn();
    assert!(
        diesel::sql_query("UPDATE signoff_events SET action = 'signed_off'")
            .execute(&mut *conn)
            .is_err()
    );
    assert!(
        diesel::sql_query("DELETE FROM signoff_events")
            .execute(&mut *conn)
            .is_err()
    );
}

both_backends!(
    the_framework_is_kept_by_managers,
    a_request_is_signed_off_by_the_supervisor_with_its_history,
    only_the_current_supervisor_or_an_assessor_decides,
    observed_competencies_need_enough_competent_observations,
    withdrawn_and_returned_requests,
    a_manager_revokes_a_sign_off_with_a_reason,
    two_decisions_racing_on_one_request_give_one_winner,
    the_queue_follows_the_current_supervisor,
    sign_off_history_is_append_only,
    a_sign_off_may_carry_a_note_kept_in_its_history,
    assessors_see_what_they_may_decide_and_the_observations_they_assess,
    a_revocation_sets_the_observations_aside_unless_they_stand,
);
