"""Batch decisions: a time-ordered frame of transactions through the scorer and the policy, giving each
row the action, risk and reasons the decision service would give it on the same stream.

The features are replayed through the scorer's own feature engine (replay and live scoring agree:
``tests/test_features_parity.py``), the model scores the whole matrix at once, the model explains
exactly the rows the live scorer explains (probability at or above the policy's review threshold),
and :meth:`pesaguard.decisions.policy.Policy.decide` decides every row, as it does live.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.decisions.backtest import rule_masks
from pesaguard.decisions.policy import Policy
from pesaguard.schema import TRANSACTION_COLUMNS, Transaction

#: Columns of :func:`decide_frame`'s result.
COLUMNS = ("txn_id", "score", "action", "reasons", "rules", "model_version", "policy_version")
_TEXT = {c for c in TRANSACTION_COLUMNS if Transaction.model_fields[c].annotation not in (int, int | None)}
_DEFAULTS = {c: Transaction.model_fields[c].default for c in TRANSACTION_COLUMNS
             if not Transaction.model_fields[c].is_required()}


def _canonical(transactions: pd.DataFrame) -> pd.DataFrame:
    """The transaction columns as the service's validated request has them: defaults filled in."""
    frame = transactions.reindex(columns=list(TRANSACTION_COLUMNS))
    for col, default in _DEFAULTS.items():
        if default is not None:
            frame[col] = frame[col].fillna(default)
    return frame


def _record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """One row as the service's validated request: missing values None, numbers as Python numbers."""
    out: dict[str, Any] = {}
    for col, value in row.items():
        if value is None or (isinstance(value, float) and value != value):
            out[str(col)] = None
        elif col in _TEXT:
            out[str(col)] = str(value)  # an id column of digits is read as numbers
        else:
            out[str(col)] = int(value)  # an integer column that held a missing value is read as float
    return out


def _candidates(policy: Policy, txns: pd.DataFrame, features: pd.DataFrame, p: np.ndarray) -> np.ndarray:
    """Rows whose decision is not simply "allow at the model's probability": a score at or above
    review, or a rule that hits (the vectorised backtest's masks, which agree with the live
    condition test: ``tests/test_rules.py``)."""
    wanted = {f for r in policy.rules.rules if r.enabled for c in r.conditions for f in (c.field, c.ref) if f}
    cols = {f: txns[f] for f in wanted if f in txns}
    cols |= {f: features[f[len("features."):]] for f in wanted
             if f.startswith("features.") and f[len("features."):] in features}
    hit = p >= policy.thresholds.review
    for mask in rule_masks(policy.rules, pd.DataFrame(cols, index=txns.index)).values():
        hit |= mask
    return np.nonzero(hit)[0]


def decide_frame(scorer: Any, policy: Policy, transactions: pd.DataFrame, reasons: bool = True) -> pd.DataFrame:
    """Decisions (:data:`COLUMNS`) for ``transactions`` in time order, replayed through (and added
    to) ``scorer``'s feature state. ``reasons=False`` skips the model's reason codes (rule reasons
    and the threshold sentence remain); ``rules`` names the rules that hit, joined by ``;``.

    :meth:`Policy.decide` runs on the rows a rule hits or the score flags; every other row is
    allowed at its probability, which is what ``decide`` returns for it, computed for the whole
    column at once (a per-row call would cost more than features and predict together).
    """
    df = transactions
    if not df["ts_ms"].is_monotonic_increasing:  # exports are usually in time order
        df = df.sort_values("ts_ms", kind="stable")
    df = df.reset_index(drop=True)
    with scorer._lock:  # the live state: the same lock as Scorer.score
        features = scorer.engine.replay(df)
    names = list(features.columns)
    x = features.to_numpy(dtype=np.float64)
    if names != scorer.names:
        x = features[scorer.names].to_numpy(dtype=np.float64)
    from pesaguard.models.bundle import predict_matrix

    p = predict_matrix(scorer.bundle, x)
    txns = _canonical(df)
    rows = _candidates(policy, txns, features, p)
    explained: dict[int, list[str]] = {}
    flagged = rows[p[rows] >= policy.thresholds.review]
    if reasons and len(flagged):
        for i, rs in zip(flagged.tolist(), scorer.explain_frame(x[flagged]), strict=True):
            explained[i] = [r.text for r in rs]
    # Policy.decide's risk with no weighted rule: combine(p, []), the same float operations
    score = 1.0 - (1.0 - np.clip(p, 0.0, 1.0))
    action = np.full(len(df), "allow", dtype=object)
    why = np.full(len(df), "", dtype=object)
    hits = np.full(len(df), "", dtype=object)
    records = txns.iloc[rows].astype(object).to_dict("records")
    feature_rows = features.iloc[rows].to_numpy(dtype=np.float64).tolist()
    for i, record, values in zip(rows.tolist(), records, feature_rows, strict=True):
        outcome = policy.decide(_record(record), float(p[i]), explained.get(i, []),
                                dict(zip(names, values, strict=True)))
        score[i], action[i] = outcome.score, outcome.action
        why[i] = "; ".join(outcome.reasons)
        hits[i] = ";".join(h["rule"] for h in outcome.rule_hits)
    return pd.DataFrame({"txn_id": txns["txn_id"].astype(str), "score": score, "action": action, "reasons": why,
                         "rules": hits, "model_version": str(scorer.model_version),
                         "policy_version": policy.version}, columns=list(COLUMNS))
