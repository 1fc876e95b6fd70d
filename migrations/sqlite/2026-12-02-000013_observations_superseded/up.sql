-- A revoked sign-off's observations stop counting toward the next request unless the revoking
-- programme manager says they still stand: they are kept, marked with when they were set aside.
ALTER TABLE observations ADD COLUMN superseded_at TIMESTAMP;
