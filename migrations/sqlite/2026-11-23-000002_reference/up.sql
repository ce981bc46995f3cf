-- Reference data: one row per calendar year (the State Council notice, as JSON), versioned.
CREATE TABLE calendar_years (
    year INTEGER PRIMARY KEY,
    version INTEGER NOT NULL CHECK (version >= 1),
    source TEXT NOT NULL,
    data TEXT NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
