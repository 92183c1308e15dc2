-- Times appending to the audit chain in SQL (`audit_append`) with `audit_field` as migration 0004 declared it and as
-- migration 0008 declares it: 200 calls of 8 entries each time, as registration groups append them. The two chains'
-- last hashes must be equal. Run from the repository's root:
--     psql -h 127.0.0.1 -U postgres test -f scripts/bench-audit-append.sql
DROP SCHEMA IF EXISTS bench_audit CASCADE;
CREATE SCHEMA bench_audit;
SET search_path = bench_audit;
CREATE TABLE audit_log (seq BIGINT PRIMARY KEY, at_ms BIGINT NOT NULL, actor TEXT NOT NULL, action TEXT NOT NULL,
                        subject TEXT NOT NULL, prev_hash TEXT NOT NULL, hash TEXT NOT NULL);
\i crates/varde-store-postgres/migrations/0004_audit_append.sql
\i crates/varde-store-postgres/migrations/0005_audit_append_all.sql
\set append 'DO $$ BEGIN FOR j IN 1..200 LOOP PERFORM audit_append(array_fill(1700000000000::bigint, ARRAY[8]), array_fill(''api:tech''::text, ARRAY[8]), array_fill(''sample.create''::text, ARRAY[8]), array_fill(''ABCD-EFGH''::text, ARRAY[8]), ''genesis''); END LOOP; END $$;'
\echo as migration 0004 declared audit_field (not inlined):
\timing on
:append
\timing off
SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1;
TRUNCATE audit_log;
\i crates/varde-store-postgres/migrations/0008_audit_field_inlined.sql
\echo as migration 0008 declares it (inlined):
\timing on
:append
\timing off
SELECT hash FROM audit_log ORDER BY seq DESC LIMIT 1;
SET client_min_messages = warning;
DROP SCHEMA bench_audit CASCADE;
