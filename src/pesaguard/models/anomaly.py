"""The cold-start model: how unusual a transaction is for its type, with no labels needed.

Contract: :class:`AnomalyModel` is a :class:`pesaguard.models.estimators.Model` (``margin``,
``contributions``, ``importance``, ``to_payload``) over the same streaming features as the
supervised models, so it is registered, served, explained and monitored the same way. Its margin is
a one-sided ECOD score (Li et al., *ECOD: Unsupervised Outlier Detection Using Empirical Cumulative
Distribution Functions*, 2022): for each feature with a risky direction (a larger share of the
balance, a more recent SIM swap, more payers in a day), minus the log of the share of training
transactions *of the same type* at least as extreme, summed over features. Each term is that
feature's contribution, so the reasons are exact. The sum is a rarity score, not a probability:
with labels the calibrator is fitted on them (Platt); without, :data:`PRIOR` maps it.

Why this and not scikit-learn's ``IsolationForest`` (measured on a simulated 30,000-customer world,
seed 7, trained on 22 unlabelled days, tested on the 7 after a week's gap, 288 frauds): the
isolation forest over the same features reached average precision 0.015-0.017 and recall 0.11-0.14
at a 1% daily review budget; this score 0.031 and 0.16 without label features and 0.11 and 0.29 with
them. An isolation forest flags whatever is globally rare (salaries, agents' float, big bank
transfers); conditioning on the type and keeping only the risky direction of each feature is what
helps, and the per-feature terms are the reason codes an isolation forest does not give. Scoring one
row is a few comparisons per feature (microseconds), and the model is plain JSON.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass
from typing import Any

import numpy as np

from pesaguard.models.estimators import Calibrator, Model

#: Features with a risky direction: +1 larger is riskier, -1 smaller (a more recent event) is.
DIRECTIONS: dict[str, int] = {
    "amount": 1, "balance_drain": 1, "amount_ratio_30d": 1, "amount_over_max_30d": 1, "amount_zscore_30d": 1,
    "pair_is_new": 1, "payer_secs_since_sim_swap": -1, "payer_secs_since_device_change": -1,
    "payer_secs_since_last_in": -1, "inflow_cashout_share_24h": 1, "payee_distinct_payers_24h": 1,
    "pair_secs_since_last": -1, "payee_secs_since_first": -1, "payer_distinct_payees_24h": 1, "payer_count_1h": 1,
    "payee_fraud_count_30d": 1, "payee_fraud_count_7d": 1, "payer_fraud_count_30d": 1, "payee_fraud_rate_30d": 1,
    "payer_scam_sms_score": 1, "scam_sms_new_payee_24h": 1, "payer_secs_since_scam_sms": -1,
}
#: Quantiles kept per (type, feature): tails resolve to 1 in 1,000 of the training rows.
QUANTILES = 1_000
#: Platt scaling used when too few labels are known to fit one: fitted on the cold-start score of the
#: demo's simulated test weeks (seed 7: a=0.126, b=-7.33; seed 11: a=0.133, b=-7.58; no label in the
#: features). There, the top 1% of transactions by this probability averaged 4.7-5.8% and were fraud
#: 5.4-6.0% of the time; the top 0.1%, 23-31% and 12-25%.
PRIOR = Calibrator(a=0.13, b=-7.4)
#: Known frauds needed in the training window to fit the calibration on labels instead of PRIOR.
MIN_LABELS = 30
TYPE_FEATURE = "txn_type_code"


#: The table key for all types together, used for a type not seen in training.
ANY_TYPE = -2


def _oriented(x: np.ndarray, direction: int) -> np.ndarray:
    """Values turned so that larger is riskier; a missing value (no such event, no history) is the least."""
    v = direction * np.asarray(x, dtype=np.float64)
    return np.where(np.isnan(v), -np.inf, v)


@dataclass
class _Table:
    """For one (type, feature): sorted distinct oriented values and the share of rows at or above each."""

    values: np.ndarray
    tails: np.ndarray
    floor: float  # the tail beyond the largest training value

    def __post_init__(self) -> None:
        # plain lists for the one-row path: bisect on a list is ~10x cheaper than np.searchsorted on a scalar
        self.vlist: list[float] = self.values.tolist()
        self.neglog: list[float] = [-math.log(t) for t in self.tails.tolist()]
        self.neglog_floor = -math.log(self.floor)

    def neg_log_tail(self, v: np.ndarray) -> np.ndarray:
        """``-log`` of the share of training rows at least as risky as each value (0 for a missing one)."""
        if not len(self.values):
            tail = np.full(len(v), self.floor)
        else:
            i = np.searchsorted(self.values, v, side="left")
            tail = np.where(i < len(self.values), self.tails[np.minimum(i, len(self.values) - 1)], self.floor)
        return np.where(v == -np.inf, 0.0, -np.log(tail))


class AnomalyModel(Model):
    """One-sided, type-conditional ECOD over the features in :data:`DIRECTIONS` (see the module)."""

    kind = "anomaly"

    def __init__(self, feature_names: list[str], used: list[str], tables: dict[int, dict[str, _Table]],
                 rows: int) -> None:
        self.feature_names = feature_names
        self.used = used
        self.tables = tables
        self.rows = rows
        self._col = {n: feature_names.index(n) for n in used}
        self._type_col = feature_names.index(TYPE_FEATURE) if TYPE_FEATURE in feature_names else None
        self._importance: dict[str, float] = {}

    @classmethod
    def fit(cls, x: np.ndarray, names: list[str]) -> AnomalyModel:
        """Learn each type's distribution of each risky feature from (unlabelled) rows ``x``."""
        used = [n for n in DIRECTIONS if n in names]
        types = cls._types(x, names)
        tables: dict[int, dict[str, _Table]] = {}
        for t in [ANY_TYPE, *np.unique(types).tolist()]:
            rows = x if t == ANY_TYPE else x[types == t]
            tables[int(t)] = {}
            for n in used:
                v = np.sort(_oriented(rows[:, names.index(n)], DIRECTIONS[n]))
                qs = np.unique(np.quantile(v[np.isfinite(v)], np.linspace(0, 1, QUANTILES))) if np.isfinite(v).any() \
                    else np.zeros(0)
                # share of the type's rows at or above each kept value (+1 smoothing: never zero)
                tails = (len(v) - np.searchsorted(v, qs, side="left") + 1) / (len(v) + 1)
                tables[int(t)][n] = _Table(qs, tails, 1.0 / (len(v) + 1))
        model = cls(names, used, tables, len(x))
        contrib = model.contributions(x[: min(len(x), 50_000)])
        model._importance = {n: float(contrib[:, i].mean()) for i, n in enumerate(names)}
        return model

    @staticmethod
    def _types(x: np.ndarray, names: list[str]) -> np.ndarray:
        if TYPE_FEATURE not in names:
            return np.zeros(len(x), dtype=np.int64)
        t = x[:, names.index(TYPE_FEATURE)]
        return np.where(np.isnan(t), -1, t).astype(np.int64)

    def _row(self, row: np.ndarray, out: np.ndarray) -> None:
        """One row's contributions into ``out``: the decision service's path, scalar lookups only
        (the batch path's per-type masks cost 2 ms a row; this ~30 µs)."""
        t = row[self._type_col] if self._type_col is not None else 0.0
        table = self.tables.get(-1 if t != t else int(t)) or self.tables.get(ANY_TYPE, {})
        for n, tab in table.items():
            col = self._col[n]
            v = DIRECTIONS[n] * float(row[col])
            if v != v:
                continue
            i = bisect.bisect_left(tab.vlist, v)
            out[col] = tab.neglog[i] if i < len(tab.vlist) else tab.neglog_floor

    def contributions(self, x: np.ndarray) -> np.ndarray:
        """Per-feature ``-log(tail share)`` (0 for features it does not use), bias column last."""
        x = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if len(x) == 1:
            one = np.zeros(len(self.feature_names) + 1)
            self._row(x[0], one)
            return one[None, :]
        out = np.zeros((len(x), len(self.feature_names) + 1))
        types = self._types(x, self.feature_names)
        for t in np.unique(types).tolist():
            sel = types == t
            table = self.tables.get(int(t)) or self.tables.get(ANY_TYPE, {})  # an unseen type: all types' tables
            for n, tab in table.items():
                col = self._col[n]
                out[sel, col] = tab.neg_log_tail(_oriented(x[sel, col], DIRECTIONS[n]))
        return out

    def margin(self, x: np.ndarray) -> np.ndarray:
        return self.contributions(x)[:, :-1].sum(axis=1)

    def importance(self) -> dict[str, float]:
        return dict(self._importance)

    def to_payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "feature_names": self.feature_names, "used": self.used, "rows": self.rows,
                "importance": self._importance,
                "tables": {str(t): {n: {"values": tab.values.tolist(), "tails": tab.tails.tolist(), "floor": tab.floor}
                                    for n, tab in table.items()} for t, table in self.tables.items()}}

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> AnomalyModel:
        tables = {int(t): {n: _Table(np.asarray(d["values"], dtype=np.float64), np.asarray(d["tails"], dtype=np.float64),
                                     float(d["floor"])) for n, d in table.items()}
                  for t, table in payload["tables"].items()}
        model = cls(list(payload["feature_names"]), list(payload["used"]), tables, int(payload["rows"]))
        model._importance = {str(k): float(v) for k, v in payload.get("importance", {}).items()}
        return model


#: Written into a bundle's ``meta["mode"]``: how the policy combines its score with the pack.
COLD_START = "cold_start"
SUPERVISED = "supervised"
CANDIDATE = "anomaly_ecod"
#: Rows the tables are learned from at most (a random sample; quantiles need no more).
MAX_FIT_ROWS = 400_000


def mode_of(bundle: Any) -> str:
    """``cold_start`` for the anomaly model, ``supervised`` for a model trained on labels."""
    meta = getattr(bundle, "meta", None) or {}
    return str(meta.get("mode") or (COLD_START if getattr(getattr(bundle, "model", None), "kind", "") == "anomaly"
                                    else SUPERVISED))


def fit_cold_start(x: np.ndarray, names: list[str], y_known: np.ndarray, review_rate: float = 0.01,
                   seed: int = 7) -> tuple[AnomalyModel, Calibrator, Any, dict[str, Any]]:
    """The anomaly model on rows ``x``, its calibration and thresholds.

    Calibration: Platt on the known labels ``y_known`` when at least :data:`MIN_LABELS` frauds are
    known (the score never saw them, so this is not in-sample), else :data:`PRIOR`. Review: the top
    ``review_rate`` of the rows (the same alert budget the supervised thresholds use); the anomaly
    score alone never blocks (block threshold 1): blocks come from the pack's block rules.
    """
    from pesaguard.models.metrics import Thresholds

    rng = np.random.default_rng(seed)
    fit_rows = x if len(x) <= MAX_FIT_ROWS else x[np.sort(rng.choice(len(x), MAX_FIT_ROWS, replace=False))]
    model = AnomalyModel.fit(fit_rows, names)
    margin = model.margin(x)
    frauds = int(np.asarray(y_known).sum())
    if frauds >= MIN_LABELS:
        calibrator = Calibrator.fit(margin, np.asarray(y_known, dtype=int))
        calib = {"method": f"platt on {frauds} known frauds"}
    else:
        calibrator = PRIOR
        calib = {"method": f"prior (only {frauds} known frauds, fewer than {MIN_LABELS})"}
    p = np.asarray(calibrator(margin), dtype=float)
    thresholds = Thresholds(review=float(np.quantile(p, 1.0 - review_rate)) if len(p) else 1.0, block=1.0)
    return model, calibrator, thresholds, calib


def train_cold_start(ds: Any, settings: Any, train_start: int | None = None, train_end: int | None = None,
                     promote: bool | None = None, say: Any = None) -> Any:
    """Fit, calibrate and register the cold-start model on ``[train_start, train_end)`` of ``ds``
    (default: the last 14 days); returns its bundle, with ``meta["mode"] = "cold_start"``."""
    from pesaguard.features import FeatureConfig
    from pesaguard.models.bundle import ModelBundle
    from pesaguard.models.data import build_matrix
    from pesaguard.models.pipeline import default_range
    from pesaguard.models.protocol import targets
    from pesaguard.models.registry import register
    from pesaguard.schema import from_ms

    cfg = FeatureConfig()
    start, end = default_range(ds)
    start, end = train_start or start, train_end or end
    if say:
        say(f"features: replaying {len(ds.transactions):,} transactions")
    m = build_matrix(ds.until(end), cfg)
    rows = m.rows(start, end)
    y = targets(m.txns["txn_id"][rows], m.labels, None) if len(m.labels) else np.zeros(int(rows.sum()), int)
    if say:
        say(f"cold start: learning what is usual for each transaction type from {int(rows.sum()):,} transactions")
    model, calibrator, thresholds, calib = fit_cold_start(m.x[rows], m.feature_names, y)
    iso = lambda ms: from_ms(ms).isoformat().replace("+00:00", "Z")  # noqa: E731
    meta = {"candidate": CANDIDATE, "mode": COLD_START, "params": {"quantiles": QUANTILES}, "imbalance": "none",
            "train_start": iso(start), "train_end": iso(end), "labels_known_before": "now",
            "train_rows": int(rows.sum()), "train_frauds": int(y.sum()), "calibration": calib, "metrics": {},
            "card_extra": "\n## Cold start\n\nAn unsupervised anomaly score (no labels needed): decisions combine it with "
                          "the typology pack's rule weights. Train a supervised model once labels accumulate.\n"}
    bundle = ModelBundle(model, calibrator, thresholds, cfg.model_dump(mode="json"), cfg.version, meta)
    if say:
        say("registering in MLflow")
    register(bundle, settings, promote=promote)
    return bundle


#: Known frauds in the training range below which ``--mode auto`` trains the cold-start model: a
#: supervised model needs a few hundred to beat it (on the simulated worlds, 18 known frauds gave a
#: model with average precision 0.008).
MIN_SUPERVISED_FRAUDS = 100


def mode_label(candidate: Any) -> str:
    """What ``models list`` shows for a version trained as ``candidate``."""
    return "cold start" if candidate == CANDIDATE else "supervised"


def choose_mode(ds: Any, mode: str, start: int | None, end: int | None) -> tuple[str, str]:
    """``(cold_start|supervised, why)`` for ``pesaguard train --mode``; ``auto`` counts the frauds known
    now among the range's transactions (default range: the last 14 days, as training uses)."""
    from pesaguard.errors import UsageError
    from pesaguard.models.pipeline import default_range
    from pesaguard.models.protocol import targets

    if mode not in ("auto", "supervised", "cold-start", "cold_start"):
        raise UsageError(f"--mode must be auto, supervised or cold-start, not {mode!r}", field="--mode",
                         hint="use --mode auto to let the number of known frauds decide")
    if mode != "auto":
        return (COLD_START if mode.startswith("cold") else SUPERVISED), "chosen with --mode"
    lo, hi = default_range(ds)
    lo, hi = start or lo, end or hi
    ts = ds.transactions["ts_ms"].to_numpy()
    ids = ds.transactions["txn_id"][(ts >= lo) & (ts < hi)]
    known = int(targets(ids, ds.labels, None).sum()) if len(ds.labels) else 0
    if known < MIN_SUPERVISED_FRAUDS:
        return COLD_START, (f"{known} frauds known in the training range, fewer than the {MIN_SUPERVISED_FRAUDS} a "
                            "supervised model needs; decisions combine the anomaly score with the typology pack")
    return SUPERVISED, f"{known} frauds known in the training range; the typology pack stays as operator overrides"
