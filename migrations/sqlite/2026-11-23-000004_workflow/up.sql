-- Workflow after submission: review decisions, public notices, objections, the pool, school
-- contracts and evaluations, exit cases, bans and the blacklist.

-- Every review decision, in order; the application row carries the latest.
CREATE TABLE decisions (
    id INTEGER PRIMARY KEY,
    application_id BIGINT NOT NULL REFERENCES applications (id),
    reviewer_id BIGINT NOT NULL REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('approve', 'reject', 'return')),
    approved_items TEXT,
    reasons TEXT NOT NULL,
    deadline DATE,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX decisions_application ON decisions (application_id);

-- A public notice (公示) of approved applications; `window_history` keeps earlier windows when a
-- calendar change recomputed them.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    round_id BIGINT NOT NULL REFERENCES rounds (id),
    published_by BIGINT REFERENCES users (id),
    publication_date DATE NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    calendar_versions TEXT NOT NULL,
    explanation TEXT NOT NULL,
    window_history TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'closed')),
    closed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX notices_status_closes ON notices (status, closes_at);

ALTER TABLE applications ADD COLUMN notice_id BIGINT REFERENCES notices (id);
ALTER TABLE applications ADD COLUMN decided_by BIGINT REFERENCES users (id);
CREATE INDEX applications_notice ON applications (notice_id);

CREATE TABLE objections (
    id INTEGER PRIMARY KEY,
    notice_id BIGINT NOT NULL REFERENCES notices (id),
    application_id BIGINT NOT NULL REFERENCES applications (id),
    objector_name TEXT NOT NULL,
    objector_mobile TEXT NOT NULL,
    objector_email TEXT,
    grounds TEXT NOT NULL,
    evidence_document_id BIGINT REFERENCES documents (id),
    client_ip TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'upheld', 'dismissed')),
    resolution_reasons TEXT,
    resolved_by BIGINT REFERENCES users (id),
    resolved_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX objections_application ON objections (application_id, status);
CREATE INDEX objections_status ON objections (status);
CREATE INDEX objections_ip ON objections (client_ip, created_at);

-- The pool (备选库). One entry per admitted application; `pool_items` holds its approved items so
-- the category search is an indexed lookup.
CREATE TABLE pool_entries (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    application_id BIGINT NOT NULL UNIQUE REFERENCES applications (id),
    round_id BIGINT NOT NULL REFERENCES rounds (id),
    notice_id BIGINT REFERENCES notices (id),
    items TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'removed', 'expired')),
    valid_from DATE NOT NULL,
    valid_until DATE NOT NULL,
    admitted_at TIMESTAMP NOT NULL,
    ended_at TIMESTAMP,
    end_reason TEXT,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX pool_entries_institution ON pool_entries (institution_id, status);
CREATE INDEX pool_entries_status_until ON pool_entries (status, valid_until);

CREATE TABLE pool_items (
    entry_id BIGINT NOT NULL REFERENCES pool_entries (id),
    code TEXT NOT NULL,
    category TEXT NOT NULL,
    PRIMARY KEY (entry_id, code)
);
CREATE INDEX pool_items_category ON pool_items (category, entry_id);
CREATE INDEX pool_items_code ON pool_items (code, entry_id);

CREATE TABLE contracts (
    id INTEGER PRIMARY KEY,
    school_id BIGINT NOT NULL REFERENCES schools (id),
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    pool_entry_id BIGINT NOT NULL REFERENCES pool_entries (id),
    items TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('active', 'ended', 'terminated')),
    ended_on DATE,
    end_reason TEXT CHECK (end_reason IN ('expired', 'terminated_by_school', 'institution_removed')),
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    CHECK (ends_on >= starts_on)
);
CREATE INDEX contracts_school ON contracts (school_id);
CREATE INDEX contracts_institution ON contracts (institution_id, status);
CREATE INDEX contracts_status_end ON contracts (status, ends_on);

CREATE TABLE evaluations (
    id INTEGER PRIMARY KEY,
    contract_id BIGINT NOT NULL REFERENCES contracts (id),
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    term TEXT NOT NULL,
    quality INTEGER NOT NULL CHECK (quality BETWEEN 1 AND 5),
    safety INTEGER NOT NULL CHECK (safety BETWEEN 1 AND 5),
    punctuality INTEGER NOT NULL CHECK (punctuality BETWEEN 1 AND 5),
    comment TEXT NOT NULL,
    created_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    UNIQUE (contract_id, term)
);
CREATE INDEX evaluations_institution ON evaluations (institution_id);

-- Exit cases (N§五): one open case per institution collects every ground and its evidence.
CREATE TABLE exit_cases (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    status TEXT NOT NULL CHECK (status IN ('open', 'removed', 'dismissed')),
    opened_by TEXT NOT NULL CHECK (opened_by IN ('school', 'reviewer', 'system')),
    statement_due DATE NOT NULL,
    statement TEXT,
    statement_document_ids TEXT,
    statement_filed_at TIMESTAMP,
    decision_reasons TEXT,
    decided_by BIGINT REFERENCES users (id),
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX exit_cases_one_open ON exit_cases (institution_id) WHERE status = 'open';

CREATE TABLE exit_grounds (
    id INTEGER PRIMARY KEY,
    case_id BIGINT NOT NULL REFERENCES exit_cases (id),
    ground TEXT NOT NULL CHECK (ground IN ('false_credentials', 'major_management_failure',
        'service_mismatch', 'blacklisted', 'annual_inspection', 'subcontracting',
        'illegal_conduct')),
    source TEXT NOT NULL CHECK (source IN ('school', 'reviewer', 'system')),
    contract_id BIGINT REFERENCES contracts (id),
    statement TEXT NOT NULL,
    document_ids TEXT NOT NULL,
    reported_by BIGINT REFERENCES users (id),
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX exit_grounds_case ON exit_grounds (case_id);

CREATE TABLE bans (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    uscc TEXT NOT NULL,
    institution_name TEXT NOT NULL,
    exit_case_id BIGINT REFERENCES exit_cases (id),
    grounds TEXT NOT NULL,
    starts_on DATE NOT NULL,
    ends_on DATE NOT NULL,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX bans_uscc ON bans (uscc, ends_on);

CREATE TABLE blacklist_entries (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    uscc TEXT NOT NULL,
    name TEXT NOT NULL,
    listed_on DATE NOT NULL,
    reason TEXT NOT NULL,
    imported_at TIMESTAMP NOT NULL,
    UNIQUE (source, uscc)
);
CREATE INDEX blacklist_uscc ON blacklist_entries (uscc);
