DROP TABLE observations;
DROP TRIGGER signoff_events_no_change ON signoff_events;
DROP FUNCTION signoff_events_append_only();
DROP TABLE signoff_events;
DROP TABLE competency_signoffs;
DROP TABLE competency_assessors;
DROP TABLE competencies;
