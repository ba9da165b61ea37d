-- SMS scam shield: what each check decided and why (model version, reasons, ledger claim outcome),
-- so every verdict is reproducible. Texts are stored redacted in sms_messages (0001).
CREATE TABLE sms_checks (
    msg_id          TEXT PRIMARY KEY,
    checked_ms      BIGINT NOT NULL,
    model_version   TEXT NOT NULL,
    reasons         TEXT NOT NULL,
    claim_status    TEXT NOT NULL,
    claim_txn_id    TEXT
);
CREATE INDEX ix_sms_verdict_ts ON sms_messages (verdict, ts_ms);
