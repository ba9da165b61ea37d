-- Ingest (pesaguard.ingest): quarantine that can be counted by rule and by label, and corrected,
-- runs that remember how they read their file, and how each stored label source's known-at times
-- were set.
-- quarantine.rule: the reason without the row's values. is_fraud: the row's label, when it could be
-- read. resolved_ms, resolved_by: when a corrected row was stored, and by which run (source key).
ALTER TABLE quarantine ADD COLUMN rule TEXT;
ALTER TABLE quarantine ADD COLUMN is_fraud INTEGER;
ALTER TABLE quarantine ADD COLUMN resolved_ms BIGINT;
ALTER TABLE quarantine ADD COLUMN resolved_by TEXT;

-- ingest_runs.frauds: rows labelled fraud in the file, quarantined_frauds: of them, quarantined.
-- settings: JSON of the format, column map and options. corrects: the source key whose quarantined
-- rows this run corrects. report: JSON of the run's report.
ALTER TABLE ingest_runs ADD COLUMN frauds BIGINT;
ALTER TABLE ingest_runs ADD COLUMN quarantined_frauds BIGINT;
ALTER TABLE ingest_runs ADD COLUMN settings TEXT;
ALTER TABLE ingest_runs ADD COLUMN corrects TEXT;
ALTER TABLE ingest_runs ADD COLUMN report TEXT;

-- Per ingest run and label source: how the labels' known_at_ms was set. timing is 'column' (read
-- from the file, and delay_ms, if set, stands in for empty cells), 'delay' (transaction time plus
-- delay_ms), 'at_transaction' (asserted by the user: known at the transaction's time) or 'fixed'
-- (a label file without a known_at column: one time for the whole file).
CREATE TABLE label_timing (
    source_key    TEXT NOT NULL,
    label_source  TEXT NOT NULL,
    timing        TEXT NOT NULL,
    delay_ms      BIGINT,
    updated_ms    BIGINT NOT NULL,
    PRIMARY KEY (source_key, label_source)
);
