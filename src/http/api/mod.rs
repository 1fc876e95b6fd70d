//! The JSON face: handlers under `/api/v1`, their OpenAPI annotations, and the document.

pub mod account;
mod audit;
mod auth;
mod competencies;
pub mod health;
mod mfa;
mod networks;
mod notifications;
pub mod openapi;
mod organisations;
mod pathways;
mod recovery;
mod respond;
mod salary;
mod training;
mod users;
mod workers;

use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

pub use openapi::{add_common_responses, base_document};

pub const API_PREFIX: &str = "/api/v1";
pub const OPENAPI_PATH: &str = "/api/v1/openapi.json";

/// Every API route. Registered with `service` so each one is in the OpenAPI document.
pub fn routes(cfg: &mut ServiceConfig) {
    cfg.service(health::live)
        .service(health::ready)
        .service(health::metrics)
        .service(
            scope(API_PREFIX)
                .service(auth::login)
                .service(auth::refresh_tokens)
                .service(auth::logout)
                .service(auth::change_password)
                .service(auth::second_step)
                .service(mfa::get_status)
                .service(mfa::start)
                .service(mfa::confirm)
                .service(mfa::renew_recovery_codes)
                .service(mfa::turn_off)
                .service(mfa::reset)
                .service(account::request_password_reset)
                .service(account::set_password)
                .service(users::get_me)
                .service(users::create_user)
                .service(users::list_users)
                .service(users::get_user)
                .service(users::update_user)
                .service(organisations::create_organisation)
                .service(organisations::list_organisations)
                .service(organisations::get_organisation)
                .service(organisations::update_organisation)
                .service(organisations::get_settings)
                .service(organisations::update_settings)
                .service(networks::create_network)
                .service(networks::list_networks)
                .service(networks::get_network)
                .service(networks::update_network)
                .service(networks::add_network_member)
                .service(networks::remove_network_member)
                .service(audit::list_audit_events)
                .service(notifications::get_preferences)
                .service(notifications::update_preferences)
                .service(notifications::list_notifications)
                .service(notifications::retry_notification)
                .service(workers::create_worker)
                .service(workers::list_workers)
                .service(workers::get_worker)
                .service(workers::update_worker)
                .service(workers::list_supervisor_history)
                .service(workers::create_supervision_session)
                .service(workers::list_supervision_sessions)
                .service(workers::confirm_supervision_session)
                .service(training::create_module)
                .service(training::list_modules)
                .service(training::get_module)
                .service(training::update_module)
                .service(training::delete_module)
                .service(training::create_training_record)
                .service(training::list_training_records)
                .service(training::get_training_record)
                .service(training::correct_training_record)
                .service(training::withdraw_training_record)
                .service(training::verify_training_record)
                .service(training::reject_training_record)
                .service(competencies::create_competency)
                .service(competencies::list_competencies)
                .service(competencies::get_competency)
                .service(competencies::update_competency)
                .service(competencies::delete_competency)
                .service(competencies::add_assessor)
                .service(competencies::remove_assessor)
                .service(competencies::request_signoff)
                .service(competencies::list_signoffs)
                .service(competencies::get_signoff)
                .service(competencies::sign_off)
                .service(competencies::return_signoff)
                .service(competencies::withdraw_signoff)
                .service(competencies::revoke_signoff)
                .service(competencies::create_observation)
                .service(competencies::list_observations)
                .service(competencies::get_supervisor_queue)
                .service(pathways::create_pathway)
                .service(pathways::list_pathways)
                .service(pathways::get_pathway)
                .service(pathways::update_pathway)
                .service(pathways::add_stage)
                .service(pathways::update_stage)
                .service(pathways::place_worker)
                .service(pathways::stage_history)
                .service(pathways::get_pathway_summary)
                .service(pathways::propose_progression)
                .service(pathways::list_worker_progressions)
                .service(pathways::list_progressions)
                .service(pathways::get_progression)
                .service(pathways::approve_progression)
                .service(pathways::decline_progression)
                .service(pathways::withdraw_progression)
                .service(pathways::start_pause)
                .service(pathways::end_pause)
                .service(pathways::list_pauses)
                .service(pathways::progression_report)
                .service(salary::create_band)
                .service(salary::list_bands)
                .service(salary::get_band)
                .service(salary::add_pay_table)
                .service(salary::preview_correction)
                .service(salary::correct_pay_table)
                .service(salary::salary_history)
                .service(salary::assign_salary)
                .service(salary::record_appraisal)
                .service(salary::list_appraisals)
                .service(salary::list_pay_steps)
                .service(recovery::get_plan)
                .service(recovery::put_plan)
                .service(recovery::create_checkin)
                .service(recovery::list_checkins)
                .service(recovery::share_checkin)
                .service(recovery::set_cadence)
                .service(recovery::checkin_status)
                .service(recovery::checkin_counts)
                .service(recovery::export)
                .service(recovery::list_reads)
                .service(recovery::erase),
        );
}

/// Answers a list read whole as a page of it (`{items, next_cursor}`, as every list answers).
pub(crate) fn page_of<T: serde::Serialize>(
    limit: Option<i64>,
    cursor: Option<&str>,
    items: Vec<T>,
    id_of: impl Fn(&T) -> String,
) -> crate::error::AppResult<actix_web::HttpResponse> {
    let page = crate::pagination::Page::from_query(limit, cursor)?;
    Ok(actix_web::HttpResponse::Ok().json(page.slice(items, id_of)?))
}
