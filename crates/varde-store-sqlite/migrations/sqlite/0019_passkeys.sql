-- Passkeys (WebAuthn) as a second factor for local accounts: each credential as webauthn-rs keeps it (JSON: its id,
-- public key and signature counter; no secret), the name the person gave it, and its last use. A session keeps the
-- state of a passkey ceremony under way (the challenge it must answer) until it is answered or replaced.
CREATE TABLE passkeys (
    id              INTEGER PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id),
    name            TEXT NOT NULL,
    credential      TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    last_used_ms    INTEGER
);
CREATE INDEX passkeys_user ON passkeys(user_id);
ALTER TABLE sessions ADD COLUMN ceremony TEXT;
