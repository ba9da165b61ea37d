"""At-least-once across a crash: ``kill -9`` the consumer (and its journal ingester) in the middle of
a stream, start it again, and check that every transaction has exactly one stored decision, that
each decision reached the decisions stream exactly once although some were published again after
redelivery, and that a SIGTERM then stops it cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import orjson
import pytest

from pesaguard.store import Store
from service_support import txn
from stream_support import NatsServer, free_port, nats_server, publish_all, read_all, wait_drained

__all__ = ["nats_server"]
TESTS = Path(__file__).resolve().parent
CONSUMER = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from service_support import TinyScorer
from pesaguard.config import Settings
from pesaguard.stream import Tuning
from pesaguard.stream.runner import consume
asyncio.run(consume(Settings(home={home!r}, nats_url={url!r}), host="127.0.0.1", port={port},
                    scorer=TinyScorer(), tuning=Tuning(ack_wait_s=2.0)))
"""


def _start(home: Path, url: str, port: int) -> subprocess.Popen[bytes]:
    code = CONSUMER.format(tests=str(TESTS), home=str(home), url=url, port=port)
    proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert proc.poll() is None, "the consumer exited at start-up"
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the consumer did not become ready")


async def _published(url: str) -> int:
    import nats

    nc = await nats.connect(url)
    n = (await nc.jetstream().stream_info("PESAGUARD_DECISIONS")).state.messages
    await nc.close()
    return int(n)


@pytest.mark.slow
def test_kill_9_mid_stream_then_restart_decides_each_transaction_once(nats_server: NatsServer,
                                                                      tmp_path: Path) -> None:
    home, port = tmp_path / "home", free_port()
    stream = [txn(f"K{i:05d}", payer=f"C{i % 13}") for i in range(4000)]
    proc = _start(home, nats_server.url, port)
    asyncio.run(publish_all(nats_server.url, [("pesaguard.transactions", orjson.dumps(t)) for t in stream],
                            confirm=False))
    deadline = time.monotonic() + 60
    while asyncio.run(_published(nats_server.url)) < 600:
        assert time.monotonic() < deadline, "the consumer did not get going"
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)  # the consumer and its ingester: no shutdown, nothing flushed
    proc.wait(10)
    assert asyncio.run(_published(nats_server.url)) < len(stream), "the stream was finished before the kill"

    proc = _start(home, nats_server.url, port)  # recovers the dead run's journal before it is ready
    try:
        asyncio.run(wait_drained(nats_server.url, timeout=90))
        metrics = httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=5).text
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        assert proc.wait(60) == 0  # a clean stop
    redelivered = next(float(line.split()[-1]) for line in metrics.splitlines()
                       if line.startswith("pesaguard_stream_redeliveries_total "))
    assert redelivered > 0  # messages in flight at the kill came again

    store = Store(f"sqlite:///{home / 'pesaguard.db'}")
    stored = dict(store.query("SELECT txn_id, decision_id FROM decisions"))
    assert store.scalar("SELECT COUNT(*) FROM decisions") == len(stored) == len(stream)
    store.close()
    published = asyncio.run(read_all(nats_server.url, "PESAGUARD_DECISIONS"))
    bodies = [orjson.loads(m.data) for m in published]
    assert len(bodies) == len(stream)  # re-published decisions were dropped as duplicates
    assert {b["txn_id"]: b["decision_id"] for b in bodies} == stored
