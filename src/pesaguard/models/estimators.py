"""The two model families and their serialisable, fast-to-score form.

Contract: every model maps a float64 feature matrix (columns in ``feature_names`` order, NaN for
missing) to a raw margin; :class:`Calibrator` maps margins to probabilities. Both round-trip
through plain text/JSON (no pickles), so loading a model never executes stored code.

Why the logistic-regression baseline is kept as coefficients rather than a sklearn pipeline:
scoring one row is then one dot product, and the stored form is readable JSON.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import lightgbm as lgb
import numpy as np
from sklearn.impute import SimpleImputer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

if TYPE_CHECKING:
    from pesaguard.models.compiled import CompiledForest

#: OpenMP threads for LightGBM. One: on a shared 2-core machine, 2 threads spin-wait against other
#: processes and trained 16x slower than 1 thread in our measurement (84 s vs 5 s for 300 rounds).
THREADS = 1
#: Large batches (``pesaguard score``) are worth a second thread: +25-50% measured even under load.
BATCH_THREADS = 2
BATCH_ROWS = 50_000


@dataclass(frozen=True)
class Candidate:
    """One point of the (deliberately small) model grid."""

    name: str
    kind: str  # "lightgbm" | "logreg"
    params: dict[str, Any] = field(default_factory=dict)
    #: class imbalance: "none", "sqrt" (weight positives by sqrt(neg/pos)) or "balanced" (neg/pos)
    imbalance: str = "none"


def default_grid() -> list[Candidate]:
    """A few LightGBM settings and the logistic baseline, each with and without re-weighting. The
    first is the fallback when validation cannot decide."""
    base = {"objective": "binary", "learning_rate": 0.05, "n_estimators": 300, "subsample": 0.8,
            "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0}
    return [
        Candidate("lgbm_31", "lightgbm", {**base, "num_leaves": 31, "min_child_samples": 50}, "none"),
        Candidate("lgbm_31_sqrt", "lightgbm", {**base, "num_leaves": 31, "min_child_samples": 50}, "sqrt"),
        Candidate("lgbm_15_shallow", "lightgbm",
                  {**base, "num_leaves": 15, "min_child_samples": 200, "n_estimators": 200}, "none"),
        Candidate("lgbm_63_slow", "lightgbm",
                  {**base, "num_leaves": 63, "min_child_samples": 20, "learning_rate": 0.03,
                   "n_estimators": 400}, "sqrt"),
        Candidate("logreg", "logreg", {"C": 1.0}, "none"),
        Candidate("logreg_balanced", "logreg", {"C": 1.0}, "balanced"),
    ]


def search_grid() -> list[Candidate]:
    """The default grid plus ``lgbm_tuned``: LightGBM settings found by a search in the folds
    (:mod:`pesaguard.models.search`) that starts from the grid's fixed LightGBM settings. What
    ``pesaguard evaluate`` and ``pesaguard train`` choose from unless told otherwise."""
    return [*default_grid(), Candidate("lgbm_tuned", "lightgbm", {}, "none")]


def pick(names: str | None) -> list[Candidate]:
    """Grid points by comma-separated name (``None``: the search grid, :func:`search_grid`)."""
    grid = search_grid()
    if not names:
        return grid
    wanted = [n.strip() for n in names.split(",") if n.strip()]
    unknown = [n for n in wanted if n not in {c.name for c in grid}]
    if unknown:
        from pesaguard.errors import UsageError

        raise UsageError(f"unknown model candidates {unknown}", field="--candidates",
                         hint=f"choose from {', '.join(c.name for c in grid)}")
    return [c for c in grid if c.name in wanted]


def pos_weight(y: np.ndarray, imbalance: str) -> float:
    """The weight of a fraud row: 1, sqrt(genuine/fraud) or genuine/fraud."""
    pos = max(int(y.sum()), 1)
    neg = max(len(y) - pos, 1)
    if imbalance == "sqrt":
        return math.sqrt(neg / pos)
    if imbalance == "balanced":
        return neg / pos
    return 1.0


class Model:
    """A fitted model: ``margin(X)`` and ``contributions(X)`` (per-feature, last column = bias)."""

    kind: str
    feature_names: list[str]

    def margin(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def contributions(self, x: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def importance(self) -> dict[str, float]:
        raise NotImplementedError

    def to_payload(self) -> dict[str, Any]:
        raise NotImplementedError


class LightGBMModel(Model):
    """A LightGBM booster scored with ``pred_contrib`` (contributions sum to the margin)."""

    kind = "lightgbm"

    def __init__(self, booster: lgb.Booster, feature_names: list[str]) -> None:
        self.booster = booster
        self.feature_names = feature_names
        #: the same trees as native code (:meth:`use_compiled`); margins then come from it
        self.compiled: CompiledForest | None = None

    def use_compiled(self, cache_dir: Path | None) -> bool:
        """Predict margins with the trees compiled to native code (cached under ``cache_dir``; a
        one-off compilation of seconds if not cached yet). False, with a logged warning, if that is
        not possible: margins then stay LightGBM's. Meant for models that score; not for the many
        short-lived models of training and validation."""
        if self.compiled is None:
            from pesaguard.models.compiled import compile_forest

            self.compiled = compile_forest(self.booster, cache_dir)
        return self.compiled is not None

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, names: list[str], cand: Candidate, seed: int = 7) -> LightGBMModel:
        rounds = int(cand.params.get("n_estimators", 300))
        p = lgb_params(cand.params, pos_weight(y, cand.imbalance), seed)
        data = lgb.Dataset(x, label=y, feature_name=names, free_raw_data=True)
        return cls(lgb.train(p, data, num_boost_round=rounds), names)

    def margin(self, x: np.ndarray) -> np.ndarray:
        threads = BATCH_THREADS if len(x) >= BATCH_ROWS else THREADS
        if self.compiled is not None:  # it splits a batch across threads only from 2 x 4,096 rows
            return self.compiled.margin(x, BATCH_THREADS)
        return np.asarray(self.booster.predict(x, raw_score=True, num_threads=threads), dtype=float)

    def contributions(self, x: np.ndarray) -> np.ndarray:
        return np.asarray(self.booster.predict(x, pred_contrib=True, num_threads=THREADS), dtype=float)

    def importance(self) -> dict[str, float]:
        gain = self.booster.feature_importance(importance_type="gain")
        return {n: float(g) for n, g in zip(self.feature_names, gain, strict=True)}

    def to_payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "feature_names": self.feature_names,
                "booster": self.booster.model_to_string()}


def lgb_params(params: dict[str, Any], scale_pos_weight: float, seed: int = 7) -> dict[str, Any]:
    """LightGBM training parameters from a candidate's (sklearn-style names; ``n_estimators`` is the
    number of boosting rounds and is left out)."""
    p = {k: v for k, v in params.items() if k != "n_estimators"}
    # sklearn-style aliases -> native LightGBM names
    p["bagging_fraction"] = p.pop("subsample", 1.0)
    p["bagging_freq"] = p.pop("subsample_freq", 0)
    p["feature_fraction"] = p.pop("colsample_bytree", 1.0)
    p["lambda_l2"] = p.pop("reg_lambda", 0.0)
    p["min_data_in_leaf"] = p.pop("min_child_samples", 20)
    p.update({"scale_pos_weight": scale_pos_weight, "seed": seed, "verbosity": -1, "num_threads": THREADS,
              "deterministic": True, "force_col_wise": True})
    return p


def _slog(x: np.ndarray) -> np.ndarray:
    """Signed log: counts, amounts and seconds are heavy-tailed, and a linear model needs them tamed."""
    return np.sign(x) * np.log1p(np.abs(x))


class LogRegModel(Model):
    """Signed log, median imputation, standardisation, logistic regression; stored as coefficients."""

    kind = "logreg"

    def __init__(self, feature_names: list[str], median: np.ndarray, mean: np.ndarray,
                 scale: np.ndarray, coef: np.ndarray, intercept: float) -> None:
        self.feature_names = feature_names
        self.median, self.mean, self.scale = median, mean, scale
        self.coef, self.intercept = coef, intercept

    @classmethod
    def fit(cls, x: np.ndarray, y: np.ndarray, names: list[str], cand: Candidate, seed: int = 7) -> LogRegModel:
        # keep_empty_features: an all-missing column (e.g. no SMS data) must not shift columns.
        x = _slog(x)
        imp = SimpleImputer(strategy="median", keep_empty_features=True).fit(x)
        xi = imp.transform(x)
        sc = StandardScaler().fit(xi)
        scale = np.where(sc.scale_ > 0, sc.scale_, 1.0)
        w = pos_weight(y, cand.imbalance)
        clf = LogisticRegression(C=float(cand.params.get("C", 1.0)), max_iter=500, random_state=seed)
        clf.fit((xi - sc.mean_) / scale, y, sample_weight=np.where(y == 1, w, 1.0))
        return cls(names, imp.statistics_.astype(float), sc.mean_.astype(float), scale.astype(float),
                   clf.coef_[0].astype(float), float(clf.intercept_[0]))

    def _z(self, x: np.ndarray) -> np.ndarray:
        x = _slog(x)
        x = np.where(np.isnan(x), self.median, x)
        return (x - self.mean) / self.scale

    def margin(self, x: np.ndarray) -> np.ndarray:
        return self._z(x) @ self.coef + self.intercept

    def contributions(self, x: np.ndarray) -> np.ndarray:
        z = self._z(x) * self.coef
        return np.hstack([z, np.full((len(z), 1), self.intercept)])

    def importance(self) -> dict[str, float]:
        return {n: float(abs(c)) for n, c in zip(self.feature_names, self.coef, strict=True)}

    def to_payload(self) -> dict[str, Any]:
        return {"kind": self.kind, "feature_names": self.feature_names, "median": self.median.tolist(),
                "mean": self.mean.tolist(), "scale": self.scale.tolist(), "coef": self.coef.tolist(),
                "intercept": self.intercept}


def fit_candidate(x: np.ndarray, y: np.ndarray, names: list[str], cand: Candidate) -> Model:
    """Fit one grid point on ``(x, y)``."""
    if cand.kind == "lightgbm":
        return LightGBMModel.fit(x, y, names, cand)
    if cand.kind == "logreg":
        return LogRegModel.fit(x, y, names, cand)
    raise ValueError(f"unknown model kind {cand.kind!r}")


def model_from_payload(payload: dict[str, Any]) -> Model:
    """Rebuild a model written by :meth:`Model.to_payload`."""
    names = list(payload["feature_names"])
    if payload["kind"] == "anomaly":  # the cold-start model (pesaguard.models.anomaly)
        from pesaguard.models.anomaly import AnomalyModel

        return AnomalyModel.from_payload(payload)
    if payload["kind"] == "lightgbm":
        return LightGBMModel(lgb.Booster(model_str=payload["booster"]), names)
    arr = {k: np.asarray(payload[k], dtype=float) for k in ("median", "mean", "scale", "coef")}
    return LogRegModel(names, arr["median"], arr["mean"], arr["scale"], arr["coef"], float(payload["intercept"]))


@dataclass
class Calibrator:
    """Platt scaling ``p = 1 / (1 + exp(-(a * margin + b)))``, fitted out of time.

    Why Platt rather than isotonic: it is strictly monotone, so calibration never creates ties that
    would reorder the alert queue, and two numbers transfer cleanly to a refitted model.
    """

    a: float = 1.0
    b: float = 0.0

    @classmethod
    def fit(cls, margin: np.ndarray, y: np.ndarray) -> Calibrator:
        if y.min(initial=0) == y.max(initial=0):
            return cls()
        lr = LogisticRegression(C=1e6, max_iter=1000).fit(margin.reshape(-1, 1), y)
        return cls(float(lr.coef_[0, 0]), float(lr.intercept_[0]))

    def __call__(self, margin: np.ndarray | float) -> Any:
        z = np.clip(self.a * np.asarray(margin, dtype=float) + self.b, -35.0, 35.0)
        return 1.0 / (1.0 + np.exp(-z))

    def one(self, margin: float) -> float:
        """The same for one margin, without numpy's per-call overhead (~0.3 against ~3.5 µs: the
        decision service calibrates one score per request)."""
        z = min(35.0, max(-35.0, self.a * margin + self.b))
        return 1.0 / (1.0 + math.exp(-z))
