//! Recovery support: the plan and check-ins belong to the worker. Sharing per section and
//! per field, contact requests at once and without content, missed check-in reminders,
//! pauses, a change of supervisor, export and erasure, audited reads, the canary that must
//! be found nowhere, and the firewall around the module.

use std::io::Write;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use chrono::{Days, Months, TimeDelta};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, Session, TestApp};
use crate::notifications::via;
use crate::pathway::{today, verified};
use crate::smtp::SmtpServer;
use crate::training::{module, team, team_with};
use peerpath::db::schema::{audit_events, notifications};
use peerpath::db::{self, Backend};

const SECTIONS: &[&str] = &[
    "when_well",
    "wellness_toolbox",
    "daily_maintenance",
    "triggers",
    "early_warning_signs",
    "breaking_down",
    "crisis_plan",
    "support_contacts",
];

async fn save_plan(
    app: &TestApp,
    who: &Session,
    worker: &str,
    version: &str,
    sections: Value,
) -> Resp {
    app.put(&format!("/api/v1/workers/{worker}/recovery-plan"))
        .token(&who.access)
        .header("If-Match", version)
        .json(json!({"sections": sections}))
        .send()
        .await
}

async fn plan(app: &TestApp, who: &Session, worker: &str) -> Resp {
    app.get(&format!("/api/v1/workers/{worker}/recovery-plan"))
        .token(&who.access)
        .send()
        .await
}

async fn checkin(app: &TestApp, who: &Session, worker: &str, body: Value) -> Resp {
    app.post(&format!("/api/v1/workers/{worker}/checkins"))
        .token(&who.access)
        .json(body)
        .send()
        .await
}

async fn checkins(app: &TestApp, who: &Session, worker: &str) -> Resp {
    app.get(&format!("/api/v1/workers/{worker}/checkins"))
        .token(&who.access)
        .send()
        .await
}

fn texts(plan: &Value) -> Vec<(String, String)> {
    plan["sections"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["section"].as_str().unwrap().to_string(),
                s["text"].as_str().unwrap().to_string(),
            )
        })
        .collect()
}

async fn the_plan_belongs_to_the_worker_and_sections_are_shared_by_choice(backend: Backend) {
    let t = team(backend).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    let empty = plan(app, &t.worker, w).await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.body["version"], 0);

    let sections = json!([
        {"section": "crisis_plan", "text": "Ring my sister first", "shared": true},
        {"section": "triggers", "text": "Payday weekends", "shared": false},
    ]);
    save_plan(app, &t.worker, w, "\"v1\"", sections.clone())
        .await
        .assert_problem(412);
    let saved = save_plan(app, &t.worker, w, "\"v0\"", sections.clone()).await;
    assert_eq!(saved.status, 200, "{}", saved.text);
    assert_eq!(saved.header("etag").as_deref(), Some("\"v1\""));
    assert_eq!(texts(&plan(app, &t.worker, w).await.body).len(), 2);
    let seen = plan(app, &t.supervisor, w).await;
    assert_eq!(seen.status, 200);
    assert_eq!(
        texts(&seen.body),
        [(
            "crisis_plan".to_string(),
            "Ring my sister first".to_string()
        )],
        "only the shared section"
    );

    // Sharing revoked: the supervisor sees nothing of it on the next read.
    let revoked = save_plan(
        app,
        &t.worker,
        w,
        "\"v1\"",
        json!([{"section": "crisis_plan", "text": "Ring my sister first", "shared": false}]),
    )
    .await;
    assert_eq!(revoked.status, 200, "{}", revoked.text);
    assert!(texts(&plan(app, &t.supervisor, w).await.body).is_empty());

    for (who, status) in [
        (&t.manager, 403),
        (&t.other_supervisor, 403),
        (&t.colleague, 403),
        (&t.admin, 403),
        (&t.outsider_manager, 404),
        (&t.outsider_supervisor, 404),
    ] {
        let r = plan(app, who, w).await;
        r.assert_problem(status);
        assert!(!r.text.contains("sister"));
    }
    save_plan(app, &t.supervisor, w, "\"v2\"", sections.clone())
        .await
        .assert_problem(403);
    let r = save_plan(
        app,
        &t.worker,
        w,
        "\"v2\"",
        json!([{"section": "triggers", "text": "x".repeat(4001), "shared": false},
               {"section": "triggers", "text": "again", "shared": false}]),
    )
    .await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["sections[0].text"].is_array(),
        "{}",
        r.text
    );
    assert!(
        r.body["errors"]["sections[1].section"].is_array(),
        "{}",
        r.text
    );
    save_plan(
        app,
        &t.worker,
        w,
        "\"v2\"",
        json!([{"section": "hobbies", "text": "x", "shared": false}]),
    )
    .await
    .assert_problem(422);
    assert_eq!(
        plan(app, &t.worker, w).await.body["version"],
        2,
        "refusals changed nothing"
    );
}

async fn checkins_show_the_supervisor_what_happened_and_only_shared_text(backend: Backend) {
    let t = team(backend).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    let c = checkin(
        app,
        &t.worker,
        w,
        json!({"held_on": today(), "with_supervisor": true, "wellbeing": 3, "risk": "low",
            "agreed_actions": "Walk before work", "notes": "Rough week", "actions_shared": true}),
    )
    .await;
    assert_eq!(c.status, 201, "{}", c.text);
    let id = c.id();
    let seen = checkins(app, &t.supervisor, w).await;
    assert_eq!(seen.status, 200);
    let first = &seen.body["items"][0];
    assert_eq!(first["risk"], "low");
    assert_eq!(first["call_requested"], false);
    assert_eq!(first["wellbeing"], 3);
    assert_eq!(first["agreed_actions"], "Walk before work");
    assert_eq!(first["notes"], Value::Null, "not shared");
    assert_eq!(
        checkins(app, &t.worker, w).await.body["items"][0]["notes"],
        "Rough week"
    );

    let share = |actions: bool, notes: bool| {
        app.put(&format!("/api/v1/checkins/{id}/sharing"))
            .json(json!({"actions_shared": actions, "notes_shared": notes}))
    };
    share(true, true)
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);
    assert_eq!(
        share(true, true)
            .token(&t.worker.access)
            .send()
            .await
            .status,
        200
    );
    assert_eq!(
        checkins(app, &t.supervisor, w).await.body["items"][0]["notes"],
        "Rough week"
    );
    share(false, false).token(&t.worker.access).send().await;
    let seen = checkins(app, &t.supervisor, w).await;
    assert_eq!(seen.body["items"][0]["agreed_actions"], Value::Null);
    assert_eq!(seen.body["items"][0]["notes"], Value::Null);
    assert_eq!(
        seen.body["items"][0]["risk"], "low",
        "that it happened stays visible"
    );

    let good = json!({"held_on": today(), "wellbeing": 4, "risk": "none"});
    let r = checkin(app, &t.supervisor, w, good.clone()).await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["with_supervisor"].is_array(),
        "a supervisor records only a check-in held together: {}",
        r.text
    );
    for (who, status) in [(&t.manager, 403), (&t.outsider_manager, 404)] {
        checkin(app, who, w, good.clone())
            .await
            .assert_problem(status);
    }
    for (who, status) in [
        (&t.manager, 403),
        (&t.other_supervisor, 403),
        (&t.outsider_supervisor, 404),
    ] {
        checkins(app, who, w).await.assert_problem(status);
    }
    let r = checkin(
        app,
        &t.worker,
        w,
        json!({"held_on": today() + Days::new(1), "wellbeing": 6, "risk": "none"}),
    )
    .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["held_on"].is_array() && r.body["errors"]["wellbeing"].is_array());
    checkin(
        app,
        &t.worker,
        w,
        json!({"held_on": today(), "wellbeing": 3, "risk": "severe"}),
    )
    .await
    .assert_problem(422);
    assert_eq!(
        checkins(app, &t.worker, w).await.body["items"]
            .as_array()
            .unwrap()
            .len(),
        1
    );
}

async fn a_supervisor_records_a_checkin_held_together_that_the_worker_owns(backend: Backend) {
    let t = team(backend).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    let together = json!({"held_on": today(), "with_supervisor": true, "wellbeing": 2,
        "risk": "low", "agreed_actions": "Call the GP on Monday", "notes": "Sleeping badly",
        "actions_shared": false, "notes_shared": false});
    for (who, status) in [
        (&t.other_supervisor, 403),
        (&t.manager, 403),
        (&t.outsider_supervisor, 404),
    ] {
        checkin(app, who, w, together.clone())
            .await
            .assert_problem(status);
    }
    let r = checkin(app, &t.supervisor, w, together.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["recorded_by"], t.supervisor.user_id.as_str());
    assert_eq!(r.body["worker_id"], w.as_str());
    assert_eq!(
        (
            r.body["actions_shared"].clone(),
            r.body["notes_shared"].clone()
        ),
        (json!(true), json!(true)),
        "what the supervisor wrote starts shared"
    );
    let id = r.id();

    let mine = checkins(app, &t.worker, w).await;
    assert_eq!(mine.status, 200);
    assert_eq!(
        mine.body["items"].as_array().unwrap().len(),
        1,
        "it is the worker's"
    );
    assert_eq!(mine.body["items"][0]["notes"], "Sleeping badly");
    assert_eq!(
        mine.body["items"][0]["recorded_by"],
        t.supervisor.user_id.as_str()
    );
    app.put(&format!("/api/v1/checkins/{id}/sharing"))
        .json(json!({"actions_shared": true, "notes_shared": false}))
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);
    let r = app
        .put(&format!("/api/v1/checkins/{id}/sharing"))
        .json(json!({"actions_shared": true, "notes_shared": false}))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "the worker decides what stays shared");
    let seen = checkins(app, &t.supervisor, w).await;
    assert_eq!(
        seen.body["items"][0]["agreed_actions"],
        "Call the GP on Monday"
    );
    assert_eq!(
        seen.body["items"][0]["notes"],
        Value::Null,
        "withheld by the worker"
    );

    let events: i64 = audit_events::table
        .filter(audit_events::action.eq("recovery.checkin_recorded"))
        .filter(audit_events::actor_id.eq(&t.supervisor.user_id))
        .filter(audit_events::entity_id.eq(w))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(
        events, 1,
        "recorded once, by the supervisor; refusals recorded nothing"
    );
}

async fn settle(smtp: &SmtpServer, n: usize) -> Vec<crate::smtp::Received> {
    let got = smtp.wait_for(n, Duration::from_secs(20)).await;
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    if got.len() >= n { smtp.received() } else { got }
}

async fn raised_risk_or_a_call_request_asks_for_contact_at_once_without_content(backend: Backend) {
    let smtp = SmtpServer::start();
    let t = team_with(backend, via(smtp.port)).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    let r = app
        .req(actix_web::http::Method::PUT, &format!("/api/v1/organisations/{}/settings", t.org))
        .token(&t.manager.access)
        .json(json!({"supervisors_see_pay": false, "wellbeing_contact_email": "wellbeing@example.org"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let secret = "relapsed after the funeral";
    let body = |risk: &str, call: bool| {
        json!({"held_on": today(), "wellbeing": 1, "risk": risk, "call_requested": call,
            "notes": secret, "agreed_actions": secret})
    };
    checkin(app, &t.worker, w, body("low", false)).await;
    checkin(app, &t.worker, w, body("none", true)).await;
    checkin(app, &t.worker, w, body("raised", false)).await;
    checkin(app, &t.worker, w, body("urgent", false)).await;
    let together = checkin(
        app,
        &t.supervisor,
        w,
        json!({"held_on": today(), "with_supervisor": true, "wellbeing": 1, "risk": "urgent",
            "notes": secret}),
    )
    .await;
    assert_eq!(together.status, 201, "{}", together.text);
    let mail = settle(&smtp, 5).await;
    assert_eq!(
        mail.len(),
        5,
        "call, raised, urgent to the supervisor; both urgent ones to the contact; \
         the supervisor is not told of the one they recorded"
    );
    let to: Vec<&str> = mail.iter().map(|m| m.to[0].as_str()).collect();
    assert_eq!(
        to.iter()
            .filter(|a| a.contains(&t.supervisor.email))
            .count(),
        3
    );
    assert_eq!(
        to.iter()
            .filter(|a| a.contains("wellbeing@example.org"))
            .count(),
        2
    );
    for m in &mail {
        assert!(
            !m.data.contains("funeral") && !m.data.contains("urgent") && !m.data.contains("raised"),
            "{}",
            m.data
        );
    }
    let subjects = |to: &str| -> Vec<String> {
        let mut out: Vec<String> = mail
            .iter()
            .filter(|m| m.to[0].contains(to))
            .map(|m| m.header("subject").unwrap().to_string())
            .collect();
        out.sort();
        out
    };
    let worker_name = app
        .get("/api/v1/me")
        .token(&t.worker.access)
        .send()
        .await
        .body["display_name"]
        .as_str()
        .unwrap()
        .to_string();
    assert_eq!(
        subjects(&t.supervisor.email),
        vec![
            format!("A check-in from {worker_name} needs your attention"),
            format!("A check-in from {worker_name} needs your attention"),
            format!("{worker_name} would like you to get in touch"),
        ],
        "only the call request says they would like a call"
    );
    let contact: Vec<_> = mail
        .iter()
        .filter(|m| m.to[0].contains("wellbeing@example.org"))
        .collect();
    for m in &contact {
        assert_eq!(
            m.header("subject").unwrap(),
            format!("Please check on {worker_name} today")
        );
        assert!(
            !m.data.contains("http"),
            "no link a contact without an account cannot open: {}",
            m.data
        );
        assert!(m.data.contains("Hello,"), "{}", m.data);
    }
    // Safety mail cannot be muted.
    let r = app
        .req(
            actix_web::http::Method::PUT,
            "/api/v1/me/notification-preferences",
        )
        .token(&t.supervisor.access)
        .header("If-Match", "\"v0\"")
        .json(json!({"daily_digest": false, "muted": ["contact_requested"]}))
        .send()
        .await;
    r.assert_problem(422);
    let r = app
        .req(
            actix_web::http::Method::PUT,
            &format!("/api/v1/organisations/{}/settings", t.org),
        )
        .token(&t.manager.access)
        .json(json!({"supervisors_see_pay": false, "wellbeing_contact_email": "not an address"}))
        .send()
        .await;
    r.assert_problem(422);
}

async fn tick(app: &TestApp, days: i64) {
    let settings = app.state.settings.scheduler.clone();
    peerpath::scheduler::tick(
        &app.state.db,
        &app.state.notifications,
        &settings,
        db::now() + TimeDelta::days(days),
    )
    .await
    .unwrap();
}

async fn cadence(app: &TestApp, who: &Session, worker: &str, days: i32) -> Resp {
    app.put(&format!("/api/v1/workers/{worker}/checkin-cadence"))
        .token(&who.access)
        .json(json!({"every_days": days}))
        .send()
        .await
}

async fn every_worker_is_on_the_default_rhythm_until_another_is_agreed(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let status = |who: &Session, w: &str| {
        let (token, path) = (
            who.access.clone(),
            format!("/api/v1/workers/{w}/checkin-status"),
        );
        async move { app.get(&path).token(&token).send().await }
    };
    // Started on 1 March 2024 and never checked in: due a fortnight after the start.
    let s = status(&t.worker, &t.worker.user_id).await;
    assert_eq!(s.status, 200, "{}", s.text);
    assert_eq!(s.body["every_days"], 14);
    assert_eq!(s.body["agreed"], false);
    assert_eq!(s.body["next_due_on"], "2024-03-15");
    assert_eq!(s.body["overdue"], true);

    // A worker starting today is due in 14 days, and reminded then, not before.
    let newcomer = app.user(&t.manager, "peer_worker", Some(&t.org)).await;
    let r = app
        .post("/api/v1/workers")
        .token(&t.manager.access)
        .json(
            json!({"user_id": newcomer.user_id, "supervisor_id": t.supervisor.user_id,
            "start_date": today()}),
        )
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let s = status(&t.supervisor, &newcomer.user_id).await;
    assert_eq!(s.body["next_due_on"], (today() + Days::new(14)).to_string());
    assert_eq!(s.body["overdue"], false);
    tick(app, 1).await;
    assert_eq!(
        app.emails_about("checkin_due", &t.worker.user_id),
        1,
        "overdue: reminded"
    );
    assert_eq!(
        app.emails_about("checkin_due", &newcomer.user_id),
        0,
        "not due yet"
    );
    tick(app, 15).await;
    assert_eq!(
        app.emails_about("checkin_due", &newcomer.user_id),
        1,
        "due: reminded"
    );

    // The managers' counts say who is overdue without a rhythm ever having been agreed.
    let counts = app
        .get("/api/v1/checkin-counts")
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(counts.status, 200, "{}", counts.text);
    let mine = counts.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["worker_id"] == t.worker.user_id.as_str())
        .cloned()
        .expect("the worker is counted");
    assert_eq!(mine["overdue"], true);

    // Agreeing another rhythm replaces the default.
    let r = cadence(app, &t.supervisor, &t.worker.user_id, 28).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["agreed"], true);
    assert_eq!(r.body["every_days"], 28);
    assert_eq!(r.body["next_due_on"], (today() + Days::new(28)).to_string());
}

async fn missed_checkins_remind_the_worker_then_the_supervisor_once(backend: Backend) {
    let t = team(backend).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    cadence(app, &t.manager, w, 7).await.assert_problem(403);
    cadence(app, &t.supervisor, w, 0).await.assert_problem(422);
    let r = cadence(app, &t.supervisor, w, 7).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["next_due_on"], (today() + Days::new(7)).to_string());

    tick(app, 6).await;
    assert_eq!(app.emails_about("checkin_due", w), 0, "not due yet");
    tick(app, 8).await;
    tick(app, 9).await;
    assert_eq!(app.emails_about("checkin_due", w), 1, "once per due date");
    assert_eq!(
        app.emails_about("checkin_missed", w),
        0,
        "within the grace period"
    );
    tick(app, 11).await;
    tick(app, 12).await;
    assert_eq!(app.emails_about("checkin_missed", w), 1);
    let to: String = notifications::table
        .filter(notifications::kind.eq("checkin_missed"))
        .filter(notifications::dedupe_key.like(format!("%{w}%")))
        .select(notifications::recipient_email)
        .first(&mut *app.conn())
        .unwrap();
    assert_eq!(to, t.supervisor.email);

    // A check-in restarts the cadence.
    checkin(
        app,
        &t.worker,
        w,
        json!({"held_on": today(), "wellbeing": 4, "risk": "none"}),
    )
    .await;
    let s = app
        .get(&format!("/api/v1/workers/{w}/checkin-status"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(s.body["next_due_on"], (today() + Days::new(7)).to_string());
    assert_eq!(s.body["overdue"], false);
    let counts = app
        .get("/api/v1/checkin-counts")
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(counts.status, 200, "{}", counts.text);
    assert_eq!(counts.body["items"][0]["worker_id"], w.as_str());
    assert_eq!(counts.body["items"][0]["done"], 1);
    app.get("/api/v1/checkin-counts")
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);
}

async fn a_pause_stops_the_cadence_and_training_reminders_and_nothing_expires_silently(
    backend: Backend,
) {
    let t = team(backend).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    let r = app
        .put(&format!("/api/v1/workers/{w}/checkin-cadence"))
        .token(&t.worker.access)
        .json(json!({"every_days": 30, "agreed_on": today() - Days::new(20)}))
        .send()
        .await;
    assert_eq!(
        r.body["next_due_on"],
        (today() + Days::new(10)).to_string(),
        "{}",
        r.text
    );
    // One completion runs out during the pause, another soon after it.
    let m = module(app, &t.manager, "HCV-05", Some(12)).await;
    let expired_on = today() - Days::new(5);
    verified(
        app,
        &t,
        &m,
        expired_on.checked_sub_months(Months::new(12)).unwrap(),
    )
    .await;
    let soon = module(app, &t.manager, "HCV-07", Some(12)).await;
    let runs_out = today() + Days::new(20);
    verified(
        app,
        &t,
        &soon,
        runs_out.checked_sub_months(Months::new(12)).unwrap(),
    )
    .await;

    let p = app
        .post(&format!("/api/v1/workers/{w}/pauses"))
        .token(&t.worker.access)
        .json(json!({"starts_on": today() - Days::new(10), "category": "return_to_work"}))
        .send()
        .await;
    assert_eq!(p.status, 201, "{}", p.text);
    let status = app
        .get(&format!("/api/v1/workers/{w}/checkin-status"))
        .token(&t.supervisor.access)
        .send()
        .await;
    assert_eq!(status.body["paused"], true);
    assert_eq!(status.body["next_due_on"], Value::Null);
    tick(app, 15).await;
    assert_eq!(
        app.emails_about("checkin_due", w),
        0,
        "no reminder while paused"
    );
    assert_eq!(
        app.emails_of_kind("training_expiring"),
        0,
        "no training reminders while paused"
    );

    let r = app
        .post(&format!("/api/v1/workers/{w}/pauses/{}/end", p.id()))
        .token(&t.supervisor.access)
        .json(json!({"ended_on": today()}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Ten paused days move the next check-in from today + 10 to today + 20.
    let status = app
        .get(&format!("/api/v1/workers/{w}/checkin-status"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        status.body["next_due_on"],
        (today() + Days::new(20)).to_string(),
        "{}",
        status.text
    );
    let expired: String = notifications::table
        .filter(notifications::kind.eq("training_expiring"))
        .select(notifications::body_text)
        .first(&mut *app.conn())
        .unwrap();
    assert!(
        expired.contains("Module HCV-05") && expired.contains("Module HCV-07"),
        "told on return: {expired}"
    );
}

async fn a_former_supervisor_loses_access_at_once(backend: Backend) {
    let t = team(backend).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    save_plan(
        app,
        &t.worker,
        w,
        "\"v0\"",
        json!([{"section": "crisis_plan", "text": "Call Sam", "shared": true}]),
    )
    .await;
    checkin(app, &t.worker, w, json!({"held_on": today(), "wellbeing": 4, "risk": "none", "notes": "ok", "notes_shared": true})).await;
    assert_eq!(plan(app, &t.supervisor, w).await.status, 200);
    let profile = app
        .get(&format!("/api/v1/workers/{w}"))
        .token(&t.manager.access)
        .send()
        .await;
    let r = app
        .patch(&format!("/api/v1/workers/{w}"))
        .token(&t.manager.access)
        .header("If-Match", &profile.header("etag").unwrap())
        .json(json!({"supervisor_id": t.other_supervisor.user_id}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    plan(app, &t.supervisor, w).await.assert_problem(403);
    checkins(app, &t.supervisor, w).await.assert_problem(403);
    assert_eq!(
        texts(&plan(app, &t.other_supervisor, w).await.body).len(),
        1,
        "the new one sees what is shared"
    );
    assert_eq!(
        checkins(app, &t.other_supervisor, w).await.body["items"][0]["notes"],
        "ok"
    );
}

async fn export_and_erasure_are_the_workers_own(backend: Backend) {
    let t = team(backend).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    save_plan(
        app,
        &t.worker,
        w,
        "\"v0\"",
        json!([{"section": "when_well", "text": "I sing", "shared": false}]),
    )
    .await;
    checkin(
        app,
        &t.worker,
        w,
        json!({"held_on": today(), "wellbeing": 5, "risk": "none", "notes": "good day"}),
    )
    .await;
    let c = &t.colleague;
    save_plan(
        app,
        c,
        &c.user_id,
        "\"v0\"",
        json!([{"section": "when_well", "text": "I run", "shared": false}]),
    )
    .await;

    let e = app
        .get(&format!("/api/v1/workers/{w}/recovery-export"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(e.status, 200, "{}", e.text);
    assert_eq!(e.body["plan"]["sections"][0]["text"], "I sing");
    assert_eq!(e.body["checkins"][0]["notes"], "good day");
    for who in [&t.supervisor, &t.manager] {
        app.get(&format!("/api/v1/workers/{w}/recovery-export"))
            .token(&who.access)
            .send()
            .await
            .assert_problem(403);
        app.delete(&format!("/api/v1/workers/{w}/recovery-data"))
            .token(&who.access)
            .send()
            .await
            .assert_problem(403);
    }
    let r = app
        .delete(&format!("/api/v1/workers/{w}/recovery-data"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["removed"], 3, "plan, section, check-in");
    let after = plan(app, &t.worker, w).await;
    assert_eq!(after.body["version"], 0);
    assert!(
        checkins(app, &t.worker, w).await.body["items"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        texts(&plan(app, c, &c.user_id).await.body).len(),
        1,
        "another worker's data stays"
    );
}

async fn every_read_of_recovery_content_is_audited(backend: Backend) {
    let t = team(backend).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    save_plan(
        app,
        &t.worker,
        w,
        "\"v0\"",
        json!([{"section": "triggers", "text": "t", "shared": true}]),
    )
    .await;
    checkin(
        app,
        &t.worker,
        w,
        json!({"held_on": today(), "wellbeing": 3, "risk": "none"}),
    )
    .await;
    let reads = [
        plan(app, &t.worker, w).await,
        plan(app, &t.supervisor, w).await,
        plan(app, &t.worker, w).await,
        checkins(app, &t.worker, w).await,
        checkins(app, &t.supervisor, w).await,
    ];
    assert!(reads.iter().all(|r| r.status == 200));
    let refused = plan(app, &t.manager, w).await;
    assert_eq!(refused.status, 403);
    let count = |action: &str| -> i64 {
        audit_events::table
            .filter(audit_events::action.eq(action))
            .filter(audit_events::entity_id.eq(w))
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    assert_eq!(count("recovery.plan_read"), 3);
    assert_eq!(count("recovery.checkins_read"), 2);
    let by_supervisor: i64 = audit_events::table
        .filter(audit_events::action.like("recovery.%_read"))
        .filter(audit_events::actor_id.eq(&t.supervisor.user_id))
        .count()
        .get_result(&mut *app.conn())
        .unwrap();
    assert_eq!(by_supervisor, 2, "who read is recorded");
    app.get(&format!("/api/v1/workers/{w}/recovery-export"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(count("recovery.plan_read"), 4);
    assert_eq!(count("recovery.checkins_read"), 3);
    assert_eq!(count("recovery.exported"), 1);
}

/// Log lines of the whole test binary, kept in memory from the first call on.
fn captured_logs() -> Option<&'static Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Option<&'static Mutex<Vec<u8>>>> = OnceLock::new();
    *LOGS.get_or_init(|| {
        let buffer: &'static Mutex<Vec<u8>> = Box::leak(Box::new(Mutex::new(Vec::new())));
        struct Sink(&'static Mutex<Vec<u8>>);
        impl Write for Sink {
            fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
                self.0.lock().unwrap().extend_from_slice(bytes);
                Ok(bytes.len())
            }
            fn flush(&mut self) -> std::io::Result<()> {
                Ok(())
            }
        }
        tracing_subscriber::fmt()
            .with_env_filter("info,peerpath=debug")
            .with_writer(move || Sink(buffer))
            .try_init()
            .ok()
            .map(|_| buffer)
    })
}

async fn the_canary_is_found_nowhere_it_must_not_be(backend: Backend) {
    let logs = captured_logs();
    let smtp = SmtpServer::start();
    let t = team_with(backend, via(smtp.port)).await;
    let (app, w) = (&t.app, &t.worker.user_id);
    let canary = format!("canary-{}", uuid::Uuid::new_v4().simple());
    app.put(&format!("/api/v1/organisations/{}/settings", t.org))
        .token(&t.manager.access)
        .json(json!({"supervisors_see_pay": false, "wellbeing_contact_email": "wellbeing@example.org"}))
        .send()
        .await;
    let sections: Vec<Value> = SECTIONS
        .iter()
        .map(|s| json!({"section": s, "text": format!("{canary} {s}"), "shared": true}))
        .collect();
    let r = save_plan(app, &t.worker, w, "\"v0\"", json!(sections)).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let c = checkin(
        app,
        &t.worker,
        w,
        json!({"held_on": today(), "wellbeing": 1, "risk": "urgent", "call_requested": true,
            "agreed_actions": format!("{canary} actions"), "notes": format!("{canary} notes"),
            "actions_shared": true, "notes_shared": true}),
    )
    .await;
    assert_eq!(c.status, 201);
    // The supervisor reads it all (shared), so the reads happen and are logged.
    assert!(plan(app, &t.supervisor, w).await.text.contains(&canary));
    assert!(checkins(app, &t.supervisor, w).await.text.contains(&canary));
    // A bad request carrying it is refused without echoing it.
    let bad = checkin(
        app,
        &t.worker,
        w,
        json!({"held_on": today(), "wellbeing": 9, "risk": "none", "notes": canary}),
    )
    .await;
    assert_eq!(bad.status, 422);
    assert!(!bad.text.contains(&canary));

    // Everything a programme manager can ask.
    let mut seen = vec![];
    for path in [
        format!("/api/v1/workers/{w}"),
        "/api/v1/workers".to_string(),
        format!("/api/v1/workers/{w}/pathway"),
        format!("/api/v1/workers/{w}/recovery-plan"),
        format!("/api/v1/workers/{w}/checkins"),
        format!("/api/v1/workers/{w}/checkin-status"),
        format!("/api/v1/workers/{w}/recovery-export"),
        format!("/api/v1/workers/{w}/pauses"),
        format!("/api/v1/workers/{w}/supervision-sessions"),
        "/api/v1/checkin-counts".to_string(),
        "/api/v1/audit-events?limit=200".to_string(),
        "/api/v1/notifications?limit=200".to_string(),
        "/api/v1/pay-steps".to_string(),
        "/api/v1/progressions".to_string(),
        format!("/api/v1/organisations/{}/settings", t.org),
    ] {
        let r = app.get(&path).token(&t.manager.access).send().await;
        assert!(!r.text.contains(&canary), "{path}: {}", r.text);
        seen.push(r.status);
    }
    assert!(seen.contains(&200) && seen.contains(&403), "{seen:?}");

    let mail = settle(&smtp, 2).await;
    assert_eq!(mail.len(), 2);
    for m in &mail {
        assert!(!m.data.contains(&canary), "{}", m.data);
    }
    let r = app
        .delete(&format!("/api/v1/workers/{w}/recovery-data"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(r.status, 200);
    if let Some(logs) = logs {
        let text = String::from_utf8_lossy(&logs.lock().unwrap()).to_string();
        assert!(text.contains("request finished"), "the logs were captured");
        assert!(!text.contains(&canary), "a log line holds recovery content");
    }
    if backend == Backend::Sqlite {
        let dir = app.db.data_dir();
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            let bytes = std::fs::read(&path).unwrap_or_default();
            assert!(
                !bytes.windows(canary.len()).any(|w| w == canary.as_bytes()),
                "{} holds the canary",
                path.display()
            );
        }
    }
}

/// The walled garden: pathway, pay and every manager-facing module never touch recovery
/// data, and the recovery tables are queried from `db::recovery` only, used only by
/// `recovery`.
#[test]
fn recovery_is_a_walled_garden() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = vec![];
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                files.push(path);
            }
        }
    }
    // Where recovery may be named: its own code, its queries and handlers, and the wiring.
    let allowed = [
        "recovery/",
        "db/recovery.rs",
        "http/api/recovery.rs",
        "http/web/recovery.rs",
        "db/schema.rs",
        "db/mod.rs",
        "http/api/mod.rs",
        "http/web/mod.rs",
        "lib.rs",
        "state.rs",
        "app.rs",
        "cli.rs",
        "scheduler.rs",
        "config.rs",
        // The demo writes its workers' plans and check-ins as they would, and passes the keys.
        "demo/recovery.rs",
        "demo/mod.rs",
    ];
    let mut checked = 0;
    for file in &files {
        let name = file
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .to_string();
        let text = std::fs::read_to_string(file).unwrap();
        if !allowed.iter().any(|a| name.starts_with(a)) {
            checked += 1;
            for forbidden in [
                "recovery::",
                "db::recovery",
                "recovery_plan",
                "checkins::",
                "checkin_cadences",
            ] {
                assert!(!text.contains(forbidden), "{name} names {forbidden}");
            }
        }
        if !name.starts_with("recovery/") && name != "db/recovery.rs" && name != "db/mod.rs" {
            assert!(
                !text.contains("db::recovery"),
                "{name} queries recovery tables"
            );
        }
    }
    assert!(checked > 40, "the source tree was read ({checked} files)");
}

both_backends!(
    the_plan_belongs_to_the_worker_and_sections_are_shared_by_choice,
    checkins_show_the_supervisor_what_happened_and_only_shared_text,
    a_supervisor_records_a_checkin_held_together_that_the_worker_owns,
    raised_risk_or_a_call_request_asks_for_contact_at_once_without_content,
    every_worker_is_on_the_default_rhythm_until_another_is_agreed,
    missed_checkins_remind_the_worker_then_the_supervisor_once,
    a_pause_stops_the_cadence_and_training_reminders_and_nothing_expires_silently,
    a_former_supervisor_loses_access_at_once,
    export_and_erasure_are_the_workers_own,
    every_read_of_recovery_content_is_audited,
    the_canary_is_found_nowhere_it_must_not_be,
    rotate_key_reseals_everything_under_the_new_key,
);

const OLD_KEY: &str = "b2xkLWtleS1vbGQta2V5LW9sZC1rZXktb2xkLWtleS0=";
const NEW_KEY: &str = "bmV3LWtleS1uZXcta2V5LW5ldy1rZXktbmV3LWtleS0=";

fn keys(pairs: &[(&str, &str)], current: &str) -> impl FnOnce(&mut peerpath::config::Settings) {
    let pairs: Vec<(String, String)> = pairs
        .iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    let current = current.to_string();
    move |s: &mut peerpath::config::Settings| {
        s.recovery.keys = pairs
            .into_iter()
            .map(|(id, key)| (id, peerpath::config::Secret::new(key)))
            .collect();
        s.recovery.current_key_id = current;
    }
}

async fn rotate_key_reseals_everything_under_the_new_key(backend: Backend) {
    let app = TestApp::spawn_with(backend, keys(&[("old", OLD_KEY)], "old")).await;
    let admin = app.admin().await;
    let (org, manager) = app.org_with_manager(&admin).await;
    let worker = app.user(&manager, "peer_worker", Some(&org)).await;
    crate::training::profile(&app, &manager, &worker.user_id, None).await;
    let w = &worker.user_id;
    save_plan(
        &app,
        &worker,
        w,
        "\"v0\"",
        json!([{"section": "triggers", "text": "Crowds", "shared": false}]),
    )
    .await;
    checkin(
        &app,
        &worker,
        w,
        json!({"held_on": today(), "wellbeing": 3, "risk": "none", "notes": "Tired"}),
    )
    .await;
    // A second factor is sealed with the same keys, and re-sealed with them.
    let started = app
        .post("/api/v1/me/mfa")
        .token(&worker.access)
        .send()
        .await;
    let key = crate::mfa::key_of(&started.body);
    let step = crate::mfa::now_step() - 1;
    let confirmed = app
        .post("/api/v1/me/mfa/confirm")
        .token(&worker.access)
        .json(json!({"code": crate::mfa::code_at(&key, step)}))
        .send()
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);

    let out = crate::helpers::cli("test")
        .arg("rotate-key")
        .env("PEERPATH__DATABASE__URL", app.db.url())
        .env("PEERPATH__DATA__DIR", app.db.data_dir())
        .env("PEERPATH__RECOVERY__KEYS__OLD", OLD_KEY)
        .env("PEERPATH__RECOVERY__KEYS__NEW", NEW_KEY)
        .env("PEERPATH__RECOVERY__CURRENT_KEY_ID", "new")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("re-sealed 1 plan sections, 1 check-ins and 1 second-factor secrets"),
        "{stdout}"
    );
    assert!(!stdout.contains("Crowds") && !stdout.contains("Tired"));

    let ids: Vec<String> = peerpath::db::schema::checkins::table
        .select(peerpath::db::schema::checkins::key_id)
        .load(&mut *app.conn())
        .unwrap();
    assert_eq!(ids, ["new"]);
    // An instance that holds only the new key reads everything.
    let fresh = TestApp::spawn_on(app.db.clone(), keys(&[("new", NEW_KEY)], "new")).await;
    let p = plan(&fresh, &worker, w).await;
    assert_eq!(p.body["sections"][0]["text"], "Crowds", "{}", p.text);
    assert_eq!(
        checkins(&fresh, &worker, w).await.body["items"][0]["notes"],
        "Tired"
    );
    let challenge = fresh.login(&worker.email, crate::helpers::PASSWORD).await;
    assert_eq!(challenge.status, 202, "{}", challenge.text);
    let signed_in = fresh
        .post("/api/v1/auth/mfa")
        .json(json!({"challenge": challenge.body["challenge"],
            "code": crate::mfa::code_at(&key, step + 1)}))
        .send()
        .await;
    assert_eq!(signed_in.status, 200, "{}", signed_in.text);
}

/// Production refuses to start without a key for recovery data.
#[test]
fn production_refuses_to_start_without_a_recovery_key() {
    let out = crate::helpers::cli("production")
        .args(["migrate", "status"])
        .env(
            "PEERPATH__AUTH__JWT_SECRET",
            "q8Jx2mV9tL4wR7nB1cK5zH3pY6sD0fGa-long-enough",
        )
        .env(
            "PEERPATH__EMAIL__ALLOW_FILE_TRANSPORT_IN_PRODUCTION",
            "true",
        )
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("recovery.current_key_id"));
}
