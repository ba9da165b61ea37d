"""What the labels say about their own timing, and the assumption the features make about it.

Contract: :func:`label_timing` compares each fraud label's ``known_at_ms`` with its transaction's
``ts_ms``. A label stamped known at (or before) its own transaction carries no timing (a file
ingested with no delay and no known-at column gives only such labels); the feature engine then
counts it only once the transaction is ``FeatureConfig.label_delay`` old, and no label ever counts
before its transaction is ``min_label_delay`` old. Every evaluation and training report carries the
result, and a ``warning`` sentence whenever labels were moved by either rule.

>>> import pandas as pd
>>> from pesaguard.features import FeatureConfig
>>> tx = pd.DataFrame({"txn_id": ["a", "b"], "ts_ms": [0, 0]})
>>> lab = pd.DataFrame({"txn_id": ["a", "b"], "is_fraud": [1, 1], "known_at_ms": [0, 10 * 86_400_000]})
>>> t = label_timing(tx, lab, FeatureConfig())
>>> t["untimed"], t["warning"][:40]
(1, '1 of 2 fraud labels (50.0%) are stamped ')
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pesaguard.features import FeatureConfig
from pesaguard.models.metrics import DAY_MS


def label_timing(txns: pd.DataFrame, labels: pd.DataFrame, cfg: FeatureConfig) -> dict[str, Any]:
    """Counts of fraud labels by timing, the delays seen, and the features' assumption in words."""
    out: dict[str, Any] = {"label_delay": cfg.label_delay, "min_label_delay": cfg.min_label_delay,
                           "fraud_labels": 0, "untimed": 0, "sooner_than_min_delay": 0,
                           "median_delay_days": None, "warning": None}
    if labels is None or labels.empty:
        return out
    fraud = labels.loc[pd.to_numeric(labels["is_fraud"]).astype(int) == 1, ["txn_id", "known_at_ms"]]
    merged = fraud.merge(txns[["txn_id", "ts_ms"]], on="txn_id", how="inner")
    if merged.empty:
        return out
    delay = merged["known_at_ms"].to_numpy(np.int64) - merged["ts_ms"].to_numpy(np.int64)
    untimed = int((delay <= 0).sum())
    quick = int(((delay > 0) & (delay < cfg.min_label_delay_ms)).sum())
    n = len(delay)
    out.update({"fraud_labels": n, "untimed": untimed, "sooner_than_min_delay": quick,
                "median_delay_days": float(np.median(delay)) / DAY_MS})
    parts = []
    if untimed:
        parts.append(
            f"{untimed:,} of {n:,} fraud labels ({untimed / n:.1%}) are stamped known at their own "
            f"transaction's time, so the data does not say when they became known: label-based features "
            f"assume each became known {cfg.label_delay} after its transaction (FeatureConfig.label_delay). "
            "If that is not how your labels arrive, ingest them with --label-delay-days or a known-at column")
    if quick:
        parts.append(
            f"{quick:,} of {n:,} fraud labels ({quick / n:.1%}) are stamped known less than "
            f"{cfg.min_label_delay} after their transaction: features count them from {cfg.min_label_delay} "
            "on (FeatureConfig.min_label_delay)")
    if parts:
        out["warning"] = "; ".join(parts) + "."
    return out
