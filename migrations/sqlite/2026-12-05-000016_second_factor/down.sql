ALTER TABLE organisations DROP COLUMN mfa_for_supervisors;
DROP TABLE mfa_challenges;
DROP TABLE mfa_recovery_codes;
DROP TABLE mfa_factors;
