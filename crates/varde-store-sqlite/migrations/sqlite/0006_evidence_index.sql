-- Every sample that joins an alert redrafts it from the alert's newest evidence and its evidence count. Keeping each
-- evidence sample's received time on its row lets an index answer "the newest five" and a counter answer "how
-- many" without reading all of an alert's samples, which grow to thousands for a long-running product.
ALTER TABLE alert_evidence ADD COLUMN received_ms INTEGER;
UPDATE alert_evidence SET received_ms = (SELECT received_ms FROM samples WHERE samples.id = alert_evidence.sample_id);
CREATE INDEX alert_evidence_newest ON alert_evidence(alert_id, received_ms DESC, sample_id DESC);

ALTER TABLE alerts ADD COLUMN evidence_count INTEGER NOT NULL DEFAULT 0;
UPDATE alerts SET evidence_count = (SELECT count(*) FROM alert_evidence WHERE alert_evidence.alert_id = alerts.id);
-- The counter cannot drift from the rows: evidence is only ever added (an ignored duplicate fires nothing).
CREATE TRIGGER alert_evidence_count AFTER INSERT ON alert_evidence
BEGIN
    UPDATE alerts SET evidence_count = evidence_count + 1 WHERE id = NEW.alert_id;
END;
