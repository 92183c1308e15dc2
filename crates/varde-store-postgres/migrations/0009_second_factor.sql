-- A second factor for local accounts: the TOTP secret (base32) and the last time step accepted (a code is used once),
-- single-use recovery codes (SHA-256 of each; the codes themselves are shown once), and whether a session has
-- passed the second factor (a session waiting for it opens no page but the second factor's). Sessions started
-- before this migration had passed all their login asked for.
ALTER TABLE users ADD COLUMN totp_secret TEXT;
ALTER TABLE users ADD COLUMN totp_step BIGINT;
ALTER TABLE sessions ADD COLUMN verified BOOLEAN NOT NULL DEFAULT true;

CREATE TABLE recovery_codes (
    hash            BYTEA PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users(id),
    used_ms         BIGINT
);
CREATE INDEX recovery_codes_user ON recovery_codes(user_id);
