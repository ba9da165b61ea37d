"""Scam-class metrics: precision, recall, F1, MCC, PR-AUC and recall at a 1% false-positive rate.

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


def scam_metrics(y: Sequence[int] | np.ndarray, score: Sequence[float] | np.ndarray,
                 threshold: float = 0.5) -> dict[str, Any]:
    """Metrics of the scam class for scores in [0, 1] and a decision threshold."""
    y_arr = np.asarray(y, dtype=int)
    s = np.asarray(score, dtype=float)
    pred = (s >= threshold).astype(int)
    both = len(np.unique(y_arr)) == 2
    return {
        "n": len(y_arr),
        "positives": int(y_arr.sum()),
        "threshold": float(threshold),
        "precision": float(precision_score(y_arr, pred, zero_division=0)),
        "recall": float(recall_score(y_arr, pred, zero_division=0)),
        "f1": float(f1_score(y_arr, pred, zero_division=0)),
        "mcc": float(matthews_corrcoef(y_arr, pred)) if both else float("nan"),
        "pr_auc": float(average_precision_score(y_arr, s)) if both else float("nan"),
        "recall_at_1pct_fpr": recall_at_fpr(y_arr, s, 0.01) if both else float("nan"),
    }
