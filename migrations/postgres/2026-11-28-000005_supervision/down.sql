DROP TABLE supervision_sessions;
