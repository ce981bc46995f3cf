-- Document contents in the database, so that every instance reads every document: one row per
-- distinct content (its SHA-256), the bytes in chunks of at most 256 KiB read and written one
-- at a time. `documents.sha256` names the content; identical uploads share it.
CREATE TABLE document_blobs (
    sha256 TEXT PRIMARY KEY CHECK (length(sha256) = 64),
    size_bytes BIGINT NOT NULL CHECK (size_bytes >= 0),
    chunk_count INTEGER NOT NULL CHECK (chunk_count >= 0),
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE blob_chunks (
    sha256 TEXT NOT NULL REFERENCES document_blobs (sha256) ON DELETE CASCADE,
    seq INTEGER NOT NULL CHECK (seq >= 0),
    data BLOB NOT NULL,
    PRIMARY KEY (sha256, seq)
);
