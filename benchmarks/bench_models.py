"""Scoring-model speed and accuracy: one transaction in-process, batch scoring, and the honest
evaluation on the simulator. Prints markdown tables for ``docs/benchmarks.md`` (## Scoring models).

    .venv/bin/python benchmarks/bench_models.py [--accounts 10000] [--days 30] [--skip-eval]

Single-transaction latency is features + model (+ reasons when asked), through ``Scorer.score``;
the peer in the same run is the same model through ``lightgbm.Booster.predict`` on a 1-row array.
Batch throughput is what ``pesaguard score`` does: replay the features of a file, then predict,
with LightGBM's predict and with the trees compiled to native code, back to back, for the smallest,
the default and the largest LightGBM setting of the grid; the one-off compile time is printed too.
Then what ``pesaguard score`` times in-process (``decide_frame``: the same plus the policy and the
reasons), and the command itself in a subprocess. Path attribution's agreement with TreeSHAP is
measured on live rows (transactions after the training cut, featurised as the scorer does live).
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from pesaguard.config import Settings
from pesaguard.decisions.batch import decide_frame
from pesaguard.decisions.loader import default_rules, model_mode, model_thresholds
from pesaguard.decisions.policy import Policy
from pesaguard.features import FeatureConfig
from pesaguard.models import compiled
from pesaguard.models.bundle import ModelBundle, predict_matrix
from pesaguard.models.data import Dataset, build_matrix, from_dir
from pesaguard.models.estimators import model_from_payload, pick
from pesaguard.models.evaluate import evaluate
from pesaguard.models.pipeline import demo_window, make_bundle
from pesaguard.models.protocol import Window
from pesaguard.models.scorer import Scorer
from pesaguard.models.train import fit_final


def _pct(xs: list[tuple[float, float]]) -> tuple[float, float, float, float]:
    """p50 and p99 of wall-clock time, then p50 and p99 of this thread's CPU time (µs).

    CPU time leaves out time the scheduler gave to other processes, which dominates the wall-clock
    tail on a shared, loaded machine."""
    a = np.asarray(xs) * 1e6
    wall, cpu = a[:, 0], a[:, 1]
    return (float(np.percentile(wall, 50)), float(np.percentile(wall, 99)),
            float(np.percentile(cpu, 50)), float(np.percentile(cpu, 99)))


def _timed(fn: Any, *args: Any) -> tuple[float, float]:
    t0, c0 = time.perf_counter(), time.thread_time()
    fn(*args)
    return time.perf_counter() - t0, time.thread_time() - c0


def simulate(accounts: int, days: int, out: Path, seed: int = 7) -> Dataset:
    from pesaguard.simulate import SimConfig
    from pesaguard.simulate import simulate as run

    run(SimConfig(accounts=accounts, days=days, seed=seed), out)
    return from_dir(out)


def latency(ds: Dataset, candidate: str, n: int = 5000) -> list[tuple[str, float, float, float, float]]:
    """Per-call latency (µs) of scoring live transactions after warming up on the history."""
    txns = ds.transactions
    split = len(txns) - n
    cut = int(txns["ts_ms"].iloc[split])
    first = int(txns["ts_ms"].min())
    m = build_matrix(Dataset(txns.iloc[:split], ds.labels, ds.account_events))
    w = Window(first, cut, cut, cut + 1)
    bundle = make_bundle(fit_final(m, w, pick(candidate)[0], labels_cutoff=None), FeatureConfig())
    live = [{k: (None if (isinstance(v, float) and np.isnan(v)) else v) for k, v in r.items()}
            for r in txns.iloc[split:].drop(columns=["is_fraud", "typology"], errors="ignore").to_dict("records")]
    rows = []
    cache = Path(tempfile.mkdtemp(prefix="bench-forests-"))
    for mode, attribution, compile_trees in (("never", "path", False), ("never", "path", True),
                                             ("auto", "path", True), ("always", "path", True),
                                             ("always", "tree_shap", True)):
        scorer = Scorer(_fresh(bundle), explain=mode, attribution=attribution,  # type: ignore[arg-type]
                        compiled=compile_trees, cache_dir=cache)
        scorer.engine.replay(txns.iloc[:split], labels=ds.labels[ds.labels["known_at_ms"] < cut][
            ["txn_id", "is_fraud", "known_at_ms"]], account_events=ds.account_events)
        ts = [_timed(scorer.score, t) for t in live]
        model = "compiled trees" if scorer._forest is not None else "LightGBM fast C API"
        rows.append((f"`Scorer.score` {candidate}, reasons {mode} ({attribution}), {model}", *_pct(ts)))
    # Peers: the model alone, compiled, through the fast C path and through Booster.predict, on the
    # live rows' features as the scorer computes them (replay and live scoring agree), not training rows.
    if bundle.model.kind == "lightgbm":
        scorer = Scorer(bundle, cache_dir=cache)
        scorer.engine.replay(txns.iloc[:split], labels=ds.labels[ds.labels["known_at_ms"] < cut][
            ["txn_id", "is_fraud", "known_at_ms"]], account_events=ds.account_events)
        x = scorer.feature_matrix(txns.iloc[split:].drop(columns=["is_fraud", "typology"], errors="ignore"))
        assert scorer._fast is not None and scorer._forest is not None
        forest = scorer._forest
        ts = [_timed(forest.margin_row, x[i]) for i in range(len(x))]
        rows.append(("model only: compiled trees (lleaves), one row", *_pct(ts)))
        fast = scorer._fast
        ts = [_timed(fast.margin, x[i]) for i in range(len(x))]
        rows.append(("model only: LightGBM fast single-row C API", *_pct(ts)))
        booster = bundle.model.booster  # type: ignore[attr-defined]
        ts = [_timed(lambda r: booster.predict(r, raw_score=True, num_threads=1), x[i : i + 1])
              for i in range(min(len(x), 2000))]
        rows.append(("model only: `Booster.predict` on a 1-row array (peer)", *_pct(ts)))
        ts = [_timed(lambda r: booster.predict(r, pred_contrib=True, num_threads=1), x[i : i + 1])
              for i in range(min(len(x), 1000))]
        rows.append(("model only: `Booster.predict(pred_contrib=True)` 1 row (reasons)", *_pct(ts)))
        agreement(Scorer(bundle, attribution="path", cache_dir=cache), x[:2000], candidate)
    shutil.rmtree(cache, ignore_errors=True)
    return rows


def compare_latency(ds: Dataset, variants: list[tuple[str, tuple[str, ...], str]], n: int = 4000) -> None:
    """``Scorer.score`` (features + compiled trees, reasons at or above the review threshold, as the decision
    service calls it) for each (label, feature groups, candidate), interleaved: every live transaction is
    scored by each variant in turn, so they share the machine's load."""
    txns = ds.transactions
    split = len(txns) - n
    cut, first = int(txns["ts_ms"].iloc[split]), int(txns["ts_ms"].min())
    known = ds.labels[ds.labels["known_at_ms"] < cut][["txn_id", "is_fraud", "known_at_ms"]]
    live = [{k: (None if (isinstance(v, float) and np.isnan(v)) else v) for k, v in r.items()}
            for r in txns.iloc[split:].drop(columns=["is_fraud", "typology"], errors="ignore").to_dict("records")]
    cache = Path(tempfile.mkdtemp(prefix="bench-forests-"))
    scorers = []
    for _, groups, cand in variants:
        cfg = FeatureConfig(groups=groups)
        m = build_matrix(Dataset(txns.iloc[:split], ds.labels, ds.account_events), cfg)
        bundle = make_bundle(fit_final(m, Window(first, cut, cut, cut + 1), pick(cand)[0], labels_cutoff=None), cfg)
        scorer = Scorer(bundle, explain="auto", attribution="path", compiled=True, cache_dir=cache)
        assert scorer._forest is not None, "the trees did not compile"
        scorer.engine.replay(txns.iloc[:split], labels=known, account_events=ds.account_events)
        scorers.append(scorer)
    times: list[list[tuple[float, float]]] = [[] for _ in variants]
    for t in live:
        for i, scorer in enumerate(scorers):
            times[i].append(_timed(scorer.score, t))
    print("| `Scorer.score`, one transaction (features + compiled trees, reasons auto) | features | wall p50 µs "
          "| wall p99 µs | CPU p50 µs | CPU p99 µs |\n|---|---|---|---|---|---|")
    for (label, _, _), ts, scorer in zip(variants, times, scorers, strict=True):
        print(f"| {label} | {len(scorer.engine.names)} | "
              + " | ".join(f"{v:.0f}" for v in _pct(ts)) + " |")
    print(f"\n{n} live transactions each; load average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")
    shutil.rmtree(cache, ignore_errors=True)


def agreement(scorer: Scorer, x: np.ndarray, candidate: str) -> None:
    """How often path attribution names the same top reasons as exact TreeSHAP (positive contributions,
    as ``top_reasons`` ranks them), over live rows (not used in training) whose TreeSHAP top reason exists."""
    assert scorer._paths is not None
    shap = scorer.bundle.model.contributions(x)[:, :-1]
    top1 = n = 0
    overlap = 0.0
    for i in range(len(x)):
        path = scorer._paths.contributions(x[i])[:-1]
        want = [j for j in np.argsort(-shap[i], kind="stable")[:3] if shap[i, j] > 0]
        got = [j for j in np.argsort(-path, kind="stable")[:3] if path[j] > 0]
        if not want:
            continue
        n += 1
        top1 += bool(got) and got[0] == want[0]
        overlap += len(set(got) & set(want)) / len(want)
    print(f"\nreason codes, path attribution vs TreeSHAP ({candidate}, {n} live rows): top reason agrees "
          f"{top1 / n:.1%}, top-3 overlap {overlap / n:.1%}")


def _fresh(bundle: ModelBundle) -> ModelBundle:
    """The bundle with a new, not yet compiled model object (a Scorer compiles its bundle's model)."""
    return dataclasses.replace(bundle, model=model_from_payload(bundle.model.to_payload()))


def throughput(ds: Dataset, candidate: str) -> list[tuple[str, int, float, float, float | None]]:
    """Transactions per second for features replay + predict over the whole file, with LightGBM's
    predict and with the compiled trees, back to back on the same model."""
    txns = ds.transactions.drop(columns=["is_fraud", "typology"], errors="ignore")
    m = build_matrix(ds)
    first, last = int(txns["ts_ms"].min()), int(txns["ts_ms"].max())
    bundle = make_bundle(fit_final(m, Window(first, last, last, last + 1), pick(candidate)[0],
                                   labels_cutoff=None), FeatureConfig())
    with tempfile.TemporaryDirectory(prefix="bench-forests-") as tmp:
        home = Path(tmp) / "home"  # the CLI run below finds the compiled trees where promote puts them
        rows = _throughput(txns, bundle, candidate, compiled.forest_cache_dir(Settings(home=home)))
        CLI_ROWS.append(cli_score(txns, bundle, candidate, Path(tmp), home))
        return rows


#: ``pesaguard score`` end to end, one row per model, filled by :func:`throughput`.
CLI_ROWS: list[tuple[str, int, str, float, float]] = []


def cli_score(txns: Any, bundle: ModelBundle, candidate: str, tmp: Path, home: Path) -> tuple[str, int, str, float, float]:
    """``pesaguard score FILE --out FILE --model-dir DIR`` as a user runs it, in a subprocess, with the
    trees already compiled (as after ``train``/``promote``): the command's own rate line, and the
    process's wall and CPU time (start-up, reading the file, loading the model, writing the output)."""
    src, out, model = tmp / "month.parquet", tmp / "scores.parquet", tmp / "model"
    if not src.exists():
        txns.to_parquet(src, index=False)
    bundle.save(model)
    cmd = [str(Path(sys.executable).with_name("pesaguard")), "score", str(src), "--out", str(out),
           "--model-dir", str(model)]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env={**os.environ, "PESAGUARD_HOME": str(home)}, capture_output=True, text=True,
                          check=True)
    wall = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    said = re.search(r"scored [\d,]+ transactions in .*?\)", " ".join(proc.stdout.split() + proc.stderr.split()))
    return candidate, len(txns), said.group(0) if said else "(no rate line)", wall, cpu


def _throughput(txns: Any, bundle: ModelBundle, candidate: str,
                cache: Path) -> list[tuple[str, int, float, float, float | None]]:
    booster = bundle.model.booster  # type: ignore[attr-defined]
    compiled._RECENT.clear()
    t0, c0 = time.perf_counter(), time.process_time()
    compiled.compile_forest(booster, cache)
    t1, c1 = time.perf_counter(), time.process_time()
    compiled._RECENT.clear()
    compiled.compile_forest(booster, cache)
    t2 = time.perf_counter()
    print(f"{candidate} ({booster.num_trees()} trees): compile once {t1 - t0:.1f} s wall, {c1 - c0:.1f} s CPU; "
          f"load from the cache {1000 * (t2 - t1):.0f} ms")
    rows: list[tuple[str, int, float, float, float | None]] = []
    for label, compile_trees in (("LightGBM predict", False), ("compiled trees", True)):
        scorer = Scorer(_fresh(bundle), compiled=compile_trees, cache_dir=cache)
        t0, c0 = time.perf_counter(), time.process_time()
        x = scorer.engine.replay(txns)[scorer.names].to_numpy(dtype=np.float64)
        t1 = time.perf_counter()
        predict_matrix(scorer.bundle, x)
        t2, c2 = time.perf_counter(), time.process_time()
        rows.append((f"features replay + predict ({candidate}, {label})", len(txns), len(txns) / (t2 - t0),
                     len(txns) / (c2 - c0), (t2 - t1) / (t2 - t0)))
    # What `pesaguard score` times: the same, then the policy (the mobile-money typology pack and
    # the model's thresholds, as without a rules file) and the reasons of the rows that show them.
    scorer = Scorer(_fresh(bundle), compiled=True, cache_dir=cache)
    policy = Policy(default_rules(), model_thresholds(scorer), mode=model_mode(scorer))
    t0, c0 = time.perf_counter(), time.process_time()
    decide_frame(scorer, policy, txns)
    t1, c1 = time.perf_counter(), time.process_time()
    rows.append((f"... + policy + reasons: `decide_frame` ({candidate}, compiled trees)", len(txns),
                 len(txns) / (t1 - t0), len(txns) / (c1 - c0), None))
    return rows


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--accounts", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--skip-eval", action="store_true")
    ap.add_argument("--skip-speed", action="store_true")
    ap.add_argument("--skip-latency", action="store_true")
    ap.add_argument("--compare-features", default=None,
                    help="Comma-separated optional feature groups: evaluate the month with the default groups "
                    "and with each added (and all of them), on every --seeds world; nothing else runs.")
    ap.add_argument("--seeds", default="7", help="Simulator seeds for --compare-features.")
    ap.add_argument("--compare-latency", action="store_true",
                    help="Only the single-transaction latency of the default features against + lagged, interleaved.")
    args = ap.parse_args()
    if args.compare_latency:
        from pesaguard.features.config import DEFAULT_GROUPS

        with tempfile.TemporaryDirectory() as tmp:
            ds = simulate(args.accounts, args.days, Path(tmp))
        lagged = (*DEFAULT_GROUPS, "lagged")
        compare_latency(ds, [("default groups, lgbm_31 (300 trees x 31 leaves)", DEFAULT_GROUPS, "lgbm_31"),
                             ("default + lagged, lgbm_31", lagged, "lgbm_31"),
                             ("default + lagged, lgbm_63_slow (400 trees x 63 leaves)", lagged, "lgbm_63_slow")])
        return
    if args.compare_features is not None:
        compare_features(args.accounts, args.days, [int(s) for s in args.seeds.split(",")],
                         [g for g in args.compare_features.split(",") if g])
        return
    with tempfile.TemporaryDirectory() as tmp:
        ds = simulate(args.accounts, args.days, Path(tmp))
    print(f"simulated {len(ds.transactions):,} transactions, {int(ds.transactions['is_fraud'].sum())} frauds\n")
    if not args.skip_speed:
        speed(ds, latency_too=not args.skip_latency)
    evaluations(ds, args)


def speed(ds: Dataset, latency_too: bool = True) -> None:
    """Print the latency and throughput tables."""
    if latency_too:
        print_latency(ds)
    print_throughput(ds)


def print_latency(ds: Dataset) -> None:
    print("| single transaction, in-process | wall p50 µs | wall p99 µs | CPU p50 µs | CPU p99 µs |\n"
          "|---|---|---|---|---|")
    for cand in ("lgbm_15_shallow", "lgbm_31"):
        for name, p50, p99, c50, c99 in latency(ds, cand):
            print(f"| {name} | {p50:.0f} | {p99:.0f} | {c50:.0f} | {c99:.0f} |")


def print_throughput(ds: Dataset) -> None:
    print()
    rows = [r for cand in ("lgbm_15_shallow", "lgbm_31", "lgbm_63_slow") for r in throughput(ds, cand)]
    print("\n| batch scoring | transactions | per wall second | per CPU second | share in predict |\n"
          "|---|---|---|---|---|")
    for name, n, rate, cpu_rate, share in rows:
        print(f"| {name} | {n:,} | {rate:,.0f} | {cpu_rate:,.0f} | {'-' if share is None else f'{share:.0%}'} |")
    print("\n| `pesaguard score` CLI, trees compiled beforehand | transactions | the command's report | "
          "process wall s | process CPU s | transactions per process-wall second |\n|---|---|---|---|---|---|")
    for cand, n, said, wall, cpu in CLI_ROWS:
        print(f"| {cand} | {n:,} | {said} | {wall:.2f} | {cpu:.2f} | {n / wall:,.0f} |")
    print(f"\nload average: {' '.join(Path('/proc/loadavg').read_text().split()[:3])}")


def evaluations(ds: Dataset, args: argparse.Namespace) -> None:
    """Print the evaluation table of the simulator (the card-payment proxy: bench_handbook.py)."""
    if not args.skip_eval:
        w = demo_window(ds)
        t0 = time.perf_counter()
        ev = evaluate(ds, w)
        print(f"\nsimulator: every day before the delay for training, 7 days delay, 7 test days; "
              f"{time.perf_counter() - t0:.0f} s; chosen {ev.summary['model']}\n")
        report(ev.summary)


def compare_features(accounts: int, days: int, seeds: list[int], extra: list[str]) -> None:
    """The month's evaluation (what ``pesaguard demo`` runs) with the default feature groups and with
    optional groups added, one simulated world per seed."""
    from pesaguard.features.config import DEFAULT_GROUPS

    variants = {"default": DEFAULT_GROUPS, **{f"+ {g}": (*DEFAULT_GROUPS, g) for g in extra}}
    if len(extra) > 1:
        variants["+ " + " + ".join(extra)] = (*DEFAULT_GROUPS, *extra)
    print("| world (seed) | features | model | ROC AUC | AP | account P@100 (ceiling) | account recall @100/day "
          "| recall at review threshold |\n|---|---|---|---|---|---|---|---|")
    for seed in seeds:
        with tempfile.TemporaryDirectory() as tmp:
            ds = simulate(accounts, days, Path(tmp), seed)
        w = demo_window(ds)
        for name, groups in variants.items():
            s = evaluate(ds, w, cfg=FeatureConfig(groups=groups)).summary
            test = s.get("typology_recall_at_review", {})
            caught = sum(d["recall"] * d["count"] for d in test.values())
            total = sum(d["count"] for d in test.values())
            print(f"| {seed} | {name} | {s['model']} | {s['roc_auc']:.3f} | {s['average_precision']:.3f} | "
                  f"{s['account_precision_at_100']:.3f} ({s['account_precision_at_100_ceiling']:.3f}) | "
                  f"{s['account_recall_at_budget']:.3f} | {caught / max(total, 1):.3f} |", flush=True)


def report(s: dict[str, Any]) -> None:
    """Print the evaluation tables."""
    b = s["baseline"]
    print("| model | ROC AUC | AP | account P@100 (ceiling) | account recall @100/day |\n|---|---|---|---|---|")
    print(f"| {s['model']} (chosen) | {s['roc_auc']:.3f} | {s['average_precision']:.3f} | "
          f"{s['account_precision_at_100']:.3f} ({s['account_precision_at_100_ceiling']:.3f}); published "
          f"variant {s['account_precision_at_100_published_variant']:.3f} | "
          f"{s['account_recall_at_budget']:.3f} |")
    print(f"| {b['candidate']} (baseline) | {b['roc_auc']:.3f} | {b['average_precision']:.3f} | "
          f"{b['account_precision_at_100']:.3f} | {b['account_recall_at_budget']:.3f} |")
    print("\n| typology | test frauds | recall at review threshold | mean score |\n|---|---|---|---|")
    for name, d in s.get("typology_recall_at_review", {}).items():
        print(f"| {name} | {d['count']} | {d['recall']:.2f} | {d['mean_score']:.3f} |")
    print(f"\nmoney (major units): {s['fraud_amount_minor'] / 100:,.0f} of fraud in the test week; blocked "
          f"{s['blocked_fraud_amount_minor'] / 100:,.0f}, queued for review {s['reviewed_fraud_amount_minor'] / 100:,.0f}, "
          f"missed {s['missed_fraud_amount_minor'] / 100:,.0f}; {s['review_count']} reviews, "
          f"{s['blocked_genuine_count']} genuine blocked")


if __name__ == "__main__":
    main()
