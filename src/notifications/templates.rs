//! Email templates: one folder per kind under `templates/email` (subject, plain text, HTML),
//! compiled into the binary. A template gets only what it needs: names, titles, dates,
//! links. No health or recovery content is ever passed to one.

use minijinja::{AutoEscape, Environment};
use serde::Serialize;

use super::kinds::Kind;
use crate::error::{AppError, AppResult};

macro_rules! kind_templates {
    ($($kind:literal),* $(,)?) => {
        &[$(
            (concat!($kind, "/subject.txt"), include_str!(concat!("../../templates/email/", $kind, "/subject.txt"))),
            (concat!($kind, "/body.txt"), include_str!(concat!("../../templates/email/", $kind, "/body.txt"))),
            (concat!($kind, "/body.html"), include_str!(concat!("../../templates/email/", $kind, "/body.html"))),
        )*]
    };
}

const TEMPLATES: &[(&str, &str)] = kind_templates!(
    "invitation",
    "password_reset",
    "password_changed",
    "second_factor_reset",
    "network_joined",
    "signoff_requested",
    "signoff_decided",
    "training_rejected",
    "training_expiring",
    "signoffs_waiting",
    "progression_decided",
    "pay_step_at_risk",
    "contact_requested",
    "wellbeing_alert",
    "checkin_due",
    "checkin_missed",
    "digest",
);

const LAYOUTS: &[(&str, &str)] = &[
    (
        "layout.html",
        include_str!("../../templates/email/layout.html"),
    ),
    (
        "layout.txt",
        include_str!("../../templates/email/layout.txt"),
    ),
];

/// What every email's template receives, plus the kind's own values.
#[derive(Clone, Debug, Serialize)]
pub struct Context<T: Serialize> {
    pub recipient_name: String,
    /// What the greeting calls a person; absent for an address that is not a person's account.
    pub first_name: Option<String>,
    pub organisation_name: Option<String>,
    #[serde(flatten)]
    pub values: T,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rendered {
    pub subject: String,
    pub text: String,
    pub html: String,
}

pub struct Templates {
    env: Environment<'static>,
}

impl Templates {
    pub fn load() -> Result<Self, String> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
        for (name, source) in LAYOUTS.iter().chain(TEMPLATES) {
            env.add_template(name, source)
                .map_err(|e| format!("email template {name}: {e}"))?;
        }
        Ok(Self { env })
    }

    pub fn render<T: Serialize>(&self, kind: Kind, context: &Context<T>) -> AppResult<Rendered> {
        let render = |part: &str, extra: Option<&str>| -> AppResult<String> {
            let name = format!("{}/{part}", kind.as_str());
            let template = self
                .env
                .get_template(&name)
                .map_err(|e| AppError::internal(format!("email template {name}: {e}")))?;
            let value = match extra {
                Some(subject) => template.render(minijinja::context! { subject => subject, ..minijinja::Value::from_serialize(context) }),
                None => template.render(context),
            };
            value.map_err(|e| AppError::internal(format!("rendering {name}: {e}")))
        };
        let subject = render("subject.txt", None)?.trim().to_string();
        let text = render("body.txt", Some(&subject))?.trim().to_string() + "\n";
        let html = render("body.html", Some(&subject))?.trim().to_string() + "\n";
        Ok(Rendered {
            subject,
            text,
            html,
        })
    }
}
