//! The pathway summary: the busiest read in the product. Current stage and since when, pay,
//! the next stage with its explained eligibility, the next pay step with its readiness. It
//! runs a fixed number of queries whatever the number of records (a test counts them).

use chrono::{NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::clock;
use super::eligibility::{self, Eligibility};
use crate::access::Actor;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};
use crate::ids::UserId;
use crate::salary::history::may_see_pay;
use crate::salary::steps::{self, PayStep};
use crate::workers::{self, Relation, WorkerStatus};

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrentStage {
    #[schema(value_type = String, format = Uuid)]
    pub pathway_id: String,
    pub pathway_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub stage_id: String,
    pub name: String,
    pub position: i32,
    pub since: NaiveDate,
    /// Whole months in the stage, not counting pauses.
    pub months_in_stage: u32,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct CurrentPay {
    #[schema(value_type = String, format = Uuid)]
    pub band_id: String,
    pub band_code: String,
    pub band_name: String,
    pub point: i32,
    /// Full-time annual pay in minor units (pence).
    pub annual_minor: i64,
    pub currency: String,
    /// Since when the worker has been at this point of this band.
    pub at_point_since: NaiveDate,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct OpenProposal {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub to_stage_name: String,
    pub proposed_by: UserId,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PathwaySummary {
    pub worker_id: UserId,
    pub status: WorkerStatus,
    /// A wellbeing pause covers today: the pathway clock is stopped.
    pub paused: bool,
    /// Absent until a programme manager places the worker on a pathway.
    pub stage: Option<CurrentStage>,
    /// Absent at the last stage.
    pub next_stage: Option<Eligibility>,
    pub open_proposal: Option<OpenProposal>,
    /// Whether the caller may see pay; when not, `pay` and `next_pay_step` are absent.
    pub pay_visible: bool,
    pub pay: Option<CurrentPay>,
    pub next_pay_step: Option<PayStep>,
}

pub async fn summary(db: &Database, actor: &Actor, worker: UserId) -> AppResult<PathwaySummary> {
    let actor = actor.clone();
    db.run(move |conn| {
        let (row, relation) = workers::load_visible(conn, &actor, worker)?;
        if relation == Relation::Admin {
            return Err(AppError::Forbidden(
                "Pathways and pay belong to the organisation.",
            ));
        }
        let today = Utc::now().date_naive();
        let pay_visible = may_see_pay(conn, &row, relation)?;
        let pauses = db::pauses::of_worker(conn, &row.user_id)?;
        let paused = clock::is_paused(&pauses, today);
        let position = eligibility::position(conn, &row.user_id)?;
        let mut stage = None;
        let mut next_stage = None;
        if let Some(position) = &position {
            let here = position.stage();
            stage = Some(CurrentStage {
                pathway_id: position.pathway.id.clone(),
                pathway_name: position.pathway.name.clone(),
                stage_id: position.current.stage_id.clone(),
                name: here.map_or_else(|| position.current.stage_name.clone(), |s| s.name.clone()),
                position: here.map_or(0, |s| s.position),
                since: position.current.started_on,
                months_in_stage: clock::months_served(position.current.started_on, &pauses, today),
            });
            next_stage = eligibility::evaluate(conn, &row, position, pauses, today)?;
        }
        let open_proposal = db::progressions::open_of(conn, &row.user_id)?
            .map(|p| {
                Ok::<_, AppError>(OpenProposal {
                    proposed_by: UserId::from_db(&p.proposed_by)?,
                    id: p.id,
                    to_stage_name: p.to_stage_name,
                })
            })
            .transpose()?;
        let (mut pay, mut next_pay_step) = (None, None);
        if pay_visible {
            let history = db::salary::assignments(conn, &row.user_id)?;
            if let Some(run) = steps::current_run(&history, today) {
                let band = db::salary::find_band(conn, &run.current.band_id)?;
                let band = band.as_ref();
                pay = Some(CurrentPay {
                    band_id: run.current.band_id.clone(),
                    band_code: band.map(|b| b.code.clone()).unwrap_or_default(),
                    band_name: band.map(|b| b.name.clone()).unwrap_or_default(),
                    point: run.current.point,
                    annual_minor: run.current.annual_minor,
                    currency: run.current.currency.clone(),
                    at_point_since: run.since,
                });
                next_pay_step = steps::for_worker(conn, &row, &history, today)?;
            }
        }
        Ok(PathwaySummary {
            worker_id: worker,
            status: WorkerStatus::parse(&row.status)?,
            paused,
            stage,
            next_stage,
            open_proposal,
            pay_visible,
            pay,
            next_pay_step,
        })
    })
    .await
}
