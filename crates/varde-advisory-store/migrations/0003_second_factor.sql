-- A second factor for every member: the TOTP secret (sealed with the unit's key, as identity data is), the last time
-- step accepted (a code is used once), single-use recovery codes (SHA-256 of each, hex), and whether a session has
-- passed the second factor. Sessions started before this migration had passed all their login asked for.
ALTER TABLE users ADD COLUMN totp_sealed BLOB;
ALTER TABLE users ADD COLUMN totp_step INTEGER;
ALTER TABLE sessions ADD COLUMN verified INTEGER NOT NULL DEFAULT 1;
CREATE TABLE recovery_codes (
    hash TEXT PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users(id),
    used_ms INTEGER
);
