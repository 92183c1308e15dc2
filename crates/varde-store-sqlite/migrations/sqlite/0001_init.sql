-- Varde schema, SQLite. Times are INTEGER milliseconds since the Unix epoch (UTC): exact, sortable, compact.

CREATE TABLE services (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    kommune     TEXT NOT NULL,
    fylke       TEXT NOT NULL,
    created_ms  INTEGER NOT NULL
);

-- API tokens are stored as SHA-256 hashes: they are 160-bit random secrets, so a fast hash is enough.
CREATE TABLE tokens (
    id          INTEGER PRIMARY KEY,
    hash        BLOB NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('technician', 'reviewer', 'admin')),
    service_id  INTEGER REFERENCES services(id),
    label       TEXT,
    created_ms  INTEGER NOT NULL,
    revoked_ms  INTEGER,
    CHECK ((role = 'technician') = (service_id IS NOT NULL))
);

CREATE TABLE samples (
    id              INTEGER PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    service_id      INTEGER NOT NULL REFERENCES services(id),
    received_ms     INTEGER NOT NULL,
    registered_ms   INTEGER NOT NULL,
    form            TEXT NOT NULL,
    colour          TEXT,
    texture         TEXT,
    notes           TEXT,
    tablet          TEXT,   -- JSON object, tablets and capsules only
    use_context     TEXT,   -- JSON object
    status          TEXT NOT NULL
);
CREATE INDEX samples_service_received ON samples(service_id, received_ms);
CREATE INDEX samples_received ON samples(received_ms);

CREATE TABLE sample_sold_as (
    sample_id   INTEGER NOT NULL REFERENCES samples(id),
    position    INTEGER NOT NULL,
    substance   TEXT NOT NULL,  -- catalogue id, or the name as given when known = 0
    known       INTEGER NOT NULL,
    PRIMARY KEY (sample_id, position)
) WITHOUT ROWID;

CREATE TABLE analyses (
    id              INTEGER PRIMARY KEY,
    sample_id       INTEGER NOT NULL REFERENCES samples(id),
    method          TEXT NOT NULL,
    result          TEXT,               -- strips: positive | negative | inconclusive
    inconclusive    INTEGER NOT NULL DEFAULT 0,
    performed_ms    INTEGER NOT NULL,
    recorded_ms     INTEGER NOT NULL,
    amends          INTEGER REFERENCES analyses(id),
    superseded_by   INTEGER REFERENCES analyses(id)
);
CREATE INDEX analyses_sample ON analyses(sample_id);

CREATE TABLE components (
    analysis_id     INTEGER NOT NULL REFERENCES analyses(id),
    position        INTEGER NOT NULL,
    substance       TEXT NOT NULL,
    known           INTEGER NOT NULL,
    role            TEXT NOT NULL,
    amount_value    REAL,
    amount_unit     TEXT,
    confidence      TEXT,
    PRIMARY KEY (analysis_id, position)
) WITHOUT ROWID;
CREATE INDEX components_substance ON components(substance);

-- Append-only, hash-chained audit log (privacy rule 4). The triggers stop ordinary writes from changing history;
-- the chain makes any change made around them visible to `varde audit verify`.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END;

CREATE TABLE meta (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
) WITHOUT ROWID;
