-- Decisions, cases, API keys, console users and sessions (area: pesaguard.decisions / service / console).
-- Times are UTC epoch milliseconds; scores are floats in [0, 1]; JSON columns are TEXT.
CREATE TABLE api_keys (
    key_id      TEXT PRIMARY KEY,
    key_hash    TEXT NOT NULL UNIQUE,
    role        TEXT NOT NULL CHECK (role IN ('scorer', 'analyst', 'admin')),
    name        TEXT,
    created_ms  BIGINT NOT NULL,
    revoked_ms  BIGINT
);

CREATE TABLE users (
    username       TEXT PRIMARY KEY,
    password_hash  TEXT NOT NULL,
    role           TEXT NOT NULL CHECK (role IN ('analyst', 'admin')),
    created_ms     BIGINT NOT NULL
);

CREATE TABLE sessions (
    token_hash  TEXT PRIMARY KEY,
    principal   TEXT NOT NULL,
    role        TEXT NOT NULL,
    expires_ms  BIGINT NOT NULL
);

CREATE TABLE decisions (
    decision_id    TEXT PRIMARY KEY,
    txn_id         TEXT NOT NULL UNIQUE,
    request_hash   TEXT NOT NULL,
    ts_ms          BIGINT NOT NULL,
    account_id     TEXT NOT NULL,
    amount_minor   BIGINT NOT NULL,
    action         TEXT NOT NULL CHECK (action IN ('allow', 'review', 'block')),
    score          {float} NOT NULL,
    reasons        TEXT NOT NULL,
    rule_hits      TEXT NOT NULL,
    features       TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    policy_version TEXT NOT NULL,
    created_ms     BIGINT NOT NULL
);
CREATE INDEX ix_decisions_account ON decisions (account_id, ts_ms);
CREATE INDEX ix_decisions_action ON decisions (action, created_ms);

CREATE TABLE cases (
    case_id      TEXT PRIMARY KEY,
    account_id   TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'resolved')),
    assignee     TEXT,
    opened_ms    BIGINT NOT NULL,
    updated_ms   BIGINT NOT NULL,
    resolved_ms  BIGINT,
    resolution   TEXT,
    max_score    {float} NOT NULL,
    worst_action TEXT NOT NULL,
    top_reason   TEXT,
    max_amount   BIGINT NOT NULL,
    n_alerts     INTEGER NOT NULL
);
-- At most one open case per account: a new alert updates it rather than opening another.
CREATE UNIQUE INDEX ux_cases_open_account ON cases (account_id) WHERE status = 'open';
CREATE INDEX ix_cases_status ON cases (status, updated_ms);

CREATE TABLE case_decisions (
    case_id      TEXT NOT NULL,
    decision_id  TEXT NOT NULL,
    PRIMARY KEY (case_id, decision_id)
);

CREATE TABLE case_events (
    id        {serial_pk},
    case_id   TEXT NOT NULL,
    ts_ms     BIGINT NOT NULL,
    actor     TEXT NOT NULL,
    kind      TEXT NOT NULL,
    body      TEXT
);
CREATE INDEX ix_case_events_case ON case_events (case_id, ts_ms);
