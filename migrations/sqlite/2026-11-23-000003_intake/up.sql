-- Intake: the institution's profile, teacher roster, annual inspections, documents, selection
-- rounds and applications.

ALTER TABLE institutions ADD COLUMN registration_kind TEXT CHECK (registration_kind IN
    ('business_licence', 'private_non_enterprise_certificate', 'social_organisation_certificate'));
ALTER TABLE institutions ADD COLUMN registration_number TEXT;
ALTER TABLE institutions ADD COLUMN issuing_authority TEXT;
ALTER TABLE institutions ADD COLUMN authority_level TEXT CHECK (authority_level IN
    ('county', 'city', 'province', 'national'));
ALTER TABLE institutions ADD COLUMN registered_address TEXT;
ALTER TABLE institutions ADD COLUMN district TEXT;
ALTER TABLE institutions ADD COLUMN legal_rep_name TEXT;
ALTER TABLE institutions ADD COLUMN legal_rep_id_kind TEXT;
ALTER TABLE institutions ADD COLUMN legal_rep_id_number TEXT;
ALTER TABLE institutions ADD COLUMN contact_person TEXT;
ALTER TABLE institutions ADD COLUMN contact_mobile TEXT;
ALTER TABLE institutions ADD COLUMN contact_email TEXT;

CREATE TABLE documents (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT REFERENCES institutions (id),
    uploaded_by BIGINT REFERENCES users (id),
    kind TEXT NOT NULL CHECK (kind IN ('registration_certificate', 'uscc_certificate',
        'legal_rep_id', 'teacher_certificate', 'criminal_record_check', 'inspection_record',
        'service_plan', 'integrity_pledge', 'merged_pdf', 'objection_evidence',
        'exit_evidence', 'statement_of_defence', 'other')),
    filename TEXT NOT NULL,
    content_type TEXT NOT NULL CHECK (content_type IN ('application/pdf', 'image/jpeg', 'image/png')),
    size_bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    text_status TEXT CHECK (text_status IN ('ok', 'partial', 'no_text')),
    page_count INTEGER,
    pages TEXT,
    extraction_detail TEXT,
    created_at TIMESTAMP NOT NULL
);
CREATE INDEX documents_institution ON documents (institution_id);

CREATE TABLE teachers (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    name TEXT NOT NULL,
    id_kind TEXT NOT NULL,
    id_number TEXT NOT NULL,
    credentials TEXT NOT NULL,
    specialities TEXT NOT NULL,
    criminal_check_date DATE,
    criminal_check_result TEXT CHECK (criminal_check_result IN ('clean', 'record_found')),
    criminal_check_issuer TEXT,
    removed_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX teachers_institution ON teachers (institution_id);
CREATE INDEX teachers_id_number ON teachers (id_number);

CREATE TABLE inspections (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    year INTEGER NOT NULL,
    result TEXT NOT NULL CHECK (result IN ('passed', 'failed', 'missed')),
    authority TEXT NOT NULL,
    document_id BIGINT REFERENCES documents (id),
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    UNIQUE (institution_id, year)
);

CREATE TABLE rounds (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    opens_at TIMESTAMP NOT NULL,
    closes_at TIMESTAMP NOT NULL,
    pool_valid_from DATE NOT NULL,
    pool_valid_until DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (closes_at > opens_at),
    CHECK (pool_valid_until > pool_valid_from)
);

CREATE TABLE applications (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    round_id BIGINT NOT NULL REFERENCES rounds (id),
    status TEXT NOT NULL CHECK (status IN ('draft', 'submitted', 'returned', 'approved',
        'in_notice', 'admitted', 'rejected', 'withdrawn')),
    proposed_items TEXT NOT NULL,
    approved_items TEXT,
    service_plan TEXT NOT NULL,
    teacher_ids TEXT NOT NULL,
    document_ids TEXT NOT NULL,
    pledge_signed BOOLEAN NOT NULL,
    findings TEXT,
    decision_note TEXT,
    return_deadline DATE,
    submitted_at TIMESTAMP,
    decided_at TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX applications_institution ON applications (institution_id);
CREATE INDEX applications_round_status ON applications (round_id, status);
-- One live application per institution and round; the database arbitrates the race.
CREATE UNIQUE INDEX applications_one_live ON applications (institution_id, round_id)
    WHERE status IN ('submitted', 'returned', 'approved', 'in_notice', 'admitted');
