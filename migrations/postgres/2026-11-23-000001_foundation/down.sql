DROP TABLE job_runs;
DROP TABLE jobs;
DROP TABLE audit_head;
DROP TABLE audit_events;
DROP TABLE login_failures;
DROP TABLE users;
DROP TABLE institutions;
DROP TABLE schools;
