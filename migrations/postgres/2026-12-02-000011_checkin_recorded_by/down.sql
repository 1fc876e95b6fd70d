ALTER TABLE checkins DROP COLUMN recorded_by;
