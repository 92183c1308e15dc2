-- Appends audit entries in order, chained as `varde_store::audit::Entry::hash` chains them (see `audit_field`), in
-- one call: a group of registrations writes its entries in one round trip under the writers' lock.
CREATE FUNCTION audit_append(ats BIGINT[], actors TEXT[], actions TEXT[], subjects TEXT[], genesis TEXT)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    s BIGINT;
    h TEXT;
    next_hash TEXT;
BEGIN
    SELECT seq, hash INTO s, h FROM audit_log ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        s := 0;
        h := genesis;
    END IF;
    FOR i IN 1 .. coalesce(array_length(ats, 1), 0) LOOP
        s := s + 1;
        next_hash := encode(sha256(audit_field(h) || audit_field(s::text) || audit_field(ats[i]::text)
                                   || audit_field(actors[i]) || audit_field(actions[i]) || audit_field(subjects[i])), 'hex');
        INSERT INTO audit_log (seq, at_ms, actor, action, subject, prev_hash, hash)
            VALUES (s, ats[i], actors[i], actions[i], subjects[i], h, next_hash);
        h := next_hash;
    END LOOP;
END $$;
