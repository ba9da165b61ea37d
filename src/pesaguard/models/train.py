"""Model choice by prequential validation, then the final fit with out-of-time calibration.

Contract: ``x`` is a float64 matrix of feature values aligned row by row with ``txns`` (which
carries ``txn_id``, ``ts_ms``, ``payer``, ``amount_minor``); labels are label events with
``known_at_ms``. Every fit only sees labels known before its own deployment time.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.errors import InputError
from pesaguard.models.estimators import Calibrator, Candidate, Model, default_grid, fit_candidate
from pesaguard.models.metrics import DAY_MS, Thresholds, choose_thresholds, ranking_metrics
from pesaguard.models.protocol import Window, prequential_folds, targets, time_mask

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: A fold needs at least this many known frauds in training to say anything about a candidate.
MIN_POSITIVES = 5
#: Fewer frauds than this in the validation test blocks: keep the first (default) grid point.
MIN_VALIDATION_FRAUDS = 30
#: Relative validation-AP margin within which the cheaper candidate is preferred.
TOLERANCE = 0.02


def cost(c: Candidate) -> int:
    """Scoring cost proxy: trees x leaves for LightGBM, 1 for the linear model."""
    if c.kind != "lightgbm":
        return 1
    return int(c.params.get("n_estimators", 300)) * int(c.params.get("num_leaves", 31))


@dataclass
class Matrix:
    """Feature values and the transactions they describe, in the same row order."""

    txns: pd.DataFrame
    x: np.ndarray
    feature_names: list[str]
    labels: pd.DataFrame

    def rows(self, start: int, end: int) -> np.ndarray:
        return time_mask(self.txns["ts_ms"], start, end)


@dataclass
class FittedModel:
    """A model ready to score: margin model, calibration, thresholds and how it was made."""

    model: Model
    calibrator: Calibrator
    thresholds: Thresholds
    candidate: Candidate
    window: Window
    train_rows: int
    train_frauds: int
    calibration: dict[str, Any] = field(default_factory=dict)

    def predict(self, x: np.ndarray) -> np.ndarray:
        """Calibrated fraud probabilities for a feature matrix."""
        return np.asarray(self.calibrator(self.model.margin(x)), dtype=float)


def select_candidate(
    m: Matrix, window: Window, grid: list[Candidate] | None = None, n_folds: int = 2,
    say: Progress | None = None, labels_cutoff: int | str | None = "test_start",
) -> tuple[Candidate, list[dict[str, Any]]]:
    """Pick the grid point with the best mean average precision over prequential folds.

    Folds lie wholly before ``window.test_start`` and use only labels known by then; if none is
    usable (too little history or no frauds), or the folds hold fewer than ``MIN_VALIDATION_FRAUDS``
    frauds in all, the first grid point is returned and the table says so.
    ``labels_cutoff`` is when the choice is made (default ``window.test_start``; ``None``: now, all labels).
    """
    grid = grid or default_grid()
    cutoff = window.test_start if labels_cutoff == "test_start" else labels_cutoff
    assert cutoff is None or isinstance(cutoff, int)
    data_start = int(m.txns["ts_ms"].min()) if len(m.txns) else None
    rows: list[dict[str, Any]] = []
    for fi, fold in enumerate(prequential_folds(window, n_folds, data_start)):
        tr, te = m.rows(fold.train_start, fold.train_end), m.rows(fold.test_start, fold.test_end)
        y_tr = targets(m.txns["txn_id"][tr], m.labels,
                       fold.test_start if cutoff is None else min(fold.test_start, cutoff))
        y_te = targets(m.txns["txn_id"][te], m.labels, cutoff)
        if y_tr.sum() < MIN_POSITIVES or y_te.sum() == 0 or y_te.sum() == len(y_te):
            continue
        for cand in grid:
            if say:
                say(f"fold {fi + 1}: {cand.name}")
            model = fit_candidate(m.x[tr], y_tr, m.feature_names, cand)
            met = ranking_metrics(y_te, model.margin(m.x[te]))
            rows.append({"fold": fi, "candidate": cand.name, "frauds": int(y_te.sum()), **met, **fold.to_dict()})
    if not rows:
        return grid[0], [{"candidate": grid[0].name, "note": "no usable validation fold; default chosen"}]
    table = pd.DataFrame(rows)
    frauds = int(table.drop_duplicates("fold")["frauds"].sum())
    if frauds < MIN_VALIDATION_FRAUDS:
        # AP measured on a handful of frauds is mostly noise; it must not override the default.
        note = f"only {frauds} validation frauds (< {MIN_VALIDATION_FRAUDS}); default kept"
        return grid[0], [*rows, {"candidate": grid[0].name, "note": note}]
    mean_ap = table.groupby("candidate", sort=False)["average_precision"].mean()
    # Differences of a percent or two in validation AP are noise at these fraud counts, while a
    # smaller model scores faster: take the cheapest candidate within TOLERANCE of the best.
    # Only settings of the winning family compete on cost: a family switch needs a real difference.
    top = next(c for c in grid if c.name == str(mean_ap.idxmax()))
    near = [c for c in grid if c.kind == top.kind and c.name in mean_ap.index
            and mean_ap[c.name] >= (1 - TOLERANCE) * mean_ap.max()]
    best = min(near, key=lambda c: (cost(c), -mean_ap[c.name]))
    return best, rows


def fit_final(m: Matrix, window: Window, cand: Candidate, review_rate: float = 0.01,
              block_precision: float = 0.9, labels_cutoff: int | str | None = "test_start") -> FittedModel:
    """Fit ``cand`` on the training window with labels known at ``window.test_start``.

    ``labels_cutoff=None`` uses every label known now (production training for deployment now).

    Calibration is honest about time: a twin model fitted on the earlier part of the window scores
    the latest slice (the last fifth, at least a day), Platt scaling is fitted on those out-of-time
    margins and the thresholds are chosen there; the served model is then refitted on the whole
    window with the same settings, and the calibration is applied to its margins.
    """
    tr = m.rows(window.train_start, window.train_end)
    cutoff = window.test_start if labels_cutoff == "test_start" else labels_cutoff
    assert cutoff is None or isinstance(cutoff, int)
    y = targets(m.txns["txn_id"][tr], m.labels, cutoff)
    if int(y.sum()) == 0:
        raise InputError(
            "no fraud label is known for the training period, so there is nothing to learn from",
            hint="train on a longer or later period, or ingest labels (known_at before the test start)",
        )
    x_tr, ts = m.x[tr], m.txns["ts_ms"].to_numpy(dtype=np.int64)[tr]
    span = window.train_end - window.train_start
    cut = window.train_end - max(DAY_MS, span // 5)
    early, late = ts < cut, ts >= cut
    calib: dict[str, Any]
    if y[early].sum() >= MIN_POSITIVES and y[late].sum() > 0:
        twin = fit_candidate(x_tr[early], y[early], m.feature_names, cand)
        margin_late = twin.margin(x_tr[late])
        calibrator = Calibrator.fit(margin_late, y[late])
        prob_late = calibrator(margin_late)
        thresholds = choose_thresholds(y[late], prob_late, review_rate, block_precision)
        calib = {"method": "platt, out of time", "slice_rows": int(late.sum()),
                 "slice_frauds": int(y[late].sum()), **ranking_metrics(y[late], prob_late)}
    else:
        calibrator = None  # too few frauds to hold a slice out: calibrate in sample, and say so
        calib = {"method": "platt, in sample (too few frauds for an out-of-time slice)"}
    model = fit_candidate(x_tr, y, m.feature_names, cand)
    if calibrator is None:
        margin = model.margin(x_tr)
        calibrator = Calibrator.fit(margin, y)
        thresholds = choose_thresholds(y, calibrator(margin), review_rate, block_precision)
    return FittedModel(model, calibrator, thresholds, cand, window, int(tr.sum()), int(y.sum()), calib)
