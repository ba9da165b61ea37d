-- Console sessions name what they were made with, so that revoking an API key, resetting a user's
-- password or changing a user's role ends them (pesaguard.store.decisions). Sessions made before
-- this migration have no owner and are dropped (their users log in again).
ALTER TABLE sessions ADD COLUMN key_id TEXT;
ALTER TABLE sessions ADD COLUMN username TEXT;
DELETE FROM sessions;
CREATE INDEX ix_sessions_key ON sessions (key_id);
CREATE INDEX ix_sessions_user ON sessions (username);
