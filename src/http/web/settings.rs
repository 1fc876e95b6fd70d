//! The person's own account: changing their password and choosing their emails.

use actix_web::web::Data;

use crate::http::extract::Query;
use actix_web::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::errors::PageResult;
use super::render::{FormErrors, View, see_other};
use super::session::{SignedIn, SignedInForm};
use crate::config::Secret;
use crate::error::AppError;
use crate::http::extract::ClientIp;
use crate::identity::sessions;
use crate::notifications::kinds::Kind;
use crate::notifications::preferences;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

#[get("/account")]
pub async fn account(signed_in: SignedIn, query: Query<Done>) -> PageResult {
    let notice = match query.done.as_deref() {
        Some("password") => Some("Your password is changed. You stay signed in here; everywhere else you are signed out.".to_string()),
        Some("emails") => Some("Your email choices are saved.".to_string()),
        Some("two-step-off") => Some(
            "Two-step verification is off: signing in takes your password only.".to_string(),
        ),
        _ => None,
    };
    let worker = crate::access::authz::keeps_recovery_data(signed_in.session.actor.role);
    Ok(
        View::new("account.html", "Your account", context! { worker })
            .notice(notice)
            .render(&signed_in.frame()),
    )
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct PasswordForm {
    current_password: String,
    new_password: String,
    confirm: String,
}

fn password_form(errors: FormErrors) -> View {
    let view = View::new("password_form.html", "Change your password", context! {})
        .back("/account", "Back to your account");
    view.with_errors(errors)
}

#[get("/account/password")]
pub async fn password_page(signed_in: SignedIn) -> PageResult {
    Ok(password_form(FormErrors::default()).render(&signed_in.frame()))
}

#[post("/account/password")]
pub async fn change_password(
    state: Data<AppState>,
    client: ClientIp,
    posted: SignedInForm<PasswordForm>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let mut errors = FormErrors::default();
    if form.current_password.is_empty() {
        errors.add("current_password", "Enter your current password");
    }
    if form.new_password.is_empty() {
        errors.add("new_password", "Enter a new password");
    } else if form.new_password != form.confirm {
        errors.add("confirm", "The two new passwords are not the same");
    }
    if errors.is_empty() {
        let result = sessions::change_password(
            &state.identity,
            &state.db,
            &state.notifications,
            &signed_in.session.actor,
            &Secret::new(form.current_password),
            &Secret::new(form.new_password),
            client.0,
        )
        .await;
        match result {
            Ok(()) => return Ok(see_other("/account?done=password")),
            Err(AppError::Validation(domain)) => {
                errors = FormErrors::from_domain(
                    &domain,
                    &[
                        ("current_password", "Your current password"),
                        ("new_password", "The new password"),
                    ],
                );
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(password_form(errors).render(&signed_in.frame()))
}

fn kind_words(kind: Kind) -> &'static str {
    match kind {
        Kind::SignoffRequested => "When a worker asks you for a sign-off",
        Kind::SignoffDecided => "When a sign-off you asked for is decided",
        Kind::TrainingRejected => "When training you logged is not accepted",
        Kind::TrainingExpiring => "When your training is about to run out",
        Kind::SignoffsWaiting => "When sign-off requests have been waiting a week",
        Kind::ProgressionDecided => "When a progression is decided",
        Kind::PayStepAtRisk => "When a pay step may be missed",
        Kind::CheckinDue => "When your next check-in is due",
        Kind::CheckinMissed => "When a supervisee misses a check-in",
        Kind::NetworkJoined => "When your organisation joins a network",
        Kind::Invitation
        | Kind::PasswordReset
        | Kind::PasswordChanged
        | Kind::SecondFactorReset
        | Kind::ContactRequested
        | Kind::WellbeingAlert
        | Kind::Digest => "Account and safety emails",
    }
}

#[derive(Serialize)]
struct KindRow {
    value: &'static str,
    label: &'static str,
    on: bool,
}

#[get("/account/emails")]
pub async fn emails_page(state: Data<AppState>, signed_in: SignedIn) -> PageResult {
    let prefs = preferences::get(&state.db, &signed_in.session.actor).await?;
    let kinds: Vec<KindRow> = prefs
        .kinds
        .iter()
        .filter(|k| k.can_mute)
        .map(|k| KindRow {
            value: k.kind.as_str(),
            label: kind_words(k.kind),
            on: !k.muted,
        })
        .collect();
    Ok(View::new(
        "emails_form.html",
        "Your emails",
        context! { kinds, digest => prefs.daily_digest, version => prefs.version },
    )
    .back("/account", "Back to your account")
    .render(&signed_in.frame()))
}

#[post("/account/emails")]
pub async fn save_emails(
    state: Data<AppState>,
    posted: SignedInForm<Vec<(String, String)>>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let actor = &signed_in.session.actor;
    let field = |name: &'static str| {
        form.iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    };
    let wanted: Vec<&str> = field("on").collect();
    let digest = field("digest").any(|v| v == "yes");
    let version = field("version")
        .next()
        .and_then(|v| v.parse::<i32>().ok())
        .unwrap_or(-1);
    let prefs = preferences::get(&state.db, actor).await?;
    let muted: Vec<Kind> = prefs
        .kinds
        .iter()
        .filter(|k| k.can_mute && !wanted.contains(&k.kind.as_str()))
        .map(|k| k.kind)
        .collect();
    match preferences::update(&state.db, actor, version, digest, muted).await {
        Ok(_) => Ok(see_other("/account?done=emails")),
        Err(AppError::PreconditionFailed) => Err(AppError::conflict(
            "Your email choices changed in another window since you opened this page.",
        )
        .into()),
        Err(other) => Err(other.into()),
    }
}
