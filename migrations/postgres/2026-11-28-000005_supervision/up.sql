-- Supervision and reflective-practice sessions, recorded by the supervisor and confirmed
-- by the worker.

CREATE TABLE supervision_sessions (
    id TEXT PRIMARY KEY NOT NULL,
    worker_id TEXT NOT NULL REFERENCES workers (user_id),
    organisation_id TEXT NOT NULL REFERENCES organisations (id),
    supervisor_id TEXT NOT NULL REFERENCES users (id),
    held_on DATE NOT NULL,
    minutes INTEGER NOT NULL CHECK (minutes > 0),
    kind TEXT NOT NULL CHECK (kind IN ('one_to_one', 'group', 'reflective_practice')),
    theme TEXT NOT NULL DEFAULT '',
    confirmed_at TIMESTAMP(6),
    created_at TIMESTAMP(6) NOT NULL
);
CREATE INDEX supervision_sessions_worker ON supervision_sessions (worker_id, id);
