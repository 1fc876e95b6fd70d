ALTER TABLE organisations DROP COLUMN second_approver_id;
DELETE FROM progressions WHERE status = 'withdrawn';
ALTER TABLE progressions DROP COLUMN decided_as;
ALTER TABLE progressions DROP CONSTRAINT progressions_status_check;
ALTER TABLE progressions ADD CONSTRAINT progressions_status_check
    CHECK (status IN ('proposed', 'approved', 'declined'));
