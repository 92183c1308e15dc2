-- Findings, alerts, the event log, webhooks.

-- Every assessment is kept: a new one marks the previous findings of the sample as not current.
CREATE TABLE findings (
    id              INTEGER PRIMARY KEY,
    sample_id       INTEGER NOT NULL REFERENCES samples(id),
    assessed_ms     INTEGER NOT NULL,
    policy_version  TEXT NOT NULL,
    rule            TEXT NOT NULL,
    tier            TEXT NOT NULL,
    substances      TEXT NOT NULL,      -- JSON array
    method          TEXT,
    explanation     TEXT NOT NULL,      -- JSON {nb, nn, en}
    current         INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX findings_sample ON findings(sample_id, current);

CREATE TABLE alerts (
    id                  INTEGER PRIMARY KEY,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'published', 'withdrawn')),
    tier                TEXT NOT NULL,
    product_key         TEXT NOT NULL,
    fylke               TEXT NOT NULL,
    content             TEXT NOT NULL,  -- JSON AlertContent
    version             INTEGER NOT NULL DEFAULT 0,     -- published versions so far
    created_ms          INTEGER NOT NULL,
    updated_ms          INTEGER NOT NULL,
    published_ms        INTEGER,        -- first publication
    withdrawn_ms        INTEGER,
    valid_until_ms      INTEGER,
    first_evidence_ms   INTEGER NOT NULL,
    last_evidence_ms    INTEGER NOT NULL,
    new_evidence        INTEGER NOT NULL DEFAULT 0      -- samples joined after publication, for reviewers
);
CREATE INDEX alerts_match ON alerts(product_key, fylke, status);
CREATE INDEX alerts_status ON alerts(status, updated_ms);

CREATE TABLE alert_evidence (
    alert_id    INTEGER NOT NULL REFERENCES alerts(id),
    sample_id   INTEGER NOT NULL REFERENCES samples(id),
    added_ms    INTEGER NOT NULL,
    PRIMARY KEY (alert_id, sample_id)
) WITHOUT ROWID;

-- Each publication, update and withdrawal, with the content as it was.
CREATE TABLE alert_versions (
    alert_id    INTEGER NOT NULL REFERENCES alerts(id),
    version     INTEGER NOT NULL,
    kind        TEXT NOT NULL,          -- published | updated | withdrawn
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    tier        TEXT NOT NULL,
    content     TEXT NOT NULL,
    valid_until_ms INTEGER,
    note        TEXT,
    PRIMARY KEY (alert_id, version)
) WITHOUT ROWID;

-- Every status change and every edit, with who and when.
CREATE TABLE alert_transitions (
    id          INTEGER PRIMARY KEY,
    alert_id    INTEGER NOT NULL REFERENCES alerts(id),
    at_ms       INTEGER NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,          -- drafted | evidence | edited | published | updated | withdrawn
    from_status TEXT,
    to_status   TEXT NOT NULL
);
CREATE INDEX alert_transitions_alert ON alert_transitions(alert_id);

-- The durable event log: written in the same transaction as the change it reports. Server-sent events replay it,
-- and each webhook subscriber delivers it in order from its own cursor (the outbox).
CREATE TABLE events (
    seq         INTEGER PRIMARY KEY,
    at_ms       INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    public      INTEGER NOT NULL,       -- 0: staff only (sample-level)
    tier        TEXT,
    fylker      TEXT NOT NULL,          -- JSON array of fylkesnummer
    alert_id    INTEGER,
    payload     TEXT NOT NULL           -- JSON
);

CREATE TABLE webhooks (
    id          INTEGER PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    min_tier    TEXT NOT NULL,
    fylker      TEXT NOT NULL,          -- JSON array; empty: all
    cursor      INTEGER NOT NULL,       -- the last event seq handled
    created_ms  INTEGER NOT NULL,
    active      INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE deliveries (
    id          INTEGER PRIMARY KEY,
    webhook_id  INTEGER NOT NULL REFERENCES webhooks(id),
    event_seq   INTEGER NOT NULL,
    attempt     INTEGER NOT NULL,
    at_ms       INTEGER NOT NULL,
    ok          INTEGER NOT NULL,
    status      INTEGER,
    error       TEXT
);
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, event_seq);
CREATE INDEX deliveries_event_ok ON deliveries(event_seq, ok);
