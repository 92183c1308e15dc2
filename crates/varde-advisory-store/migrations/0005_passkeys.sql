-- Passkeys (WebAuthn) as a member's second factor: the credential as webauthn-rs keeps it (JSON: its id, public key
-- and counter; no secret), the name the member gave it, and its last use. A session keeps the state of a passkey
-- ceremony under way until it is answered or replaced.
CREATE TABLE passkeys (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    name TEXT NOT NULL,
    credential TEXT NOT NULL,
    created_ms INTEGER NOT NULL,
    last_used_ms INTEGER
) STRICT;
ALTER TABLE sessions ADD COLUMN ceremony TEXT;
