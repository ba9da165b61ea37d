"""Training for deployment and the demo run: evaluate honestly, then train and register.

Contract: :func:`train_for_deployment` fits on ``[train_start, train_end)`` with every label known
now, chooses the model by prequential validation inside that range, and registers the result
(the first registered model becomes champion). :func:`run_demo_training` is what ``pesaguard demo``
calls on the simulated month.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pandas as pd

from pesaguard.config import Settings
from pesaguard.errors import InputError
from pesaguard.features import FeatureConfig
from pesaguard.features.config import OPTIONAL_GROUPS, feature_names
from pesaguard.models.bundle import ModelBundle
from pesaguard.models.data import Dataset, build_matrix, from_store
from pesaguard.models.estimators import Candidate
from pesaguard.models.evaluate import Evaluation, _iso, evaluate
from pesaguard.models.groups import choose_groups, columns_of, wider
from pesaguard.models.labeltiming import label_timing
from pesaguard.models.metrics import DAY_MS
from pesaguard.models.protocol import Window
from pesaguard.models.search import SearchSettings
from pesaguard.models.train import N_FOLDS, FittedModel, Matrix, fit_final, select_candidate
from pesaguard.store.base import Store

Say = Callable[[str], None]

#: Days at the start of the data used only as feature history, never as training rows.
WARMUP_DAYS = 7


def make_bundle(fitted: FittedModel, cfg: FeatureConfig, metrics: dict[str, Any] | None = None,
                labels_known_before: str = "now", selection: dict[str, Any] | None = None,
                timing: dict[str, Any] | None = None) -> ModelBundle:
    """Package a fitted model with its feature configuration and provenance (how it was chosen:
    ``selection``; what the labels' timing was read as: ``timing``)."""
    w = fitted.window
    meta = {"candidate": fitted.candidate.name, "params": fitted.candidate.params,
            "imbalance": fitted.candidate.imbalance, "train_start": _iso(w.train_start),
            "train_end": _iso(w.train_end), "labels_known_before": labels_known_before,
            "train_rows": fitted.train_rows, "train_frauds": fitted.train_frauds,
            "calibration": fitted.calibration, "metrics": metrics or {}}
    if selection:
        meta["selection"] = selection
    if timing:
        meta["label_timing"] = timing
    return ModelBundle(fitted.model, fitted.calibrator, fitted.thresholds,
                       cfg.model_dump(mode="json"), cfg.version, meta)


def selection_record(selection: list[dict[str, Any]]) -> dict[str, Any]:
    """What the model card says about the choice: mean validation AP per candidate, the folds, and the
    search's summary and its ten best trials."""
    rows = [r for r in selection if "average_precision" in r and "fold" in r]
    out: dict[str, Any] = {"note": next((r["note"] for r in selection if "note" in r), None)}
    if rows:
        df = pd.DataFrame(rows)
        out["folds"] = int(df["fold"].nunique())
        out["validation_frauds"] = int(df.drop_duplicates("fold")["frauds"].sum())
        out["mean_validation_ap"] = {str(c): float(v) for c, v in
                                     df.groupby("candidate", sort=False)["average_precision"].mean().items()}
    groups = next((r["feature_groups"] for r in selection if "feature_groups" in r), None)
    if groups is not None:
        out["feature_groups"] = groups
    search = next((r for r in selection if "search" in r), None)
    if search is not None:
        done = [t for t in search["trials"] if t["value"] is not None]
        out["search"] = {**search["search"],
                         "best_trials": sorted(done, key=lambda t: -t["value"])[:10]}
    return out


def default_range(ds: Dataset, train_days: int = 14) -> tuple[int, int]:
    """The last ``train_days`` whole UTC days of the data."""
    last = int(ds.transactions["ts_ms"].max())
    end = (last // DAY_MS + 1) * DAY_MS
    return max(end - train_days * DAY_MS, int(ds.transactions["ts_ms"].min()) // DAY_MS * DAY_MS), end


def train_for_deployment(ds: Dataset, settings: Settings, train_start: int | None = None,
                         train_end: int | None = None, delay_days: int = 7,
                         cfg: FeatureConfig | None = None, promote: bool | None = None,
                         metrics: dict[str, Any] | None = None, grid: list[Candidate] | None = None,
                         say: Say | None = None, search: SearchSettings | None = None,
                         optional_groups: tuple[str, ...] = OPTIONAL_GROUPS) -> ModelBundle:
    """Choose, fit, calibrate and register a model on ``[train_start, train_end)``; returns its bundle.

    Optional feature groups not in ``cfg`` are tried in the folds and kept if they help
    (:func:`pesaguard.models.groups.choose_groups`); the bundle's configuration is the chosen one."""
    from pesaguard.models.registry import register

    cfg = cfg or FeatureConfig()
    start, end = default_range(ds)
    start, end = train_start or start, train_end or end
    if end <= start:
        raise InputError("the training range is empty", field="--train-end", hint="give an end after the start")
    window = Window(start, end, end + delay_days * DAY_MS, end + (delay_days + 7) * DAY_MS)
    timing = label_timing(ds.transactions, ds.labels, cfg)
    if say and timing["warning"]:
        say(f"WARNING: {timing['warning']}")
    if say:
        say(f"features: replaying {len(ds.transactions):,} transactions")
    m = build_matrix(ds.until(end), wider(cfg, optional_groups))
    cfg, groups = choose_groups(m, cfg, window, N_FOLDS, None, optional_groups, say)
    m = Matrix(m.txns, m.x[:, columns_of(m.feature_names, cfg)], feature_names(cfg), m.labels)
    cand, selection = select_candidate(m, window, grid, say=say, labels_cutoff=None, search=search)
    selection.append({"feature_groups": groups})
    aps = [r["average_precision"] for r in selection
           if r.get("candidate") == cand.name and r.get("average_precision") is not None
           and not pd.isna(r.get("average_precision"))]
    metrics = dict(metrics or {})
    if aps:
        metrics["validation_average_precision"] = sum(aps) / len(aps)
    if say:
        say(f"chosen by validation: {cand.name}; fitting")
    fitted = fit_final(m, window, cand, labels_cutoff=None)
    bundle = make_bundle(fitted, cfg, metrics, selection=selection_record(selection), timing=timing)
    if say:
        say("registering in MLflow")
    register(bundle, settings, promote=promote)
    return bundle


def demo_window(ds: Dataset, delay_days: int = 7, test_days: int = 7, train_days: int | None = None) -> Window:
    """7 days of label delay and 7 test days ending at the data's last whole day; training on every
    earlier day after a warm-up week (``train_days=None``) or the last ``train_days`` of them.

    Why all earlier days by default: a simulated month of a modest network holds a few dozen known
    frauds a week, too few to learn from in one week. A partial last day is not used for testing.
    """
    ts = ds.transactions["ts_ms"]
    first, last = int(ts.min()) // DAY_MS * DAY_MS, int(ts.max()) // DAY_MS * DAY_MS
    test_end = last  # exclude the (possibly partial) last day
    test_start = test_end - test_days * DAY_MS
    train_end = test_start - delay_days * DAY_MS
    if train_days is None:
        # Skip a warm-up week when there is room: the first days' features have no history yet.
        train_start = first + WARMUP_DAYS * DAY_MS if train_end - first >= 2 * WARMUP_DAYS * DAY_MS else first
    else:
        train_start = max(train_end - train_days * DAY_MS, first)
    if train_end - train_start < DAY_MS:
        raise InputError(f"the data spans {(last - first) // DAY_MS} days: too short for "
                         f"{train_days}+{delay_days}+{test_days} days of train, delay and test",
                         hint="simulate at least 22 days")
    return Window(train_start, train_end, test_start, test_end)


def run_demo_training(store: Store, settings: Settings, progress: Say | None = None) -> dict[str, Any]:
    """Evaluate on the stored (simulated) month, write the report, train and register the champion.

    Returns ``{"metrics": [rows], "report": path, "json": path, "model_version": str}``: one row per
    model family (the chosen model and the best baseline of the other family).
    """
    from pesaguard.models.report import write_report

    ds = from_store(store)
    window = demo_window(ds)
    ev: Evaluation = evaluate(ds, window, say=progress)
    out_dir = settings.home / "reports" / "models"
    report = write_report(ev, out_dir)
    s = ev.summary
    rows = [{"model": s["model"], "roc_auc": s["roc_auc"], "average_precision": s["average_precision"],
             "account_precision_at_100": s["account_precision_at_100"],
             "account_recall_at_budget": s["account_recall_at_budget"]}]
    if s.get("baseline"):
        b = s["baseline"]
        rows.append({"model": b["candidate"], **{k: b.get(k) for k in rows[0] if k != "model"}})
    keys = ("roc_auc", "average_precision", "account_precision_at_100", "account_recall_at_budget")
    bundle = train_for_deployment(ds, settings, say=progress, promote=True,
                                  metrics={k: s[k] for k in keys if s.get(k) is not None})
    return {"metrics": rows, "report": str(report), "json": str(out_dir / "evaluation.json"),
            "model_version": bundle.version, "typology_recall": s.get("typology_recall_at_review", {}),
            "window": s["window"]}


def metrics_frame(result: dict[str, Any]) -> pd.DataFrame:
    """The demo's metrics rows as a table."""
    return pd.DataFrame(result["metrics"])


__all__ = ["demo_window", "make_bundle", "metrics_frame", "run_demo_training", "train_for_deployment"]
