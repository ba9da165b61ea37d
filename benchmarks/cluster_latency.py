"""Stream latency of one consumer run in this process, single (``pesaguard consume``) or as one
cluster replica (``--cluster``), on ``bench_service.py``'s prepared model and traffic: a backlog
first, then transactions at a Poisson rate; latency from a transaction's storage in the input
stream to its decision's storage in the decisions stream.

Run: ``python benchmarks/cluster_latency.py --home DIR --mode single|cluster [--rate 100] [--n 800]``
with DIR prepared by ``bench_service.py`` (copied first: the run writes decisions into it).
Needs ``nats-server``. Runs the consumer on uvloop, as ``pesaguard consume`` does.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_service import free_port  # sibling scripts
from bench_stream import TX, Bodies, Nats, _stored_times


async def run(home: Path, url: str, cluster: bool, bodies: Bodies, backlog: int, n: int, rate: float) -> None:
    import nats

    from pesaguard.config import Settings
    from pesaguard.stream.runner import consume

    ready: asyncio.Future[object] = asyncio.get_running_loop().create_future()
    task = asyncio.create_task(consume(Settings(home=home, nats_url=url), host="127.0.0.1", port=free_port(),
                                       on_ready=ready.set_result, cluster=cluster))
    consumer = await ready
    while not consumer.ready:  # type: ignore[attr-defined]
        await asyncio.sleep(0.1)
    nc = await nats.connect(url)
    js = nc.jetstream()

    async def decided(at_least: int) -> None:
        while (await js.stream_info("PESAGUARD_DECISIONS")).state.messages < at_least:
            await asyncio.sleep(0.05)

    for i in range(backlog):
        await nc.publish(TX, bodies.get("backlog", i))
    await nc.flush()
    await decided(backlog)
    rng = random.Random(7)
    for i in range(n):
        await nc.publish(TX, bodies.get("paced", backlog + i))
        await asyncio.sleep(rng.expovariate(rate))
    await nc.flush()
    await decided(backlog + n)
    consumer.stop()  # type: ignore[attr-defined]
    await task
    await nc.close()


def main() -> None:
    import uvloop

    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--home", type=Path, required=True)
    ap.add_argument("--mode", choices=["single", "cluster"], required=True)
    ap.add_argument("--backlog", type=int, default=3000)
    ap.add_argument("--n", type=int, default=800)
    ap.add_argument("--rate", type=float, default=100.0)
    a = ap.parse_args()
    home = Path(tempfile.mkdtemp(prefix="pesaguard-latency-")) / "home"
    shutil.copytree(a.home, home, ignore=shutil.ignore_patterns("journal"))
    bodies = Bodies(json.loads((a.home / "bench" / "live.json").read_text()), 0)
    server = Nats()
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(run(home, server.url, a.mode == "cluster", bodies, a.backlog, a.n, a.rate))
        ins = asyncio.run(_stored_times(server.url, "PESAGUARD_IN", TX))
        outs = asyncio.run(_stored_times(server.url, "PESAGUARD_DECISIONS", "pesaguard.decisions"))
    finally:
        server.close()
        shutil.rmtree(home.parent, ignore_errors=True)
    lat = np.array([1000 * (outs[k] - ins[k]) for k in outs if k.startswith("paced-")])
    p50, p90, p99, top = np.percentile(lat, [50, 90, 99, 100])
    print(f"{a.mode}: {len(lat)} at {a.rate:.0f}/s after a backlog of {a.backlog}: p50 {p50:.1f} ms, p90 {p90:.1f} ms, "
          f"p99 {p99:.1f} ms, max {top:.1f} ms ({time.strftime('%H:%M:%S')})")


if __name__ == "__main__":
    main()
