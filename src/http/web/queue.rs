//! The supervisor's queue and the training decision: verify, or reject with a reason, after
//! checking the answer (the worker will read it).

use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{get, post};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::errors::PageResult;
use super::lookup;
use super::render::{FormErrors, View, see_other};
use super::session::{SignedIn, SignedInForm};
use super::training::record_view;
use crate::error::AppError;
use crate::explain::{day, plural};
use crate::state::AppState;
use crate::supervisor_queue;
use crate::training::records;

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

#[derive(Serialize)]
struct Item {
    href: String,
    worker: String,
    what: String,
    since: String,
}

#[get("/queue")]
pub async fn queue(state: Data<AppState>, signed_in: SignedIn, query: Query<Done>) -> PageResult {
    let actor = &signed_in.session.actor;
    let queue = supervisor_queue::supervisor_queue(&state.db, actor).await?;
    let training: Vec<Item> = queue
        .unverified_training
        .iter()
        .map(|q| Item {
            href: format!("/queue/training/{}", q.record.id),
            worker: q.worker_name.clone(),
            what: format!("{} {}", q.record.module_code, q.record.module_title),
            since: day(q.record.created_at.date_naive()),
        })
        .collect();
    let signoffs: Vec<Item> = queue
        .signoff_requests
        .iter()
        .map(|q| Item {
            href: format!("/queue/signoffs/{}", q.signoff.id),
            worker: q.worker_name.clone(),
            what: format!(
                "{} {}",
                q.signoff.competency_code, q.signoff.competency_title
            ),
            since: day(q.signoff.created_at.date_naive()),
        })
        .collect();
    let notice = match query.done.as_deref() {
        Some("verified") => {
            Some("The training is verified. It now counts toward their pathway.".to_string())
        }
        Some("rejected") => Some(
            "The training is not accepted. We have emailed the worker your reason.".to_string(),
        ),
        Some("signed_off") => {
            Some("The competency is signed off. We have emailed the worker.".to_string())
        }
        Some("returned") => {
            Some("The request is returned. We have emailed the worker your reason.".to_string())
        }
        _ => None,
    };
    Ok(View::new(
        "queue.html",
        "Your queue",
        context! {
            training_count => plural(queue.counts.unverified_training, "training record", "training records"),
            signoff_count => plural(queue.counts.signoff_requests, "sign-off request", "sign-off requests"),
            training => training,
            signoffs => signoffs,
        },
    )
    .notice(notice)
    .render(&signed_in.frame()))
}

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DecisionForm {
    decision: String,
    reason: String,
}

async fn decision_view(
    state: &AppState,
    signed_in: &SignedIn,
    id: uuid::Uuid,
    form: &DecisionForm,
    errors: FormErrors,
) -> Result<View, AppError> {
    let actor = &signed_in.session.actor;
    let record = records::get_record(&state.db, actor, id).await?;
    let titles = lookup::module_titles(&lookup::modules(state, actor).await?);
    let names = lookup::people(state, actor, vec![record.worker_id.to_db()]).await?;
    let view = View::new(
        "queue_training.html",
        "Check this training",
        context! {
            record => record_view(&record, &titles),
            worker => names.get(&record.worker_id.to_db()),
            waiting => record.status == records::RecordStatus::Logged,
            form => form,
            decisions => vec![
                context! { value => "verify", label => "Yes, verify it" },
                context! { value => "reject", label => "No, do not accept it" },
            ],
        },
    )
    .back("/queue", "Back to your queue");
    Ok(view.with_errors(errors))
}

fn check_form(form: &DecisionForm) -> FormErrors {
    let mut errors = FormErrors::default();
    match form.decision.as_str() {
        "verify" => {}
        "reject" if form.reason.trim().is_empty() => errors.add(
            "reason",
            "Say why you do not accept it, so the worker knows what to do",
        ),
        "reject" => {}
        _ => errors.add("decision", "Choose whether you verify this training"),
    }
    errors
}

#[get("/queue/training/{id}")]
pub async fn training_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let view = decision_view(
        &state,
        &signed_in,
        *id,
        &DecisionForm::default(),
        FormErrors::default(),
    )
    .await?;
    Ok(view.render(&signed_in.frame()))
}

/// The decision, checked before it is made: the supervisor reads what the worker will see.
#[post("/queue/training/{id}")]
pub async fn training_check(
    state: Data<AppState>,
    posted: SignedInForm<DecisionForm>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let errors = check_form(&form);
    if !errors.is_empty() {
        let view = decision_view(&state, &signed_in, *id, &form, errors).await?;
        return Ok(view.render(&signed_in.frame()));
    }
    let actor = &signed_in.session.actor;
    let record = records::get_record(&state.db, actor, *id).await?;
    let titles = lookup::module_titles(&lookup::modules(&state, actor).await?);
    let names = lookup::people(&state, actor, vec![record.worker_id.to_db()]).await?;
    Ok(View::new(
        "queue_training_check.html",
        "Check your answer",
        context! {
            record => record_view(&record, &titles),
            worker => names.get(&record.worker_id.to_db()),
            form => form,
            verify => form.decision == "verify",
        },
    )
    .back(format!("/queue/training/{}", *id), "Back")
    .render(&signed_in.frame()))
}

#[post("/queue/training/{id}/confirm")]
pub async fn training_decide(
    state: Data<AppState>,
    posted: SignedInForm<DecisionForm>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let errors = check_form(&form);
    if !errors.is_empty() {
        let view = decision_view(&state, &signed_in, *id, &form, errors).await?;
        return Ok(view.render(&signed_in.frame()));
    }
    let rejection = (form.decision == "reject").then(|| form.reason.clone());
    let done = if rejection.is_some() {
        "rejected"
    } else {
        "verified"
    };
    match records::decide_record(
        &state.db,
        &state.notifications,
        &signed_in.session.actor,
        *id,
        rejection,
    )
    .await
    {
        Ok(_) => Ok(see_other(&format!("/queue?done={done}"))),
        Err(AppError::Validation(domain)) => {
            let errors = FormErrors::from_domain(&domain, &[("reason", "The reason")]);
            let view = decision_view(&state, &signed_in, *id, &form, errors).await?;
            Ok(view.render(&signed_in.frame()))
        }
        Err(other) => Err(other.into()),
    }
}
