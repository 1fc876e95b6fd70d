DROP TABLE training_records;
DROP TABLE training_modules;
DROP TABLE supervisor_assignments;
DROP TABLE workers;
