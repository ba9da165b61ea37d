"""Three ``pesaguard consume --cluster`` processes on one real nats-server: every decision's features
equal a single process's replay of the stream as the server ordered it, whichever replica made it;
one decision per transaction; a repeated transaction answered by another replica gets the original
decision back; a ``txn_id`` reused with another payload is dead-lettered."""

from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest

from cluster_support import LB, TX, random_stream, replay, same_features
from pesaguard.cluster.claims import KvClaims
from pesaguard.store import Store
from stream_support import NatsServer, free_port, nats_server, read_all, wait_drained

__all__ = ["nats_server"]
TESTS = Path(__file__).resolve().parent
REPLICA = """
import asyncio, sys
sys.path.insert(0, {tests!r})
from cluster_support import EngineScorer
from pesaguard.config import Settings
from pesaguard.stream import Tuning
from pesaguard.stream.runner import consume
asyncio.run(consume(Settings(home={home!r}, nats_url={url!r}), host="127.0.0.1", port={port},
                    scorer=EngineScorer(), tuning=Tuning(ack_wait_s={ack_wait}, max_in_flight=64, batch=16),
                    cluster=True))
"""


class Replica:
    """One replica process, its home (its own SQLite store and journal) and its metrics port."""

    def __init__(self, root: Path, name: str, url: str, ack_wait: float = 5.0) -> None:
        self.home, self.port, self.url, self.ack_wait = root / name, free_port(), url, ack_wait
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Replica:
        code = REPLICA.format(tests=str(TESTS), home=str(self.home), url=self.url, port=self.port,
                              ack_wait=self.ack_wait)
        self.proc = subprocess.Popen([sys.executable, "-c", code], start_new_session=True)
        return self

    def wait_ready(self, timeout: float = 90) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, "a replica exited at start-up"
            try:
                if httpx.get(f"http://127.0.0.1:{self.port}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError("a replica did not become ready")

    def metric(self, name: str, **labels: str) -> float:
        want = "{" + ",".join(f'{k}="{v}"' for k, v in labels.items()) + "}" if labels else ""
        text = httpx.get(f"http://127.0.0.1:{self.port}/metrics", timeout=5).text
        return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines() if line.startswith(name + want + " "))

    def kill(self) -> None:
        assert self.proc is not None
        os.killpg(self.proc.pid, signal.SIGKILL)  # the replica and its journal ingester
        self.proc.wait(10)

    def stop(self) -> int:
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
        return self.proc.wait(60)

    def stored(self) -> dict[str, tuple[Any, ...]]:
        store = Store(f"sqlite:///{self.home / 'pesaguard.db'}")
        try:
            rows = store.query("SELECT txn_id, decision_id, action, score, created_ms FROM decisions")
            return {r[0]: tuple(r[1:]) for r in rows}
        finally:
            store.close()


async def publish_interleaved(url: str, messages: list[tuple[str, bytes]], publishers: int, seed: int) -> None:
    """``messages`` split among ``publishers`` concurrent connections in random chunks: the stream's
    order is whatever the server made of them (each publisher's own order is kept)."""
    import nats

    rng = random.Random(seed)
    lanes: list[list[tuple[str, bytes]]] = [[] for _ in range(publishers)]
    i = 0
    while i < len(messages):
        n = rng.randint(1, 40)
        lanes[rng.randrange(publishers)].extend(messages[i:i + n])
        i += n

    async def lane(msgs: list[tuple[str, bytes]]) -> None:
        nc = await nats.connect(url)
        js = nc.jetstream()
        for k, (subject, data) in enumerate(msgs):
            await js.publish(subject, data)
            if k % 25 == 0:
                await asyncio.sleep(rng.random() / 200)
        await nc.close()

    await asyncio.gather(*(lane(m) for m in lanes))


def log_order(url: str) -> list[tuple[str, bytes]]:
    return [(m.subject, m.data) for m in asyncio.run(read_all(url, "PESAGUARD_IN"))]


async def claimed(url: str, txn_ids: list[str]) -> dict[str, dict[str, Any]]:
    import nats

    nc = await nats.connect(url)
    claims = await KvClaims.open(nc.jetstream())
    out = {}
    for t in txn_ids:
        row = await claims.get(t)
        if row is not None:
            out[t] = row
    await nc.close()
    return out


def check_against_replay(url: str) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, Any]]]:
    """Every transaction of the log claimed once, with the features of the single-process replay."""
    expected = replay(log_order(url))
    rows = asyncio.run(claimed(url, list(expected)))
    assert rows.keys() == expected.keys()
    wrong = [t for t in expected if not same_features(rows[t]["features"], expected[t])]
    assert not wrong, f"{len(wrong)} decisions differ from the single-process replay, first {wrong[0]}"
    published = [orjson.loads(m.data) for m in asyncio.run(read_all(url, "PESAGUARD_DECISIONS"))]
    assert sorted(b["txn_id"] for b in published) == sorted(expected)  # one published decision each
    assert all(b["decision_id"] == rows[b["txn_id"]]["decision_id"] and b["score"] == rows[b["txn_id"]]["score"]
               for b in published)
    return expected, rows


@pytest.mark.slow
def test_three_replicas_agree_with_the_single_process_replay(nats_server: NatsServer, tmp_path: Path) -> None:
    url = nats_server.url
    stream = random_stream(seed=7, n=1500)
    first = orjson.loads(stream[0][1])
    conflict = {**first, "txn_id": "CONFLICT-1"}
    stream += [(TX, orjson.dumps(conflict)), (TX, orjson.dumps({**conflict, "amount_minor": 1}))]
    replicas = [Replica(tmp_path, f"r{i}", url).start() for i in range(3)]
    try:
        for r in replicas:
            r.wait_ready()
        asyncio.run(publish_interleaved(url, stream, publishers=3, seed=7))
        asyncio.run(wait_drained(url, timeout=120))
        decided = [r.metric("pesaguard_stream_messages_total", kind="transaction", outcome="decided")
                   for r in replicas]
        dead = sum(r.metric("pesaguard_stream_dead_letters_total", reason="conflict") for r in replicas)
    finally:
        codes = [r.stop() for r in replicas]
    assert codes == [0, 0, 0]  # clean stops
    assert sum(1 for d in decided if d > 0) >= 2, decided  # the work was shared

    expected, rows = check_against_replay(url)
    n_tx = sum(1 for s, _ in stream if s == TX)
    assert sum(decided) == n_tx - 1  # repeats answered too; the conflicting payload was not
    assert dead == 1
    dlq = asyncio.run(read_all(url, "PESAGUARD_DLQ"))
    assert [m.headers["Pesaguard-Reason"] for m in dlq] == ["conflict"]
    second = [d for s, d in log_order(url) if d.startswith(b'{"txn_id":"CONFLICT-1"')][1]
    assert dlq[0].data == second  # the later of the two payloads, unchanged
    assert sum(1 for s, _ in stream if s == LB) > 100

    # cross-replica idempotency: a repeat answered by another replica stored the original decision,
    # creation time included (it was read back, not made again)
    stores = [r.stored() for r in replicas]
    twice = [t for t in expected if sum(t in s for s in stores) > 1]
    assert twice, "no repeated transaction reached a second replica"
    for t in twice:
        versions = {s[t] for s in stores if t in s}
        assert versions == {(rows[t]["decision_id"], rows[t]["action"], rows[t]["score"], rows[t]["created_ms"])}
