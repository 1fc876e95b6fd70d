//! The relapse-prevention plan, shaped after WRAP: eight sections written by the worker,
//! each shared with their current supervisor or not (not, unless the worker says so).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::{Access, Keyring, access, audit_read, owner};
use crate::access::Actor;
use crate::audit::{self, Event};
use crate::db::recovery::{PlanRow, SectionRow};
use crate::db::{self, Database, DbConn};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::UserId;
use crate::validation;

const MAX_TEXT: usize = 4000;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Section {
    /// What I'm like when I'm well.
    WhenWell,
    WellnessToolbox,
    DailyMaintenance,
    /// Triggers and my plan for them.
    Triggers,
    /// Early warning signs and my plan.
    EarlyWarningSigns,
    /// When things are breaking down.
    BreakingDown,
    /// Who to contact and what helps.
    CrisisPlan,
    SupportContacts,
}

pub const SECTIONS: &[Section] = &[
    Section::WhenWell,
    Section::WellnessToolbox,
    Section::DailyMaintenance,
    Section::Triggers,
    Section::EarlyWarningSigns,
    Section::BreakingDown,
    Section::CrisisPlan,
    Section::SupportContacts,
];

impl Section {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::WhenWell => "when_well",
            Self::WellnessToolbox => "wellness_toolbox",
            Self::DailyMaintenance => "daily_maintenance",
            Self::Triggers => "triggers",
            Self::EarlyWarningSigns => "early_warning_signs",
            Self::BreakingDown => "breaking_down",
            Self::CrisisPlan => "crisis_plan",
            Self::SupportContacts => "support_contacts",
        }
    }
    fn parse(value: &str) -> AppResult<Self> {
        SECTIONS
            .iter()
            .copied()
            .find(|s| s.as_str() == value)
            .ok_or_else(|| AppError::internal("unknown plan section in the database"))
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct PlanSection {
    pub section: Section,
    pub text: String,
    /// Whether the current supervisor may read this section.
    pub shared: bool,
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Plan {
    pub worker_id: UserId,
    /// The worker sees every section; their supervisor only the shared ones.
    pub sections: Vec<PlanSection>,
    /// 0 before the first save.
    pub version: i32,
    pub updated_at: Option<DateTime<Utc>>,
}

fn context(worker: &str, section: Section) -> String {
    format!("plan:{worker}:{}", section.as_str())
}

fn assemble(conn: &mut DbConn, keys: &Keyring, worker: &str, who: Access) -> AppResult<Plan> {
    let plan = db::recovery::plan(conn, worker)?;
    let mut sections = vec![];
    for row in db::recovery::sections(conn, worker)? {
        if who == Access::Supervisor && !row.shared {
            continue;
        }
        let section = Section::parse(&row.section)?;
        let text = keys.open(
            &crate::crypto::Sealed {
                key_id: row.key_id,
                bytes: row.content,
            },
            &context(worker, section),
        )?;
        sections.push(PlanSection {
            section,
            text,
            shared: row.shared,
        });
    }
    sections.sort_by_key(|s| s.section);
    Ok(Plan {
        worker_id: UserId::from_db(worker)?,
        sections,
        version: plan.as_ref().map_or(0, |p| p.version),
        updated_at: plan.map(|p| p.updated_at.and_utc()),
    })
}

/// The plan as the caller may see it; the read is audited.
pub async fn read(
    db: &Database,
    keys: &std::sync::Arc<Keyring>,
    actor: &Actor,
    worker: UserId,
) -> AppResult<Plan> {
    let (actor, keys) = (actor.clone(), keys.clone());
    db.write(move |conn| {
        let (row, who) = access(conn, &actor, worker)?;
        let plan = assemble(conn, &keys, &row.user_id, who)?;
        audit_read(conn, &actor, "recovery.plan_read", &row.user_id)?;
        Ok(plan)
    })
    .await
}

/// Replaces the plan (the worker only), with `If-Match` (`"v0"` for the first save).
pub async fn write(
    db: &Database,
    keys: &std::sync::Arc<Keyring>,
    actor: &Actor,
    worker: UserId,
    expected: i32,
    sections: Vec<PlanSection>,
) -> AppResult<Plan> {
    let mut errors = FieldErrors::new();
    let mut seen = std::collections::BTreeSet::new();
    let mut checked = vec![];
    for (i, s) in sections.into_iter().enumerate() {
        let field = format!("sections[{i}].text");
        let text = validation::text(&s.text, &field, MAX_TEXT, true, &mut errors);
        if !seen.insert(s.section) {
            errors
                .entry(format!("sections[{i}].section"))
                .or_default()
                .push("is listed twice".into());
        }
        checked.push(PlanSection { text, ..s });
    }
    crate::error::valid(errors)?;
    let (actor, keys) = (actor.clone(), keys.clone());
    db.write(move |conn| {
        let row = owner(conn, &actor, worker)?;
        let now = db::now();
        match db::recovery::plan(conn, &row.user_id)? {
            None if expected == 0 => {
                db::recovery::insert_plan(
                    conn,
                    &PlanRow {
                        worker_id: row.user_id.clone(),
                        organisation_id: row.organisation_id.clone(),
                        version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
            }
            Some(_) if db::recovery::bump_plan(conn, &row.user_id, expected, now)? == 1 => {}
            _ => return Err(AppError::PreconditionFailed),
        }
        let mut rows = vec![];
        for s in &checked {
            let sealed = keys.seal(&s.text, &context(&row.user_id, s.section))?;
            rows.push(SectionRow {
                worker_id: row.user_id.clone(),
                section: s.section.as_str().into(),
                key_id: sealed.key_id,
                content: sealed.bytes,
                shared: s.shared,
                updated_at: now,
            });
        }
        db::recovery::replace_sections(conn, &row.user_id, &rows)?;
        audit::record(
            conn,
            Event::by(&actor, "recovery.plan_saved", "worker").on(&row.user_id),
        )?;
        assemble(conn, &keys, &row.user_id, super::Access::Owner)
    })
    .await
}
