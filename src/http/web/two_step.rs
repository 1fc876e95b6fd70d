//! Two-step verification from the account page: turn it on (anyone may; some roles must),
//! make new recovery codes, turn it off where the role allows.

use actix_web::http::header;
use actix_web::web::Data;
use actix_web::{HttpResponse, get, post};
use minijinja::context;
use serde::Deserialize;

use super::errors::PageResult;
use super::render::{FormErrors, View, see_other};
use super::session::{SignedIn, SignedInForm};
use crate::error::AppError;
use crate::identity::mfa;
use crate::state::AppState;

const PAGE: &str = "/account/two-step";

#[derive(Default, Deserialize)]
#[serde(default)]
pub struct CodeForm {
    code: String,
}

#[derive(Default, Deserialize)]
pub struct NoFields {}

async fn status_view(
    state: &AppState,
    signed_in: &SignedIn,
    errors: FormErrors,
) -> Result<View, AppError> {
    let status = mfa::status(&state.db, &state.identity, &signed_in.session.actor).await?;
    Ok(View::new(
        "two_step.html",
        "Two-step verification",
        context! {
            enabled => status.enabled,
            required => status.required,
            left => status.recovery_codes_left,
        },
    )
    .back("/account", "Back to your account")
    .with_errors(errors))
}

fn set_up_view(enrolment: &mfa::Enrolment, errors: FormErrors) -> View {
    View::new(
        "sign_in_set_up.html",
        "Set up two-step verification",
        context! {
            secret => enrolment.secret,
            qr => "/account/two-step/qr.svg",
            action => "/account/two-step/set-up",
            own_choice => true,
        },
    )
    .back(PAGE, "Back")
    .with_errors(errors)
}

/// A code refused by the service as a message beside the field; anything else as a page.
fn code_errors(error: AppError) -> Result<FormErrors, AppError> {
    match error {
        AppError::Validation(fields) if fields.contains_key("code") => {
            let mut errors = FormErrors::default();
            errors.add(
                "code",
                "The code is not right. Enter the newest code your app shows.",
            );
            Ok(errors)
        }
        other => Err(other),
    }
}

fn missing_code(code: &str) -> Option<FormErrors> {
    code.trim().is_empty().then(|| {
        let mut errors = FormErrors::default();
        errors.add("code", "Enter the code from your app");
        errors
    })
}

fn codes_page(signed_in: &SignedIn, codes: Vec<String>, first_time: bool) -> HttpResponse {
    View::new(
        "recovery_codes.html",
        "Save your recovery codes",
        context! { codes => codes, next => "/account", first_time => first_time },
    )
    .render(&signed_in.frame())
}

#[get("/account/two-step")]
pub async fn page(state: Data<AppState>, signed_in: SignedIn) -> PageResult {
    Ok(status_view(&state, &signed_in, FormErrors::default())
        .await?
        .render(&signed_in.frame()))
}

#[post("/account/two-step/start")]
pub async fn start(state: Data<AppState>, posted: SignedInForm<NoFields>) -> PageResult {
    mfa::start(
        &state.db,
        &state.sealing_keys,
        &posted.signed_in.session.actor,
    )
    .await?;
    Ok(see_other("/account/two-step/set-up"))
}

#[get("/account/two-step/set-up")]
pub async fn set_up_page(state: Data<AppState>, signed_in: SignedIn) -> PageResult {
    match mfa::own_enrolment(&state.db, &state.sealing_keys, &signed_in.session.actor).await {
        Ok(enrolment) => {
            Ok(set_up_view(&enrolment, FormErrors::default()).render(&signed_in.frame()))
        }
        // Nothing being set up (already on, or not started): the status page says which.
        Err(AppError::Conflict { .. }) => Ok(see_other(PAGE)),
        Err(e) => Err(e.into()),
    }
}

#[get("/account/two-step/qr.svg")]
pub async fn qr(state: Data<AppState>, signed_in: SignedIn) -> PageResult {
    let enrolment = mfa::own_enrolment(&state.db, &state.sealing_keys, &signed_in.session.actor)
        .await
        .map_err(|_| AppError::NotFound)?;
    Ok(HttpResponse::Ok()
        .content_type("image/svg+xml")
        .insert_header((header::CACHE_CONTROL, "no-store"))
        .body(enrolment.qr_svg))
}

#[post("/account/two-step/set-up")]
pub async fn set_up(state: Data<AppState>, posted: SignedInForm<CodeForm>) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    let actor = &signed_in.session.actor;
    let enrolment = match mfa::own_enrolment(&state.db, &state.sealing_keys, actor).await {
        Ok(e) => e,
        Err(AppError::Conflict { .. }) => return Ok(see_other(PAGE)),
        Err(e) => return Err(e.into()),
    };
    if let Some(errors) = missing_code(&form.code) {
        return Ok(set_up_view(&enrolment, errors).render(&signed_in.frame()));
    }
    match mfa::confirm(
        &state.db,
        &state.identity,
        &state.sealing_keys,
        actor,
        form.code,
    )
    .await
    {
        Ok(codes) => Ok(codes_page(&signed_in, codes.recovery_codes, true)),
        Err(e) => Ok(set_up_view(&enrolment, code_errors(e)?).render(&signed_in.frame())),
    }
}

#[post("/account/two-step/recovery-codes")]
pub async fn renew(state: Data<AppState>, posted: SignedInForm<CodeForm>) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    if let Some(errors) = missing_code(&form.code) {
        return Ok(status_view(&state, &signed_in, errors)
            .await?
            .render(&signed_in.frame()));
    }
    let actor = &signed_in.session.actor;
    match mfa::renew_recovery_codes(
        &state.db,
        &state.identity,
        &state.sealing_keys,
        actor,
        form.code,
    )
    .await
    {
        Ok(codes) => Ok(codes_page(&signed_in, codes.recovery_codes, false)),
        Err(e) => {
            let errors = code_errors(e)?;
            Ok(status_view(&state, &signed_in, errors)
                .await?
                .render(&signed_in.frame()))
        }
    }
}

#[get("/account/two-step/off")]
pub async fn off_page(signed_in: SignedIn) -> PageResult {
    Ok(off_view(FormErrors::default()).render(&signed_in.frame()))
}

fn off_view(errors: FormErrors) -> View {
    View::new(
        "two_step_off.html",
        "Turn off two-step verification",
        context! {},
    )
    .back(PAGE, "Back")
    .with_errors(errors)
}

#[post("/account/two-step/off")]
pub async fn turn_off(state: Data<AppState>, posted: SignedInForm<CodeForm>) -> PageResult {
    let SignedInForm { signed_in, form } = posted;
    if let Some(errors) = missing_code(&form.code) {
        return Ok(off_view(errors).render(&signed_in.frame()));
    }
    let actor = &signed_in.session.actor;
    match mfa::turn_off(
        &state.db,
        &state.identity,
        &state.sealing_keys,
        actor,
        form.code,
    )
    .await
    {
        Ok(()) => Ok(see_other("/account?done=two-step-off")),
        Err(e) => Ok(off_view(code_errors(e)?).render(&signed_in.frame())),
    }
}
