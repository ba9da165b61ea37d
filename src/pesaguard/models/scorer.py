"""``Scorer``: the champion model plus a live feature engine, scoring one transaction at a time.

Contract: ``score(txn)`` computes the transaction's features from the state before it, adds it to
the state, and returns a calibrated fraud probability with reason codes and the model version.
Thread-safe: one lock serialises feature state updates and prediction (both are microseconds).
No MLflow import happens here: the registry caches bundles on disk and the scorer reads files.
Margins, one row or a batch, come from the model's trees compiled to native code
(:mod:`pesaguard.models.compiled`, cached per model), or from LightGBM if they cannot be compiled.

Every score carries its top reason codes (``explain="always"``, the default). They come from path
attribution (``attribution="path"``: each split on the row's path in each tree credits its feature
with the change in the node value; exact in sum, ~4 µs a row), because exact TreeSHAP measured
0.35-1.6 ms a row and alone would spend the 1 ms budget; ``attribution="tree_shap"`` remains for
offline explanations, and ``explain="auto"`` limits reasons to scores at or above review.
"""

from __future__ import annotations

import math
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from pesaguard.features import FeatureConfig, FeatureEngine
from pesaguard.models.bundle import ModelBundle, load_bundle, predict_matrix
from pesaguard.models.compiled import CompiledForest, forest_cache_dir
from pesaguard.models.estimators import BATCH_THREADS, LightGBMModel
from pesaguard.models.explain import Reason, phrase, top_reasons
from pesaguard.models.fastpredict import FastBooster
from pesaguard.models.pathcontrib import PathTrees, compile_paths

Explain = Literal["auto", "always", "never"]
#: How reason codes attribute the margin to features: exact TreeSHAP, or path attribution (Saabas,
#: :mod:`pesaguard.models.pathcontrib`), ~75x cheaper per row; the decision service uses "path".
Attribution = Literal["tree_shap", "path"]


@dataclass(frozen=True)
class ScoreResult:
    """A scored transaction: probability, top reasons, the model that scored it, its features."""

    score: float
    reasons: list[Reason]
    model_version: str
    features: dict[str, float] = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"score": self.score, "reasons": [r.to_dict() for r in self.reasons],
                "model_version": self.model_version, "features": self.features}


class Scorer:
    """Scores transactions with one model bundle and one feature engine."""

    def __init__(self, bundle: ModelBundle, engine: FeatureEngine | None = None,
                 explain: Explain = "always", top_k: int = 3, attribution: Attribution = "path",
                 compiled: bool = True, cache_dir: Path | None = None) -> None:
        self.bundle = bundle
        cfg = FeatureConfig(**bundle.feature_config)
        if cfg.version != bundle.feature_version:
            from pesaguard.errors import ModelNotReadyError

            raise ModelNotReadyError(
                f"model {bundle.version} was trained on feature set {bundle.feature_version}, "
                f"but its stored configuration now hashes to {cfg.version}",
                hint="retrain the model with `pesaguard train` for the current feature code")
        self.engine = engine or FeatureEngine(cfg)
        self.names = bundle.feature_names
        self.explain: Explain = explain
        #: with ``explain="auto"``: reasons for scores at or above this (None: the model's review threshold)
        self.reasons_at: float | None = None
        self.top_k = top_k
        model = bundle.model
        # Margins from the trees compiled to native code (cached under cache_dir, by default
        # HOME/cache/forests; compiled=False leaves the model as it is), else LightGBM's
        # fast single-row C API. The compiled trees belong to the model: predict_matrix uses them too.
        if compiled and isinstance(model, LightGBMModel):
            model.use_compiled(cache_dir or forest_cache_dir())
        self._forest: CompiledForest | None = model.compiled if isinstance(model, LightGBMModel) else None
        self._fast = FastBooster(model.booster) if isinstance(model, LightGBMModel) else None
        # None (TreeSHAP) also when the model has categorical splits, which the path walk lacks
        self._paths = (compile_paths(model.booster) if isinstance(model, LightGBMModel) and attribution == "path"
                       else None)
        self.attribution: Attribution = "path" if self._paths is not None else "tree_shap"
        self._lock = threading.Lock()
        # one transaction's feature row and margin, reused under the lock (their addresses kept)
        self._row = np.empty(len(self.names), dtype=np.float64)
        self._out = np.zeros(1, dtype=np.float64)
        self._row_at, self._out_at = self._row.ctypes.data, self._out.ctypes.data
        self._names_t = tuple(self.names)

    @classmethod
    def from_dir(cls, directory: Path, **kwargs: Any) -> Scorer:
        return cls(load_bundle(directory), **kwargs)

    @property
    def model_version(self) -> str:
        return self.bundle.version

    # -- one transaction ------------------------------------------------------------------------------
    def _margin(self, row: np.ndarray) -> float:
        if self._forest is not None:
            if row is self._row:
                self._out[0] = 0.0
                self._forest.margin_at(self._row_at, self._out_at)
                return float(self._out[0])
            return self._forest.margin_row(row)
        if self._fast is not None:
            return self._fast.margin(row)
        return float(self.bundle.model.margin(row[None, :])[0])

    def _contrib(self, row: np.ndarray) -> np.ndarray:
        if self._paths is not None:
            return self._paths.contributions(row)
        if self._fast is not None:
            return self._fast.contributions(row)
        return self.bundle.model.contributions(row[None, :])[0]

    def _result(self, feats: dict[str, float], explain: Explain | None) -> ScoreResult:
        row = self._row
        if tuple(feats) == self._names_t:  # the engine's fixed order: the usual case, no lookups
            row[:] = list(feats.values())
        else:
            row[:] = [feats[n] for n in self.names]
        p = self.bundle.calibrator.one(self._margin(row))
        mode = explain or self.explain
        reasons: list[Reason] = []
        if mode == "always" or (mode == "auto" and p >= (self.bundle.thresholds.review if self.reasons_at is None
                                                          else self.reasons_at)):
            reasons = top_reasons(self.names, row, self._contrib(row), self.top_k)
        return ScoreResult(p, reasons, self.bundle.version, feats)

    def score(self, txn: dict[str, Any], explain: Explain | None = None) -> ScoreResult:
        """Score ``txn`` (canonical transaction fields) and add it to the feature state."""
        with self._lock:
            feats = self.engine.score_and_update(txn)
            return self._result(feats, explain)

    def peek(self, txn: dict[str, Any], explain: Explain | None = None) -> ScoreResult:
        """Score ``txn`` without adding it to the state (idempotent retries, what-if checks)."""
        with self._lock:
            return self._result(self.engine.peek(txn), explain)

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        with self._lock:
            self.engine.add_label(txn_id, is_fraud, known_at_ms)

    def add_account_event(self, account_id: str, ts_ms: int, kind: str) -> None:
        with self._lock:
            self.engine.add_account_event(account_id, ts_ms, kind)

    def add_sms_event(self, account_id: str, ts_ms: int, scam_type: str | None, score: float | None) -> None:
        with self._lock:
            self.engine.add_sms_event(account_id, ts_ms, scam_type, score)

    # -- many transactions ----------------------------------------------------------------------------
    def score_frame(self, transactions: pd.DataFrame, labels: pd.DataFrame | None = None,
                    account_events: pd.DataFrame | None = None,
                    sms_events: pd.DataFrame | None = None) -> np.ndarray:
        """Probabilities for a time-ordered batch, replayed through (and added to) the live state."""
        return predict_matrix(self.bundle, self.feature_matrix(transactions, labels, account_events, sms_events))

    def feature_matrix(self, transactions: pd.DataFrame, labels: pd.DataFrame | None = None,
                       account_events: pd.DataFrame | None = None,
                       sms_events: pd.DataFrame | None = None) -> np.ndarray:
        """The model's float64 feature matrix for a time-ordered batch, replayed through (and added
        to) the live state."""
        with self._lock:
            x = self.engine.replay(transactions, labels=labels, account_events=account_events,
                                   sms_events=sms_events)
        if list(x.columns) == self.names:  # the usual case: a view of the replay's array, no copy
            return x.to_numpy(dtype=np.float64)
        return x[self.names].to_numpy(dtype=np.float64)

    def warm_up(self, store: Any, until_ms: int | None = None) -> int:
        """Replay the stored history (within the feature horizon before ``until_ms``) into the live
        state, so a freshly started service scores its first transaction with full context.
        Returns the number of transactions replayed."""
        from pesaguard.store.core import (
            latest_transaction_ms,
            load_account_events,
            load_labels,
            load_transactions,
        )
        from pesaguard.store.sms import scam_sms_events

        end = until_ms if until_ms is not None else (latest_transaction_ms(store) or 0) + 1
        start = end - self.engine.cfg.horizon_ms
        txns = load_transactions(store, start, end)
        if txns.empty:
            return 0
        labels = load_labels(store, known_before_ms=end)[["txn_id", "is_fraud", "known_at_ms"]]
        events = load_account_events(store)
        events = events[(events["ts_ms"] >= start) & (events["ts_ms"] < end)]
        sms = scam_sms_events(store, start, end)
        self.score_frame(txns, labels if len(labels) else None, events if len(events) else None,
                         sms if len(sms) else None)
        return len(txns)

    def explain_frame(self, x: np.ndarray) -> list[list[Reason]]:
        """Reasons for each row of a feature matrix, by the scorer's attribution: the same reasons
        the scorer gives each transaction online. Path attribution is split across threads for a
        large batch; the top-k ranking is one stable argsort of the whole matrix, as ``top_reasons``
        ranks one row, and each distinct feature value is put in words once."""
        x = np.ascontiguousarray(x, dtype=np.float64)
        if self._paths is not None:
            contrib = _path_contributions(self._paths, x)
        else:
            contrib = np.asarray(self.bundle.model.contributions(x), dtype=np.float64)
        return top_reasons_many(self.names, x, contrib, self.top_k)


def top_reasons_many(names: list[str], x: np.ndarray, contrib: np.ndarray, k: int) -> list[list[Reason]]:
    """``top_reasons`` of every row (the same ranking: a stable sort of the negated contributions),
    each distinct feature value phrased once."""
    c = contrib[:, : len(names)]
    order = np.argsort(-c, axis=1, kind="stable")[:, :k]
    top = np.take_along_axis(c, order, axis=1).tolist()
    values = np.take_along_axis(x[:, : len(names)], order, axis=1).tolist()
    said: dict[tuple[int, Any], str] = {}
    out = []
    for js, cs, vs in zip(order.tolist(), top, values, strict=True):
        reasons = []
        for j, cj, v in zip(js, cs, vs, strict=True):
            if cj <= 0:
                break
            val = None if math.isnan(v) else v
            key = (j, val if val else repr(val))  # 0.0 and -0.0 are equal keys but may read differently
            text = said.get(key)
            if text is None:
                text = said[key] = phrase(names[j], val)
            reasons.append(Reason(names[j], val, cj, text))
        out.append(reasons)
    return out


#: Rows below which path attribution is not split across threads (a thread start costs ~50-100 µs).
_ROWS_PER_THREAD = 256


def _path_contributions(paths: PathTrees, x: np.ndarray) -> np.ndarray:
    """``paths.contributions`` of every row of ``x`` (bias last), split across threads for a large
    batch: the walk releases the GIL. A row at a time, as the scorer walks it online (a single
    native call over all rows measured under 10% less CPU, and would tie numba's on-disk cache of a
    function here to the walk in another file, which that cache does not track)."""
    out = np.empty((len(x), paths.ncol + 1), dtype=np.float64)

    def walk(start: int, stop: int) -> None:
        for i in range(start, stop):
            out[i] = paths.contributions(x[i])

    threads = max(1, min(BATCH_THREADS, len(x) // _ROWS_PER_THREAD))
    if threads == 1:
        walk(0, len(x))
        return out
    step = -(-len(x) // threads)
    with ThreadPoolExecutor(max_workers=threads) as pool:
        for f in [pool.submit(walk, s, min(s + step, len(x))) for s in range(0, len(x), step)]:
            f.result()
    return out
