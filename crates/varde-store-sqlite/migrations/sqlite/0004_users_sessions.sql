-- People who log in to the pages (API clients use tokens), and their server-side sessions.

CREATE TABLE users (
    id              INTEGER PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,      -- argon2id, PHC string
    role            TEXT NOT NULL CHECK (role IN ('technician', 'reviewer', 'admin')),
    service_id      INTEGER REFERENCES services(id),
    created_ms      INTEGER NOT NULL,
    disabled        INTEGER NOT NULL DEFAULT 0,
    CHECK ((role = 'technician') = (service_id IS NOT NULL))
);

-- The cookie holds a random secret; only its SHA-256 is stored.
CREATE TABLE sessions (
    hash            BLOB PRIMARY KEY,
    user_id         INTEGER NOT NULL REFERENCES users(id),
    csrf            TEXT NOT NULL,
    created_ms      INTEGER NOT NULL,
    expires_ms      INTEGER NOT NULL
) WITHOUT ROWID;
