"""Replay the store's history for a rules backtest (the I/O half of :mod:`.backtest`)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.decisions.backtest import build_frame, report
from pesaguard.decisions.rules import RuleSet
from pesaguard.store import Store, core
from pesaguard.store import decision_log as repo


def backtest_store(store: Store, rules: RuleSet, start_ms: int, end_ms: int,
                   on_progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Replay history before ``end_ms`` through the feature engine and score rules on ``[start, end)``."""
    from pesaguard.features import FeatureEngine

    say = on_progress or (lambda _m: None)
    history = core.load_transactions(store, None, end_ms)
    labels = core.load_labels(store)
    events = core.load_account_events(store)
    say(f"replaying {len(history):,} transactions through the feature engine")
    engine = FeatureEngine()
    known_before_end = labels[labels["known_at_ms"] < end_ms]
    feats = engine.replay(history, labels=known_before_end if len(known_before_end) else None,
                          account_events=events if len(events) else None)
    in_range = (history["ts_ms"] >= start_ms).to_numpy()
    txns, feats = history[in_range], feats[in_range]
    logged = {d["txn_id"]: d["features"] for d in repo.load_decisions(store, start_ms, end_ms)}
    frame = build_frame(txns, feats, logged)
    # final truth: the latest label event per transaction, whenever it became known
    latest = labels.sort_values("known_at_ms", kind="stable").drop_duplicates("txn_id", keep="last")
    truth = pd.Series(latest["is_fraud"].astype(int).to_numpy(), index=latest["txn_id"].to_numpy())
    is_fraud = txns["txn_id"].map(truth).fillna(0).to_numpy(dtype=int) if len(txns) else np.zeros(0, int)
    return {"transactions": len(txns), "fraud": int(is_fraud.sum()), "labelled": int(txns["txn_id"].isin(truth.index).sum()),
            "logged_decisions": len(logged), "rules": report(rules, frame, is_fraud)}

