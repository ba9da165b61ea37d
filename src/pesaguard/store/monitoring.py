"""Repository for monitoring: the prediction log as a frame, drift snapshots, shadow scores, gate runs.

The prediction log is the decision area's ``decisions`` table (migration 0003); this module only
reads it, joined with the transaction's type and, where the store has them, the payer's region and
account opening time (``LEFT JOIN``: segments degrade to ``unknown`` when accounts are absent).
Writes are idempotent on natural keys (snapshot id, ``(txn_id, model_version)``, run id).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from pesaguard.store.base import Store
from pesaguard.store.feature_layouts import decode_features

LOG_COLUMNS = ("decision_id", "txn_id", "ts_ms", "account_id", "amount_minor", "action", "score", "features",
               "model_version", "policy_version", "type", "region", "opened_ms")
SNAPSHOT_COLUMNS = ("snapshot_id", "created_ms", "start_ms", "end_ms", "model_version", "level", "n_decisions",
                    "alert_rate", "summary")
SHADOW_COLUMNS = ("txn_id", "decision_id", "model_version", "score", "created_ms")
RUN_COLUMNS = ("run_id", "created_ms", "champion_version", "challenger_version", "promoted", "comparison")


def _range(column: str, start_ms: int | None, end_ms: int | None) -> tuple[str, list[Any]]:
    clauses, params = [], []
    if start_ms is not None:
        clauses.append(f"{column} >= ?")
        params.append(start_ms)
    if end_ms is not None:
        clauses.append(f"{column} < ?")
        params.append(end_ms)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def load_prediction_log(store: Store, start_ms: int | None = None, end_ms: int | None = None,
                        with_features: bool = True) -> pd.DataFrame:
    """Decisions with transaction time in ``[start_ms, end_ms)``, oldest first.

    Columns: :data:`LOG_COLUMNS`; ``features`` holds decoded dicts (or is dropped when
    ``with_features=False``, which skips the JSON decoding for label-only analyses).
    """
    where, params = _range("d.ts_ms", start_ms, end_ms)
    feats = "d.features, d.feature_layout" if with_features else "NULL AS features, NULL AS feature_layout"
    rows = store.query(
        "SELECT d.decision_id, d.txn_id, d.ts_ms, d.account_id, d.amount_minor, d.action, d.score, "
        f"{feats}, d.model_version, d.policy_version, t.type, a.region, a.opened_ms "
        "FROM decisions d LEFT JOIN transactions t ON t.txn_id = d.txn_id "
        f"LEFT JOIN accounts a ON a.account_id = d.account_id{where} ORDER BY d.ts_ms, d.txn_id", params)
    df = pd.DataFrame.from_records(rows, columns=[*LOG_COLUMNS[:8], "feature_layout", *LOG_COLUMNS[8:]])
    layouts = df.pop("feature_layout")
    if with_features:
        decoded: list[Any] = decode_features(store, list(zip(df["features"], layouts, strict=True)))
        df["features"] = pd.Series(decoded, index=df.index, dtype=object)
    else:
        df = df.drop(columns=["features"])
    df["score"] = df["score"].astype(float)
    return df


def decision_time_range(store: Store) -> tuple[int | None, int | None]:
    """Earliest and latest transaction time in the prediction log (``None`` when empty)."""
    row = store.query("SELECT MIN(ts_ms), MAX(ts_ms) FROM decisions")[0]
    return (None if row[0] is None else int(row[0]), None if row[1] is None else int(row[1]))


# -- snapshots ---------------------------------------------------------------------------------


def insert_snapshot(store: Store, snapshot: dict[str, Any]) -> None:
    """Store one monitoring snapshot (``summary`` as a Python value; it is written as JSON)."""
    row = tuple(json.dumps(snapshot[c], sort_keys=True, default=str) if c == "summary" else snapshot[c]
                for c in SNAPSHOT_COLUMNS)
    store.execute(store.insert_ignore("monitoring_snapshots", SNAPSHOT_COLUMNS, ("snapshot_id",)), row)


def latest_snapshot(store: Store) -> dict[str, Any] | None:
    """The most recently created snapshot with its summary decoded, or ``None``."""
    rows = store.query_dicts(
        f"SELECT {', '.join(SNAPSHOT_COLUMNS)} FROM monitoring_snapshots "
        "ORDER BY created_ms DESC, snapshot_id DESC LIMIT 1")
    if not rows:
        return None
    rows[0]["summary"] = json.loads(rows[0]["summary"])
    return rows[0]


def count_snapshots(store: Store) -> int:
    return int(store.scalar("SELECT COUNT(*) FROM monitoring_snapshots") or 0)


# -- shadow scores -----------------------------------------------------------------------------


def insert_shadow_scores(store: Store, rows: Sequence[Sequence[Any]]) -> int:
    """Insert ``(txn_id, decision_id, model_version, score, created_ms)`` rows; returns new rows."""
    return store.executemany(store.insert_ignore("shadow_scores", SHADOW_COLUMNS, ("txn_id", "model_version")),
                             rows)


def load_shadow_scores(store: Store, model_version: str | None = None) -> pd.DataFrame:
    """Shadow scores next to the champion's stored score and action (one row per shadow score)."""
    sql = ("SELECT s.txn_id, s.decision_id, s.model_version, s.score, s.created_ms, "
           "d.score AS champion_score, d.action, d.model_version AS champion_version "
           "FROM shadow_scores s LEFT JOIN decisions d ON d.txn_id = s.txn_id")
    params: tuple[Any, ...] = ()
    if model_version is not None:
        sql += " WHERE s.model_version = ?"
        params = (model_version,)
    rows = store.query_dicts(sql + " ORDER BY s.created_ms, s.txn_id", params)
    return pd.DataFrame(rows, columns=["txn_id", "decision_id", "model_version", "score", "created_ms",
                                       "champion_score", "action", "champion_version"])


# -- retraining gate runs ----------------------------------------------------------------------


def insert_retrain_run(store: Store, run: dict[str, Any]) -> None:
    row = tuple(json.dumps(run[c], sort_keys=True, default=str) if c == "comparison"
                else int(run[c]) if c == "promoted" else run[c] for c in RUN_COLUMNS)
    store.execute(store.insert_ignore("retrain_runs", RUN_COLUMNS, ("run_id",)), row)


def mark_promoted(store: Store, run_id: str) -> int:
    return store.execute("UPDATE retrain_runs SET promoted = 1 WHERE run_id = ?", (run_id,))


def list_retrain_runs(store: Store, limit: int = 20) -> list[dict[str, Any]]:
    rows = store.query_dicts(
        f"SELECT {', '.join(RUN_COLUMNS)} FROM retrain_runs ORDER BY created_ms DESC, run_id DESC LIMIT ?",
        (limit,))
    for r in rows:
        r["comparison"] = json.loads(r["comparison"])
        r["promoted"] = bool(r["promoted"])
    return rows
