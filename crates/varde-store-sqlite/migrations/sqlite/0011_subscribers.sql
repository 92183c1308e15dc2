-- People who asked for warnings by e-mail or web push (personal data). Nothing here refers to samples, alerts or
-- services, and nothing about samples refers here: the tables can be dropped, exported or not, on their own.
CREATE TABLE subscribers (
    id           INTEGER PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    -- The e-mail address, or the push service's endpoint URL.
    address      TEXT NOT NULL,
    -- Web push: the browser's public key and authentication secret (base64url).
    p256dh       TEXT,
    auth         TEXT,
    fylker       TEXT NOT NULL,
    min_tier     TEXT NOT NULL CHECK (min_tier IN ('info', 'caution', 'warning', 'severe')),
    lang         TEXT NOT NULL CHECK (lang IN ('nb', 'nn', 'en')),
    -- Random; the links in every message are keyed hashes of it, so they are never stored.
    nonce        TEXT NOT NULL,
    created_ms   INTEGER NOT NULL,
    confirmed_ms INTEGER,
    UNIQUE (channel, address)
);

-- Messages to subscribers waiting to be handed over: a confirmation, a notice that the address is already
-- subscribed, or an alert event. One row per subscriber and alert version, so no one gets one twice.
CREATE TABLE subscriber_outbox (
    id            INTEGER PRIMARY KEY,
    subscriber_id INTEGER NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('confirm', 'notice', 'alert')),
    event_seq     INTEGER,
    due_ms        INTEGER NOT NULL,
    attempts      INTEGER NOT NULL DEFAULT 0,
    last_error    TEXT,
    UNIQUE (subscriber_id, event_seq)
);
CREATE INDEX subscriber_outbox_due ON subscriber_outbox (due_ms);

-- Who a service's pending severe alerts escalate to (not personal: a service's shared address).
ALTER TABLE services ADD COLUMN contact_email TEXT;

-- Severe alerts e-mailed to a service that had not acknowledged them in time: at most once per alert and service.
CREATE TABLE alert_escalations (
    alert_id     INTEGER NOT NULL REFERENCES alerts(id),
    service_id   INTEGER NOT NULL REFERENCES services(id),
    escalated_ms INTEGER NOT NULL,
    PRIMARY KEY (alert_id, service_id)
);
