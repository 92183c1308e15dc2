-- Varde schema, PostgreSQL: the same tables as the SQLite schema after its migration 14, in PostgreSQL's types.
-- Times are BIGINT milliseconds since the Unix epoch (UTC), as in SQLite, so the two backends hold the same values
-- and `varde copy` moves rows without converting them. JSON is kept as TEXT: it is written and read whole by Varde,
-- never queried inside.

CREATE TABLE services (
    id            BIGSERIAL PRIMARY KEY,
    slug          TEXT NOT NULL UNIQUE,
    name          TEXT NOT NULL,
    kind          TEXT NOT NULL,
    kommune       TEXT NOT NULL,
    fylke         TEXT NOT NULL,
    created_ms    BIGINT NOT NULL,
    contact_email TEXT
);

-- API tokens are stored as SHA-256 hashes: they are 160-bit random secrets, so a fast hash is enough.
CREATE TABLE tokens (
    id          BIGSERIAL PRIMARY KEY,
    hash        BYTEA NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('technician', 'reviewer', 'admin')),
    service_id  BIGINT REFERENCES services(id),
    label       TEXT,
    created_ms  BIGINT NOT NULL,
    revoked_ms  BIGINT,
    CHECK ((role = 'technician') = (service_id IS NOT NULL))
);

CREATE TABLE samples (
    id              BIGSERIAL PRIMARY KEY,
    code            TEXT NOT NULL UNIQUE,
    service_id      BIGINT NOT NULL REFERENCES services(id),
    received_ms     BIGINT NOT NULL,
    registered_ms   BIGINT NOT NULL,
    form            TEXT NOT NULL,
    colour          TEXT,
    texture         TEXT,
    notes           TEXT,
    tablet          TEXT,
    use_context     TEXT,
    status          TEXT NOT NULL
);
CREATE INDEX samples_service_received ON samples(service_id, received_ms);
CREATE INDEX samples_received ON samples(received_ms);

CREATE TABLE sample_sold_as (
    sample_id   BIGINT NOT NULL REFERENCES samples(id),
    position    BIGINT NOT NULL,
    substance   TEXT NOT NULL,
    known       BOOLEAN NOT NULL,
    PRIMARY KEY (sample_id, position)
);

CREATE TABLE analyses (
    id              BIGSERIAL PRIMARY KEY,
    sample_id       BIGINT NOT NULL REFERENCES samples(id),
    method          TEXT NOT NULL,
    result          TEXT,
    inconclusive    BOOLEAN NOT NULL DEFAULT false,
    performed_ms    BIGINT NOT NULL,
    recorded_ms     BIGINT NOT NULL,
    amends          BIGINT REFERENCES analyses(id),
    superseded_by   BIGINT REFERENCES analyses(id)
);
CREATE INDEX analyses_sample ON analyses(sample_id);

CREATE TABLE components (
    analysis_id     BIGINT NOT NULL REFERENCES analyses(id),
    position        BIGINT NOT NULL,
    substance       TEXT NOT NULL,
    known           BOOLEAN NOT NULL,
    role            TEXT NOT NULL,
    amount_value    DOUBLE PRECISION,
    amount_unit     TEXT,
    confidence      TEXT,
    PRIMARY KEY (analysis_id, position)
);
CREATE INDEX components_substance ON components(substance);

-- Append-only, hash-chained audit log (privacy rule 4). Appends are serialised by the writers' advisory lock, so
-- the chain never forks however many instances write; the triggers stop ordinary writes from changing history.
CREATE TABLE audit_log (
    seq         BIGINT PRIMARY KEY,
    at_ms       BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    subject     TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'the audit log is append-only';
END $$;
CREATE TRIGGER audit_log_no_change BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE meta (
    key     TEXT PRIMARY KEY,
    value   TEXT NOT NULL
);

CREATE TABLE findings (
    id              BIGSERIAL PRIMARY KEY,
    sample_id       BIGINT NOT NULL REFERENCES samples(id),
    assessed_ms     BIGINT NOT NULL,
    policy_version  TEXT NOT NULL,
    rule            TEXT NOT NULL,
    tier            TEXT NOT NULL,
    substances      TEXT NOT NULL,
    method          TEXT,
    explanation     TEXT NOT NULL,
    current         BOOLEAN NOT NULL DEFAULT true
);
CREATE INDEX findings_sample ON findings(sample_id, current);

CREATE TABLE alerts (
    id                  BIGSERIAL PRIMARY KEY,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'published', 'withdrawn', 'discarded', 'archived')),
    tier                TEXT NOT NULL,
    product_key         TEXT NOT NULL,
    fylke               TEXT NOT NULL,
    content             TEXT NOT NULL,
    version             BIGINT NOT NULL DEFAULT 0,
    created_ms          BIGINT NOT NULL,
    updated_ms          BIGINT NOT NULL,
    published_ms        BIGINT,
    withdrawn_ms        BIGINT,
    valid_until_ms      BIGINT,
    first_evidence_ms   BIGINT NOT NULL,
    last_evidence_ms    BIGINT NOT NULL,
    new_evidence        BOOLEAN NOT NULL DEFAULT false,
    evidence_count      BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX alerts_match ON alerts(product_key, fylke, status);
CREATE INDEX alerts_status ON alerts(status, updated_ms);

CREATE TABLE alert_evidence (
    alert_id    BIGINT NOT NULL REFERENCES alerts(id),
    sample_id   BIGINT NOT NULL REFERENCES samples(id),
    added_ms    BIGINT NOT NULL,
    received_ms BIGINT,
    PRIMARY KEY (alert_id, sample_id)
);
CREATE INDEX alert_evidence_newest ON alert_evidence(alert_id, received_ms DESC, sample_id DESC);
CREATE INDEX alert_evidence_sample ON alert_evidence(sample_id);

-- The counter cannot drift from the rows: evidence is only ever added (a conflicting insert fires nothing).
CREATE FUNCTION alert_evidence_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE alerts SET evidence_count = evidence_count + 1 WHERE id = NEW.alert_id;
    RETURN NULL;
END $$;
CREATE TRIGGER alert_evidence_count AFTER INSERT ON alert_evidence
    FOR EACH ROW EXECUTE FUNCTION alert_evidence_count();

CREATE TABLE alert_versions (
    alert_id        BIGINT NOT NULL REFERENCES alerts(id),
    version         BIGINT NOT NULL,
    kind            TEXT NOT NULL,
    at_ms           BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    tier            TEXT NOT NULL,
    content         TEXT NOT NULL,
    valid_until_ms  BIGINT,
    note            TEXT,
    PRIMARY KEY (alert_id, version)
);

CREATE TABLE alert_transitions (
    id          BIGSERIAL PRIMARY KEY,
    alert_id    BIGINT NOT NULL REFERENCES alerts(id),
    at_ms       BIGINT NOT NULL,
    actor       TEXT NOT NULL,
    action      TEXT NOT NULL,
    from_status TEXT,
    to_status   TEXT NOT NULL
);
CREATE INDEX alert_transitions_alert ON alert_transitions(alert_id);

-- The durable event log. Sequence numbers are drawn under the writers' lock, so they are in commit order: a reader
-- that has seen seq n never later finds a smaller one committed.
CREATE TABLE events (
    seq         BIGSERIAL PRIMARY KEY,
    at_ms       BIGINT NOT NULL,
    kind        TEXT NOT NULL,
    public      BOOLEAN NOT NULL,
    tier        TEXT,
    fylker      TEXT NOT NULL,
    alert_id    BIGINT,
    payload     TEXT NOT NULL
);

CREATE TABLE webhooks (
    id          BIGSERIAL PRIMARY KEY,
    url         TEXT NOT NULL,
    secret      TEXT NOT NULL,
    min_tier    TEXT NOT NULL,
    fylker      TEXT NOT NULL,
    cursor      BIGINT NOT NULL,
    created_ms  BIGINT NOT NULL,
    active      BOOLEAN NOT NULL DEFAULT true
);

CREATE TABLE deliveries (
    id          BIGSERIAL PRIMARY KEY,
    webhook_id  BIGINT NOT NULL REFERENCES webhooks(id),
    event_seq   BIGINT NOT NULL,
    attempt     BIGINT NOT NULL,
    at_ms       BIGINT NOT NULL,
    ok          BOOLEAN NOT NULL,
    status      BIGINT,
    error       TEXT
);
CREATE INDEX deliveries_webhook ON deliveries(webhook_id, event_seq);
CREATE INDEX deliveries_event_ok ON deliveries(event_seq, ok);

CREATE TABLE signals (
    id              BIGSERIAL PRIMARY KEY,
    computed_ms     BIGINT NOT NULL,
    stream          TEXT NOT NULL,
    area            TEXT NOT NULL,
    week            TEXT NOT NULL,
    method          TEXT NOT NULL,
    observed        DOUBLE PRECISION NOT NULL,
    expected        DOUBLE PRECISION,
    upperbound      DOUBLE PRECISION NOT NULL,
    evidence        TEXT NOT NULL,
    status          TEXT NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'drafted', 'dismissed')),
    alert_id        BIGINT REFERENCES alerts(id),
    UNIQUE (stream, area, week)
);

CREATE TABLE concern_reports (
    id              BIGSERIAL PRIMARY KEY,
    received_ms     BIGINT NOT NULL,
    kommune         TEXT NOT NULL,
    fylke           TEXT NOT NULL,
    happened        TEXT NOT NULL,
    believed        TEXT,
    looked_like     TEXT,
    purged          BOOLEAN NOT NULL DEFAULT false
);
CREATE INDEX concern_reports_received ON concern_reports(received_ms);

CREATE TABLE user_room_days (
    service_id      BIGINT NOT NULL REFERENCES services(id),
    day             TEXT NOT NULL,
    visits          BIGINT NOT NULL,
    overdoses       BIGINT NOT NULL,
    naloxone        BIGINT NOT NULL,
    referrals       BIGINT NOT NULL,
    PRIMARY KEY (service_id, day)
);

CREATE TABLE deaths (
    year            BIGINT PRIMARY KEY,
    deaths          BIGINT NOT NULL,
    note            TEXT,
    source          TEXT NOT NULL
);

CREATE TABLE users (
    id              BIGSERIAL PRIMARY KEY,
    username        TEXT NOT NULL UNIQUE,
    password_hash   TEXT NOT NULL,
    role            TEXT NOT NULL CHECK (role IN ('technician', 'reviewer', 'admin')),
    service_id      BIGINT REFERENCES services(id),
    created_ms      BIGINT NOT NULL,
    disabled        BOOLEAN NOT NULL DEFAULT false,
    CHECK ((role = 'technician') = (service_id IS NOT NULL))
);

CREATE TABLE sessions (
    hash            BYTEA PRIMARY KEY,
    user_id         BIGINT NOT NULL REFERENCES users(id),
    csrf            TEXT NOT NULL,
    created_ms      BIGINT NOT NULL,
    expires_ms      BIGINT NOT NULL
);

CREATE TABLE photos (
    sample_id       BIGINT PRIMARY KEY REFERENCES samples(id),
    jpeg            BYTEA NOT NULL,
    width           BIGINT NOT NULL,
    height          BIGINT NOT NULL,
    uploaded_ms     BIGINT NOT NULL
);

CREATE TABLE reference_spectra (
    id              BIGSERIAL PRIMARY KEY,
    substance       TEXT NOT NULL,
    technique       TEXT NOT NULL CHECK (technique IN ('infrared', 'mass')),
    name            TEXT NOT NULL,
    source          TEXT NOT NULL,
    x               BYTEA NOT NULL,
    y               BYTEA NOT NULL,
    added_by        TEXT NOT NULL,
    added_ms        BIGINT NOT NULL
);
CREATE INDEX reference_spectra_technique ON reference_spectra(technique);

CREATE TABLE analysis_spectra (
    id              BIGSERIAL PRIMARY KEY,
    analysis_id     BIGINT NOT NULL REFERENCES analyses(id),
    technique       TEXT NOT NULL CHECK (technique IN ('infrared', 'mass')),
    filename        TEXT NOT NULL,
    format          TEXT NOT NULL,
    original        BYTEA NOT NULL,
    x               BYTEA NOT NULL,
    y               BYTEA NOT NULL,
    proposals       TEXT NOT NULL,
    uploaded_by     TEXT NOT NULL,
    uploaded_ms     BIGINT NOT NULL
);
CREATE INDEX analysis_spectra_analysis ON analysis_spectra(analysis_id);

CREATE TABLE alert_photos (
    alert_id    BIGINT PRIMARY KEY REFERENCES alerts(id),
    sample_id   BIGINT NOT NULL REFERENCES samples(id),
    jpeg        BYTEA NOT NULL,
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    sha1        TEXT NOT NULL,
    chosen_ms   BIGINT NOT NULL
);

CREATE TABLE alert_acknowledgements (
    alert_id        BIGINT NOT NULL REFERENCES alerts(id),
    service_id      BIGINT NOT NULL REFERENCES services(id),
    acknowledged_ms BIGINT NOT NULL,
    actor           TEXT NOT NULL,
    PRIMARY KEY (alert_id, service_id)
);

CREATE TABLE subscribers (
    id           BIGSERIAL PRIMARY KEY,
    channel      TEXT NOT NULL CHECK (channel IN ('email', 'push')),
    address      TEXT NOT NULL,
    p256dh       TEXT,
    auth         TEXT,
    fylker       TEXT NOT NULL,
    min_tier     TEXT NOT NULL CHECK (min_tier IN ('info', 'caution', 'warning', 'severe')),
    lang         TEXT NOT NULL CHECK (lang IN ('nb', 'nn', 'en')),
    nonce        TEXT NOT NULL,
    created_ms   BIGINT NOT NULL,
    confirmed_ms BIGINT,
    UNIQUE (channel, address)
);

CREATE TABLE subscriber_outbox (
    id            BIGSERIAL PRIMARY KEY,
    subscriber_id BIGINT NOT NULL REFERENCES subscribers(id) ON DELETE CASCADE,
    kind          TEXT NOT NULL CHECK (kind IN ('confirm', 'notice', 'alert')),
    event_seq     BIGINT,
    due_ms        BIGINT NOT NULL,
    attempts      BIGINT NOT NULL DEFAULT 0,
    last_error    TEXT,
    UNIQUE (subscriber_id, event_seq)
);
CREATE INDEX subscriber_outbox_due ON subscriber_outbox (due_ms);

CREATE TABLE alert_escalations (
    alert_id     BIGINT NOT NULL REFERENCES alerts(id),
    service_id   BIGINT NOT NULL REFERENCES services(id),
    escalated_ms BIGINT NOT NULL,
    PRIMARY KEY (alert_id, service_id)
);

CREATE TABLE result_feedback (
    sample_id    BIGINT PRIMARY KEY REFERENCES samples(id),
    intention    TEXT CHECK (intention IN ('as_planned', 'take_less', 'not_use', 'lab_test', 'not_stated')),
    intention_ms BIGINT,
    used         BOOLEAN,
    effect       TEXT CHECK (effect IN ('as_expected', 'stronger', 'weaker', 'unexpected')),
    unexpected   TEXT,
    outcome_ms   BIGINT
);

-- Which figure weeks changed (see the SQLite schema's migration 13): a week's version is bumped in the same
-- transaction as any change to what the figures read, by the triggers below, so no write path can forget it.
CREATE TABLE figure_weeks (
    week     BIGINT PRIMARY KEY,
    version  BIGINT NOT NULL
);

CREATE FUNCTION bump_figure_week(received BIGINT) RETURNS void LANGUAGE sql AS $$
    INSERT INTO figure_weeks (week, version) VALUES (div(received, 604800000), 1)
        ON CONFLICT (week) DO UPDATE SET version = figure_weeks.version + 1;
$$;
CREATE FUNCTION bump_figure_week_of_sample(sample BIGINT) RETURNS void LANGUAGE sql AS $$
    SELECT bump_figure_week(received_ms) FROM samples WHERE id = sample;
$$;

CREATE FUNCTION figure_weeks_samples() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN PERFORM bump_figure_week(OLD.received_ms); END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN PERFORM bump_figure_week(NEW.received_ms); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER figure_weeks_samples AFTER INSERT OR DELETE OR UPDATE OF received_ms, form, service_id ON samples
    FOR EACH ROW EXECUTE FUNCTION figure_weeks_samples();

-- Rows that belong to a sample through their sample_id (sold as, analyses, findings, result feedback).
CREATE FUNCTION figure_weeks_by_sample() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN PERFORM bump_figure_week_of_sample(OLD.sample_id);
    ELSE PERFORM bump_figure_week_of_sample(NEW.sample_id); END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER figure_weeks_sold_as AFTER INSERT OR DELETE ON sample_sold_as
    FOR EACH ROW EXECUTE FUNCTION figure_weeks_by_sample();
CREATE TRIGGER figure_weeks_analyses AFTER INSERT OR DELETE OR UPDATE OF superseded_by ON analyses
    FOR EACH ROW EXECUTE FUNCTION figure_weeks_by_sample();
CREATE TRIGGER figure_weeks_findings AFTER INSERT OR DELETE OR UPDATE OF current, tier, rule ON findings
    FOR EACH ROW EXECUTE FUNCTION figure_weeks_by_sample();
CREATE TRIGGER figure_weeks_feedback AFTER INSERT OR DELETE OR UPDATE ON result_feedback
    FOR EACH ROW EXECUTE FUNCTION figure_weeks_by_sample();

CREATE FUNCTION figure_weeks_components() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    analysis BIGINT;
BEGIN
    IF TG_OP = 'DELETE' THEN analysis := OLD.analysis_id; ELSE analysis := NEW.analysis_id; END IF;
    PERFORM bump_figure_week_of_sample(sample_id) FROM analyses WHERE id = analysis;
    RETURN NULL;
END $$;
CREATE TRIGGER figure_weeks_components AFTER INSERT OR DELETE ON components
    FOR EACH ROW EXECUTE FUNCTION figure_weeks_components();

-- A service moved to another fylke changes every week it has samples in.
CREATE FUNCTION figure_weeks_service_fylke() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE figure_weeks SET version = version + 1;
    RETURN NULL;
END $$;
CREATE TRIGGER figure_weeks_service_fylke AFTER UPDATE OF fylke ON services
    FOR EACH ROW EXECUTE FUNCTION figure_weeks_service_fylke();
