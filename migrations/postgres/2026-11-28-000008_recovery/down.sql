DROP TABLE checkins;
DROP TABLE checkin_cadences;
DROP TABLE recovery_plan_sections;
DROP TABLE recovery_plans;
ALTER TABLE organisations DROP COLUMN wellbeing_contact_email;
