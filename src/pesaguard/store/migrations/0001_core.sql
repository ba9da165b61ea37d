-- Core tables: accounts, account events, transactions, labels, SMS messages, quarantine, ingest runs.
-- Amounts are integer minor units; times are UTC epoch milliseconds.
CREATE TABLE accounts (
    account_id   TEXT PRIMARY KEY,
    kind         TEXT NOT NULL DEFAULT 'customer',
    region       TEXT,
    income_band  TEXT,
    opened_ms    BIGINT,
    device_id    TEXT,
    msisdn_hash  TEXT
);

CREATE TABLE account_events (
    event_id    TEXT PRIMARY KEY,
    account_id  TEXT NOT NULL,
    ts_ms       BIGINT NOT NULL,
    kind        TEXT NOT NULL
);
CREATE INDEX ix_account_events_account ON account_events (account_id, ts_ms);

CREATE TABLE transactions (
    txn_id                TEXT PRIMARY KEY,
    ts_ms                 BIGINT NOT NULL,
    payer                 TEXT NOT NULL,
    payee                 TEXT NOT NULL,
    amount_minor          BIGINT NOT NULL CHECK (amount_minor > 0),
    currency              TEXT NOT NULL DEFAULT 'KES',
    type                  TEXT,
    channel               TEXT,
    fee_minor             BIGINT,
    payer_balance_before  BIGINT,
    payer_balance_after   BIGINT,
    payee_balance_before  BIGINT,
    payee_balance_after   BIGINT,
    device_id             TEXT,
    source                TEXT
);
CREATE INDEX ix_transactions_ts ON transactions (ts_ms);
CREATE INDEX ix_transactions_payer ON transactions (payer, ts_ms);
CREATE INDEX ix_transactions_payee ON transactions (payee, ts_ms);

CREATE TABLE labels (
    label_id     TEXT PRIMARY KEY,
    txn_id       TEXT NOT NULL,
    is_fraud     INTEGER NOT NULL CHECK (is_fraud IN (0, 1)),
    known_at_ms  BIGINT NOT NULL,
    source       TEXT NOT NULL DEFAULT 'unknown',
    typology     TEXT
);
CREATE INDEX ix_labels_txn ON labels (txn_id, known_at_ms);
CREATE INDEX ix_labels_known ON labels (known_at_ms);

CREATE TABLE sms_messages (
    msg_id        TEXT PRIMARY KEY,
    ts_ms         BIGINT NOT NULL,
    sender        TEXT NOT NULL,
    recipient     TEXT,
    text_redacted TEXT NOT NULL,
    text_hash     TEXT NOT NULL,
    label         TEXT,
    scam_type     TEXT,
    verdict       TEXT,
    score         {float}
);
CREATE INDEX ix_sms_recipient ON sms_messages (recipient, ts_ms);

CREATE TABLE quarantine (
    id          {serial_pk},
    source_key  TEXT NOT NULL,
    source      TEXT NOT NULL,
    row_number  BIGINT NOT NULL,
    field       TEXT NOT NULL,
    reason      TEXT NOT NULL,
    raw         TEXT,
    created_ms  BIGINT NOT NULL,
    UNIQUE (source_key, row_number)
);

CREATE TABLE ingest_runs (
    source_key   TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    format       TEXT NOT NULL,
    started_ms   BIGINT NOT NULL,
    finished_ms  BIGINT,
    rows_read    BIGINT,
    accepted     BIGINT,
    quarantined  BIGINT,
    duplicates   BIGINT
);
