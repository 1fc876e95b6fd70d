//! Reports for programme managers: the organisation's progression numbers (the aggregate
//! over all its workers). Reports never read recovery data.

use chrono::{NaiveDate, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::{Actor, authz};
use crate::db::{self, Database};
use crate::error::AppResult;
use crate::ids::OrganisationId;

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct StageNumbers {
    #[schema(value_type = String, format = Uuid)]
    pub pathway_id: String,
    pub pathway_name: String,
    #[schema(value_type = String, format = Uuid)]
    pub stage_id: String,
    pub stage_name: String,
    pub position: i32,
    /// Workers on the stage now (who have not left).
    pub workers: i64,
    /// Of them, on a wellbeing pause.
    pub paused: i64,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressionNumbers {
    pub organisation_id: OrganisationId,
    pub as_of: NaiveDate,
    pub active: i64,
    pub paused: i64,
    pub left: i64,
    /// Workers (not left) placed on no pathway yet.
    pub unplaced: i64,
    pub stages: Vec<StageNumbers>,
    pub open_proposals: i64,
    /// Progressions approved in the last 12 months, and of them approved by override.
    pub approved_last_year: i64,
    pub overridden_last_year: i64,
    pub declined_last_year: i64,
}

/// The progression numbers of the programme manager's organisation, in six queries.
pub async fn progression(db: &Database, actor: &Actor) -> AppResult<ProgressionNumbers> {
    let org = authz::own_organisation_as_manager(
        actor,
        "Programme managers see the organisation's numbers.",
    )?;
    db.run(move |conn| {
        let id = org.to_db();
        let statuses = db::reports::workers_by_status(conn, &id)?;
        let count = |s: &str| statuses.iter().find(|(k, _)| k == s).map_or(0, |(_, n)| *n);
        let current = db::reports::current_stages(conn, &id)?;
        let pathways = db::pathways::list(conn, &id)?;
        let ids: Vec<String> = pathways.iter().map(|p| p.id.clone()).collect();
        let stages = db::pathways::stages_of(conn, &ids)?;
        let since = db::now() - TimeDelta::days(365);
        let (decided, overridden) = db::reports::progressions_since(conn, &id, since)?;
        let sum = |status: &str| -> i64 {
            decided
                .iter()
                .filter(|(s, _)| s == status)
                .map(|(_, n)| n)
                .sum()
        };
        let on_stage = |stage: &str, status: Option<&str>| -> i64 {
            current
                .iter()
                .filter(|(s, st, _)| s == stage && st != "left" && status.is_none_or(|x| x == st))
                .map(|(_, _, n)| n)
                .sum()
        };
        let placed: i64 = current
            .iter()
            .filter(|(_, st, _)| st != "left")
            .map(|(_, _, n)| n)
            .sum();
        Ok(ProgressionNumbers {
            organisation_id: org,
            as_of: Utc::now().date_naive(),
            active: count("active"),
            paused: count("paused"),
            left: count("left"),
            unplaced: count("active") + count("paused") - placed,
            stages: stages
                .iter()
                .map(|s| StageNumbers {
                    pathway_id: s.pathway_id.clone(),
                    pathway_name: pathways
                        .iter()
                        .find(|p| p.id == s.pathway_id)
                        .map(|p| p.name.clone())
                        .unwrap_or_default(),
                    stage_id: s.id.clone(),
                    stage_name: s.name.clone(),
                    position: s.position,
                    workers: on_stage(&s.id, None),
                    paused: on_stage(&s.id, Some("paused")),
                })
                .collect(),
            open_proposals: sum("proposed"),
            approved_last_year: sum("approved"),
            overridden_last_year: overridden,
            declined_last_year: sum("declined"),
        })
    })
    .await
}
