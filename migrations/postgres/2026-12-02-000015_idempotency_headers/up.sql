-- Idempotency covers every creating POST through one middleware: a key is reserved before the
-- request runs (status_code 0) and completed with the answer, headers included.
ALTER TABLE idempotency_keys ADD COLUMN response_headers TEXT NOT NULL DEFAULT '[]';
