//! The module catalogue of an organisation. Programme managers keep it; everyone in the
//! organisation reads it. A module that has records is retired, never deleted.

use chrono::{DateTime, Months, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::access::Actor;
use crate::access::authz;
use crate::audit::{self, Event};
use crate::db::training::{ModuleChanges, ModuleRow};
use crate::db::{self, Database};
use crate::error::{AppError, AppResult, FieldErrors};
use crate::ids::OrganisationId;
use crate::pagination::{Page, Paginated};
use crate::validation;
pub use crate::validation::text;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
#[schema(as = ModuleCategory)]
pub enum Category {
    HcvClinical,
    Testing,
    HarmReduction,
    Safeguarding,
    Communication,
    DataProtection,
    WellbeingBoundaries,
    Other,
}

const CATEGORIES: &[Category] = &[
    Category::HcvClinical,
    Category::Testing,
    Category::HarmReduction,
    Category::Safeguarding,
    Category::Communication,
    Category::DataProtection,
    Category::WellbeingBoundaries,
    Category::Other,
];

impl Category {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HcvClinical => "hcv_clinical",
            Self::Testing => "testing",
            Self::HarmReduction => "harm_reduction",
            Self::Safeguarding => "safeguarding",
            Self::Communication => "communication",
            Self::DataProtection => "data_protection",
            Self::WellbeingBoundaries => "wellbeing_boundaries",
            Self::Other => "other",
        }
    }
    pub fn parse(value: &str) -> Option<Self> {
        CATEGORIES.iter().copied().find(|c| c.as_str() == value)
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, ToSchema)]
pub struct Module {
    #[schema(value_type = String, format = Uuid)]
    pub id: String,
    pub organisation_id: OrganisationId,
    pub code: String,
    pub title: String,
    pub description: String,
    pub category: Category,
    pub typical_hours: Option<f64>,
    /// Months a completion stays in date; absent when the module never needs renewing.
    pub validity_months: Option<i32>,
    /// Retired modules keep their records but take no new ones.
    pub active: bool,
    /// Statutory and mandatory training: a pay step needs it in date.
    pub mandatory: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: i32,
}

impl TryFrom<ModuleRow> for Module {
    type Error = AppError;
    fn try_from(row: ModuleRow) -> AppResult<Self> {
        Ok(Self {
            id: row.id,
            organisation_id: OrganisationId::from_db(&row.organisation_id)?,
            code: row.code,
            title: row.title,
            description: row.description,
            category: Category::parse(&row.category)
                .ok_or_else(|| AppError::internal("unknown module category in the database"))?,
            typical_hours: row.typical_minutes.map(|m| f64::from(m) / 60.0),
            validity_months: row.validity_months,
            active: row.active,
            mandatory: row.mandatory,
            created_at: row.created_at.and_utc(),
            updated_at: row.updated_at.and_utc(),
            version: row.version,
        })
    }
}

/// A module as submitted, before checking.
pub struct ModuleInput {
    pub code: String,
    pub title: String,
    pub description: Option<String>,
    pub category: Category,
    pub typical_hours: Option<f64>,
    pub validity_months: Option<i32>,
    pub active: Option<bool>,
    pub mandatory: Option<bool>,
}

/// Hours as whole minutes, for storage: positive and at most `max_hours`.
pub fn hours_to_minutes(hours: f64, field: &str, max_hours: f64) -> AppResult<i32> {
    if !hours.is_finite() || hours <= 0.0 || hours > max_hours {
        return Err(AppError::invalid(
            field,
            format!("must be more than 0 and at most {max_hours} hours"),
        ));
    }
    let minutes = (hours * 60.0).round();
    if minutes < 1.0 {
        return Err(AppError::invalid(field, "must be at least one minute"));
    }
    Ok(minutes as i32)
}

struct CheckedModule {
    code: String,
    title: String,
    description: String,
    typical_minutes: Option<i32>,
}

fn check(input: &ModuleInput) -> AppResult<CheckedModule> {
    let mut errors = FieldErrors::new();
    let code = validation::code(&input.code, &mut errors);
    let title = text(&input.title, "title", 200, true, &mut errors);
    let description = text(
        input.description.as_deref().unwrap_or_default(),
        "description",
        2000,
        false,
        &mut errors,
    );
    if input
        .validity_months
        .is_some_and(|m| !(1..=120).contains(&m))
    {
        errors
            .entry("validity_months".into())
            .or_default()
            .push("must be 1 to 120 months".into());
    }
    let typical_minutes = match input.typical_hours {
        Some(h) => match hours_to_minutes(h, "typical_hours", 1000.0) {
            Ok(m) => Some(m),
            Err(AppError::Validation(e)) => {
                errors.extend(e);
                None
            }
            Err(other) => return Err(other),
        },
        None => None,
    };
    crate::error::valid(errors)?;
    Ok(CheckedModule {
        code,
        title,
        description,
        typical_minutes,
    })
}

pub async fn create_module(db: &Database, actor: &Actor, input: ModuleInput) -> AppResult<Module> {
    let org =
        authz::own_organisation_as_manager(actor, "Programme managers keep the module catalogue.")?;
    let checked = check(&input)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let now = db::now();
        let row = ModuleRow {
            id: uuid::Uuid::now_v7().to_string(),
            organisation_id: org.to_db(),
            code_key: checked.code.to_lowercase(),
            code: checked.code,
            title: checked.title,
            description: checked.description,
            category: input.category.as_str().into(),
            typical_minutes: checked.typical_minutes,
            validity_months: input.validity_months,
            active: input.active.unwrap_or(true),
            version: 1,
            created_at: now,
            updated_at: now,
            mandatory: input.mandatory.unwrap_or(false),
        };
        db::training::insert_module(conn, &row)?;
        audit::record(
            conn,
            Event::by(&actor, "training_module.created", "training_module").on(&row.id),
        )?;
        Module::try_from(row)
    })
    .await
}

/// Loads a module of the caller's organisation (404 for another's).
pub fn load_module(conn: &mut db::DbConn, org: OrganisationId, id: &str) -> AppResult<ModuleRow> {
    let row = db::training::find_module(conn, id)?.ok_or(AppError::NotFound)?;
    if row.organisation_id != org.to_db() {
        return Err(AppError::NotFound);
    }
    Ok(row)
}

pub async fn get_module(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<Module> {
    let org = authz::own_organisation(actor)?;
    let row = db
        .run(move |conn| load_module(conn, org, &id.to_string()))
        .await?;
    Module::try_from(row)
}

pub async fn list_modules(
    db: &Database,
    actor: &Actor,
    active: Option<bool>,
    page: Page,
) -> AppResult<Paginated<Module>> {
    let org = authz::own_organisation(actor)?;
    let (after, fetch) = (page.after.clone(), page.fetch());
    let rows = db
        .run(move |conn| {
            Ok(db::training::list_modules(
                conn,
                &org.to_db(),
                active,
                after.as_deref(),
                fetch,
            )?)
        })
        .await?;
    page.finish(rows, |r| r.id.clone())
        .try_map(Module::try_from)
}

/// Expiry of a completion under a validity.
pub fn expiry(completed_on: NaiveDate, validity_months: Option<i32>) -> Option<NaiveDate> {
    let months = u32::try_from(validity_months?).ok()?;
    completed_on.checked_add_months(Months::new(months))
}

/// Replaces a module's fields. A change of validity moves the expiry of its records.
pub async fn update_module(
    db: &Database,
    actor: &Actor,
    id: uuid::Uuid,
    expected: i32,
    input: ModuleInput,
) -> AppResult<Module> {
    let org =
        authz::own_organisation_as_manager(actor, "Programme managers keep the module catalogue.")?;
    let checked = check(&input)?;
    let actor = actor.clone();
    db.write(move |conn| {
        let id = id.to_string();
        let current = load_module(conn, org, &id)?;
        let changes = ModuleChanges {
            code_key: checked.code.to_lowercase(),
            code: checked.code,
            title: checked.title,
            description: checked.description,
            category: input.category.as_str().into(),
            typical_minutes: checked.typical_minutes,
            validity_months: input.validity_months,
            active: input.active.unwrap_or(current.active),
            mandatory: input.mandatory.unwrap_or(current.mandatory),
        };
        if db::training::update_module(conn, &id, expected, &changes, db::now())? == 0 {
            return Err(AppError::PreconditionFailed);
        }
        if current.validity_months != input.validity_months {
            for (record, completed_on) in db::training::records_of_module(conn, &id)? {
                db::training::set_expiry(
                    conn,
                    &record,
                    expiry(completed_on, input.validity_months),
                )?;
            }
        }
        audit::record(
            conn,
            Event::by(&actor, "training_module.updated", "training_module").on(&id),
        )?;
        Module::try_from(db::training::find_module(conn, &id)?.ok_or(AppError::NotFound)?)
    })
    .await
}

/// Deletes a module nobody has records of; one with records must be retired instead.
pub async fn delete_module(db: &Database, actor: &Actor, id: uuid::Uuid) -> AppResult<()> {
    let org =
        authz::own_organisation_as_manager(actor, "Programme managers keep the module catalogue.")?;
    let actor = actor.clone();
    db.write(move |conn| {
        let id = id.to_string();
        load_module(conn, org, &id)?;
        if db::training::module_has_records(conn, &id)? {
            return Err(AppError::conflict(
                "This module has training records; retire it (active: false) instead of deleting it.",
            ));
        }
        db::training::delete_module(conn, &id)?;
        audit::record(conn, Event::by(&actor, "training_module.deleted", "training_module").on(&id))
    })
    .await
}
