"""Test support for the cluster suites: a scorer on the real streaming feature engine (the numba
kernel and its arenas, the state the replicas must agree on), a random stream of transactions,
repeats and labels, and the single-process replay the replicas are held to."""

from __future__ import annotations

import asyncio
import math
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

from pesaguard.cluster.claims import KvClaims
from pesaguard.features.config import FeatureConfig
from pesaguard.features.engine import FeatureEngine
from pesaguard.store import Store
from service_support import DAY_MS, Result
from stream_support import free_port, read_all

TX, LB = "pesaguard.transactions", "pesaguard.labels"
#: the default feature set: payer, payee, pair, label and calendar state
CONFIG = FeatureConfig()


class EngineScorer:
    """The real :class:`FeatureEngine` with a fixed logistic of two features as the model."""

    model_version = "engine-test"

    def __init__(self) -> None:
        self.engine = FeatureEngine(CONFIG)

    def score(self, txn: dict[str, Any]) -> Result:
        return self.score_features(self.engine.score_and_update(txn))

    def score_features(self, feats: dict[str, float]) -> Result:
        """The model alone (the replicas apply without it and score where they decide)."""
        z = sum(v for v in feats.values() if not math.isnan(v)) % 7.0 - 5.0
        return Result(1.0 / (1.0 + math.exp(-z)), [], self.model_version, feats)

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        self.engine.add_label(txn_id, is_fraud, known_at_ms)


def random_stream(seed: int, n: int, accounts: int = 12, label_share: float = 0.15,
                  repeat_share: float = 0.05) -> list[tuple[str, bytes]]:
    """``n`` transactions among a few accounts (so payer, payee and pair state is shared and busy),
    in a random order of event times, with labels for earlier transactions and repeats of earlier
    transactions interleaved at random."""
    rng = random.Random(seed)
    out: list[tuple[str, bytes]] = []
    sent: list[dict[str, Any]] = []
    t = DAY_MS
    for i in range(n):
        t += rng.randint(0, 600_000)
        ts = t - rng.randint(0, 300_000)  # a little out of order, as a switch's stream is
        a, b = rng.sample(range(accounts), 2)
        tx = {"txn_id": f"S{seed}-{i:05d}", "ts_ms": ts, "payer": f"A{a}", "payee": f"A{b}",
              "amount_minor": rng.choice([500, 5_000, 50_000, 250_000]) + rng.randint(0, 99), "currency": "KES"}
        out.append((TX, orjson.dumps(tx)))
        sent.append(tx)
        if rng.random() < label_share:
            old = rng.choice(sent)
            out.append((LB, orjson.dumps({"txn_id": old["txn_id"], "is_fraud": rng.random() < 0.5,
                                          "known_at_ms": t + rng.randint(0, 60_000), "source": "test"})))
        if rng.random() < repeat_share:
            out.append((TX, orjson.dumps(rng.choice(sent))))
    return out


def replay(messages: list[tuple[str, bytes]]) -> dict[str, dict[str, float]]:
    """Features of each transaction as one process applying ``messages`` in order computes them
    (the first occurrence of each ``txn_id``; labels applied once each)."""
    scorer = EngineScorer()
    feats: dict[str, dict[str, float]] = {}
    labels: set[tuple[str, bool, int, str]] = set()
    for subject, data in messages:
        body = orjson.loads(data)
        if subject == LB:
            key = (body["txn_id"], body["is_fraud"], body["known_at_ms"], body.get("source", "unknown"))
            if key not in labels:
                labels.add(key)
                scorer.add_label(body["txn_id"], body["is_fraud"], body["known_at_ms"])
        elif body["txn_id"] not in feats:
            feats[body["txn_id"]] = scorer.score(body).features
    return feats


def same_features(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal key sets and values, NaN equal to NaN (a missing feature)."""
    if a.keys() != b.keys():
        return False
    return all((math.isnan(x) and math.isnan(b[k])) if isinstance(x, float) and math.isnan(x) else x == b[k]
               for k, x in a.items())


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
                    cluster=True, snapshot_every={snapshot_every}))
"""


class Replica:
    """One replica process, its home (its own SQLite store and journal) and its metrics port."""

    def __init__(self, root: Path, name: str, url: str, ack_wait: float = 5.0, snapshot_every: int = 0) -> None:
        self.home, self.port, self.url, self.ack_wait = root / name, free_port(), url, ack_wait
        self.snapshot_every = snapshot_every
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> Replica:
        code = REPLICA.format(tests=str(TESTS), home=str(self.home), url=self.url, port=self.port,
                              ack_wait=self.ack_wait, snapshot_every=self.snapshot_every)
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
    if wrong:
        first = wrong[0]
        diff = {k: (rows[first]["features"][k], v) for k, v in expected[first].items()
                if not same_features({k: rows[first]["features"][k]}, {k: v})}
        raise AssertionError(f"{len(wrong)} decisions differ from the single-process replay, first {first}: "
                             f"(replica, replay) {diff}")
    published = [orjson.loads(m.data) for m in asyncio.run(read_all(url, "PESAGUARD_DECISIONS"))]
    assert sorted(b["txn_id"] for b in published) == sorted(expected)  # one published decision each
    assert all(b["decision_id"] == rows[b["txn_id"]]["decision_id"] and b["score"] == rows[b["txn_id"]]["score"]
               for b in published)
    return expected, rows
