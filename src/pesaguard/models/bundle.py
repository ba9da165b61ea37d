"""A trained model as files: everything the scorer needs, nothing executable.

Contract: a bundle directory holds ``bundle.json`` (the model as text, calibration, thresholds,
the feature configuration and its version, training metadata) and ``model_card.md``. Loading
checks that the feature names the model was trained on match what the feature configuration
produces, so a model is never fed columns in the wrong order.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from pesaguard.errors import ModelNotReadyError
from pesaguard.models.estimators import Calibrator, Model, model_from_payload
from pesaguard.models.metrics import Thresholds

BUNDLE_FILE = "bundle.json"
CARD_FILE = "model_card.md"
FORMAT = 1


@dataclass
class ModelBundle:
    """A scoring model and its provenance."""

    model: Model
    calibrator: Calibrator
    thresholds: Thresholds
    feature_config: dict[str, Any]
    feature_version: str
    meta: dict[str, Any] = field(default_factory=dict)
    version: str = "unregistered"

    @property
    def feature_names(self) -> list[str]:
        return self.model.feature_names

    def save(self, directory: Path) -> Path:
        """Write the bundle (and its model card) into ``directory``; returns the directory."""
        directory.mkdir(parents=True, exist_ok=True)
        payload = {
            "format": FORMAT, "version": self.version, "model": self.model.to_payload(),
            "calibrator": {"a": self.calibrator.a, "b": self.calibrator.b},
            "thresholds": self.thresholds.to_dict(), "feature_config": self.feature_config,
            "feature_version": self.feature_version, "meta": self.meta, "saved_ms": int(time.time() * 1000),
        }
        tmp = directory / (BUNDLE_FILE + ".tmp")
        tmp.write_text(json.dumps(payload, default=str), encoding="utf-8")
        tmp.replace(directory / BUNDLE_FILE)  # atomic: a reader never sees half a model
        (directory / CARD_FILE).write_text(model_card(self), encoding="utf-8")
        return directory


def predict_matrix(bundle: ModelBundle, x: np.ndarray) -> np.ndarray:
    """Calibrated probabilities for a feature matrix in ``bundle.feature_names`` order."""
    return np.asarray(bundle.calibrator(bundle.model.margin(x)), dtype=float)


def load_bundle(directory: Path) -> ModelBundle:
    """Read a bundle written by :meth:`ModelBundle.save`."""
    path = directory / BUNDLE_FILE
    if not path.exists():
        raise ModelNotReadyError(f"no model bundle at {path}", file=path,
                                 hint="run `pesaguard train` or `pesaguard models promote VERSION`")
    payload = json.loads(path.read_text(encoding="utf-8"))
    return ModelBundle(
        model=model_from_payload(payload["model"]),
        calibrator=Calibrator(**payload["calibrator"]),
        thresholds=Thresholds(**payload["thresholds"]),
        feature_config=payload["feature_config"],
        feature_version=payload["feature_version"],
        meta=payload.get("meta", {}),
        version=str(payload.get("version", "unregistered")),
    )


def _fmt(v: Any) -> str:
    return f"{v:.4f}" if isinstance(v, float) else str(v)


def _selection(m: dict[str, Any]) -> str:
    sel = m.get("selection") or {}
    parts = []
    if sel.get("folds"):
        parts.append(f"{sel['folds']} folds, {sel.get('validation_frauds', '?')} validation frauds")
    if sel.get("note"):
        parts.append(str(sel["note"]))
    search = sel.get("search")
    if search:
        parts.append(f"a search of {search['trials_run']} LightGBM settings in {search['seconds']:.0f} s (stopped "
                     f"by its {search['stopped_by']} budget), best mean validation AP "
                     f"{_fmt(search['best_mean_validation_ap'])}; trees and class weighting chosen by validation")
    groups = sel.get("feature_groups") or {}
    if groups.get("tried"):
        parts.append(f"optional feature groups tried in the folds: {', '.join(groups['tried'])}; kept: "
                     f"{', '.join(groups.get('added') or []) or 'none'}" + (f" ({groups['note']})" if groups.get("note") else ""))
    means = sel.get("mean_validation_ap") or {}
    if means:
        parts.append("mean validation AP " + ", ".join(f"`{c}` {v:.4f}" for c, v in means.items()))
    return ("; " + "; ".join(parts)) if parts else ""


def _timing(m: dict[str, Any]) -> str:
    t = m.get("label_timing")
    if not t:
        return ""
    text = (f"\n## Label timing\n\nLabel-based features count a label from when it became known, never before its "
            f"transaction is {t['min_label_delay']} old; a label stamped known at its own transaction's time "
            f"counts once the transaction is {t['label_delay']} old. {t['fraud_labels']:,} fraud labels, median delay "
            f"{_fmt(t['median_delay_days'])} days.\n")
    if t.get("warning"):
        text += f"\n**Warning**: {t['warning']}\n"
    return text


def model_card(b: ModelBundle) -> str:
    """A short markdown model card: what, trained on what, how good, how to use it, limits."""
    m = b.meta
    metrics = m.get("metrics", {})
    rows = "\n".join(f"| {k} | {_fmt(v)} |" for k, v in sorted(metrics.items()) if not isinstance(v, dict | list))
    top = sorted(b.model.importance().items(), key=lambda kv: -kv[1])[:10]
    imp = "\n".join(f"{i + 1}. `{n}`" for i, (n, _) in enumerate(top))
    params = ", ".join(f"{k}={_fmt(v)}" for k, v in sorted(m.get("params", {}).items()))
    return f"""# pesaguard scoring model {b.version}

- **Model**: {b.model.kind} (`{m.get("candidate", "?")}`), Platt-calibrated ({m.get("calibration", {}).get("method", "?")})
- **Feature set**: version `{b.feature_version}`, {len(b.feature_names)} features
- **Training data**: transactions from {m.get("train_start", "?")} to {m.get("train_end", "?")} (UTC),
  {m.get("train_rows", "?")} rows, {m.get("train_frauds", "?")} frauds known at {m.get("labels_known_before", "?")}
- **Chosen by**: prequential validation on the weeks before the test period (mean average precision){_selection(m)}
- **Settings**: {params or "-"}; class weighting `{m.get("imbalance", "none")}`
- **Thresholds**: review at p >= {b.thresholds.review:.4f}, block at p >= {b.thresholds.block:.4f}
  (review: the top 1% of validation scores; block: validation precision >= 0.9)

## Evaluation (held-out period after the label delay)

| metric | value |
|---|---|
{rows or "| (not evaluated) | |"}

## Most important features (gain)

{imp}

## Intended use and limits

Ranks mobile-money transactions by fraud risk for review and blocking, with reason codes. Scores
are probabilities calibrated on the last slice of the training period; they drift as fraud and
traffic change, so watch the monitoring reports and retrain. Labels arrive late: recent fraud is
under-represented in training. Not a sole basis for action against a customer.
{_timing(m)}{m.get("card_extra", "")}"""
