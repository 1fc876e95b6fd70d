//! `peerpath seed-demo`: a demonstration organisation with a realistic history, loaded
//! through the same domain services the API uses (so every rule and audit event applies).
//! It refuses to run in production and against a database holding anything else.

use std::sync::Arc;

use chrono::{Days, Months, NaiveDate, Utc};

use crate::competencies::observations::{self, ObservationInput, Outcome};
use crate::competencies::{framework, signoffs};
use crate::config::Secret;
use crate::db::{self, Database};
use crate::error::{AppError, AppResult};
use crate::identity::users::{self, NewAccount};
use crate::identity::{Actor, DisplayName, Email, Identity, Role};
use crate::ids::{OrganisationId, SessionId, UserId};
use crate::notifications::Notifications;
use crate::organisations;
use crate::training::modules::{self, Category, ModuleInput};
use crate::training::records::{self, RecordInput};
use crate::workers::supervision::{self, SessionInput, SessionKind};
use crate::workers::{self, NewWorker};
use crate::{pathway, salary};

pub const DEMO_ORGANISATION: &str = "Demo: North West HCV Peer Service";
pub const DEMO_DOMAIN: &str = "demo.peerpath.invalid";
const MODULES_CSV: &str = include_str!("../seed/hcv-modules.csv");
/// The statutory and mandatory subjects of the catalogue (safeguarding, information
/// governance, infection prevention and control, the other statutory subjects).
const MANDATORY_MODULES: &[&str] = &["HCV-13", "HCV-14", "HCV-15", "HCV-19"];

/// (code, domain, title, observed practices needed)
const COMPETENCIES: &[(&str, &str, &str, i32)] = &[
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

/// (display name, months since they started) of the demo peer workers, so that the demo
/// always shows every paid stage; the first three are supervised by the first supervisor,
/// the rest by the second.
const WORKERS: &[(&str, u32)] = &[
    ("Robin Ashworth", 43),
    ("Danny Kowalski", 34),
    ("Maxine Achebe", 26),
    ("Lee Fairbairn", 48),
    ("Sam O'Rourke", 20),
    ("Jo Whitfield", 5),
];

/// (name, AfC band, months in the stage before, supervision hours, modules, competencies)
type StageSeed = (
    &'static str,
    Option<u8>,
    i32,
    f64,
    &'static [&'static str],
    &'static [&'static str],
);

/// The demo pathway: peer support workers on band 3, advanced peer support workers on
/// band 4, peer case workers on band 5.
const STAGES: &[StageSeed] = &[
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

fn uuid(id: &str) -> AppResult<uuid::Uuid> {
    uuid::Uuid::parse_str(id).map_err(|e| AppError::internal(e.to_string()))
}

pub enum SeedOutcome {
    Loaded { password: Option<String> },
    AlreadyLoaded,
}

fn actor(user: UserId, role: Role, organisation: Option<OrganisationId>) -> Actor {
    Actor {
        user_id: user,
        role,
        organisation_id: organisation,
        session_id: SessionId::generate(),
        request_id: Some("seed-demo".into()),
    }
}

fn category(value: &str) -> Category {
    Category::parse(value).unwrap_or(Category::Other)
}

/// Whether the database is empty, holds the demo only, or holds other data.
async fn state(db: &Database) -> AppResult<Option<bool>> {
    db.run(|conn| {
        let orgs = db::organisations::list(conn, None, None, 1000)?;
        let users = db::users::list(conn, &Default::default(), None, 1000)?;
        let demo_org = orgs.iter().any(|o| o.name == DEMO_ORGANISATION);
        let others = orgs.iter().any(|o| o.name != DEMO_ORGANISATION)
            || users
                .iter()
                .any(|u| !u.email_key.ends_with(&format!("@{DEMO_DOMAIN}")));
        if others {
            return Ok(None);
        }
        Ok(Some(demo_org))
    })
    .await
}

struct People {
    identity: Arc<Identity>,
    db: Database,
    mailer: Arc<Notifications>,
    password: Secret,
}

impl People {
    async fn create(
        &self,
        by: &Actor,
        name: &str,
        role: Role,
        org: Option<OrganisationId>,
    ) -> AppResult<UserId> {
        let local: String = name
            .to_lowercase()
            .chars()
            .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .collect::<String>()
            .replace(' ', ".");
        let user = users::create_user(
            &self.identity,
            &self.db,
            &self.mailer,
            by,
            NewAccount {
                email: Email::parse(&format!("{local}@{DEMO_DOMAIN}"))?,
                display_name: DisplayName::parse(name)?,
                role,
                organisation_id: org,
                password: Some(self.password.clone()),
            },
            |_, _| Ok(()),
        )
        .await?;
        Ok(user.id)
    }
}

/// Loads the demo, or reports that it is there already.
pub async fn seed(
    db: &Database,
    identity: &Arc<Identity>,
    mailer: &Arc<Notifications>,
    password: Option<String>,
) -> AppResult<SeedOutcome> {
    match state(db).await? {
        None => {
            return Err(AppError::conflict(
                "This database holds data other than the demo; seed-demo runs only on an empty database.",
            ));
        }
        Some(true) => return Ok(SeedOutcome::AlreadyLoaded),
        Some(false) => {}
    }
    // The demo's history happened on other days: none of its emails are due today.
    let mailer = &mailer.silenced().map_err(AppError::internal)?;
    let generated = password.is_none();
    let password = match password {
        Some(p) => p,
        None => {
            crate::identity::tokens::random_key().map_err(AppError::internal)?[..20].to_string()
        }
    };
    crate::identity::passwords::check_policy(&password, "PEERPATH_DEMO_PASSWORD")?;
    let people = People {
        identity: identity.clone(),
        db: db.clone(),
        mailer: mailer.clone(),
        password: Secret::new(password.clone()),
    };

    let admin = users::create_admin(
        &identity.hasher,
        db,
        &format!("admin@{DEMO_DOMAIN}"),
        "Demo Admin",
        people.password.clone(),
    )
    .await?;
    let admin = actor(admin.id, Role::Admin, None);
    let org = organisations::create_organisation(db, &admin, DEMO_ORGANISATION, |_, _| Ok(()))
        .await?
        .id;
    let manager_id = people
        .create(&admin, "Priya Manager", Role::ProgrammeManager, Some(org))
        .await?;
    let manager = actor(manager_id, Role::ProgrammeManager, Some(org));
    let sup_a = people
        .create(&manager, "Alex Supervisor", Role::Supervisor, Some(org))
        .await?;
    let sup_b = people
        .create(&manager, "Morgan Supervisor", Role::Supervisor, Some(org))
        .await?;
    let supervisors = [
        actor(sup_a, Role::Supervisor, Some(org)),
        actor(sup_b, Role::Supervisor, Some(org)),
    ];

    // The catalogue, from the seed file.
    let mut module_ids = vec![];
    let mut module_codes = vec![];
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
            &manager,
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
        module_codes.push((module.code.clone(), module.id.clone()));
        module_ids.push((module.id, module.validity_months));
    }

    let mut competency_ids = vec![];
    for (code, domain, title, observed) in COMPETENCIES {
        let c = framework::create(
            db,
            &manager,
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
        competency_ids.push((c.id, *observed));
    }
    // Both supervisors are trained assessors of what needs observed practice: only an
    // assessor signs those off.
    for (id, observed) in &competency_ids {
        if *observed > 0 {
            let id = uuid::Uuid::parse_str(id).map_err(|e| AppError::internal(e.to_string()))?;
            for supervisor in [sup_a, sup_b] {
                framework::set_assessor(db, &manager, id, supervisor, true).await?;
            }
        }
    }

    let stages = seed_pathway(db, &manager, &module_codes, &competency_ids).await?;

    let today = Utc::now().date_naive();
    for (i, (name, months)) in WORKERS.iter().enumerate() {
        let user = people
            .create(&manager, name, Role::PeerWorker, Some(org))
            .await?;
        let supervisor = &supervisors[usize::from(i >= 3)];
        let start = today
            .checked_sub_months(Months::new(*months))
            .unwrap_or(today);
        workers::create_worker(
            db,
            &manager,
            NewWorker {
                user_id: user,
                supervisor_id: Some(supervisor.user_id),
                preferred_name: None,
                start_date: start,
            },
        )
        .await?;
        let me = actor(user, Role::PeerWorker, Some(org));
        place_and_pay(db, &manager, supervisor, user, start, &stages).await?;
        let tenure_months = (today.signed_duration_since(start).num_days() / 30).max(1) as u32;
        // Longer-serving workers have done more of the catalogue.
        let done = (module_ids.len() * (tenure_months.min(36) as usize) / 36).max(3);
        for (k, (module, validity)) in module_ids.iter().take(done).enumerate() {
            let back = Months::new(
                (tenure_months.saturating_sub(1) * (k as u32 + 1) / done as u32).min(tenure_months),
            );
            let mut completed = today.checked_sub_months(back).unwrap_or(start).max(start);
            // A few renewals fall due soon, so reminders have something to say.
            if k % 5 == 1 && validity.is_some() {
                completed = today
                    .checked_sub_months(Months::new(12))
                    .and_then(|d| d.checked_add_days(Days::new(20 + k as u64)))
                    .unwrap_or(completed)
                    .min(today);
            }
            let record = records::log_training(
                db,
                &me,
                user,
                RecordInput {
                    module_id: uuid::Uuid::parse_str(module)
                        .map_err(|e| AppError::internal(e.to_string()))?,
                    completed_on: completed,
                    hours: 3.0,
                    provider: "Hepatitis C Trust peer training".into(),
                    evidence: Some("Certificate on file".into()),
                },
            )
            .await?;
            // The newest record of each worker still waits for verification.
            if k + 1 < done {
                let id = uuid::Uuid::parse_str(&record.id)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                records::decide_record(db, mailer, supervisor, id, None).await?;
            }
        }
        // Sign-offs: experienced workers have most; newer ones have requests waiting.
        let signed =
            (COMPETENCIES.len() * (tenure_months.min(30) as usize) / 30).min(COMPETENCIES.len());
        for (k, (competency, observed)) in competency_ids.iter().enumerate().take(signed + 1) {
            let cid =
                uuid::Uuid::parse_str(competency).map_err(|e| AppError::internal(e.to_string()))?;
            for n in 0..*observed {
                observations::record(
                    db,
                    supervisor,
                    user,
                    ObservationInput {
                        competency_id: cid,
                        observed_on: today
                            .checked_sub_days(Days::new(u64::from(n as u32) * 7 + 3))
                            .unwrap_or(today),
                        outcome: Outcome::Competent,
                        note: Some("Observed at the outreach clinic".into()),
                    },
                )
                .await?;
            }
            let s = signoffs::request(
                db,
                mailer,
                &me,
                user,
                cid,
                "Practice log and reflections".into(),
            )
            .await?;
            if k < signed {
                let sid =
                    uuid::Uuid::parse_str(&s.id).map_err(|e| AppError::internal(e.to_string()))?;
                signoffs::decide(
                    db,
                    mailer,
                    supervisor,
                    sid,
                    signoffs::Decision::SignOff(None),
                )
                .await?;
            }
        }
        for w in 0..(tenure_months.min(12)) {
            let held = today
                .checked_sub_days(Days::new(u64::from(w) * 30 + 5))
                .unwrap_or(today);
            let kind = if w % 3 == 0 {
                SessionKind::ReflectivePractice
            } else {
                SessionKind::OneToOne
            };
            let session = supervision::record(
                db,
                supervisor,
                user,
                SessionInput {
                    held_on: held.max(start),
                    minutes: 60,
                    kind,
                    theme: Some("Caseload and wellbeing".into()),
                },
            )
            .await?;
            if w > 0 {
                let id = uuid::Uuid::parse_str(&session.id)
                    .map_err(|e| AppError::internal(e.to_string()))?;
                supervision::confirm(db, &me, id).await?;
            }
        }
    }
    Ok(SeedOutcome::Loaded {
        password: generated.then_some(password),
    })
}

/// Creates the demo pathway; answers its stage ids in order.
async fn seed_pathway(
    db: &Database,
    manager: &Actor,
    modules: &[(String, String)],
    competencies: &[(String, i32)],
) -> AppResult<Vec<uuid::Uuid>> {
    let created = pathway::create(
        db,
        manager,
        "HCV peer pathway",
        Some("From volunteering to leading peer work in the hepatitis C team"),
    )
    .await?;
    let id = uuid(&created.id)?;
    let ids = |codes: &[&str], all: &[(String, String)]| -> AppResult<Vec<uuid::Uuid>> {
        codes
            .iter()
            .filter_map(|c| all.iter().find(|(code, _)| code == c))
            .map(|(_, id)| uuid(id))
            .collect()
    };
    let competency_codes: Vec<(String, String)> = COMPETENCIES
        .iter()
        .zip(competencies)
        .map(|((code, ..), (id, _))| ((*code).to_string(), id.clone()))
        .collect();
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
                module_ids: ids(module_codes, modules)?,
                competency_ids: ids(comp_codes, &competency_codes)?,
            },
        )
        .await?;
        let stage = p.stages.last().ok_or(AppError::NotFound)?;
        stage_ids.push(uuid(&stage.id)?);
    }
    Ok(stage_ids)
}

/// Places a worker by tenure (under a year: peer support worker; under three: advanced;
/// then peer case worker), with the pay of their stage and an appraisal this year.
async fn place_and_pay(
    db: &Database,
    manager: &Actor,
    supervisor: &Actor,
    worker: UserId,
    start: NaiveDate,
    stages: &[uuid::Uuid],
) -> AppResult<()> {
    let today = Utc::now().date_naive();
    let years = |n: u32| {
        start
            .checked_add_months(Months::new(12 * n))
            .unwrap_or(start)
    };
    let placements: Vec<(usize, NaiveDate)> = [(1, start), (2, years(1)), (3, years(3))]
        .into_iter()
        .filter(|(_, since)| *since <= today)
        .collect();
    // The national pay tables start in April 2024.
    let first_table = NaiveDate::from_ymd_opt(2024, 4, 1).unwrap_or(start);
    let mut pay: Vec<(NaiveDate, usize)> = vec![];
    for (stage, since) in &placements {
        pathway::place(db, manager, worker, stages[*stage], *since).await?;
        let from = (*since).max(first_table);
        // Stages before the first table collapse onto its day: the later stage's pay holds.
        pay.retain(|(day, _)| *day != from);
        pay.push((from, *stage));
    }
    for (from, stage) in pay {
        let band = STAGES[stage].1.unwrap_or(3);
        salary::history::assign(
            db,
            manager,
            worker,
            salary::history::AssignInput {
                band_id: uuid(&salary::afc_band_id(band))?,
                point: 1,
                effective_from: from,
                reason: salary::history::Reason::Appointment,
                note: Some(format!("Appointed as {}", STAGES[stage].0)),
            },
        )
        .await?;
    }
    if start < today - Days::new(90) {
        salary::steps::record_appraisal(db, supervisor, worker, today - Days::new(60), None)
            .await?;
    }
    Ok(())
}
