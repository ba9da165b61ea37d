"""The training reference: what each feature and the score looked like when the model was trained.

Decision (see ``docs/monitoring.md``): the reference is computed from the model's training window
at training time and saved next to the model bundle as ``reference.json`` (``pesaguard retrain``
does this for every challenger). For a model that has none, :func:`reference_from_store`
recomputes it from the training window by replaying the store through the same feature code and
scoring with the model. Per column it keeps quantile bin edges and counts (for PSI), the missing
share, and a fixed-size random sample (for the KS test, which needs raw values, not bins).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pesaguard.errors import InputError, NotFoundError

REFERENCE_FILE = "reference.json"
SCORE = "score"
SAMPLE_SIZE = 5000


@dataclass
class ColumnReference:
    """One column's reference distribution. ``counts`` has ``len(edges) + 1`` bins; NaNs are counted apart."""

    edges: list[float]
    counts: list[int]
    missing: int
    sample: list[float]

    @property
    def n(self) -> int:
        return int(sum(self.counts) + self.missing)


@dataclass
class Reference:
    """Reference distributions of the features and the score, and the alert rate they imply."""

    columns: dict[str, ColumnReference]
    alert_rate: float
    review_threshold: float
    rows: int
    meta: dict[str, Any] = field(default_factory=dict)

    def save(self, directory: Path) -> Path:
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / REFERENCE_FILE
        path.write_text(json.dumps(asdict(self), allow_nan=False), encoding="utf-8")
        return path

    @classmethod
    def load(cls, path: Path) -> Reference:
        if path.is_dir():
            path = path / REFERENCE_FILE
        if not path.exists():
            raise NotFoundError(f"no monitoring reference at {path}", file=path,
                                hint="run `pesaguard monitor reference` for the model, or retrain with "
                                     "`pesaguard retrain` (which saves one with each challenger)")
        data = json.loads(path.read_text(encoding="utf-8"))
        cols = {k: ColumnReference(**v) for k, v in data.pop("columns").items()}
        return cls(columns=cols, **data)


def summarise(values: np.ndarray, bins: int = 10, sample_size: int = SAMPLE_SIZE, seed: int = 0) -> ColumnReference:
    """Quantile edges (deduplicated: ties collapse bins), bin counts, missing count and a sample."""
    v = np.asarray(values, dtype=float)
    ok = v[~np.isnan(v)]
    if len(ok):
        edges = np.unique(np.quantile(ok, np.linspace(0, 1, bins + 1)[1:-1]))
        counts = np.bincount(np.searchsorted(edges, ok, side="right"), minlength=len(edges) + 1)
        rng = np.random.default_rng(seed)
        sample = ok if len(ok) <= sample_size else rng.choice(ok, sample_size, replace=False)
    else:
        edges, counts, sample = np.zeros(0), np.zeros(1, dtype=int), np.zeros(0)
    return ColumnReference([float(e) for e in edges], [int(c) for c in counts], int(len(v) - len(ok)),
                           [float(s) for s in np.sort(sample)])


def build_reference(x: np.ndarray, names: list[str], scores: np.ndarray, review_threshold: float,
                    bins: int = 10, meta: dict[str, Any] | None = None) -> Reference:
    """A reference from a feature matrix (columns ``names``) and the model's scores.

    ``scores`` need not describe the same rows as ``x``: the score reference is best taken out of
    time (see :func:`pesaguard.monitoring.gate.out_of_time_scores`).
    """
    if len(scores) == 0:
        raise InputError("the reference window holds no transactions",
                         hint="choose a training window that contains data")
    cols = {name: summarise(x[:, i], bins, seed=i) for i, name in enumerate(names)}
    cols[SCORE] = summarise(np.asarray(scores, dtype=float), bins, seed=len(names))
    rate = float(np.mean(np.asarray(scores) >= review_threshold))
    return Reference(cols, rate, float(review_threshold), len(x), dict(meta or {}))


def reference_from_store(store: Any, bundle: Any, start_ms: int, end_ms: int, bins: int = 10) -> Reference:
    """Recompute a model's reference from its training window ``[start_ms, end_ms)`` in the store.

    Replays the store's history through the model's own feature configuration (labels honour
    ``known_at_ms``), then scores the window's rows with the model.
    """
    from pesaguard.features import FeatureConfig
    from pesaguard.models.data import build_matrix, from_store
    from pesaguard.models.scorer import predict_matrix

    ds = from_store(store).until(end_ms)
    m = build_matrix(ds, FeatureConfig(**bundle.feature_config))
    rows = m.rows(start_ms, end_ms)
    idx = [m.feature_names.index(n) for n in bundle.feature_names]
    x = m.x[rows][:, idx]
    scores = predict_matrix(bundle, x)
    return build_reference(x, list(bundle.feature_names), scores, bundle.thresholds.review, bins,
                           {"model_version": bundle.version, "start_ms": start_ms, "end_ms": end_ms})
