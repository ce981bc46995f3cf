-- One service clock for every instance on this database: the settable (test/demo) clock's
-- offset from the database's own time (microseconds). One row; `overridden` false means real
-- time; `version` counts the settings, so an instance sees when another one moved the clock.
CREATE TABLE service_clock (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    offset_us BIGINT NOT NULL DEFAULT 0,
    overridden BOOLEAN NOT NULL DEFAULT FALSE,
    version BIGINT NOT NULL DEFAULT 0,
    updated_at TIMESTAMP NOT NULL
);
INSERT INTO service_clock (id, offset_us, overridden, version, updated_at)
VALUES (1, 0, FALSE, 0, CURRENT_TIMESTAMP);

-- Development signing keys, generated once and shared by every instance on this database.
-- The highest generation signs; every key verifies until its tokens have expired.
CREATE TABLE jwt_keys (
    generation INTEGER PRIMARY KEY,
    kid TEXT NOT NULL UNIQUE,
    secret TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- A run that lost its lease after a side effect (e.g. a sent e-mail) is recorded too.
CREATE TABLE job_runs_new (
    id INTEGER PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs (id),
    worker TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('done', 'retry', 'dead', 'lease_lost')),
    error TEXT
);
INSERT INTO job_runs_new SELECT id, job_id, worker, attempt, started_at, finished_at, outcome, error
FROM job_runs;
DROP TABLE job_runs;
ALTER TABLE job_runs_new RENAME TO job_runs;
CREATE INDEX job_runs_job ON job_runs (job_id);
