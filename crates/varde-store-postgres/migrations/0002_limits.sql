-- Rate limits counted in the database, so that instances sharing one count together and a restart does not reset a
-- locked login. Who tried is an HMAC under the day's salt, never the address or account itself; a salt is deleted the
-- day after its own, and tries older than two days with it.
CREATE TABLE limit_salts (
    day BIGINT PRIMARY KEY,
    salt BYTEA NOT NULL
);

CREATE TABLE limit_attempts (
    limit_name TEXT NOT NULL,
    key BYTEA NOT NULL,
    at_ms BIGINT NOT NULL
);
CREATE INDEX limit_attempts_key ON limit_attempts(limit_name, key, at_ms);
CREATE INDEX limit_attempts_at ON limit_attempts(at_ms);
