//! A peer worker's training: the list (expiring and expired marked), logging a completion,
//! correcting or withdrawing one while it waits to be checked.

use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{get, post};
use chrono::{Days, Utc};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::errors::PageResult;
use super::forms;
use super::lookup::{self, Names};
use super::render::{FormErrors, View, see_other};
use super::session::{SignedIn, SignedInForm};
use crate::error::AppError;
use crate::explain::{day, hours};
use crate::pagination::{MAX_LIMIT, Page};
use crate::state::AppState;
use crate::training::modules::Module;
use crate::training::records::{self, ListFilter, RecordInput, RecordStatus, TrainingRecord};

/// Training that runs out within this many days is marked as running out soon.
const SOON_DAYS: u64 = 30;

/// A record as people read it.
#[derive(Serialize)]
pub struct RecordView {
    pub id: String,
    pub module: String,
    pub completed_on: String,
    pub hours: String,
    pub provider: String,
    pub evidence: String,
    pub status: &'static str,
    pub tag: &'static str,
    pub tag_kind: &'static str,
    pub expiry: Option<String>,
    pub reason: Option<String>,
    pub editable: bool,
}

pub fn record_view(r: &TrainingRecord, titles: &Names) -> RecordView {
    let today = Utc::now().date_naive();
    let soon = today
        .checked_add_days(Days::new(SOON_DAYS))
        .unwrap_or(today);
    let (tag, tag_kind) = match r.status {
        RecordStatus::Logged => ("Waiting to be checked", "wait"),
        RecordStatus::Verified if r.expired => ("Expired", "todo"),
        RecordStatus::Verified if r.expires_on.is_some_and(|e| e <= soon) => {
            ("Runs out soon", "wait")
        }
        RecordStatus::Verified => ("Verified", "done"),
        RecordStatus::Rejected => ("Not accepted", "todo"),
        RecordStatus::Withdrawn => ("Withdrawn", "grey"),
    };
    let expiry = r.expires_on.map(|e| {
        if e < today {
            format!("Ran out on {}", day(e))
        } else {
            format!("In date until {}", day(e))
        }
    });
    RecordView {
        id: r.id.clone(),
        module: titles.get(&r.module_id),
        completed_on: day(r.completed_on),
        hours: hours((r.hours * 60.0).round() as i64),
        provider: r.provider.clone(),
        evidence: r.evidence.clone(),
        status: r.status.as_str(),
        tag,
        tag_kind,
        expiry,
        reason: r.decision_reason.clone(),
        editable: r.status == RecordStatus::Logged,
    }
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

fn done_notice(done: Option<&str>) -> Option<String> {
    match done? {
        "logged" => Some("Your training is logged. Your supervisor will check it.".into()),
        "corrected" => Some("Your training record is corrected.".into()),
        "withdrawn" => Some("Your training record is withdrawn.".into()),
        _ => None,
    }
}

#[get("/training")]
pub async fn list(state: Data<AppState>, signed_in: SignedIn, query: Query<Done>) -> PageResult {
    let actor = &signed_in.session.actor;
    let modules = lookup::modules(&state, &signed_in.session.actor).await?;
    let titles = lookup::module_titles(&modules);
    let page = Page::from_query(Some(MAX_LIMIT), None)?;
    let filter = ListFilter {
        status: None,
        expires_within_days: None,
        expired: None,
    };
    let records = records::list_records(&state.db, actor, actor.user_id, filter, page).await?;
    let views: Vec<RecordView> = records
        .items
        .iter()
        .filter(|r| r.status != RecordStatus::Withdrawn)
        .map(|r| record_view(r, &titles))
        .collect();
    let waiting: Vec<&RecordView> = views.iter().filter(|v| v.status == "logged").collect();
    let attention: Vec<&RecordView> = views
        .iter()
        .filter(|v| v.status != "logged" && v.tag_kind != "done")
        .collect();
    let fine: Vec<&RecordView> = views.iter().filter(|v| v.tag_kind == "done").collect();
    Ok(View::new(
        "training_list.html",
        "Your training",
        context! { waiting => waiting, attention => attention, fine => fine },
    )
    .notice(done_notice(query.done.as_deref()))
    .render(&signed_in.frame()))
}

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RecordForm {
    module_id: String,
    completed_on: String,
    hours: String,
    provider: String,
    evidence: String,
    version: String,
}

const LABELS: &[(&str, &str)] = &[
    ("module_id", "The module"),
    ("completed_on", "The date you finished it"),
    ("hours", "The hours"),
    ("provider", "Who ran it"),
    ("evidence", "The evidence"),
];

fn options(modules: &[Module]) -> Vec<minijinja::Value> {
    modules
        .iter()
        .filter(|m| m.active)
        .map(|m| context! { value => m.id, label => format!("{} {}", m.code, m.title) })
        .collect()
}

fn form_view(
    modules: &[Module],
    form: &RecordForm,
    action: String,
    editing: bool,
    errors: FormErrors,
) -> View {
    let title = if editing {
        "Correct your training record"
    } else {
        "Log training you have done"
    };
    let view = View::new(
        "training_form.html",
        title,
        context! {
            heading => title,
            modules => options(modules),
            form => form,
            action => action,
            editing => editing,
        },
    )
    .back("/training", "Back to your training");
    view.with_errors(errors)
}

fn read(form: &RecordForm) -> Result<RecordInput, FormErrors> {
    let mut errors = FormErrors::default();
    let module = forms::chosen(
        &form.module_id,
        "module_id",
        "the module you did",
        &mut errors,
    );
    let completed_on = forms::day(
        &form.completed_on,
        "completed_on",
        "the date you finished it",
        &mut errors,
    );
    let hours = forms::hours(&form.hours, "hours", &mut errors);
    forms::required(
        &form.provider,
        "provider",
        "Enter who ran the training",
        &mut errors,
    );
    match (module, completed_on, hours) {
        (Some(module_id), Some(completed_on), Some(hours)) if errors.is_empty() => {
            Ok(RecordInput {
                module_id,
                completed_on,
                hours,
                provider: form.provider.clone(),
                evidence: Some(form.evidence.clone()).filter(|e| !e.trim().is_empty()),
            })
        }
        _ => Err(errors),
    }
}

#[get("/training/new")]
pub async fn new_page(state: Data<AppState>, signed_in: SignedIn) -> PageResult {
    let modules = lookup::modules(&state, &signed_in.session.actor).await?;
    let form = RecordForm::default();
    Ok(form_view(
        &modules,
        &form,
        "/training/new".into(),
        false,
        FormErrors::default(),
    )
    .render(&signed_in.frame()))
}

#[post("/training/new")]
pub async fn create(state: Data<AppState>, posted: SignedInForm<RecordForm>) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let actor = &signed_in.session.actor;
    let input = match read(&form) {
        Ok(input) => input,
        Err(errors) => {
            let modules = lookup::modules(&state, &signed_in.session.actor).await?;
            return Ok(
                form_view(&modules, &form, "/training/new".into(), false, errors)
                    .render(&signed_in.frame()),
            );
        }
    };
    match records::log_training(&state.db, actor, actor.user_id, input).await {
        Ok(_) => Ok(see_other("/training?done=logged")),
        Err(AppError::Validation(domain)) => {
            let modules = lookup::modules(&state, &signed_in.session.actor).await?;
            let errors = FormErrors::from_domain(&domain, LABELS);
            Ok(
                form_view(&modules, &form, "/training/new".into(), false, errors)
                    .render(&signed_in.frame()),
            )
        }
        Err(other) => Err(other.into()),
    }
}

#[get("/training/{id}")]
pub async fn show(state: Data<AppState>, signed_in: SignedIn, id: Path<uuid::Uuid>) -> PageResult {
    let record = records::get_record(&state.db, &signed_in.session.actor, *id).await?;
    let modules = lookup::modules(&state, &signed_in.session.actor).await?;
    let view = record_view(&record, &lookup::module_titles(&modules));
    Ok(View::new(
        "training_record.html",
        view.module.clone(),
        context! { record => view, own => record.worker_id == signed_in.session.actor.user_id },
    )
    .back("/training", "Back to your training")
    .render(&signed_in.frame()))
}

#[get("/training/{id}/edit")]
pub async fn edit_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let record = records::get_record(&state.db, &signed_in.session.actor, *id).await?;
    let modules = lookup::modules(&state, &signed_in.session.actor).await?;
    let form = RecordForm {
        module_id: record.module_id.clone(),
        completed_on: record.completed_on.to_string(),
        hours: hours((record.hours * 60.0).round() as i64),
        provider: record.provider.clone(),
        evidence: record.evidence.clone(),
        version: record.version.to_string(),
    };
    Ok(form_view(
        &modules,
        &form,
        format!("/training/{}/edit", *id),
        true,
        FormErrors::default(),
    )
    .render(&signed_in.frame()))
}

#[post("/training/{id}/edit")]
pub async fn edit(
    state: Data<AppState>,
    posted: SignedInForm<RecordForm>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let action = format!("/training/{}/edit", *id);
    let version = form.version.parse::<i32>().unwrap_or(0);
    let input = match read(&form) {
        Ok(input) => input,
        Err(errors) => {
            let modules = lookup::modules(&state, &signed_in.session.actor).await?;
            return Ok(form_view(&modules, &form, action, true, errors).render(&signed_in.frame()));
        }
    };
    match records::correct_record(&state.db, &signed_in.session.actor, *id, version, input).await {
        Ok(_) => Ok(see_other("/training?done=corrected")),
        Err(AppError::Validation(domain)) => {
            let modules = lookup::modules(&state, &signed_in.session.actor).await?;
            let errors = FormErrors::from_domain(&domain, LABELS);
            Ok(form_view(&modules, &form, action, true, errors).render(&signed_in.frame()))
        }
        Err(AppError::PreconditionFailed) => {
            Err(AppError::conflict("The record changed while you were correcting it.").into())
        }
        Err(other) => Err(other.into()),
    }
}

#[get("/training/{id}/withdraw")]
pub async fn withdraw_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let record = records::get_record(&state.db, &signed_in.session.actor, *id).await?;
    let modules = lookup::modules(&state, &signed_in.session.actor).await?;
    let view = record_view(&record, &lookup::module_titles(&modules));
    Ok(View::new(
        "training_withdraw.html",
        "Withdraw this training record",
        context! { record => view },
    )
    .back(format!("/training/{}", *id), "Back")
    .render(&signed_in.frame()))
}

#[derive(Default, Deserialize)]
pub struct NoFields {}

#[post("/training/{id}/withdraw")]
pub async fn withdraw(
    state: Data<AppState>,
    posted: SignedInForm<NoFields>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    records::withdraw_record(&state.db, &posted.signed_in.session.actor, *id).await?;
    Ok(see_other("/training?done=withdrawn"))
}
