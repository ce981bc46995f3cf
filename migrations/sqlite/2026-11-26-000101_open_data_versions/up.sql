-- Open data (issue 18): every change to a published list (the pool, the bans) gets the next
-- version of that list, in the transaction of the change. `open_data_heads` holds each list's
-- newest version; a writer updates its row first, which serialises writers (the write lock on
-- SQLite, a row lock on PostgreSQL), so versions are gap-free and commit in version order.
CREATE TABLE open_data_heads (
    list TEXT PRIMARY KEY CHECK (list IN ('pool', 'bans')),
    version BIGINT NOT NULL CHECK (version >= 0)
);
INSERT INTO open_data_heads (list, version) VALUES ('pool', 0), ('bans', 0);

-- One row per change. `record` is the public record (canonical JSON, RFC 8785) of the entry or
-- ban as it stands after the change (for a removal or expiry: as it stood), so any version of
-- the list can be rebuilt from these rows alone. `sha256` is the hash of the list's snapshot
-- at this version, filled in the first time a snapshot at or after it is asked for.
CREATE TABLE open_data_changes (
    list TEXT NOT NULL REFERENCES open_data_heads (list),
    version BIGINT NOT NULL CHECK (version >= 1),
    kind TEXT NOT NULL,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    -- The pool entry's id (list `pool`) or the ban's id (list `bans`).
    subject_id BIGINT NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    record TEXT NOT NULL,
    sha256 TEXT,
    PRIMARY KEY (list, version),
    CHECK ((list = 'pool' AND kind IN ('admitted', 'removed', 'expired', 'items_changed'))
        OR (list = 'bans' AND kind = 'recorded'))
);
CREATE INDEX open_data_changes_subject ON open_data_changes (list, subject_id);
