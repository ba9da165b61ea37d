"""Evaluate the saved SMS model on any labelled file (CSV, TSV or Parquet)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pesaguard.sms.data import read_labelled
from pesaguard.sms.metrics import scam_metrics
from pesaguard.sms.model import TextModel
from pesaguard.sms.normalize import normalize


def column_ref(value: str) -> str | int:
    """A column given on the command line: a non-negative integer is a position, anything else a name."""
    return int(value) if value.isdigit() else value


def evaluate_file(model: TextModel, path: Path, text_col: str | int, label_col: str | int,
                  positive: Sequence[str], dedupe: bool = False) -> dict[str, Any]:
    """Scam-class metrics of the model's scores on a labelled file (optionally de-duplicated first)."""
    df = read_labelled(path, text_col, label_col, positive)
    norm = [normalize(t) for t in df["text"]]
    df = df.assign(norm=norm)
    if dedupe:
        df = df.drop_duplicates("norm").reset_index(drop=True)
    scores = model.score(list(df["norm"]))
    out = scam_metrics(df["label"].to_numpy(), scores, model.scam_threshold)
    # With one class only (a file of scams), MCC, PR-AUC and recall at 1% FPR are undefined: null in JSON.
    out = {k: None if isinstance(v, float) and math.isnan(v) else v for k, v in out.items()}
    out.update({"file": str(path), "model_version": model.version, "deduplicated": dedupe,
                "suspicious_threshold": model.suspicious_threshold})
    return out
