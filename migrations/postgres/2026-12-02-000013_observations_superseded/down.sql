ALTER TABLE observations DROP COLUMN superseded_at;
