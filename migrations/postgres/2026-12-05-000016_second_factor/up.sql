-- Second factors: a TOTP secret per person (RFC 6238), sealed with the recovery keys like
-- recovery text; single-use recovery codes kept as hashes; the short-lived challenges that sit
-- between a right password and its code. An organisation may require a factor of supervisors.
CREATE TABLE mfa_factors (
    user_id TEXT PRIMARY KEY REFERENCES users (id),
    key_id TEXT NOT NULL,
    secret BYTEA NOT NULL,
    confirmed_at TIMESTAMP,
    last_used_step BIGINT NOT NULL DEFAULT 0,
    created_at TIMESTAMP NOT NULL
);
CREATE TABLE mfa_recovery_codes (
    code_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    used_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX mfa_recovery_codes_user ON mfa_recovery_codes (user_id);
CREATE TABLE mfa_challenges (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL REFERENCES users (id),
    enrolment BOOLEAN NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    expires_at TIMESTAMP NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX mfa_challenges_user ON mfa_challenges (user_id);
ALTER TABLE organisations ADD COLUMN mfa_for_supervisors BOOLEAN NOT NULL DEFAULT FALSE;
