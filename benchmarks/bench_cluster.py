"""Capacity of ``pesaguard consume --cluster`` with 1 and 3 replicas, next to the single-process
consumer, in the same run, on the same model and traffic.

Run: ``python benchmarks/bench_cluster.py [--home DIR] [--backlog 5000] [--rates 100,200]
[--duration 15] [--replicas 1,3]``. Needs ``nats-server`` (Debian package).

The model and traffic are ``bench_service.py``'s (``prepare``). Each configuration gets a fresh
``nats-server -js`` (with its monitoring port, for the message counts) and its processes each a
copy of the prepared home (its own SQLite store and journal; the single process warms its feature
state from that store, the replicas from the stream, which starts empty). Rows:

- backlog: ``--backlog`` transactions published as fast as the client goes once every process is
  ready; decisions/s over the time from the first transaction's storage in the input stream to the
  last decision's storage in the decisions stream (JetStream timestamps);
- fixed rate: Poisson arrivals at each ``--rates`` for ``--duration`` s; latency from a
  transaction's storage in the input stream to its decision's storage in the decisions stream.

CPU per decision: utime + stime from /proc over each row, of every deciding process and its
journal ingester, and of nats-server.

Then the work every replica repeats for every message, in this process: the state machine's apply
(the payload's validation, the request hash, features and model score with the champion) on the
same traffic, and the delivery of a message by the replica's ordered consumer (nats-py's
``next_msg`` and the metadata read), CPU per message. JetStream messages per decision: nats-server's ``in_msgs``
and ``out_msgs`` (``/varz``) over the row, divided by the decisions: what the replicas cost the
broker. Prints markdown for docs/scaling.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import PESAGUARD, free_port, prepare, stop, tree_cpu_seconds, wait_ready  # sibling scripts
from bench_stream import Bodies, Nats, _percentiles, _publish_at_rate, _publish_backlog, _stored_times

DEC = "pesaguard.decisions"


class MonitoredNats(Nats):
    """:class:`bench_stream.Nats` with its HTTP monitoring port, for ``/varz``."""

    def __init__(self) -> None:
        super().__init__()
        self.proc.terminate()
        self.proc.wait(10)
        self.monitor = free_port()
        exe = shutil.which("nats-server") or "/usr/sbin/nats-server"
        self.proc = subprocess.Popen([exe, "-js", "-a", "127.0.0.1", "-p", str(self.port), "-m", str(self.monitor),
                                      "-sd", self.dir], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while True:
            try:
                httpx.get(f"http://127.0.0.1:{self.monitor}/healthz", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline:
                    sys.exit("nats-server did not start")
                time.sleep(0.05)

    def varz(self) -> dict[str, Any]:
        return dict(httpx.get(f"http://127.0.0.1:{self.monitor}/varz", timeout=5).json())


async def _count(url: str, stream: str) -> int:
    import nats

    nc = await nats.connect(url)
    try:
        return int((await nc.jetstream().stream_info(stream)).state.messages)
    finally:
        await nc.close()


def _wait_count(url: str, stream: str, n: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while asyncio.run(_count(url, stream)) < n:
        if time.monotonic() > deadline:
            raise RuntimeError(f"{stream} holds {asyncio.run(_count(url, stream))} of {n} after {timeout} s")
        time.sleep(0.2)


def _cpu(pids: list[int], nats: Nats) -> float:
    return sum(sum(tree_cpu_seconds(p).values()) for p in pids) + sum(tree_cpu_seconds(nats.proc.pid).values())


def bench_config(prepared: Path, replay: dict[str, Any], mode: str, replicas: int, backlog: int, rates: list[int],
                 duration: int) -> list[dict[str, Any]]:
    nats = MonitoredNats()
    root = Path(tempfile.mkdtemp(prefix="pesaguard-bench-cluster-"))
    procs: list[subprocess.Popen[bytes]] = []
    rows: list[dict[str, Any]] = []
    label = "single process" if mode == "single" else f"cluster, {replicas} replica{'s' * (replicas > 1)}"
    try:
        # the input stream first, so that every replica starts on the same (empty) stream
        bodies = Bodies(replay, 0)
        asyncio.run(_publish_backlog(nats.url, bodies, "warm", 0, 0))
        t0 = time.perf_counter()
        for i in range(replicas):
            home = root / f"r{i}"
            shutil.copytree(prepared, home, ignore=shutil.ignore_patterns("bench", "journal"))
            port = free_port()
            env = {k: v for k, v in os.environ.items() if not k.startswith("PESAGUARD_")} | {
                "PESAGUARD_HOME": str(home), "PESAGUARD_NATS_URL": nats.url}
            args = [str(PESAGUARD), "consume", "--host", "127.0.0.1", "--port", str(port)]
            procs.append(subprocess.Popen(args + (["--cluster"] if mode == "cluster" else []), env=env,
                                          stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))
            procs[-1].port = port  # type: ignore[attr-defined]
        for p in procs:
            wait_ready(f"http://127.0.0.1:{p.port}/readyz", p)  # type: ignore[attr-defined]
        startup = time.perf_counter() - t0
        pids = [p.pid for p in procs]
        sent = 0
        for kind, rate in [("backlog", 0)] + [("rate", r) for r in rates]:
            v0, c0, load0 = nats.varz(), _cpu(pids, nats), os.getloadavg()[0]
            prefix = f"{kind}{rate}"
            if kind == "backlog":
                asyncio.run(_publish_backlog(nats.url, bodies, prefix, backlog, sent))
                n = backlog
            else:
                n = asyncio.run(_publish_at_rate(nats.url, bodies, prefix, rate, duration, sent))["sent"]
            sent += n
            _wait_count(nats.url, "PESAGUARD_DECISIONS", sent, timeout=600)
            time.sleep(0.5)  # acknowledgements and the journal's last copies
            v1, c1 = nats.varz(), _cpu(pids, nats)
            ins = asyncio.run(_stored_times(nats.url, "PESAGUARD_IN", "pesaguard.transactions"))
            outs = asyncio.run(_stored_times(nats.url, "PESAGUARD_DECISIONS", DEC))
            mine = [k for k in ins if k.startswith(prefix + "-")]
            lat = [1000 * (outs[k] - ins[k]) for k in mine if k in outs]
            span = max(outs[k] for k in mine) - min(ins[k] for k in mine)
            row = {"config": label, "load": f"backlog of {backlog}" if kind == "backlog" else f"{rate}/s Poisson "
                   f"for {duration} s", "decisions": len(lat), "per_s": len(lat) / span,
                   "cpu_ms": 1000 * (c1 - c0) / len(lat),
                   "js_msgs": ((v1["in_msgs"] - v0["in_msgs"]) + (v1["out_msgs"] - v0["out_msgs"])) / len(lat),
                   "loadavg": f"{load0:.1f}-{os.getloadavg()[0]:.1f}", "startup_s": startup}
            row.update(_percentiles(lat) if kind == "rate" else {})
            rows.append(row)
            print(row, file=sys.stderr)
    finally:
        for p in procs:
            stop(p)
        nats.close()
        shutil.rmtree(root, ignore_errors=True)
    return rows


def bench_apply(prepared: Path, replay: dict[str, Any], n: int) -> list[dict[str, Any]]:
    """CPU per message of what each replica does for every message: apply, and receive it."""
    from pesaguard.cluster.machine import StateMachine
    from pesaguard.config import Settings
    from pesaguard.decisions.loader import load_scorer

    scorer = load_scorer(Settings(home=prepared))
    scorer.explain = "auto"  # as the decision service sets it
    machine = StateMachine(scorer)
    bodies = Bodies(replay, 0)
    msgs = [bodies.get("apply", i) for i in range(n)]
    now_ms = int(time.time() * 1000)
    for i, m in enumerate(msgs[:200]):  # compile and warm outside the timing
        machine.apply_transaction(i + 1, m.replace(b'"apply-', b'"warm-'), now_ms)
    c0 = time.process_time()
    for i, m in enumerate(msgs):
        machine.apply_transaction(1000 + i, m, now_ms)
    apply_us = (time.process_time() - c0) / n * 1e6

    async def deliver() -> float:
        import nats

        nc = await nats.connect(nats_.url)
        js = nc.jetstream()
        sub = await js.subscribe("", stream="PESAGUARD_IN", ordered_consumer=True, pending_msgs_limit=4 * n)
        first = await sub.next_msg(timeout=10)
        c0 = time.process_time()
        for _ in range(n - 1):
            msg = await sub.next_msg(timeout=10)
            _ = msg.metadata.sequence.stream, msg.metadata.timestamp
        spent = time.process_time() - c0
        del first
        await nc.close()
        return spent / (n - 1) * 1e6

    nats_ = MonitoredNats()
    try:
        asyncio.run(_publish_backlog(nats_.url, bodies, "deliver", n, 0))
        deliver_us = asyncio.run(deliver())
    finally:
        nats_.close()
    return [{"what": "apply: validate, hash, features and model score (the champion)", "us": apply_us},
            {"what": "receive it from the replica's ordered consumer", "us": deliver_us}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, default=None, help="a home prepared by bench_service.py (default: a temp dir)")
    ap.add_argument("--accounts", type=int, default=2000)
    ap.add_argument("--days", type=int, default=14)
    ap.add_argument("--live-days", type=int, default=2)
    ap.add_argument("--backlog", type=int, default=5000)
    ap.add_argument("--rates", default="100,200")
    ap.add_argument("--duration", type=int, default=15)
    ap.add_argument("--replicas", default="1,3", help="cluster sizes to measure after the single process")
    a = ap.parse_args()
    home = a.home or Path(tempfile.mkdtemp(prefix="pesaguard-bench-"))
    replay = prepare(home, a.accounts, a.days, a.live_days)
    rates = [int(r) for r in a.rates.split(",") if r]
    rows = bench_config(home, replay, "single", 1, a.backlog, rates, a.duration)
    for n in (int(x) for x in a.replicas.split(",") if x):
        rows += bench_config(home, replay, "cluster", n, a.backlog, rates, a.duration)
    apply_rows = bench_apply(home, replay, min(a.backlog, 3000))
    print("| configuration | load | decisions/s | p50 ms | p99 ms | CPU ms per decision (all processes + "
          "nats-server) | JetStream messages per decision | load average | start-up s |")
    print("|---|---|---:|---:|---:|---:|---:|---|---:|")
    for r in rows:
        p50 = f"{r['p50']:.1f}" if "p50" in r else "-"
        p99 = f"{r['p99']:.1f}" if "p99" in r else "-"
        print(f"| {r['config']} | {r['load']} | {r['per_s']:,.0f} | {p50} | {p99} | {r['cpu_ms']:.2f} | "
              f"{r['js_msgs']:.1f} | {r['loadavg']} | {r['startup_s']:.0f} |")
    print(f"\n| every replica, every message (load average {os.getloadavg()[0]:.1f}) | CPU µs per message |")
    print("|---|---:|")
    for r in apply_rows:
        print(f"| {r['what']} | {r['us']:.0f} |")


if __name__ == "__main__":
    main()
