-- Keys that sign the open-data snapshots (Ed25519). Every key that ever signed stays here, so
-- its public key stays published after a rotation. A configured key (SNAPSHOT_SIGNING_KEY) is
-- registered by its public key only; in development a key is generated once and kept with its
-- private half (`generated_slot` = 1, UNIQUE: instances starting together agree on one key).
CREATE TABLE signing_keys (
    key_id TEXT PRIMARY KEY,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT,
    generated_slot INTEGER UNIQUE CHECK (generated_slot = 1),
    created_at TIMESTAMP NOT NULL,
    CHECK ((generated_slot IS NULL) = (private_key_pem IS NULL))
);
