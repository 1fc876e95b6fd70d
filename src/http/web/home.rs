//! The home page: a peer worker's pathway, a supervisor's overview, and for the other
//! roles (whose pages come next) where to go meanwhile.

use actix_web::get;
use actix_web::web::Data;
use minijinja::context;
use serde::Serialize;

use super::errors::{PageError, PageResult};
use super::render::{View, see_other};
use super::session::{MaybeSignedIn, SignedIn};
use crate::access::Role;
use crate::explain::{Requirement, day, money, plural};
use crate::pathway::summary::{self, PathwaySummary};
use crate::state::AppState;
use crate::supervisor_queue;

/// A requirement as the page shows it: done or not, in words and a tag.
#[derive(Serialize)]
pub struct RequirementView {
    pub met: bool,
    pub reason: String,
}

pub fn requirements(list: &[Requirement]) -> Vec<RequirementView> {
    list.iter()
        .map(|r| RequirementView {
            met: r.met,
            reason: r.reason.clone(),
        })
        .collect()
}

/// The summary in words: what a person reads, not what the API sends.
pub fn pathway_view(s: &PathwaySummary) -> minijinja::Value {
    let stage = s.stage.as_ref().map(|st| {
        context! {
            name => st.name,
            pathway => st.pathway_name,
            since => day(st.since),
            months => plural(i64::from(st.months_in_stage), "month", "months"),
        }
    });
    let next = s.next_stage.as_ref().map(|n| {
        let unmet = n.requirements.iter().filter(|r| !r.met).count();
        context! {
            name => n.next_stage.name,
            eligible => n.eligible,
            unmet => plural(i64::try_from(unmet).unwrap_or(0), "thing", "things"),
            requirements => requirements(&n.requirements),
        }
    });
    let pay = s.pay.as_ref().map(|p| {
        context! {
            band => format!("{} ({})", p.band_name, p.band_code),
            point => p.point,
            annual => money(p.annual_minor, &p.currency),
            since => day(p.at_point_since),
        }
    });
    let step = s.next_pay_step.as_ref().map(|step| {
        context! {
            point => step.point,
            annual => money(step.annual_minor, &step.currency),
            due => day(step.due_on),
            met => step.readiness.met,
            requirements => requirements(&step.readiness.requirements),
        }
    });
    context! {
        paused => s.paused,
        stage => stage,
        next => next,
        proposal => s.open_proposal.as_ref().map(|p| p.to_stage_name.clone()),
        pay_visible => s.pay_visible,
        pay => pay,
        step => step,
    }
}

#[get("/")]
pub async fn home(state: Data<AppState>, current: MaybeSignedIn) -> PageResult {
    let Some(session) = current.0 else {
        return Ok(see_other("/sign-in"));
    };
    let signed_in = SignedIn {
        session,
        path: "/".into(),
    };
    let actor = &signed_in.session.actor;
    let view = match actor.role {
        Role::PeerWorker => {
            let s = summary::summary(&state.db, actor, actor.user_id).await?;
            View::new(
                "home_worker.html",
                "Your pathway",
                context! { pathway => pathway_view(&s) },
            )
        }
        Role::Supervisor => {
            let queue = supervisor_queue::supervisor_queue(&state.db, actor).await?;
            View::new(
                "home_other.html",
                "Home",
                context! {
                    supervisor => true,
                    signoffs => plural(queue.counts.signoff_requests, "sign-off request", "sign-off requests"),
                    training => plural(queue.counts.unverified_training, "training record", "training records"),
                },
            )
        }
        Role::ProgrammeManager | Role::Admin => {
            View::new("home_other.html", "Home", context! { supervisor => false })
        }
    };
    Ok::<_, PageError>(view.render(&signed_in.frame()))
}
