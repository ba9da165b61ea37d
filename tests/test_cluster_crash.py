"""``kill -9`` one of three cluster replicas under load: the other two keep deciding (the dead one's
unacknowledged messages come to them after the ack wait), no published decision is lost or
changed, none is made twice, and the replica that comes back rebuilds the same feature state from
a state snapshot and the stream after it: every decision, before and after, equals the
single-process replay."""

from __future__ import annotations

import asyncio
import threading
import time
from pathlib import Path

import orjson
import pytest

from cluster_support import TX, Replica, check_against_replay, publish_interleaved, random_stream
from stream_support import NatsServer, nats_server, read_all, wait_drained

__all__ = ["nats_server"]


def published(url: str) -> dict[str, dict[str, object]]:
    return {b["txn_id"]: b for b in (orjson.loads(m.data) for m in asyncio.run(read_all(url, "PESAGUARD_DECISIONS")))}


def count(url: str) -> int:
    async def go() -> int:
        import nats

        nc = await nats.connect(url)
        n = (await nc.jetstream().stream_info("PESAGUARD_DECISIONS")).state.messages
        await nc.close()
        return int(n)

    return asyncio.run(go())


def wait_count(url: str, at_least: int, timeout: float = 60) -> int:
    deadline = time.monotonic() + timeout
    while (n := count(url)) < at_least:
        assert time.monotonic() < deadline, f"only {n} decisions published"
        time.sleep(0.05)
    return n


@pytest.mark.slow
def test_kill_9_one_replica_under_load(nats_server: NatsServer, tmp_path: Path) -> None:
    url = nats_server.url
    stream = random_stream(seed=11, n=1000)
    later = random_stream(seed=12, n=150)  # after the replica's return: decided with its rebuilt state
    replicas = [Replica(tmp_path, f"r{i}", url, ack_wait=2.0, snapshot_every=250).start() for i in range(3)]
    try:
        for r in replicas:
            r.wait_ready()
        # published while the replicas decide, so that the kill lands mid-stream on any machine
        publisher = threading.Thread(target=asyncio.run, args=(publish_interleaved(url, stream, 2, 11),))
        publisher.start()
        wait_count(url, 250)
        victim = replicas[0]
        victim.kill()  # mid-stream: it holds fetched, unacknowledged messages
        before = published(url)
        assert len(before) < 1000, "the stream was finished before the kill"
        wait_count(url, len(before) + 150)  # the two others keep deciding
        publisher.join(60)

        victim.start().wait_ready()  # restores a snapshot, replays the stream after it, then is ready
        restored = victim.metric("pesaguard_cluster_restored_seq")
        asyncio.run(wait_drained(url, timeout=120))
        decided_before = victim.metric("pesaguard_stream_messages_total", kind="transaction", outcome="decided")
        asyncio.run(publish_interleaved(url, later, publishers=2, seed=12))
        asyncio.run(wait_drained(url, timeout=60))
        decided_after = victim.metric("pesaguard_stream_messages_total", kind="transaction", outcome="decided")
        redelivered = sum(r.metric("pesaguard_stream_redeliveries_total") for r in replicas[1:])
    finally:
        codes = [r.stop() for r in replicas]
    assert codes == [0, 0, 0]
    assert redelivered > 0  # the victim's messages in hand came to the others
    assert decided_after > decided_before  # the returned replica decides again
    assert restored >= 250 and restored % 250 == 0  # from a snapshot, not from the stream's start

    expected, _ = check_against_replay(url)  # every decision, before, during and after: one, and right
    assert len(expected) == len({orjson.loads(d)["txn_id"] for s, d in stream + later if s == TX})
    final = published(url)
    for txn_id, body in before.items():  # published before the kill: still there, unchanged
        assert final[txn_id] == body
