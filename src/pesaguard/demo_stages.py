"""The main job on the embedded defaults: one function per stage, each reusing the areas' public API.

``make demo`` simulates a mobile-money network for seven weeks plus a few more days, loads the
seven weeks into the store, and then does what an operator's first months would: on the last test
week it measures the typology pack alone, a supervised model trained on the labels known by then,
both combined under the policy, and the cold-start decision of day one (the anomaly score with the
pack, as if no label were known). The supervised model becomes the champion, and the API and
console are served while the remaining days stream in as live traffic. Every stage is idempotent:
running the demo twice reuses the same simulated world and adds nothing twice to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.config import Settings
from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.store import Store
from pesaguard.store.core import count

Advance = Callable[[float], None]
Say = Callable[[str], None]
DAY_MS = 86_400_000
#: Days at the start used only as feature history: a simulated world starts with empty histories.
WARMUP_DAYS = 14
DELAY_DAYS = 7
TEST_DAYS = 7
#: The share of each day's transactions an analyst team reviews, for recall at a budget.
BUDGET = 0.01
#: The supervised model the demo trains (a shallow LightGBM: the grid's cheapest to fit).
CANDIDATE = "lgbm_15_shallow"


@dataclass(frozen=True)
class DemoWorld:
    """What the demo simulated, what it stored, and the live traffic it kept back."""

    sim_dir: Path
    summary: Any  # pesaguard.simulate.SimSummary
    stored: dict[str, dict[str, int]]
    totals: dict[str, int]
    live: pd.DataFrame  # transactions after the stored history, in time order


def simulate_and_ingest(settings: Settings, store: Store, *, accounts: int, days: int, seed: int,
                        live_days: int = 0, advance: Advance | None = None) -> DemoWorld:
    """Simulate ``days + live_days`` of a network of ``accounts`` customers under HOME/demo, store the
    first ``days`` (labels as known by then) and return the rest as live traffic."""
    import pyarrow.parquet as pq

    from pesaguard.simulate import SimConfig, simulate
    from pesaguard.simulate.ingest import ingest_run

    total_days = days + live_days
    sim_dir = settings.home / "demo" / f"sim-a{accounts}-d{total_days}-s{seed}"
    cfg = SimConfig(accounts=accounts, days=total_days, seed=seed,
                    operator_sender_id=settings.operator_sender_ids[0], msisdn_salt=settings.redaction_salt)
    summary = simulate(cfg, sim_dir, progress=advance)
    txns = pq.read_table(sim_dir / "transactions.parquet", columns=list(TRANSACTION_COLUMNS)).to_pandas()
    cutoff = int(txns["ts_ms"].min()) // DAY_MS * DAY_MS + days * DAY_MS
    stored = ingest_run(sim_dir, store, until_ms=cutoff)
    totals = {t: count(store, t) for t in ("accounts", "account_events", "transactions", "labels")}
    live = txns[txns["ts_ms"] >= cutoff].reset_index(drop=True)
    return DemoWorld(sim_dir=sim_dir, summary=summary, stored=stored, totals=totals, live=live)


@dataclass
class DemoResult:
    """The test week's figures per arm, the champion registered, and where the JSON is."""

    window: dict[str, str]
    test: dict[str, int]
    arms: dict[str, dict[str, Any]]
    model_version: str
    train_frauds: int
    json: Path
    notes: list[str] = field(default_factory=list)


def save_reference(settings: Settings, version: str, m: Any, te: np.ndarray, p: np.ndarray, policy: Any,
                   review: float, feats: pd.DataFrame, test: pd.DataFrame) -> Path:
    """The champion's monitoring reference, from the test week: its scores there are out of sample
    (the model never trained on those days), every feature window has filled by then, and it is the
    week just before the live traffic, so a stationary world shows no drift against it."""
    from pesaguard.decisions.backtest import build_frame
    from pesaguard.decisions.evaluation import decide_frame
    from pesaguard.monitoring.drift_reference import build_reference
    from pesaguard.monitoring.retrain import reference_dir

    risk, action = decide_frame(policy, build_frame(test, feats), p)
    ts = m.txns["ts_ms"].to_numpy(dtype=np.int64)
    alerted = np.isin(action, ("review", "block"))
    ref = build_reference(m.x[te], list(m.feature_names), risk, review,
                          meta={"model_version": version, "start_ms": int(ts[te].min()), "end_ms": int(ts[te].max()) + 1,
                                "source": "the demo's test week (out-of-sample scores)"},
                          ts_ms=ts[te], data_start_ms=int(ts.min()), alert_rate=float(alerted.mean()))
    return ref.save(reference_dir(settings, version))


def demo_window(first_ms: int, last_ms: int) -> Any:
    """Warm-up, training, label delay and test days ending at the data's last whole day."""
    from pesaguard.errors import InputError
    from pesaguard.models.protocol import Window

    first, last = first_ms // DAY_MS * DAY_MS, last_ms // DAY_MS * DAY_MS
    test_start = last - TEST_DAYS * DAY_MS  # the (possibly partial) last day is not tested
    train_end = test_start - DELAY_DAYS * DAY_MS
    train_start = first + WARMUP_DAYS * DAY_MS
    if train_end - train_start < 7 * DAY_MS:
        need = WARMUP_DAYS + 7 + DELAY_DAYS + TEST_DAYS + 1
        raise InputError(f"the stored history spans {(last - first) // DAY_MS} days: too short for a "
                         f"{WARMUP_DAYS}-day warm-up, a week of training, {DELAY_DAYS} days of label delay and "
                         f"{TEST_DAYS} test days", hint=f"run the demo with --days {need} or more")
    return Window(train_start, train_end, test_start, test_start + TEST_DAYS * DAY_MS)


def without_labels(x: np.ndarray, names: list[str]) -> np.ndarray:
    """The feature matrix as it would be had no label ever been known (day one of a deployment):
    every feature made of fraud labels at its no-label value (counts 0, rates 0 where defined, times
    since a known fraud missing)."""
    out = x.copy()
    for i, n in enumerate(names):
        if "fraud" not in n:
            continue
        if "_fraud_count_" in n:
            out[:, i] = 0.0
        elif "_fraud_rate_" in n:
            out[:, i] = np.where(np.isnan(out[:, i]), np.nan, 0.0)
        else:
            out[:, i] = np.nan
    return out


def simulated_truth(sim_dir: Path) -> pd.DataFrame:
    """``txn_id, is_fraud, typology`` for every simulated transaction: the simulator's ground truth."""
    return pd.read_parquet(sim_dir / "transactions.parquet", columns=["txn_id", "is_fraud", "typology"])


def train_and_evaluate(store: Store, settings: Settings, truth: pd.DataFrame | None = None, say: Say | None = None,
                       register_model: bool = True) -> DemoResult:
    """Measure model, pack, combined and cold start on the test week; register the model as champion.

    The supervised model is trained on ``[train_start, train_end)`` with the labels known at the test
    start, as in ``pesaguard evaluate``, and that same model is registered: what is measured is what
    serves. The cold-start arm fits the anomaly score on the same training days with every label
    removed from the features, and the pack sees no label either. ``truth`` (``txn_id, is_fraud,
    typology``; the simulator's) decides what was fraud in the test week: the store only holds the
    labels reported by the end of the history, and many of the test week's are reported later.
    """
    import json

    from pesaguard.decisions.evaluation import compare
    from pesaguard.decisions.loader import default_rules
    from pesaguard.decisions.policy import Policy
    from pesaguard.decisions.rules import Thresholds
    from pesaguard.features import FeatureConfig
    from pesaguard.models.anomaly import fit_cold_start
    from pesaguard.models.data import build_matrix, from_store
    from pesaguard.models.estimators import pick
    from pesaguard.models.pipeline import make_bundle
    from pesaguard.models.train import fit_final
    from pesaguard.schema import from_ms

    def _iso(ms: int) -> str:
        return from_ms(ms).isoformat().replace("+00:00", "Z")

    say = say or (lambda _m: None)
    ds = from_store(store)
    ts = ds.transactions["ts_ms"]
    window = demo_window(int(ts.min()), int(ts.max()))
    ds = ds.until(window.test_end)
    cfg = FeatureConfig()
    say(f"features: replaying {len(ds.transactions):,} transactions")
    m = build_matrix(ds, cfg)
    tr, te = m.rows(window.train_start, window.train_end), m.rows(window.test_start, window.test_end)
    say(f"supervised model ({CANDIDATE}): training on {int(tr.sum()):,} transactions with the labels known "
        f"at the test start")
    fitted = fit_final(m, window, pick(CANDIDATE)[0])
    p = fitted.predict(m.x[te])
    say("cold start: the anomaly score on the same days, as if no label were known")
    blind = without_labels(m.x, m.feature_names)
    anomaly, calibrator, an_th, _ = fit_cold_start(blind[tr], m.feature_names, np.zeros(int(tr.sum()), int))
    pa = np.asarray(calibrator(anomaly.margin(blind[te])), dtype=float)
    test = ds.transactions.loc[te].reset_index(drop=True)
    if truth is not None:
        known = truth.set_index("txn_id")
        test["is_fraud"] = test["txn_id"].map(known["is_fraud"]).fillna(False).astype(int).to_numpy()
        test["typology"] = test["txn_id"].map(known["typology"]).to_numpy()
    else:
        test["is_fraud"] = ds.truth()[te]
        typ = ds.typology()
        if typ is not None:
            test["typology"] = typ[te].to_numpy()
    feats = pd.DataFrame(m.x[te], columns=m.feature_names)
    th = fitted.thresholds
    policy = Policy(default_rules(), Thresholds(review=th.review, block=max(th.block, th.review)))
    say("measuring model, pack and combined on the test week")
    arms = compare(test, feats, policy, p, BUDGET)
    day_one = compare(test, pd.DataFrame(blind[te], columns=m.feature_names), policy, None, BUDGET,
                      extra={"cold start": (pa, Thresholds(review=an_th.review, block=an_th.block))})
    arms["pack, no labels"] = day_one["pack"]
    arms["cold start"] = day_one["cold start"]
    version = "unregistered"
    if register_model:
        say("registering the supervised model as champion in MLflow")
        metrics = {k: arms["combined"][k] for k in ("average_precision", "recall_at_budget")}
        bundle = make_bundle(fitted, cfg, metrics={**metrics, "roc_auc": arms["model"]["roc_auc"]})
        from pesaguard.models.registry import register

        version = register(bundle, settings, promote=True)
        save_reference(settings, version, m, te, p, policy, th.review, feats, test)
    result = DemoResult(
        window={"train_start": _iso(window.train_start), "train_end": _iso(window.train_end),
                "test_start": _iso(window.test_start), "test_end": _iso(window.test_end)},
        test={"transactions": len(test), "frauds": int(test["is_fraud"].sum())}, arms=arms,
        model_version=version, train_frauds=fitted.train_frauds, json=settings.home / "reports" / "demo.json")
    result.json.parent.mkdir(parents=True, exist_ok=True)
    result.json.write_text(json.dumps({"window": result.window, "test": result.test, "arms": arms,
                                       "budget": BUDGET, "model_version": version,
                                       "train_frauds_known": fitted.train_frauds}, indent=1, default=str) + "\n",
                           encoding="utf-8")
    return result
