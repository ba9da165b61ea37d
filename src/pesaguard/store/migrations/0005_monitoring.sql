-- Monitoring (area: pesaguard.monitoring): drift snapshots, shadow scores, retraining gate runs.
-- Times are UTC epoch milliseconds; JSON columns are TEXT.
CREATE TABLE monitoring_snapshots (
    snapshot_id    TEXT PRIMARY KEY,
    created_ms     BIGINT NOT NULL,
    start_ms       BIGINT NOT NULL,
    end_ms         BIGINT NOT NULL,
    model_version  TEXT,
    level          TEXT NOT NULL CHECK (level IN ('ok', 'warn', 'alarm')),
    n_decisions    BIGINT NOT NULL,
    alert_rate     {float},
    summary        TEXT NOT NULL
);
CREATE INDEX ix_monitoring_snapshots_created ON monitoring_snapshots (created_ms);

-- One row per (transaction, shadow model): a challenger's score next to the champion's decision.
CREATE TABLE shadow_scores (
    txn_id         TEXT NOT NULL,
    decision_id    TEXT NOT NULL,
    model_version  TEXT NOT NULL,
    score          {float} NOT NULL,
    created_ms     BIGINT NOT NULL,
    PRIMARY KEY (txn_id, model_version)
);
CREATE INDEX ix_shadow_scores_decision ON shadow_scores (decision_id);

CREATE TABLE retrain_runs (
    run_id              TEXT PRIMARY KEY,
    created_ms          BIGINT NOT NULL,
    champion_version    TEXT,
    challenger_version  TEXT,
    promoted            INTEGER NOT NULL CHECK (promoted IN (0, 1)),
    comparison          TEXT NOT NULL
);
CREATE INDEX ix_retrain_runs_created ON retrain_runs (created_ms);
