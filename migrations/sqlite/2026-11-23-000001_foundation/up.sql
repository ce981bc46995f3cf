-- Foundation: accounts, schools, institutions (the part registration needs), login throttling,
-- the hash-chained audit log and the durable job queue.

CREATE TABLE schools (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    code TEXT NOT NULL UNIQUE,
    district TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE institutions (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    uscc TEXT NOT NULL UNIQUE,
    entity_type TEXT NOT NULL CHECK (entity_type IN ('enterprise', 'individual_business',
        'farmers_cooperative', 'social_organisation', 'private_non_enterprise_unit', 'foundation')),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('institution', 'reviewer', 'school', 'admin')),
    display_name TEXT NOT NULL,
    institution_id INTEGER REFERENCES institutions (id),
    school_id INTEGER REFERENCES schools (id),
    disabled_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK ((role = 'institution') = (institution_id IS NOT NULL)),
    CHECK ((role = 'school') = (school_id IS NOT NULL))
);

CREATE TABLE login_failures (
    id INTEGER PRIMARY KEY,
    email TEXT NOT NULL,
    failed_at TIMESTAMP NOT NULL
);
CREATE INDEX login_failures_email_time ON login_failures (email, failed_at);

CREATE TABLE audit_events (
    id INTEGER PRIMARY KEY,
    seq BIGINT NOT NULL UNIQUE,
    occurred_at TIMESTAMP NOT NULL,
    actor_id BIGINT,
    actor_role TEXT NOT NULL,
    action TEXT NOT NULL,
    entity_type TEXT NOT NULL,
    entity_id TEXT NOT NULL,
    summary TEXT NOT NULL,
    request_id TEXT,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id);
CREATE INDEX audit_events_time ON audit_events (occurred_at);

-- One row: the sequence number and hash of the newest event. Updating it first in every
-- append serialises appenders on both backends, and it lets verification notice a deleted tail.
CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq BIGINT NOT NULL,
    hash TEXT NOT NULL
);
INSERT INTO audit_head (id, seq, hash)
VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,
    payload TEXT NOT NULL,
    dedup_key TEXT UNIQUE,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'done', 'dead')),
    attempts INTEGER NOT NULL DEFAULT 0,
    max_attempts INTEGER NOT NULL,
    run_at TIMESTAMP NOT NULL,
    locked_by TEXT,
    locked_until TIMESTAMP,
    last_error TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX jobs_due ON jobs (state, run_at);

CREATE TABLE job_runs (
    id INTEGER PRIMARY KEY,
    job_id BIGINT NOT NULL REFERENCES jobs (id),
    worker TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('done', 'retry', 'dead')),
    error TEXT
);
CREATE INDEX job_runs_job ON job_runs (job_id);
