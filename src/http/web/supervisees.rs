//! A supervisor's supervisees: each one's pathway, their supervision log, recording a
//! supervision session, proposing a progression (after checking the answer); and the
//! worker's side of supervision: confirming the sessions recorded for them.

use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{get, post};
use chrono::Utc;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::errors::PageResult;
use super::forms;
use super::home::pathway_view;
use super::lookup;
use super::render::{FormErrors, View, see_other};
use super::session::{SignedIn, SignedInForm};
use crate::access::authz;
use crate::db::workers::WorkerFilter;
use crate::error::AppError;
use crate::explain::{day, hours};
use crate::ids::UserId;
use crate::pagination::{MAX_LIMIT, Page};
use crate::pathway::{progressions, summary};
use crate::state::AppState;
use crate::workers::supervision::{self, SessionInput, SessionKind, SupervisionSession};
use crate::workers::{self};

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

#[get("/supervisees")]
pub async fn list(state: Data<AppState>, signed_in: SignedIn) -> PageResult {
    let actor = &signed_in.session.actor;
    authz::can_list_supervisees(actor)?;
    let page = Page::from_query(Some(MAX_LIMIT), None)?;
    let mine = workers::list_workers(&state.db, actor, WorkerFilter::default(), page)
        .await?
        .items;
    let names = lookup::people(&state, actor, mine.iter().map(|w| w.id.to_db()).collect()).await?;
    let mut rows = vec![];
    for w in &mine {
        let s = summary::summary(&state.db, actor, w.id).await?;
        let next = s.next_stage.as_ref().map(|n| {
            let unmet = n.requirements.iter().filter(|r| !r.met).count();
            if n.eligible {
                format!("Ready for {}", n.next_stage.name)
            } else {
                format!(
                    "{} more for {}",
                    crate::explain::plural(i64::try_from(unmet).unwrap_or(0), "thing", "things"),
                    n.next_stage.name
                )
            }
        });
        rows.push(context! {
            id => w.id.to_db(),
            name => names.get(&w.id.to_db()),
            stage => s.stage.as_ref().map(|st| st.name.clone()),
            next,
        });
    }
    Ok(
        View::new("supervisees.html", "Your supervisees", context! { rows })
            .render(&signed_in.frame()),
    )
}

fn session_view(s: &SupervisionSession) -> Value {
    context! {
        id => s.id,
        held_on => day(s.held_on),
        length => format!("{} hours", hours(i64::from(s.minutes))),
        kind => kind_words(s.kind),
        theme => s.theme,
        confirmed => s.confirmed_at.is_some(),
    }
}

fn kind_words(kind: SessionKind) -> &'static str {
    match kind {
        SessionKind::OneToOne => "One to one",
        SessionKind::Group => "Group",
        SessionKind::ReflectivePractice => "Reflective practice",
    }
}

#[get("/supervisees/{id}")]
pub async fn show(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<UserId>,
    query: Query<Done>,
) -> PageResult {
    let actor = &signed_in.session.actor;
    let s = summary::summary(&state.db, actor, *id).await?;
    let log = supervision::log(&state.db, actor, *id).await?;
    let names = lookup::people(&state, actor, vec![id.to_db()]).await?;
    let name = names.get(&id.to_db());
    let notice = match query.done.as_deref() {
        Some("session") => {
            Some("The supervision session is recorded. It counts once they confirm it.".to_string())
        }
        Some("proposed") => {
            Some("The progression is proposed. A programme manager will decide.".to_string())
        }
        _ => None,
    };
    Ok(View::new(
        "supervisee.html",
        name.clone(),
        context! {
            id => id.to_db(),
            name,
            pathway => pathway_view(&s),
            proposable => s.next_stage.is_some() && s.open_proposal.is_none(),
            totals => context! {
                confirmed => hours((log.totals.confirmed_hours * 60.0).round() as i64),
                reflective => hours((log.totals.reflective_practice_hours * 60.0).round() as i64),
                unconfirmed => log.totals.unconfirmed_sessions,
            },
            sessions => log.sessions.iter().rev().take(10).map(session_view).collect::<Vec<_>>(),
        },
    )
    .back("/supervisees", "Back to your supervisees")
    .notice(notice)
    .render(&signed_in.frame()))
}

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SessionForm {
    held_on: String,
    minutes: String,
    kind: String,
    theme: String,
}

fn session_form(id: UserId, name: &str, form: &SessionForm, errors: FormErrors) -> View {
    let kinds: Vec<Value> = [
        SessionKind::OneToOne,
        SessionKind::Group,
        SessionKind::ReflectivePractice,
    ]
    .iter()
    .map(|k| context! { value => k.as_str(), label => kind_words(*k) })
    .collect();
    let view = View::new(
        "session_form.html",
        "Record a supervision session",
        context! { name, form, kinds, action => format!("/supervisees/{id}/supervision/new") },
    )
    .back(format!("/supervisees/{id}"), "Back");
    view.with_errors(errors)
}

#[get("/supervisees/{id}/supervision/new")]
pub async fn session_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<UserId>,
) -> PageResult {
    let names = lookup::people(&state, &signed_in.session.actor, vec![id.to_db()]).await?;
    let form = SessionForm {
        held_on: Utc::now().date_naive().to_string(),
        minutes: "60".into(),
        ..SessionForm::default()
    };
    Ok(
        session_form(*id, &names.get(&id.to_db()), &form, FormErrors::default())
            .render(&signed_in.frame()),
    )
}

#[post("/supervisees/{id}/supervision/new")]
pub async fn record_session(
    state: Data<AppState>,
    posted: SignedInForm<SessionForm>,
    id: Path<UserId>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let actor = &signed_in.session.actor;
    let mut errors = FormErrors::default();
    let held_on = forms::day(
        &form.held_on,
        "held_on",
        "the day of the session",
        &mut errors,
    );
    let minutes = form.minutes.trim().parse::<i32>().ok();
    if minutes.is_none() {
        errors.add(
            "minutes",
            "Enter how long it was in minutes, for example 60",
        );
    }
    let kind = [
        SessionKind::OneToOne,
        SessionKind::Group,
        SessionKind::ReflectivePractice,
    ]
    .into_iter()
    .find(|k| k.as_str() == form.kind);
    if kind.is_none() {
        errors.add("kind", "Choose what kind of session it was");
    }
    if let (Some(held_on), Some(minutes), Some(kind)) = (held_on, minutes, kind)
        && errors.is_empty()
    {
        let input = SessionInput {
            held_on,
            minutes,
            kind,
            theme: Some(form.theme.clone()).filter(|t| !t.trim().is_empty()),
        };
        match supervision::record(&state.db, actor, *id, input).await {
            Ok(_) => return Ok(see_other(&format!("/supervisees/{}?done=session", *id))),
            Err(AppError::Validation(domain)) => {
                errors = FormErrors::from_domain(
                    &domain,
                    &[
                        ("held_on", "The day"),
                        ("minutes", "The length"),
                        ("theme", "The theme"),
                    ],
                );
            }
            Err(other) => return Err(other.into()),
        }
    }
    let names = lookup::people(&state, actor, vec![id.to_db()]).await?;
    Ok(session_form(*id, &names.get(&id.to_db()), &form, errors).render(&signed_in.frame()))
}

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct ProposalForm {
    rationale: String,
}

async fn proposal_view(
    state: &AppState,
    signed_in: &SignedIn,
    id: UserId,
    form: &ProposalForm,
    errors: FormErrors,
) -> Result<View, AppError> {
    let actor = &signed_in.session.actor;
    let s = summary::summary(&state.db, actor, id).await?;
    let names = lookup::people(state, actor, vec![id.to_db()]).await?;
    let view = View::new(
        "propose.html",
        "Propose a progression",
        context! { id => id.to_db(), name => names.get(&id.to_db()), pathway => pathway_view(&s), form },
    )
    .back(format!("/supervisees/{id}"), "Back");
    Ok(view.with_errors(errors))
}

#[get("/supervisees/{id}/propose")]
pub async fn propose_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<UserId>,
) -> PageResult {
    Ok(proposal_view(
        &state,
        &signed_in,
        *id,
        &ProposalForm::default(),
        FormErrors::default(),
    )
    .await?
    .render(&signed_in.frame()))
}

#[post("/supervisees/{id}/propose")]
pub async fn propose_check(
    state: Data<AppState>,
    posted: SignedInForm<ProposalForm>,
    id: Path<UserId>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let mut errors = FormErrors::default();
    forms::required(
        &form.rationale,
        "rationale",
        "Say why they are ready: the programme manager reads this",
        &mut errors,
    );
    if !errors.is_empty() {
        return Ok(proposal_view(&state, &signed_in, *id, &form, errors)
            .await?
            .render(&signed_in.frame()));
    }
    let actor = &signed_in.session.actor;
    let s = summary::summary(&state.db, actor, *id).await?;
    let names = lookup::people(&state, actor, vec![id.to_db()]).await?;
    Ok(View::new(
        "propose_check.html",
        "Check your answer",
        context! {
            id => id.to_db(),
            name => names.get(&id.to_db()),
            to => s.next_stage.as_ref().map(|n| n.next_stage.name.clone()),
            eligible => s.next_stage.as_ref().is_some_and(|n| n.eligible),
            form,
        },
    )
    .back(format!("/supervisees/{}/propose", *id), "Back")
    .render(&signed_in.frame()))
}

#[post("/supervisees/{id}/propose/confirm")]
pub async fn propose(
    state: Data<AppState>,
    posted: SignedInForm<ProposalForm>,
    id: Path<UserId>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    match progressions::propose(&state.db, &signed_in.session.actor, *id, &form.rationale).await {
        Ok(_) => Ok(see_other(&format!("/supervisees/{}?done=proposed", *id))),
        Err(AppError::Validation(domain)) => {
            let errors = FormErrors::from_domain(&domain, &[("rationale", "Your reason")]);
            Ok(proposal_view(&state, &signed_in, *id, &form, errors)
                .await?
                .render(&signed_in.frame()))
        }
        Err(other) => Err(other.into()),
    }
}

// ------------------------------------------------------------------ the worker's side

#[get("/supervision")]
pub async fn worker_sessions(
    state: Data<AppState>,
    signed_in: SignedIn,
    query: Query<Done>,
) -> PageResult {
    let actor = &signed_in.session.actor;
    let log = supervision::log(&state.db, actor, actor.user_id).await?;
    let supervisors = lookup::people(
        &state,
        actor,
        log.sessions
            .iter()
            .map(|s| s.supervisor_id.to_db())
            .collect(),
    )
    .await?;
    let sessions: Vec<Value> = log
        .sessions
        .iter()
        .rev()
        .map(|s| context! { with => supervisors.get(&s.supervisor_id.to_db()), ..session_view(s) })
        .collect();
    let notice = (query.done.as_deref() == Some("confirmed"))
        .then(|| "Thank you. The session now counts toward your pathway.".to_string());
    Ok(View::new(
        "supervision.html",
        "Your supervision",
        context! {
            confirmed => hours((log.totals.confirmed_hours * 60.0).round() as i64),
            reflective => hours((log.totals.reflective_practice_hours * 60.0).round() as i64),
            sessions,
        },
    )
    .notice(notice)
    .render(&signed_in.frame()))
}

#[derive(Default, Deserialize)]
pub struct NoFields {}

#[post("/supervision/{id}/confirm")]
pub async fn confirm(
    state: Data<AppState>,
    posted: SignedInForm<NoFields>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    supervision::confirm(&state.db, &posted.signed_in.session.actor, *id).await?;
    Ok(see_other("/supervision?done=confirmed"))
}
