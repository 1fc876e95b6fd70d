-- Recovery support: relapse-prevention plans and check-ins, which belong to the worker.
-- Free text is stored sealed (XChaCha20-Poly1305) with the id of the key that sealed it;
-- nothing here is read by pathway, pay or report code.

ALTER TABLE organisations ADD COLUMN wellbeing_contact_email TEXT;

CREATE TABLE recovery_plans (
    worker_id TEXT PRIMARY KEY NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE recovery_plan_sections (
    worker_id TEXT NOT NULL REFERENCES recovery_plans (worker_id),
    section TEXT NOT NULL CHECK (section IN ('when_well', 'wellness_toolbox', 'daily_maintenance',
        'triggers', 'early_warning_signs', 'breaking_down', 'crisis_plan', 'support_contacts')),
    key_id TEXT NOT NULL,
    content BLOB NOT NULL,
    shared BOOLEAN NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (worker_id, section)
);

CREATE TABLE checkin_cadences (
    worker_id TEXT PRIMARY KEY NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    every_days INTEGER NOT NULL CHECK (every_days BETWEEN 1 AND 90),
    since DATE NOT NULL,
    agreed_by TEXT NOT NULL REFERENCES users (id),
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE checkins (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    held_on DATE NOT NULL,
    with_supervisor BOOLEAN NOT NULL,
    wellbeing INTEGER NOT NULL CHECK (wellbeing BETWEEN 1 AND 5),
    risk TEXT NOT NULL CHECK (risk IN ('none', 'low', 'raised', 'urgent')),
    call_requested BOOLEAN NOT NULL,
    key_id TEXT NOT NULL,
    actions BLOB,
    notes BLOB,
    actions_shared BOOLEAN NOT NULL DEFAULT 0,
    notes_shared BOOLEAN NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX checkins_worker ON checkins (worker_id, held_on);
CREATE INDEX checkins_organisation ON checkins (organisation_id, held_on);
