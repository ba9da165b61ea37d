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
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pesaguard.errors import InputError, NotFoundError
from pesaguard.features.config import parse_duration

REFERENCE_FILE = "reference.json"
_WINDOW = re.compile(r"_(\d+(?:ms|s|m|h|d))$")
#: The feature engine's default horizon: nothing older affects a feature (FeatureConfig.horizon).
HORIZON_MS = parse_duration("90d")
#: A feature is compared only if at least this share of the reference rows came after its window had
#: filled: a day or two of mature rows (one payday, say) would be a reference of their own.
MIN_MATURE_SHARE = 0.2
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


def feature_span_ms(name: str, horizon_ms: int = HORIZON_MS) -> int:
    """How much history a feature needs before its value means what it will mean in service: its
    window (``payer_sum_30d``: 30 days); the feature horizon for recency and pair history, which
    keep changing as history accumulates (``pair_is_new`` falls as more pairs have been seen); none
    for a transaction's own fields.

    >>> feature_span_ms("payer_sum_30d") // 86_400_000, feature_span_ms("pair_is_new") // 86_400_000
    (30, 90)
    >>> feature_span_ms("amount")
    0
    """
    if "_secs_since_" in name or name.startswith("pair_"):
        return horizon_ms
    m = _WINDOW.search(name)
    return parse_duration(m.group(1)) if m else 0


def build_reference(x: np.ndarray, names: list[str], scores: np.ndarray, review_threshold: float,
                    bins: int = 10, meta: dict[str, Any] | None = None, ts_ms: np.ndarray | None = None,
                    data_start_ms: int | None = None, alert_rate: float | None = None,
                    horizon_ms: int = HORIZON_MS) -> Reference:
    """A reference from a feature matrix (columns ``names``) and the model's scores.

    ``scores`` need not describe the same rows as ``x``: the score reference is best taken out of
    time (see :func:`pesaguard.monitoring.gate.out_of_time_scores`). With the rows' times ``ts_ms``
    and the start of the data ``data_start_ms``, each windowed feature is summarised only over rows
    at least its window after the start: before that its window was still filling (a 30-day sum
    over 10 days of history), values no served transaction will show, and comparing live traffic
    with them raises drift alarms on a stationary world. A feature with too few such rows (under
    :data:`MIN_MATURE_SHARE`) is summarised over every row and listed in ``meta["immature_columns"]``,
    which drift reports but never alarms on. ``alert_rate`` is the share of the rows the policy alerted on (default: scores at or above
    the review threshold).
    """
    if len(scores) == 0:
        raise InputError("the reference window holds no transactions",
                         hint="choose a training window that contains data")
    cols: dict[str, ColumnReference] = {}
    immature: list[str] = []
    for i, name in enumerate(names):
        values = x[:, i]
        if ts_ms is not None and data_start_ms is not None:
            mature = np.asarray(ts_ms) >= data_start_ms + feature_span_ms(name, horizon_ms)
            if mature.mean() >= MIN_MATURE_SHARE:
                values = values[mature]
            else:
                immature.append(name)
        cols[name] = summarise(values, bins, seed=i)
    cols[SCORE] = summarise(np.asarray(scores, dtype=float), bins, seed=len(names))
    rate = float(np.mean(np.asarray(scores) >= review_threshold)) if alert_rate is None else float(alert_rate)
    meta = dict(meta or {})
    if immature:
        meta["immature_columns"] = immature
    return Reference(cols, rate, float(review_threshold), len(x), meta)


def reference_from_store(store: Any, bundle: Any, start_ms: int, end_ms: int, bins: int = 10) -> Reference:
    """Recompute a model's reference from its training window ``[start_ms, end_ms)`` in the store.

    Replays the store's history through the model's own feature configuration (labels honour
    ``known_at_ms``), then scores the window's rows with the model.
    """
    from pesaguard.features import FeatureConfig
    from pesaguard.models.bundle import predict_matrix
    from pesaguard.models.data import build_matrix, from_store

    ds = from_store(store).until(end_ms)
    cfg = FeatureConfig(**bundle.feature_config)
    m = build_matrix(ds, cfg)
    rows = m.rows(start_ms, end_ms)
    idx = [m.feature_names.index(n) for n in bundle.feature_names]
    x = m.x[rows][:, idx]
    scores = predict_matrix(bundle, x)
    ts = m.txns["ts_ms"].to_numpy(dtype=np.int64)
    risk, alerted = policy_view(ds.transactions[rows].reset_index(drop=True), x, list(bundle.feature_names),
                                scores, bundle)
    return build_reference(x, list(bundle.feature_names), risk, bundle.thresholds.review, bins,
                           {"model_version": bundle.version, "start_ms": start_ms, "end_ms": end_ms},
                           ts_ms=ts[rows], data_start_ms=int(ts.min()) if len(ts) else None,
                           alert_rate=float(alerted.mean()) if len(alerted) else None, horizon_ms=cfg.horizon_ms)


def policy_view(txns: Any, x: np.ndarray, names: list[str], scores: np.ndarray, bundle: Any
                ) -> tuple[np.ndarray, np.ndarray]:
    """The decision's risk and whether the policy alerted, per row, as the service decides them with
    this model (its thresholds and mode) and the configured rules (HOME/rules.yaml or the shipped
    typology pack): the score and alert rate a monitored decision log is compared with."""
    import pandas as pd

    from pesaguard.config import get_settings
    from pesaguard.decisions.backtest import build_frame
    from pesaguard.decisions.evaluation import decide_frame
    from pesaguard.decisions.loader import load_policy

    class _Scorer:  # what load_policy reads from a scorer: the bundle's thresholds and mode
        def __init__(self, b: Any) -> None:
            self.bundle = b

    policy = load_policy(get_settings(), scorer=_Scorer(bundle))
    risk, action = decide_frame(policy, build_frame(txns, pd.DataFrame(x, columns=names)), scores)
    return risk, np.isin(action, ("review", "block"))
