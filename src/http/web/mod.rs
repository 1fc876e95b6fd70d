//! The pages: server-rendered HTML over the same domain services as the API, signed in with
//! a cookie session, every form protected against cross-site posts. Each handler reads the
//! session, calls a service, and renders one template; refusals become error pages.

mod account;
pub mod assets;
mod competencies;
mod errors;
mod forms;
mod home;
mod lookup;
mod queue;
pub mod render;
pub mod session;
mod signin;
mod training;

pub use errors::{PageError, not_found_page};

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(assets::asset)
        .service(assets::favicon)
        .service(home::home)
        .service(signin::sign_in_page)
        .service(signin::sign_in)
        .service(signin::sign_out)
        .service(account::set_password_page)
        .service(account::set_password)
        .service(account::reset_password_page)
        .service(account::reset_password)
        .service(training::list)
        .service(training::new_page)
        .service(training::create)
        .service(training::show)
        .service(training::edit_page)
        .service(training::edit)
        .service(training::withdraw_page)
        .service(training::withdraw)
        .service(queue::queue)
        .service(queue::training_page)
        .service(queue::training_check)
        .service(queue::training_decide)
        .service(competencies::list)
        .service(competencies::show)
        .service(competencies::request)
        .service(competencies::decide_page)
        .service(competencies::decide_check)
        .service(competencies::decide)
        .service(competencies::observation_page)
        .service(competencies::record_observation);
}
