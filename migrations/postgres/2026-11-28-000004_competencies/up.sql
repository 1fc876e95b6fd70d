-- The competency framework, assessors, sign-offs with their append-only history, and
-- observed practice.

CREATE TABLE competencies (
    id TEXT PRIMARY KEY NOT NULL,
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    code TEXT NOT NULL,
    code_key TEXT NOT NULL,
    domain TEXT NOT NULL,
    title TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    observations_required INTEGER NOT NULL DEFAULT 0 CHECK (observations_required >= 0),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL,
    CONSTRAINT competencies_code_key UNIQUE (organisation_id, code_key)
);

CREATE TABLE competency_assessors (
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    user_id TEXT NOT NULL REFERENCES users (id),
    granted_by TEXT NOT NULL REFERENCES users (id),
    granted_at TIMESTAMP(6) NOT NULL,
    PRIMARY KEY (competency_id, user_id)
);

CREATE TABLE competency_signoffs (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    status TEXT NOT NULL CHECK (status IN ('requested', 'signed_off', 'returned', 'withdrawn', 'revoked')),
    evidence TEXT NOT NULL,
    decided_by TEXT REFERENCES users (id),
    decided_at TIMESTAMP(6),
    reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP(6) NOT NULL,
    updated_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX competency_signoffs_worker ON competency_signoffs (worker_id, competency_id);
CREATE INDEX competency_signoffs_open ON competency_signoffs (organisation_id, status, created_at);

CREATE TABLE signoff_events (
    id TEXT PRIMARY KEY NOT NULL,
    signoff_id TEXT NOT NULL REFERENCES competency_signoffs (id),
    occurred_at TIMESTAMP(6) NOT NULL,
    actor_id TEXT NOT NULL REFERENCES users (id),
    action TEXT NOT NULL,
    note TEXT
);
CREATE INDEX signoff_events_signoff ON signoff_events (signoff_id, id);

CREATE TABLE observations (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    competency_id TEXT NOT NULL REFERENCES competencies (id),
    observer_id TEXT NOT NULL REFERENCES users (id),
    observed_on DATE NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('competent', 'not_yet')),
    note TEXT NOT NULL DEFAULT '',
    created_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX observations_worker ON observations (worker_id, competency_id);
CREATE FUNCTION signoff_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'signoff_events is append-only';
END;
$$;
CREATE TRIGGER signoff_events_no_change BEFORE UPDATE OR DELETE ON signoff_events
FOR EACH STATEMENT EXECUTE FUNCTION signoff_events_append_only();
