-- A pay table entered wrong is corrected in place, and what it said before is kept: the
-- correction (who, when, why, the figures it replaced) and, for every salary period it
-- repriced, the amount the period held before.
CREATE TABLE pay_table_corrections (
    id TEXT PRIMARY KEY NOT NULL,
    pay_table_id TEXT NOT NULL REFERENCES pay_tables (id),
    note TEXT NOT NULL,
    -- The replaced points as JSON: [{"point", "annual_minor", "years_to_next"}].
    previous_points TEXT NOT NULL,
    corrected_by TEXT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX pay_table_corrections_table ON pay_table_corrections (pay_table_id);

CREATE TABLE salary_corrections (
    id TEXT PRIMARY KEY NOT NULL,
    assignment_id TEXT NOT NULL REFERENCES salary_assignments (id),
    correction_id TEXT NOT NULL REFERENCES pay_table_corrections (id),
    previous_annual_minor BIGINT NOT NULL,
    annual_minor BIGINT NOT NULL
);
CREATE INDEX salary_corrections_assignment ON salary_corrections (assignment_id);
