//! Recovery support, the worker's own: their plan section by section with a sharing choice
//! for each, check-ins (with "I'd like a call"), sharing of each check-in's text, breaks
//! that stop the clocks, and for their current supervisor what the worker shared. Like the
//! recovery module, this file is the only page code that names it.

use actix_web::http::header;
use actix_web::web::{Data, Path};

use crate::http::extract::Query;
use actix_web::{HttpResponse, get, post};
use chrono::Utc;
use minijinja::{Value, context};
use serde::{Deserialize, Serialize};

use super::errors::PageResult;
use super::forms;
use super::lookup;
use super::render::{FormErrors, View, see_other};
use super::session::{SignedIn, SignedInForm};
use crate::error::AppError;
use crate::explain::day;
use crate::ids::UserId;
use crate::recovery::checkins::{self, Checkin, CheckinInput, Risk};
use crate::recovery::data;
use crate::recovery::plan::{self, PlanSection, SECTIONS, Section};
use crate::state::AppState;
use crate::workers::pauses::{self, Category};

fn section_words(section: Section) -> (&'static str, &'static str) {
    match section {
        Section::WhenWell => (
            "What I am like when I am well",
            "How you look, feel and act when things are good.",
        ),
        Section::WellnessToolbox => (
            "My wellness toolbox",
            "Things that help you stay well or feel better.",
        ),
        Section::DailyMaintenance => ("My daily plan", "What you do every day to stay well."),
        Section::Triggers => (
            "Triggers",
            "Things that can upset you, and what you will do about them.",
        ),
        Section::EarlyWarningSigns => (
            "Early warning signs",
            "Small changes that tell you things are slipping, and what you will do.",
        ),
        Section::BreakingDown => (
            "When things are breaking down",
            "Signs that things are getting much worse, and what will help.",
        ),
        Section::CrisisPlan => (
            "My crisis plan",
            "What others should do if you cannot look after yourself.",
        ),
        Section::SupportContacts => ("People who support me", "Who to call and what they can do."),
    }
}

fn parse_section(slug: &str) -> Result<Section, AppError> {
    SECTIONS
        .iter()
        .copied()
        .find(|s| s.as_str() == slug)
        .ok_or(AppError::NotFound)
}

fn risk_words(risk: Risk) -> &'static str {
    match risk {
        Risk::None => "I am OK",
        Risk::Low => "A bit worried",
        Risk::Raised => "Struggling: I need support soon",
        Risk::Urgent => "In crisis: I need help now",
    }
}

const WELLBEING: &[&str] = &["1: very low", "2: low", "3: OK", "4: good", "5: very good"];

fn checked(value: &str) -> bool {
    value == "yes"
}

#[derive(Deserialize)]
pub struct Done {
    done: Option<String>,
}

// ------------------------------------------------------------------ overview

#[get("/recovery")]
pub async fn overview(
    state: Data<AppState>,
    signed_in: SignedIn,
    query: Query<Done>,
) -> PageResult {
    let actor = &signed_in.session.actor;
    let status = checkins::status(&state.db, actor, actor.user_id).await?;
    let open_pause = pauses::list(&state.db, actor, actor.user_id)
        .await?
        .into_iter()
        .find(|p| p.ended_on.is_none());
    let notice = match query.done.as_deref() {
        Some("checkin") => Some("Your check-in is saved.".to_string()),
        Some("call") => Some(
            "Your check-in is saved. We have told your supervisor you would like to talk."
                .to_string(),
        ),
        Some("paused") => Some(
            "Your break is recorded. Your pathway clock and check-in reminders are paused."
                .to_string(),
        ),
        Some("resumed") => Some("Welcome back. Your clocks are running again.".to_string()),
        Some("erased") => Some("Your recovery plan and check-ins are erased.".to_string()),
        _ => None,
    };
    Ok(View::new(
        "recovery.html",
        "Your recovery support",
        context! {
            last => status.last_held_on.map(day),
            next => status.next_due_on.map(day),
            overdue => status.overdue,
            paused => status.paused,
            every => status.every_days,
            agreed => status.agreed,
            pause => open_pause.map(|p| context! { id => p.id, since => day(p.starts_on) }),
        },
    )
    .notice(notice)
    .render(&signed_in.frame()))
}

// ------------------------------------------------------------------ check-ins

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct CheckinForm {
    held_on: String,
    with_supervisor: String,
    wellbeing: String,
    risk: String,
    call_requested: String,
    agreed_actions: String,
    actions_shared: String,
    notes: String,
    notes_shared: String,
}

/// The risk and wellbeing choices of a check-in form, the risks in the given words.
fn checkin_choices(words: fn(Risk) -> &'static str) -> (Vec<Value>, Vec<Value>) {
    let risks = [Risk::None, Risk::Low, Risk::Raised, Risk::Urgent]
        .iter()
        .map(|r| context! { value => r.as_str(), label => words(*r) })
        .collect();
    let scores = WELLBEING
        .iter()
        .enumerate()
        .map(|(i, label)| context! { value => (i + 1).to_string(), label => label })
        .collect();
    (risks, scores)
}

fn checkin_form(form: &CheckinForm, errors: FormErrors) -> View {
    let (risks, scores) = checkin_choices(risk_words);
    let view = View::new(
        "checkin_form.html",
        "Record a check-in",
        context! {
            form, risks, scores,
            together => vec![
                context! { value => "no", label => "On my own" },
                context! { value => "yes", label => "With my supervisor" },
            ],
        },
    )
    .back("/recovery", "Back to your recovery support");
    view.with_errors(errors)
}

#[get("/recovery/checkins/new")]
pub async fn checkin_page(signed_in: SignedIn) -> PageResult {
    let form = CheckinForm {
        held_on: Utc::now().date_naive().to_string(),
        with_supervisor: "no".into(),
        ..CheckinForm::default()
    };
    Ok(checkin_form(&form, FormErrors::default()).render(&signed_in.frame()))
}

/// Reads the check-in form; `they` words the errors for a supervisor writing about the worker.
fn read_checkin(form: &CheckinForm, they: bool) -> Result<CheckinInput, FormErrors> {
    let mut errors = FormErrors::default();
    let held_on = forms::day(
        &form.held_on,
        "held_on",
        "the day of the check-in",
        &mut errors,
    );
    let wellbeing = form
        .wellbeing
        .parse::<i32>()
        .ok()
        .filter(|w| (1..=5).contains(w));
    if wellbeing.is_none() {
        errors.add(
            "wellbeing",
            if they {
                "Choose how they are feeling, from 1 to 5"
            } else {
                "Choose how you are feeling, from 1 to 5"
            },
        );
    }
    let risk = [Risk::None, Risk::Low, Risk::Raised, Risk::Urgent]
        .into_iter()
        .find(|r| r.as_str() == form.risk);
    if risk.is_none() {
        errors.add("risk", "Choose how things are going");
    }
    match (held_on, wellbeing, risk) {
        (Some(held_on), Some(wellbeing), Some(risk)) if errors.is_empty() => Ok(CheckinInput {
            held_on,
            with_supervisor: checked(&form.with_supervisor),
            wellbeing,
            risk,
            call_requested: checked(&form.call_requested),
            agreed_actions: Some(form.agreed_actions.clone()).filter(|t| !t.trim().is_empty()),
            notes: Some(form.notes.clone()).filter(|t| !t.trim().is_empty()),
            actions_shared: checked(&form.actions_shared),
            notes_shared: checked(&form.notes_shared),
        }),
        _ => Err(errors),
    }
}

#[post("/recovery/checkins/new")]
pub async fn record_checkin(
    state: Data<AppState>,
    posted: SignedInForm<CheckinForm>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let actor = &signed_in.session.actor;
    let input = match read_checkin(&form, false) {
        Ok(input) => input,
        Err(errors) => return Ok(checkin_form(&form, errors).render(&signed_in.frame())),
    };
    let asks = input.call_requested || matches!(input.risk, Risk::Raised | Risk::Urgent);
    match checkins::record(
        &state.db,
        &state.sealing_keys,
        &state.notifications,
        actor,
        actor.user_id,
        input,
    )
    .await
    {
        Ok(_) => Ok(see_other(if asks {
            "/recovery?done=call"
        } else {
            "/recovery?done=checkin"
        })),
        Err(AppError::Validation(domain)) => {
            let errors = FormErrors::from_domain(
                &domain,
                &[
                    ("held_on", "The day"),
                    ("wellbeing", "How you feel"),
                    ("agreed_actions", "What you agreed"),
                    ("notes", "Your notes"),
                ],
            );
            Ok(checkin_form(&form, errors).render(&signed_in.frame()))
        }
        Err(other) => Err(other.into()),
    }
}

fn checkin_view(c: &Checkin, viewer: UserId) -> Value {
    context! {
        id => c.id,
        held_on => day(c.held_on),
        together => c.with_supervisor,
        by_supervisor => c.recorded_by != c.worker_id,
        by_viewer => c.recorded_by == viewer,
        wellbeing => WELLBEING.get(usize::try_from(c.wellbeing - 1).unwrap_or(0)).copied().unwrap_or(""),
        risk => risk_words(c.risk),
        call => c.call_requested,
        actions => c.agreed_actions,
        notes => c.notes,
        actions_shared => c.actions_shared,
        notes_shared => c.notes_shared,
    }
}

#[get("/recovery/checkins")]
pub async fn list_checkins(
    state: Data<AppState>,
    signed_in: SignedIn,
    query: Query<Done>,
) -> PageResult {
    let actor = &signed_in.session.actor;
    let list = checkins::list(&state.db, &state.sealing_keys, actor, actor.user_id).await?;
    let notice = (query.done.as_deref() == Some("shared"))
        .then(|| "Your sharing choice is saved.".to_string());
    Ok(View::new(
        "checkins.html",
        "Your check-ins",
        context! { checkins => list.iter().map(|c| checkin_view(c, actor.user_id)).collect::<Vec<_>>() },
    )
    .back("/recovery", "Back to your recovery support")
    .notice(notice)
    .render(&signed_in.frame()))
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct SharingForm {
    actions_shared: String,
    notes_shared: String,
}

#[post("/recovery/checkins/{id}/sharing")]
pub async fn share_checkin(
    state: Data<AppState>,
    posted: SignedInForm<SharingForm>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    checkins::share(
        &state.db,
        &state.sealing_keys,
        &signed_in.session.actor,
        *id,
        checked(&form.actions_shared),
        checked(&form.notes_shared),
    )
    .await?;
    Ok(see_other("/recovery/checkins?done=shared"))
}

// ------------------------------------------------------------------ the plan

#[get("/recovery/plan")]
pub async fn show_plan(
    state: Data<AppState>,
    signed_in: SignedIn,
    query: Query<Done>,
) -> PageResult {
    let actor = &signed_in.session.actor;
    let plan = plan::read(&state.db, &state.sealing_keys, actor, actor.user_id).await?;
    let sections: Vec<Value> = SECTIONS
        .iter()
        .map(|s| {
            let (title, _) = section_words(*s);
            let saved = plan.sections.iter().find(|p| p.section == *s);
            context! {
                slug => s.as_str(), title,
                text => saved.map(|p| p.text.clone()),
                shared => saved.is_some_and(|p| p.shared),
            }
        })
        .collect();
    let notice =
        (query.done.as_deref() == Some("saved")).then(|| "Your plan is saved.".to_string());
    Ok(
        View::new("plan.html", "Your recovery plan", context! { sections })
            .back("/recovery", "Back to your recovery support")
            .notice(notice)
            .render(&signed_in.frame()),
    )
}

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct SectionForm {
    text: String,
    shared: String,
    version: String,
}

fn section_form(section: Section, form: &SectionForm, errors: FormErrors) -> View {
    let (title, hint) = section_words(section);
    let view = View::new(
        "plan_section.html",
        title,
        context! {
            title, hint, form,
            action => format!("/recovery/plan/{}", section.as_str()),
            choices => vec![
                context! { value => "no", label => "No, keep it to myself" },
                context! { value => "yes", label => "Yes, my supervisor may read it" },
            ],
        },
    )
    .back("/recovery/plan", "Back to your plan");
    view.with_errors(errors)
}

#[get("/recovery/plan/{section}")]
pub async fn section_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    section: Path<String>,
) -> PageResult {
    let section = parse_section(&section)?;
    let actor = &signed_in.session.actor;
    let plan = plan::read(&state.db, &state.sealing_keys, actor, actor.user_id).await?;
    let saved = plan.sections.iter().find(|p| p.section == section);
    let form = SectionForm {
        text: saved.map(|p| p.text.clone()).unwrap_or_default(),
        // A part not written yet has no choice made for it: radios are never chosen for people.
        shared: match saved {
            Some(p) if p.shared => "yes".into(),
            Some(_) => "no".into(),
            None => String::new(),
        },
        version: plan.version.to_string(),
    };
    Ok(section_form(section, &form, FormErrors::default()).render(&signed_in.frame()))
}

#[post("/recovery/plan/{section}")]
pub async fn save_section(
    state: Data<AppState>,
    posted: SignedInForm<SectionForm>,
    section: Path<String>,
) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let section = parse_section(&section)?;
    let actor = &signed_in.session.actor;
    if !matches!(form.shared.as_str(), "yes" | "no") {
        let mut errors = FormErrors::default();
        errors.add(
            "shared",
            "Choose whether your supervisor may read this part",
        );
        return Ok(section_form(section, &form, errors).render(&signed_in.frame()));
    }
    // The plan is saved whole: this section changed, the others as they are.
    let plan = plan::read(&state.db, &state.sealing_keys, actor, actor.user_id).await?;
    let expected = form.version.parse::<i32>().unwrap_or(-1);
    if expected != plan.version {
        return Err(AppError::conflict(
            "Your plan changed in another window since you opened this page.",
        )
        .into());
    }
    let mut sections: Vec<PlanSection> = plan
        .sections
        .into_iter()
        .filter(|p| p.section != section)
        .collect();
    if !form.text.trim().is_empty() {
        sections.push(PlanSection {
            section,
            text: form.text.clone(),
            shared: checked(&form.shared),
        });
    }
    match plan::write(
        &state.db,
        &state.sealing_keys,
        actor,
        actor.user_id,
        expected,
        sections,
    )
    .await
    {
        Ok(_) => Ok(see_other("/recovery/plan?done=saved")),
        Err(AppError::Validation(_)) => {
            let mut errors = FormErrors::default();
            errors.add("text", "This part is too long: shorten it and save again");
            Ok(section_form(section, &form, errors).render(&signed_in.frame()))
        }
        Err(AppError::PreconditionFailed) => Err(AppError::conflict(
            "Your plan changed in another window since you opened this page.",
        )
        .into()),
        Err(other) => Err(other.into()),
    }
}

// ------------------------------------------------------------------ breaks

#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct PauseForm {
    starts_on: String,
    planned_return_on: String,
    category: String,
}

fn pause_form(form: &PauseForm, errors: FormErrors) -> View {
    let view = View::new(
        "pause_form.html",
        "Take a break",
        context! {
            form,
            categories => vec![
                context! { value => "leave", label => "Leave" },
                context! { value => "return_to_work", label => "A return-to-work plan" },
                context! { value => "other", label => "Something else" },
            ],
        },
    )
    .back("/recovery", "Back to your recovery support");
    view.with_errors(errors)
}

#[get("/recovery/break")]
pub async fn pause_page(signed_in: SignedIn) -> PageResult {
    let form = PauseForm {
        starts_on: Utc::now().date_naive().to_string(),
        ..PauseForm::default()
    };
    Ok(pause_form(&form, FormErrors::default()).render(&signed_in.frame()))
}

#[post("/recovery/break")]
pub async fn start_pause(state: Data<AppState>, posted: SignedInForm<PauseForm>) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let actor = &signed_in.session.actor;
    let mut errors = FormErrors::default();
    let starts_on = forms::day(
        &form.starts_on,
        "starts_on",
        "the first day of your break",
        &mut errors,
    );
    let planned = if form.planned_return_on.trim().is_empty() {
        None
    } else {
        forms::day(
            &form.planned_return_on,
            "planned_return_on",
            "the day you plan to come back",
            &mut errors,
        )
    };
    let category = match form.category.as_str() {
        "leave" => Some(Category::Leave),
        "return_to_work" => Some(Category::ReturnToWork),
        "other" => Some(Category::Other),
        _ => {
            errors.add("category", "Choose what kind of break it is");
            None
        }
    };
    if let (Some(starts_on), Some(category)) = (starts_on, category)
        && errors.is_empty()
    {
        match pauses::start(
            &state.db,
            actor,
            actor.user_id,
            starts_on,
            planned,
            category,
        )
        .await
        {
            Ok(_) => return Ok(see_other("/recovery?done=paused")),
            Err(AppError::Validation(domain)) => {
                errors = FormErrors::from_domain(
                    &domain,
                    &[
                        ("starts_on", "The first day"),
                        ("planned_return_on", "The day you plan to come back"),
                    ],
                );
            }
            Err(other) => return Err(other.into()),
        }
    }
    Ok(pause_form(&form, errors).render(&signed_in.frame()))
}

#[derive(Default, Deserialize)]
pub struct NoFields {}

#[post("/recovery/break/{id}/end")]
pub async fn end_pause(
    state: Data<AppState>,
    posted: SignedInForm<NoFields>,
    id: Path<uuid::Uuid>,
) -> PageResult {
    let actor = &posted.signed_in.session.actor;
    pauses::end(
        &state.db,
        &state.notifications,
        actor,
        actor.user_id,
        *id,
        Utc::now().date_naive(),
    )
    .await?;
    Ok(see_other("/recovery?done=resumed"))
}

// ------------------------------------------------------------------ the worker's rights

#[get("/account/recovery-data")]
pub async fn data_page(state: Data<AppState>, signed_in: SignedIn) -> PageResult {
    let actor = &signed_in.session.actor;
    let reads = data::reads(&state.db, actor, actor.user_id).await?;
    let reads: Vec<Value> = reads
        .iter()
        .map(|r| context! {
            who => r.reader_name,
            role => match r.reader_role {
                crate::access::Role::PeerWorker => "you",
                crate::access::Role::Supervisor => "supervisor",
                crate::access::Role::ProgrammeManager => "programme manager",
                crate::access::Role::Admin => "admin",
            },
            what => match r.what.as_str() { "checkins" => "your check-ins", "export" => "a download of everything", _ => "your plan" },
            when => format!("{} at {}", day(r.at.date_naive()), r.at.format("%H:%M UTC")),
        })
        .collect();
    Ok(View::new(
        "recovery_data.html",
        "Your recovery data",
        context! { reads },
    )
    .back("/account", "Back to your account")
    .render(&signed_in.frame()))
}

/// The download: everything, as a JSON file (a person can open it, or take it elsewhere).
#[post("/account/recovery-data/download")]
pub async fn download(
    state: Data<AppState>,
    posted: SignedInForm<NoFields>,
) -> Result<HttpResponse, super::errors::PageError> {
    let actor = &posted.signed_in.session.actor;
    let export = data::export(&state.db, &state.sealing_keys, actor, actor.user_id).await?;
    let body = serde_json::to_vec_pretty(&export).map_err(|e| AppError::internal(e.to_string()))?;
    let mut response = HttpResponse::Ok();
    super::render::secure_headers(&mut response);
    Ok(response
        .content_type("application/json")
        .insert_header((
            header::CONTENT_DISPOSITION,
            "attachment; filename=\"my-recovery-data.json\"",
        ))
        .body(body))
}

#[get("/account/recovery-data/erase")]
pub async fn erase_page(signed_in: SignedIn) -> PageResult {
    Ok(View::new(
        "recovery_erase.html",
        "Erase your recovery data",
        context! {},
    )
    .back("/account/recovery-data", "Back")
    .render(&signed_in.frame()))
}

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct EraseForm {
    confirm: String,
}

#[post("/account/recovery-data/erase")]
pub async fn erase(state: Data<AppState>, posted: SignedInForm<EraseForm>) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    if form.confirm.trim().to_lowercase() != "erase" {
        let mut errors = FormErrors::default();
        errors.add("confirm", "Type the word erase to confirm");
        return Ok(View::new(
            "recovery_erase.html",
            "Erase your recovery data",
            context! {},
        )
        .with_errors(errors)
        .back("/account/recovery-data", "Back")
        .render(&signed_in.frame()));
    }
    let actor = &signed_in.session.actor;
    data::erase(&state.db, actor, actor.user_id).await?;
    Ok(see_other("/recovery?done=erased"))
}

// ------------------------------------------------------------------ the supervisor's view

#[get("/supervisees/{id}/recovery")]
pub async fn supervisee_recovery(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<UserId>,
    query: Query<Done>,
) -> PageResult {
    let actor = &signed_in.session.actor;
    let worker = *id;
    let status = checkins::status(&state.db, actor, worker).await?;
    let plan = plan::read(&state.db, &state.sealing_keys, actor, worker).await?;
    let list = checkins::list(&state.db, &state.sealing_keys, actor, worker).await?;
    let names = lookup::people(&state, actor, vec![worker.to_db()]).await?;
    let notice = (query.done.as_deref() == Some("checkin")).then(|| {
        format!(
            "The check-in is saved. {} can see it and choose what you may keep reading.",
            names.get(&worker.to_db())
        )
    });
    let sections: Vec<Value> = plan
        .sections
        .iter()
        .map(|p| context! { title => section_words(p.section).0, text => p.text })
        .collect();
    Ok(View::new(
        "supervisee_recovery.html",
        format!("Recovery support: {}", names.get(&worker.to_db())),
        context! {
            worker => names.get(&worker.to_db()),
            worker_id => worker.to_db(),
            last => status.last_held_on.map(day),
            next => status.next_due_on.map(day),
            overdue => status.overdue,
            paused => status.paused,
            sections,
            checkins => list.iter().map(|c| checkin_view(c, actor.user_id)).collect::<Vec<_>>(),
        },
    )
    .back(format!("/supervisees/{worker}"), "Back")
    .notice(notice)
    .render(&signed_in.frame()))
}

fn risk_words_about(risk: Risk) -> &'static str {
    match risk {
        Risk::None => "OK",
        Risk::Low => "A bit worried",
        Risk::Raised => "Struggling: needs support soon",
        Risk::Urgent => "In crisis: needs help now",
    }
}

/// The supervisor's form for a check-in held together: no "who was there" (both were) and no
/// call request (they are talking); the words start shared and the worker decides after.
fn together_form(worker: UserId, name: &str, form: &CheckinForm, errors: FormErrors) -> View {
    let (risks, scores) = checkin_choices(risk_words_about);
    View::new(
        "supervisee_checkin_form.html",
        format!("Record a check-in with {name}"),
        context! {
            name, form, risks, scores,
            action => format!("/supervisees/{worker}/checkins/new"),
        },
    )
    .back(format!("/supervisees/{worker}/recovery"), "Back")
    .with_errors(errors)
}

#[get("/supervisees/{id}/checkins/new")]
pub async fn together_page(
    state: Data<AppState>,
    signed_in: SignedIn,
    id: Path<UserId>,
) -> PageResult {
    let actor = &signed_in.session.actor;
    // Refuses anyone but the worker's current supervisor before showing the form.
    checkins::status(&state.db, actor, *id).await?;
    let names = lookup::people(&state, actor, vec![id.to_db()]).await?;
    let form = CheckinForm {
        held_on: Utc::now().date_naive().to_string(),
        ..CheckinForm::default()
    };
    Ok(
        together_form(*id, &names.get(&id.to_db()), &form, FormErrors::default())
            .render(&signed_in.frame()),
    )
}

#[post("/supervisees/{id}/checkins/new")]
pub async fn record_together(
    state: Data<AppState>,
    posted: SignedInForm<CheckinForm>,
    id: Path<UserId>,
) -> PageResult {
    let SignedInForm {
        signed_in,
        mut form,
    } = posted;
    let actor = &signed_in.session.actor;
    form.with_supervisor = "yes".into();
    form.call_requested = String::new();
    let errors = match read_checkin(&form, true) {
        Ok(input) => match checkins::record(
            &state.db,
            &state.sealing_keys,
            &state.notifications,
            actor,
            *id,
            input,
        )
        .await
        {
            Ok(_) => {
                return Ok(see_other(&format!(
                    "/supervisees/{}/recovery?done=checkin",
                    *id
                )));
            }
            Err(AppError::Validation(domain)) => FormErrors::from_domain(
                &domain,
                &[
                    ("held_on", "The day"),
                    ("wellbeing", "How they feel"),
                    ("agreed_actions", "What you agreed"),
                    ("notes", "Notes"),
                ],
            ),
            Err(other) => return Err(other.into()),
        },
        Err(errors) => errors,
    };
    let names = lookup::people(&state, actor, vec![id.to_db()]).await?;
    Ok(together_form(*id, &names.get(&id.to_db()), &form, errors).render(&signed_in.frame()))
}
