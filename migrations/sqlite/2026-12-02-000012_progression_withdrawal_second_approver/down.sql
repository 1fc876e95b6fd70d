ALTER TABLE organisations DROP COLUMN second_approver_id;
DELETE FROM progressions WHERE status = 'withdrawn';
CREATE TABLE progressions_old (
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
    decided_at TIMESTAMP,
    decision_reason TEXT,
    effective_on DATE,
    eligible_when_decided BOOLEAN,
    decision_snapshot TEXT,
    override_reason TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO progressions_old SELECT id, worker_id, organisation_id, from_stage_id, to_stage_id,
    to_stage_name, status, rationale, proposed_by, eligible_when_proposed, proposal_snapshot,
    decided_by, decided_at, decision_reason, effective_on, eligible_when_decided,
    decision_snapshot, override_reason, version, created_at, updated_at FROM progressions;
DROP TABLE progressions;
ALTER TABLE progressions_old RENAME TO progressions;
CREATE UNIQUE INDEX progressions_one_open ON progressions (worker_id) WHERE status = 'proposed';
CREATE INDEX progressions_organisation ON progressions (organisation_id, status, id);
