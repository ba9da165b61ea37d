"""End-to-end `pesaguard ingest` into SQLite: a clean file against a baseline, and messy files.

Generates files in a temp dir, then in the same run times `pesaguard ingest FILE` as a subprocess
(reading, validating, ids, labels, quarantine, commits, index rebuild), each into a fresh database:

* the clean file: 1M PaySim-shaped rows with two-decimal amounts (numpy), ``--repeat`` runs of the
  current code interleaved with runs of a baseline source tree (``--baseline-src``, e.g. the code
  before a change, exported with ``git archive``) when given; the median run of each is reported;
* messy files, current code only (the baseline's quarantine count is shown beside, if given):
  PaySim written the way the public file is (Java's ``Double.toString``: balances from 1e7 up in
  scientific notation, ``1.058888527E7``); the Fraud Detection Handbook's layout written by pandas
  (amounts of one fraud scenario multiplied by 5 in binary floating point, ``90.39999999999999``);
  the clean file with a ragged row and an unterminated quote every 100,000 rows (the CSV reader
  switches to Python for those stretches);
* the obvious peer for the clean file: ``pandas.read_csv`` + ``DataFrame.to_sql`` into the same
  migrated schema (no validation, no ids, no idempotency: a floor for "just load it").

The target is >= 200,000 rows/s end to end on the clean file.

    python benchmarks/bench_ingest.py [--rows 1000000] [--repeat 3] [--baseline-src /tmp/base/src]
    python benchmarks/bench_ingest.py --cpu-split   # where the CPU goes, and the bound it sets on free cores

CPU is summed over every process and thread (the CLI, its SQLite writer process, Arrow's reader
threads), so with two cores busy it can exceed the wall time.
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
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

PAYSIM_COLUMNS = ("step", "type", "amount", "nameOrig", "oldbalanceOrg", "newbalanceOrig", "nameDest",
                  "oldbalanceDest", "newbalanceDest", "isFraud", "isFlaggedFraud")
HANDBOOK_COLUMNS = ("TRANSACTION_ID", "TX_DATETIME", "CUSTOMER_ID", "TERMINAL_ID", "TX_AMOUNT", "TX_TIME_SECONDS",
                    "TX_TIME_DAYS", "TX_FRAUD", "TX_FRAUD_SCENARIO")
HANDBOOK_MAP = ("id=TRANSACTION_ID,time=TX_DATETIME,payer=CUSTOMER_ID,payee=TERMINAL_ID,amount=TX_AMOUNT,"
                "label=TX_FRAUD,typology=TX_FRAUD_SCENARIO")


def paysim_frame(n: int, seed: int = 0) -> pd.DataFrame:
    """PaySim's shape: 744 hourly steps, five types, lognormal amounts with 2 decimals, ~0.13% fraud."""
    rng = np.random.default_rng(seed)
    types = np.array(["CASH_IN", "CASH_OUT", "TRANSFER", "PAYMENT", "DEBIT"])
    amount = np.round(rng.lognormal(9, 1.5, n), 2) + 0.01
    old = np.round(rng.lognormal(10, 2, n), 2)
    return pd.DataFrame({
        "step": np.sort(rng.integers(1, 744, n)),
        "type": types[rng.integers(0, 5, n)],
        "amount": amount,
        "nameOrig": np.char.add("C", rng.integers(10**8, 2 * 10**9, n).astype(str)),
        "oldbalanceOrg": old,
        "newbalanceOrig": np.maximum(old - amount, 0).round(2),
        "nameDest": np.char.add("M", rng.integers(10**8, 2 * 10**9, n).astype(str)),
        "oldbalanceDest": np.round(rng.lognormal(10, 2, n), 2),
        "newbalanceDest": np.round(rng.lognormal(10, 2, n), 2),
        "isFraud": (rng.random(n) < 0.0013).astype(int),
        "isFlaggedFraud": 0,
    })


def paysim_csv(path: Path, n: int, seed: int = 0) -> None:
    """The clean file: every amount with exactly two decimals."""
    paysim_frame(n, seed).to_csv(path, index=False, float_format="%.2f")


def java_double(x: float) -> str:
    """``Double.toString`` as Java writes it (PaySim was written by Java): plain from 1e-3 to 1e7
    (``181.0``), scientific outside (``1.058888527E7``), shortest digits.

    >>> java_double(181.0), java_double(10588885.27), java_double(0.0)
    ('181.0', '1.058888527E7', '0.0')
    """
    if x == 0:
        return "0.0"
    if 1e-3 <= abs(x) < 1e7:
        text = repr(float(x))
        return text if "." in text or "e" in text else text + ".0"
    sign, digits, exp = Decimal(repr(float(x))).normalize().as_tuple()
    shown = "".join(map(str, digits))
    mantissa = shown[0] + "." + (shown[1:] or "0")
    return f"{'-' if sign else ''}{mantissa}E{len(digits) - 1 + int(exp)}"


def paysim_java_csv(path: Path, n: int, seed: int = 0) -> pd.DataFrame:
    """PaySim written as the public file is: Java doubles (balances >= 1e7 in scientific notation).
    Returns the frame with the exact values (cents) for checks."""
    df = paysim_frame(n, seed)
    rng = np.random.default_rng(seed + 1)
    for col in ("oldbalanceOrg", "oldbalanceDest", "newbalanceDest"):  # ~1% of each from 1e7 up, as in PaySim
        df[col] = np.round(rng.lognormal(11, 2.2, n), 2)
    df["newbalanceOrig"] = np.maximum(df["oldbalanceOrg"] - df["amount"], 0).round(2)
    out = df.copy()
    for col in ("amount", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest", "newbalanceDest"):
        values = df[col].to_numpy()
        text = np.char.mod("%.2f", values).astype(object)
        text = np.array([t.rstrip("0") + ("0" if t.rstrip("0").endswith(".") else "") for t in text], dtype=object)
        big = np.flatnonzero(np.abs(values) >= 1e7)
        text[big] = [java_double(float(values[i])) for i in big]
        out[col] = text
    out.to_csv(path, index=False)
    return df


def handbook_csv(path: Path, customers: int = 5000, terminals: int = 10000, days: int = 183,
                 seed: int = 0) -> pd.DataFrame:
    """The Fraud Detection Handbook's simulated-transactions layout, written by pandas ``to_csv``,
    from ``benchmarks/cardsim.py``. As in the book, scenario-3 amounts are a two-decimal amount
    multiplied by 5 in binary floating point, so some print as ``90.39999999999999``. Returns the
    frame with ``cents``, the exact amounts."""
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from cardsim import START_MS, generate

    tx, _ = generate(customers=customers, terminals=terminals, days=days, seed=seed)
    cents = tx["amount_minor"].to_numpy(np.int64)
    scenario = tx["typology"].map({"amount_over_220": 1, "compromised_terminal": 2,
                                   "compromised_customer": 3}).fillna(0).astype(int).to_numpy()
    amount = cents / 100
    three = scenario == 3
    base = np.maximum(np.round(cents[three] / 5), 1).astype(np.int64)
    amount[three] = (base / 100) * 5  # float arithmetic, as the book's simulator does it
    cents[three] = base * 5
    secs = (tx["ts_ms"].to_numpy(np.int64) - START_MS) // 1000
    frame = pd.DataFrame({
        "TRANSACTION_ID": np.arange(len(tx)),
        "TX_DATETIME": pd.to_datetime(tx["ts_ms"], unit="ms").dt.strftime("%Y-%m-%d %H:%M:%S"),
        "CUSTOMER_ID": tx["payer"].str[1:].astype(int), "TERMINAL_ID": tx["payee"].str[1:].astype(int),
        "TX_AMOUNT": amount, "TX_TIME_SECONDS": secs, "TX_TIME_DAYS": secs // 86_400,
        "TX_FRAUD": tx["is_fraud"].to_numpy(), "TX_FRAUD_SCENARIO": scenario,
    })
    frame.to_csv(path, index=False)
    return frame.assign(cents=cents, ts_ms=tx["ts_ms"].to_numpy())


def broken_csv(clean: Path, path: Path, every: int = 100_000) -> int:
    """The clean file with a ragged row and an unterminated quote every ``every`` rows; returns how
    many rows were broken."""
    broken = 0
    with open(clean, encoding="utf-8") as src, open(path, "w", encoding="utf-8") as out:
        out.write(next(src))
        for i, line in enumerate(src, start=1):
            if i % every == every // 2:
                out.write(line.rstrip("\n") + ",extra\n")
                broken += 1
            elif i % every == every // 2 + 7:
                head, _, tail = line.partition(",")
                out.write(f'{head},"{tail}')
                broken += 1
            else:
                out.write(line)
    return broken


def run_cli(path: Path, home: Path, args: list[str], src: str | None = None) -> dict[str, Any]:
    """One `pesaguard ingest` in a subprocess into a fresh home; ``src`` puts another source tree first."""
    out = home / "report.json"
    home.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "PESAGUARD_HOME": str(home)}
    env.pop("PESAGUARD_DATABASE_URL", None)
    if src is not None:
        env["PYTHONPATH"] = src
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pesaguard.cli.main", "--quiet", "ingest", str(path), *args,
                           "--json", str(out)], env=env, capture_output=True, text=True)
    secs = time.perf_counter() - t
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode not in (0, 65) or not out.exists():
        last = (proc.stderr.strip().splitlines() or ["?"])[-1]
        return {"seconds": secs, "cpu": 0.0, "rows": 0, "reported": 0.0, "failed": f"exit {proc.returncode}: {last}"}
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    report = json.loads(out.read_text())
    return {"seconds": secs, "cpu": cpu, "rows": report["read"], "reported": report["rows_per_s"],
            "quarantined": report["quarantined"], "adjusted": sum((report.get("adjustments") or {}).values())}


def bench_pandas(path: Path, db: Path) -> dict[str, float]:
    import sqlalchemy as sa

    from pesaguard.store import Store

    Store(f"sqlite:///{db}").migrate()
    engine = sa.create_engine(f"sqlite:///{db}")
    t, c = time.perf_counter(), time.process_time()
    df = pd.read_csv(path)
    out = pd.DataFrame({
        "txn_id": [f"ps{i}" for i in range(len(df))],
        "ts_ms": 1_704_067_200_000 + df["step"] * 3_600_000,
        "payer": df["nameOrig"], "payee": df["nameDest"],
        "amount_minor": (df["amount"] * 100).round().astype("int64"),  # float rounding: what ingest avoids
        "currency": "KES", "type": df["type"].str.lower(),
    })
    with engine.begin() as conn:
        out.to_sql("transactions", conn, if_exists="append", index=False, chunksize=50_000)
    secs, cpu = time.perf_counter() - t, time.process_time() - c
    engine.dispose()
    return {"seconds": secs, "cpu": cpu, "rows": len(df)}


def _row(name: str, r: dict[str, Any]) -> str:
    if "failed" in r:
        return f"| {name} | {r['seconds']:.2f} | failed: {r['failed']} | | | | | |"
    rows = r["rows"]
    own = f"{r['reported']:,.0f}" if r.get("reported") else "-"
    extra = f" | {int(r.get('quarantined', 0)):,} | {int(r.get('adjusted', 0)):,}" if "quarantined" in r else " | - | -"
    return (f"| {name} | {r['seconds']:.2f} | {rows / r['seconds']:,.0f} | {own} | {r['cpu']:.2f} | "
            f"{rows / r['cpu']:,.0f}{extra} |")


def start_up(src: str | None) -> dict[str, float]:
    """`pesaguard ingest --help`: interpreter start and imports, no work (best of 3)."""
    env = {**os.environ, **({"PYTHONPATH": src} if src else {})}
    best: dict[str, float] = {}
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        t = time.perf_counter()
        subprocess.run([sys.executable, "-m", "pesaguard.cli.main", "ingest", "--help"], env=env, check=True,
                       stdout=subprocess.DEVNULL)
        secs = time.perf_counter() - t
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        if not best or secs < best["seconds"]:
            best = {"seconds": secs, "cpu": cpu}
    return best


def cpu_split(path: Path, db: Path) -> dict[str, float]:
    """``ingest_file`` on ``path`` in this process, by clock: wall, the main thread's CPU (and of it
    validation, chunk preparation and the index rebuild), each Python thread of the process by name
    (the CSV reader, the file's SHA-256, the pipe sender, the WAL checkpointer), SQLite's own sorter
    threads (the rest of the process's CPU), and the SQLite writer process. The main thread and
    CPU / cores bound the wall time on free cores from below."""
    import threading

    from pesaguard.ingest import IngestOptions, batches, ingest_file, pipeline
    from pesaguard.store import Store

    spent = {"validate": 0.0, "prepare": 0.0, "rebuild": 0.0, "rebuild wall": 0.0}
    threads: dict[str, float] = {}

    def timed(fn: Any, key: str) -> Any:
        def run(*a: Any, **k: Any) -> Any:
            t, w = time.thread_time(), time.perf_counter()
            try:
                return fn(*a, **k)
            finally:
                spent[key] += time.thread_time() - t
                if key == "rebuild":
                    spent["rebuild wall"] += time.perf_counter() - w
        return run

    thread_run = threading.Thread.run

    def counted_run(self: threading.Thread) -> None:
        try:
            thread_run(self)
        finally:
            name = self.name.rsplit("_", 1)[0]  # ThreadPoolExecutor names its threads PREFIX_N
            threads[name] = threads.get(name, 0.0) + time.thread_time()

    store = Store(f"sqlite:///{db}")
    store.migrate()
    parse, prepare, rebuild = pipeline.parse_paysim, batches.ChunkWriter.prepare, Store.ensure_indexes
    pipeline.parse_paysim = timed(parse, "validate")
    batches.ChunkWriter.prepare = timed(prepare, "prepare")  # type: ignore[method-assign]
    Store.ensure_indexes = timed(rebuild, "rebuild")  # type: ignore[method-assign]
    threading.Thread.run = counted_run  # type: ignore[method-assign]
    try:
        self0, kids0 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, main = time.perf_counter(), time.thread_time()
        ingest_file(store, path, options=IngestOptions(label_delay_days=7))
        main, wall = time.thread_time() - main, time.perf_counter() - wall
        for t in threading.enumerate():  # let finished pools' threads report
            if t is not threading.main_thread() and not t.daemon:
                t.join()
        self1, kids1 = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    finally:
        pipeline.parse_paysim, batches.ChunkWriter.prepare = parse, prepare  # type: ignore[method-assign]
        Store.ensure_indexes = rebuild  # type: ignore[method-assign]
        threading.Thread.run = thread_run  # type: ignore[method-assign]
        store.close()

    def used(a: Any, b: Any) -> float:
        return (b.ru_utime - a.ru_utime) + (b.ru_stime - a.ru_stime)

    process = used(self0, self1)
    named = {f"thread {k}": v for k, v in sorted(threads.items())}
    native = process - main - sum(threads.values())
    return {"wall": wall, "main": main, **spent, **named, "native threads (SQLite sorter, Arrow)": native,
            "process": process, "writer": used(kids0, kids1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="runs of the CLI on the clean file (median reported)")
    ap.add_argument("--baseline-src", help="a source tree (the directory holding the pesaguard package) to time "
                                           "against in the same run, interleaved")
    ap.add_argument("--handbook-customers", type=int, default=5000)
    ap.add_argument("--handbook-days", type=int, default=60)
    ap.add_argument("--clean-only", action="store_true", help="only the clean file (and its baseline and peer)")
    ap.add_argument("--cpu-split", action="store_true", help="only the clean file, ingested in this process: "
                                                             "CPU of the main thread, the process and the writer")
    ap.add_argument("--file", help="with --cpu-split: this clean file (made once with --write-clean) instead "
                                   "of a fresh one, and --repeat runs")
    ap.add_argument("--write-clean", metavar="PATH", help="write the clean file to PATH and exit")
    args = ap.parse_args()
    if args.write_clean:
        paysim_csv(Path(args.write_clean), args.rows)
        return
    if args.cpu_split:
        with tempfile.TemporaryDirectory() as d:
            clean = Path(args.file) if args.file else Path(d) / "paysim.csv"
            if not args.file:
                paysim_csv(clean, args.rows)
            for i in range(args.repeat if args.file else 1):
                split = cpu_split(clean, Path(d) / f"split{i}.db")
                total = split["process"] + split["writer"]
                print(f"{args.rows:,} clean rows in this process, load average {os.getloadavg()[0]:.1f}: "
                      + ", ".join(f"{k} {v:.2f} s" for k, v in split.items()))
                print(f"CPU {total:.2f} s; on two free cores the wall is at least max(main thread, CPU / 2) = "
                      f"{max(split['main'], total / 2):.2f} s, at most "
                      f"{args.rows / max(split['main'], total / 2):,.0f} rows/s", flush=True)
        return
    print(f"load average at the start: {os.getloadavg()[0]:.1f}", flush=True)
    delay = ["--label-delay-days", "7"]
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        clean = tmp / "paysim.csv"
        paysim_csv(clean, args.rows)
        print(f"clean file: {args.rows:,} PaySim-shaped rows, {clean.stat().st_size / 1e6:.0f} MB", flush=True)
        runs: dict[str, list[dict[str, Any]]] = {"now": [], "baseline": []}
        for i in range(args.repeat):
            for who in (("baseline", "now") if args.baseline_src else ("now",)):
                src = args.baseline_src if who == "baseline" else None
                r = run_cli(clean, tmp / f"{who}{i}", delay, src)
                runs[who].append(r)
                print(f"  {who} run {i + 1}: {r['seconds']:.2f} s wall ({r['rows'] / r['seconds']:,.0f} rows/s), "
                      f"{r['cpu']:.2f} s CPU, load {os.getloadavg()[0]:.1f}", flush=True)
        median = {k: sorted(v, key=lambda r: r["seconds"])[len(v) // 2] for k, v in runs.items() if v}
        messy: dict[str, tuple[Path, list[str]]] = {}
        if not args.clean_only:
            java = tmp / "paysim-java.csv"
            frame_java = paysim_java_csv(java, args.rows, seed=1)
            bal = frame_java[["amount", "oldbalanceOrg", "newbalanceOrig", "oldbalanceDest", "newbalanceDest"]]
            sci = float((bal.abs() >= 1e7).any(axis=1).mean())
            hb = tmp / "simulated-transactions.csv"
            frame = handbook_csv(hb, customers=args.handbook_customers, days=args.handbook_days)
            broken = tmp / "paysim-broken.csv"
            n_broken = broken_csv(clean, broken)
            messy = {
                f"PaySim as Java writes it ({sci:.1%} of rows with scientific notation)": (java, delay),
                f"Handbook layout via pandas ({len(frame):,} rows)": (hb, ["--format", "generic", "--map",
                                                                           HANDBOOK_MAP, *delay]),
                f"clean file with {n_broken} broken rows (ragged, unterminated quotes)": (broken, delay),
            }
        messy_runs: dict[str, dict[str, Any]] = {}
        for name, (path, extra) in messy.items():
            messy_runs[name] = run_cli(path, tmp / f"messy-{len(messy_runs)}", extra)
            print(_row(name, messy_runs[name]), flush=True)
            if args.baseline_src:
                base = run_cli(path, tmp / f"messy-base-{len(messy_runs)}", extra, args.baseline_src)
                messy_runs[name + " (baseline)"] = base
                print(_row(name + " (baseline)", base), flush=True)
        peer = bench_pandas(clean, tmp / "pandas.db")
        starts = {"now": start_up(None), **({"baseline": start_up(args.baseline_src)} if args.baseline_src else {})}
    print(f"load average at the end: {os.getloadavg()[0]:.1f}")
    print("\n| file, contender (same run) | wall s | rows/s (wall) | rows/s (the command's report, without start-up) "
          "| CPU s | rows/s (CPU) | quarantined | adjusted |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for who, r in median.items():
        label = "now" if who == "now" else "baseline"
        print(_row(f"clean, `pesaguard ingest` {label} (median of {len(runs[who])})", r))
    print(_row("clean, `pandas.read_csv` + `DataFrame.to_sql`", peer))
    for name, r in messy_runs.items():
        print(_row(name, r))
    for who, st in starts.items():
        print(f"start-up ({who}, `pesaguard ingest --help`, best of 3): {st['seconds']:.2f} s wall, {st['cpu']:.2f} s CPU")
    ours = median["now"]
    print(f"\ntarget >= 200,000 rows/s end to end on the clean file: {ours['rows'] / ours['seconds']:,.0f} wall "
          f"(the command's own report {ours['reported']:,.0f} rows/s, without interpreter start and imports)")


if __name__ == "__main__":
    main()
