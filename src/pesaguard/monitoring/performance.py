"""Delayed-label performance of logged decisions, overall, over time and per segment.

Contract: only *matured* decisions count — those made at least ``maturity_days`` before ``as_of``
— and their truth is the latest label known before ``as_of`` (no label: genuine, as the fraud team
sees it). "Alerted" means the logged action was ``review`` or ``block``. Metrics come from
:mod:`pesaguard.models.metrics`, so monitoring and training measure the same thing.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pesaguard.models import metrics as mt
from pesaguard.models.protocol import known_labels

DAY_MS = mt.DAY_MS
SEGMENTS = ("region", "account_age", "type")
_AGE_BANDS = ((30, "<30d"), (180, "30-180d"), (365, "180d-1y"))


def matured(log: pd.DataFrame, labels: pd.DataFrame, as_of_ms: int, maturity_days: int) -> pd.DataFrame:
    """Decisions at least ``maturity_days`` old at ``as_of_ms``, with ``is_fraud`` and ``alerted``."""
    df = log[log["ts_ms"] < as_of_ms - maturity_days * DAY_MS].copy()
    truth = known_labels(labels, as_of_ms) if len(labels) else pd.Series(dtype=int)
    df["is_fraud"] = df["txn_id"].map(truth).fillna(0).astype(int)
    df["alerted"] = df["action"].isin(("review", "block")).astype(int)
    df["payer"] = df["account_id"]
    return df.reset_index(drop=True)


def account_age_band(ts_ms: pd.Series, opened_ms: pd.Series) -> pd.Series:
    """``<30d`` / ``30-180d`` / ``180d-1y`` / ``1y+`` at decision time; ``unknown`` without an opening date."""
    age = (pd.to_numeric(ts_ms) - pd.to_numeric(opened_ms, errors="coerce")) / DAY_MS
    out = pd.Series("1y+", index=ts_ms.index, dtype=object)
    for limit, name in reversed(_AGE_BANDS):
        out[age < limit] = name
    out[age.isna()] = "unknown"
    return out


def with_segments(df: pd.DataFrame) -> pd.DataFrame:
    """Add the segment columns; any source column that is absent becomes ``unknown``."""
    out = df.copy()
    out["region"] = out["region"].fillna("unknown") if "region" in out else "unknown"
    out["type"] = out["type"].fillna("unknown") if "type" in out else "unknown"
    opened = out["opened_ms"] if "opened_ms" in out else pd.Series(np.nan, index=out.index)
    out["account_age"] = account_age_band(out["ts_ms"], opened)
    return out


def metrics(df: pd.DataFrame, k: int, labels: pd.DataFrame | None = None) -> dict[str, Any]:
    """AP, ROC AUC, account precision@k, recall and false-positive rate of the logged actions."""
    y = df["is_fraud"].to_numpy(dtype=int)
    a = df["alerted"].to_numpy(dtype=int)
    scores = df["score"].to_numpy(dtype=float)
    out: dict[str, Any] = {"decisions": len(df), "frauds": int(y.sum()), "alerts": int(a.sum())}
    out.update(mt.ranking_metrics(y, scores) if len(df) else {"roc_auc": None, "average_precision": None})
    known = None
    if labels is not None and len(labels):
        from pesaguard.models.protocol import known_fraud_accounts

        known = known_fraud_accounts(df[["txn_id", "payer"]], labels)
    p_at_k = mt.account_precision_at_k(df, scores, k, known)[0] if len(df) else None
    out[f"account_precision_at_{k}"] = p_at_k
    out["precision_at_k"] = p_at_k
    out["recall"] = float((a & y).sum() / y.sum()) if y.sum() else None
    out["false_positive_rate"] = float((a & (1 - y)).sum() / (1 - y).sum()) if (1 - y).sum() else None
    out["alert_precision"] = float((a & y).sum() / a.sum()) if a.sum() else None
    return out


def over_time(df: pd.DataFrame, period_days: int = 7) -> list[dict[str, Any]]:
    """AP, recall and fraud count per ``period_days`` block, counted from the first decision's UTC day."""
    ts = df["ts_ms"].to_numpy(dtype=np.int64)
    origin = int(ts.min()) // DAY_MS * DAY_MS if len(ts) else 0
    block = (ts - origin) // (period_days * DAY_MS)
    rows = []
    for b in np.unique(block):
        g = df[block == b]
        y = g["is_fraud"].to_numpy(dtype=int)
        rows.append({"start_ms": origin + int(b) * period_days * DAY_MS, "decisions": len(g), "frauds": int(y.sum()),
                     "average_precision": mt.ranking_metrics(y, g["score"].to_numpy())["average_precision"],
                     "recall": float((g["alerted"].to_numpy() & y).sum() / y.sum()) if y.sum() else None})
    return rows


def _ratio(a: float | None, b: float | None) -> float | None:
    if a is None or b is None:
        return None
    if a == 0 and b == 0:
        return 1.0
    if a == 0 or b == 0:
        return float("inf")
    return max(a / b, b / a)


def segment_table(df: pd.DataFrame, overall: dict[str, Any], disparity_ratio: float,
                  min_support: int) -> list[dict[str, Any]]:
    """Recall, false-positive rate and AP per segment value, with disparities flagged.

    A segment is flagged on recall when it has at least ``min_support`` frauds and its recall differs
    from the overall recall by more than ``disparity_ratio`` (either way); on false-positive rate when
    it has at least ``min_support`` false alerts, or the overall rate implies it should have had them.
    """
    rows = []
    seg = with_segments(df)
    for dim in SEGMENTS:
        for value, g in seg.groupby(dim, sort=True):
            y, a = g["is_fraud"].to_numpy(dtype=int), g["alerted"].to_numpy(dtype=int)
            frauds, genuine = int(y.sum()), int((1 - y).sum())
            recall = float((a & y).sum() / frauds) if frauds else None
            false_alerts = int((a & (1 - y)).sum())
            fpr = false_alerts / genuine if genuine else None
            flags = []
            r_ratio, f_ratio = _ratio(recall, overall.get("recall")), _ratio(fpr, overall.get("false_positive_rate"))
            if frauds >= min_support and r_ratio is not None and r_ratio > disparity_ratio:
                flags.append("recall")
            expected = (overall.get("false_positive_rate") or 0.0) * genuine
            if (max(false_alerts, expected) >= min_support and f_ratio is not None
                    and f_ratio > disparity_ratio):
                flags.append("false_positive_rate")
            ap = mt.ranking_metrics(y, g["score"].to_numpy())["average_precision"]
            rows.append({"segment": dim, "value": str(value), "decisions": len(g), "frauds": frauds,
                         "recall": recall, "false_positive_rate": fpr, "average_precision": ap,
                         "flags": flags})
    return rows
