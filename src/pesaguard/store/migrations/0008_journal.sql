-- The decision journal (pesaguard.decisions.journal): the decision service acknowledges a decision
-- once it is appended to a journal segment file, and a separate process copies the segments into
-- this store. Per segment, how far (bytes) it is copied, updated in the same transaction as the rows
-- it copied: ingestion resumes exactly where it stopped, after any crash.
CREATE TABLE journal_progress (
    segment       TEXT PRIMARY KEY,
    offset_bytes  BIGINT NOT NULL,
    updated_ms    BIGINT NOT NULL
);
