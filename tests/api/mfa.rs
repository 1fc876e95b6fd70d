//! Two-step verification through the API: required of admins and programme managers (and of
//! supervisors where their organisation asks), optional for others; codes from RFC 6238 as
//! an authenticator app makes them, never taken twice; recovery codes; limits; admin reset.

use diesel::{ExpressionMethods, QueryDsl, RunQueryDsl, TextExpressionMethods};
use peerpath::access::Role;
use peerpath::db::Backend;
use peerpath::identity::totp;
use serde_json::{Value, json};

use crate::both_backends;
use crate::helpers::{PASSWORD, Resp, Session, TestApp};

/// Reads a key as an authenticator app does (base32, spaces ignored).
pub fn key_of(enrolment: &Value) -> Vec<u8> {
    const ALPHABET: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let typed: String = enrolment["secret"]
        .as_str()
        .expect("a secret")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let (mut bits, mut buffer, mut out) = (0u32, 0u32, vec![]);
    for c in typed.chars() {
        let value = u32::try_from(ALPHABET.find(c).expect("base32")).unwrap();
        buffer = (buffer << 5) | value;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push(((buffer >> bits) & 0xff) as u8);
        }
    }
    out
}

pub fn now_step() -> i64 {
    totp::step_at(chrono::Utc::now().timestamp())
}

/// The code an app shows at `step`. A step either side of now is taken; a step never twice,
/// so a test that signs in twice within 30 seconds names the steps it uses.
pub fn code_at(key: &[u8], step: i64) -> String {
    totp::code_at_step(key, step)
}

/// The code an app shows now.
fn code(key: &[u8]) -> String {
    code_at(key, now_step())
}

pub struct Team {
    /// One step, as in the other tests: the admin and people made here.
    pub setup: TestApp,
    /// The same database with two-step verification required of `required`.
    pub app: TestApp,
    pub admin: Session,
    pub org: String,
    pub manager_email: String,
    pub supervisor: Session,
    pub worker: Session,
}

pub async fn team(backend: Backend, required: Vec<Role>) -> Team {
    let setup = TestApp::spawn(backend).await;
    let admin = setup.admin().await;
    let (org, manager) = setup.org_with_manager(&admin).await;
    let supervisor = setup.user(&admin, "supervisor", Some(&org)).await;
    let worker = setup.user(&admin, "peer_worker", Some(&org)).await;
    let app = TestApp::spawn_on(setup.db.clone(), |s| s.auth.mfa_required_roles = required).await;
    Team {
        setup,
        app,
        admin,
        org,
        manager_email: manager.email,
        supervisor,
        worker,
    }
}

async fn second_step(app: &TestApp, challenge: &Value, body: Value) -> Resp {
    let mut body = body;
    body["challenge"] = challenge["challenge"].clone();
    app.post("/api/v1/auth/mfa").json(body).send().await
}

/// Signs in a person who must set up a factor, sets it up; answers the key and the tokens.
async fn enrol_at_sign_in(app: &TestApp, email: &str) -> (Vec<u8>, Resp) {
    let first = app.login(email, PASSWORD).await;
    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(first.body["status"], "enrolment_required");
    let key = key_of(&first.body["enrolment"]);
    let done = second_step(app, &first.body, json!({"code": code(&key)})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    (key, done)
}

async fn a_manager_sets_up_a_second_factor_at_first_sign_in_and_needs_it_after(backend: Backend) {
    let t = team(backend, vec![Role::Admin, Role::ProgrammeManager]).await;
    let app = &t.app;
    let first = app.login(&t.manager_email, PASSWORD).await;
    assert_eq!(first.status, 202, "{}", first.text);
    assert_eq!(first.body["status"], "enrolment_required");
    assert!(
        first.body.get("access_token").is_none(),
        "no token before the second step"
    );
    let enrolment = &first.body["enrolment"];
    assert!(enrolment["qr_svg"].as_str().unwrap().contains("<svg"));
    let uri = enrolment["otpauth_uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/peerpath:") && uri.contains("&period=30"),
        "{uri}"
    );
    let key = key_of(enrolment);
    assert_eq!(key.len(), 20);

    // The secret is sealed at rest: neither its bytes nor its text are in the row.
    use peerpath::db::schema::mfa_factors;
    let stored: Vec<Vec<u8>> = mfa_factors::table
        .select(mfa_factors::secret)
        .load(&mut *app.conn())
        .unwrap();
    let plain = enrolment["secret"].as_str().unwrap().replace(' ', "");
    for sealed in &stored {
        assert!(!sealed.windows(key.len()).any(|w| w == key.as_slice()));
        assert!(!String::from_utf8_lossy(sealed).contains(&plain));
    }

    let wrong = second_step(app, &first.body, json!({"code": "000000"})).await;
    wrong.assert_problem(401);
    let recovery_now = second_step(app, &first.body, json!({"recovery_code": "abcde-fghij"})).await;
    recovery_now.assert_problem(422);
    let s0 = now_step();
    let done = second_step(app, &first.body, json!({"code": code_at(&key, s0)})).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let codes: Vec<String> = done.body["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_string())
        .collect();
    assert_eq!(codes.len(), 10);
    let access = done.body["access_token"].as_str().unwrap().to_string();
    let status = app.get("/api/v1/me/mfa").token(&access).send().await;
    assert_eq!(
        status.body,
        json!({"enabled": true, "required": true, "recovery_codes_left": 10})
    );
    // A challenge works once.
    second_step(app, &first.body, json!({"code": code_at(&key, s0 + 1)}))
        .await
        .assert_problem(401);

    // From now on the password alone opens nothing, and a code is never taken twice.
    let again = app.login(&t.manager_email, PASSWORD).await;
    assert_eq!(again.status, 202, "{}", again.text);
    assert_eq!(again.body["status"], "code_required");
    assert!(
        again.body.get("enrolment").is_none(),
        "the secret is shown only once"
    );
    second_step(app, &again.body, json!({"code": code_at(&key, s0)}))
        .await
        .assert_problem(401);
    let next = second_step(app, &again.body, json!({"code": code_at(&key, s0 + 1)})).await;
    assert_eq!(next.status, 200, "{}", next.text);
    assert!(next.body.get("recovery_codes").is_none());

    // A recovery code stands in for the phone, once.
    let lost = app.login(&t.manager_email, PASSWORD).await;
    let used = second_step(
        app,
        &lost.body,
        json!({"recovery_code": codes[3].to_uppercase()}),
    )
    .await;
    assert_eq!(used.status, 200, "{}", used.text);
    let lost = app.login(&t.manager_email, PASSWORD).await;
    second_step(app, &lost.body, json!({"recovery_code": codes[3]}))
        .await
        .assert_problem(401);
    let status = app.get("/api/v1/me/mfa").token(&access).send().await;
    assert_eq!(status.body["recovery_codes_left"], 9);

    // Required of this role: it cannot be turned off.
    app.post("/api/v1/me/mfa/off")
        .token(&access)
        .json(json!({"code": code(&key)}))
        .send()
        .await
        .assert_problem(403);
    let renewed = app
        .post("/api/v1/me/mfa/recovery-codes")
        .token(&access)
        .json(json!({"code": "123"}))
        .send()
        .await;
    renewed.assert_problem(422);
    assert!(renewed.body["errors"]["code"].is_array());
    let events: Vec<String> = {
        use peerpath::db::schema::audit_events;
        audit_events::table
            .select(audit_events::action)
            .filter(audit_events::action.like("auth.mfa%"))
            .load(&mut *app.conn())
            .unwrap()
    };
    for action in [
        "auth.mfa_enrolled",
        "auth.mfa_failed",
        "auth.mfa_passed",
        "auth.mfa_recovery_code_used",
    ] {
        assert!(events.iter().any(|e| e == action), "{action} in {events:?}");
    }
    drop(t.setup);
}

async fn wrong_codes_spend_the_challenge_and_count_against_the_account(backend: Backend) {
    let t = team(backend, vec![Role::ProgrammeManager]).await;
    let app = &t.app;
    let (key, _) = enrol_at_sign_in(app, &t.manager_email).await;
    let challenge = app.login(&t.manager_email, PASSWORD).await;
    for _ in 0..peerpath::identity::mfa::CHALLENGE_ATTEMPTS {
        second_step(app, &challenge.body, json!({"code": "999999"}))
            .await
            .assert_problem(401);
    }
    // Spent: even the right code is refused, and the account is locked like after wrong
    // passwords.
    let late = second_step(
        app,
        &challenge.body,
        json!({"code": code_at(&key, now_step() + 1)}),
    )
    .await;
    assert!(matches!(late.status, 401 | 429), "{}", late.text);
    app.login(&t.manager_email, PASSWORD)
        .await
        .assert_problem(429);
    // Bad input changes nothing and names the field.
    app.post("/api/v1/auth/mfa")
        .json(json!({"challenge": "mfa_nothing", "code": "123456", "recovery_code": "x"}))
        .send()
        .await
        .assert_problem(401);
}

async fn an_admin_resets_a_lost_factor(backend: Backend) {
    let t = team(backend, vec![Role::ProgrammeManager]).await;
    let app = &t.app;
    let (_, signed) = enrol_at_sign_in(app, &t.manager_email).await;
    let manager_token = signed.body["access_token"].as_str().unwrap().to_string();
    let manager_id = app
        .get("/api/v1/me")
        .token(&manager_token)
        .send()
        .await
        .id();
    let path = format!("/api/v1/users/{manager_id}/mfa");

    for who in [&manager_token, &t.supervisor.access, &t.worker.access] {
        app.delete(&path)
            .token(who)
            .send()
            .await
            .assert_problem(403);
    }
    let own = format!("/api/v1/users/{}/mfa", t.admin.user_id);
    app.delete(&own)
        .token(&t.admin.access)
        .send()
        .await
        .assert_problem(403);
    let none = format!("/api/v1/users/{}/mfa", t.worker.user_id);
    app.delete(&none)
        .token(&t.admin.access)
        .send()
        .await
        .assert_problem(409);
    let unknown = format!("/api/v1/users/{}/mfa", uuid::Uuid::now_v7());
    app.delete(&unknown)
        .token(&t.admin.access)
        .send()
        .await
        .assert_problem(404);

    let reset = app.delete(&path).token(&t.admin.access).send().await;
    assert_eq!(reset.status, 204, "{}", reset.text);
    // Their sessions end, they are told, it is audited, and the next sign-in sets up anew.
    app.get("/api/v1/me")
        .token(&manager_token)
        .send()
        .await
        .assert_problem(401);
    assert_eq!(app.emails_about("second_factor_reset", &manager_id), 1);
    let audited: i64 = {
        use peerpath::db::schema::audit_events;
        audit_events::table
            .filter(audit_events::action.eq("user.mfa_reset"))
            .filter(audit_events::entity_id.eq(&manager_id))
            .filter(audit_events::actor_id.eq(&t.admin.user_id))
            .count()
            .get_result(&mut *app.conn())
            .unwrap()
    };
    assert_eq!(audited, 1);
    let next = app.login(&t.manager_email, PASSWORD).await;
    assert_eq!(next.status, 202);
    assert_eq!(next.body["status"], "enrolment_required");
}

async fn a_peer_worker_may_turn_it_on_and_off(backend: Backend) {
    let t = team(backend, vec![Role::Admin, Role::ProgrammeManager]).await;
    let app = &t.app;
    let me = &t.worker;
    assert_eq!(
        app.login(&me.email, PASSWORD).await.status,
        200,
        "optional: off"
    );
    let status = app.get("/api/v1/me/mfa").token(&me.access).send().await;
    assert_eq!(
        status.body,
        json!({"enabled": false, "required": false, "recovery_codes_left": 0})
    );
    app.post("/api/v1/me/mfa/confirm")
        .token(&me.access)
        .json(json!({"code": "123456"}))
        .send()
        .await
        .assert_problem(409);
    let started = app.post("/api/v1/me/mfa").token(&me.access).send().await;
    assert_eq!(started.status, 201, "{}", started.text);
    let key = key_of(&started.body);
    let s0 = now_step();
    let wrong = app
        .post("/api/v1/me/mfa/confirm")
        .token(&me.access)
        .json(json!({"code": "000000"}))
        .send()
        .await;
    wrong.assert_problem(422);
    let confirmed = app
        .post("/api/v1/me/mfa/confirm")
        .token(&me.access)
        .json(json!({"code": code_at(&key, s0 - 1)}))
        .send()
        .await;
    assert_eq!(confirmed.status, 200, "{}", confirmed.text);
    assert_eq!(
        confirmed.body["recovery_codes"].as_array().unwrap().len(),
        10
    );
    app.post("/api/v1/me/mfa")
        .token(&me.access)
        .send()
        .await
        .assert_problem(409);

    let login = app.login(&me.email, PASSWORD).await;
    assert_eq!(login.status, 202);
    assert_eq!(login.body["status"], "code_required");
    let renewed = app
        .post("/api/v1/me/mfa/recovery-codes")
        .token(&me.access)
        .json(json!({"code": code_at(&key, s0)}))
        .send()
        .await;
    assert_eq!(renewed.status, 200, "{}", renewed.text);
    let old = confirmed.body["recovery_codes"][0].as_str().unwrap();
    second_step(app, &login.body, json!({"recovery_code": old}))
        .await
        .assert_problem(401);
    let fresh = renewed.body["recovery_codes"][0].as_str().unwrap();
    assert_eq!(
        second_step(app, &login.body, json!({"recovery_code": fresh}))
            .await
            .status,
        200
    );

    // Off again (with a code not used before), and the password alone signs in.
    let off = app
        .post("/api/v1/me/mfa/off")
        .token(&me.access)
        .json(json!({"code": code_at(&key, s0 + 1)}))
        .send()
        .await;
    assert_eq!(off.status, 204, "{}", off.text);
    assert_eq!(app.login(&me.email, PASSWORD).await.status, 200);
}

async fn an_organisation_may_require_it_of_supervisors(backend: Backend) {
    let t = team(backend, vec![Role::Admin, Role::ProgrammeManager]).await;
    let app = &t.setup;
    assert_eq!(t.app.login(&t.supervisor.email, PASSWORD).await.status, 200);
    let settings = format!("/api/v1/organisations/{}/settings", t.org);
    let current = app.get(&settings).token(&t.admin.access).send().await;
    assert_eq!(current.body["mfa_for_supervisors"], false);
    let mut body = current.body.clone();
    body["mfa_for_supervisors"] = json!(true);
    // Supervisors may not choose it for themselves.
    app.put(&settings)
        .token(&t.supervisor.access)
        .json(body.clone())
        .send()
        .await
        .assert_problem(403);
    let set = app
        .put(&settings)
        .token(&t.admin.access)
        .json(body)
        .send()
        .await;
    assert_eq!(set.status, 200, "{}", set.text);
    let login = t.app.login(&t.supervisor.email, PASSWORD).await;
    assert_eq!(login.status, 202, "{}", login.text);
    assert_eq!(login.body["status"], "enrolment_required");
    assert_eq!(t.app.login(&t.worker.email, PASSWORD).await.status, 200);
}

both_backends!(
    a_manager_sets_up_a_second_factor_at_first_sign_in_and_needs_it_after,
    wrong_codes_spend_the_challenge_and_count_against_the_account,
    an_admin_resets_a_lost_factor,
    a_peer_worker_may_turn_it_on_and_off,
    an_organisation_may_require_it_of_supervisors,
);
