-- Worker profiles (with their supervisor history), the training module catalogue and
-- training records.

CREATE TABLE workers (
    user_id TEXT PRIMARY KEY NOT NULL REFERENCES users (id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    supervisor_id TEXT REFERENCES users (id),
    preferred_name TEXT,
    start_date DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'paused', 'left')),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX workers_organisation ON workers (organisation_id, user_id);
CREATE INDEX workers_supervisor ON workers (supervisor_id);

CREATE TABLE supervisor_assignments (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    supervisor_id TEXT REFERENCES users (id),
    assigned_by TEXT NOT NULL REFERENCES users (id),
    started_at TIMESTAMP(6) NOT NULL,
    ended_at TIMESTAMP(6)
);
CREATE INDEX supervisor_assignments_worker ON supervisor_assignments (worker_id, started_at);

CREATE TABLE training_modules (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    category TEXT NOT NULL CHECK (category IN ('hcv_clinical', 'testing', 'harm_reduction',
        'safeguarding', 'communication', 'data_protection', 'wellbeing_boundaries', 'other')),
    typical_minutes INTEGER,
    validity_months INTEGER CHECK (validity_months IS NULL OR validity_months > 0),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CONSTRAINT training_modules_code_key UNIQUE (organisation_id, code_key)
);

CREATE TABLE training_records (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    module_id TEXT NOT NULL REFERENCES training_modules (id),
    completed_on DATE NOT NULL,
    minutes INTEGER NOT NULL CHECK (minutes > 0),
    provider TEXT NOT NULL,
    evidence TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL CHECK (status IN ('logged', 'verified', 'rejected', 'withdrawn')),
    expires_on DATE,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP(6),
    decision_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX training_records_worker ON training_records (worker_id, id);
CREATE INDEX training_records_module ON training_records (module_id);
CREATE INDEX training_records_pending ON training_records (organisation_id, status, created_at);
