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

Then the work every replica repeats for every message, in this process, CPU per message: the state
machine's apply on the same traffic (the payload's validation, the request hash and the features;
and, for comparison, with the model's score as well, as a replica applied before the score moved
to the deciding replica), and the receive by the replica's ordered consumer (``bench_apply``). JetStream messages per decision: nats-server's ``in_msgs``
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


class _ScoreAtApply:
    """The scorer as a replica applied it before the model moved to the deciding replica: only
    ``score`` (features and model together) and ``add_label``, so the state machine scores at apply."""

    def __init__(self, scorer: Any) -> None:
        self.scorer, self.engine = scorer, scorer.engine

    def score(self, txn: dict[str, Any]) -> Any:
        return self.scorer.score(txn)

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        self.scorer.add_label(txn_id, is_fraud, known_at_ms)


def bench_apply(prepared: Path, replay: dict[str, Any], n: int, n_receive: int = 20_000,
                repeats: int = 3) -> list[dict[str, Any]]:
    """CPU per message of what each replica does for every message (apply it, receive it), the way
    it did before and does now, in this process, each the median of ``repeats`` passes:

    - apply with the model's score (``scorer.score``) against features only (the deciding replica
      then scores the kept features: a row of its own, paid once per decision, not per replica);
    - receive through the replica's ordered-consumer callback reading ``msg.metadata`` against
      reading the reply subject (:func:`pesaguard.cluster.consumer.ack_position`), and a batched
      receive (the callback's queue drained up to 512 messages at a time) for comparison.
    """
    import gc
    import statistics

    from pesaguard.cluster.consumer import ack_position
    from pesaguard.cluster.machine import StateMachine
    from pesaguard.config import Settings
    from pesaguard.decisions.loader import load_scorer

    bodies = Bodies(replay, 0)
    now_ms = int(time.time() * 1000)

    def apply_pass(eager: bool, k: int) -> tuple[float, float]:
        scorer = load_scorer(Settings(home=prepared))
        scorer.explain = "auto"  # as the decision service sets it
        machine = StateMachine(_ScoreAtApply(scorer) if eager else scorer)
        for i in range(200):  # compile and warm outside the timing
            machine.apply_transaction(i + 1, bodies.get(f"warm{k}", i), now_ms)
        msgs = [bodies.get(f"apply{k}", i) for i in range(n)]
        gc.collect()
        gc.freeze()  # as a replica does once loaded (pesaguard.stream.runner.build_decider)
        c0 = time.process_time()
        outs = [machine.apply_transaction(1000 + i, m, now_ms) for i, m in enumerate(msgs)]
        apply_us = (time.process_time() - c0) / n * 1e6
        c0 = time.process_time()
        for o in outs:
            machine.result(o)
        return apply_us, (time.process_time() - c0) / n * 1e6

    before, after, decide = [], [], []
    for k in range(repeats):
        before.append(apply_pass(True, k)[0])
        a, d = apply_pass(False, k)
        after.append(a)
        decide.append(d)

    async def receive(url: str, how: str) -> float:
        import nats

        nc = await nats.connect(url)
        js = nc.jetstream()
        done = asyncio.Event()
        box = {"c0": 0.0, "seen": 0}

        async def with_metadata(msg: Any) -> None:
            md = msg.metadata
            seq = md.sequence.stream
            _ = int(md.timestamp.timestamp() * 1000)
            if box["seen"] == 0:
                box["c0"] = time.process_time()
            box["seen"] += 1
            if seq >= n_receive:
                done.set()

        async def with_reply(msg: Any) -> None:
            seq, _ = ack_position(msg.reply)
            if box["seen"] == 0:
                box["c0"] = time.process_time()
            box["seen"] += 1
            if seq >= n_receive:
                done.set()

        if how == "batched":
            sub = await js.subscribe("", stream="PESAGUARD_IN", ordered_consumer=True, manual_ack=True,
                                     pending_msgs_limit=4 * n_receive)
            queue = sub._pending_queue  # no public batch read: the subscription's own queue
            seq = 0
            while seq < n_receive:
                batch = [await queue.get()]
                if box["seen"] == 0:
                    box["c0"] = time.process_time()
                while len(batch) < 512:
                    try:
                        batch.append(queue.get_nowait())
                    except asyncio.QueueEmpty:
                        break
                for msg in batch:
                    sub._pending_size -= len(msg.data)
                    seq, _ = ack_position(msg.reply)
                box["seen"] += len(batch)
        else:
            await js.subscribe("", stream="PESAGUARD_IN", ordered_consumer=True, manual_ack=True,
                               cb=with_metadata if how == "metadata" else with_reply,
                               pending_msgs_limit=4 * n_receive)
            await done.wait()
        spent = time.process_time() - box["c0"]
        await nc.close()
        return spent / (box["seen"] - 1) * 1e6

    import uvloop  # as `pesaguard consume` runs

    got: dict[str, list[float]] = {"metadata": [], "reply": [], "batched": []}
    nats_ = MonitoredNats()
    try:
        asyncio.run(_publish_backlog(nats_.url, bodies, "deliver", n_receive, 0))
        for _ in range(repeats):
            for how in got:
                got[how].append(uvloop.run(receive(nats_.url, how)))
    finally:
        nats_.close()
    med = statistics.median
    return [
        {"what": "apply: validate, hash, features and the model's score (the champion)", "us": med(before)},
        {"what": "apply: validate, hash, features (the model's score left to the deciding replica)",
         "us": med(after)},
        {"what": "the model's score of the kept features (deciding replica only, once per decision)",
         "us": med(decide)},
        {"what": "receive: ordered-consumer callback, stream sequence and time from `msg.metadata`",
         "us": med(got["metadata"])},
        {"what": "receive: ordered-consumer callback, stream sequence and time from the reply subject",
         "us": med(got["reply"])},
        {"what": "receive: the subscription's queue drained in batches of up to 512, from the reply subject",
         "us": med(got["batched"])},
    ]


def capacity(a_us: float, d_ms: float, rates: tuple[int, ...] = (1_000, 5_000, 12_000), busy: float = 0.7,
             spare: int = 1, least: int = 3) -> list[dict[str, Any]]:
    """docs/scaling.md's model: at R decisions/s over N replicas each replica's event loop carries
    R x (A + D / N) s of CPU per second and must stay under ``busy``: N >= R x D / (busy - R x A),
    none when R x A >= busy; ``spare`` more to survive a loss, never fewer than ``least``.

    >>> [r["run"] for r in capacity(99.0, 0.80)]
    [3, 21, None]
    """
    import math

    a, d = a_us / 1e6, d_ms / 1e3
    out = []
    for r in rates:
        state = r * a
        need = math.ceil(r * d / (busy - state)) if state < busy else None
        run = max(least, need + spare) if need is not None else None
        out.append({"rate": r, "state_cores": state, "need": need, "run": run,
                    "cores": r * (run * a + d) if run is not None else None, "writes": 3 * r,
                    "deliveries": r * run if run is not None else None})
    return out


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
    ap.add_argument("--receive", type=int, default=20_000, help="messages received per pass of the receive rows")
    ap.add_argument("--apply-only", action="store_true", help="only the per-message rows (apply and receive)")
    a = ap.parse_args()
    home = a.home or Path(tempfile.mkdtemp(prefix="pesaguard-bench-"))
    replay = prepare(home, a.accounts, a.days, a.live_days)
    rates = [int(r) for r in a.rates.split(",") if r]
    rows = [] if a.apply_only else bench_config(home, replay, "single", 1, a.backlog, rates, a.duration)
    for n in (int(x) for x in a.replicas.split(",") if x and not a.apply_only):
        rows += bench_config(home, replay, "cluster", n, a.backlog, rates, a.duration)
    apply_rows = bench_apply(home, replay, min(a.backlog, 3000), n_receive=a.receive)
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
    one = next((r for r in rows if r["config"] == "cluster, 1 replica" and r["load"].startswith("backlog")), None)
    if one is None:
        return
    a_us = apply_rows[1]["us"] + apply_rows[4]["us"]  # apply without the model, receive from the reply subject
    d_ms = one["cpu_ms"] - a_us / 1000
    print(f"\nCapacity model: A = {a_us:.0f} µs (every replica, every message), D = {d_ms:.2f} ms (the deciding "
          f"replica, the rest of one replica's {one['cpu_ms']:.2f} ms per decision); ceiling 0.7 / A = "
          f"{0.7 / (a_us / 1e6):,.0f}/s\n")
    print("| decisions/s | replicas for the rate | replicas to run (one lost) | cluster CPU (cores) | "
          "JetStream stored writes/s | deliveries to replicas/s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for c in capacity(a_us, d_ms):
        if c["run"] is None:
            print(f"| {c['rate']:,} | none: the state work alone is {c['state_cores']:.2f} core per replica | - | - | "
                  f"{c['writes']:,} | - |")
        else:
            print(f"| {c['rate']:,} | {c['need']} | {c['run']} | {c['cores']:.1f} | {c['writes']:,} | "
                  f"{c['deliveries']:,} |")


if __name__ == "__main__":
    main()
