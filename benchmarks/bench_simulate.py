"""Simulator throughput and memory: ~1M transactions (target < 60 s, bounded memory) next to a
row-at-a-time Python generator doing the same kind of work (the obvious implementation).

Each measurement runs in its own process so peak RSS (``ru_maxrss``) belongs to it alone.
Run: ``python benchmarks/bench_simulate.py``; paste the printed section into docs/benchmarks.md.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import textwrap

SIMULATE = """
import json, resource, sys, time
from pathlib import Path
from pesaguard.simulate import SimConfig, simulate
accounts, days, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
t = time.perf_counter()
s = simulate(SimConfig(accounts=accounts, days=days, seed=1, operator_sender_id="MPESA", msisdn_salt="bench"), out)
wall = time.perf_counter() - t
print(json.dumps({"rows": s.transactions, "sms": s.sms["total"], "wall": wall,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""

# The obvious implementation: one Python loop iteration per transaction, balances in a dict, rows in a
# list, one Parquet write at the end. No SMS, no fraud: a lower bound on what a row loop costs.
ROW_LOOP = """
import json, random, resource, sys, time
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
n_rows, accounts, out = int(sys.argv[1]), int(sys.argv[2]), Path(sys.argv[3])
TIERS = [(10_100, 700), (50_100, 1_300), (100_100, 2_300), (150_100, 3_300), (250_100, 5_300), (500_100, 5_700)]
def fee(a):
    f = 0
    for lo, v in TIERS:
        if a >= lo:
            f = v
    return f
t = time.perf_counter()
rng = random.Random(1)
bal = {f"C{i:07d}": rng.randrange(0, 2_000_000) for i in range(accounts)}
ids = list(bal)
rows, ts = [], 1_704_056_400_000
for i in range(n_rows):
    ts += rng.randrange(0, 3_000)
    payer, payee = rng.choice(ids), rng.choice(ids)
    amount = int(rng.lognormvariate(10.6, 1.1)) // 100 * 100 + 100
    f = fee(amount)
    if payer == payee or bal[payer] < amount + f:
        continue
    pb, qb = bal[payer], bal[payee]
    bal[payer] = pb - amount - f
    bal[payee] = qb + amount
    rows.append({"txn_id": f"T{i:010d}", "ts_ms": ts, "payer": payer, "payee": payee, "amount_minor": amount,
                 "fee_minor": f, "payer_balance_before": pb, "payer_balance_after": pb - amount - f,
                 "payee_balance_before": qb, "payee_balance_after": qb + amount, "type": "p2p"})
pq.write_table(pa.Table.from_pylist(rows), out / "rows.parquet")
wall = time.perf_counter() - t
print(json.dumps({"rows": len(rows), "sms": 0, "wall": wall,
                  "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}))
"""


def _run(code: str, *args: object) -> dict[str, float]:
    with tempfile.TemporaryDirectory() as out:
        res = subprocess.run([sys.executable, "-c", code, *map(str, args), out], capture_output=True, text=True,
                             check=True)
    return json.loads(res.stdout.strip().splitlines()[-1])


def main() -> None:
    runs = [
        ("simulator, 57,000 customers x 30 days", _run(SIMULATE, 57_000, 30)),
        ("simulator, 57,000 customers x 60 days", _run(SIMULATE, 57_000, 60)),
        ("simulator, 112,000 customers x 15 days", _run(SIMULATE, 112_000, 15)),
        ("row-at-a-time Python loop (peer), p2p only", _run(ROW_LOOP, 1_100_000, 57_000)),
    ]
    print("## Simulator\n")
    print(textwrap.dedent("""\
        `benchmarks/bench_simulate.py`: the whole simulator (legitimate economy, all fraud typologies, ledger
        with balances and fees, labels, SMS stream, Parquet writing) against the obvious peer, a
        row-at-a-time Python loop that only draws p2p transfers, checks balances, charges a fee and writes
        Parquet at the end. Each run is its own process; peak RSS is `ru_maxrss`.
        """))
    print("| run | transactions | SMS | wall time | transactions/s | peak RSS |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, r in runs:
        print(f"| {name} | {r['rows']:,.0f} | {r['sms']:,.0f} | {r['wall']:.1f} s | {r['rows'] / r['wall']:,.0f} | "
              f"{r['rss_mb']:,.0f} MB |")
    sim, longer, loop = runs[0][1], runs[1][1], runs[-1][1]
    print(f"\nThe simulator settles {sim['rows'] / sim['wall'] / (loop['rows'] / loop['wall']):.1f}x as many "
          "transactions per second as the bare row loop while doing far more per transaction. Twice the days "
          f"({longer['rows'] / sim['rows']:.1f}x the transactions) take {longer['rss_mb'] / sim['rss_mb']:.2f}x the "
          "peak memory: one day is in memory at a time, only labels and account events are kept for the whole "
          f"run. The row loop holds its output and peaks at {loop['rss_mb'] / sim['rss_mb']:.1f}x the simulator's "
          "memory for the same number of rows.")

if __name__ == "__main__":
    main()
