//! The pages over HTTP: sign-in, the session cookie, CSRF, security headers, refusals as
//! pages. What a person does in a browser is in `browser`; these check what a browser
//! cannot show (flags, headers, posts from elsewhere) and that nothing changes when refused.

use std::collections::BTreeMap;

use serde_json::json;

use crate::both_backends;
use crate::helpers::{PASSWORD, Resp, TestApp};
use crate::training::{Team, log, module, team, team_with};
use peerpath::db::Backend;

/// A browser without a script: keeps cookies, posts forms with their token and Origin.
pub struct Browser<'a> {
    app: &'a TestApp,
    cookies: BTreeMap<String, String>,
    pub origin: String,
}

impl<'a> Browser<'a> {
    pub fn new(app: &'a TestApp) -> Self {
        Self {
            app,
            cookies: BTreeMap::new(),
            origin: app.address.clone(),
        }
    }

    fn cookie_header(&self) -> String {
        self.cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ")
    }

    fn keep(&mut self, r: &Resp) {
        for value in r.headers.get_all("set-cookie") {
            let value = value.to_str().unwrap();
            let (pair, _) = value.split_once(';').unwrap_or((value, ""));
            let (name, v) = pair.split_once('=').unwrap();
            if v.is_empty() || value.contains("Max-Age=0") {
                self.cookies.remove(name);
            } else {
                self.cookies.insert(name.into(), v.into());
            }
        }
    }

    pub async fn get(&mut self, path: &str) -> Resp {
        let r = self
            .app
            .get(path)
            .header("cookie", &self.cookie_header())
            .send()
            .await;
        self.keep(&r);
        r
    }

    pub async fn post(&mut self, path: &str, fields: &[(&str, &str)]) -> Resp {
        let body = serde_urlencoded::to_string(fields).unwrap();
        let r = self
            .app
            .post(path)
            .header("cookie", &self.cookie_header())
            .header("origin", &self.origin.clone())
            .raw("application/x-www-form-urlencoded", body)
            .send()
            .await;
        self.keep(&r);
        r
    }

    /// Opens `path` and posts its form with the page's own token.
    pub async fn submit(&mut self, form_page: &str, action: &str, fields: &[(&str, &str)]) -> Resp {
        let page = self.get(form_page).await;
        assert_eq!(page.status, 200, "{form_page}: {}", page.text);
        let token = csrf(&page);
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        self.post(action, &all).await
    }

    pub async fn sign_in(&mut self, email: &str, password: &str) -> Resp {
        self.submit(
            "/sign-in",
            "/sign-in",
            &[("email", email), ("password", password)],
        )
        .await
    }
}

pub fn csrf(page: &Resp) -> String {
    let marker = "name=\"csrf_token\" value=\"";
    let start = page.text.find(marker).expect("a form with a token") + marker.len();
    page.text[start..].split('"').next().unwrap().to_string()
}

fn location(r: &Resp) -> String {
    r.header("location").unwrap_or_default()
}

fn record_fields(module: &str) -> Vec<(&'static str, String)> {
    vec![
        ("module_id", module.to_string()),
        ("completed_on", "2026-11-01".into()),
        ("hours", "2".into()),
        ("provider", "The clinic".into()),
    ]
}

fn count_records(app: &TestApp) -> i64 {
    use diesel::prelude::*;
    use peerpath::db::schema::training_records;
    training_records::table
        .count()
        .get_result(&mut *app.conn())
        .unwrap()
}

async fn signing_in_opens_the_home_page_and_wrong_passwords_say_so(backend: Backend) {
    let t = team(backend).await;
    let mut b = Browser::new(&t.app);
    assert_eq!(location(&b.get("/").await), "/sign-in");
    let wrong = b.sign_in(&t.worker.email, "not-the-password").await;
    assert_eq!(wrong.status, 422);
    assert!(wrong.text.contains("There is a problem"), "{}", wrong.text);
    assert!(wrong.text.contains("href=\"#email\""));
    assert!(
        !wrong.text.contains("not-the-password"),
        "the password is not echoed"
    );
    let empty = b
        .submit("/sign-in", "/sign-in", &[("email", ""), ("password", "")])
        .await;
    assert!(empty.text.contains("Enter your email address"));
    assert!(empty.text.contains("Enter your password"));

    let ok = b.sign_in(&t.worker.email, PASSWORD).await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(location(&ok), "/");
    let home = b.get("/").await;
    assert_eq!(home.status, 200);
    assert!(home.text.contains("<h1>Your pathway</h1>"));
    // Signed in, the sign-in page sends you home.
    assert_eq!(location(&b.get("/sign-in").await), "/");
}

async fn after_signing_in_you_land_where_you_were_going_and_never_on_another_site(
    backend: Backend,
) {
    let t = team(backend).await;
    let mut b = Browser::new(&t.app);
    let r = b.get("/training/new").await;
    assert_eq!(r.status, 303);
    assert_eq!(location(&r), "/sign-in?next=%2Ftraining%2Fnew");
    let page = b.get(&location(&r)).await;
    let token = csrf(&page);
    assert!(page.text.contains("value=\"/training/new\""));
    let r = b
        .post(
            "/sign-in",
            &[
                ("csrf_token", &token),
                ("email", &t.worker.email),
                ("password", PASSWORD),
                ("next", "/training/new"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/training/new");
    for evil in [
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
    ] {
        let mut b = Browser::new(&t.app);
        let r = b
            .submit(
                "/sign-in",
                "/sign-in",
                &[
                    ("email", &t.worker.email),
                    ("password", PASSWORD),
                    ("next", evil),
                ],
            )
            .await;
        assert_eq!(location(&r), "/", "next={evil}");
    }
}

async fn the_session_cookie_is_host_only_http_only_lax_and_secure(backend: Backend) {
    let t = team_with(backend, |s| s.web.secure_cookies = true).await;
    let mut b = Browser::new(&t.app);
    let r = b.sign_in(&t.worker.email, PASSWORD).await;
    let cookie = r
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.starts_with("__Host-peerpath-session="))
        .expect("the session cookie");
    for flag in ["; Path=/", "; HttpOnly", "; SameSite=Lax", "; Secure"] {
        assert!(cookie.contains(flag), "{cookie} lacks {flag}");
    }
    assert!(!cookie.to_lowercase().contains("domain="), "{cookie}");
    assert_eq!(b.get("/").await.status, 200);

    // In development (plain HTTP) the cookie cannot be Secure, nor so have the prefix.
    let t = team_with(backend, |s| s.web.secure_cookies = false).await;
    let mut b = Browser::new(&t.app);
    let r = b.sign_in(&t.worker.email, PASSWORD).await;
    let cookie = r.header("set-cookie").unwrap();
    assert!(
        cookie.starts_with("peerpath-session=") && !cookie.contains("Secure"),
        "{cookie}"
    );
}

async fn a_form_without_the_right_token_or_from_another_site_changes_nothing(backend: Backend) {
    let t = team(backend).await;
    let m = module(&t.app, &t.manager, "WEB-1", None).await;
    let mut b = Browser::new(&t.app);
    b.sign_in(&t.worker.email, PASSWORD).await;
    let page = b.get("/training/new").await;
    let token = csrf(&page);
    let fields = record_fields(&m);
    let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let before = count_records(&t.app);

    let without = b.post("/training/new", &fields).await;
    assert_eq!(without.status, 403, "{}", without.text);
    assert!(without.text.contains("This form has expired"));
    let mut wrong = vec![("csrf_token", "not-the-token")];
    wrong.extend_from_slice(&fields);
    assert_eq!(b.post("/training/new", &wrong).await.status, 403);
    let mut right = vec![("csrf_token", token.as_str())];
    right.extend_from_slice(&fields);
    b.origin = "https://evil.example".into();
    assert_eq!(b.post("/training/new", &right).await.status, 403);
    assert_eq!(count_records(&t.app), before, "nothing was stored");

    // Another person's token does not do either.
    let mut other = Browser::new(&t.app);
    other.sign_in(&t.colleague.email, PASSWORD).await;
    let other_token = csrf(&other.get("/training/new").await);
    b.origin = t.app.address.clone();
    let mut theirs = vec![("csrf_token", other_token.as_str())];
    theirs.extend_from_slice(&fields);
    assert_eq!(b.post("/training/new", &theirs).await.status, 403);
    assert_eq!(count_records(&t.app), before);

    let ok = b.post("/training/new", &right).await;
    assert_eq!(ok.status, 303, "{}", ok.text);
    assert_eq!(location(&ok), "/training?done=logged");
    assert_eq!(count_records(&t.app), before + 1);

    // The signed-out forms are protected the same way.
    let mut fresh = Browser::new(&t.app);
    let r = fresh
        .post(
            "/sign-in",
            &[("email", &t.worker.email), ("password", PASSWORD)],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(
        r.header("set-cookie").is_none(),
        "no session without the token"
    );
}

async fn signing_out_deactivation_and_a_password_change_end_the_web_session(backend: Backend) {
    let t = team(backend).await;
    // Sign-out.
    let mut b = Browser::new(&t.app);
    b.sign_in(&t.worker.email, PASSWORD).await;
    let home = b.get("/").await;
    let token = csrf(&home);
    let saved = b.cookie_header();
    let out = b.post("/sign-out", &[("csrf_token", &token)]).await;
    assert_eq!(location(&out), "/sign-in?signed_out=1");
    assert!(
        b.get("/sign-in?signed_out=1")
            .await
            .text
            .contains("You have signed out.")
    );
    // The old cookie, replayed, opens nothing.
    let replay = t.app.get("/").header("cookie", &saved).send().await;
    assert_eq!(location(&replay), "/sign-in");

    // A password change through the API ends the page session at its next request.
    let mut b = Browser::new(&t.app);
    b.sign_in(&t.worker.email, PASSWORD).await;
    assert_eq!(b.get("/training").await.status, 200);
    let r = t
        .app
        .post("/api/v1/auth/password")
        .token(&t.worker.access)
        .json(json!({"current_password": PASSWORD, "new_password": "a-new-long-passphrase"}))
        .send()
        .await;
    assert_eq!(r.status, 204, "{}", r.text);
    assert_eq!(
        location(&b.get("/training").await),
        "/sign-in?next=%2Ftraining"
    );

    // Deactivation ends it too.
    let mut b = Browser::new(&t.app);
    b.sign_in(&t.colleague.email, PASSWORD).await;
    assert_eq!(b.get("/").await.status, 200);
    let read = t
        .app
        .get(&format!("/api/v1/users/{}", t.colleague.user_id))
        .token(&t.manager.access)
        .send()
        .await;
    let r = t
        .app
        .patch(&format!("/api/v1/users/{}", t.colleague.user_id))
        .token(&t.manager.access)
        .header("if-match", &read.header("etag").unwrap())
        .json(json!({"active": false}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(location(&b.get("/").await), "/sign-in");
}

async fn a_web_session_ends_when_idle_and_at_its_absolute_limit(backend: Backend) {
    let t = team_with(backend, |s| s.web.idle_timeout_mins = 0).await;
    let mut b = Browser::new(&t.app);
    assert_eq!(b.sign_in(&t.worker.email, PASSWORD).await.status, 303);
    assert_eq!(location(&b.get("/").await), "/sign-in", "idle at once");

    let t = team_with(backend, |s| s.web.absolute_timeout_hours = 0).await;
    let mut b = Browser::new(&t.app);
    assert_eq!(b.sign_in(&t.worker.email, PASSWORD).await.status, 303);
    assert_eq!(
        location(&b.get("/").await),
        "/sign-in",
        "past its end at once"
    );
}

async fn every_page_carries_the_security_headers(backend: Backend) {
    let t = team(backend).await;
    let mut b = Browser::new(&t.app);
    let mut pages = vec![
        b.get("/sign-in").await,
        b.get("/account/reset-password").await,
        b.get("/no-such-page").await,
    ];
    b.sign_in(&t.worker.email, PASSWORD).await;
    pages.push(b.get("/").await);
    pages.push(b.get("/training").await);
    pages.push(b.get("/training/new").await);
    pages.push(b.get("/queue").await);
    for p in &pages {
        let csp = p.header("content-security-policy").unwrap_or_default();
        assert!(
            csp.contains("frame-ancestors 'none'") && csp.contains("default-src 'none'"),
            "{csp}"
        );
        assert!(
            !csp.contains("unsafe-inline") && !csp.contains("script-src"),
            "no inline script: {csp}"
        );
        assert_eq!(
            p.header("x-content-type-options").as_deref(),
            Some("nosniff")
        );
        assert_eq!(p.header("referrer-policy").as_deref(), Some("same-origin"));
        assert_eq!(p.header("cache-control").as_deref(), Some("no-store"));
        assert!(p.header("content-type").unwrap().starts_with("text/html"));
        assert!(p.text.contains("<html lang=\"en\">") && p.text.contains("Skip to main content"));
    }
    // The stylesheet is cached for long under a name that changes with it.
    let css_path = pages[0]
        .text
        .split("rel=\"stylesheet\" href=\"")
        .nth(1)
        .unwrap()
        .split('"')
        .next()
        .unwrap();
    let css = t.app.get(css_path).send().await;
    assert_eq!(css.status, 200);
    assert!(css.header("cache-control").unwrap().contains("immutable"));
    assert_eq!(
        t.app
            .get("/assets/peerpath-0000000000.css")
            .send()
            .await
            .status,
        404
    );
}

async fn refusals_become_pages_that_say_what_happened(backend: Backend) {
    let t: Team = team(backend).await;
    let m = module(&t.app, &t.manager, "WEB-2", None).await;
    let r = log(
        &t.app,
        &t.worker,
        json!({"module_id": m, "completed_on": "2026-11-01", "hours": 2, "provider": "Clinic"}),
    )
    .await;
    let record = r.id();

    // Another organisation's record: 404 as in the API.
    let mut outsider = Browser::new(&t.app);
    outsider
        .sign_in(&t.outsider_supervisor.email, PASSWORD)
        .await;
    for path in [
        format!("/queue/training/{record}"),
        format!("/training/{record}"),
    ] {
        let r = outsider.get(&path).await;
        assert_eq!(r.status, 404, "{path}");
        assert!(r.text.contains("Page not found"));
    }
    let api = t
        .app
        .get(&format!("/api/v1/training-records/{record}"))
        .token(&t.outsider_supervisor.access)
        .send()
        .await;
    assert_eq!(api.status, 404);

    // A colleague with no business with it: 403, in words.
    let mut colleague = Browser::new(&t.app);
    colleague.sign_in(&t.colleague.email, PASSWORD).await;
    let r = colleague.get(&format!("/training/{record}")).await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("You cannot do this"));
    // A peer worker has no queue.
    let r = colleague.get("/queue").await;
    assert_eq!(r.status, 403);
    assert!(r.text.contains("The queue is a supervisor&#39;s."));

    // The supervisor cannot decide through the confirm step without a reason for a rejection,
    // and the record stays as it was.
    let mut sup = Browser::new(&t.app);
    sup.sign_in(&t.supervisor.email, PASSWORD).await;
    let page = sup.get(&format!("/queue/training/{record}")).await;
    let token = csrf(&page);
    let r = sup
        .post(
            &format!("/queue/training/{record}/confirm"),
            &[
                ("csrf_token", &token),
                ("decision", "reject"),
                ("reason", " "),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(r.text.contains("Say why you do not accept it"));
    let api = t
        .app
        .get(&format!("/api/v1/training-records/{record}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(api.body["status"], "logged");
    let r = sup
        .post(
            &format!("/queue/training/{record}/confirm"),
            &[
                ("csrf_token", &token),
                ("decision", "reject"),
                ("reason", "Please add your certificate"),
            ],
        )
        .await;
    assert_eq!(location(&r), "/queue?done=rejected");
    let api = t
        .app
        .get(&format!("/api/v1/training-records/{record}"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(api.body["status"], "rejected");
    assert_eq!(t.app.emails_of_kind("training_rejected"), 1);
    // The worker reads the reason on the record's page.
    let mut w = Browser::new(&t.app);
    w.sign_in(&t.worker.email, PASSWORD).await;
    assert!(
        w.get(&format!("/training/{record}"))
            .await
            .text
            .contains("Please add your certificate")
    );

    // An unknown page is a page; the API keeps problem+json.
    let r = w.get("/nowhere").await;
    assert_eq!(r.status, 404);
    assert!(r.text.contains("Page not found"));
    t.app
        .get("/api/v1/nowhere")
        .send()
        .await
        .assert_problem(404);
}

async fn a_form_with_mistakes_is_shown_again_with_each_one_and_stores_nothing(backend: Backend) {
    let t = team(backend).await;
    let m = module(&t.app, &t.manager, "WEB-3", None).await;
    let mut b = Browser::new(&t.app);
    b.sign_in(&t.worker.email, PASSWORD).await;
    let before = count_records(&t.app);
    let r = b
        .submit(
            "/training/new",
            "/training/new",
            &[
                ("module_id", ""),
                ("completed_on", "31/2/2026"),
                ("hours", "lots"),
                ("provider", ""),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    for text in [
        "Choose the module you did",
        "as a real date",
        "Enter the hours as a number",
        "Enter who ran the training",
    ] {
        assert!(r.text.contains(text), "{text}");
    }
    assert!(
        r.text
            .contains("<title>Error: Log training you have done - peerpath</title>")
    );
    assert!(
        r.text
            .contains("aria-describedby=\"hours-hint hours-error\"")
    );
    // A rule of the domain, in the form's words.
    let r = b
        .submit(
            "/training/new",
            "/training/new",
            &[
                ("module_id", &m),
                ("completed_on", "2999-01-01"),
                ("hours", "500"),
                ("provider", "Clinic"),
            ],
        )
        .await;
    assert_eq!(r.status, 422);
    assert!(
        r.text
            .contains("The date you finished it must not be in the future"),
        "{}",
        r.text
    );
    assert!(
        r.text
            .contains("The hours must be more than 0 and at most 200 hours")
    );
    let summary = r
        .text
        .split("class=\"error-summary\"")
        .nth(1)
        .unwrap()
        .split("</div>")
        .next()
        .unwrap();
    assert!(
        !summary.contains("2999"),
        "messages do not echo the value sent: {summary}"
    );
    assert!(
        r.text.contains("value=\"2999-01-01\""),
        "what was typed stays in its field"
    );
    assert_eq!(count_records(&t.app), before);
}

/// The second step of signing in: its challenge rides in a cookie of its own (never in a
/// URL), its forms refuse posts without their token or from elsewhere, and without the
/// challenge its pages send the visitor back to the password.
async fn the_second_step_keeps_its_challenge_off_urls_and_refuses_forged_posts(backend: Backend) {
    use peerpath::access::Role;
    let t = crate::mfa::team(backend, vec![Role::ProgrammeManager]).await;
    let mut b = Browser::new(&t.app);
    let signed = b.sign_in(&t.manager_email, PASSWORD).await;
    assert_eq!(signed.status, 303, "{}", signed.text);
    let to = location(&signed);
    assert!(to.starts_with("/sign-in/set-up?next="), "{to}");
    assert!(!to.contains("mfa_"), "no challenge in a URL: {to}");
    let set = signed
        .headers
        .get_all("set-cookie")
        .map(|v| v.to_str().unwrap().to_string())
        .find(|c| c.contains("second-step"))
        .expect("the challenge's cookie");
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Max-Age=300"),
        "{set}"
    );

    let page = b.get("/sign-in/set-up").await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("src=\"/sign-in/set-up/qr.svg\""));
    let qr = b.get("/sign-in/set-up/qr.svg").await;
    assert_eq!(qr.status, 200);
    assert_eq!(qr.header("content-type").as_deref(), Some("image/svg+xml"));
    assert_eq!(qr.header("cache-control").as_deref(), Some("no-store"));

    let token = csrf(&page);
    let forged = b
        .post(
            "/sign-in/set-up",
            &[("csrf_token", "not-it"), ("code", "123456")],
        )
        .await;
    assert_eq!(forged.status, 403, "{}", forged.text);
    b.origin = "https://evil.example".into();
    let elsewhere = b
        .post(
            "/sign-in/set-up",
            &[("csrf_token", &token), ("code", "123456")],
        )
        .await;
    assert_eq!(elsewhere.status, 403, "{}", elsewhere.text);
    b.origin = t.app.address.clone();
    let wrong = b
        .post(
            "/sign-in/set-up",
            &[("csrf_token", &token), ("code", "000000")],
        )
        .await;
    assert_eq!(wrong.status, 401, "{}", wrong.text);
    assert!(wrong.text.contains("The code is not right"));
    let confirmed: i64 = {
        use diesel::prelude::*;
        use peerpath::db::schema::mfa_factors;
        mfa_factors::table
            .filter(mfa_factors::confirmed_at.is_not_null())
            .count()
            .get_result(&mut *t.app.conn())
            .unwrap()
    };
    assert_eq!(confirmed, 0, "nothing refused turned it on");

    let mut stranger = Browser::new(&t.app);
    for path in ["/sign-in/code", "/sign-in/recovery-code", "/sign-in/set-up"] {
        let back = stranger.get(path).await;
        assert_eq!(back.status, 303, "{path}");
        assert_eq!(location(&back), "/sign-in?expired=1");
    }
    assert_eq!(stranger.get("/sign-in/set-up/qr.svg").await.status, 404);
    let notice = stranger.get("/sign-in?expired=1").await;
    assert!(notice.text.contains("Sign in again with your password."));
}

both_backends!(
    the_second_step_keeps_its_challenge_off_urls_and_refuses_forged_posts,
    supervisee_and_recovery_pages_refuse_whoever_has_no_business_there,
    every_email_leads_to_a_page_its_reader_can_open,
    signing_in_opens_the_home_page_and_wrong_passwords_say_so,
    after_signing_in_you_land_where_you_were_going_and_never_on_another_site,
    the_session_cookie_is_host_only_http_only_lax_and_secure,
    a_form_without_the_right_token_or_from_another_site_changes_nothing,
    signing_out_deactivation_and_a_password_change_end_the_web_session,
    a_web_session_ends_when_idle_and_at_its_absolute_limit,
    every_page_carries_the_security_headers,
    refusals_become_pages_that_say_what_happened,
    a_form_with_mistakes_is_shown_again_with_each_one_and_stores_nothing,
);

/// Every kind of email the demo and a week's decisions send: its link opens the page where
/// its reader acts (after signing in, landing on that page), never a JSON answer.
async fn every_email_leads_to_a_page_its_reader_can_open(backend: Backend) {
    use diesel::prelude::*;
    use peerpath::db::schema::{notifications, users};
    let app = crate::browser::demo_app(backend).await;
    let pw = crate::browser::DEMO_PASSWORD;
    let worker = app.session(crate::browser::WORKER, pw).await;
    let supervisor = app.session(crate::browser::SUPERVISOR, pw).await;
    let manager = app.session("priya.manager@demo.peerpath.invalid", pw).await;
    // The demo's history sends no email: a sign-off asked for and one decided, a rejection, a
    // call request and a progression decision make today's.
    let newcomer = app.session(crate::browser::NEW_WORKER, pw).await;
    let theirs = app.session(crate::browser::ASSESSOR, pw).await;
    let asked: Vec<String> = app
        .get(&format!(
            "/api/v1/workers/{}/signoffs?limit=200",
            newcomer.user_id
        ))
        .token(&newcomer.access)
        .send()
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["competency_id"].as_str().unwrap().to_string())
        .collect();
    let fresh = app
        .get("/api/v1/competencies?limit=200")
        .token(&newcomer.access)
        .send()
        .await
        .body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_str().unwrap().to_string())
        .find(|c| !asked.contains(c))
        .expect("a competency the worker has not asked for");
    let r = app
        .post(&format!("/api/v1/workers/{}/signoffs", newcomer.user_id))
        .token(&newcomer.access)
        .json(json!({"competency_id": fresh, "evidence": "Practice log"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(&format!("/api/v1/signoffs/{}/return", r.id()))
        .token(&theirs.access)
        .json(json!({"reason": "Add the clinic dates"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let queue = app
        .get("/api/v1/supervisor-queue")
        .token(&supervisor.access)
        .send()
        .await;
    let record = queue.body["unverified_training"][0]["id"]
        .as_str()
        .unwrap()
        .to_string();
    let r = app
        .post(&format!("/api/v1/training-records/{record}/reject"))
        .token(&supervisor.access)
        .json(json!({"reason": "Please add your certificate"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = app
        .post(&format!("/api/v1/workers/{}/checkins", worker.user_id))
        .token(&worker.access)
        .json(json!({"held_on": chrono::Utc::now().date_naive(), "wellbeing": 2, "risk": "raised", "call_requested": true}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(&format!("/api/v1/workers/{}/progressions", worker.user_id))
        .token(&supervisor.access)
        .json(json!({"rationale": "Ready in practice"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let r = app
        .post(&format!("/api/v1/progressions/{}/decline", r.id()))
        .token(&manager.access)
        .json(json!({"reason": "Not yet: the time in stage"}))
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);

    // Tomorrow's daily jobs: reminders of expiring training, waiting sign-offs, check-ins due
    // and missed, pay steps at risk, digests.
    let st = &app.state;
    let tomorrow = (chrono::Utc::now() + chrono::Duration::days(1))
        .date_naive()
        .and_hms_opt(st.settings.scheduler.daily_hour_utc, 30, 0)
        .unwrap();
    peerpath::scheduler::tick(&st.db, &st.notifications, &st.settings.scheduler, tomorrow)
        .await
        .unwrap();
    let rows: Vec<(String, String, String)> = notifications::table
        .inner_join(users::table.on(notifications::recipient_user_id.eq(users::id.nullable())))
        .select((notifications::kind, users::email, notifications::body_text))
        .load(&mut *app.conn())
        .unwrap();
    let base = app.state.settings.server.public_url.clone();
    let mut checked = std::collections::BTreeSet::new();
    for (kind, email, body) in rows {
        if !checked.insert((kind.clone(), email.clone())) {
            continue;
        }
        let start = body
            .find(&base)
            .unwrap_or_else(|| panic!("{kind} has no link: {body}"));
        let path: String = body[start + base.len()..]
            .chars()
            .take_while(|c| !c.is_whitespace())
            .collect();
        assert!(
            !path.starts_with("/api/"),
            "{kind} links to the API: {path}"
        );
        let mut b = Browser::new(&app);
        let first = b.get(&path).await;
        assert_eq!(first.status, 303, "{kind}: {path} without a session");
        let to = location(&first);
        assert!(to.starts_with("/sign-in"), "{kind}: {to}");
        let page = b.get(&to).await;
        let token = csrf(&page);
        let next =
            serde_urlencoded::from_str::<Vec<(String, String)>>(to.trim_start_matches("/sign-in?"))
                .unwrap()
                .into_iter()
                .find(|(k, _)| k == "next")
                .map_or_else(|| "/".to_string(), |(_, v)| v);
        let signed = b
            .post(
                "/sign-in",
                &[
                    ("csrf_token", &token),
                    ("email", &email),
                    ("password", pw),
                    ("next", &next),
                ],
            )
            .await;
        assert_eq!(
            location(&signed),
            path,
            "{kind}: lands where the email pointed"
        );
        let landed = b.get(&path).await;
        assert_eq!(
            landed.status, 200,
            "{kind}: {path} for {email}: {}",
            landed.text
        );
        assert!(landed.text.contains("<h1>"), "{kind}: {path}");
    }
    let kinds: std::collections::BTreeSet<&str> = checked.iter().map(|(k, _)| k.as_str()).collect();
    println!("email kinds whose links were opened: {kinds:?}");
    for kind in [
        "signoff_requested",
        "signoff_decided",
        "training_expiring",
        "training_rejected",
        "contact_requested",
        "progression_decided",
    ] {
        assert!(kinds.contains(kind), "{kind} was not checked: {kinds:?}");
    }
}

async fn supervisee_and_recovery_pages_refuse_whoever_has_no_business_there(backend: Backend) {
    let t = team(backend).await;
    let w = &t.worker.user_id;
    // The worker shares one part of the plan and records a check-in.
    let plan = json!({"sections": [
        {"section": "triggers", "text": "PRIVATE-PART", "shared": false},
        {"section": "wellness_toolbox", "text": "SHARED-PART", "shared": true}]});
    let r = t
        .app
        .put(&format!("/api/v1/workers/{w}/recovery-plan"))
        .token(&t.worker.access)
        .header("if-match", "\"v0\"")
        .json(plan)
        .send()
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = t
        .app
        .post(&format!("/api/v1/workers/{w}/checkins"))
        .token(&t.worker.access)
        .json(json!({"held_on": chrono::Utc::now().date_naive(), "wellbeing": 4, "risk": "none", "notes": "PRIVATE-NOTE"}))
        .send()
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let checkin = r.id();

    let mut sup = Browser::new(&t.app);
    sup.sign_in(&t.supervisor.email, PASSWORD).await;
    let page = sup.get(&format!("/supervisees/{w}/recovery")).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert!(page.text.contains("SHARED-PART"));
    assert!(!page.text.contains("PRIVATE-PART") && !page.text.contains("PRIVATE-NOTE"));
    assert_eq!(sup.get(&format!("/supervisees/{w}")).await.status, 200);
    assert_eq!(sup.get("/supervisees").await.status, 200);

    let mut other = Browser::new(&t.app);
    other.sign_in(&t.other_supervisor.email, PASSWORD).await;
    for path in [
        format!("/supervisees/{w}"),
        format!("/supervisees/{w}/recovery"),
        format!("/supervisees/{w}/checkins/new"),
    ] {
        assert_eq!(other.get(&path).await.status, 403, "{path}");
    }
    let token = csrf(&other.get("/").await);
    let together = |token: &str| {
        vec![
            ("csrf_token", token.to_string()),
            ("held_on", chrono::Utc::now().date_naive().to_string()),
            ("wellbeing", "3".to_string()),
            ("risk", "low".to_string()),
            ("agreed_actions", "TOGETHER-WORDS".to_string()),
        ]
    };
    let form = together(&token);
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = other
        .post(&format!("/supervisees/{w}/checkins/new"), &pairs)
        .await;
    assert_eq!(r.status, 403, "only the current supervisor records one");
    let mut outsider = Browser::new(&t.app);
    outsider
        .sign_in(&t.outsider_supervisor.email, PASSWORD)
        .await;
    for path in [
        format!("/supervisees/{w}"),
        format!("/supervisees/{w}/recovery"),
        format!("/supervisees/{w}/checkins/new"),
    ] {
        assert_eq!(outsider.get(&path).await.status, 404, "{path}");
    }
    let mut manager = Browser::new(&t.app);
    manager.sign_in(&t.manager.email, PASSWORD).await;
    let r = manager.get(&format!("/supervisees/{w}/recovery")).await;
    assert_eq!(r.status, 403, "managers never read recovery content");
    assert!(!r.text.contains("SHARED-PART"));
    assert_eq!(
        manager
            .get(&format!("/supervisees/{w}/checkins/new"))
            .await
            .status,
        403
    );

    // The current supervisor records a check-in held together; the worker owns it.
    let form_page = sup.get(&format!("/supervisees/{w}/checkins/new")).await;
    assert_eq!(form_page.status, 200, "{}", form_page.text);
    let form = together(&csrf(&form_page));
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let r = sup
        .post(&format!("/supervisees/{w}/checkins/new"), &pairs[..3])
        .await;
    assert_eq!(r.status, 422, "no risk chosen: the form again");
    assert!(r.text.contains("There is a problem") && r.text.contains("href=\"#risk"));
    let r = sup
        .post(&format!("/supervisees/{w}/checkins/new"), &pairs)
        .await;
    assert_eq!(r.status, 303, "{}", r.text);
    let seen = sup.get(&format!("/supervisees/{w}/recovery")).await;
    assert!(seen.text.contains("TOGETHER-WORDS") && seen.text.contains("Recorded by you."));
    let mut worker = Browser::new(&t.app);
    worker.sign_in(&t.worker.email, PASSWORD).await;
    let mine = worker.get("/recovery/checkins").await;
    assert!(mine.text.contains("TOGETHER-WORDS"), "{}", mine.text);
    assert!(mine.text.contains("A supervisor wrote this down with you."));
    let all = t
        .app
        .get(&format!("/api/v1/workers/{w}/checkins"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(
        all.body["items"].as_array().unwrap().len(),
        2,
        "one stored, by the supervisor"
    );
    let mut colleague = Browser::new(&t.app);
    colleague.sign_in(&t.colleague.email, PASSWORD).await;
    assert_eq!(colleague.get("/supervisees").await.status, 403);
    assert_eq!(
        colleague
            .get(&format!("/supervisees/{w}/recovery"))
            .await
            .status,
        403
    );
    // Another person's check-in: its sharing cannot be changed, and nothing is shared.
    let token = csrf(&colleague.get("/recovery/checkins").await);
    let r = colleague
        .post(
            &format!("/recovery/checkins/{checkin}/sharing"),
            &[("csrf_token", &token), ("notes_shared", "yes")],
        )
        .await;
    assert_eq!(r.status, 403);
    assert!(
        !sup.get(&format!("/supervisees/{w}/recovery"))
            .await
            .text
            .contains("PRIVATE-NOTE")
    );

    // The worker sees who read what, in the API as on the page.
    let reads = t
        .app
        .get(&format!("/api/v1/workers/{w}/recovery-access"))
        .token(&t.worker.access)
        .send()
        .await;
    assert_eq!(reads.status, 200, "{}", reads.text);
    let first = &reads.body["items"][0];
    assert_eq!(first["reader_role"], "supervisor", "{}", reads.text);
    assert!(
        reads.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .any(|r| r["what"] == "plan")
    );
    for (who, status) in [
        (&t.supervisor, 403),
        (&t.manager, 403),
        (&t.outsider_manager, 404),
    ] {
        let r = t
            .app
            .get(&format!("/api/v1/workers/{w}/recovery-access"))
            .token(&who.access)
            .send()
            .await;
        r.assert_problem(status);
    }
    let mut me = Browser::new(&t.app);
    me.sign_in(&t.worker.email, PASSWORD).await;
    let page = me.get("/account/recovery-data").await;
    assert!(
        page.text
            .contains("A supervisor (supervisor)</strong> read your plan"),
        "{}",
        page.text
    );
}
