-- An alert's evidence count moves once per statement rather than once per row: join-or-draft adds a whole group
-- commit's evidence in one INSERT, and a row-level trigger would update one hot draft's row once per sample (each
-- update a new row version, under the writers' lock). The transition table holds only the rows inserted (a
-- conflicting insert adds none), so the counter still cannot drift from the rows.
DROP TRIGGER alert_evidence_count ON alert_evidence;
DROP FUNCTION alert_evidence_count();
CREATE FUNCTION alert_evidence_count() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE alerts a SET evidence_count = a.evidence_count + n.added
    FROM (SELECT alert_id, count(*) AS added FROM added_evidence GROUP BY alert_id) n
    WHERE a.id = n.alert_id;
    RETURN NULL;
END $$;
CREATE TRIGGER alert_evidence_count AFTER INSERT ON alert_evidence
    REFERENCING NEW TABLE AS added_evidence FOR EACH STATEMENT EXECUTE FUNCTION alert_evidence_count();
