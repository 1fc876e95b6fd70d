//! The HTTP layer: one route table, the OpenAPI document generated from the handlers, and
//! the answers for what matches no route.

mod account;
mod audit;
mod auth;
mod competencies;
pub mod extract;
pub mod health;
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

use actix_web::http::Method;
use actix_web::web::{self, Data};
use actix_web::{HttpRequest, HttpResponse, ResponseError};
use utoipa::openapi::{OpenApi, PathItem};
use utoipa_actix_web::scope;
use utoipa_actix_web::service_config::ServiceConfig;

use crate::error::AppError;

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
                .service(pathways::start_pause)
                .service(pathways::end_pause)
                .service(pathways::list_pauses)
                .service(pathways::progression_report)
                .service(salary::create_band)
                .service(salary::list_bands)
                .service(salary::get_band)
                .service(salary::add_pay_table)
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
                .service(recovery::erase),
        );
}

/// Pages outside the API (not in the OpenAPI document).
pub fn pages(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(account::set_password_page)
        .service(account::submit_set_password_page)
        .service(account::reset_password_page)
        .service(account::submit_reset_password_page);
}

/// The paths and methods the API answers, from the OpenAPI document, to tell a wrong
/// method (405 with `Allow`) from an unknown path (404).
pub struct RouteTable(Vec<(Vec<String>, Vec<Method>)>);

impl RouteTable {
    pub fn from_document(doc: &OpenApi) -> Self {
        let routes = doc
            .paths
            .paths
            .iter()
            .map(|(path, item)| (segments(path), methods(item)))
            .collect();
        Self(routes)
    }

    fn allowed(&self, path: &str) -> Option<Vec<Method>> {
        let parts = segments(path);
        let mut allowed: Vec<Method> = self
            .0
            .iter()
            .filter(|(pattern, _)| {
                pattern.len() == parts.len()
                    && pattern
                        .iter()
                        .zip(&parts)
                        .all(|(p, s)| p.starts_with('{') || p == s)
            })
            .flat_map(|(_, m)| m.iter().cloned())
            .collect();
        allowed.dedup();
        (!allowed.is_empty()).then_some(allowed)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/')
        .split('/')
        .map(str::to_string)
        .collect()
}

fn methods(item: &PathItem) -> Vec<Method> {
    [
        (Method::GET, item.get.is_some()),
        (Method::POST, item.post.is_some()),
        (Method::PUT, item.put.is_some()),
        (Method::PATCH, item.patch.is_some()),
        (Method::DELETE, item.delete.is_some()),
    ]
    .into_iter()
    .filter_map(|(m, present)| present.then_some(m))
    .collect()
}

/// What answers when no route matched: 405 when the path exists for other methods.
pub async fn fallback(req: HttpRequest, table: Data<RouteTable>) -> HttpResponse {
    let error = match table.allowed(req.path()) {
        Some(allowed) if !allowed.contains(req.method()) => AppError::MethodNotAllowed {
            allow: allowed
                .iter()
                .map(Method::as_str)
                .collect::<Vec<_>>()
                .join(", "),
        },
        _ => AppError::NotFound,
    };
    error.error_response()
}

/// Malformed path parameters (an id that is not a UUID) name no resource.
pub fn path_config() -> web::PathConfig {
    web::PathConfig::default().error_handler(|_, _| AppError::NotFound.into())
}

pub fn query_config() -> web::QueryConfig {
    web::QueryConfig::default().error_handler(|err, _| {
        AppError::bad_request(format!("The query string is not valid: {err}")).into()
    })
}
