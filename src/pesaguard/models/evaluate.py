"""``evaluate``: the honest train / delay / test protocol end to end.

Contract: features use all history before each transaction (labels only once known); the model is
chosen by prequential validation before the test period and fitted on labels known at the test
start; the test period is touched once, to measure. The result is a JSON-ready dict plus the
arrays the report plots. Next to pesaguard's own figures (every test transaction) the summary holds
the published card-fraud protocol's (``handbook``: :mod:`pesaguard.models.handbook`), and how the
labels' timing was read (``label_timing``: :mod:`pesaguard.models.labeltiming`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.errors import InputError, UsageError
from pesaguard.features import FeatureConfig
from pesaguard.features.config import OPTIONAL_GROUPS, feature_names
from pesaguard.models import metrics as mt
from pesaguard.models.data import Dataset, build_matrix
from pesaguard.models.estimators import Candidate, default_grid
from pesaguard.models.groups import choose_groups, columns_of, wider
from pesaguard.models.handbook import handbook_metrics, kept_rows, known_fraud_payers
from pesaguard.models.labeltiming import label_timing
from pesaguard.models.protocol import Window, known_fraud_accounts
from pesaguard.models.search import SearchSettings
from pesaguard.models.train import N_FOLDS, FittedModel, Matrix, Progress, fit_final, select_candidate
from pesaguard.schema import from_ms


@dataclass
class Evaluation:
    """What an evaluation produced: the JSON summary and the material for the report."""

    summary: dict[str, Any]
    model: FittedModel
    test: pd.DataFrame  # test transactions with score, is_fraud (and typology)
    per_day: list[dict[str, Any]]
    selection: list[dict[str, Any]]
    baseline: FittedModel | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def _iso(ms: int) -> str:
    return from_ms(ms).isoformat().replace("+00:00", "Z")


def test_metrics(ds: Dataset, m: Matrix, window: Window, fitted: FittedModel, truth: np.ndarray,
                 alert_budget: int = 100, k: int = 100) -> tuple[dict[str, Any], pd.DataFrame, list[dict[str, Any]]]:
    """Every test-period figure for one fitted model."""
    te = m.rows(window.test_start, window.test_end)
    test = m.txns.loc[te, ["txn_id", "ts_ms", "payer", "payee", "amount_minor"]].copy()
    test["is_fraud"] = truth[te]
    typ = ds.typology()
    if typ is not None:
        test["typology"] = typ[te].to_numpy()
    scores = fitted.predict(m.x[te])
    test["score"] = scores
    y = test["is_fraud"].to_numpy(dtype=int)
    known = known_fraud_accounts(m.txns, m.labels) if len(m.labels) else None
    p_at_k, per_day = mt.account_precision_at_k(test, scores, k, known)
    out: dict[str, Any] = {
        **mt.ranking_metrics(y, scores),
        f"account_precision_at_{k}": p_at_k,
        # The best any ranking could do: days with fewer than k fraud accounts cap the precision.
        f"account_precision_at_{k}_ceiling": mt.mean_or_none(min(d["fraud_accounts"], k) / k for d in per_day),
        # The published card-precision@k variant: only accounts found by earlier test days leave the
        # ranking (labels known before the test are not used), for comparison with published results.
        f"account_precision_at_{k}_published_variant": mt.account_precision_at_k(test, scores, k, None)[0],
        **mt.recall_at_daily_budget(test, scores, alert_budget),
        **mt.money_at_thresholds(test, scores, fitted.thresholds),
        "test_rows": len(test), "test_frauds": int(y.sum()),
        "test_fraud_accounts": int(test.loc[test["is_fraud"] == 1, "payer"].nunique()),
    }
    typology = mt.typology_recall(test, scores, fitted.thresholds.review)
    if typology:
        out["typology_recall_at_review"] = typology
    known_payers = known_fraud_payers(m.txns, m.labels, window.train_start)
    out["handbook"] = handbook_metrics(test, scores, known_payers, k)
    test["in_handbook_test"] = kept_rows(test, known_payers)
    return out, test, per_day


def evaluate(ds: Dataset, window: Window, cfg: FeatureConfig | None = None,
             grid: list[Candidate] | None = None, n_folds: int = N_FOLDS, alert_budget: int = 100,
             k: int = 100, say: Progress | None = None, search: SearchSettings | None = None,
             optional_groups: tuple[str, ...] = OPTIONAL_GROUPS) -> Evaluation:
    """Run the protocol on ``ds`` for ``window`` and measure the chosen model on the test period.

    The optional feature groups not in ``cfg`` are tried in the folds and kept if they help
    (:func:`pesaguard.models.groups.choose_groups`); ``optional_groups=()`` uses ``cfg`` as given."""
    cfg = cfg or FeatureConfig()
    grid = grid or default_grid()
    ds = ds.until(window.test_end)
    if not (ds.transactions["ts_ms"] >= window.test_start).any():
        raise InputError(f"no transactions in the test period {_iso(window.test_start)} .. {_iso(window.test_end)}",
                         hint="choose --train-end/--delay-days so the test period lies inside the data")
    truth = ds.truth()
    if say:
        say(f"features: replaying {len(ds.transactions):,} transactions")
    timing = label_timing(ds.transactions, ds.labels, cfg)
    if say and timing["warning"]:
        say(f"WARNING: {timing['warning']}")
    m = build_matrix(ds, wider(cfg, optional_groups))
    cfg, groups = choose_groups(m, cfg, window, n_folds, window.test_start, optional_groups, say)
    m = Matrix(m.txns, m.x[:, columns_of(m.feature_names, cfg)], feature_names(cfg), m.labels)
    if say and groups.get("added"):
        say(f"feature groups added by validation: {', '.join(groups['added'])}")
    chosen, selection = select_candidate(m, window, grid, n_folds, say, search=search)
    selection.append({"feature_groups": groups})
    if say:
        say(f"chosen by validation: {chosen.name}; fitting on the training period")
    fitted = fit_final(m, window, chosen)
    summary, test, per_day = test_metrics(ds, m, window, fitted, truth, alert_budget, k)
    # The best model of the other family, measured the same way, so every report shows the baseline.
    other = _best_other(chosen, grid, selection)
    baseline = fit_final(m, window, other) if other is not None else None
    comparison = None
    if baseline is not None:
        b_summary, _, _ = test_metrics(ds, m, window, baseline, truth, alert_budget, k)
        comparison = {"candidate": other.name if other else None,
                      **{key: b_summary.get(key) for key in ("roc_auc", "average_precision",
                                                             f"account_precision_at_{k}",
                                                             "account_recall_at_budget")},
                      "handbook": {key: b_summary["handbook"].get(key) for key in
                                   ("roc_auc", "average_precision", f"card_precision_at_{k}")}}
    summary.update({
        "model": chosen.name, "model_kind": chosen.kind, "feature_version": cfg.version,
        "n_features": len(m.feature_names), "alert_budget": alert_budget,
        "window": {"train_start": _iso(window.train_start), "train_end": _iso(window.train_end),
                   "test_start": _iso(window.test_start), "test_end": _iso(window.test_end),
                   "delay_days": window.delay_days},
        "train_rows": fitted.train_rows, "train_frauds_known": fitted.train_frauds,
        "thresholds": fitted.thresholds.to_dict(), "calibration": fitted.calibration,
        "validation": _validation_summary(selection), "baseline": comparison,
        "model_params": {**chosen.params, "imbalance": chosen.imbalance}, "label_timing": timing,
        "feature_groups": groups,
    })
    search_row = next((r for r in selection if "search" in r), None)
    if search_row is not None:
        summary["search"] = search_row["search"]
    te = m.rows(window.test_start, window.test_end)  # kept for the policy's evaluation (pesaguard.decisions.evaluation)
    return Evaluation(summary, fitted, test, per_day, selection, baseline,
                      extra={"test_x": m.x[te], "feature_names": list(m.feature_names)})


def _best_other(chosen: Candidate, grid: list[Candidate], selection: list[dict[str, Any]]) -> Candidate | None:
    others = [c for c in grid if c.kind != chosen.kind]
    if not others:
        return None
    ap = pd.DataFrame([r for r in selection if "average_precision" in r and "fold" in r])
    if ap.empty:
        return others[0]
    means = ap.groupby("candidate")["average_precision"].mean()
    return max(others, key=lambda c: means.get(c.name, -1.0))


def _validation_summary(selection: list[dict[str, Any]]) -> dict[str, Any]:
    rows = [r for r in selection if "average_precision" in r]
    notes = [r["note"] for r in selection if "note" in r]
    if not rows:
        return {"note": notes[0] if notes else "no validation"}
    df = pd.DataFrame(rows)
    agg = df.groupby("candidate", sort=False).agg(average_precision=("average_precision", "mean"),
                                                  roc_auc=("roc_auc", "mean"))
    out: dict[str, Any] = {
        "folds": int(df["fold"].nunique()), "frauds": int(df.drop_duplicates("fold")["frauds"].sum()),
        "fold_windows": [{k: _iso(int(v)) for k, v in r.items() if k in ("train_start", "train_end", "test_start",
                                                                          "test_end")}
                         for r in df.drop_duplicates("fold").to_dict("records")],
        "mean_by_candidate": {c: {k: float(v) for k, v in r.items()} for c, r in agg.iterrows()}}
    if notes:
        out["note"] = notes[0]
    return out


def write_predictions(ev: Evaluation, path: Path) -> Path:
    """Every test-period transaction with its id as stored (the source file's own id for generic
    files), time, payer, payee, amount, final label and the chosen model's score, plus whether the
    published protocol keeps it in its test set; Parquet or CSV by the path's extension."""
    t = ev.test
    out = pd.DataFrame({
        "txn_id": t["txn_id"].to_numpy(),
        "time": pd.to_datetime(t["ts_ms"].to_numpy(), unit="ms", utc=True).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        "ts_ms": t["ts_ms"].to_numpy(), "payer": t["payer"].to_numpy(), "payee": t["payee"].to_numpy(),
        "amount_minor": t["amount_minor"].to_numpy(), "is_fraud": t["is_fraud"].to_numpy(dtype=int),
        "score": t["score"].to_numpy(), "in_handbook_test": t["in_handbook_test"].to_numpy(dtype=bool),
    })
    name = path.name.lower()
    path.parent.mkdir(parents=True, exist_ok=True)
    if name.endswith(".parquet"):
        out.to_parquet(path, index=False)
    elif name.endswith((".csv", ".csv.gz")):
        out.to_csv(path, index=False)
    else:
        raise UsageError(f"cannot tell the format of {path} from its extension", field="--predictions",
                         hint="end the path with .parquet, .csv or .csv.gz")
    return path
