DROP TABLE observations;
DROP TRIGGER signoff_events_no_delete;
DROP TRIGGER signoff_events_no_update;
DROP TABLE signoff_events;
DROP TABLE competency_signoffs;
DROP TABLE competency_assessors;
DROP TABLE competencies;
