-- Assistant: customer messages triaged as urgent, waiting for the case system (status 'open').
-- One row per incoming message id, so re-delivering a message adds nothing.
CREATE TABLE triage_messages (
    message_id   TEXT PRIMARY KEY,
    received_ms  BIGINT NOT NULL,
    account_id   TEXT,
    channel      TEXT,
    lang         TEXT NOT NULL,
    text         TEXT NOT NULL,
    urgency      TEXT NOT NULL,
    sentiment    TEXT NOT NULL,
    urgent_prob  {float} NOT NULL,
    cues         TEXT NOT NULL,
    status       TEXT NOT NULL DEFAULT 'open',
    created_ms   BIGINT NOT NULL
);
CREATE INDEX ix_triage_messages_status ON triage_messages (status, received_ms);
