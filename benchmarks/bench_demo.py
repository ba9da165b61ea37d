"""The demo's detection figures on its own world and on other seeds and sizes, and its wall time.

Each run simulates a world, stores its history in a fresh SQLite store and runs what ``pesaguard
demo`` runs (:func:`pesaguard.demo_stages.train_and_evaluate`, without registering the model): on the last
whole week of the history, average precision, recall at a 1% daily review budget, recall per
typology and fraud money reviewed and missed, for the supervised model, the typology pack, both
combined under the policy, and the day-one cold start. Each run is its own process (peak memory is
its own). ``--demo-wall`` also times ``pesaguard demo --no-serve`` end to end in a fresh home with an
empty numba cache, as right after installing.

Run: ``python benchmarks/bench_demo.py --json docs/typologies-demo.json [--demo-wall]``; paste the
printed section into docs/benchmarks.md (the JSON feeds docs/typologies.md).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

#: (label, accounts, stored days, seed): the demo's own world first, then other seeds and sizes.
RUNS = [
    ("demo: 25,000 customers, 50 days, seed 7", 25_000, 50, 7),
    ("25,000 customers, 50 days, seed 11", 25_000, 50, 11),
    ("15,000 customers, 60 days, seed 3", 15_000, 60, 3),
]

CHILD = """
import json, resource, sys, time
from pathlib import Path
from pesaguard.config import Settings
from pesaguard.store import open_store
from pesaguard.demo_stages import simulate_and_ingest, simulated_truth, train_and_evaluate
accounts, days, seed, home, out = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), Path(sys.argv[4]), Path(sys.argv[5])
settings = Settings(home=home)
settings.ensure_home()
times = {}
t = time.perf_counter()
with open_store(settings) as store:
    world = simulate_and_ingest(settings, store, accounts=accounts, days=days, seed=seed, live_days=3)
    times["simulate_and_store_s"] = time.perf_counter() - t
    t = time.perf_counter()
    r = train_and_evaluate(store, settings, simulated_truth(world.sim_dir), register_model=False)
    times["measure_s"] = time.perf_counter() - t
out.write_text(json.dumps({"arms": r.arms, "test": r.test, "window": r.window, "train_frauds": r.train_frauds,
                           "transactions": world.summary.transactions, "times": times,
                           "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def run_one(accounts: int, days: int, seed: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "out.json"
        t, c = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([sys.executable, "-c", CHILD, str(accounts), str(days), str(seed), str(Path(tmp) / "home"),
                        str(out)], check=True)
        c2 = resource.getrusage(resource.RUSAGE_CHILDREN)
        res = json.loads(out.read_text())
        res["wall_s"] = time.perf_counter() - t
        res["cpu_s"] = (c2.ru_utime - c.ru_utime) + (c2.ru_stime - c.ru_stime)
        return res


def demo_wall() -> dict:
    """``pesaguard demo --no-serve`` in a fresh home with an empty numba cache (as after installing)."""
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "PESAGUARD_HOME": str(Path(tmp) / "home"), "NUMBA_CACHE_DIR": str(Path(tmp) / "numba")}
        exe = Path(sys.executable).with_name("pesaguard")
        t, c = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
        subprocess.run([str(exe), "-q", "demo", "--no-serve"], check=True, env=env, stdout=subprocess.DEVNULL)
        c2 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return {"wall_s": time.perf_counter() - t,
                "cpu_s": (c2.ru_utime - c.ru_utime) + (c2.ru_stime - c.ru_stime),
                "load_average": os.getloadavg()[0]}


def markdown(results: list[dict], wall: dict | None) -> str:
    lines = ["| world | test frauds | known frauds for training | decision | AP | recall @1% | alerts/day | "
             "fraud KES reviewed | missed |", "|---|---:|---:|---|---:|---:|---:|---:|---:|"]
    for r in results:
        for arm in ("model", "pack", "combined", "cold start"):
            a = r["arms"][arm]
            lines.append(f"| {r['label']} | {r['test']['frauds']} | {r['train_frauds']} | {arm} | "
                         f"{a['average_precision']:.3f} | {a['recall_at_budget']:.3f} | {a['alerts_per_day']:,.0f} | "
                         f"{a['money_caught_minor'] / 100:,.0f} | {a['money_missed_minor'] / 100:,.0f} |")
    typ = sorted({t for r in results for t in r["arms"]["combined"]["typology_recall_at_budget"]})
    lines += ["", "Recall per typology at the 1% budget, combined decision (per world, in the order above):", "",
              "| typology | " + " | ".join(f"w{i + 1}" for i in range(len(results))) + " |",
              "|---" * (len(results) + 1) + "|"]
    for t in typ:
        cells = []
        for r in results:
            row = r["arms"]["combined"]["typology_recall_at_budget"].get(t)
            cells.append("–" if row is None else f"{row['recall']:.2f} ({row['frauds']})")
        lines.append(f"| `{t}` | " + " | ".join(cells) + " |")
    lines += ["", "| world | transactions | simulate + store | measure | wall | CPU | peak RSS |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(f"| {r['label']} | {r['transactions']:,} | {r['times']['simulate_and_store_s']:.0f} s | "
                     f"{r['times']['measure_s']:.0f} s | {r['wall_s']:.0f} s | {r['cpu_s']:.0f} s | "
                     f"{r['rss_mb']:,.0f} MB |")
    if wall:
        lines += ["", f"`pesaguard demo --no-serve`, fresh home and empty numba cache: {wall['wall_s']:.0f} s wall, "
                      f"{wall['cpu_s']:.0f} s CPU (load average {wall['load_average']:.1f} at the end)."]
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", type=Path, help="Write every figure here (docs/typologies-demo.json).")
    ap.add_argument("--demo-wall", action="store_true", help="Also time `pesaguard demo --no-serve` end to end.")
    ap.add_argument("--only", type=int, help="Run only the RUNS entry with this index.")
    args = ap.parse_args()
    results = []
    for i, (label, accounts, days, seed) in enumerate(RUNS):
        if args.only is not None and i != args.only:
            continue
        print(f"running {label}", file=sys.stderr, flush=True)
        res = run_one(accounts, days, seed)
        results.append({"label": label, "accounts": accounts, "days": days, "seed": seed, **res})
    wall = demo_wall() if args.demo_wall else None
    if args.json:
        from pesaguard.decisions.typologies import load_pack

        args.json.write_text(json.dumps({"pack_digest": load_pack().digest, "runs": results, "demo_wall": wall},
                                        indent=1) + "\n", encoding="utf-8")
    print(markdown(results, wall))


if __name__ == "__main__":
    main()
