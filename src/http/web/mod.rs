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
mod recovery;
pub mod render;
mod second_step;
pub mod session;
mod settings;
mod signin;
mod supervisees;
mod training;
mod two_step;

pub use errors::{PageError, not_found_page};

pub fn routes(cfg: &mut actix_web::web::ServiceConfig) {
    cfg.service(assets::asset)
        .service(assets::favicon)
        .service(home::home)
        .service(signin::sign_in_page)
        .service(signin::sign_in)
        .service(signin::sign_out)
        .service(second_step::code_page)
        .service(second_step::code)
        .service(second_step::recovery_page)
        .service(second_step::recovery)
        .service(second_step::set_up_page)
        .service(second_step::set_up_qr)
        .service(second_step::set_up)
        .service(two_step::page)
        .service(two_step::start)
        .service(two_step::set_up_page)
        .service(two_step::qr)
        .service(two_step::set_up)
        .service(two_step::renew)
        .service(two_step::off_page)
        .service(two_step::turn_off)
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
        .service(competencies::record_observation)
        .service(supervisees::list)
        .service(supervisees::show)
        .service(supervisees::session_page)
        .service(supervisees::record_session)
        .service(supervisees::propose_page)
        .service(supervisees::propose_check)
        .service(supervisees::propose)
        .service(supervisees::worker_sessions)
        .service(supervisees::confirm)
        .service(recovery::overview)
        .service(recovery::checkin_page)
        .service(recovery::record_checkin)
        .service(recovery::list_checkins)
        .service(recovery::share_checkin)
        .service(recovery::show_plan)
        .service(recovery::section_page)
        .service(recovery::save_section)
        .service(recovery::pause_page)
        .service(recovery::start_pause)
        .service(recovery::end_pause)
        .service(recovery::data_page)
        .service(recovery::download)
        .service(recovery::erase_page)
        .service(recovery::erase)
        .service(recovery::supervisee_recovery)
        .service(recovery::together_page)
        .service(recovery::record_together)
        .service(settings::account)
        .service(settings::password_page)
        .service(settings::change_password)
        .service(settings::emails_page)
        .service(settings::save_emails);
}
