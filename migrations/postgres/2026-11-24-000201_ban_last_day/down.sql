-- Back to (starts_on, ends_on): the old code read `ends_on` as starts_on + 36 months, which is
-- the last day.
DROP INDEX bans_uscc;
ALTER TABLE bans DROP CONSTRAINT bans_may_apply_from_next_day;
ALTER TABLE bans DROP CONSTRAINT bans_last_day_after_decision;
ALTER TABLE bans DROP COLUMN may_apply_from;
ALTER TABLE bans RENAME COLUMN decided_on TO starts_on;
ALTER TABLE bans RENAME COLUMN last_day TO ends_on;
CREATE INDEX bans_uscc ON bans (uscc, ends_on);
