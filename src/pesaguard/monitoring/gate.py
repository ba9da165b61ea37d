"""The retraining gate: a challenger trained on the latest matured labels against the champion.

Contract, for an "as of" time ``T`` and a :class:`GateConfig`:

- labels are *mature* for transactions older than ``T - maturity_days``; the holdout is the last
  ``holdout_days`` before that, ``[H0, H1)``; both models are measured on it with the labels
  known at ``T``;
- the challenger trains on ``[H0 - train_days, H0)`` with the labels known at ``T`` (none of
  them describes a holdout transaction), chosen and calibrated by the models area's own
  :func:`~pesaguard.models.train.select_candidate` and :func:`~pesaguard.models.train.fit_final`;
- it passes only if its average precision and account precision@k beat the champion's by the
  configured margins and no segment (region, account age, transaction type) with enough holdout
  frauds loses more than ``segment_tolerance`` of average precision.

What is evaluated is what ships: the challenger is not refitted after the gate.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.errors import InputError
from pesaguard.features import FeatureConfig
from pesaguard.models import metrics as mt
from pesaguard.models.bundle import ModelBundle, predict_matrix
from pesaguard.models.estimators import default_grid
from pesaguard.models.protocol import Window, known_fraud_accounts, targets
from pesaguard.models.train import FittedModel, Matrix, Progress, fit_final, select_candidate
from pesaguard.monitoring.config import GateConfig
from pesaguard.monitoring.performance import SEGMENTS, with_segments
from pesaguard.schema import from_ms

DAY_MS = mt.DAY_MS


@dataclass(frozen=True)
class Periods:
    train_start: int
    holdout_start: int
    holdout_end: int
    as_of: int

    @classmethod
    def for_gate(cls, as_of_ms: int, gate: GateConfig) -> Periods:
        h1 = as_of_ms - gate.maturity_days * DAY_MS
        h0 = h1 - gate.holdout_days * DAY_MS
        return cls(h0 - gate.train_days * DAY_MS, h0, h1, as_of_ms)

    def iso(self) -> dict[str, str]:
        return {k: from_ms(v).isoformat().replace("+00:00", "Z") for k, v in self.__dict__.items()}


@dataclass
class GateResult:
    """Both models' holdout figures, the per-segment comparison and the verdict with its reasons."""

    passed: bool
    reasons: list[str]
    champion: dict[str, Any]
    challenger: dict[str, Any]
    segments: list[dict[str, Any]]
    periods: Periods
    extra: dict[str, Any] = field(default_factory=dict)
    #: holdout scores per model (not serialised): the challenger's become its reference score sample
    scores: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "reasons": self.reasons, "champion": self.champion,
                "challenger": self.challenger, "segments": self.segments, "periods": self.periods.iso(), **self.extra}


def train_challenger(m: Matrix, periods: Periods, gate: GateConfig, say: Progress | None = None) -> FittedModel:
    """Choose and fit the challenger on the training period with the labels known at ``as_of``."""
    # test_start = as_of makes fit_final use the labels known at as_of; the holdout sits inside
    # the "delay", so no holdout label is ever a training target.
    window = Window(periods.train_start, periods.holdout_start, periods.as_of,
                    periods.as_of + (periods.holdout_end - periods.holdout_start))
    grid = [c for c in default_grid() if gate.candidates is None or c.name in gate.candidates]
    if not grid:
        raise InputError(f"none of the gate's candidates {gate.candidates} is in the model grid",
                         setting="gate.candidates", hint=f"use names from {[c.name for c in default_grid()]}")
    cand = grid[0] if len(grid) == 1 else select_candidate(m, window, grid, say=say)[0]
    return fit_final(m, window, cand)


def holdout_frame(m: Matrix, periods: Periods, accounts: pd.DataFrame | None) -> tuple[pd.DataFrame, np.ndarray]:
    """Holdout transactions with truth as known at ``as_of`` and segment columns; and the row mask."""
    rows = m.rows(periods.holdout_start, periods.holdout_end)
    df = m.txns.loc[rows, [c for c in ("txn_id", "ts_ms", "payer", "amount_minor", "type")
                           if c in m.txns.columns]].copy()
    df["is_fraud"] = targets(df["txn_id"], m.labels, periods.as_of)
    if accounts is not None and len(accounts):
        acc = accounts.set_index("account_id")
        df["region"] = df["payer"].map(acc["region"])
        df["opened_ms"] = df["payer"].map(acc["opened_ms"])
    return with_segments(df).reset_index(drop=True), rows


def score_bundle(bundle: ModelBundle, m: Matrix, rows: np.ndarray) -> np.ndarray:
    """The bundle's probabilities for ``rows`` of the matrix (columns picked by name)."""
    idx = [m.feature_names.index(n) for n in bundle.feature_names]
    return predict_matrix(bundle, m.x[rows][:, idx])


def measure(df: pd.DataFrame, scores: np.ndarray, labels: pd.DataFrame, k: int, as_of: int) -> dict[str, Any]:
    """Average precision, ROC AUC and account precision@k on the holdout."""
    y = df["is_fraud"].to_numpy(dtype=int)
    lab = labels[labels["known_at_ms"] < as_of] if len(labels) else labels
    known = known_fraud_accounts(df[["txn_id", "payer"]], lab) if len(lab) else None
    p_at_k = mt.account_precision_at_k(df, scores, k, known)[0]
    return {**mt.ranking_metrics(y, scores), "precision_at_k": p_at_k, "k": k,
            "holdout_rows": len(df), "holdout_frauds": int(y.sum())}


def segment_comparison(df: pd.DataFrame, champ: np.ndarray, chall: np.ndarray, gate: GateConfig) -> list[dict[str, Any]]:
    """Average precision of both models per segment value with enough frauds; regressions marked."""
    out = []
    for dim in SEGMENTS:
        for value, idx in df.groupby(dim, sort=True).indices.items():
            y = df["is_fraud"].to_numpy(dtype=int)[idx]
            if y.sum() < gate.min_segment_frauds or y.sum() == len(y):
                continue
            a = mt.ranking_metrics(y, champ[idx])["average_precision"]
            b = mt.ranking_metrics(y, chall[idx])["average_precision"]
            assert a is not None and b is not None
            out.append({"segment": dim, "value": str(value), "frauds": int(y.sum()), "champion_ap": a,
                        "challenger_ap": b, "regressed": bool(b < a - gate.segment_tolerance)})
    return out


def verdict(champion: dict[str, Any], challenger: dict[str, Any], segments: list[dict[str, Any]],
            gate: GateConfig) -> tuple[bool, list[str]]:
    """Pass/fail and every reason, passing or failing, in words."""
    reasons, ok = [], True
    for key, margin in (("average_precision", gate.margin_ap), ("precision_at_k", gate.margin_precision_at_k)):
        a, b = champion.get(key), challenger.get(key)
        if b is None:
            ok = False
            reasons.append(f"challenger {key} could not be measured on the holdout")
            continue
        if a is not None and b <= a + margin:
            ok = False
            reasons.append(f"{key}: challenger {b:.4f} does not beat champion {a:.4f} by more than {margin:g}")
        else:
            reasons.append(f"{key}: challenger {b:.4f} beats champion {a if a is None else round(a, 4)} "
                           f"by more than {margin:g}")
    for s in segments:
        if s["regressed"]:
            ok = False
            reasons.append(f"segment {s['segment']}={s['value']}: AP {s['challenger_ap']:.4f} < champion "
                           f"{s['champion_ap']:.4f} - tolerance {gate.segment_tolerance:g}")
    if ok and not any(s["regressed"] for s in segments):
        reasons.append(f"no segment with >= {gate.min_segment_frauds} holdout frauds regresses beyond "
                       f"{gate.segment_tolerance:g} AP ({len(segments)} judged)")
    return ok, reasons


def compare(champion: ModelBundle, challenger: ModelBundle, m: Matrix, periods: Periods, gate: GateConfig,
            accounts: pd.DataFrame | None = None, m_champion: Matrix | None = None) -> GateResult:
    """Measure both bundles on the same holdout and apply the gate.

    ``m_champion`` is the same history replayed with the champion's feature configuration, when it
    differs from the challenger's (same transactions, same row order).
    """
    df, rows = holdout_frame(m, periods, accounts)
    if df["is_fraud"].sum() == 0:
        raise InputError("the holdout holds no known fraud, so the gate cannot compare the models",
                         setting="gate.holdout_days", hint="lengthen the holdout or wait for labels to mature")
    a, b = score_bundle(champion, m_champion or m, rows), score_bundle(challenger, m, rows)
    ca = {"version": champion.version, **measure(df, a, m.labels, gate.k, periods.as_of)}
    cb = {"version": challenger.version, **measure(df, b, m.labels, gate.k, periods.as_of)}
    segs = segment_comparison(df, a, b, gate)
    passed, reasons = verdict(ca, cb, segs, gate)
    return GateResult(passed, reasons, ca, cb, segs, periods, scores={"champion": a, "challenger": b})


def bundle_from_fit(fitted: FittedModel, cfg: FeatureConfig, periods: Periods, version: str = "challenger") -> ModelBundle:
    """A scoring bundle for the fitted challenger, with the provenance its model card shows."""
    iso = periods.iso()
    meta = {"candidate": fitted.candidate.name, "calibration": fitted.calibration,
            "train_start": iso["train_start"], "train_end": iso["holdout_start"],
            "train_start_ms": periods.train_start, "train_end_ms": periods.holdout_start,
            "train_rows": fitted.train_rows, "train_frauds": fitted.train_frauds,
            "labels_known_before": iso["as_of"], "trained_by": "pesaguard retrain"}
    return ModelBundle(fitted.model, fitted.calibrator, fitted.thresholds, cfg.model_dump(mode="json"),
                       cfg.version, meta, version)


def card_section(result: GateResult) -> str:
    """The gate's comparison as a markdown section for the challenger's model card."""
    keys = ("average_precision", "roc_auc", "precision_at_k", "holdout_rows", "holdout_frauds")
    rows = "\n".join(f"| {k} | {_fmt(result.champion.get(k))} | {_fmt(result.challenger.get(k))} |" for k in keys)
    segs = "\n".join(f"| {s['segment']}={s['value']} | {s['frauds']} | {s['champion_ap']:.4f} | "
                     f"{s['challenger_ap']:.4f} | {'REGRESSED' if s['regressed'] else 'ok'} |" for s in result.segments)
    p = result.periods.iso()
    return f"""
## Challenger gate: {"PASSED" if result.passed else "FAILED"}

Holdout {p["holdout_start"]} to {p["holdout_end"]} (labels known at {p["as_of"]}); champion
`{result.champion["version"]}` against challenger `{result.challenger["version"]}`, k = {result.champion["k"]}.

| metric | champion | challenger |
|---|---|---|
{rows}

| segment | frauds | champion AP | challenger AP | |
|---|---|---|---|---|
{segs or "| (no segment with enough frauds) | | | | |"}

{chr(10).join("- " + r for r in result.reasons)}
"""


def _fmt(v: Any) -> str:
    return "-" if v is None else f"{v:.4f}" if isinstance(v, float) else str(v)
