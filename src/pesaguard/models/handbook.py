"""The published card-fraud protocol of the Fraud Detection Handbook, for comparison with published work.

Contract (Le Borgne et al., *Reproducible Machine Learning for Credit Card Fraud Detection -
Practical Handbook*, chapters 3-5, functions ``get_train_test_set`` and ``card_precision_top_k``):

* The test set drops, on each test day, every transaction of a payer ("card") with a fraud already
  known before that day starts: a fraud label known (``known_at_ms``) before the day, on a
  transaction made on or after ``since_ms`` (the book counts frauds from the training start on).
* ROC AUC and average precision are computed on what remains, all test days together.
* Card precision@k: each day, payers are ranked by their highest score that day, the top ``k`` are
  "investigated"; the day's figure is the share of them with a fraud that day. Payers found that way
  on an earlier test day leave the later days' rankings. The mean over test days is reported.
* The ceiling is what a perfect ranking would reach (it catches every fraud payer each day, so the
  days' pools shrink as they would for it).

With labels known exactly 7 days after each transaction this reproduces the book's test sets (a
fraud made on day ``T - 8`` or earlier is known before day ``T``). Days are UTC calendar days.

>>> import numpy as np, pandas as pd
>>> test = pd.DataFrame({"ts_ms": [0, 1, 2, 86_400_000], "payer": ["a", "b", "c", "a"],
...                      "is_fraud": [1, 0, 0, 1]})
>>> r = handbook_metrics(test, np.array([0.9, 0.8, 0.1, 0.7]), k=2)
>>> r["card_precision_at_2"], r["card_precision_at_2_per_day"]
(0.25, [0.5, 0.0])
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pesaguard.models.metrics import DAY_MS, ranking_metrics


def known_fraud_payers(txns: pd.DataFrame, labels: pd.DataFrame, since_ms: int | None) -> pd.DataFrame:
    """``payer, known_at_ms``: when the first fraud of each payer (on a transaction made at or after
    ``since_ms``; ``None``: any) became known."""
    if labels is None or labels.empty:
        return pd.DataFrame({"payer": pd.Series(dtype=object), "known_at_ms": pd.Series(dtype=np.int64)})
    fraud = labels.loc[pd.to_numeric(labels["is_fraud"]).astype(int) == 1, ["txn_id", "known_at_ms"]]
    tx = txns[["txn_id", "payer", "ts_ms"]]
    if since_ms is not None:
        tx = tx[tx["ts_ms"].to_numpy() >= since_ms]
    merged = fraud.merge(tx, on="txn_id", how="inner")
    return merged.groupby("payer", sort=False)["known_at_ms"].min().reset_index()


def kept_rows(test: pd.DataFrame, known: pd.DataFrame | None) -> np.ndarray:
    """Rows of ``test`` that stay in the book's test set: their payer has no fraud known before their day."""
    if known is None or known.empty:
        return np.ones(len(test), bool)
    first_known = test["payer"].map(known.set_index("payer")["known_at_ms"])
    day_start = test["ts_ms"].to_numpy(np.int64) // DAY_MS * DAY_MS
    return ~(first_known.to_numpy(dtype=float) < day_start)


def card_precision_at_k(day: np.ndarray, payer: np.ndarray, fraud: np.ndarray, scores: np.ndarray,
                        k: int) -> tuple[list[float], list[int]]:
    """Per test day: card precision@k, and fraud payers left in that day's pool (earlier finds removed)."""
    df = pd.DataFrame({"day": day, "payer": payer, "score": scores, "fraud": fraud})
    found: set[Any] = set()
    precision: list[float] = []
    pool: list[int] = []
    for _, g in df.groupby("day", sort=True):
        g = g[~g["payer"].isin(found)]
        per = g.groupby("payer", sort=False).agg(score=("score", "max"), fraud=("fraud", "max"))
        top = per.sort_values("score", ascending=False, kind="stable").head(k)
        hits = top.index[top["fraud"].to_numpy() == 1]
        precision.append(len(hits) / k)
        pool.append(int(per["fraud"].sum()))
        found.update(hits)
    return precision, pool


def handbook_metrics(test: pd.DataFrame, scores: np.ndarray, known: pd.DataFrame | None = None,
                     k: int = 100) -> dict[str, Any]:
    """The book's figures for ``test`` (``ts_ms, payer, is_fraud``) scored by ``scores``.

    ``known`` is :func:`known_fraud_payers` (``None``: no payer is known before the test).
    """
    keep = kept_rows(test, known)
    t = test.loc[keep]
    s = np.asarray(scores, dtype=float)[keep]
    y = t["is_fraud"].to_numpy(dtype=int)
    day = t["ts_ms"].to_numpy(np.int64) // DAY_MS
    payer = t["payer"].to_numpy()
    per_day, _ = card_precision_at_k(day, payer, y, s, k)
    # A perfect ranking: fraud first. It finds every fraud payer of a day, so later pools shrink for it too.
    best, pool = card_precision_at_k(day, payer, y, y.astype(float), k)
    return {
        **ranking_metrics(y, s),
        f"card_precision_at_{k}": float(np.mean(per_day)) if per_day else None,
        f"card_precision_at_{k}_ceiling": float(np.mean(best)) if best else None,
        f"card_precision_at_{k}_per_day": per_day,
        "test_rows": len(t), "test_frauds": int(y.sum()),
        "dropped_rows": int((~keep).sum()), "dropped_frauds": int(test.loc[~keep, "is_fraud"].sum()),
        "fraud_payers_per_day": pool,
    }
