"""Detection metrics as an operator's fraud team feels them.

Contract: ``scores`` are higher-is-riskier floats aligned row by row with a frame of test
transactions carrying ``ts_ms``, ``payer``, ``amount_minor`` and ``is_fraud`` (and optionally
``typology``). Days are UTC calendar days. Nothing here trains or reads storage.

Account precision@k follows the published card-precision@k protocol (Le Borgne et al.,
*Reproducible Machine Learning for Credit Card Fraud Detection*): each day, accounts are ranked by
their highest score that day, the top ``k`` are "investigated", and the metric is the share of them
that had a fraud that day. Accounts already known to be compromised (a fraud label known before
the day starts, or a fraud found by an earlier day's investigation) leave the ranking.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import average_precision_score, roc_auc_score

DAY_MS = 86_400_000


def ranking_metrics(y: np.ndarray, scores: np.ndarray) -> dict[str, float | None]:
    """ROC AUC and average precision; ``None`` when the test set holds a single class."""
    y = np.asarray(y, dtype=int)
    if y.min(initial=0) == y.max(initial=0):
        return {"roc_auc": None, "average_precision": None}
    return {
        "roc_auc": float(roc_auc_score(y, scores)),
        "average_precision": float(average_precision_score(y, scores)),
    }


def _day(ts_ms: pd.Series) -> np.ndarray:
    return (ts_ms.to_numpy(dtype=np.int64) // DAY_MS).astype(np.int64)


def account_precision_at_k(
    test: pd.DataFrame,
    scores: np.ndarray,
    k: int = 100,
    known_fraud: pd.DataFrame | None = None,
) -> tuple[float | None, list[dict[str, Any]]]:
    """Mean daily account precision@k and the per-day rows behind it.

    ``known_fraud`` has ``payer`` and ``known_at_ms``: accounts whose fraud was known before a
    day's start are left out of that day's ranking. Returns ``(mean, per_day)``; the mean is over
    days with at least one transaction, ``None`` if there are none.
    """
    df = pd.DataFrame(
        {"day": _day(test["ts_ms"]), "payer": test["payer"].to_numpy(), "score": scores,
         "is_fraud": test["is_fraud"].to_numpy(dtype=int)}
    )
    known = known_fraud if known_fraud is not None else pd.DataFrame({"payer": [], "known_at_ms": []})
    detected: set[Any] = set()
    per_day: list[dict[str, Any]] = []
    for day_key, g in df.groupby("day", sort=True):
        day = int(str(day_key))
        day_start = day * DAY_MS
        excluded = detected | set(known.loc[known["known_at_ms"] < day_start, "payer"])
        g = g[~g["payer"].isin(excluded)]
        acc = g.groupby("payer").agg(score=("score", "max"), fraud=("is_fraud", "max"))
        top = acc.sort_values("score", ascending=False, kind="stable").head(k)
        hits = int(top["fraud"].sum())
        per_day.append({
            "day": day, "precision": hits / k, "hits": hits,
            "fraud_accounts": int(acc["fraud"].sum()),
        })
        detected |= set(top.index[top["fraud"] == 1])
    if not per_day:
        return None, []
    return float(np.mean([d["precision"] for d in per_day])), per_day


def recall_at_daily_budget(test: pd.DataFrame, scores: np.ndarray, budget: int) -> dict[str, float | None]:
    """Recall when only the top ``budget`` accounts (and, separately, transactions) per day are reviewed.

    Account recall: fraud accounts of a day that fall within that day's top ``budget`` accounts,
    over all fraud accounts of all days. Transaction recall: fraud transactions within the day's
    top ``budget`` transactions, over all fraud transactions.
    """
    df = pd.DataFrame(
        {"day": _day(test["ts_ms"]), "payer": test["payer"].to_numpy(), "score": scores,
         "is_fraud": test["is_fraud"].to_numpy(dtype=int)}
    )
    acc = df.groupby(["day", "payer"]).agg(score=("score", "max"), fraud=("is_fraud", "max")).reset_index()
    acc["rank"] = acc.groupby("day")["score"].rank(method="first", ascending=False)
    df["rank"] = df.groupby("day")["score"].rank(method="first", ascending=False)
    total_acc, total_txn = int(acc["fraud"].sum()), int(df["is_fraud"].sum())
    return {
        "account_recall_at_budget": (
            float(acc.loc[acc["rank"] <= budget, "fraud"].sum() / total_acc) if total_acc else None),
        "transaction_recall_at_budget": (
            float(df.loc[df["rank"] <= budget, "is_fraud"].sum() / total_txn) if total_txn else None),
    }


@dataclass(frozen=True)
class Thresholds:
    """Score cut-offs: at or above ``review`` a transaction is queued, at or above ``block`` stopped."""

    review: float
    block: float

    def to_dict(self) -> dict[str, float]:
        return {"review": self.review, "block": self.block}


def choose_thresholds(y: np.ndarray, scores: np.ndarray, review_rate: float = 0.01,
                      block_precision: float = 0.9) -> Thresholds:
    """Pick thresholds on validation data.

    ``review``: the score above which ``review_rate`` of transactions fall (the review team's
    capacity). ``block``: the lowest score whose precision on validation is at least
    ``block_precision`` (blocking an honest customer is costly), never below ``review``; if no
    score reaches that precision, blocking is reserved for the top score seen.
    """
    y = np.asarray(y, dtype=int)
    s = np.asarray(scores, dtype=float)
    review = float(np.quantile(s, 1.0 - review_rate)) if len(s) else 1.0
    order = np.argsort(-s, kind="stable")
    tp = np.cumsum(y[order])
    precision = tp / np.arange(1, len(s) + 1)
    ok = np.nonzero(precision >= block_precision)[0]
    # Largest prefix (lowest score) that still meets the precision target.
    block = float(s[order][ok[-1]]) if len(ok) and tp[ok[-1]] > 0 else (float(s.max()) if len(s) else 1.0)
    return Thresholds(review=review, block=max(block, review))


def money_at_thresholds(test: pd.DataFrame, scores: np.ndarray, th: Thresholds) -> dict[str, Any]:
    """Fraud money (minor units) stopped by ``block``, queued by ``review``, and missed; alert volumes."""
    amount = test["amount_minor"].to_numpy(dtype=np.int64)
    fraud = test["is_fraud"].to_numpy(dtype=bool)
    s = np.asarray(scores, dtype=float)
    block, review = s >= th.block, s >= th.review
    total = int(amount[fraud].sum())
    return {
        "fraud_amount_minor": total,
        "blocked_fraud_amount_minor": int(amount[fraud & block].sum()),
        "reviewed_fraud_amount_minor": int(amount[fraud & review & ~block].sum()),
        "missed_fraud_amount_minor": int(amount[fraud & ~review].sum()),
        "blocked_genuine_count": int((block & ~fraud).sum()),
        "review_count": int((review & ~block).sum()),
        "block_count": int(block.sum()),
        "transaction_recall_at_review": float((fraud & review).sum() / fraud.sum()) if fraud.any() else None,
        "money_recall_at_review": float(amount[fraud & review].sum() / total) if total else None,
    }


def typology_recall(test: pd.DataFrame, scores: np.ndarray, threshold: float) -> dict[str, dict[str, Any]]:
    """Recall at ``threshold`` and mean score per fraud typology (only when ``typology`` exists)."""
    if "typology" not in test.columns:
        return {}
    fraud = test["is_fraud"].to_numpy(dtype=bool)
    typ = test["typology"].to_numpy(dtype=object)
    s = np.asarray(scores, dtype=float)
    out: dict[str, dict[str, Any]] = {}
    for name in sorted({t for t in typ[fraud] if isinstance(t, str) and t}):
        m = fraud & (typ == name)
        out[name] = {"count": int(m.sum()), "recall": float((s[m] >= threshold).mean()),
                     "mean_score": float(s[m].mean())}
    return out


def mean_or_none(values: Iterable[float | None]) -> float | None:
    """Mean of the non-missing values, ``None`` if there are none."""
    vals = [v for v in values if v is not None]
    return float(np.mean(vals)) if vals else None
