-- A draft a reviewer sets aside is 'discarded', never 'withdrawn': withdrawal is a public message (CAP Cancel, the
-- withdrawn list), and a withdrawn draft became public through it. A draft without new evidence for three weeks is
-- 'archived': out of the review queue, not public, revived when new evidence joins. SQLite cannot change a CHECK constraint in place,
-- so the table is rebuilt (the documented twelve-step procedure; foreign keys are off while migrations run).
CREATE TABLE alerts_new (
    id                  INTEGER PRIMARY KEY,
    status              TEXT NOT NULL CHECK (status IN ('draft', 'published', 'withdrawn', 'discarded', 'archived')),
    tier                TEXT NOT NULL,
    product_key         TEXT NOT NULL,
    fylke               TEXT NOT NULL,
    content             TEXT NOT NULL,  -- JSON AlertContent
    version             INTEGER NOT NULL DEFAULT 0,     -- published versions so far
    created_ms          INTEGER NOT NULL,
    updated_ms          INTEGER NOT NULL,
    published_ms        INTEGER,        -- first publication
    withdrawn_ms        INTEGER,        -- withdrawal, or for a discarded draft when it was discarded
    valid_until_ms      INTEGER,
    first_evidence_ms   INTEGER NOT NULL,
    last_evidence_ms    INTEGER NOT NULL,
    new_evidence        INTEGER NOT NULL DEFAULT 0,     -- samples joined after publication, for reviewers
    evidence_count      INTEGER NOT NULL DEFAULT 0
);
INSERT INTO alerts_new (id, status, tier, product_key, fylke, content, version, created_ms, updated_ms, published_ms,
                        withdrawn_ms, valid_until_ms, first_evidence_ms, last_evidence_ms, new_evidence, evidence_count)
SELECT id, CASE WHEN status = 'withdrawn' AND version = 0 THEN 'discarded' ELSE status END, tier, product_key, fylke,
       content, version, created_ms, updated_ms, published_ms, withdrawn_ms, valid_until_ms, first_evidence_ms,
       last_evidence_ms, new_evidence, evidence_count
FROM alerts;
DROP TRIGGER alert_evidence_count;
DROP TABLE alerts;
ALTER TABLE alerts_new RENAME TO alerts;
CREATE INDEX alerts_match ON alerts(product_key, fylke, status);
CREATE INDEX alerts_status ON alerts(status, updated_ms);
-- The evidence counter's trigger names the alerts table, so it went with the old table and comes back as it was.
CREATE TRIGGER alert_evidence_count AFTER INSERT ON alert_evidence
BEGIN
    UPDATE alerts SET evidence_count = evidence_count + 1 WHERE id = NEW.alert_id;
END;

-- Drafts discarded before this version were announced as public 'alert.withdrawn' events; they are staff-only now.
UPDATE events SET public = 0, kind = 'alert.discarded'
WHERE kind = 'alert.withdrawn' AND alert_id IN (SELECT id FROM alerts WHERE status = 'discarded');
UPDATE alert_transitions SET to_status = 'discarded', action = 'discarded'
WHERE to_status = 'withdrawn' AND alert_id IN (SELECT id FROM alerts WHERE status = 'discarded');
