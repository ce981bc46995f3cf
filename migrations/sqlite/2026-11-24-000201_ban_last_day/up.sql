-- Bans counted as the Civil Code counts periods (arts. 201-202): the decision day is not
-- counted; the last banned day is the corresponding day 36 months after the decision date (the
-- month's last day where there is none); the institution may apply again from the next day.
-- `starts_on` was the decision date and becomes `decided_on`; `ends_on` was read as the first
-- free day, one day early. Existing rows get their dates again from the decision date.
-- SQLite's date(d, '+36 months') rolls 2028-02-29 over to 2031-03-01, so a day of month that
-- does not survive the addition is replaced by the last day of the month 36 months later.
CREATE TABLE bans_new (
    id INTEGER PRIMARY KEY,
    institution_id BIGINT NOT NULL REFERENCES institutions (id),
    uscc TEXT NOT NULL,
    institution_name TEXT NOT NULL,
    exit_case_id BIGINT REFERENCES exit_cases (id),
    grounds TEXT NOT NULL,
    -- The removal decision date (Beijing); banned from this day on.
    decided_on DATE NOT NULL,
    -- The last banned day.
    last_day DATE NOT NULL,
    -- The day after the last day: it may register and apply again.
    may_apply_from DATE NOT NULL,
    created_at TIMESTAMP NOT NULL,
    CHECK (last_day > decided_on),
    CHECK (may_apply_from = date(last_day, '+1 day'))
);
INSERT INTO bans_new (id, institution_id, uscc, institution_name, exit_case_id, grounds,
                      decided_on, last_day, may_apply_from, created_at)
SELECT id, institution_id, uscc, institution_name, exit_case_id, grounds, starts_on, last_day,
       date(last_day, '+1 day'), created_at
FROM (
    SELECT *,
           CASE WHEN strftime('%d', date(starts_on, '+36 months')) = strftime('%d', starts_on)
                THEN date(starts_on, '+36 months')
                ELSE date(starts_on, 'start of month', '+37 months', '-1 day')
           END AS last_day
    FROM bans
);
DROP TABLE bans;
ALTER TABLE bans_new RENAME TO bans;
CREATE INDEX bans_uscc ON bans (uscc, last_day);
