//! The demo's catalogue: the HCV training modules (from `seed/`), the competency framework
//! with its assessors, and the HCV peer pathway with its stages and their bands.

use chrono::NaiveDate;

use super::uuid;
use crate::access::Actor;
use crate::competencies::framework;
use crate::db::Database;
use crate::error::{AppError, AppResult};
use crate::ids::UserId;
use crate::training::modules::{self, Category, ModuleInput};
use crate::{pathway, salary};

const MODULES_CSV: &str = include_str!("../../seed/hcv-modules.csv");
/// The statutory and mandatory subjects of the catalogue (safeguarding, information
/// governance, infection prevention and control, the other statutory subjects).
pub const MANDATORY_MODULES: &[&str] = &["HCV-13", "HCV-14", "HCV-15", "HCV-19"];

/// (code, domain, title, observed practices needed)
pub const COMPETENCIES: &[(&str, &str, &str, i32)] = &[
    (
        "C-01",
        "Knowledge",
        "Able to explain HCV transmission, testing and cure in plain language",
        0,
    ),
    (
        "C-02",
        "Testing",
        "Able to perform and record an antibody point-of-care test",
        10,
    ),
    (
        "C-03",
        "Testing",
        "Able to collect a dried blood spot sample",
        10,
    ),
    (
        "C-04",
        "Testing",
        "Able to operate point-of-care RNA testing",
        5,
    ),
    (
        "C-05",
        "Testing",
        "Able to perform a FibroScan under protocol",
        5,
    ),
    (
        "C-06",
        "Linkage",
        "Able to support referral and accompany people to appointments",
        0,
    ),
    ("C-07", "Treatment", "Able to support DAA adherence", 0),
    (
        "C-08",
        "Harm reduction",
        "Able to give harm-reduction advice",
        0,
    ),
    (
        "C-09",
        "Safeguarding",
        "Able to act on safeguarding concerns",
        0,
    ),
    (
        "C-10",
        "Professional practice",
        "Able to keep confidentiality",
        0,
    ),
    (
        "C-11",
        "Professional practice",
        "Able to keep boundaries while sharing lived experience",
        0,
    ),
    (
        "C-12",
        "Professional practice",
        "Able to use supervision",
        0,
    ),
    ("C-13", "Data", "Able to record activity data", 0),
];

/// (name, AfC band, months in the stage before, supervision hours, modules, competencies)
pub type StageSeed = (
    &'static str,
    Option<u8>,
    i32,
    f64,
    &'static [&'static str],
    &'static [&'static str],
);

/// The demo pathway: peer support workers on band 3, advanced peer support workers on
/// band 4, peer case workers on band 5.
pub const STAGES: &[StageSeed] = &[
    ("Peer volunteer", None, 0, 0.0, &[], &[]),
    (
        "Peer support worker",
        Some(3),
        3,
        6.0,
        &["HCV-01", "HCV-02", "HCV-03", "HCV-18"],
        &["C-01", "C-10"],
    ),
    (
        "Advanced peer support worker",
        Some(4),
        12,
        20.0,
        &["HCV-04", "HCV-05", "HCV-08", "HCV-12", "HCV-13"],
        &["C-02", "C-03", "C-06", "C-09"],
    ),
    (
        "Peer case worker",
        Some(5),
        18,
        40.0,
        &["HCV-07", "HCV-09", "HCV-10", "HCV-16", "HCV-17"],
        &["C-05", "C-07", "C-11", "C-12"],
    ),
    (
        "Peer lead",
        Some(6),
        24,
        60.0,
        &["HCV-14", "HCV-19"],
        &["C-13"],
    ),
];

/// What the demo's stories draw on.
pub struct Catalogue {
    /// (code, id, months in date) in catalogue order.
    pub modules: Vec<(String, uuid::Uuid, Option<u32>)>,
    /// (code, id, observed practices needed) in framework order.
    pub competencies: Vec<(String, uuid::Uuid, i32)>,
    /// The pathway's stages in order.
    pub stages: Vec<uuid::Uuid>,
}

impl Catalogue {
    pub fn module(&self, code: &str) -> Option<&(String, uuid::Uuid, Option<u32>)> {
        self.modules.iter().find(|(c, ..)| c == code)
    }
    pub fn competency(&self, code: &str) -> Option<&(String, uuid::Uuid, i32)> {
        self.competencies.iter().find(|(c, ..)| c == code)
    }
}

fn category(value: &str) -> Category {
    Category::parse(value).unwrap_or(Category::Other)
}

/// Loads the catalogue, the framework (both supervisors assess what needs observed
/// practice: only an assessor signs those off) and the pathway.
pub async fn seed(db: &Database, manager: &Actor, assessors: &[UserId]) -> AppResult<Catalogue> {
    let mut module_rows = vec![];
    for line in MODULES_CSV.lines().skip(1).filter(|l| !l.trim().is_empty()) {
        let fields: Vec<&str> = line.split(',').collect();
        let (code, title, cat, validity) = (
            fields[0],
            fields[1],
            fields[2],
            fields.get(3).copied().unwrap_or(""),
        );
        let module = modules::create_module(
            db,
            manager,
            ModuleInput {
                code: code.into(),
                title: title.into(),
                description: None,
                category: category(cat),
                typical_hours: Some(3.0),
                validity_months: validity.trim().parse().ok(),
                active: Some(true),
                mandatory: Some(MANDATORY_MODULES.contains(&code)),
            },
        )
        .await?;
        let months = module.validity_months.and_then(|m| u32::try_from(m).ok());
        module_rows.push((module.code, uuid(&module.id)?, months));
    }
    let mut competency_rows = vec![];
    for (code, domain, title, observed) in COMPETENCIES {
        let c = framework::create(
            db,
            manager,
            framework::CompetencyInput {
                code: (*code).into(),
                domain: (*domain).into(),
                title: (*title).into(),
                description: None,
                observations_required: Some(*observed),
                active: Some(true),
            },
        )
        .await?;
        let id = uuid(&c.id)?;
        if *observed > 0 {
            for assessor in assessors {
                framework::set_assessor(db, manager, id, *assessor, true).await?;
            }
        }
        competency_rows.push(((*code).to_string(), id, *observed));
    }
    let mut catalogue = Catalogue {
        modules: module_rows,
        competencies: competency_rows,
        stages: vec![],
    };
    catalogue.stages = seed_pathway(db, manager, &catalogue).await?;
    Ok(catalogue)
}

/// The first day of the national pay tables the migrations seed.
pub fn first_pay_table() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 4, 1).unwrap_or(NaiveDate::MIN)
}

/// Creates the demo pathway; answers its stage ids in order.
async fn seed_pathway(
    db: &Database,
    manager: &Actor,
    catalogue: &Catalogue,
) -> AppResult<Vec<uuid::Uuid>> {
    let created = pathway::create(
        db,
        manager,
        "HCV peer pathway",
        Some("From volunteering to leading peer work in the hepatitis C team"),
    )
    .await?;
    let id = uuid(&created.id)?;
    let mut stage_ids = vec![];
    for (name, band, months, hours, module_codes, comp_codes) in STAGES {
        let band_id = band.map(|b| uuid(&salary::afc_band_id(b))).transpose()?;
        let p = pathway::add_stage(
            db,
            manager,
            id,
            pathway::StageInput {
                name: (*name).into(),
                band_id,
                min_months_in_previous: *months,
                supervision_hours: *hours,
                module_ids: module_codes
                    .iter()
                    .filter_map(|c| catalogue.module(c).map(|m| m.1))
                    .collect(),
                competency_ids: comp_codes
                    .iter()
                    .filter_map(|c| catalogue.competency(c).map(|m| m.1))
                    .collect(),
            },
        )
        .await?;
        let stage = p.stages.last().ok_or(AppError::NotFound)?;
        stage_ids.push(uuid(&stage.id)?);
    }
    Ok(stage_ids)
}
