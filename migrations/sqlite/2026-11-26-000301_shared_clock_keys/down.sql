DELETE FROM job_runs WHERE outcome = 'lease_lost';
CREATE TABLE job_runs_old (
    id INTEGER PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs (id),
    worker TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('done', 'retry', 'dead')),
    error TEXT
);
INSERT INTO job_runs_old SELECT id, job_id, worker, attempt, started_at, finished_at, outcome, error
FROM job_runs;
DROP TABLE job_runs;
ALTER TABLE job_runs_old RENAME TO job_runs;
CREATE INDEX job_runs_job ON job_runs (job_id);
DROP TABLE jwt_keys;
DROP TABLE service_clock;
