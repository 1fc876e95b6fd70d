//! Rendering pages: the templates compiled into the binary, the layout's values, and the
//! headers every page carries.

use std::sync::LazyLock;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, HttpResponseBuilder};
use minijinja::{AutoEscape, Environment, Value, context};
use serde::Serialize;

use super::assets;
use crate::access::Role;
use crate::error::FieldErrors;
use crate::identity::web_sessions::WebSession;

macro_rules! pages {
    ($($name:literal),* $(,)?) => {
        &[$(($name, include_str!(concat!("../../../templates/pages/", $name)))),*]
    };
}

const TEMPLATES: &[(&str, &str)] = pages!(
    "layout.html",
    "macros.html",
    "error.html",
    "sign_in.html",
    "sign_in_code.html",
    "sign_in_recovery.html",
    "sign_in_set_up.html",
    "recovery_codes.html",
    "two_step.html",
    "two_step_off.html",
    "message.html",
    "set_password.html",
    "reset_password.html",
    "home_worker.html",
    "home_other.html",
    "training_list.html",
    "training_form.html",
    "training_record.html",
    "training_withdraw.html",
    "queue.html",
    "queue_training.html",
    "queue_training_check.html",
    "competencies.html",
    "competency.html",
    "signoff_decide.html",
    "signoff_check.html",
    "observation_form.html",
    "recovery.html",
    "checkin_form.html",
    "supervisee_checkin_form.html",
    "checkins.html",
    "plan.html",
    "plan_section.html",
    "pause_form.html",
    "recovery_data.html",
    "recovery_erase.html",
    "supervisee_recovery.html",
    "supervisees.html",
    "supervisee.html",
    "session_form.html",
    "propose.html",
    "propose_check.html",
    "supervision.html",
    "account.html",
    "password_form.html",
    "emails_form.html",
);

/// The page templates, parsed once. They are constants of the binary like the strings they
/// are made from; `check` at start-up turns a template that does not parse into a refusal to
/// start rather than an error page later.
static PAGES: LazyLock<Result<Environment<'static>, String>> = LazyLock::new(|| {
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Chainable);
    // Text is escaped as HTML needs (& < > " '), leaving slashes alone so that paths read as
    // paths: minijinja's default also escapes `/`, which a page does not need.
    env.set_formatter(|out, state, value| match value.as_str() {
        Some(text) if !value.is_safe() && state.auto_escape() == AutoEscape::Html => {
            Ok(out.write_str(&escape_html(text))?)
        }
        _ => minijinja::escape_formatter(out, state, value),
    });
    for (name, source) in TEMPLATES {
        env.add_template(name, source)
            .map_err(|e| format!("page template {name}: {e}"))?;
    }
    Ok(env)
});

fn escape_html(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            other => out.push(other),
        }
    }
    out
}

pub fn check() -> Result<(), String> {
    PAGES.as_ref().map(|_| ()).map_err(Clone::clone)
}

/// Headers of every page: no inline script or style, no framing, no sniffing, the referrer
/// kept to this site, and nothing stored by a shared computer's browser or a proxy.
pub fn secure_headers(builder: &mut HttpResponseBuilder) -> &mut HttpResponseBuilder {
    builder
        .insert_header((
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ))
        .insert_header((header::X_CONTENT_TYPE_OPTIONS, "nosniff"))
        .insert_header((header::REFERRER_POLICY, "same-origin"))
        .insert_header((header::X_FRAME_OPTIONS, "DENY"))
        .insert_header((header::CACHE_CONTROL, "no-store"))
}

/// A link in the header's navigation.
#[derive(Serialize)]
struct NavItem {
    href: &'static str,
    label: &'static str,
    current: bool,
}

fn nav(role: Role, path: &str) -> Vec<NavItem> {
    let items: &[(&'static str, &'static str)] = match role {
        Role::PeerWorker => &[
            ("/", "Your pathway"),
            ("/training", "Training"),
            ("/competencies", "Competencies"),
            ("/supervision", "Supervision"),
            ("/recovery", "Recovery support"),
            ("/account", "Account"),
        ],
        Role::Supervisor => &[
            ("/", "Home"),
            ("/queue", "Queue"),
            ("/supervisees", "Supervisees"),
            ("/account", "Account"),
        ],
        Role::ProgrammeManager | Role::Admin => &[("/", "Home"), ("/account", "Account")],
    };
    items
        .iter()
        .map(|(href, label)| NavItem {
            href,
            label,
            current: if *href == "/" {
                path == "/"
            } else {
                path.starts_with(href)
            },
        })
        .collect()
}

/// One field's problem, for the error summary and the message beside the field.
#[derive(Clone, Debug, Serialize)]
pub struct FieldProblem {
    pub field: String,
    pub message: String,
}

/// The problems of a form, in the order of its fields.
#[derive(Clone, Debug, Default)]
pub struct FormErrors(pub Vec<FieldProblem>);

impl FormErrors {
    pub fn add(&mut self, field: &str, message: impl Into<String>) {
        if !self.0.iter().any(|p| p.field == field) {
            self.0.push(FieldProblem {
                field: field.to_string(),
                message: message.into(),
            });
        }
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// A domain refusal in the form's words: each field's label (from `labels`, in the form's
    /// order) and what the domain says of it, "Hours must be more than 0". A field the form
    /// does not show goes first, under the form's first field.
    pub fn from_domain(errors: &FieldErrors, labels: &[(&str, &str)]) -> Self {
        let mut out = Self::default();
        for (field, label) in labels {
            if let Some(messages) = errors.get(*field) {
                out.add(field, format!("{label} {}", messages.join(", ")));
            }
        }
        for (field, messages) in errors {
            if !labels.iter().any(|(f, _)| f == field) {
                let target = labels.first().map_or(field.as_str(), |(f, _)| f);
                out.0.insert(
                    0,
                    FieldProblem {
                        field: target.to_string(),
                        message: messages.join(", "),
                    },
                );
            }
        }
        out
    }
}

/// What the layout needs besides the page's own values.
pub struct Frame<'a> {
    pub session: Option<&'a WebSession>,
    /// The CSRF token of the page's forms (the session's, or the signed-out visitor's).
    pub csrf_token: &'a str,
    pub path: &'a str,
}

/// A page about to be rendered.
pub struct View {
    pub template: &'static str,
    pub title: String,
    pub status: StatusCode,
    pub values: Value,
    pub errors: FormErrors,
    pub back: Option<(String, String)>,
    pub notice: Option<String>,
}

impl View {
    pub fn new(template: &'static str, title: impl Into<String>, values: Value) -> Self {
        Self {
            template,
            title: title.into(),
            status: StatusCode::OK,
            values,
            errors: FormErrors::default(),
            back: None,
            notice: None,
        }
    }

    /// A form shown again with what is wrong: 422, the summary and the messages. Without
    /// errors the page is the form as first shown.
    pub fn with_errors(mut self, errors: FormErrors) -> Self {
        if !errors.is_empty() {
            self.status = StatusCode::UNPROCESSABLE_ENTITY;
            self.errors = errors;
        }
        self
    }

    pub fn back(mut self, href: impl Into<String>, label: impl Into<String>) -> Self {
        self.back = Some((href.into(), label.into()));
        self
    }

    pub fn notice(mut self, notice: Option<String>) -> Self {
        self.notice = notice;
        self
    }

    pub fn status(mut self, status: StatusCode) -> Self {
        self.status = status;
        self
    }

    pub fn render(self, frame: &Frame<'_>) -> HttpResponse {
        let env = match PAGES.as_ref() {
            Ok(env) => env,
            Err(e) => return fallback(e),
        };
        let user = frame
            .session
            .map(|s| context! { name => s.display_name, role => s.actor.role.as_str() });
        let field_errors: std::collections::BTreeMap<&str, &str> = self
            .errors
            .0
            .iter()
            .map(|p| (p.field.as_str(), p.message.as_str()))
            .collect();
        let ctx = context! {
            title => self.title,
            stylesheet => assets::STYLESHEET_PATH.as_str(),
            user => user,
            nav => frame.session.map(|s| nav(s.actor.role, frame.path)),
            csrf_token => frame.csrf_token,
            back => self.back.map(|(href, label)| context! { href, label }),
            notice => self.notice,
            errors => self.errors.0,
            fe => field_errors,
            ..self.values
        };
        match env.get_template(self.template).and_then(|t| t.render(ctx)) {
            Ok(html) => secure_headers(&mut HttpResponse::build(self.status))
                .content_type("text/html; charset=utf-8")
                .body(html),
            Err(e) => fallback(&format!("rendering {}: {e:#}", self.template)),
        }
    }
}

/// What answers when a template itself fails: logged, and a page without the layout.
fn fallback(error: &str) -> HttpResponse {
    tracing::error!(error = %error, "a page could not be rendered");
    secure_headers(&mut HttpResponse::InternalServerError())
        .content_type("text/html; charset=utf-8")
        .body(
            "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Sorry, there \
             is a problem - peerpath</title></head><body><main><h1>Sorry, there is a problem \
             with the service</h1><p>Try again later.</p></main></body></html>",
        )
}

/// Post/Redirect/Get: after a form is handled, the browser is sent to a page to read.
pub fn see_other(location: &str) -> HttpResponse {
    let mut builder = HttpResponse::SeeOther();
    secure_headers(&mut builder);
    if let Ok(value) = HeaderValue::from_str(location) {
        builder.insert_header((header::LOCATION, value));
    }
    builder.finish()
}
