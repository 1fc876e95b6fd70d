//! The emails of the daily work: sign-off requests and decisions, rejected training, and the
//! daily reminders, each arriving once at the SMTP server.

use std::time::Duration;

use chrono::{Months, TimeDelta, Utc};
use serde_json::json;

use crate::both_backends;
use crate::notifications::via;
use crate::smtp::SmtpServer;
use crate::training::{log, module, team_with};
use peerpath::db::{self, Backend};

const WAIT: Duration = Duration::from_secs(20);

async fn settle(smtp: &SmtpServer, n: usize) -> Vec<crate::smtp::Received> {
    let got = smtp.wait_for(n, WAIT).await;
    actix_web::rt::time::sleep(Duration::from_millis(400)).await;
    if got.len() >= n { smtp.received() } else { got }
}

async fn requests_and_decisions_reach_the_right_people_once(backend: Backend) {
    let smtp = SmtpServer::start();
    let t = team_with(backend, via(smtp.port)).await;
    let app = &t.app;
    let c = app
        .post("/api/v1/competencies")
        .token(&t.manager.access)
        .json(json!({"code": "POCT", "domain": "Testing", "title": "Able to perform and record an antibody point-of-care test"}))
        .send()
        .await
        .id();
    let signoff = app
        .post(&format!("/api/v1/workers/{}/signoffs", t.worker.user_id))
        .token(&t.worker.access)
        .json(json!({"competency_id": c, "evidence": "Log of 12 tests"}))
        .send()
        .await
        .id();
    let mail = settle(&smtp, 1).await;
    assert_eq!(mail.len(), 1);
    assert!(
        mail[0].to[0].contains(&t.supervisor.email),
        "to the current supervisor"
    );
    assert!(
        mail[0]
            .header("subject")
            .unwrap()
            .contains("asks you to sign off")
    );
    assert!(
        !mail[0].data.contains("Log of 12 tests"),
        "evidence stays in the service"
    );

    app.post(&format!("/api/v1/signoffs/{signoff}/sign-off"))
        .token(&t.supervisor.access)
        .send()
        .await;
    let mail = settle(&smtp, 2).await;
    assert_eq!(mail.len(), 2);
    assert!(mail[1].to[0].contains(&t.worker.email));
    assert!(mail[1].header("subject").unwrap().starts_with("Signed off"));

    let m = module(app, &t.manager, "HCV-13", Some(36)).await;
    let rec = log(app, &t.worker, json!({"module_id": m, "completed_on": Utc::now().date_naive(), "hours": 3, "provider": "LA"})).await.id();
    app.post(&format!("/api/v1/training-records/{rec}/reject"))
        .token(&t.supervisor.access)
        .json(json!({"reason": "The certificate is unreadable"}))
        .send()
        .await;
    let mail = settle(&smtp, 3).await;
    assert_eq!(mail.len(), 3);
    assert!(mail[2].to[0].contains(&t.worker.email));
    assert!(mail[2].header("subject").unwrap().contains("not verified"));
    assert!(
        !mail[2].data.contains("unreadable"),
        "the reason is read in the service"
    );
}

async fn daily_reminders_for_expiring_training_and_waiting_requests_arrive_once(backend: Backend) {
    let smtp = SmtpServer::start();
    let t = team_with(backend, via(smtp.port)).await;
    let app = &t.app;
    let yearly = module(app, &t.manager, "Y", Some(12)).await;
    let renewed = module(app, &t.manager, "R", Some(12)).await;
    let today = Utc::now().date_naive();
    let soon = today.checked_sub_months(Months::new(12)).unwrap() + chrono::Days::new(10);
    for (m, day) in [(&yearly, soon), (&renewed, soon), (&renewed, today)] {
        let rec = log(
            app,
            &t.worker,
            json!({"module_id": m, "completed_on": day, "hours": 2, "provider": "P"}),
        )
        .await
        .id();
        app.post(&format!("/api/v1/training-records/{rec}/verify"))
            .token(&t.supervisor.access)
            .send()
            .await;
    }
    let c = app
        .post("/api/v1/competencies")
        .token(&t.manager.access)
        .json(json!({"code": "W", "domain": "D", "title": "Able to wait"}))
        .send()
        .await
        .id();
    app.post(&format!("/api/v1/workers/{}/signoffs", t.worker.user_id))
        .token(&t.worker.access)
        .json(json!({"competency_id": c, "evidence": "e"}))
        .send()
        .await;
    let before = settle(&smtp, 1).await.len();

    // The daily run a week and a bit later (two instances, twice): one email each.
    let later = db::now() + TimeDelta::days(8);
    let settings = app.state.settings.scheduler.clone();
    let other = crate::helpers::TestApp::spawn_on(app.db.clone(), via(smtp.port)).await;
    for _ in 0..2 {
        let (a, b) = futures_util::future::join(
            peerpath::scheduler::tick(&app.state.db, &app.state.notifications, &settings, later),
            peerpath::scheduler::tick(
                &other.state.db,
                &other.state.notifications,
                &settings,
                later,
            ),
        )
        .await;
        a.unwrap();
        b.unwrap();
    }
    // Every worker is on a check-in rhythm from their start: those reminders come too.
    let checkin_mail = app.emails_of_kind("checkin_due") + app.emails_of_kind("checkin_missed");
    let mail = settle(&smtp, before + 2 + checkin_mail as usize).await;
    let reminders: Vec<_> = mail[before..]
        .iter()
        .filter(|m| !m.header("subject").is_some_and(|s| s.contains("check-in")))
        .collect();
    assert_eq!(
        reminders.len(),
        2,
        "{:?}",
        reminders
            .iter()
            .map(|m| m.header("subject"))
            .collect::<Vec<_>>()
    );
    let training = reminders
        .iter()
        .find(|m| m.header("subject").unwrap().contains("renew"))
        .unwrap();
    assert!(training.to[0].contains(&t.worker.email));
    assert!(
        training.data.contains("Module Y") && !training.data.contains("Module R"),
        "renewed modules are left out"
    );
    let waiting = reminders
        .iter()
        .find(|m| {
            m.header("subject")
                .unwrap()
                .contains("waited more than 7 days")
        })
        .unwrap();
    assert!(waiting.to[0].contains(&t.supervisor.email));
}

both_backends!(
    requests_and_decisions_reach_the_right_people_once,
    daily_reminders_for_expiring_training_and_waiting_requests_arrive_once,
);
