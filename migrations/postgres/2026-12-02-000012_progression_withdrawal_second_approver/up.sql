-- A proposal may be withdrawn (by its proposer or a programme manager), and an organisation
-- with one programme manager names a second approver who decides that manager's proposals;
-- a decision records in which capacity it was taken.
ALTER TABLE progressions DROP CONSTRAINT progressions_status_check;
ALTER TABLE progressions ADD CONSTRAINT progressions_status_check
    CHECK (status IN ('proposed', 'approved', 'declined', 'withdrawn'));
ALTER TABLE progressions ADD COLUMN decided_as TEXT CHECK (decided_as IN ('programme_manager', 'second_approver'));
UPDATE progressions SET decided_as = 'programme_manager' WHERE status IN ('approved', 'declined');

ALTER TABLE organisations ADD COLUMN second_approver_id TEXT REFERENCES users (id);
