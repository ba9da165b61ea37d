"""Evaluate the SMS model, or the whole shield, on any labelled file (CSV, TSV or Parquet).

Labels map onto the three categories: ``positive`` labels are scams, ``promotion`` labels are
promotions, every other label is genuine. Reported: scam against the rest, "unwanted" (scam or
promotion) against genuine, the share of genuine messages and of promotions flagged as scam, and the
three-way confusion matrix. With ``shield`` the prediction is the full decision a user gets (text
model, operator formats, cues, sender); without it, the text model alone.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from pesaguard.sms.data import CATEGORY_INDEX, read_labelled
from pesaguard.sms.metrics import three_way
from pesaguard.sms.model import GENUINE, SCAM, TextModel, category_of
from pesaguard.sms.normalize import normalize


def column_ref(value: str) -> str | int:
    """A column given on the command line: a non-negative integer is a position, anything else a name."""
    return int(value) if value.isdigit() else value


def evaluate_file(model: TextModel, path: Path, text_col: str | int, label_col: str | int, positive: Sequence[str],
                  promotion: Sequence[str] = (), dedupe: bool = False, shield: Any = None,
                  sender_col: str | int | None = None) -> dict[str, Any]:
    """Three-way metrics on a labelled file (optionally de-duplicated first); ``shield`` scores full decisions."""
    keep = (sender_col,) if sender_col is not None else ()
    df = read_labelled(path, text_col, label_col, positive, promotion, keep=keep)
    if sender_col is not None:
        df = df.rename(columns={sender_col: "sender"})
    df = df.assign(norm=[normalize(t) for t in df["text"]])
    if dedupe:
        df = df.drop_duplicates("norm").reset_index(drop=True)
    truth = df["category"].map(CATEGORY_INDEX).to_numpy()
    unwanted: np.ndarray | None
    if shield is not None:
        n = len(df)
        senders = [None if s in ("", "nan", "None") else s for s in df["sender"]] if "sender" in df else [None] * n
        results = shield.check_many(list(df["text"]), senders=senders, tos=[None] * n, received_ms=[None] * n,
                                    msg_ids=[f"row-{i}" for i in range(n)])
        pred = np.array([CATEGORY_INDEX[r.category] for r in results])
        scam_score, unwanted = np.array([r.score for r in results]), None  # the decision has no "unwanted" score
    else:
        proba = model.proba(list(df["norm"])) if len(df) else np.zeros((0, 3))
        pred = category_of(proba, model.scam_threshold)
        scam_score, unwanted = proba[:, SCAM], 1.0 - proba[:, GENUINE]
    out = _strict(three_way(truth, pred, scam_score, unwanted))
    out.update({"file": str(path), "model_version": model.version, "deduplicated": dedupe,
                "decision": "shield" if shield is not None else "text model",
                "positive": sorted({p.strip().casefold() for p in positive if p.strip()}),
                "promotion": sorted({p.strip().casefold() for p in promotion if p.strip()}),
                "scam_threshold": model.scam_threshold, "suspicious_threshold": model.suspicious_threshold})
    return out


def _strict(value: Any) -> Any:
    """NaN (a metric undefined on a one-class file) becomes None, so the JSON is strict."""
    if isinstance(value, dict):
        return {k: _strict(v) for k, v in value.items()}
    if isinstance(value, float) and math.isnan(value):
        return None
    return value
