"""Stream path throughput and latency (``pesaguard consume`` on NATS JetStream), next to the HTTP
path (``pesaguard serve``) measured in the same run, on the same store, model and traffic.

Run: ``python benchmarks/bench_stream.py [--home DIR] [--backlog 30000] [--rates 1000,2000]
[--duration 20] [--connections 8]``. Needs ``nats-server`` and ``wrk`` (Debian packages).

The store, the champion model and the traffic are ``bench_service.py``'s (``prepare``: a simulated
network's first days stored and trained on, the following days' transactions, which the model never
saw, replayed as request bodies with fresh ids and timestamps moved forward). Both processes are
started as users start them, with the default settings (decision journal on, SQLite), one after the
other on the same store, so each warms its feature state from everything decided before it.

Stream rows, against a ``nats-server -js`` this script starts on loopback:

- backlog: ``--backlog`` transactions are in the input stream before the consumer starts; the rate
  is the number of decisions over the time between the first and the last decision stored in the
  decisions stream (JetStream's own timestamps).
- fixed rate: a publisher in this process sends at a Poisson rate for ``--duration`` seconds while
  the consumer runs; a transaction's latency is from its storage in the input stream to its
  decision's storage in the decisions stream, both timestamps taken by the same nats-server, so it
  covers the pull, the decision (durable in the journal), and the publication of the decision.

HTTP rows, against ``pesaguard serve``: wrk closed loop (throughput) and ``openloop.py`` at the same
fixed rates (latency from each request's scheduled departure), as in ``bench_service.py``.

CPU per decision: utime + stime from /proc over each row, of the deciding process, of its journal
ingester (its child), and for the stream rows of nats-server too, divided by the decisions made.
Prints markdown for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import asyncio
import math
import os
import random
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import orjson

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import (  # a sibling script, not a package
    LUA,
    PESAGUARD,
    _next_shift,
    cpu_seconds,
    free_port,
    prepare,
    run_openloop,
    run_wrk,
    stop,
    tree_cpu_seconds,
    wait_ready,
)

DAY_MS = 86_400_000
TX = "pesaguard.transactions"


class Nats:
    """``nats-server -js`` on loopback, storing under a temporary directory."""

    def __init__(self) -> None:
        exe = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(exe).exists():
            sys.exit("nats-server is not installed: apt-get install nats-server")
        self.dir = tempfile.mkdtemp(prefix="pesaguard-bench-nats-")
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc = subprocess.Popen([exe, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-sd", self.dir],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while socket.socket().connect_ex(("127.0.0.1", self.port)) != 0:
            if time.monotonic() > deadline:
                sys.exit("nats-server did not start")
            time.sleep(0.02)

    def close(self) -> None:
        self.proc.terminate()
        self.proc.wait(10)
        shutil.rmtree(self.dir, ignore_errors=True)


class Bodies:
    """The replay's request bodies, cycled: the i-th gets ``txn_id = prefix-i`` and its timestamp moved
    by ``shift`` plus one replay span per completed cycle (time never goes backwards)."""

    def __init__(self, replay: dict[str, Any], shift: int) -> None:
        self.bodies = [orjson.loads(line) for line in Path(replay["path"]).read_bytes().splitlines() if line]
        self.shift, self.span = shift, int(replay["span_ms"])

    def get(self, prefix: str, i: int) -> bytes:
        cycle, k = divmod(i, len(self.bodies))
        body = dict(self.bodies[k])
        body["txn_id"] = f"{prefix}-{i}"
        body["ts_ms"] = int(body["ts_ms"]) + self.shift + cycle * self.span
        return orjson.dumps(body)


async def _publish_backlog(url: str, bodies: Bodies, prefix: str, n: int, start: int) -> None:
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    from nats.js.api import StreamConfig

    await js.add_stream(StreamConfig(name="PESAGUARD_IN", subjects=[TX, "pesaguard.labels"], max_age=7 * 86_400.0))
    for i in range(start, start + n):
        await nc.publish(TX, bodies.get(prefix, i))
        if i % 2000 == 0:
            await nc.flush()
    await nc.flush()
    await nc.close()


async def _publish_at_rate(url: str, bodies: Bodies, prefix: str, rate: float, seconds: float,
                           start: int) -> dict[str, float]:
    """Poisson arrivals at ``rate``/s for ``seconds``; returns the count and the publisher's lag."""
    import nats

    nc = await nats.connect(url)
    rng = random.Random(7)
    loop = asyncio.get_running_loop()
    t0 = loop.time()
    due = t0
    lags = []
    i = start
    while due - t0 < seconds:
        due += rng.expovariate(rate)
        wait = due - loop.time()
        if wait > 0:
            await asyncio.sleep(wait)
        lags.append(loop.time() - due)
        await nc.publish(TX, bodies.get(prefix, i))
        i += 1
    await nc.flush()
    await nc.close()
    return {"sent": i - start, "send_lag_p99_ms": 1000 * float(np.percentile(lags, 99))}


async def _stored_times(url: str, stream: str, subject: str, key: str = "txn_id") -> dict[str, float]:
    """``txn_id`` -> the time JetStream stored the message (s), for every message in ``stream``."""
    import nats
    from nats.errors import TimeoutError as NatsTimeout

    nc = await nats.connect(url)
    js = nc.jetstream()
    total = (await js.stream_info(stream)).state.messages
    from nats.js.api import AckPolicy, ConsumerConfig

    # an ephemeral consumer from the start, nothing to acknowledge
    sub = await js.pull_subscribe(subject, stream=stream, config=ConsumerConfig(ack_policy=AckPolicy.NONE))
    out: dict[str, float] = {}
    seen = 0
    while seen < total:
        try:
            msgs = await sub.fetch(1000, timeout=5)
        except NatsTimeout:
            break
        for m in msgs:
            seen += 1
            out[orjson.loads(m.data)[key]] = m.metadata.timestamp.timestamp()
    await nc.close()
    return out


def _percentiles(values_ms: list[float]) -> dict[str, float]:
    a = np.asarray(values_ms)
    return {"p50": float(np.percentile(a, 50)), "p90": float(np.percentile(a, 90)),
            "p99": float(np.percentile(a, 99)), "p999": float(np.percentile(a, 99.9)), "max": float(a.max())}


def _decided(db: Path, prefix: str) -> tuple[int, int]:
    with sqlite3.connect(db) as c:
        n, distinct = c.execute("SELECT COUNT(*), COUNT(DISTINCT txn_id) FROM decisions WHERE txn_id >= ? "
                                "AND txn_id < ?", (prefix + "-", prefix + ".")).fetchone()
    return int(n), int(distinct)


def _cpu(pid: int) -> dict[int, float]:
    return tree_cpu_seconds(pid)


def bench_stream(home: Path, env: dict[str, str], replay: dict[str, Any], backlog: int, rates: list[int],
                 duration: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    db = home / "pesaguard.db"
    nats = Nats()
    run = f"s{int(time.time())}"
    bodies = Bodies(replay, _next_shift(db, replay["start_ms"]))
    rows: list[dict[str, Any]] = []
    sent = 0
    asyncio.run(_publish_backlog(nats.url, bodies, f"{run}b", backlog, 0))
    sent += backlog
    port = free_port()
    proc = subprocess.Popen([str(PESAGUARD), "-q", "consume", "--host", "127.0.0.1", "--port", str(port)],
                            env=env | {"PESAGUARD_NATS_URL": nats.url}, start_new_session=True,
                            stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    try:
        wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
        startup = time.perf_counter() - t0
        cpu0, ncpu0 = _cpu(proc.pid), cpu_seconds(nats.proc.pid)
        while _decided(db, f"{run}b")[0] < backlog:  # the journal's copy is a few ms behind the decisions
            time.sleep(0.05)
        cpu1, ncpu1 = _cpu(proc.pid), cpu_seconds(nats.proc.pid)
        done = asyncio.run(_stored_times(nats.url, "PESAGUARD_DECISIONS", "pesaguard.decisions"))
        times = sorted(done.values())
        rows.append({"path": "stream", "load": f"backlog of {backlog:,} (as fast as it goes)",
                     "rps": (len(times) - 1) / (times[-1] - times[0]), "decisions": len(times),
                     **dict.fromkeys(("p50", "p90", "p99", "p999", "max"), math.nan),
                     **_cpu_fields(cpu0, cpu1, proc.pid, len(times), ncpu1 - ncpu0)})
        for i, rate in enumerate(rates):
            prefix = f"{run}r{i}"
            cpu0, ncpu0 = _cpu(proc.pid), cpu_seconds(nats.proc.pid)
            pub = asyncio.run(_publish_at_rate(nats.url, bodies, prefix, rate, duration, sent))
            sent += int(pub["sent"])
            deadline = time.monotonic() + 120
            while _decided(db, prefix)[0] < pub["sent"] and time.monotonic() < deadline:
                time.sleep(0.05)
            cpu1, ncpu1 = _cpu(proc.pid), cpu_seconds(nats.proc.pid)
            arrived = asyncio.run(_stored_times(nats.url, "PESAGUARD_IN", TX))
            decided = asyncio.run(_stored_times(nats.url, "PESAGUARD_DECISIONS", "pesaguard.decisions"))
            ids = [t for t in arrived if t.startswith(prefix + "-") and t in decided]
            lat = [1000 * (decided[t] - arrived[t]) for t in ids]
            # decisions over the time from the first arrival to the last decision: below the offered
            # rate when the consumer could not keep up
            span = max(decided[t] for t in ids) - min(arrived[t] for t in ids)
            rows.append({"path": "stream", "load": f"{rate:,}/s Poisson for {duration} s",
                         "rps": len(lat) / max(span, duration), "decisions": len(lat), **_percentiles(lat),
                         "send_lag_p99_ms": pub["send_lag_p99_ms"],
                         **_cpu_fields(cpu0, cpu1, proc.pid, len(lat), ncpu1 - ncpu0)})
    finally:
        stop(proc)
        nats.close()
    prefixes = [f"{run}b", *(f"{run}r{i}" for i in range(len(rates)))]
    n = sum(_decided(db, p)[0] for p in prefixes)
    distinct = sum(_decided(db, p)[1] for p in prefixes)
    return rows, {"startup_s": startup, "published": sent, "stored": n, "duplicates": n - distinct}


def _cpu_fields(before: dict[int, float], after: dict[int, float], pid: int, n: int, nats_s: float) -> dict[str, float]:
    own = after[pid] - before[pid]
    children = sum(v - before.get(p, 0.0) for p, v in after.items() if p != pid)
    return {"cpu_ms": 1000 * own / n, "cpu_children_ms": 1000 * children / n, "cpu_nats_ms": 1000 * nats_s / n}


def bench_http(home: Path, env: dict[str, str], replay: dict[str, Any], conns: int, rates: list[int],
               duration: int) -> list[dict[str, Any]]:
    db = home / "pesaguard.db"
    key = subprocess.run([str(PESAGUARD), "-q", "keys", "create", "--role", "scorer", "--name", "bench-stream"],
                         env=env, capture_output=True, text=True, check=True).stdout.split()[-1]
    port = free_port()
    proc = subprocess.Popen([str(PESAGUARD), "serve", "--port", str(port)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL)
    run = f"h{int(time.time())}"
    rows = []
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/readyz", proc)
        shift = _next_shift(db, replay["start_ms"])
        args = ["replay", key, f"{run}w", str(shift), str(replay["span_ms"]), replay["path"]]
        run_wrk(url, LUA, conns, 3, args)  # warm-up, not reported
        shift = _next_shift(db, replay["start_ms"])
        res = run_wrk(url, LUA, conns, duration, ["replay", key, f"{run}c", str(shift), str(replay["span_ms"]),
                                                  replay["path"]], proc.pid)
        rows.append({"path": "HTTP", "load": f"wrk, {conns} connections (closed loop)", "decisions": res["requests"],
                     **{k: res[k] for k in ("rps", "p50", "p90", "p99", "p999", "max", "cpu_ms", "cpu_children_ms")},
                     "cpu_nats_ms": math.nan})
        for i, rate in enumerate(rates):
            res = run_openloop(url, key, replay["path"], rate, duration, f"{run}o{i}",
                               _next_shift(db, replay["start_ms"]), replay["span_ms"], proc.pid)
            rows.append({"path": "HTTP", "load": f"{rate:,}/s Poisson for {duration} s", "decisions": res["requests"],
                         **{k: res[k] for k in ("rps", "p50", "p90", "p99", "p999", "max", "cpu_ms",
                                                "cpu_children_ms", "send_lag_p99")},
                         "cpu_nats_ms": math.nan})
    finally:
        stop(proc)
    return rows


def _f(v: float, spec: str) -> str:
    return "-" if v is None or (isinstance(v, float) and math.isnan(v)) else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None, help="reuse a prepared PESAGUARD_HOME (bench_service.py's)")
    ap.add_argument("--accounts", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--live-days", type=int, default=3)
    ap.add_argument("--backlog", type=int, default=30_000, help="transactions waiting before the consumer starts")
    ap.add_argument("--rates", default="1000,2000", help="comma-separated fixed rates (per second)")
    ap.add_argument("--duration", type=int, default=20, help="seconds per fixed-rate row")
    ap.add_argument("--connections", type=int, default=8, help="wrk connections for the HTTP closed-loop row")
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    home = a.home or Path(tempfile.mkdtemp(prefix="pesaguard-bench-"))
    replay = prepare(home, a.accounts, a.days, a.live_days)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESAGUARD_")} | {"PESAGUARD_HOME": str(home)}
    rates = [int(r) for r in a.rates.split(",") if r.strip()]
    load_before = os.getloadavg()[0]
    stream_rows, checks = bench_stream(home, env, replay, a.backlog, rates, a.duration)
    http_rows = bench_http(home, env, replay, a.connections, rates, a.duration)
    print(f"\n{os.cpu_count()} cores; load average before {load_before:.1f}, after {os.getloadavg()[0]:.1f}; "
          f"consumer start-up (warm-up included) {checks['startup_s']:.1f} s; stream: published "
          f"{checks['published']:,}, decisions stored {checks['stored']:,}, duplicates {checks['duplicates']}\n")
    print("| path | load | decisions/s | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | CPU per decision: "
          "process + journal ingester + nats-server |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|")
    for r in stream_rows + http_rows:
        print(f"| {r['path']} | {r['load']} | {r['rps']:,.0f} | {_f(r['p50'], '.2f')} | {_f(r['p90'], '.2f')} | "
              f"{_f(r['p99'], '.2f')} | {_f(r['p999'], '.2f')} | {_f(r['max'], '.1f')} | "
              f"{_f(r['cpu_ms'], '.3f')} + {_f(r['cpu_children_ms'], '.3f')} + {_f(r['cpu_nats_ms'], '.3f')} ms |")


if __name__ == "__main__":
    main()
