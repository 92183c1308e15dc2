-- The alerts a sample is evidence for are read with every sample written or read (alert_refs). The primary key
-- (alert_id, sample_id) cannot answer "by sample", so SQLite scanned every alert for each: with a year of a busy
-- national service (10,000 alerts) that was over a second per sample. By sample, it is one index lookup.
CREATE INDEX alert_evidence_sample ON alert_evidence(sample_id);
