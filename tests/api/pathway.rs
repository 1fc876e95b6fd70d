//! Pathways and stages, explained eligibility, the pause-aware clock, progressions (the
//! transaction, the override, refusals) and the summary's fixed query count.

use chrono::{Days, Months, NaiveDate, Utc};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, Session, TestApp};
use crate::training::{Team, log, module, team};
use peerpath::db::Backend;
use peerpath::db::schema::audit_events;

pub const AFC3: &str = "0193a000-0000-7000-8000-000000000003";
pub const AFC4: &str = "0193a000-0000-7000-8000-000000000004";

pub fn today() -> NaiveDate {
    Utc::now().date_naive()
}

pub fn months_ago(n: u32) -> NaiveDate {
    today().checked_sub_months(Months::new(n)).unwrap()
}

pub async fn competency(app: &TestApp, manager: &Session, code: &str, observed: i32) -> String {
    let r = app
        .post("/api/v1/competencies")
        .token(&manager.access)
        .json(
            json!({"code": code, "domain": "Testing", "title": format!("Competency {code}"),
            "observations_required": observed}),
        )
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.id()
}

pub async fn pathway(app: &TestApp, manager: &Session, stages: &[Value]) -> (String, Vec<String>) {
    let r = app
        .post("/api/v1/pathways")
        .token(&manager.access)
        .json(json!({"name": "HCV peer pathway", "description": "From peer support to advanced practice"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.id();
    let mut stage_ids = vec![];
    for stage in stages {
        let r = app
            .post(&format!("/api/v1/pathways/{id}/stages"))
            .token(&manager.access)
            .json(stage.clone())
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        stage_ids.push(
            r.body["stages"].as_array().unwrap().last().unwrap()["id"]
                .as_str()
                .unwrap()
                .to_string(),
        );
    }
    (id, stage_ids)
}

pub async fn place(
    app: &TestApp,
    manager: &Session,
    worker: &str,
    stage: &str,
    since: NaiveDate,
) -> Resp {
    app.req(
        actix_web::http::Method::PUT,
        &format!("/api/v1/workers/{worker}/placement"),
    )
    .token(&manager.access)
    .json(json!({"stage_id": stage, "since": since}))
    .send()
    .await
}

pub async fn summary(app: &TestApp, as_: &Session, worker: &str) -> Resp {
    app.get(&format!("/api/v1/workers/{worker}/pathway"))
        .token(&as_.access)
        .send()
        .await
}

/// The requirement of `kind` (and subject, where given) in a summary's next stage.
pub fn requirement(summary: &Value, kind: &str, subject: Option<&str>) -> Value {
    summary["next_stage"]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind && subject.is_none_or(|s| r["subject_id"] == s))
        .unwrap_or_else(|| panic!("no {kind} requirement in {summary}"))
        .clone()
}

pub async fn verified(app: &TestApp, t: &Team, module: &str, completed_on: NaiveDate) -> String {
    let r = log(
        app,
        &t.worker,
        json!({"module_id": module, "completed_on": completed_on, "hours": 3, "provider": "Hepatitis C Trust"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let id = r.id();
    let v = app
        .post(&format!("/api/v1/training-records/{id}/verify"))
        .token(&t.supervisor.access)
        .send()
        .await;
    assert_eq!(v.status, 200, "{}", v.text);
    id
}

fn day(d: NaiveDate) -> String {
    d.format("%-d %B %Y").to_string()
}

async fn pathways_are_kept_by_programme_managers(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let m = module(app, &t.manager, "HCV-05", Some(12)).await;
    let (id, stages) = pathway(
        app,
        &t.manager,
        &[
            json!({"name": "Peer support worker", "band_id": AFC3}),
            json!({"name": "Advanced peer support worker", "band_id": AFC4, "min_months_in_previous": 6,
                "supervision_hours": 20, "module_ids": [m]}),
        ],
    )
    .await;
    let r = app
        .get(&format!("/api/v1/pathways/{id}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "everyone in the organisation reads it");
    assert_eq!(r.body["stages"][1]["position"], 2);
    assert_eq!(r.body["stages"][1]["supervision_hours"], 20.0);
    assert_eq!(r.body["stages"][1]["modules"][0]["code"], "HCV-05");

    let stage = json!({"name": "Peer lead"});
    for who in [&t.worker, &t.supervisor] {
        app.post(&format!("/api/v1/pathways/{id}/stages"))
            .token(&who.access)
            .json(stage.clone())
            .send()
            .await
            .assert_problem(403);
    }
    for r in [
        app.get(&format!("/api/v1/pathways/{id}"))
            .token(&t.outsider_manager.access)
            .send()
            .await,
        app.post(&format!("/api/v1/pathways/{id}/stages"))
            .token(&t.outsider_manager.access)
            .json(stage.clone())
            .send()
            .await,
    ] {
        r.assert_problem(404);
    }
    // Another organisation's module, a bad number of months: refused, nothing added.
    let foreign = module(app, &t.outsider_manager, "X-1", None).await;
    let r = app
        .post(&format!("/api/v1/pathways/{id}/stages"))
        .token(&t.manager.access)
        .json(json!({"name": "Peer lead", "module_ids": [foreign]}))
        .send()
        .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["module_ids"].is_array(), "{}", r.text);
    let r = app
        .post(&format!("/api/v1/pathways/{id}/stages"))
        .token(&t.manager.access)
        .json(json!({"name": "", "min_months_in_previous": -1, "supervision_hours": -2}))
        .send()
        .await;
    r.assert_problem(422);
    for field in ["name", "min_months_in_previous", "supervision_hours"] {
        assert!(r.body["errors"][field].is_array(), "{field}: {}", r.text);
    }
    let r = app
        .get(&format!("/api/v1/pathways/{id}"))
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(r.body["stages"].as_array().unwrap().len(), 2);

    // Editing a stage needs its current version.
    let put = |version: &str| {
        app.req(
            actix_web::http::Method::PUT,
            &format!("/api/v1/pathways/{id}/stages/{}", stages[1]),
        )
        .token(&t.manager.access)
        .header("If-Match", version)
        .json(json!({"name": "Advanced peer support worker", "band_id": AFC4, "min_months_in_previous": 12}))
    };
    let r = put("\"v1\"").send().await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["stages"][1]["min_months_in_previous"], 12);
    assert_eq!(r.body["stages"][1]["modules"], json!([]));
    put("\"v1\"").send().await.assert_problem(412);

    app.post("/api/v1/pathways")
        .token(&t.manager.access)
        .json(json!({"name": "hcv PEER pathway"}))
        .send()
        .await
        .assert_problem(409);

    // Placement: managers only, a stage of the organisation, not before the start date.
    place(app, &t.supervisor, &t.worker.user_id, &stages[0], today())
        .await
        .assert_problem(403);
    place(
        app,
        &t.manager,
        &t.worker.user_id,
        &stages[0],
        NaiveDate::from_ymd_opt(2020, 1, 1).unwrap(),
    )
    .await
    .assert_problem(422);
    let r = place(app, &t.manager, &t.worker.user_id, &stages[0], today()).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body[0]["reason"], "placement");
}

/// A stage 2 needing 6 months, two modules, an observed competency and 2 supervision hours.
struct Ladder {
    t: Team,
    stages: Vec<String>,
    edge: String,
    lapsed: String,
    observed: String,
}

async fn ladder(backend: Backend) -> Ladder {
    let t = team(backend).await;
    let app = &t.app;
    let edge = module(app, &t.manager, "HCV-05", Some(12)).await;
    let lapsed = module(app, &t.manager, "HCV-07", Some(12)).await;
    let observed = competency(app, &t.manager, "FIBRO", 2).await;
    let (_, stages) = pathway(
        app,
        &t.manager,
        &[
            json!({"name": "Peer support worker", "band_id": AFC3}),
            json!({"name": "Advanced peer support worker", "band_id": AFC4, "min_months_in_previous": 6,
                "supervision_hours": 2, "module_ids": [edge, lapsed], "competency_ids": [observed]}),
            json!({"name": "Peer case worker"}),
        ],
    )
    .await;
    Ladder {
        t,
        stages,
        edge,
        lapsed,
        observed,
    }
}

async fn eligibility_explains_each_requirement(backend: Backend) {
    let l = ladder(backend).await;
    let (t, app) = (&l.t, &l.t.app);
    let w = &t.worker.user_id;
    let since = months_ago(3);
    place(app, &t.manager, w, &l.stages[0], since).await;

    let s = summary(app, &t.worker, w).await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(s.body["stage"]["name"], "Peer support worker");
    assert_eq!(s.body["stage"]["months_in_stage"], 3);
    assert_eq!(s.body["next_stage"]["eligible"], false);
    let served = since.checked_add_months(Months::new(6)).unwrap();
    let time = requirement(&s.body, "time_in_stage", None);
    assert_eq!(time["met"], false);
    assert_eq!(
        time["reason"],
        format!("3 more months in stage: eligible from {}", day(served))
    );
    assert_eq!(time["date"], served.to_string());
    assert_eq!(
        requirement(&s.body, "module", Some(&l.edge))["reason"],
        "Module HCV-05: not completed yet"
    );
    assert_eq!(
        requirement(&s.body, "competency", Some(&l.observed))["reason"],
        "Competency FIBRO: not signed off yet; 0 of 2 observed practices recorded"
    );
    assert_eq!(
        requirement(&s.body, "supervision_hours", None)["reason"],
        "0 of 2 supervision hours"
    );

    // Each requirement met in turn.
    place(app, &t.manager, w, &l.stages[0], months_ago(6)).await;
    // Completed exactly 12 months ago: in date until today, the last day it counts.
    verified(app, t, &l.edge, months_ago(12)).await;
    // One day more: expired yesterday.
    let lapsed_on = months_ago(12) - Days::new(1);
    verified(app, t, &l.lapsed, lapsed_on).await;
    for _ in 0..2 {
        let r = app
            .post(&format!("/api/v1/workers/{w}/observations"))
            .token(&t.supervisor.access)
            .json(json!({"competency_id": l.observed, "observed_on": today(), "outcome": "competent"}))
            .send()
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let signoff = app
        .post(&format!("/api/v1/workers/{w}/signoffs"))
        .token(&t.worker.access)
        .json(json!({"competency_id": l.observed, "evidence": "Two observed scans"}))
        .send()
        .await
        .id();
    let s = summary(app, &t.worker, w).await;
    assert_eq!(
        requirement(&s.body, "competency", Some(&l.observed))["reason"],
        "Competency FIBRO: sign-off requested, awaiting a decision; 2 of 2 observed practices recorded"
    );
    crate::competencies::assessor(t, &l.observed, &t.supervisor).await;
    let r = app
        .post(&format!("/api/v1/signoffs/{signoff}/sign-off"))
        .token(&t.supervisor.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let session = app
        .post(&format!("/api/v1/workers/{w}/supervision-sessions"))
        .token(&t.supervisor.access)
        .json(json!({"held_on": today(), "minutes": 150, "kind": "reflective_practice"}))
        .send()
        .await
        .id();
    let s = summary(app, &t.worker, w).await;
    let supervision = requirement(&s.body, "supervision_hours", None);
    assert_eq!(supervision["met"], false, "not confirmed yet");
    assert_eq!(
        supervision["reason"],
        "0 of 2 supervision hours (2.5 more recorded, awaiting the worker's confirmation)"
    );
    app.post(&format!("/api/v1/supervision-sessions/{session}/confirm"))
        .token(&t.worker.access)
        .send()
        .await;

    let s = summary(app, &t.worker, w).await;
    assert_eq!(requirement(&s.body, "time_in_stage", None)["met"], true);
    let edge = requirement(&s.body, "module", Some(&l.edge));
    assert_eq!(edge["met"], true, "in date on its expiry day: {edge}");
    assert_eq!(edge["date"], today().to_string());
    let lapsed = requirement(&s.body, "module", Some(&l.lapsed));
    assert_eq!(lapsed["met"], false);
    assert_eq!(
        lapsed["reason"],
        format!("Module HCV-07 expired on {}", day(today() - Days::new(1)))
    );
    assert_eq!(
        requirement(&s.body, "competency", Some(&l.observed))["met"],
        true
    );
    assert_eq!(
        requirement(&s.body, "supervision_hours", None)["reason"],
        "2.5 of 2 supervision hours"
    );
    assert_eq!(s.body["next_stage"]["eligible"], false, "one module lapsed");

    verified(app, t, &l.lapsed, today()).await;
    let s = summary(app, &t.worker, w).await;
    assert_eq!(s.body["next_stage"]["eligible"], true, "{}", s.text);
    assert!(
        s.body["next_stage"]["requirements"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["met"] == true)
    );
}

async fn pauses_stop_the_time_in_stage_clock(backend: Backend) {
    let l = ladder(backend).await;
    let (t, app) = (&l.t, &l.t.app);
    let w = &t.worker.user_id;
    let since = months_ago(6);
    place(app, &t.manager, w, &l.stages[0], since).await;
    let s = summary(app, &t.worker, w).await;
    assert_eq!(requirement(&s.body, "time_in_stage", None)["met"], true);

    let pause = json!({"starts_on": today() - Days::new(10), "category": "leave",
        "planned_return_on": today() + Days::new(20)});
    for (who, status) in [
        (&t.colleague, 403),
        (&t.other_supervisor, 403),
        (&t.outsider_manager, 404),
    ] {
        app.post(&format!("/api/v1/workers/{w}/pauses"))
            .token(&who.access)
            .json(pause.clone())
            .send()
            .await
            .assert_problem(status);
    }
    let r = app
        .post(&format!("/api/v1/workers/{w}/pauses"))
        .token(&t.supervisor.access)
        .json(json!({"starts_on": today(), "category": "leave", "planned_return_on": today()}))
        .send()
        .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["planned_return_on"].is_array());
    let r = app
        .post(&format!("/api/v1/workers/{w}/pauses"))
        .token(&t.supervisor.access)
        .json(pause.clone())
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let pause_id = r.id();
    app.post(&format!("/api/v1/workers/{w}/pauses"))
        .token(&t.supervisor.access)
        .json(pause.clone())
        .send()
        .await
        .assert_problem(409);

    let s = summary(app, &t.worker, w).await;
    assert_eq!(s.body["paused"], true);
    assert_eq!(s.body["status"], "paused");
    let time = requirement(&s.body, "time_in_stage", None);
    assert_eq!(time["met"], false, "the clock is stopped: {time}");
    assert!(
        time["reason"]
            .as_str()
            .unwrap()
            .contains("the clock is stopped")
    );

    // Back today after ten days away: ten more days to serve.
    let r = app
        .post(&format!("/api/v1/workers/{w}/pauses/{pause_id}/end"))
        .token(&t.manager.access)
        .json(json!({"ended_on": today()}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let s = summary(app, &t.worker, w).await;
    assert_eq!(s.body["paused"], false);
    assert_eq!(s.body["status"], "active");
    let served = since.checked_add_months(Months::new(6)).unwrap() + Days::new(10);
    let time = requirement(&s.body, "time_in_stage", None);
    assert_eq!(time["met"], false);
    assert_eq!(
        time["reason"],
        format!("10 more days in stage: eligible from {}", day(served))
    );
    assert_eq!(s.body["stage"]["months_in_stage"], 5);
    let r = app
        .get(&format!("/api/v1/workers/{w}/pauses"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(r.body["items"][0]["ended_on"], today().to_string());
    assert_eq!(r.body["items"][0]["category"], "leave");
}

/// A worker on stage 1 for two months, paid on AfC-3, with stage 2 needing one month.
struct Ready {
    t: Team,
    module: String,
}

async fn ready(backend: Backend) -> Ready {
    let t = team(backend).await;
    let app = &t.app;
    let m = module(app, &t.manager, "HCV-09", None).await;
    let (_, stages) = pathway(
        app,
        &t.manager,
        &[
            json!({"name": "Peer support worker", "band_id": AFC3}),
            json!({"name": "Advanced peer support worker", "band_id": AFC4, "min_months_in_previous": 1}),
            json!({"name": "Peer case worker", "module_ids": [m]}),
        ],
    )
    .await;
    let w = &t.worker.user_id;
    place(app, &t.manager, w, &stages[0], months_ago(2)).await;
    let r = app
        .post(&format!("/api/v1/workers/{w}/salary"))
        .token(&t.manager.access)
        .json(json!({"band_id": AFC3, "point": 1, "effective_from": "2024-04-01", "reason": "appointment"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    Ready { t, module: m }
}

async fn propose(app: &TestApp, by: &Session, worker: &str) -> Resp {
    app.post(&format!("/api/v1/workers/{worker}/progressions"))
        .token(&by.access)
        .json(json!({"rationale": "Ready: strong feedback from the clinic team"}))
        .send()
        .await
}

async fn approve(app: &TestApp, by: &Session, id: &str, body: Value) -> Resp {
    app.post(&format!("/api/v1/progressions/{id}/approve"))
        .token(&by.access)
        .json(body)
        .send()
        .await
}

fn action_count(app: &TestApp, action: &str) -> i64 {
    audit_events::table
        .filter(audit_events::action.eq(action))
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

async fn progression_changes_stage_and_pay_together(backend: Backend) {
    let r = ready(backend).await;
    let (t, app) = (&r.t, &r.t.app);
    let w = &t.worker.user_id;
    for (who, status) in [
        (&t.worker, 403),
        (&t.other_supervisor, 403),
        (&t.outsider_manager, 404),
    ] {
        propose(app, who, w).await.assert_problem(status);
    }
    let p = propose(app, &t.supervisor, w).await;
    assert_eq!(p.status, 201, "{}", p.text);
    assert_eq!(p.body["proposal_eligibility"]["eligible"], true);
    assert_eq!(p.body["to_stage_name"], "Advanced peer support worker");
    propose(app, &t.manager, w).await.assert_problem(409);
    let id = p.id();

    // Only a programme manager decides, and never the proposer.
    for who in [&t.supervisor, &t.worker] {
        approve(app, who, &id, json!({})).await.assert_problem(403);
    }
    approve(app, &t.outsider_manager, &id, json!({}))
        .await
        .assert_problem(404);
    approve(
        app,
        &t.manager,
        &id,
        json!({"effective_on": today() + Days::new(1)}),
    )
    .await
    .assert_problem(422);

    let effective = today() - Days::new(1);
    let a = approve(app, &t.manager, &id, json!({"effective_on": effective})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    assert_eq!(a.body["status"], "approved");
    assert_eq!(a.body["override_reason"], Value::Null);
    assert_eq!(a.body["decision_eligibility"]["eligible"], true);

    let s = summary(app, &t.worker, w).await;
    assert_eq!(s.body["stage"]["name"], "Advanced peer support worker");
    assert_eq!(s.body["stage"]["since"], effective.to_string());
    assert_eq!(s.body["pay"]["band_code"], "AfC-4");
    assert_eq!(s.body["pay"]["annual_minor"], 2_653_000);
    assert_eq!(s.body["open_proposal"], Value::Null);
    let history = app
        .get(&format!("/api/v1/workers/{w}/stage-history"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(history.body["items"][0]["ended_on"], effective.to_string());
    assert_eq!(history.body["items"][1]["reason"], "progression");
    assert_eq!(history.body["items"][1]["progression_id"], id.as_str());
    let pay = app
        .get(&format!("/api/v1/workers/{w}/salary"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(pay.body["items"][1]["reason"], "progression");
    assert_eq!(
        pay.body["items"][1]["effective_from"],
        effective.to_string()
    );
    assert_eq!(pay.body["items"][1]["progression_id"], id.as_str());
    assert_eq!(
        pay.body["items"][0]["effective_to"],
        (effective - Days::new(1)).to_string()
    );
    assert_eq!(
        app.emails_of_kind("progression_decided"),
        2,
        "the worker and the supervisor"
    );
    assert_eq!(action_count(app, "progression.approved"), 1);

    approve(app, &t.manager, &id, json!({}))
        .await
        .assert_problem(409);
}

async fn a_failed_approval_changes_nothing(backend: Backend) {
    let r = ready(backend).await;
    let (t, app) = (&r.t, &r.t.app);
    let w = &t.worker.user_id;
    // A pay change already starts today, so the approval's salary row fails after the stage
    // moved inside the transaction.
    let c = app
        .post(&format!("/api/v1/workers/{w}/salary"))
        .token(&t.manager.access)
        .json(
            json!({"band_id": AFC3, "point": 2, "effective_from": today(), "reason": "correction"}),
        )
        .send()
        .await;
    assert_eq!(c.status, 201, "{}", c.text);
    let id = propose(app, &t.supervisor, w).await.id();
    let a = approve(app, &t.manager, &id, json!({"effective_on": today()})).await;
    a.assert_problem(409);
    assert_eq!(a.body["errors"], Value::Null);

    let s = summary(app, &t.worker, w).await;
    assert_eq!(
        s.body["stage"]["name"], "Peer support worker",
        "stage unchanged"
    );
    assert_eq!(s.body["pay"]["band_code"], "AfC-3", "pay unchanged");
    assert_eq!(s.body["open_proposal"]["id"], id.as_str(), "still open");
    let history = app
        .get(&format!("/api/v1/workers/{w}/stage-history"))
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(history.body["items"].as_array().unwrap().len(), 1);
    assert_eq!(history.body["items"][0]["ended_on"], Value::Null);
    let pay = app
        .get(&format!("/api/v1/workers/{w}/salary"))
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(pay.body["items"].as_array().unwrap().len(), 2);
    assert_eq!(app.emails_of_kind("progression_decided"), 0);
    assert_eq!(action_count(app, "progression.approved"), 0);

    // Another day works.
    let a = approve(
        app,
        &t.manager,
        &id,
        json!({"effective_on": today() - Days::new(1)}),
    )
    .await;
    assert_eq!(a.status, 200, "{}", a.text);
}

async fn approving_an_ineligible_worker_needs_an_override(backend: Backend) {
    let r = ready(backend).await;
    let (t, app) = (&r.t, &r.t.app);
    let w = &t.worker.user_id;
    let id = propose(app, &t.supervisor, w).await.id();
    approve(app, &t.manager, &id, json!({})).await;
    // Stage 3 needs a module the worker has not done.
    let p = propose(app, &t.supervisor, w).await;
    assert_eq!(p.status, 201, "{}", p.text);
    assert_eq!(p.body["proposal_eligibility"]["eligible"], false);
    let id = p.id();
    let a = approve(app, &t.manager, &id, json!({})).await;
    a.assert_problem(422);
    let message = a.body["errors"]["override_reason"][0].as_str().unwrap();
    assert!(
        message.contains("Module HCV-09: not completed yet"),
        "{message}"
    );
    approve(app, &t.manager, &id, json!({"override_reason": "   "}))
        .await
        .assert_problem(422);
    let a = approve(app, &t.manager, &id, json!({"override_reason": "Completed the equivalent course with the trust; certificate on file"})).await;
    assert_eq!(a.status, 200, "{}", a.text);
    for r in [
        app.get(&format!("/api/v1/progressions/{id}"))
            .token(&t.worker.access)
            .send()
            .await,
        app.get(&format!("/api/v1/workers/{w}/progressions"))
            .token(&t.supervisor.access)
            .send()
            .await,
        app.get("/api/v1/progressions?status=approved")
            .token(&t.manager.access)
            .send()
            .await,
    ] {
        assert_eq!(r.status, 200, "{}", r.text);
        let p = if r.body["items"].is_array() {
            r.body["items"]
                .as_array()
                .unwrap()
                .iter()
                .find(|p| p["id"] == id.as_str())
                .unwrap()
                .clone()
        } else {
            r.body.clone()
        };
        assert_eq!(
            p["override_reason"],
            "Completed the equivalent course with the trust; certificate on file"
        );
        assert_eq!(p["decision_eligibility"]["eligible"], false);
    }
    let s = summary(app, &t.worker, w).await;
    assert_eq!(s.body["stage"]["name"], "Peer case worker");
    assert_eq!(s.body["next_stage"], Value::Null, "the last stage");
    assert_eq!(
        s.body["pay"]["band_code"], "AfC-4",
        "an unpaid-band stage keeps the pay"
    );
    propose(app, &t.supervisor, w).await.assert_problem(422);
    assert_eq!(s.body["stage"]["position"], 3);
    let _ = &r.module;
}

async fn a_declined_proposal_keeps_its_reason(backend: Backend) {
    let r = ready(backend).await;
    let (t, app) = (&r.t, &r.t.app);
    let w = &t.worker.user_id;
    let id = propose(app, &t.manager, w).await.id();
    // The proposer cannot decide; a second manager can.
    app.post(&format!("/api/v1/progressions/{id}/decline"))
        .token(&t.manager.access)
        .json(json!({"reason": "Not yet"}))
        .send()
        .await
        .assert_problem(403);
    let second = app.user(&t.admin, "programme_manager", Some(&t.org)).await;
    app.post(&format!("/api/v1/progressions/{id}/decline"))
        .token(&second.access)
        .json(json!({"reason": ""}))
        .send()
        .await
        .assert_problem(422);
    let d = app
        .post(&format!("/api/v1/progressions/{id}/decline"))
        .token(&second.access)
        .json(json!({"reason": "Let's review after the next observed clinic"}))
        .send()
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["status"], "declined");
    assert_eq!(
        d.body["decision_reason"],
        "Let's review after the next observed clinic"
    );
    let s = summary(app, &t.worker, w).await;
    assert_eq!(s.body["stage"]["name"], "Peer support worker");
    assert_eq!(app.emails_of_kind("progression_decided"), 2);
    assert_eq!(
        propose(app, &t.supervisor, w).await.status,
        201,
        "a new proposal may follow"
    );
    // The organisation's list is for programme managers.
    app.get("/api/v1/progressions")
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);
}

async fn settings(app: &TestApp, t: &Team, body: Value) -> Resp {
    app.req(
        actix_web::http::Method::PUT,
        &format!("/api/v1/organisations/{}/settings", t.org),
    )
    .token(&t.manager.access)
    .json(body)
    .send()
    .await
}

/// An organisation with one programme manager: a proposal of theirs can be withdrawn, and
/// is decided by the second approver the organisation names, recorded in the decision.
async fn the_only_manager_s_proposal_is_withdrawn_or_decided_by_the_second_approver(
    backend: Backend,
) {
    let r = ready(backend).await;
    let (t, app) = (&r.t, &r.t.app);
    let w = &t.worker.user_id;
    let first = propose(app, &t.manager, w).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let first = first.id();
    let withdraw = |who: &Session, id: &str| {
        let (token, path) = (
            who.access.clone(),
            format!("/api/v1/progressions/{id}/withdraw"),
        );
        async move { app.post(&path).token(&token).send().await }
    };
    withdraw(&t.worker, &first).await.assert_problem(403);
    withdraw(&t.supervisor, &first).await.assert_problem(403);
    withdraw(&t.outsider_manager, &first)
        .await
        .assert_problem(404);
    let r1 = withdraw(&t.manager, &first).await;
    assert_eq!(r1.status, 200, "{}", r1.text);
    assert_eq!(r1.body["status"], "withdrawn");
    assert_eq!(r1.body["decided_by"], t.manager.user_id.as_str());
    withdraw(&t.manager, &first).await.assert_problem(409);
    approve(app, &t.manager, &first, json!({}))
        .await
        .assert_problem(403);

    // A new proposal may follow; without a second approver nobody else may decide it.
    let id = propose(app, &t.manager, w).await.id();
    approve(app, &t.manager, &id, json!({}))
        .await
        .assert_problem(403);
    approve(app, &t.supervisor, &id, json!({}))
        .await
        .assert_problem(403);
    approve(app, &t.admin, &id, json!({}))
        .await
        .assert_problem(404);

    // The second approver is a supervisor of the organisation or an admin.
    for bad in [
        json!(t.worker.user_id),
        json!(t.outsider_supervisor.user_id),
        json!(uuid::Uuid::now_v7().to_string()),
    ] {
        let r = settings(
            app,
            t,
            json!({"supervisors_see_pay": false, "second_approver_id": bad}),
        )
        .await;
        r.assert_problem(422);
        assert!(
            r.body["errors"]["second_approver_id"].is_array(),
            "{}",
            r.text
        );
    }
    let ok = settings(
        app,
        t,
        json!({"supervisors_see_pay": false, "second_approver_id": t.other_supervisor.user_id}),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    assert_eq!(
        ok.body["second_approver_id"],
        t.other_supervisor.user_id.as_str()
    );

    approve(app, &t.supervisor, &id, json!({}))
        .await
        .assert_problem(403);
    let d = approve(app, &t.other_supervisor, &id, json!({})).await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["status"], "approved");
    assert_eq!(d.body["decided_by"], t.other_supervisor.user_id.as_str());
    assert_eq!(d.body["decided_as"], "second_approver");
    assert_eq!(
        d.body["from_stage_name"], "Peer support worker",
        "read with names"
    );
    let me = app.get("/api/v1/me").token(&t.worker.access).send().await;
    assert_eq!(d.body["worker_name"], me.body["display_name"]);
    let listed = app
        .get("/api/v1/progressions")
        .token(&t.manager.access)
        .send()
        .await;
    assert!(
        listed.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .all(|p| p["worker_name"] == me.body["display_name"]),
        "{}",
        listed.text
    );
    assert_eq!(
        summary(app, &t.worker, w).await.body["stage"]["name"],
        "Advanced peer support worker"
    );

    // With a second programme manager the second approver steps back.
    let next = propose(app, &t.manager, w).await;
    assert_eq!(next.status, 201, "{}", next.text);
    let next = next.id();
    let second = app.user(&t.admin, "programme_manager", Some(&t.org)).await;
    approve(app, &t.other_supervisor, &next, json!({}))
        .await
        .assert_problem(403);
    let d = app
        .post(&format!("/api/v1/progressions/{next}/decline"))
        .token(&second.access)
        .json(json!({"reason": "After the module"}))
        .send()
        .await;
    assert_eq!(d.status, 200, "{}", d.text);
    assert_eq!(d.body["decided_as"], "programme_manager");
}

fn queries(r: &Resp) -> u64 {
    let timing = r.header("server-timing").expect("a Server-Timing header");
    let desc = timing.split("desc=\"").nth(1).unwrap();
    desc.split(' ').next().unwrap().parse().unwrap()
}

async fn the_summary_runs_a_fixed_number_of_queries(backend: Backend) {
    let l = ladder(backend).await;
    let (t, app) = (&l.t, &l.t.app);
    let w = &t.worker.user_id;
    place(app, &t.manager, w, &l.stages[0], months_ago(6)).await;
    let mandatory = app
        .post("/api/v1/training-modules")
        .token(&t.manager.access)
        .json(
            json!({"code": "HCV-13", "title": "Safeguarding", "category": "safeguarding",
            "validity_months": 36, "mandatory": true}),
        )
        .send()
        .await;
    assert_eq!(mandatory.status, 201, "{}", mandatory.text);
    let mandatory = mandatory.id();
    let add = |range: std::ops::Range<usize>| {
        let (t, l, mandatory) = (t, &l, mandatory.clone());
        async move {
            for i in range {
                let day = today() - Days::new(i as u64 + 1);
                verified(app, t, &l.edge, day).await;
                verified(app, t, &mandatory, day).await;
                // Every set-up request is checked: a count that stays the same because the
                // records were refused would prove nothing.
                let o = app
                    .post(&format!("/api/v1/workers/{w}/observations"))
                    .token(&t.supervisor.access)
                    .json(json!({"competency_id": l.observed, "observed_on": day, "outcome": "competent"}))
                    .send()
                    .await;
                assert_eq!(o.status, 201, "{}", o.text);
                let s = app
                    .post(&format!("/api/v1/workers/{w}/supervision-sessions"))
                    .token(&t.supervisor.access)
                    .json(json!({"held_on": day, "minutes": 60, "kind": "one_to_one"}))
                    .send()
                    .await;
                assert_eq!(s.status, 201, "{}", s.text);
                let a = app
                    .post(&format!("/api/v1/workers/{w}/appraisals"))
                    .token(&t.supervisor.access)
                    .json(json!({"held_on": day}))
                    .send()
                    .await;
                assert_eq!(a.status, 201, "{}", a.text);
                let r = app
                    .post(&format!("/api/v1/workers/{w}/salary"))
                    .token(&t.manager.access)
                    .json(json!({"band_id": AFC3, "point": 1 + (i % 2) as i32,
                        "effective_from": NaiveDate::from_ymd_opt(2024, 4, 1).unwrap() + Days::new(i as u64 * 7),
                        "reason": "correction"}))
                    .send()
                    .await;
                assert_eq!(r.status, 201, "{}", r.text);
                let p = app
                    .post(&format!("/api/v1/workers/{w}/pauses"))
                    .token(&t.supervisor.access)
                    .json(json!({"starts_on": months_ago(5) + Days::new(i as u64 * 2), "category": "other"}))
                    .send()
                    .await;
                assert_eq!(p.status, 201, "{}", p.text);
                let e = app
                    .post(&format!("/api/v1/workers/{w}/pauses/{}/end", p.id()))
                    .token(&t.supervisor.access)
                    .json(json!({"ended_on": months_ago(5) + Days::new(i as u64 * 2 + 1)}))
                    .send()
                    .await;
                assert_eq!(e.status, 200, "{}", e.text);
            }
        }
    };
    add(0..1).await;
    let signoff = app
        .post(&format!("/api/v1/workers/{w}/signoffs"))
        .token(&t.worker.access)
        .json(json!({"competency_id": l.observed, "evidence": "e"}))
        .send()
        .await;
    assert_eq!(signoff.status, 201, "{}", signoff.text);
    let signoff = signoff.id();
    let first = summary(app, &t.worker, w).await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert!(first.body["next_pay_step"].is_object(), "{}", first.text);
    let few = queries(&first);

    add(1..9).await;
    let returned = app
        .post(&format!("/api/v1/signoffs/{signoff}/return"))
        .token(&t.supervisor.access)
        .json(json!({"reason": "More detail"}))
        .send()
        .await;
    assert_eq!(returned.status, 200, "{}", returned.text);
    let again = app
        .post(&format!("/api/v1/workers/{w}/signoffs"))
        .token(&t.worker.access)
        .json(json!({"competency_id": l.observed, "evidence": "e2"}))
        .send()
        .await;
    assert_eq!(again.status, 201, "{}", again.text);
    let second = summary(app, &t.worker, w).await;
    assert_eq!(second.status, 200, "{}", second.text);
    let many = queries(&second);
    assert_eq!(few, many, "the query count grew with the records");
    assert!(few <= 25, "{few} queries for one summary");
}

async fn who_sees_the_pathway_and_pay(backend: Backend) {
    let r = ready(backend).await;
    let (t, app) = (&r.t, &r.t.app);
    let w = &t.worker.user_id;
    let mine = summary(app, &t.worker, w).await;
    assert_eq!(mine.body["pay_visible"], true);
    assert_eq!(mine.body["pay"]["annual_minor"], 2_407_100);

    let sup = summary(app, &t.supervisor, w).await;
    assert_eq!(sup.status, 200);
    assert_eq!(sup.body["stage"]["name"], "Peer support worker");
    assert_eq!(sup.body["pay_visible"], false);
    assert_eq!(sup.body["pay"], Value::Null);
    assert_eq!(sup.body["next_pay_step"], Value::Null);
    app.get(&format!("/api/v1/workers/{w}/salary"))
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);

    let settings = format!("/api/v1/organisations/{}/settings", t.org);
    app.req(actix_web::http::Method::PUT, &settings)
        .token(&t.supervisor.access)
        .json(json!({"supervisors_see_pay": true}))
        .send()
        .await
        .assert_problem(403);
    app.req(
        actix_web::http::Method::PUT,
        &format!("/api/v1/organisations/{}/settings", t.org),
    )
    .token(&t.outsider_manager.access)
    .json(json!({"supervisors_see_pay": true}))
    .send()
    .await
    .assert_problem(404);
    let r = app
        .req(actix_web::http::Method::PUT, &settings)
        .token(&t.manager.access)
        .json(json!({"supervisors_see_pay": true}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let sup = summary(app, &t.supervisor, w).await;
    assert_eq!(sup.body["pay_visible"], true);
    assert_eq!(sup.body["pay"]["band_code"], "AfC-3");
    let pay = app
        .get(&format!("/api/v1/workers/{w}/salary"))
        .token(&t.supervisor.access)
        .send()
        .await;
    assert_eq!(pay.status, 200);

    let manager = summary(app, &t.manager, w).await;
    assert_eq!(manager.body["pay"]["band_code"], "AfC-3");
    for (who, status) in [
        (&t.other_supervisor, 403),
        (&t.colleague, 403),
        (&t.outsider_manager, 404),
        (&t.outsider_supervisor, 404),
        (&t.admin, 403),
    ] {
        summary(app, who, w).await.assert_problem(status);
        app.get(&format!("/api/v1/workers/{w}/salary"))
            .token(&who.access)
            .send()
            .await
            .assert_problem(status);
    }
}

async fn editing_a_stage_keeps_past_decisions(backend: Backend) {
    let r = ready(backend).await;
    let (t, app) = (&r.t, &r.t.app);
    let w = &t.worker.user_id;
    let id = propose(app, &t.supervisor, w).await.id();
    approve(app, &t.manager, &id, json!({})).await;
    let p = app
        .get("/api/v1/pathways")
        .token(&t.manager.access)
        .send()
        .await;
    let pathway = p.body["items"][0]["id"].as_str().unwrap().to_string();
    let stage = p.body["items"][0]["stages"][1]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .req(
            actix_web::http::Method::PUT,
            &format!("/api/v1/pathways/{pathway}/stages/{stage}"),
        )
        .token(&t.manager.access)
        .header("If-Match", "\"v1\"")
        .json(json!({"name": "Senior peer worker", "band_id": AFC4, "min_months_in_previous": 24}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    let history = app
        .get(&format!("/api/v1/workers/{w}/stage-history"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        history.body["items"][1]["stage_name"],
        "Advanced peer support worker"
    );
    let decided = app
        .get(&format!("/api/v1/progressions/{id}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        decided.body["to_stage_name"],
        "Advanced peer support worker"
    );
    let snapshot = &decided.body["decision_eligibility"];
    assert_eq!(
        snapshot["next_stage"]["name"],
        "Advanced peer support worker"
    );
    let reason = snapshot["requirements"][0]["reason"].as_str().unwrap();
    assert!(reason.starts_with("1 month in stage"), "{snapshot}");
    let s = summary(app, &t.worker, w).await;
    assert_eq!(
        s.body["stage"]["name"], "Senior peer worker",
        "the summary shows the stage now"
    );

    // A placement may be corrected to an earlier day, but not before a progression.
    place(app, &t.manager, w, &stage, months_ago(3))
        .await
        .assert_problem(422);
}

async fn progression_numbers_count_the_organisation(backend: Backend) {
    let r = ready(backend).await;
    let (t, app) = (&r.t, &r.t.app);
    let (w, c) = (&t.worker.user_id, &t.colleague.user_id);
    let stages: Vec<String> = app
        .get("/api/v1/pathways")
        .token(&t.manager.access)
        .send()
        .await
        .body["items"][0]["stages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect();
    place(app, &t.manager, c, &stages[0], months_ago(2)).await;
    let id = propose(app, &t.supervisor, w).await.id();
    approve(app, &t.manager, &id, json!({})).await;
    assert_eq!(propose(app, &t.other_supervisor, c).await.status, 201);
    app.post(&format!("/api/v1/workers/{c}/pauses"))
        .token(&t.other_supervisor.access)
        .json(json!({"starts_on": today(), "category": "leave"}))
        .send()
        .await;

    let n = app
        .get("/api/v1/reports/progression")
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(n.status, 200, "{}", n.text);
    let b = &n.body;
    assert_eq!(
        (
            b["active"].as_i64(),
            b["paused"].as_i64(),
            b["unplaced"].as_i64()
        ),
        (Some(1), Some(1), Some(0))
    );
    let stage = |i: usize| {
        (
            b["stages"][i]["workers"].as_i64().unwrap(),
            b["stages"][i]["paused"].as_i64().unwrap(),
        )
    };
    assert_eq!(
        [stage(0), stage(1), stage(2)],
        [(1, 1), (1, 0), (0, 0)],
        "{b}"
    );
    assert_eq!(b["open_proposals"], 1);
    assert_eq!(b["approved_last_year"], 1);
    assert_eq!(b["overridden_last_year"], 0);
    app.get("/api/v1/reports/progression")
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);
    let other = app
        .get("/api/v1/reports/progression")
        .token(&t.outsider_manager.access)
        .send()
        .await;
    assert_eq!(other.body["active"], 0, "only their own organisation");
    assert_eq!(other.body["stages"], json!([]));
}

both_backends!(
    progression_numbers_count_the_organisation,
    editing_a_stage_keeps_past_decisions,
    pathways_are_kept_by_programme_managers,
    eligibility_explains_each_requirement,
    pauses_stop_the_time_in_stage_clock,
    progression_changes_stage_and_pay_together,
    a_failed_approval_changes_nothing,
    approving_an_ineligible_worker_needs_an_override,
    a_declined_proposal_keeps_its_reason,
    the_only_manager_s_proposal_is_withdrawn_or_decided_by_the_second_approver,
    the_summary_runs_a_fixed_number_of_queries,
    who_sees_the_pathway_and_pay,
);
