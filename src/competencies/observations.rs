//! Observed practice: an observation (date, outcome, short note) recorded by the observer,
//! who must be able to assess the worker in that competency. Competent observations count
//! toward sign-offs that need them.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{framework, signoffs};
use crate::access::{Actor, authz};
use crate::audit::{self, Event};
use crate::db::competencies::ObservationRow;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::{OrganisationId, UserId};
use crate::validation::{self, text};
use crate::workers;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Competent,
    NotYet,
}

impl Outcome {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Competent => "competent",
            Self::NotYet => "not_yet",
        }
    }
    fn parse(value: &str) -> AppResult<Self> {
        match value {
            "competent" => Ok(Self::Competent),
            "not_yet" => Ok(Self::NotYet),
            _ => Err(AppError::internal(
                "unknown observation outcome in the database",
            )),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Observation {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub worker_id: UserId,
    #[schema(value_type = String, format = Uuid)]
    pub competency_id: String,
    pub competency_code: String,
    pub competency_title: String,
    pub observer_id: UserId,
    pub observed_on: NaiveDate,
    pub outcome: Outcome,
    pub note: String,
    pub created_at: DateTime<Utc>,
    /// When a revoked sign-off set it aside: kept, but it no longer counts.
    pub superseded_at: Option<DateTime<Utc>>,
}

impl Observation {
    fn from_row(
        row: ObservationRow,
        (competency_code, competency_title): (String, String),
    ) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            worker_id: UserId::from_db(&row.worker_id)?,
            competency_id: row.competency_id,
            competency_code,
            competency_title,
            observer_id: UserId::from_db(&row.observer_id)?,
            observed_on: row.observed_on,
            outcome: Outcome::parse(&row.outcome)?,
            note: row.note,
            created_at: row.created_at.and_utc(),
            superseded_at: row.superseded_at.map(|t| t.and_utc()),
        })
    }
}

pub struct ObservationInput {
    pub competency_id: uuid::Uuid,
    pub observed_on: NaiveDate,
    pub outcome: Outcome,
    pub note: Option<String>,
}

pub async fn record(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    input: ObservationInput,
) -> AppResult<Observation> {
    let mut errors = FieldErrors::new();
    let note = text(
        input.note.as_deref().unwrap_or_default(),
        "note",
        500,
        false,
        &mut errors,
    );
    validation::past_day(input.observed_on, "observed_on", &mut errors);
    crate::error::valid(errors)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let worker = db::workers::find(conn, &worker.to_db())?.ok_or(AppError::NotFound)?;
        let competency = input.competency_id.to_string();
        signoffs::may_assess(conn, &actor, &worker, &competency)?;
        let competency =
            framework::load(conn, &worker.organisation_id, &competency).map_err(|_| {
                AppError::invalid("competency_id", "names no competency of the organisation")
            })?;
        let row = ObservationRow {
            id: uuid::Uuid::now_v7().to_string(),
            worker_id: worker.user_id.clone(),
            organisation_id: worker.organisation_id.clone(),
            competency_id: competency.id,
            observer_id: actor.user_id.to_db(),
            observed_on: input.observed_on,
            outcome: input.outcome.as_str().into(),
            note,
            created_at: db::now(),
            superseded_at: None,
        };
        db::competencies::insert_observation(conn, &row)?;
        audit::record(
            conn,
            Event::by(&actor, "observation.recorded", "observation")
                .on(&row.id)
                .in_org(Some(OrganisationId::from_db(&row.organisation_id)?)),
        )?;
        let title = (competency.code.clone(), competency.title.clone());
        Observation::from_row(row, title)
    })
    .await
}

pub async fn list(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    competency: Option<uuid::Uuid>,
) -> AppResult<Vec<Observation>> {
    let actor = actor.clone();
    let rows = db
        .run(move |conn| {
            // Those who may see the worker read all of them; an assessor who is not their
            // supervisor reads those of the competencies they assess.
            let only: Option<Vec<String>> = match workers::load_visible(conn, &actor, worker) {
                Ok(_) => None,
                Err(AppError::Forbidden(why)) if authz::may_read_assessed_observations(&actor) => {
                    let assessed = db::competencies::assessed_by(conn, &actor.user_id.to_db())?;
                    if assessed.is_empty() {
                        return Err(AppError::Forbidden(why));
                    }
                    Some(assessed)
                }
                Err(other) => return Err(other),
            };
            let rows = db::competencies::list_observations(
                conn,
                &worker.to_db(),
                competency.map(|c| c.to_string()).as_deref(),
            )?;
            let rows: Vec<ObservationRow> = match only {
                None => rows,
                Some(assessed) => rows
                    .into_iter()
                    .filter(|r| assessed.contains(&r.competency_id))
                    .collect(),
            };
            let ids: Vec<String> = rows.iter().map(|r| r.competency_id.clone()).collect();
            let titles = db::competencies::titles(conn, &ids)?;
            rows.into_iter()
                .map(|row| {
                    let title = titles.get(&row.competency_id).cloned().unwrap_or_default();
                    Observation::from_row(row, title)
                })
                .collect::<AppResult<Vec<_>>>()
        })
        .await?;
    Ok(rows)
}
