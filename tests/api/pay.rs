//! Salary bands and pay tables (integer money), salary history without gaps or overlaps,
//! pay awards, pay-step readiness on its boundary dates, appraisals and the warning email.

use chrono::{Days, Months, NaiveDate, TimeDelta};
use diesel::prelude::*;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{Resp, Session, TestApp};
use crate::pathway::{AFC3, AFC4, summary, today, verified};
use crate::training::{Team, profile, team};
use peerpath::db::schema::notifications;
use peerpath::db::{self, Backend};

async fn band(app: &TestApp, by: &Session, code: &str, points: Value) -> Resp {
    app.post("/api/v1/salary-bands")
        .token(&by.access)
        .json(
            json!({"code": code, "name": format!("Band {code}"), "currency": "GBP",
            "effective_from": "2024-04-01", "source": "Board paper 12", "points": points}),
        )
        .send()
        .await
}

async fn assign(app: &TestApp, manager: &Session, worker: &str, body: Value) -> Resp {
    app.post(&format!("/api/v1/workers/{worker}/salary"))
        .token(&manager.access)
        .json(body)
        .send()
        .await
}

async fn history(app: &TestApp, as_: &Session, worker: &str) -> Vec<Value> {
    let r = app
        .get(&format!("/api/v1/workers/{worker}/salary"))
        .token(&as_.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.body["items"].as_array().unwrap().clone()
}

/// Each period ends the day before the next begins; the last is open.
fn assert_contiguous(periods: &[Value]) {
    for pair in periods.windows(2) {
        let from: NaiveDate = pair[1]["effective_from"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            pair[0]["effective_to"],
            (from - Days::new(1)).to_string(),
            "{periods:?}"
        );
    }
    assert_eq!(periods.last().unwrap()["effective_to"], Value::Null);
}

async fn agenda_for_change_is_seeded_and_money_is_integer(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let r = app
        .get("/api/v1/salary-bands")
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let bands = r.body["items"].as_array().unwrap();
    let codes: Vec<&str> = bands.iter().map(|b| b["code"].as_str().unwrap()).collect();
    assert_eq!(codes, ["AfC-2", "AfC-3", "AfC-4", "AfC-5", "AfC-6"]);
    let afc4 = &bands[2];
    assert_eq!(afc4["organisation_id"], Value::Null, "national");
    assert_eq!(afc4["currency"], "GBP");
    let table = &afc4["pay_tables"][0];
    assert_eq!(table["effective_from"], "2024-04-01");
    assert_eq!(
        table["points"],
        json!([{"point": 1, "annual_minor": 2653000, "years_to_next": 3},
               {"point": 2, "annual_minor": 2911400, "years_to_next": null}])
    );
    assert!(table["points"][0]["annual_minor"].is_i64());

    // A float amount is refused by name, and nothing is created.
    let r = band(
        app,
        &t.manager,
        "PS-1",
        json!([{"annual_minor": 2400000.5}]),
    )
    .await;
    r.assert_problem(422);
    assert!(r.text.contains("annual_minor"), "{}", r.text);
    let r = band(
        app,
        &t.manager,
        "PS-1",
        json!([{"annual_minor": 2500000, "years_to_next": null}, {"annual_minor": 2400000}]),
    )
    .await;
    r.assert_problem(422);
    let why = r.body["errors"]["points"].to_string();
    assert!(
        why.contains("years_to_next is required") && why.contains("pays less"),
        "{why}"
    );
    band(
        app,
        &t.supervisor,
        "PS-1",
        json!([{"annual_minor": 2400000}]),
    )
    .await
    .assert_problem(403);

    let r = band(app, &t.manager, "PS-1", json!([{"annual_minor": 2400000}])).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["organisation_id"], t.org.as_str());
    let own = r.id();
    band(app, &t.manager, "ps-1", json!([{"annual_minor": 2400000}]))
        .await
        .assert_problem(409);
    app.get(&format!("/api/v1/salary-bands/{own}"))
        .token(&t.outsider_manager.access)
        .send()
        .await
        .assert_problem(404);
    // National tables are the admins' to change.
    let award = json!({"effective_from": "2025-04-01", "points": [{"annual_minor": 2500000}]});
    app.post(&format!(
        "/api/v1/salary-bands/{}/pay-tables",
        "0193a000-0000-7000-8000-000000000002"
    ))
    .token(&t.manager.access)
    .json(award)
    .send()
    .await
    .assert_problem(403);
}

async fn salary_history_has_no_gaps_or_overlaps(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let w = &t.worker.user_id;
    let change = |band: &str, point: i32, from: &str, reason: &str| json!({"band_id": band, "point": point, "effective_from": from, "reason": reason});
    for (body, field) in [
        (
            change(AFC3, 1, "2024-02-01", "appointment"),
            "effective_from",
        ),
        (change(AFC3, 3, "2024-04-01", "appointment"), "point"),
        (
            change(AFC3, 1, "2024-03-01", "appointment"),
            "effective_from",
        ),
        (change(AFC3, 1, "2024-04-01", "progression"), "reason"),
        (change(AFC3, 1, "2024-04-01", "pay_award"), "reason"),
        (
            change(AFC3, 1, "2023-03-01", "appointment"),
            "effective_from",
        ),
    ] {
        let r = assign(app, &t.manager, w, body).await;
        r.assert_problem(422);
        assert!(r.body["errors"][field].is_array(), "{field}: {}", r.text);
    }
    let foreign = band(
        app,
        &t.outsider_manager,
        "X-1",
        json!([{"annual_minor": 2000000}]),
    )
    .await
    .id();
    let r = assign(
        app,
        &t.manager,
        w,
        change(&foreign, 1, "2024-04-01", "appointment"),
    )
    .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["band_id"].is_array());
    for (who, status) in [
        (&t.worker, 403),
        (&t.supervisor, 403),
        (&t.outsider_manager, 404),
    ] {
        assign(app, who, w, change(AFC3, 1, "2024-04-01", "appointment"))
            .await
            .assert_problem(status);
    }
    assert!(
        history(app, &t.manager, w).await.is_empty(),
        "nothing written"
    );

    let r = assign(
        app,
        &t.manager,
        w,
        change(AFC3, 1, "2024-04-01", "appointment"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["annual_minor"], 2_407_100);
    assign(
        app,
        &t.manager,
        w,
        change(AFC4, 1, "2025-06-01", "correction"),
    )
    .await;
    // A change dated between two others splits the period: still no gap, no overlap.
    assign(
        app,
        &t.manager,
        w,
        change(AFC3, 2, "2024-09-01", "correction"),
    )
    .await;
    let r = assign(
        app,
        &t.manager,
        w,
        change(AFC3, 2, "2024-09-01", "correction"),
    )
    .await;
    r.assert_problem(409);
    assert_eq!(r.body["field"], "effective_from", "{}", r.text);
    let periods = history(app, &t.worker, w).await;
    assert_eq!(periods.len(), 3);
    assert_contiguous(&periods);
    assert_eq!(periods[0]["effective_to"], "2024-08-31");
    assert_eq!(periods[1]["annual_minor"], 2_567_400);
    assert_eq!(periods[2]["band_code"], "AfC-4");
}

async fn a_pay_award_moves_everyone_on_the_band_without_rewriting_the_past(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let own = band(
        app,
        &t.manager,
        "PS-2",
        json!([{"annual_minor": 2400000, "years_to_next": 2}, {"annual_minor": 2600000}]),
    )
    .await
    .id();
    let (w, c) = (&t.worker.user_id, &t.colleague.user_id);
    assign(app, &t.manager, w, json!({"band_id": own, "point": 1, "effective_from": "2024-06-01", "reason": "appointment"})).await;
    assign(app, &t.manager, c, json!({"band_id": own, "point": 2, "effective_from": "2024-06-01", "reason": "appointment"})).await;
    // The colleague's later move onto AfC-3 is not on the band: untouched.
    assign(app, &t.manager, c, json!({"band_id": AFC3, "point": 1, "effective_from": "2025-09-01", "reason": "correction"})).await;
    // A third worker joins the band after the award's date: priced on the new table.
    let third = app.user(&t.manager, "peer_worker", Some(&t.org)).await;
    profile(app, &t.manager, &third.user_id, None).await;
    assign(app, &t.manager, &third.user_id, json!({"band_id": own, "point": 1, "effective_from": "2025-06-01", "reason": "appointment"})).await;

    let award = |from: &str, points: Value| {
        app.post(&format!("/api/v1/salary-bands/{own}/pay-tables"))
            .token(&t.manager.access)
            .json(json!({"effective_from": from, "source": "Pay award 2025/26", "points": points}))
    };
    award(
        "2024-04-01",
        json!([{"annual_minor": 2500000, "years_to_next": 2}, {"annual_minor": 2700000}]),
    )
    .send()
    .await
    .assert_problem(422);
    award("2025-04-01", json!([{"annual_minor": 2500000}]))
        .send()
        .await
        .assert_problem(422);
    app.post(&format!("/api/v1/salary-bands/{own}/pay-tables"))
        .token(&t.outsider_manager.access)
        .json(json!({"effective_from": "2025-04-01", "points": [{"annual_minor": 1, "years_to_next": 1}, {"annual_minor": 2}]}))
        .send()
        .await
        .assert_problem(404);
    let r = award(
        "2025-04-01",
        json!([{"annual_minor": 2500000, "years_to_next": 2}, {"annual_minor": 2700000}]),
    )
    .send()
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["workers_moved"], 3);

    let mine = history(app, &t.manager, w).await;
    assert_contiguous(&mine);
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0]["annual_minor"], 2_400_000, "the past is as it was");
    assert_eq!(mine[0]["effective_to"], "2025-03-31");
    assert_eq!(mine[1]["reason"], "pay_award");
    assert_eq!(mine[1]["effective_from"], "2025-04-01");
    assert_eq!(mine[1]["annual_minor"], 2_500_000);
    assert_eq!(mine[1]["point"], 1);

    let theirs = history(app, &t.manager, c).await;
    assert_contiguous(&theirs);
    let amounts: Vec<i64> = theirs
        .iter()
        .map(|p| p["annual_minor"].as_i64().unwrap())
        .collect();
    assert_eq!(amounts, [2_600_000, 2_700_000, 2_407_100]);

    let third = history(app, &t.manager, &third.user_id).await;
    assert_eq!(third.len(), 1);
    assert_eq!(third[0]["annual_minor"], 2_500_000);
    assert_eq!(third[0]["reason"], "appointment");

    let b = app
        .get(&format!("/api/v1/salary-bands/{own}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(b.body["pay_tables"].as_array().unwrap().len(), 2);
}

/// A worker whose step from point 1 of a one-year band is due in ten days.
async fn due_in_ten_days(t: &Team, worker: &str) -> (String, NaiveDate) {
    let app = &t.app;
    let b = band(
        app,
        &t.manager,
        &format!("S-{}", &worker[..4]),
        json!([{"annual_minor": 2400000, "years_to_next": 1}, {"annual_minor": 2500000}]),
    )
    .await
    .id();
    let due = today() + Days::new(10);
    let since = due.checked_sub_months(Months::new(12)).unwrap();
    let r = assign(
        app,
        &t.manager,
        worker,
        json!({"band_id": b, "point": 1, "effective_from": since, "reason": "appointment"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    (b, due)
}

async fn mandatory(app: &TestApp, manager: &Session) -> String {
    let r = app
        .post("/api/v1/training-modules")
        .token(&manager.access)
        .json(
            json!({"code": "HCV-13", "title": "Safeguarding", "category": "safeguarding",
            "validity_months": 12, "mandatory": true}),
        )
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["mandatory"], true);
    r.id()
}

fn step(summary: &Value) -> Value {
    summary["next_pay_step"].clone()
}

fn req(step: &Value, kind: &str) -> Value {
    step["readiness"]["requirements"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["kind"] == kind)
        .unwrap()
        .clone()
}

async fn appraisal(app: &TestApp, by: &Session, worker: &str, held_on: NaiveDate) -> Resp {
    app.post(&format!("/api/v1/workers/{worker}/appraisals"))
        .token(&by.access)
        .json(json!({"held_on": held_on}))
        .send()
        .await
}

async fn pay_step_readiness_on_its_boundary_dates(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let w = &t.worker.user_id;
    let safeguarding = mandatory(app, &t.manager).await;
    let (b, due) = due_in_ten_days(&t, w).await;
    let year_before = due.checked_sub_months(Months::new(12)).unwrap();

    let s = summary(app, &t.worker, w).await;
    let next = step(&s.body);
    assert_eq!(next["due_on"], due.to_string(), "{}", s.text);
    assert_eq!(next["point"], 2);
    assert_eq!(next["annual_minor"], 2_500_000);
    assert_eq!(next["readiness"]["met"], false);
    assert_eq!(
        req(&next, "mandatory_training")["reason"],
        "Safeguarding: no verified completion"
    );
    assert_eq!(req(&next, "appraisal")["met"], false);

    // In date to the step date exactly (completed a year before it), and an appraisal
    // exactly twelve months before it: both count.
    verified(app, &t, &safeguarding, year_before - Days::new(1)).await;
    appraisal(app, &t.supervisor, w, year_before - Days::new(1)).await;
    let next = step(&summary(app, &t.worker, w).await.body);
    let training = req(&next, "mandatory_training");
    assert_eq!(
        training["met"], false,
        "runs out the day before: {training}"
    );
    assert!(
        training["reason"].as_str().unwrap().contains("before"),
        "{training}"
    );
    assert_eq!(req(&next, "appraisal")["met"], false, "a day too early");

    verified(app, &t, &safeguarding, year_before).await;
    appraisal(app, &t.supervisor, w, year_before).await;
    let next = step(&summary(app, &t.worker, w).await.body);
    assert_eq!(req(&next, "mandatory_training")["met"], true, "{next}");
    assert_eq!(req(&next, "appraisal")["met"], true, "{next}");
    assert_eq!(next["readiness"]["met"], true);

    // The list for programme managers.
    let r = app
        .get("/api/v1/pay-steps?within_days=30")
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["items"][0]["worker_id"], w.as_str());
    assert_eq!(r.body["items"][0]["due_on"], due.to_string());
    assert_eq!(r.body["items"][0]["readiness"]["met"], true);
    let r = app
        .get("/api/v1/pay-steps?within_days=5")
        .token(&t.manager.access)
        .send()
        .await;
    assert_eq!(r.body["items"], json!([]));
    app.get("/api/v1/pay-steps")
        .token(&t.supervisor.access)
        .send()
        .await
        .assert_problem(403);
    app.get("/api/v1/pay-steps?within_days=1000")
        .token(&t.manager.access)
        .send()
        .await
        .assert_problem(422);

    // The step itself: not before it is due, then at the next point.
    let step_body = |from: NaiveDate| json!({"band_id": b, "point": 2, "effective_from": from, "reason": "pay_step"});
    let r = assign(app, &t.manager, w, step_body(due - Days::new(1))).await;
    r.assert_problem(422);
    assert!(r.body["errors"]["effective_from"].is_array(), "{}", r.text);
    let r = assign(
        app,
        &t.manager,
        w,
        json!({"band_id": b, "point": 1, "effective_from": due, "reason": "pay_step"}),
    )
    .await;
    r.assert_problem(422);
    let r = assign(app, &t.manager, w, step_body(due)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["annual_minor"], 2_500_000);
}

async fn an_unmet_step_is_refused_and_emailed_once(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let w = &t.worker.user_id;
    mandatory(app, &t.manager).await;
    let (b, due) = due_in_ten_days(&t, w).await;
    let r = assign(
        app,
        &t.manager,
        w,
        json!({"band_id": b, "point": 2, "effective_from": due, "reason": "pay_step"}),
    )
    .await;
    r.assert_problem(422);
    assert!(
        r.text.contains("Safeguarding: no verified completion"),
        "{}",
        r.text
    );

    let settings = app.state.settings.scheduler.clone();
    let count = || -> Vec<(String, String)> {
        notifications::table
            .filter(notifications::kind.eq("pay_step_at_risk"))
            .select((notifications::recipient_email, notifications::subject))
            .load(&mut *app.conn())
            .unwrap()
    };
    for days in [1, 2] {
        peerpath::scheduler::tick(
            &app.state.db,
            &app.state.notifications,
            &settings,
            db::now() + TimeDelta::days(days),
        )
        .await
        .unwrap();
    }
    let sent = count();
    assert_eq!(sent.len(), 2, "the worker and the manager, once: {sent:?}");
    let to_worker = sent.iter().find(|(to, _)| to == &t.worker.email).unwrap();
    assert!(to_worker.1.starts_with("Your pay step on"), "{to_worker:?}");
    assert!(sent.iter().any(|(to, _)| to == &t.manager.email));
}

async fn appraisals_are_recorded_by_the_supervisor_or_a_manager(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let w = &t.worker.user_id;
    for (who, status) in [
        (&t.worker, 403),
        (&t.other_supervisor, 403),
        (&t.outsider_manager, 404),
    ] {
        appraisal(app, who, w, today()).await.assert_problem(status);
    }
    appraisal(app, &t.supervisor, w, today() + Days::new(1))
        .await
        .assert_problem(422);
    let r = app
        .post(&format!("/api/v1/workers/{w}/appraisals"))
        .token(&t.manager.access)
        .json(json!({"held_on": today(), "appraiser_id": t.outsider_supervisor.user_id}))
        .send()
        .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["appraiser_id"].is_array());
    let r = app
        .post(&format!("/api/v1/workers/{w}/appraisals"))
        .token(&t.manager.access)
        .json(json!({"held_on": today(), "appraiser_id": t.supervisor.user_id}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["appraiser_id"], t.supervisor.user_id.as_str());
    let list = app
        .get(&format!("/api/v1/workers/{w}/appraisals"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(list.body["items"].as_array().unwrap().len(), 1);
    app.get(&format!("/api/v1/workers/{w}/appraisals"))
        .token(&t.colleague.access)
        .send()
        .await
        .assert_problem(403);
}

/// A correction of a band's pay table, as whoever posts it.
async fn correction(
    app: &TestApp,
    by: &Session,
    band: &str,
    table: &str,
    what: &str,
    body: Value,
) -> Resp {
    app.post(&format!(
        "/api/v1/salary-bands/{band}/pay-tables/{table}/{what}"
    ))
    .token(&by.access)
    .json(body)
    .send()
    .await
}

async fn a_pay_table_entered_wrong_is_corrected_by_its_author(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let r = band(
        app,
        &t.manager,
        "PS-7",
        json!([{"annual_minor": 2400000, "years_to_next": 2}, {"annual_minor": 2600000}]),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let own = r.id();
    let first = r.body["pay_tables"][0]["id"].as_str().unwrap().to_string();
    let (w, c) = (&t.worker.user_id, &t.colleague.user_id);
    for (who, point) in [(w, 1), (c, 2)] {
        let r = assign(app, &t.manager, who, json!({"band_id": own, "point": point, "effective_from": "2024-06-01", "reason": "appointment"})).await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let r = app
        .post(&format!("/api/v1/salary-bands/{own}/pay-tables"))
        .token(&t.manager.access)
        .json(json!({"effective_from": "2025-04-01", "points": [{"annual_minor": 2500000, "years_to_next": 2}, {"annual_minor": 2700000}]}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let second = r.body["pay_table"]["id"].as_str().unwrap().to_string();

    // Point 1 of the first table should have read 24,100.00.
    let fix = json!({"points": [{"annual_minor": 2410000, "years_to_next": 2}, {"annual_minor": 2600000}],
                     "note": "Typed 24,000 for 24,100 in the board paper"});
    let before = history(app, &t.manager, w).await;

    // The preview names whom it changes and changes nothing.
    let r = correction(
        app,
        &t.manager,
        &own,
        &first,
        "correction-preview",
        fix.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.body["changes"]["workers_changed"], 1, "{}", r.text);
    let period = &r.body["changes"]["periods"][0];
    assert_eq!(period["worker_id"], w.as_str());
    assert!(
        period["worker_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert_eq!(period["effective_from"], "2024-06-01");
    assert_eq!(period["annual_minor_before"], 2_400_000);
    assert_eq!(period["annual_minor_after"], 2_410_000);
    assert_eq!(
        r.body["changes"]["pay_steps"],
        json!([]),
        "the years did not change"
    );
    assert_eq!(r.body["pay_table"]["points"][0]["annual_minor"], 2_410_000);
    assert_eq!(r.body["unusual"], json!([]));
    assert_eq!(
        history(app, &t.manager, w).await,
        before,
        "a preview changes nothing"
    );

    // Only the author corrects it: not another manager of the organisation, not a
    // supervisor or a worker; another organisation does not see the band at all.
    let other_manager = app.user(&t.admin, "programme_manager", Some(&t.org)).await;
    for who in [&other_manager, &t.supervisor, &t.worker] {
        for what in ["correction-preview", "corrections"] {
            correction(app, who, &own, &first, what, fix.clone())
                .await
                .assert_problem(403);
        }
    }
    correction(
        app,
        &t.outsider_manager,
        &own,
        &first,
        "corrections",
        fix.clone(),
    )
    .await
    .assert_problem(404);
    // A table of another band is not this band's to correct.
    correction(app, &t.manager, AFC4, &first, "corrections", fix.clone())
        .await
        .assert_problem(403);

    // Bad input: a note is required, the point count is the table's, the figures must differ.
    let r = correction(
        app,
        &t.manager,
        &own,
        &first,
        "corrections",
        json!({"points": fix["points"], "note": " "}),
    )
    .await;
    r.assert_problem(422);
    assert!(r.body["errors"]["note"].is_array(), "{}", r.text);
    let r = correction(
        app,
        &t.manager,
        &own,
        &first,
        "corrections",
        json!({"points": [{"annual_minor": 2410000}], "note": "x"}),
    )
    .await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["points"].to_string().contains("2 points"),
        "{}",
        r.text
    );
    let r = correction(app, &t.manager, &own, &first, "corrections",
        json!({"points": [{"annual_minor": 2400000, "years_to_next": 2}, {"annual_minor": 2600000}], "note": "x"})).await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["points"]
            .to_string()
            .contains("nothing to correct"),
        "{}",
        r.text
    );

    // Implausible figures are refused until confirmed, and the refusal changes nothing.
    let typo = json!({"points": [{"annual_minor": 2410000, "years_to_next": 20}, {"annual_minor": 26000000}],
                      "note": "Typed 24,000 for 24,100 in the board paper"});
    let r = correction(
        app,
        &t.manager,
        &own,
        &first,
        "correction-preview",
        typo.clone(),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let unusual = r.body["unusual"].to_string();
    assert!(unusual.contains("point 1: more than 10 years"), "{unusual}");
    assert!(
        unusual.contains("point 2: more than a quarter above point 1"),
        "{unusual}"
    );
    assert!(
        unusual.contains("point 2: more than a fifth away"),
        "{unusual}"
    );
    let r = correction(app, &t.manager, &own, &first, "corrections", typo.clone()).await;
    r.assert_problem(422);
    assert!(r.body["errors"]["confirm_unusual"].is_array(), "{}", r.text);
    assert!(
        !r.text.contains("26000000"),
        "no echo of the value sent: {}",
        r.text
    );
    assert_eq!(history(app, &t.manager, w).await, before);
    assert_eq!(
        history(app, &t.manager, c).await[0]["annual_minor"],
        2_600_000
    );

    // The correction: the table reads right, the period priced by it is repriced from its
    // own date and says what it held, and the later table's period is untouched.
    let r = correction(app, &t.manager, &own, &first, "corrections", fix.clone()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.body["changes"]["workers_changed"], 1);
    assert_eq!(
        r.body["correction"]["corrected_by"],
        t.manager.user_id.as_str()
    );
    assert_eq!(
        r.body["correction"]["previous_points"][0]["annual_minor"],
        2_400_000
    );
    let mine = history(app, &t.manager, w).await;
    assert_contiguous(&mine);
    assert_eq!(mine.len(), 2);
    assert_eq!(mine[0]["annual_minor"], 2_410_000);
    assert_eq!(
        mine[0]["reason"], "appointment",
        "the period keeps why it began"
    );
    let fixed = &mine[0]["corrections"][0];
    assert_eq!(fixed["previous_annual_minor"], 2_400_000);
    assert_eq!(fixed["annual_minor"], 2_410_000);
    assert_eq!(fixed["note"], "Typed 24,000 for 24,100 in the board paper");
    assert_eq!(mine[1]["annual_minor"], 2_500_000);
    assert_eq!(mine[1]["corrections"], json!([]));
    let theirs = history(app, &t.manager, c).await;
    assert_eq!(
        theirs[0]["annual_minor"], 2_600_000,
        "point 2 did not change"
    );
    assert_eq!(theirs[0]["corrections"], json!([]));
    // The worker reads the correction in their own history.
    assert_eq!(
        history(app, &t.worker, w).await[0]["corrections"][0]["previous_annual_minor"],
        2_400_000
    );
    let b = app
        .get(&format!("/api/v1/salary-bands/{own}"))
        .token(&t.worker.access)
        .send()
        .await;
    let table = &b.body["pay_tables"][0];
    assert_eq!(table["points"][0]["annual_minor"], 2_410_000);
    assert_eq!(
        table["corrections"][0]["note"],
        "Typed 24,000 for 24,100 in the board paper"
    );
    assert!(
        table["corrections"][0]["corrected_by_name"]
            .as_str()
            .is_some_and(|n| !n.is_empty())
    );
    assert_eq!(b.body["pay_tables"][1]["corrections"], json!([]));

    // Years at a point: the workers on the table today are named, with their steps' years.
    let years = json!({"points": [{"annual_minor": 2500000, "years_to_next": 3}, {"annual_minor": 2700000}],
                       "note": "Two years was last year's rule", "confirm_unusual": true});
    let r = correction(app, &t.manager, &own, &second, "corrections", years).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let steps = &r.body["changes"]["pay_steps"];
    assert_eq!(steps.as_array().unwrap().len(), 1, "{}", r.text);
    assert_eq!(steps[0]["worker_id"], w.as_str());
    assert_eq!(steps[0]["years_to_next_before"], 2);
    assert_eq!(steps[0]["years_to_next_after"], 3);
    assert_eq!(r.body["changes"]["periods"], json!([]));

    // A national table nobody entered is corrected by the admins who keep it.
    let national = app
        .get(&format!("/api/v1/salary-bands/{AFC4}"))
        .token(&t.admin.access)
        .send()
        .await;
    let national_table = national.body["pay_tables"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let afc = json!({"points": [{"annual_minor": 2653100, "years_to_next": 3}, {"annual_minor": 2911400}], "note": "Checked against NHS Employers"});
    correction(
        app,
        &t.manager,
        AFC4,
        &national_table,
        "correction-preview",
        afc.clone(),
    )
    .await
    .assert_problem(403);
    let r = correction(
        app,
        &t.admin,
        AFC4,
        &national_table,
        "correction-preview",
        afc,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // A table is corrected through its own band only.
    correction(
        app,
        &t.manager,
        &own,
        &national_table,
        "correction-preview",
        fix,
    )
    .await
    .assert_problem(404);
}

async fn unusual_figures_in_a_new_table_must_be_confirmed(backend: Backend) {
    let t = team(backend).await;
    let app = &t.app;
    let points = json!([{"annual_minor": 2400000, "years_to_next": 11}, {"annual_minor": 2600000}]);
    let r = band(app, &t.manager, "PS-8", points.clone()).await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["points"]
            .to_string()
            .contains("more than 10 years"),
        "{}",
        r.text
    );
    assert!(r.body["errors"]["confirm_unusual"].is_array(), "{}", r.text);
    let r = app
        .get("/api/v1/salary-bands")
        .token(&t.manager.access)
        .send()
        .await;
    assert!(!r.text.contains("PS-8"), "nothing was created");
    let r = app
        .post("/api/v1/salary-bands")
        .token(&t.manager.access)
        .json(json!({"code": "PS-8", "name": "Band PS-8", "currency": "GBP", "effective_from": "2024-04-01",
                     "points": points, "confirm_unusual": true}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let own = r.id();
    // A pay award a fifth away from the table in force is most likely a typo.
    let award = |confirm: bool| {
        app.post(&format!("/api/v1/salary-bands/{own}/pay-tables"))
            .token(&t.manager.access)
            .json(json!({"effective_from": "2025-04-01", "confirm_unusual": confirm,
                         "points": [{"annual_minor": 2480000, "years_to_next": 3}, {"annual_minor": 3600000}]}))
            .send()
    };
    let r = award(false).await;
    r.assert_problem(422);
    assert!(
        r.body["errors"]["points"]
            .to_string()
            .contains("point 2: more than a fifth away"),
        "{}",
        r.text
    );
    assert_eq!(award(true).await.status, 201);
}

both_backends!(
    agenda_for_change_is_seeded_and_money_is_integer,
    salary_history_has_no_gaps_or_overlaps,
    a_pay_award_moves_everyone_on_the_band_without_rewriting_the_past,
    pay_step_readiness_on_its_boundary_dates,
    an_unmet_step_is_refused_and_emailed_once,
    appraisals_are_recorded_by_the_supervisor_or_a_manager,
    a_pay_table_entered_wrong_is_corrected_by_its_author,
    unusual_figures_in_a_new_table_must_be_confirmed,
);
