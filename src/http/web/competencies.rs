//! Competencies: the framework with the worker's own status, asking for a sign-off with
//! evidence, each sign-off's history; for assessors, the sign-off decision (after checking
//! the answer) and recording observed practice.

use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{get, post};
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::errors::{PageError, PageResult};
use super::forms;
use super::lookup::{self, Names};
use super::render::{FormErrors, View, see_other};
use super::session::{SignedIn, SignedInForm};
use crate::competencies::framework::{self, Competency};
use crate::competencies::observations::{self, ObservationInput, Outcome};
use crate::competencies::signoffs::{self, Decision, Signoff, SignoffStatus};
use crate::error::AppError;
use crate::explain::{day, plural};
use crate::ids::UserId;
use crate::pagination::{MAX_LIMIT, Page};
use crate::state::AppState;

fn status_words(status: Option<SignoffStatus>) -> (&'static str, &'static str) {
    match status {
        Some(SignoffStatus::SignedOff) => ("Signed off", "done"),
        Some(SignoffStatus::Requested) => ("Waiting for a decision", "wait"),
        Some(SignoffStatus::Returned) => ("Returned to you", "todo"),
        Some(SignoffStatus::Revoked) => ("Sign-off withdrawn by a manager", "todo"),
        Some(SignoffStatus::Withdrawn) | None => ("Not started", "grey"),
    }
}

fn action_words(action: &str) -> &'static str {
    match action {
        "requested" => "Asked for a sign-off",
        "signed_off" => "Signed off",
        "returned" => "Returned",
        "withdrawn" => "Request withdrawn",
        "revoked" => "Sign-off revoked",
        _ => "Changed",
    }
}

/// A worker's sign-offs, newest first (a worker has at most a few per competency).
async fn signoffs_of(
    state: &AppState,
    signed_in: &SignedIn,
    worker: UserId,
) -> Result<Vec<Signoff>, AppError> {
    let page = Page::from_query(Some(MAX_LIMIT), None)?;
    let mut all = signoffs::list(&state.db, &signed_in.session.actor, worker, None, page)
        .await?
        .items;
    all.sort_by_key(|s| std::cmp::Reverse(s.created_at));
    Ok(all)
}

/// The observed practices that count: competent ones.
fn competent(seen: &[observations::Observation], competency: &str) -> i64 {
    let n = seen
        .iter()
        .filter(|o| {
            o.competency_id == competency
                && o.outcome == Outcome::Competent
                && o.superseded_at.is_none()
        })
        .count();
    i64::try_from(n).unwrap_or(i64::MAX)
}

fn observation_words(done: i64, needed: i32) -> Option<String> {
    (needed > 0).then(|| {
        let needed = i64::from(needed);
        if done >= needed {
            format!("{done} of {needed} observed practices recorded: enough for a sign-off")
        } else {
            format!(
                "{done} of {needed} observed practices recorded: {} more needed before a sign-off",
                needed - done
            )
        }
    })
}

#[derive(Serialize)]
struct Row {
    id: String,
    code: String,
    title: String,
    tag: &'static str,
    tag_kind: &'static str,
    observations: Option<String>,
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

#[get("/competencies")]
pub async fn list(state: Data<AppState>, signed_in: SignedIn) -> PageResult {
    let actor = &signed_in.session.actor;
    let framework = lookup::competencies(&state, actor).await?;
    let mine = signoffs_of(&state, &signed_in, actor.user_id).await?;
    let seen = observations::list(&state.db, actor, actor.user_id, None).await?;
    let mut domains: Vec<(String, Vec<Row>)> = vec![];
    for c in framework.iter().filter(|c| c.active) {
        let status = mine
            .iter()
            .find(|s| s.competency_id == c.id)
            .map(|s| s.status);
        let (tag, tag_kind) = status_words(status);
        let row = Row {
            id: c.id.clone(),
            code: c.code.clone(),
            title: c.title.clone(),
            tag,
            tag_kind,
            observations: observation_words(competent(&seen, &c.id), c.observations_required),
        };
        match domains.iter_mut().find(|(d, _)| *d == c.domain) {
            Some((_, rows)) => rows.push(row),
            None => domains.push((c.domain.clone(), vec![row])),
        }
    }
    let domains: Vec<Value> = domains
        .into_iter()
        .map(|(name, rows)| context! { name, rows })
        .collect();
    Ok(View::new(
        "competencies.html",
        "Your competencies",
        context! { domains },
    )
    .render(&signed_in.frame()))
}

fn history(s: &Signoff, names: &Names) -> Vec<Value> {
    s.history
        .iter()
        .map(|e| {
            context! {
                what => action_words(&e.action),
                who => names.get(&e.actor_id.to_db()),
                when => day(e.at.date_naive()),
                note => e.note,
            }
        })
        .collect()
}

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct RequestForm {
    evidence: String,
}

async fn competency_view(
    state: &AppState,
    signed_in: &SignedIn,
    id: uuid::Uuid,
    form: &RequestForm,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<View, AppError> {
    let actor = &signed_in.session.actor;
    let competency = framework::get(&state.db, actor, id).await?;
    let mine: Vec<Signoff> = signoffs_of(state, signed_in, actor.user_id)
        .await?
        .into_iter()
        .filter(|s| s.competency_id == competency.id)
        .collect();
    let seen = observations::list(&state.db, actor, actor.user_id, Some(id)).await?;
    let people: Vec<String> = mine
        .iter()
        .flat_map(|s| s.history.iter().map(|e| e.actor_id.to_db()))
        .collect();
    let names = lookup::people(state, actor, people).await?;
    let current = mine.first().map(|s| s.status);
    let may_ask = !matches!(
        current,
        Some(SignoffStatus::Requested | SignoffStatus::SignedOff)
    );
    let (tag, tag_kind) = status_words(current);
    let view = View::new(
        "competency.html",
        competency.title.clone(),
        context! {
            competency => context! { code => competency.code, title => competency.title, domain => competency.domain, description => competency.description },
            tag, tag_kind,
            observations => observation_words(competent(&seen, &competency.id), competency.observations_required),
            signoffs => mine.iter().map(|s| context! { history => history(s, &names), reason => s.reason }).collect::<Vec<_>>(),
            may_ask,
            form,
            action => format!("/competencies/{id}"),
        },
    )
    .back("/competencies", "Back to your competencies")
    .notice(notice);
    Ok(view.with_errors(errors))
}

#[get("/competencies/{id}")]
pub async fn show(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<uuid::Uuid>,
    query: Query<Done>,
) -> PageResult {
    let notice = (query.done.as_deref() == Some("requested"))
        .then(|| "You have asked for a sign-off. We have told your supervisor.".to_string());
    let view = competency_view(
        &state,
        &signed_in,
        *id,
        &RequestForm::default(),
        FormErrors::default(),
        notice,
    )
    .await?;
    Ok(view.render(&signed_in.frame()))
}

#[post("/competencies/{id}")]
pub async fn request(
    state: Data<AppState>,
    posted: SignedInForm<RequestForm>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let actor = &signed_in.session.actor;
    let mut errors = FormErrors::default();
    forms::required(
        &form.evidence,
        "evidence",
        "Describe your evidence: what you did, and where your supervisor can see it",
        &mut errors,
    );
    if errors.is_empty() {
        match signoffs::request(
            &state.db,
            &state.notifications,
            actor,
            actor.user_id,
            *id,
            form.evidence.clone(),
        )
        .await
        {
            Ok(_) => return Ok(see_other(&format!("/competencies/{}?done=requested", *id))),
            Err(AppError::Validation(domain)) => {
                errors = FormErrors::from_domain(&domain, &[("evidence", "The evidence")])
            }
            Err(other) => return Err(other.into()),
        }
    }
    let view = competency_view(&state, &signed_in, *id, &form, errors, None).await?;
    Ok(view.render(&signed_in.frame()))
}

// ------------------------------------------------------------------ assessors

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct DecisionForm {
    decision: String,
    reason: String,
}

async fn load_decision(
    state: &AppState,
    signed_in: &SignedIn,
    id: uuid::Uuid,
) -> Result<(Signoff, Competency, i64, Names), AppError> {
    let actor = &signed_in.session.actor;
    let signoff = signoffs::get(&state.db, actor, id).await?;
    let cid = uuid::Uuid::parse_str(&signoff.competency_id)
        .map_err(|e| AppError::internal(e.to_string()))?;
    let competency = framework::get(&state.db, actor, cid).await?;
    let seen = observations::list(&state.db, actor, signoff.worker_id, Some(cid)).await?;
    let mut people: Vec<String> = signoff.history.iter().map(|e| e.actor_id.to_db()).collect();
    people.push(signoff.worker_id.to_db());
    let names = lookup::people(state, actor, people).await?;
    Ok((
        signoff,
        competency.clone(),
        competent(&seen, &competency.id),
        names,
    ))
}

async fn decision_view(
    state: &AppState,
    signed_in: &SignedIn,
    id: uuid::Uuid,
    form: &DecisionForm,
    errors: FormErrors,
    notice: Option<String>,
) -> Result<View, AppError> {
    let (signoff, competency, done, names) = load_decision(state, signed_in, id).await?;
    let needed = i64::from(competency.observations_required);
    let view = View::new(
        "signoff_decide.html",
        "Decide this sign-off",
        context! {
            id => signoff.id,
            worker => names.get(&signoff.worker_id.to_db()),
            competency => format!("{} {}", competency.code, competency.title),
            evidence => signoff.evidence,
            observations => observation_words(done, competency.observations_required),
            short => needed > done,
            record_href => format!("/workers/{}/observations/new?competency_id={}&signoff={}", signoff.worker_id, competency.id, signoff.id),
            waiting => signoff.status == SignoffStatus::Requested,
            history => history(&signoff, &names),
            form,
            decisions => vec![
                context! { value => "sign_off", label => "Yes, sign it off" },
                context! { value => "return", label => "No, return it with a reason" },
            ],
        },
    )
    .back("/queue", "Back to your queue")
    .notice(notice);
    Ok(view.with_errors(errors))
}

fn check_decision(form: &DecisionForm) -> FormErrors {
    let mut errors = FormErrors::default();
    match form.decision.as_str() {
        "sign_off" => {}
        "return" if form.reason.trim().is_empty() => errors.add(
            "reason",
            "Say why you return it, so the worker knows what to do next",
        ),
        "return" => {}
        _ => errors.add("decision", "Choose whether you sign this off"),
    }
    errors
}

#[get("/queue/signoffs/{id}")]
pub async fn decide_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<uuid::Uuid>,
    query: Query<Done>,
) -> PageResult {
    let notice = (query.done.as_deref() == Some("observed"))
        .then(|| "The observed practice is recorded.".to_string());
    Ok(decision_view(
        &state,
        &signed_in,
        *id,
        &DecisionForm::default(),
        FormErrors::default(),
        notice,
    )
    .await?
    .render(&signed_in.frame()))
}

#[post("/queue/signoffs/{id}")]
pub async fn decide_check(
    state: Data<AppState>,
    posted: SignedInForm<DecisionForm>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let errors = check_decision(&form);
    if !errors.is_empty() {
        return Ok(decision_view(&state, &signed_in, *id, &form, errors, None)
            .await?
            .render(&signed_in.frame()));
    }
    let (signoff, competency, _, names) = load_decision(&state, &signed_in, *id).await?;
    Ok(View::new(
        "signoff_check.html",
        "Check your answer",
        context! {
            id => signoff.id,
            worker => names.get(&signoff.worker_id.to_db()),
            competency => format!("{} {}", competency.code, competency.title),
            sign_off => form.decision == "sign_off",
            form,
        },
    )
    .back(format!("/queue/signoffs/{}", *id), "Back")
    .render(&signed_in.frame()))
}

#[post("/queue/signoffs/{id}/confirm")]
pub async fn decide(
    state: Data<AppState>,
    posted: SignedInForm<DecisionForm>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let mut errors = check_decision(&form);
    if errors.is_empty() {
        let decision = if form.decision == "sign_off" {
            Decision::SignOff(Some(form.reason.clone()))
        } else {
            Decision::Return(form.reason.clone())
        };
        match signoffs::decide(
            &state.db,
            &state.notifications,
            &signed_in.session.actor,
            *id,
            decision,
        )
        .await
        {
            Ok(s) => {
                let done = if s.status == SignoffStatus::SignedOff {
                    "signed_off"
                } else {
                    "returned"
                };
                return Ok(see_other(&format!("/queue?done={done}")));
            }
            // Too few observed practices: said on the decision page, with the number missing.
            Err(AppError::Validation(domain)) if domain.contains_key("observations") => {
                let (_, competency, done, _) = load_decision(&state, &signed_in, *id).await?;
                let missing = i64::from(competency.observations_required) - done;
                errors.add(
                    "decision",
                    format!(
                        "You need {} of this competency before you can sign it off",
                        plural(
                            missing.max(1),
                            "more observed practice",
                            "more observed practices"
                        )
                    ),
                );
            }
            Err(AppError::Validation(domain)) => {
                errors = FormErrors::from_domain(&domain, &[("reason", "The reason")]);
            }
            Err(other) => return Err(PageError::from(other)),
        }
    }
    Ok(decision_view(&state, &signed_in, *id, &form, errors, None)
        .await?
        .render(&signed_in.frame()))
}

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ObservationForm {
    competency_id: String,
    signoff: String,
    observed_on: String,
    outcome: String,
    note: String,
}

async fn observation_view(
    state: &AppState,
    signed_in: &SignedIn,
    worker: UserId,
    form: &ObservationForm,
    errors: FormErrors,
) -> Result<View, AppError> {
    let actor = &signed_in.session.actor;
    let names = lookup::people(state, actor, vec![worker.to_db()]).await?;
    let framework = lookup::competencies(state, actor).await?;
    let options: Vec<Value> = framework
        .iter()
        .filter(|c| c.active && c.observations_required > 0)
        .map(|c| context! { value => c.id, label => format!("{} {}", c.code, c.title) })
        .collect();
    let back = match uuid::Uuid::parse_str(&form.signoff) {
        Ok(s) => format!("/queue/signoffs/{s}"),
        Err(_) => "/queue".to_string(),
    };
    let view = View::new(
        "observation_form.html",
        "Record an observed practice",
        context! {
            worker => names.get(&worker.to_db()),
            action => format!("/workers/{worker}/observations/new"),
            competencies => options,
            outcomes => vec![
                context! { value => "competent", label => "Competent: done safely and well" },
                context! { value => "not_yet", label => "Not yet: needs more practice" },
            ],
            form,
        },
    )
    .back(back, "Back");
    Ok(view.with_errors(errors))
}

#[get("/workers/{worker}/observations/new")]
pub async fn observation_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    worker: Path<UserId>,
    query: Query<ObservationForm>,
) -> PageResult {
    let form = query.into_inner();
    Ok(
        observation_view(&state, &signed_in, *worker, &form, FormErrors::default())
            .await?
            .render(&signed_in.frame()),
    )
}

#[post("/workers/{worker}/observations/new")]
pub async fn record_observation(
    state: Data<AppState>,
    posted: SignedInForm<ObservationForm>,
    worker: Path<UserId>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let mut errors = FormErrors::default();
    let competency = forms::chosen(
        &form.competency_id,
        "competency_id",
        "the competency you observed",
        &mut errors,
    );
    let observed_on = forms::day(
        &form.observed_on,
        "observed_on",
        "the date you observed it",
        &mut errors,
    );
    let outcome = match form.outcome.as_str() {
        "competent" => Some(Outcome::Competent),
        "not_yet" => Some(Outcome::NotYet),
        _ => {
            errors.add("outcome", "Choose how it went");
            None
        }
    };
    if let (Some(competency_id), Some(observed_on), Some(outcome)) =
        (competency, observed_on, outcome)
        && errors.is_empty()
    {
        let input = ObservationInput {
            competency_id,
            observed_on,
            outcome,
            note: Some(form.note.clone()).filter(|n| !n.trim().is_empty()),
        };
        match observations::record(&state.db, &signed_in.session.actor, *worker, input).await {
            Ok(_) => {
                let next = match uuid::Uuid::parse_str(&form.signoff) {
                    Ok(s) => format!("/queue/signoffs/{s}?done=observed"),
                    Err(_) => "/queue?done=observed".to_string(),
                };
                return Ok(see_other(&next));
            }
            Err(AppError::Validation(domain)) => {
                errors = FormErrors::from_domain(
                    &domain,
                    &[
                        ("competency_id", "The competency"),
                        ("observed_on", "The date"),
                        ("note", "The note"),
                    ],
                );
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(observation_view(&state, &signed_in, *worker, &form, errors)
        .await?
        .render(&signed_in.frame()))
}
