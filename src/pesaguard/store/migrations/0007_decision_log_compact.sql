-- The decision log, lighter to write (benchmarks.md, "Decision service"): every decision is one row
-- in a hot write path, so it now carries its feature vector as a JSON array of values whose names
-- are stored once per feature layout, and writes two b-trees fewer.
-- Rows written before this migration keep their JSON object and a NULL feature_layout; readers
-- (pesaguard.store.decisions.decode_features) handle both.
CREATE TABLE feature_layouts (
    layout_id   TEXT PRIMARY KEY,
    names       TEXT NOT NULL,
    created_ms  BIGINT NOT NULL
);
ALTER TABLE decisions ADD COLUMN feature_layout TEXT;
-- No query reads decisions by account (cases and the timeline go through case_decisions and
-- transactions), and only alerts are read by action and time (the dashboard): the two indexes
-- written on every decision become one written on alerts only.
DROP INDEX ix_decisions_account;
DROP INDEX ix_decisions_action;
CREATE INDEX ix_decisions_alerts ON decisions (created_ms) WHERE action <> 'allow';
