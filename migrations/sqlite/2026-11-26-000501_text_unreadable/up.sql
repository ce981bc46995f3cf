-- A valid PDF whose text no extractor could decode is stored as `text_unreadable` (verified by
-- hand) instead of being refused.
-- SQLite cannot alter a CHECK constraint: the table is rebuilt under its own name, its rows
-- kept meanwhile in a plain copy. Rows of inspections and objections refer to documents by id:
-- with the foreign keys deferred, dropping the table counts them as orphans and putting the
-- same ids back counts them as satisfied again, so the commit finds none.
PRAGMA defer_foreign_keys = ON;
CREATE TABLE documents_copy AS SELECT * FROM documents;
DROP TABLE documents;
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
    text_status TEXT CHECK (text_status IN ('ok', 'partial', 'no_text', 'text_unreadable')),
    page_count INTEGER,
    pages TEXT,
    extraction_detail TEXT,
    created_at TIMESTAMP NOT NULL
);
INSERT INTO documents (id, institution_id, uploaded_by, kind, filename, content_type, size_bytes, sha256, text_status, page_count, pages, extraction_detail, created_at)
SELECT id, institution_id, uploaded_by, kind, filename, content_type, size_bytes, sha256, text_status, page_count, pages, extraction_detail, created_at FROM documents_copy;
DROP TABLE documents_copy;
CREATE INDEX documents_institution ON documents (institution_id);
