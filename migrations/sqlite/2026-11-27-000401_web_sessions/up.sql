-- Browser sessions (`auth::session`): the cookie carries a random value, the table only its
-- SHA-256, so a copy of the table signs nobody in. Every instance on the database accepts a
-- session; signing out deletes its row. `expires_at` is the absolute end, `last_used_at` the
-- idle clock.
CREATE TABLE web_sessions (
    id INTEGER PRIMARY KEY,
    token_hash TEXT NOT NULL UNIQUE,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP NOT NULL,
    expires_at TIMESTAMP NOT NULL
);
CREATE INDEX web_sessions_user ON web_sessions (user_id);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);
