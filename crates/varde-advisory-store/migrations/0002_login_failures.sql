-- Failed logins, by account and by client address, so that a restart does not lift a lock. Keys are salted hashes
-- (never the name or the address), and only the last window's failures are kept.
CREATE TABLE login_failures (
    key TEXT NOT NULL,
    at_ms INTEGER NOT NULL
);
CREATE INDEX login_failures_by_key ON login_failures (key, at_ms);
