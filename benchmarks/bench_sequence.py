"""Learned account embeddings (the GRU of ``pesaguard.models.sequence``) as extra features, against the
same LightGBM without them, on the card-payment proxy by the Fraud Detection Handbook's protocol and on
the mobile-money simulator. Prints the tables of ``docs/benchmarks.md`` ("Learned account embeddings").

    .venv/bin/python benchmarks/bench_sequence.py [--seeds 0,1] [--cache DIR] [--sim-accounts 5000]

Protocol, per evaluation block (each prequential validation fold before the test week, then the test
week): the GRU is trained only on transactions before the block's training window starts, with the
labels known by then (so its features on the LightGBM's training rows are out of sample and nothing
after the training cut-off reaches either model); its state then runs over every transaction in
order. LightGBM (one fixed setting, the ablation's) is fitted on the block's training rows with and
without the GRU's features and scored on the block's test rows. Model choice is read off the
validation folds; the test week is reported once per variant.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))

from bench_handbook import (
    ABLATION_PARAMS,
    ENSEMBLE_BASE,
    VARIANTS,
    columns,
    fold_scores,
    folds_of,
    matrix,
    window,
)
from cardsim import DAY_MS, START_MS
from pesaguard.models.estimators import Candidate, fit_candidate
from pesaguard.models.protocol import Window, targets
from pesaguard.models.sequence import replay_states
from pesaguard.models.sequence_train import SequenceSettings, train_sequence_model
from pesaguard.models.train import Fold, Matrix, genuine_sample


def say(msg: str) -> None:
    print(f"  {msg}", file=sys.stderr, flush=True)


def test_fold(m: Matrix, w: Window, genuine: int, truth: np.ndarray) -> Fold:
    """The test period of ``w`` as a fold: its training rows with labels known at the training cut-off."""
    tr, te = m.rows(w.train_start, w.train_end), m.rows(w.test_start, w.test_end)
    y_tr = targets(m.txns["txn_id"][tr], m.labels, w.train_end)
    keep = genuine_sample(y_tr, m.txns["txn_id"][tr], genuine)
    return Fold(-1, w, np.flatnonzero(tr)[keep], te, y_tr[keep], truth[te])


def embeddings(m: Matrix, cut_ms: int, settings: SequenceSettings) -> tuple[np.ndarray, list[str], float]:
    """Train the GRU on rows before ``cut_ms`` (labels known by then) and run it over every row."""
    rows = np.flatnonzero(m.txns["ts_ms"].to_numpy() < cut_ms)
    y = targets(m.txns["txn_id"].iloc[rows], m.labels, cut_ms)
    payers = m.txns["payer"].to_numpy()
    t0 = time.process_time()
    w = train_sequence_model(m.x[rows], m.feature_names, payers[rows], y, settings, say)
    fit_cpu = time.process_time() - t0
    say(f"GRU trained on {len(rows):,} rows, {int(y.sum())} frauds known, {fit_cpu:.0f} s CPU")
    return replay_states(w, m.x, m.feature_names, payers), w.feature_names(), fit_cpu


def compare(m: Matrix, folds: list[Fold], base_cols: np.ndarray, truth: np.ndarray, settings: SequenceSettings,
            tag: dict[str, Any], score: Any) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = []
    for f in folds:
        emb, emb_names, fit_cpu = embeddings(m, f.window.train_start, settings)
        te = np.flatnonzero(f.test)
        base_names = [m.feature_names[i] for i in base_cols]
        x_tr = m.x[np.ix_(f.train, base_cols)].astype(np.float64)
        x_te = m.x[np.ix_(te, base_cols)].astype(np.float64)
        variants = {
            "LightGBM, champion's features": (x_tr, x_te, base_names),
            "LightGBM + GRU state and score": (np.hstack([x_tr, emb[f.train]]), np.hstack([x_te, emb[te]]),
                                               base_names + emb_names),
            "LightGBM + GRU score only": (np.hstack([x_tr, emb[f.train, -1:]]), np.hstack([x_te, emb[te, -1:]]),
                                          base_names + emb_names[-1:]),
        }
        for name, (a, b, names) in variants.items():
            model = fit_candidate(a, f.y_train, names, Candidate("fixed", "lightgbm", ABLATION_PARAMS))
            rows.append({**tag, "fold": f.index, "variant": name, "frauds": int(truth[te].sum()),
                         "gru_fit_cpu_s": fit_cpu, **score(m, f, truth, model.margin(b))})
            say(f"{tag} fold {f.index} {name}: {rows[-1]}")
        rows.append({**tag, "fold": f.index, "variant": "GRU score alone", "frauds": int(truth[te].sum()),
                     "gru_fit_cpu_s": fit_cpu, **score(m, f, truth, emb[te, -1])})
        say(f"{tag} fold {f.index} GRU alone: {rows[-1]}")
    return rows


def card_score(m: Matrix, f: Fold, truth: np.ndarray, s: np.ndarray) -> dict[str, float]:
    return dict(zip(("ap", "cp100", "auc", "own_ap"), fold_scores(m, f, truth, s), strict=True))


def proxy(seeds: list[int], test_day: int, n_folds: int, cache: Path | None, genuine: int,
          settings: SequenceSettings) -> pd.DataFrame:
    rows: list[dict[str, Any]] = []
    for seed in seeds:
        m = matrix(seed, cache)
        truth = m.txns["is_fraud"].to_numpy(dtype=int)
        base = columns(m, VARIANTS[ENSEMBLE_BASE])
        folds = folds_of(m, test_day, n_folds, genuine)
        rows += compare(m, folds, base, truth, settings, {"world": "card proxy", "seed": seed, "block": "validation"},
                        card_score)
        rows += compare(m, [test_fold(m, window(test_day), genuine, truth)], base, truth, settings,
                        {"world": "card proxy", "seed": seed, "block": "test week"}, card_score)
    return pd.DataFrame(rows)


def mm_score(m: Matrix, f: Fold, truth: np.ndarray, s: np.ndarray) -> dict[str, float]:
    from pesaguard.models.metrics import ranking_metrics

    te = np.flatnonzero(f.test)
    r = ranking_metrics(truth[te], s)
    return {"ap": float(r["average_precision"] or 0.0), "auc": float(r.get("roc_auc") or 0.0)}


def simulator(accounts: int, days: int, seed: int, settings: SequenceSettings, genuine: int) -> pd.DataFrame:
    """The mobile-money simulator: the GRU trained on the first third, LightGBM on the next weeks, one
    label delay of 7 days, the last week tested (and prequential folds before it)."""
    import tempfile

    from bench_models import simulate
    from pesaguard.features import FeatureConfig
    from pesaguard.models.data import build_matrix
    from pesaguard.models.train import usable_folds

    with tempfile.TemporaryDirectory() as tmp:
        ds = simulate(accounts, days, Path(tmp), seed)
    m = build_matrix(ds, FeatureConfig())
    m.txns = m.txns.assign(is_fraud=ds.truth())
    truth = ds.truth()
    start = int(m.txns["ts_ms"].min()) // DAY_MS * DAY_MS
    test_start = start + (days - 7) * DAY_MS
    train_end = test_start - 7 * DAY_MS
    w = Window(start + days // 3 * DAY_MS, train_end, test_start, test_start + 7 * DAY_MS)
    folds = usable_folds(m, w, 2, w.test_start, genuine)
    test = test_fold(m, w, genuine, truth)
    base = np.arange(len(m.feature_names))
    tag = {"world": f"mobile money ({accounts:,} accounts, {days} days)", "seed": seed}
    return pd.DataFrame(compare(m, folds, base, truth, settings, {**tag, "block": "validation"}, mm_score)
                        + compare(m, [test], base, truth, settings, {**tag, "block": "test week"}, mm_score))


def latency(seed: int, cache: Path | None, n: int = 20_000) -> None:
    """CPU time of the live update (``SequenceState.update``) per transaction, after a GRU trained on
    the first 31 days of card proxy ``seed``, over the next ``n`` transactions in stream order."""
    from pesaguard.models.sequence import SequenceState

    m = matrix(seed, cache)
    cut = START_MS + 31 * DAY_MS
    rows = np.flatnonzero(m.txns["ts_ms"].to_numpy() < cut)
    y = targets(m.txns["txn_id"].iloc[rows], m.labels, cut)
    payers = m.txns["payer"].to_numpy()
    w = train_sequence_model(m.x[rows], m.feature_names, payers[rows], y, SequenceSettings(epochs=2), say)
    live = SequenceState(w, m.feature_names)
    x = m.x.astype(np.float64)
    times = []
    for i in range(len(rows), min(len(m.x), len(rows) + n)):
        t0 = time.thread_time_ns()
        live.update(payers[i], x[i])
        times.append(time.thread_time_ns() - t0)
    us = np.asarray(times[1000:]) / 1000
    print(f"SequenceState.update, {len(us):,} transactions (hidden {w.hidden}, {len(w.inputs)} inputs): "
          f"CPU p50 {np.percentile(us, 50):.1f} us, p99 {np.percentile(us, 99):.1f} us")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", default="0,1")
    ap.add_argument("--test-day", type=int, default=129)
    ap.add_argument("--folds", type=int, default=2)
    ap.add_argument("--cache", type=Path, default=None)
    ap.add_argument("--genuine-rows", type=int, default=50_000)
    ap.add_argument("--epochs", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=16)
    ap.add_argument("--sim-accounts", type=int, default=5000)
    ap.add_argument("--sim-days", type=int, default=60)
    ap.add_argument("--skip-proxy", action="store_true")
    ap.add_argument("--skip-sim", action="store_true")
    ap.add_argument("--out", type=Path, default=None, help="Write every row as CSV here.")
    ap.add_argument("--latency", action="store_true", help="Only time the live update, on the first seed.")
    a = ap.parse_args()
    if a.latency:
        latency(int(a.seeds.split(",")[0]), a.cache)
        return
    settings = SequenceSettings(hidden=a.hidden, epochs=a.epochs)
    frames = []
    if not a.skip_proxy:
        frames.append(proxy([int(s) for s in a.seeds.split(",")], a.test_day, a.folds, a.cache, a.genuine_rows,
                            settings))
    if not a.skip_sim:
        frames.append(simulator(a.sim_accounts, a.sim_days, 7, settings, a.genuine_rows))
    df = pd.concat(frames, ignore_index=True)
    if a.out:
        df.to_csv(a.out, index=False)
    metrics = [c for c in ("ap", "cp100", "auc", "own_ap") if c in df.columns]
    table = df.groupby(["world", "block", "variant"], sort=False)[metrics].mean().reset_index()
    print("| world | block | variant | " + " | ".join(metrics) + " |\n|---|---|---|" + "---:|" * len(metrics))
    for r in table.itertuples(index=False):
        vals = " | ".join(f"{getattr(r, c):.4f}" for c in metrics)
        print(f"| {r.world} | {r.block} | {r.variant} | {vals} |")


if __name__ == "__main__":
    main()
