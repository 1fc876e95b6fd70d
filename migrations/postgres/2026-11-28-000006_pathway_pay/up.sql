-- Career pathways and pay: salary bands with dated pay tables, salary history, pathways and
-- their stages, stage history, progressions, appraisals and wellbeing pauses. Money is
-- integer minor units (pence) with a currency; days are DATEs.

ALTER TABLE organisations ADD COLUMN supervisors_see_pay BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE training_modules ADD COLUMN mandatory BOOLEAN NOT NULL DEFAULT FALSE;

-- organisation_id NULL: a national band (Agenda for Change), kept by admins.
CREATE TABLE salary_bands (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT REFERENCES organisations (id),
    code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    name TEXT NOT NULL,
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    created_at TIMESTAMP(6) NOT NULL
);
CREATE UNIQUE INDEX salary_bands_code_key ON salary_bands (COALESCE(organisation_id, ''), code_key);

-- A band's pay from a date; a pay award is a new table.
CREATE TABLE pay_tables (
    id TEXT PRIMARY KEY NOT NULL,
    band_id TEXT NOT NULL REFERENCES salary_bands (id),
    effective_from DATE NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    created_by TEXT REFERENCES users (id),
    created_at TIMESTAMP(6) NOT NULL,
    CONSTRAINT pay_tables_effective_from UNIQUE (band_id, effective_from)
);

-- years_to_next: the minimum years at this point before the next; NULL at the top.
CREATE TABLE pay_points (
    pay_table_id TEXT NOT NULL REFERENCES pay_tables (id),
    point INTEGER NOT NULL CHECK (point > 0),
    annual_minor BIGINT NOT NULL CHECK (annual_minor > 0),
    years_to_next INTEGER CHECK (years_to_next IS NULL OR years_to_next > 0),
    PRIMARY KEY (pay_table_id, point)
);

-- A worker's salary history as change points: each row holds until the next row's date,
-- so the history cannot have a gap or an overlap, and no two rows start on the same day.
CREATE TABLE salary_assignments (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    band_id TEXT NOT NULL REFERENCES salary_bands (id),
    pay_table_id TEXT NOT NULL,
    point INTEGER NOT NULL,
    annual_minor BIGINT NOT NULL CHECK (annual_minor > 0),
    currency TEXT NOT NULL,
    effective_from DATE NOT NULL,
    reason TEXT NOT NULL CHECK (reason IN ('appointment', 'progression', 'pay_step', 'pay_award', 'correction')),
    note TEXT NOT NULL DEFAULT '',
    approved_by TEXT NOT NULL REFERENCES users (id),
    progression_id TEXT,
    created_at TIMESTAMP(6) NOT NULL,
    FOREIGN KEY (pay_table_id, point) REFERENCES pay_points (pay_table_id, point),
    CONSTRAINT salary_assignments_effective_from UNIQUE (worker_id, effective_from)
);
CREATE INDEX salary_assignments_band ON salary_assignments (band_id, effective_from);

CREATE TABLE pathways (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    name TEXT NOT NULL,
    name_key TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CONSTRAINT pathways_name_key UNIQUE (organisation_id, name_key)
);

CREATE TABLE pathway_stages (
    id TEXT PRIMARY KEY NOT NULL,
    pathway_id TEXT NOT NULL REFERENCES pathways (id),
    position INTEGER NOT NULL CHECK (position > 0),
    name TEXT NOT NULL,
    band_id TEXT REFERENCES salary_bands (id),
    min_months_in_previous INTEGER NOT NULL DEFAULT 0 CHECK (min_months_in_previous >= 0),
    supervision_minutes INTEGER NOT NULL DEFAULT 0 CHECK (supervision_minutes >= 0),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CONSTRAINT pathway_stages_position UNIQUE (pathway_id, position)
);

CREATE TABLE stage_modules (
    stage_id TEXT NOT NULL REFERENCES pathway_stages (id),
    module_id TEXT NOT NULL REFERENCES training_modules (id),
    PRIMARY KEY (stage_id, module_id)
);

CREATE TABLE stage_competencies (
    stage_id TEXT NOT NULL REFERENCES pathway_stages (id),
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    PRIMARY KEY (stage_id, competency_id)
);

-- The open row (ended_on NULL) is the worker's current stage; stage_name keeps the name the
-- stage had then.
CREATE TABLE stage_history (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    pathway_id TEXT NOT NULL REFERENCES pathways (id),
    stage_id TEXT NOT NULL REFERENCES pathway_stages (id),
    stage_name TEXT NOT NULL,
    started_on DATE NOT NULL,
    ended_on DATE,
    reason TEXT NOT NULL CHECK (reason IN ('placement', 'progression')),
    progression_id TEXT,
    recorded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP(6) NOT NULL
);
CREATE UNIQUE INDEX stage_history_current ON stage_history (worker_id) WHERE ended_on IS NULL;
CREATE INDEX stage_history_worker ON stage_history (worker_id, started_on);

-- A proposed move to the next stage, with the eligibility it was proposed and decided on.
CREATE TABLE progressions (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    from_stage_id TEXT NOT NULL REFERENCES pathway_stages (id),
    to_stage_id TEXT NOT NULL REFERENCES pathway_stages (id),
    to_stage_name TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('proposed', 'approved', 'declined')),
    rationale TEXT NOT NULL,
    proposed_by TEXT NOT NULL REFERENCES users (id),
    eligible_when_proposed BOOLEAN NOT NULL,
    proposal_snapshot TEXT NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP(6),
    decision_reason TEXT,
    effective_on DATE,
    eligible_when_decided BOOLEAN,
    decision_snapshot TEXT,
    override_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE UNIQUE INDEX progressions_one_open ON progressions (worker_id) WHERE status = 'proposed';
CREATE INDEX progressions_organisation ON progressions (organisation_id, status, id);

CREATE TABLE appraisals (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    held_on DATE NOT NULL,
    appraiser_id TEXT NOT NULL REFERENCES users (id),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX appraisals_worker ON appraisals (worker_id, held_on);

-- Dates and a category only: a pause stops the pathway clock without saying why in detail.
-- ended_on is the first day back.
CREATE TABLE wellbeing_pauses (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    starts_on DATE NOT NULL,
    planned_return_on DATE,
    ended_on DATE,
    category TEXT NOT NULL CHECK (category IN ('leave', 'return_to_work', 'other')),
    recorded_by TEXT NOT NULL REFERENCES users (id),
    ended_by TEXT REFERENCES users (id),
    created_at TIMESTAMP(6) NOT NULL,
    CHECK (ended_on IS NULL OR ended_on >= starts_on)
);
CREATE UNIQUE INDEX wellbeing_pauses_open ON wellbeing_pauses (worker_id) WHERE ended_on IS NULL;
CREATE INDEX wellbeing_pauses_worker ON wellbeing_pauses (worker_id, starts_on);
