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
from pesaguard.models.search import TUNED, FoldData, SearchResult, SearchSettings, search_lightgbm

log = logging.getLogger(__name__)

Progress = Callable[[str], None]

#: A fold needs at least this many known frauds in training to say anything about a candidate.
MIN_POSITIVES = 5
#: Fewer frauds than this in the validation test blocks: keep the first (default) grid point.
MIN_VALIDATION_FRAUDS = 30
#: Relative validation-AP margin within which the cheaper candidate is preferred.
TOLERANCE = 0.02
#: Prequential validation folds used for model choice, where the history holds them (the card proxy's
#: eight-week protocol holds up to eight; the simulated month one).
N_FOLDS = 4
#: Days at the start of the data that no fold trains on: their features have no history yet.
FOLD_WARMUP_DAYS = 7
#: Genuine training rows kept per fit (all frauds are kept): beyond this, a fixed random share. On
#: the card-payment proxy (benchmarks/cardsim.py, eight weeks = 540,000 rows) keeping 10% or 25% of
#: genuine rows gave the same test AP as keeping all (0.772, 0.773 against 0.769); at 100,000 (about
#: 20%) a search trial costs half what it did at 200,000, so the time-bounded search runs twice as many
#: trials, while the simulated month's training weeks (about 55,000 rows) stay whole. Folds and the
#: final fit thin alike, so the trees chosen in the folds transfer.
MAX_GENUINE_ROWS = 100_000


def genuine_sample(y: np.ndarray, ids: pd.Series | np.ndarray, limit: int = MAX_GENUINE_ROWS) -> np.ndarray:
    """Boolean mask keeping every fraud and at most about ``limit`` genuine rows.

    The choice depends on each row's id only (a hash), so a transaction is kept or dropped alike in
    every fold and fit, whatever the order of the rows.
    """
    y = np.asarray(y)
    genuine = int((y == 0).sum())
    if genuine <= limit:
        return np.ones(len(y), bool)
    h = pd.util.hash_pandas_object(pd.Series(np.asarray(ids, dtype=object)), index=False).to_numpy()
    keep = (h % np.uint64(1_000_003)).astype(np.float64) < limit / genuine * 1_000_003
    return keep | (y == 1)


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


@dataclass
class Fold:
    """A usable prequential fold: its window and row masks, targets as known at its cutoff."""

    index: int
    window: Window
    train: np.ndarray
    test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def usable_folds(m: Matrix, window: Window, n_folds: int, cutoff: int | None,
                 genuine_rows: int | None = None) -> list[Fold]:
    """Prequential folds before ``window.test_start`` whose training block knows enough frauds and whose
    validation block holds both classes; training rows are thinned by :func:`genuine_sample` (to
    ``genuine_rows``, default ``MAX_GENUINE_ROWS``)."""
    if not len(m.txns):
        return []
    data_start = int(m.txns["ts_ms"].min())
    first = data_start
    # Leave a warm-up out of the folds' training when the history is long enough for it.
    if window.train_end - data_start >= 2 * (window.test_end - window.train_start):
        first = data_start + FOLD_WARMUP_DAYS * DAY_MS
    out = []
    for fi, fold in enumerate(prequential_folds(window, n_folds, first)):
        tr, te = m.rows(fold.train_start, fold.train_end), m.rows(fold.test_start, fold.test_end)
        y_tr = targets(m.txns["txn_id"][tr], m.labels,
                       fold.test_start if cutoff is None else min(fold.test_start, cutoff))
        y_te = targets(m.txns["txn_id"][te], m.labels, cutoff)
        if y_tr.sum() < MIN_POSITIVES or y_te.sum() == 0 or y_te.sum() == len(y_te):
            continue
        keep = genuine_sample(y_tr, m.txns["txn_id"][tr], genuine_rows or MAX_GENUINE_ROWS)
        idx = np.flatnonzero(tr)[keep]
        out.append(Fold(fi, fold, idx, te, y_tr[keep], y_te))
    return out


def select_candidate(
    m: Matrix, window: Window, grid: list[Candidate] | None = None, n_folds: int = N_FOLDS,
    say: Progress | None = None, labels_cutoff: int | str | None = "test_start",
    search: SearchSettings | None = None,
) -> tuple[Candidate, list[dict[str, Any]]]:
    """Pick the grid point with the best mean average precision over prequential folds.

    Folds lie wholly before ``window.test_start`` and use only labels known by then; if none is
    usable (too little history or no frauds), or the folds hold fewer than ``MIN_VALIDATION_FRAUDS``
    frauds in all, the first grid point is returned and the table says so.
    ``labels_cutoff`` is when the choice is made (default ``window.test_start``; ``None``: now, all labels).

    With ``lgbm_tuned`` in the grid, the other LightGBM settings of the grid are the search's first
    trials (:mod:`pesaguard.models.search`, bounded by ``search``) rather than candidates of their own;
    the setting it finds, with its number of trees chosen by early stopping, competes with the rest.
    The search's summary and trials are the last row of the returned table (``"search"``).
    """
    grid = grid or default_grid()
    cutoff = window.test_start if labels_cutoff == "test_start" else labels_cutoff
    assert cutoff is None or isinstance(cutoff, int)
    folds = usable_folds(m, window, n_folds, cutoff)
    default = next((c for c in grid if c.name != TUNED), None) or default_grid()[0]
    if not folds:
        return default, [{"candidate": default.name, "note": "no usable validation fold; default chosen"}]
    frauds = int(sum(f.y_test.sum() for f in folds))
    tuned = any(c.name == TUNED for c in grid)
    fixed = [c for c in grid if c.name != TUNED and not (tuned and c.kind == "lightgbm")]
    if frauds < MIN_VALIDATION_FRAUDS:
        # AP measured on a handful of frauds is mostly noise; it must not override the default.
        note = f"only {frauds} validation frauds (< {MIN_VALIDATION_FRAUDS}); default kept"
        return default, [{"candidate": default.name, "frauds": frauds, "folds": len(folds), "note": note}]
    extra: list[dict[str, Any]] = []
    if tuned:
        start = [c for c in grid if c.kind == "lightgbm" and c.name != TUNED] or \
            [c for c in default_grid() if c.kind == "lightgbm" and c.name != TUNED]
        result = _search(m, folds, start, search or SearchSettings(), say)
        fixed = [result.candidate, *fixed]
        extra.append({"candidate": TUNED, "search": result.summary(), "trials": result.trials})
    rows = _fold_rows(m, folds, fixed, say)
    return _cheapest_near_best(fixed, rows), rows + extra


def _fold_rows(m: Matrix, folds: list[Fold], candidates: list[Candidate],
               say: Progress | None) -> list[dict[str, Any]]:
    """Each candidate fitted on each fold's training rows and ranked on its validation rows."""
    rows: list[dict[str, Any]] = []
    for f in folds:
        for cand in candidates:
            if say:
                say(f"fold {f.index + 1}: {cand.name}")
            model = fit_candidate(m.x[f.train], f.y_train, m.feature_names, cand)
            met = ranking_metrics(f.y_test, model.margin(m.x[f.test]))
            rows.append({"fold": f.index, "candidate": cand.name, "frauds": int(f.y_test.sum()), **met,
                         **f.window.to_dict()})
    return rows


def _cheapest_near_best(grid: list[Candidate], rows: list[dict[str, Any]]) -> Candidate:
    """The cheapest candidate of the best one's family whose mean validation AP is within TOLERANCE of it."""
    mean_ap = pd.DataFrame(rows).groupby("candidate", sort=False)["average_precision"].mean()
    # Differences of a percent or two in validation AP are noise at these fraud counts, while a
    # smaller model scores faster: take the cheapest candidate within TOLERANCE of the best.
    # Only settings of the winning family compete on cost: a family switch needs a real difference.
    top = next(c for c in grid if c.name == str(mean_ap.idxmax()))
    near = [c for c in grid if c.kind == top.kind and c.name in mean_ap.index
            and mean_ap[c.name] >= (1 - TOLERANCE) * mean_ap.max()]
    return min(near, key=lambda c: (cost(c), -mean_ap[c.name]))


def _search(m: Matrix, folds: list[Fold], start: list[Candidate], settings: SearchSettings,
            say: Progress | None) -> SearchResult:
    data = [FoldData(m.x[f.train], f.y_train, m.x[f.test], f.y_test) for f in folds]
    if say:
        say(f"model search: up to {settings.trials} trials or {settings.seconds / 60:.0f} min over "
            f"{len(folds)} folds")
    return search_lightgbm(data, start, settings, say)


def fit_final(m: Matrix, window: Window, cand: Candidate, review_rate: float = 0.01,
              block_precision: float = 0.9, labels_cutoff: int | str | None = "test_start") -> FittedModel:
    """Fit ``cand`` on the training window with labels known at ``window.test_start``.

    ``labels_cutoff=None`` uses every label known now (production training for deployment now).

    Calibration is honest about time: a twin model fitted on the earlier part of the window scores
    the latest slice (the last fifth, at least a day), Platt scaling is fitted on those out-of-time
    margins and the thresholds are chosen there; the served model is then refitted on the whole
    window with the same settings, and the calibration is applied to its margins. Both fits keep every
    fraud and at most ``MAX_GENUINE_ROWS`` genuine rows (:func:`genuine_sample`), as the folds did; the
    calibration slice is used whole.
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
    ids = m.txns["txn_id"][tr].to_numpy()
    span = window.train_end - window.train_start
    cut = window.train_end - max(DAY_MS, span // 5)
    early, late = ts < cut, ts >= cut
    calib: dict[str, Any]
    if y[early].sum() >= MIN_POSITIVES and y[late].sum() > 0:
        fit_rows = np.flatnonzero(early)[genuine_sample(y[early], ids[early])]
        twin = fit_candidate(x_tr[fit_rows], y[fit_rows], m.feature_names, cand)
        margin_late = twin.margin(x_tr[late])
        calibrator = Calibrator.fit(margin_late, y[late])
        prob_late = calibrator(margin_late)
        thresholds = choose_thresholds(y[late], prob_late, review_rate, block_precision)
        calib = {"method": "platt, out of time", "slice_rows": int(late.sum()),
                 "slice_frauds": int(y[late].sum()), **ranking_metrics(y[late], prob_late)}
    else:
        calibrator = None  # too few frauds to hold a slice out: calibrate in sample, and say so
        calib = {"method": "platt, in sample (too few frauds for an out-of-time slice)"}
    sample = genuine_sample(y, ids)
    model = fit_candidate(x_tr[sample], y[sample], m.feature_names, cand)
    if calibrator is None:
        margin = model.margin(x_tr)
        calibrator = Calibrator.fit(margin, y)
        thresholds = choose_thresholds(y, calibrator(margin), review_rate, block_precision)
    calib["fit_rows"] = int(sample.sum())
    return FittedModel(model, calibrator, thresholds, cand, window, int(tr.sum()), int(y.sum()), calib)
