//! The dataset at a named scale, deterministic from a seed, written by multi-row INSERTs
//! that respect every constraint (ids, foreign keys, checks, one open stage per worker).

use diesel::connection::SimpleConnection;
use peerpath::db::{Backend, Database};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Small,
    Medium,
    Large,
}

impl Scale {
    pub fn parse(value: &str) -> Result<Self, String> {
        match value {
            "small" => Ok(Self::Small),
            "medium" => Ok(Self::Medium),
            "large" => Ok(Self::Large),
            other => Err(format!("unknown scale {other:?}: small, medium or large")),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            Self::Small => "small",
            Self::Medium => "medium",
            Self::Large => "large",
        }
    }
    /// (organisations, workers per organisation).
    pub fn shape(self) -> (usize, usize) {
        match self {
            Self::Small => (1, 200),
            Self::Medium => (10, 1_000),
            Self::Large => (10, 10_000),
        }
    }
}

pub const RECORDS_PER_WORKER: usize = 50;
pub const SIGNOFFS_PER_WORKER: usize = 5;
pub const CHECKINS_PER_WORKER: usize = 10;
pub const WORKERS_PER_SUPERVISOR: usize = 25;
const MODULES: usize = 19;
const COMPETENCIES: usize = 13;
const STAGES: usize = 4;
const BATCH: usize = 500;
const NOW: &str = "'2026-11-01 09:00:00'";
/// National AfC band 3 and its 2024 table (seeded by the migrations).
const AFC3: &str = "0193a000-0000-7000-8000-000000000003";
const AFC3_TABLE: &str = "0193a000-0000-7000-8000-000000000103";
const AFC4: &str = "0193a000-0000-7000-8000-000000000004";

/// A deterministic id: kind, organisation and number.
pub fn id(kind: u32, org: usize, n: usize) -> String {
    format!("{kind:08x}-{org:04x}-7000-8000-{n:012x}")
}

pub const USER: u32 = 1;
pub const ORG: u32 = 2;

/// Who the runner logs in as.
pub fn email(org: usize, role: &str, n: usize) -> String {
    format!("{role}{n}.o{org}@bench.peerpath.invalid")
}

/// xorshift64*: enough for reproducible synthetic data.
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self(seed.max(1))
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

struct Writer<'a> {
    sql: &'a mut Vec<String>,
    table: &'static str,
    columns: &'static str,
    rows: Vec<String>,
}

impl<'a> Writer<'a> {
    fn new(sql: &'a mut Vec<String>, table: &'static str, columns: &'static str) -> Self {
        Self {
            sql,
            table,
            columns,
            rows: vec![],
        }
    }
    fn row(&mut self, values: String) {
        self.rows.push(values);
        if self.rows.len() == BATCH {
            self.flush();
        }
    }
    fn flush(&mut self) {
        if !self.rows.is_empty() {
            self.sql.push(format!(
                "INSERT INTO {} ({}) VALUES ({});",
                self.table,
                self.columns,
                self.rows.join("),(")
            ));
            self.rows.clear();
        }
    }
}

impl Drop for Writer<'_> {
    fn drop(&mut self) {
        self.flush();
    }
}

fn q(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

fn day(days_before: usize) -> String {
    let d = chrono::NaiveDate::from_ymd_opt(2026, 11, 1).unwrap_or_default()
        - chrono::Days::new(days_before as u64);
    format!("'{d}'")
}

/// Writes the dataset; answers the number of rows written.
pub async fn generate(
    db: &Database,
    scale: Scale,
    seed: u64,
    password_hash: &str,
) -> Result<usize, String> {
    let (orgs, per_org) = scale.shape();
    let (t, f) = match db.backend {
        Backend::Sqlite => ("1", "0"),
        Backend::Postgres => ("TRUE", "FALSE"),
    };
    let mut total = 0;
    for org in 0..orgs {
        let mut sql = vec![];
        let rows = org_sql(&mut sql, org, per_org, seed, password_hash, t, f);
        total += rows;
        let pool = db.pool.clone();
        actix_web::web::block(move || -> Result<(), String> {
            let mut conn = pool.get().map_err(|e| e.to_string())?;
            conn.batch_execute("BEGIN").map_err(|e| e.to_string())?;
            for statement in &sql {
                conn.batch_execute(statement)
                    .map_err(|e| format!("{e}: {}", &statement[..200.min(statement.len())]))?;
            }
            conn.batch_execute("COMMIT").map_err(|e| e.to_string())?;
            Ok(())
        })
        .await
        .map_err(|e| e.to_string())??;
    }
    let pool = db.pool.clone();
    // On PostgreSQL, also the vacuum that autovacuum would otherwise start after the bulk
    // insert, in the middle of the measurements.
    let settle = match db.backend {
        Backend::Postgres => "VACUUM ANALYZE",
        Backend::Sqlite => "ANALYZE",
    };
    actix_web::web::block(move || -> Result<(), String> {
        let mut conn = pool.get().map_err(|e| e.to_string())?;
        conn.batch_execute(settle).map_err(|e| e.to_string())
    })
    .await
    .map_err(|e| e.to_string())??;
    Ok(total)
}

#[allow(clippy::too_many_lines)]
fn org_sql(
    sql: &mut Vec<String>,
    org: usize,
    per_org: usize,
    seed: u64,
    password_hash: &str,
    t: &str,
    f: &str,
) -> usize {
    let mut rng = Rng::new(seed ^ ((org as u64 + 1) * 0x9E37_79B9));
    let mut rows = 0;
    let org_id = id(ORG, org, 0);
    {
        let mut w = Writer::new(
            sql,
            "organisations",
            "id, name, name_key, version, created_at, updated_at, supervisors_see_pay",
        );
        w.row(format!(
            "{}, 'Bench organisation {org}', 'bench organisation {org}', 1, {NOW}, {NOW}, {f}",
            q(&org_id)
        ));
        rows += 1;
    }
    let supervisors = (per_org / WORKERS_PER_SUPERVISOR).max(2);
    let manager = id(USER, org, 0);
    let supervisor = |n: usize| id(USER, org, 1 + n);
    let worker = |n: usize| id(USER, org, 1 + supervisors + n);
    {
        let mut w = Writer::new(
            sql,
            "users",
            "id, email, email_key, display_name, role, organisation_id, password_hash, active, version, created_at, updated_at",
        );
        let mut user = |id: &str, email: String, role: &str| {
            w.row(format!(
                "{}, {}, {}, {}, '{role}', {}, {}, {t}, 1, {NOW}, {NOW}",
                q(id),
                q(&email),
                q(&email),
                q(&format!("Bench {role}")),
                q(&org_id),
                q(password_hash)
            ));
        };
        user(&manager, email(org, "manager", 0), "programme_manager");
        for n in 0..supervisors {
            user(&supervisor(n), email(org, "supervisor", n), "supervisor");
        }
        for n in 0..per_org {
            user(&worker(n), email(org, "worker", n), "peer_worker");
        }
        rows += 1 + supervisors + per_org;
    }
    let sup_of = |n: usize| supervisor(n % supervisors);
    {
        let mut w = Writer::new(
            sql,
            "workers",
            "user_id, organisation_id, supervisor_id, start_date, status, version, created_at, updated_at",
        );
        for n in 0..per_org {
            w.row(format!(
                "{}, {}, {}, {}, 'active', 1, {NOW}, {NOW}",
                q(&worker(n)),
                q(&org_id),
                q(&sup_of(n)),
                day(400 + n % 700)
            ));
        }
        rows += per_org;
    }
    {
        let mut w = Writer::new(
            sql,
            "supervisor_assignments",
            "id, worker_id, supervisor_id, assigned_by, started_at",
        );
        for n in 0..per_org {
            w.row(format!(
                "{}, {}, {}, {}, {NOW}",
                q(&id(3, org, n)),
                q(&worker(n)),
                q(&sup_of(n)),
                q(&manager)
            ));
        }
        rows += per_org;
    }
    let module = |n: usize| id(4, org, n);
    {
        let mut w = Writer::new(
            sql,
            "training_modules",
            "id, organisation_id, code, code_key, title, description, category, typical_minutes, validity_months, active, version, created_at, updated_at, mandatory",
        );
        for n in 0..MODULES {
            let validity = if n % 3 == 0 {
                "12".to_string()
            } else {
                "NULL".to_string()
            };
            w.row(format!(
                "{}, {}, 'HCV-{n:02}', 'hcv-{n:02}', 'Module {n}', '', 'testing', 180, {validity}, {t}, 1, {NOW}, {NOW}, {}",
                q(&module(n)),
                q(&org_id),
                if n >= 16 { t } else { f }
            ));
        }
        rows += MODULES;
    }
    let competency = |n: usize| id(5, org, n);
    {
        let mut w = Writer::new(
            sql,
            "competencies",
            "id, organisation_id, code, code_key, domain, title, description, observations_required, active, version, created_at, updated_at",
        );
        for n in 0..COMPETENCIES {
            w.row(format!(
                "{}, {}, 'C-{n:02}', 'c-{n:02}', 'Practice', 'Able to do {n}', '', {}, {t}, 1, {NOW}, {NOW}",
                q(&competency(n)),
                q(&org_id),
                if n % 4 == 0 { 3 } else { 0 }
            ));
        }
        rows += COMPETENCIES;
    }
    let pathway = id(6, org, 0);
    let stage = |n: usize| id(7, org, n);
    {
        let mut w = Writer::new(
            sql,
            "pathways",
            "id, organisation_id, name, name_key, description, version, created_at, updated_at",
        );
        w.row(format!(
            "{}, {}, 'HCV peer pathway', 'hcv peer pathway', '', 1, {NOW}, {NOW}",
            q(&pathway),
            q(&org_id)
        ));
    }
    {
        let mut w = Writer::new(
            sql,
            "pathway_stages",
            "id, pathway_id, position, name, band_id, min_months_in_previous, supervision_minutes, version, created_at, updated_at",
        );
        for n in 0..STAGES {
            let band = match n {
                0 => "NULL".to_string(),
                1 => q(AFC3),
                _ => q(AFC4),
            };
            w.row(format!(
                "{}, {}, {}, 'Stage {n}', {band}, {}, {}, 1, {NOW}, {NOW}",
                q(&stage(n)),
                q(&pathway),
                n + 1,
                n * 6,
                n * 600
            ));
        }
        rows += 1 + STAGES;
    }
    {
        let mut w = Writer::new(sql, "stage_modules", "stage_id, module_id");
        for s in 1..STAGES {
            for m in 0..5 {
                w.row(format!(
                    "{}, {}",
                    q(&stage(s)),
                    q(&module((s * 5 + m) % MODULES))
                ));
            }
        }
    }
    {
        let mut w = Writer::new(sql, "stage_competencies", "stage_id, competency_id");
        for s in 1..STAGES {
            for c in 0..3 {
                w.row(format!(
                    "{}, {}",
                    q(&stage(s)),
                    q(&competency((s * 3 + c) % COMPETENCIES))
                ));
            }
        }
    }
    {
        let mut w = Writer::new(
            sql,
            "stage_history",
            "id, worker_id, organisation_id, pathway_id, stage_id, stage_name, started_on, reason, recorded_by, created_at",
        );
        for n in 0..per_org {
            let s = 1 + n % (STAGES - 1);
            w.row(format!(
                "{}, {}, {}, {}, {}, 'Stage {s}', {}, 'placement', {}, {NOW}",
                q(&id(8, org, n)),
                q(&worker(n)),
                q(&org_id),
                q(&pathway),
                q(&stage(s)),
                day(30 + n % 300),
                q(&manager)
            ));
        }
        rows += per_org;
    }
    {
        let mut w = Writer::new(
            sql,
            "salary_assignments",
            "id, worker_id, organisation_id, band_id, pay_table_id, point, annual_minor, currency, effective_from, reason, note, approved_by, created_at",
        );
        for n in 0..per_org {
            w.row(format!(
                "{}, {}, {}, {}, {}, 1, 2407100, 'GBP', {}, 'appointment', '', {}, {NOW}",
                q(&id(9, org, n)),
                q(&worker(n)),
                q(&org_id),
                q(AFC3),
                q(AFC3_TABLE),
                day(200 + n % 500),
                q(&manager)
            ));
        }
        rows += per_org;
    }
    {
        let mut w = Writer::new(
            sql,
            "training_records",
            "id, worker_id, organisation_id, module_id, completed_on, minutes, provider, evidence, status, expires_on, decided_by, decided_at, version, created_at, updated_at",
        );
        for n in 0..per_org {
            for r in 0..RECORDS_PER_WORKER {
                let m = rng.below(MODULES);
                let ago = 10 + rng.below(900);
                let verified = rng.below(10) < 8;
                let expires = if m.is_multiple_of(3) {
                    day(ago.saturating_sub(365))
                } else {
                    "NULL".into()
                };
                w.row(format!(
                    "{}, {}, {}, {}, {}, 120, 'Bench provider', '', '{}', {expires}, {}, {}, 1, {NOW}, {NOW}",
                    q(&id(10, org, n * RECORDS_PER_WORKER + r)),
                    q(&worker(n)),
                    q(&org_id),
                    q(&module(m)),
                    day(ago),
                    if verified { "verified" } else { "logged" },
                    if verified { q(&sup_of(n)) } else { "NULL".into() },
                    if verified { NOW.to_string() } else { "NULL".into() },
                ));
            }
        }
        rows += per_org * RECORDS_PER_WORKER;
    }
    {
        let mut signoffs = vec![];
        {
            let mut w = Writer::new(
                sql,
                "competency_signoffs",
                "id, worker_id, organisation_id, competency_id, status, evidence, decided_by, decided_at, version, created_at, updated_at",
            );
            for n in 0..per_org {
                for s in 0..SIGNOFFS_PER_WORKER {
                    let sid = id(11, org, n * SIGNOFFS_PER_WORKER + s);
                    let signed = (n + s) % 3 != 0;
                    w.row(format!(
                        "{}, {}, {}, {}, '{}', 'Evidence', {}, {}, 1, {NOW}, {NOW}",
                        q(&sid),
                        q(&worker(n)),
                        q(&org_id),
                        q(&competency((n + s * 2) % COMPETENCIES)),
                        if signed { "signed_off" } else { "requested" },
                        if signed { q(&sup_of(n)) } else { "NULL".into() },
                        if signed {
                            NOW.to_string()
                        } else {
                            "NULL".into()
                        },
                    ));
                    signoffs.push((sid, worker(n)));
                }
            }
        }
        let mut w = Writer::new(
            sql,
            "signoff_events",
            "id, signoff_id, occurred_at, actor_id, action",
        );
        for (i, (sid, by)) in signoffs.iter().enumerate() {
            w.row(format!(
                "{}, {}, {NOW}, {}, 'requested'",
                q(&id(12, org, i)),
                q(sid),
                q(by)
            ));
        }
        rows += signoffs.len() * 2;
    }
    {
        let mut w = Writer::new(
            sql,
            "checkins",
            "id, worker_id, organisation_id, held_on, with_supervisor, wellbeing, risk, call_requested, key_id, actions_shared, notes_shared, created_at, updated_at",
        );
        for n in 0..per_org {
            for c in 0..CHECKINS_PER_WORKER {
                w.row(format!(
                    "{}, {}, {}, {}, {f}, {}, 'none', {f}, 'bench', {f}, {f}, {NOW}, {NOW}",
                    q(&id(13, org, n * CHECKINS_PER_WORKER + c)),
                    q(&worker(n)),
                    q(&org_id),
                    day(c * 14 + n % 14),
                    1 + rng.below(5)
                ));
            }
        }
        rows += per_org * CHECKINS_PER_WORKER;
    }
    {
        let mut w = Writer::new(
            sql,
            "supervision_sessions",
            "id, worker_id, organisation_id, supervisor_id, held_on, minutes, kind, theme, confirmed_at, created_at",
        );
        for n in 0..per_org {
            for s in 0..4 {
                w.row(format!(
                    "{}, {}, {}, {}, {}, 60, 'one_to_one', '', {NOW}, {NOW}",
                    q(&id(14, org, n * 4 + s)),
                    q(&worker(n)),
                    q(&org_id),
                    q(&sup_of(n)),
                    day(s * 30 + 5)
                ));
            }
        }
        rows += per_org * 4;
    }
    {
        let mut w = Writer::new(
            sql,
            "appraisals",
            "id, worker_id, organisation_id, held_on, appraiser_id, recorded_by, created_at",
        );
        for n in 0..per_org {
            w.row(format!(
                "{}, {}, {}, {}, {}, {}, {NOW}",
                q(&id(15, org, n)),
                q(&worker(n)),
                q(&org_id),
                day(n % 400),
                q(&sup_of(n)),
                q(&sup_of(n))
            ));
        }
        rows += per_org;
    }
    rows
}
