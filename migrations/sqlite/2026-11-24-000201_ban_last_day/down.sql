-- Back to (starts_on, ends_on): the old code read `ends_on` as starts_on + 36 months, which is
-- the last day.
CREATE TABLE bans_old (
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
INSERT INTO bans_old (id, institution_id, uscc, institution_name, exit_case_id, grounds,
                      starts_on, ends_on, created_at)
SELECT id, institution_id, uscc, institution_name, exit_case_id, grounds, decided_on, last_day,
       created_at
FROM bans;
DROP TABLE bans;
ALTER TABLE bans_old RENAME TO bans;
CREATE INDEX bans_uscc ON bans (uscc, ends_on);
