-- The supervisor queue finds its supervisees' open items by worker and status, oldest first:
-- these answer it from the index (counts without reading the rows) instead of reading every
-- record of every supervisee.
CREATE INDEX training_records_worker_status ON training_records (worker_id, status, created_at);
CREATE INDEX competency_signoffs_worker_status ON competency_signoffs (worker_id, status, created_at);
