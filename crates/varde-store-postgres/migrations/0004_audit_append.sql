-- An audit entry's hash in SQL, the same as varde_store::audit::Entry::hash (each field as its length in 8 bytes,
-- big-endian, then its UTF-8 bytes; SHA-256 in hex), so that appending to the chain is one statement: the tail is
-- read and the entry written in one round trip under the writers' lock. `varde audit verify` checks every entry
-- with the Rust function.
CREATE FUNCTION audit_field(f TEXT) RETURNS BYTEA LANGUAGE sql IMMUTABLE STRICT AS $$
    SELECT int8send(octet_length(f)::BIGINT) || convert_to(f, 'UTF8')
$$;
