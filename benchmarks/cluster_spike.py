"""Spike of the rejected design for a feature state shared by replicas: per-account state in
Redis/Valkey, updated atomically per transaction, measured next to the chosen design's replicated
cost (every replica applies every transaction to the in-process kernel), in the same run.

Run: ``PYTHONPATH=DIR python benchmarks/cluster_spike.py --traffic FILE [--n 20000]`` where DIR
holds redis-py (``pip install --target DIR redis``: a spike, so not a pesaguard dependency) and
FILE is a JSON-lines transaction file (``bench_service.py``'s ``HOME/bench/live.jsonl``).
Needs Debian's ``redis-server``.

The Redis side is a lower bound: one Lua script per transaction (atomic across the payer's, the
payee's and the pair's keys, as a Redis cluster allows only with the three keys on one slot)
computes 18 of the kernel's 76 features: event counts and amount sums of the payer's outgoing, the
payee's incoming and the pair's payments in 1 h, 24 h and 7 d, from sorted sets of events, and
adds the transaction. Rows:

- redis, 1 client: the stream in order, one round trip per transaction; latency per call and CPU
  per transaction of the client and of redis-server;
- redis, 3 clients: three processes (three replicas) each sending the transactions it received
  (every third one) at its due time (``--rate`` for the three together), concurrently; redis-server
  CPU, and how many transactions got other features than the in-order run (correctness under
  concurrency: each call is atomic, but calls apply in the order they reach Redis, which no log
  records, so no replay reproduces them);
- kernel: ``FeatureEngine.score_and_update`` (all 76 features) per transaction, in process: the
  work every replica of the replicated state machine repeats for every transaction.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing as mp
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

WINDOWS_MS = (3_600_000, 86_400_000, 7 * 86_400_000)
HORIZON_MS = 7 * 86_400_000
LUA = """
local ts = tonumber(ARGV[1])
local out = {}
for k = 1, 3 do
  for w = 3, 5 do
    local evs = redis.call('ZRANGEBYSCORE', KEYS[k], ts - tonumber(ARGV[w]), ts)
    local sum = 0
    for _, e in ipairs(evs) do sum = sum + tonumber(string.match(e, ':(%d+)$')) end
    out[#out + 1] = #evs
    out[#out + 1] = sum
  end
end
for k = 1, 3 do
  redis.call('ZADD', KEYS[k], ts, ARGV[2] .. ':' .. ARGV[6])
  redis.call('ZREMRANGEBYSCORE', KEYS[k], '-inf', ts - tonumber(ARGV[7]))
end
return out
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def cpu_s(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def load(path: Path, n: int) -> list[dict[str, Any]]:
    with path.open() as f:
        return [json.loads(line) for line in itertools.islice(f, n)]


def _call(r: Any, sha: str, t: dict[str, Any]) -> list[int]:
    keys = [f"o:{t['payer']}", f"i:{t['payee']}", f"p:{t['payer']}>{t['payee']}"]
    return list(r.evalsha(sha, 3, *keys, t["ts_ms"], t["txn_id"], *WINDOWS_MS, int(t["amount_minor"]), HORIZON_MS))


def _client(port: int, txns: list[tuple[float, dict[str, Any]]], start: float, out: Any) -> None:
    """Sends each transaction at its due time (``start`` + offset, wall clock): the stream's pace."""
    import redis

    r = redis.Redis(port=port)
    sha = r.script_load(LUA)
    got = {}
    for due, t in txns:
        wait = start + due - time.time()
        if wait > 0:
            time.sleep(wait)
        got[t["txn_id"]] = _call(r, sha, t)
    out.put((got, cpu_s(os.getpid())))


def redis_rows(txns: list[dict[str, Any]], rate: float) -> tuple[list[dict[str, Any]], dict[str, list[int]]]:
    import redis

    port = free_port()
    d = tempfile.mkdtemp(prefix="spike-redis-")
    server = subprocess.Popen([shutil.which("redis-server") or "redis-server", "--port", str(port), "--save", "",
                               "--appendonly", "no", "--dir", d], stdout=subprocess.DEVNULL)
    rows = []
    try:
        r = redis.Redis(port=port)
        for _ in range(100):
            try:
                r.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        sha = r.script_load(LUA)
        lat, ordered = [], {}
        c0, s0, w0 = cpu_s(os.getpid()), cpu_s(server.pid), time.perf_counter()
        for t in txns:
            t1 = time.perf_counter()
            ordered[t["txn_id"]] = _call(r, sha, t)
            lat.append(time.perf_counter() - t1)
        wall = time.perf_counter() - w0
        n = len(txns)
        rows.append({"row": "redis, 1 client, in stream order", "per_s": n / wall,
                     "p50_us": np.percentile(lat, 50) * 1e6, "p99_us": np.percentile(lat, 99) * 1e6,
                     "client_us": (cpu_s(os.getpid()) - c0) / n * 1e6, "server_us": (cpu_s(server.pid) - s0) / n * 1e6,
                     "differ": 0.0})
        r.flushall()
        q: Any = mp.Queue()
        timed = [(i / rate, t) for i, t in enumerate(txns)]
        start = time.time() + 1.0  # the three processes started
        procs = [mp.Process(target=_client, args=(port, timed[i::3], start, q)) for i in range(3)]
        s0, w0 = cpu_s(server.pid), time.perf_counter()
        for p in procs:
            p.start()
        parts = [q.get() for _ in procs]
        wall = time.perf_counter() - w0
        for p in procs:
            p.join()
        concurrent = {k: v for got, _ in parts for k, v in got.items()}
        differ = sum(concurrent[k] != v for k, v in ordered.items()) / n
        rows.append({"row": f"redis, 3 clients (replicas) each sending its third at the stream's pace "
                            f"({rate:,.0f}/s in all)", "per_s": n / (wall - 1.0), "p50_us": float("nan"),
                     "p99_us": float("nan"), "client_us": sum(c for _, c in parts) / n * 1e6,
                     "server_us": (cpu_s(server.pid) - s0) / n * 1e6, "differ": differ})
    finally:
        server.terminate()
        server.wait(10)
        shutil.rmtree(d, ignore_errors=True)
    return rows, ordered


def kernel_row(txns: list[dict[str, Any]]) -> dict[str, Any]:
    from pesaguard.features.engine import FeatureEngine

    engine = FeatureEngine()
    engine.score_and_update(dict(txns[0], txn_id="warm"))  # compile/load the kernel outside the timing
    lat = []
    c0, w0 = time.process_time(), time.perf_counter()
    for t in txns:
        t1 = time.perf_counter()
        engine.score_and_update(t)
        lat.append(time.perf_counter() - t1)
    wall = time.perf_counter() - w0
    n = len(txns)
    return {"row": "kernel in process (every replica, every transaction)", "per_s": n / wall,
            "p50_us": np.percentile(lat, 50) * 1e6, "p99_us": np.percentile(lat, 99) * 1e6,
            "client_us": (time.process_time() - c0) / n * 1e6, "server_us": 0.0, "differ": 0.0}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--traffic", type=Path, required=True)
    ap.add_argument("--n", type=int, default=20_000)
    ap.add_argument("--rate", type=float, default=1000.0, help="transactions/s of the three clients together")
    a = ap.parse_args()
    txns = load(a.traffic, a.n)
    load_before = os.getloadavg()[0]
    rows, _ = redis_rows(txns, a.rate)
    rows.append(kernel_row(txns))
    print(f"{len(txns):,} transactions; load average {load_before:.1f} before, {os.getloadavg()[0]:.1f} after\n")
    print("| row | transactions/s | p50 µs | p99 µs | CPU µs per transaction: client + redis-server "
          "| features other than in stream order |")
    print("|---|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['row']} | {r['per_s']:,.0f} | {r['p50_us']:.0f} | {r['p99_us']:.0f} | "
              f"{r['client_us']:.0f} + {r['server_us']:.0f} | {r['differ']:.1%} |")


if __name__ == "__main__":
    main()
