//! The supervision log: sessions (date, minutes, kind, theme) recorded by the worker's
//! current supervisor and confirmed by the worker; confirmed time is totalled per worker.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Relation, load_visible};
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::db::supervision::SessionRow;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::{OrganisationId, UserId};
use crate::validation::{self, text};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SessionKind {
    OneToOne,
    Group,
    /// Counts toward the reflective-practice hours a stage may require.
    ReflectivePractice,
}

impl SessionKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OneToOne => "one_to_one",
            Self::Group => "group",
            Self::ReflectivePractice => "reflective_practice",
        }
    }
    fn parse(value: &str) -> AppResult<Self> {
        match value {
            "one_to_one" => Ok(Self::OneToOne),
            "group" => Ok(Self::Group),
            "reflective_practice" => Ok(Self::ReflectivePractice),
            _ => Err(AppError::internal("unknown session kind in the database")),
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct SupervisionSession {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub worker_id: UserId,
    pub supervisor_id: UserId,
    pub held_on: NaiveDate,
    pub minutes: i32,
    pub kind: SessionKind,
    pub theme: String,
    /// When the worker confirmed it; only confirmed sessions count.
    pub confirmed_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
}

impl TryFrom<SessionRow> for SupervisionSession {
    type Error = AppError;
    fn try_from(row: SessionRow) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            worker_id: UserId::from_db(&row.worker_id)?,
            supervisor_id: UserId::from_db(&row.supervisor_id)?,
            held_on: row.held_on,
            minutes: row.minutes,
            kind: SessionKind::parse(&row.kind)?,
            theme: row.theme,
            confirmed_at: row.confirmed_at.map(|t| t.and_utc()),
            created_at: row.created_at.and_utc(),
        })
    }
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SupervisionTotals {
    /// Confirmed supervision of every kind, in hours.
    pub confirmed_hours: f64,
    /// Confirmed reflective practice, in hours.
    pub reflective_practice_hours: f64,
    pub unconfirmed_sessions: usize,
}

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct SupervisionLog {
    pub totals: SupervisionTotals,
    /// Oldest first.
    pub sessions: Vec<SupervisionSession>,
}

pub struct SessionInput {
    pub held_on: NaiveDate,
    pub minutes: i32,
    pub kind: SessionKind,
    pub theme: Option<String>,
}

pub async fn record(
    db: &Database,
    actor: &Actor,
    worker: UserId,
    input: SessionInput,
) -> AppResult<SupervisionSession> {
    let mut errors = FieldErrors::new();
    let theme = text(
        input.theme.as_deref().unwrap_or_default(),
        "theme",
        200,
        false,
        &mut errors,
    );
    if !(1..=600).contains(&input.minutes) {
        errors
            .entry("minutes".into())
            .or_default()
            .push("must be 1 to 600".into());
    }
    validation::past_day(input.held_on, "held_on", &mut errors);
    crate::error::valid(errors)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let (worker, relation) = load_visible(conn, &actor, worker)?;
        if relation != Relation::CurrentSupervisor {
            return Err(AppError::Forbidden(
                "The worker's current supervisor records supervision.",
            ));
        }
        let row = SessionRow {
            id: uuid::Uuid::now_v7().to_string(),
            worker_id: worker.user_id.clone(),
            organisation_id: worker.organisation_id.clone(),
            supervisor_id: actor.user_id.to_db(),
            held_on: input.held_on,
            minutes: input.minutes,
            kind: input.kind.as_str().into(),
            theme,
            confirmed_at: None,
            created_at: db::now(),
        };
        db::supervision::insert(conn, &row)?;
        audit::record(
            conn,
            Event::by(&actor, "supervision.recorded", "supervision_session")
                .on(&row.id)
                .in_org(Some(OrganisationId::from_db(&row.organisation_id)?)),
        )?;
        SupervisionSession::try_from(row)
    })
    .await
}

/// The worker confirms a session recorded for them.
pub async fn confirm(
    db: &Database,
    actor: &Actor,
    id: uuid::Uuid,
) -> AppResult<SupervisionSession> {
    let actor = actor.clone();
    db.write(move |conn| {
        let id = id.to_string();
        let row = db::supervision::find(conn, &id)?.ok_or(AppError::NotFound)?;
        let (_, relation) = load_visible(conn, &actor, UserId::from_db(&row.worker_id)?)?;
        if relation != Relation::Itself {
            return Err(AppError::Forbidden(
                "Only the worker confirms their supervision.",
            ));
        }
        if db::supervision::confirm(conn, &id, db::now())? == 0 {
            return Err(AppError::conflict("This session is already confirmed."));
        }
        audit::record(
            conn,
            Event::by(&actor, "supervision.confirmed", "supervision_session")
                .on(&id)
                .in_org(Some(OrganisationId::from_db(&row.organisation_id)?)),
        )?;
        SupervisionSession::try_from(db::supervision::find(conn, &id)?.ok_or(AppError::NotFound)?)
    })
    .await
}

pub async fn log(db: &Database, actor: &Actor, worker: UserId) -> AppResult<SupervisionLog> {
    let actor = actor.clone();
    let rows = db
        .run(move |conn| {
            load_visible(conn, &actor, worker)?;
            Ok(db::supervision::list(conn, &worker.to_db())?)
        })
        .await?;
    let sessions: Vec<SupervisionSession> = rows
        .into_iter()
        .map(SupervisionSession::try_from)
        .collect::<AppResult<_>>()?;
    let confirmed = |kind: Option<SessionKind>| -> f64 {
        let minutes: i64 = sessions
            .iter()
            .filter(|s| s.confirmed_at.is_some() && kind.is_none_or(|k| s.kind == k))
            .map(|s| i64::from(s.minutes))
            .sum();
        minutes as f64 / 60.0
    };
    Ok(SupervisionLog {
        totals: SupervisionTotals {
            confirmed_hours: confirmed(None),
            reflective_practice_hours: confirmed(Some(SessionKind::ReflectivePractice)),
            unconfirmed_sessions: sessions.iter().filter(|s| s.confirmed_at.is_none()).count(),
        },
        sessions,
    })
}
