"""Metrics of the scam class, of "unwanted" (scam or promotion), and the three-way confusion matrix.

Accuracy is not reported on purpose: on the UCI set the all-genuine rule already scores 87%.

>>> m = scam_metrics([0, 0, 1, 1], [0.1, 0.6, 0.7, 0.9], threshold=0.5)
>>> (m["precision"], m["recall"], round(m["f1"], 3))
(0.6666666666666666, 1.0, 0.8)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.metrics import (
    average_precision_score,
    f1_score,
    matthews_corrcoef,
    precision_score,
    recall_score,
)

CATEGORIES = ("genuine", "promotion", "scam")


def recall_at_fpr(y: np.ndarray, score: np.ndarray, fpr: float = 0.01) -> float:
    """Share of scams caught when the threshold lets through at most ``fpr`` of genuine messages."""
    neg = np.sort(score[y == 0])
    pos = score[y == 1]
    if len(pos) == 0:
        return float("nan")
    if len(neg) == 0:
        return 1.0
    allowed = int(np.floor(fpr * len(neg)))  # genuine messages that may score above the threshold
    threshold = neg[len(neg) - allowed - 1]
    return float(np.mean(pos > threshold))


def binary_metrics(y: Sequence[int] | np.ndarray, pred: Sequence[int] | np.ndarray,
                   score: Sequence[float] | np.ndarray | None = None) -> dict[str, Any]:
    """Precision, recall, F1, MCC of 0/1 predictions; PR-AUC and recall at 1% FPR when scores are given."""
    y_arr, p = np.asarray(y, dtype=int), np.asarray(pred, dtype=int)
    both = len(np.unique(y_arr)) == 2
    out: dict[str, Any] = {
        "n": len(y_arr), "positives": int(y_arr.sum()),
        "precision": float(precision_score(y_arr, p, zero_division=0)),
        "recall": float(recall_score(y_arr, p, zero_division=0)),
        "f1": float(f1_score(y_arr, p, zero_division=0)),
        "mcc": float(matthews_corrcoef(y_arr, p)) if both else float("nan"),
    }
    if score is not None:
        s = np.asarray(score, dtype=float)
        out["pr_auc"] = float(average_precision_score(y_arr, s)) if both else float("nan")
        out["recall_at_1pct_fpr"] = recall_at_fpr(y_arr, s, 0.01) if both else float("nan")
    return out


def scam_metrics(y: Sequence[int] | np.ndarray, score: Sequence[float] | np.ndarray,
                 threshold: float = 0.5) -> dict[str, Any]:
    """Metrics of the scam class for scores in [0, 1] and a decision threshold."""
    s = np.asarray(score, dtype=float)
    return {"threshold": float(threshold), **binary_metrics(y, (s >= threshold).astype(int), s)}


def confusion(truth: np.ndarray, pred: np.ndarray) -> dict[str, dict[str, int]]:
    """Counts of truth x predicted category (indices 0 genuine, 1 promotion, 2 scam)."""
    return {CATEGORIES[t]: {CATEGORIES[p]: int(np.sum((truth == t) & (pred == p))) for p in range(3)}
            for t in range(3)}


def three_way(truth: Sequence[int] | np.ndarray, pred: Sequence[int] | np.ndarray,
              scam_score: Sequence[float] | np.ndarray | None = None,
              unwanted_score: Sequence[float] | np.ndarray | None = None) -> dict[str, Any]:
    """Everything a three-way evaluation reports, from true and predicted category indices.

    ``scam``: scam against the rest (a promotion flagged as scam is a false positive);
    ``unwanted``: scam or promotion against genuine (how a data set that calls promotions "spam" is
    scored); the rates of genuine messages and of promotions flagged as scam; the confusion matrix.
    """
    t, p = np.asarray(truth, dtype=int), np.asarray(pred, dtype=int)

    def rate(cls: int) -> float | None:
        n = int(np.sum(t == cls))
        return float(np.sum((t == cls) & (p == 2)) / n) if n else None

    return {
        "n": len(t), "per_category": {c: int(np.sum(t == i)) for i, c in enumerate(CATEGORIES)},
        "scam": binary_metrics(t == 2, p == 2, scam_score),
        "unwanted": binary_metrics(t != 0, p != 0, unwanted_score),
        "genuine_flagged_scam": rate(0), "promotion_flagged_scam": rate(1),
        "confusion": confusion(t, p),
    }


def category_metrics(y: np.ndarray, proba: np.ndarray, scam_threshold: float = 0.5) -> dict[str, Any]:
    """:func:`three_way` of a text model's (n, 3) probabilities."""
    from pesaguard.sms.model import category_of

    pred = category_of(proba, scam_threshold)
    return three_way(y, pred, proba[:, 2], 1.0 - proba[:, 0])
