-- A check-in held together may be recorded by the supervisor; it still belongs to the worker.
-- Absent on rows written before this column: the worker recorded those.
ALTER TABLE checkins ADD COLUMN recorded_by TEXT REFERENCES users (id);
