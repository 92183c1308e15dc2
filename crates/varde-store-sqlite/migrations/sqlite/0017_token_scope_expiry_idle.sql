-- API tokens with a scope (read-only or read and write), an expiry and their last use; sessions with their last use,
-- for the idle timeout. Tokens issued before this migration keep writing and never expire (as they were issued).
ALTER TABLE tokens ADD COLUMN read_only INTEGER NOT NULL DEFAULT 0;
ALTER TABLE tokens ADD COLUMN expires_ms INTEGER;
ALTER TABLE tokens ADD COLUMN last_used_ms INTEGER;
ALTER TABLE sessions ADD COLUMN last_seen_ms INTEGER;
