-- Bans counted as the Civil Code counts periods (arts. 201-202): the decision day is not
-- counted; the last banned day is the corresponding day 36 months after the decision date (the
-- month's last day where there is none); the institution may apply again from the next day.
-- `starts_on` was the decision date and becomes `decided_on`; `ends_on` was read as the first
-- free day, one day early. Existing rows get their dates again from the decision date
-- (date + interval '36 months' clamps to the month's last day: 2028-02-29 -> 2031-02-28).
ALTER TABLE bans RENAME COLUMN starts_on TO decided_on;
ALTER TABLE bans ADD COLUMN last_day DATE;
ALTER TABLE bans ADD COLUMN may_apply_from DATE;
UPDATE bans SET last_day = (decided_on + INTERVAL '36 months')::date;
UPDATE bans SET may_apply_from = last_day + 1;
ALTER TABLE bans ALTER COLUMN last_day SET NOT NULL;
ALTER TABLE bans ALTER COLUMN may_apply_from SET NOT NULL;
ALTER TABLE bans DROP COLUMN ends_on;
ALTER TABLE bans ADD CONSTRAINT bans_last_day_after_decision CHECK (last_day > decided_on);
ALTER TABLE bans ADD CONSTRAINT bans_may_apply_from_next_day CHECK (may_apply_from = last_day + 1);
CREATE INDEX bans_uscc ON bans (uscc, last_day);
