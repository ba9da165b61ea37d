"""The stream consumer against a real ``nats-server -js``: every transaction decided once and in
order, decisions published once, labels applied where the stream put them, bad messages
dead-lettered with their reason without blocking the stream, transient failures retried and then
given up, metrics on ``/metrics``, a clean stop that leaves nothing unacknowledged."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pandas as pd
import pytest
from prometheus_client import CollectorRegistry

from pesaguard.config import Settings
from pesaguard.errors import ConfigError, StoreError
from pesaguard.store import Store, core, open_store
from pesaguard.stream import StreamConsumer, Tuning
from pesaguard.stream.metrics import StreamMetrics
from pesaguard.stream.runner import consume
from service_support import TinyScorer, txn
from stream_support import (
    NatsServer,
    consumer_state,
    free_port,
    nats_server,
    publish_all,
    read_all,
    wait_drained,
)

__all__ = ["nats_server"]  # the fixture, imported for pytest

TX, LB = "pesaguard.transactions", "pesaguard.labels"


class RecordingScorer(TinyScorer):
    """Records the order in which it scores transactions and hears of labels; optionally fails."""

    def __init__(self, fail: dict[str, int] | None = None) -> None:
        super().__init__()
        self.events: list[tuple[str, str]] = []
        self.fail = dict(fail or {})  # txn_id -> how many more calls fail (a large number: always)

    def score(self, txn: dict[str, Any]) -> Any:
        if self.fail.get(txn["txn_id"], 0) > 0:
            self.fail[txn["txn_id"]] -= 1
            raise StoreError("the store is unavailable (injected)")
        self.events.append(("txn", txn["txn_id"]))
        return super().score(txn)

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        self.events.append(("label", txn_id))
        super().add_label(txn_id, is_fraud, known_at_ms)


def _session(home: Path, url: str, scorer: Any, work: Callable[[StreamConsumer, int], Awaitable[Any]],
             tuning: Tuning | None = None) -> Any:
    """Run the consumer (the runner's ``consume``, as ``pesaguard consume`` does) around ``work``."""
    settings = Settings(home=home, nats_url=url)
    port = free_port()

    async def main() -> Any:
        ready: asyncio.Future[StreamConsumer] = asyncio.get_running_loop().create_future()
        task = asyncio.create_task(consume(settings, host="127.0.0.1", port=port, scorer=scorer, tuning=tuning,
                                           on_ready=ready.set_result))
        done, _ = await asyncio.wait({task, ready}, timeout=60, return_when=asyncio.FIRST_COMPLETED)
        if task in done:
            task.result()
        consumer = ready.result()
        try:
            result = await work(consumer, port)
            # the journal's copier process has started and caught up: a stop within its start-up
            # (seconds on a loaded machine) leaves the journal to the next start's recovery instead
            assert consumer.decider is not None and await consumer.decider.writer.sync(30)
            return result
        finally:
            consumer.stop()
            await asyncio.wait_for(task, 60)

    return asyncio.run(main())


def _stored(home: Path) -> dict[str, dict[str, Any]]:
    store = Store(f"sqlite:///{home / 'pesaguard.db'}")
    try:
        rows = store.query("SELECT txn_id, decision_id, action, score FROM decisions")
        return {r[0]: {"decision_id": r[1], "action": r[2], "score": r[3]} for r in rows}
    finally:
        store.close()


def _metric(text: str, name: str, **labels: str) -> float:
    want = ",".join(f'{k}="{v}"' for k, v in sorted(labels.items()))
    for line in text.splitlines():
        if line.startswith("#"):
            continue
        key, _, value = line.rpartition(" ")
        metric, _, rest = key.partition("{")
        if metric == name and ",".join(sorted(rest.rstrip("}").split(","))) == want:
            return float(value)
    raise AssertionError(f"{name}{{{want}}} not in /metrics")


def test_each_transaction_is_decided_once_in_order_and_published_once(nats_server: NatsServer,
                                                                       tmp_path: Path) -> None:
    stream = [txn(f"T{i:04d}", payer=f"C{i % 7}", amount=1_000 + i) for i in range(300)]
    # an upstream retry: the same payloads published again, later in the stream
    retries = [stream[i] for i in range(0, 300, 15)]
    scorer = RecordingScorer()

    async def work(consumer: StreamConsumer, port: int) -> str:
        await publish_all(nats_server.url, [(TX, orjson.dumps(t)) for t in stream + retries])
        await wait_drained(nats_server.url)
        assert consumer.ready
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            assert (await http.get("/healthz")).json() == {"status": "ok"}
            ready = await http.get("/readyz")
            assert ready.status_code == 200 and ready.json()["checks"] == {"nats": "ok", "journal": "ok"}
            await asyncio.sleep(2.2)  # one refresh of the lag gauges from the server
            return (await http.get("/metrics")).text

    metrics = _session(tmp_path / "home", nats_server.url, scorer, work)

    # scored once each, in stream order: the retries were answered from the decision log
    assert scorer.events == [("txn", t["txn_id"]) for t in stream]
    counts: dict[str, int] = {}
    for t in stream:  # the live per-payer count saw each transaction exactly once
        assert scorer.features(t)["payer_txn_count"] == scorer.counts[t["payer"]]
        counts[t["payer"]] = counts.get(t["payer"], 0) + 1
    assert dict(scorer.counts) == counts

    stored = _stored(tmp_path / "home")  # the clean stop let the journal reach the store
    assert set(stored) == {t["txn_id"] for t in stream}
    published = asyncio.run(read_all(nats_server.url, "PESAGUARD_DECISIONS"))
    assert len(published) == len(stream)  # the retries' decisions were dropped as duplicates (Nats-Msg-Id)
    for msg in published:
        body = orjson.loads(msg.data)
        assert msg.headers["Nats-Msg-Id"] == body["decision_id"] == stored[body["txn_id"]]["decision_id"]
        assert body["action"] == stored[body["txn_id"]]["action"]
        assert set(body) == {"decision_id", "txn_id", "action", "score", "reasons", "rule_hits", "model_version",
                             "policy_version"}
    assert _metric(metrics, "pesaguard_stream_messages_total", kind="transaction", outcome="decided") == 320
    assert _metric(metrics, "pesaguard_stream_consumer_lag") == 0
    assert _metric(metrics, "pesaguard_stream_ack_pending") == 0
    assert _metric(metrics, "pesaguard_stream_redeliveries_total") == 0
    assert _metric(metrics, "pesaguard_stream_end_to_end_seconds_count") == 320
    assert _metric(metrics, "pesaguard_decisions_total", action="allow") > 0  # the decision service's own


def test_bad_messages_go_to_the_dead_letter_subject_and_never_block(nats_server: NatsServer, tmp_path: Path) -> None:
    t1, t2, t3 = txn("G1", amount=700), txn("G2"), txn("G3", night=True, amount=9_000_000)
    label = {"txn_id": "G1", "is_fraud": True, "known_at_ms": t1["ts_ms"] + 60_000, "source": "analyst"}
    bad = [
        (TX, b"{not json", "malformed_json", None),
        (TX, orjson.dumps({"txn_id": "G9", "payer": "C1"}), "invalid_transaction", "ts_ms"),
        (TX, orjson.dumps({**t2, "amount_minor": -5}), "invalid_transaction", "amount_minor"),
        (TX, orjson.dumps({**t1, "amount_minor": 701}), "conflict", "txn_id"),  # G1 again, another payload
        (LB, orjson.dumps({"txn_id": "G1", "is_fraud": "perhaps", "known_at_ms": 1}), "invalid_label", "is_fraud"),
    ]
    messages = [(TX, orjson.dumps(t1)), bad[0][:2], bad[1][:2], (TX, orjson.dumps(t2)), bad[2][:2], bad[3][:2],
                (LB, orjson.dumps(label)), bad[4][:2], (LB, orjson.dumps(label)), (TX, orjson.dumps(t3))]
    scorer = RecordingScorer()

    async def work(consumer: StreamConsumer, port: int) -> str:
        await publish_all(nats_server.url, messages)
        await wait_drained(nats_server.url)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            return (await http.get("/metrics")).text

    metrics = _session(tmp_path / "home", nats_server.url, scorer, work)
    # the label reached the feature state once, between G2 and G3 as in the stream
    assert scorer.events == [("txn", "G1"), ("txn", "G2"), ("label", "G1"), ("txn", "G3")]
    assert set(_stored(tmp_path / "home")) == {"G1", "G2", "G3"}
    store = Store(f"sqlite:///{tmp_path / 'home' / 'pesaguard.db'}")
    assert store.query("SELECT txn_id, is_fraud, known_at_ms FROM labels") == [("G1", 1, label["known_at_ms"])]
    store.close()

    dead = asyncio.run(read_all(nats_server.url, "PESAGUARD_DLQ"))
    assert [(m.subject, m.data, m.headers["Pesaguard-Reason"], m.headers.get("Pesaguard-Field")) for m in dead] == [
        ("pesaguard.deadletter", data, reason, field) for _, data, reason, field in bad]
    for m, (subject, *_) in zip(dead, bad, strict=True):
        assert m.headers["Pesaguard-Subject"] == subject and m.headers["Pesaguard-Deliveries"] == "1"
        assert m.headers["Pesaguard-Error"] and int(m.headers["Pesaguard-Stream-Seq"]) > 0
    assert "different payload" in dead[3].headers["Pesaguard-Error"]
    assert _metric(metrics, "pesaguard_stream_dead_letters_total", reason="invalid_transaction") == 2
    assert _metric(metrics, "pesaguard_stream_dead_letters_total", reason="conflict") == 1
    assert _metric(metrics, "pesaguard_stream_messages_total", kind="label", outcome="stored") == 2


def test_a_label_the_api_already_stored_still_reaches_the_consumers_feature_state_once(
        nats_server: NatsServer, tmp_path: Path) -> None:
    """The API stores a label, then publishes it (pesaguard.stream.labels); a consumer sharing its
    store finds the row there already and must count the label in its own state all the same, once
    however often the stream carries it."""
    t1, t2 = txn("L1", amount=700), txn("L2")
    label = {"txn_id": "L1", "is_fraud": True, "known_at_ms": t1["ts_ms"] + 60_000, "source": "analyst"}
    home = tmp_path / "home"
    home.mkdir()
    with open_store(Settings(home=home)) as store:
        core.insert_labels(store, pd.DataFrame([label]))  # as the API recorded it
    scorer = RecordingScorer()

    async def work(consumer: StreamConsumer, port: int) -> None:
        await publish_all(nats_server.url, [(TX, orjson.dumps(t1)), (LB, orjson.dumps(label)),
                                            (LB, orjson.dumps(label)), (TX, orjson.dumps(t2))])
        await wait_drained(nats_server.url)

    _session(home, nats_server.url, scorer, work)
    assert scorer.events == [("txn", "L1"), ("label", "L1"), ("txn", "L2")]


def test_transient_failures_are_retried_then_dead_lettered(nats_server: NatsServer, tmp_path: Path) -> None:
    flaky, broken, fine = txn("F1"), txn("F2"), txn("F3")
    scorer = RecordingScorer(fail={"F1": 2, "F2": 10**6})
    tuning = Tuning(max_deliveries=3, retry_delay_s=0.05)

    async def work(consumer: StreamConsumer, port: int) -> str:
        await publish_all(nats_server.url, [(TX, orjson.dumps(t)) for t in (flaky, broken, fine)])
        await wait_drained(nats_server.url)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as http:
            return (await http.get("/metrics")).text

    metrics = _session(tmp_path / "home", nats_server.url, scorer, work, tuning)
    assert set(_stored(tmp_path / "home")) == {"F1", "F3"}  # F1 on its third delivery
    assert scorer.events.count(("txn", "F1")) == 1
    dead = asyncio.run(read_all(nats_server.url, "PESAGUARD_DLQ"))
    assert len(dead) == 1 and orjson.loads(dead[0].data)["txn_id"] == "F2"
    assert dead[0].headers["Pesaguard-Reason"] == "gave_up" and dead[0].headers["Pesaguard-Deliveries"] == "3"
    assert "store is unavailable" in dead[0].headers["Pesaguard-Error"]
    assert _metric(metrics, "pesaguard_stream_redeliveries_total") == 4  # F1 twice, F2 twice
    assert _metric(metrics, "pesaguard_stream_messages_total", kind="transaction", outcome="retry") == 4


def test_a_stop_under_load_acknowledges_what_it_decided_and_a_restart_decides_the_rest_once(
        nats_server: NatsServer, tmp_path: Path) -> None:
    stream = [txn(f"S{i:05d}", payer=f"C{i % 11}") for i in range(3000)]

    async def stop_early(consumer: StreamConsumer, port: int) -> None:
        await publish_all(nats_server.url, [(TX, orjson.dumps(t)) for t in stream], confirm=False)
        while len(first.events) < 300:
            await asyncio.sleep(0.002)
        assert consumer.decider is not None
        # the journal's copier is up and copying (a stop in its first second leaves the journal to the
        # next start's recovery instead, which the restart below covers); then stop with messages in flight
        assert await consumer.decider.writer.sync()

    first = RecordingScorer()
    _session(tmp_path / "home", nats_server.url, first, stop_early)
    pending, unacked = asyncio.run(consumer_state(nats_server.url))
    assert unacked == 0  # everything delivered before the stop was decided and acknowledged
    decided = len(first.events)
    assert 0 < decided < len(stream) and pending == len(stream) - decided
    assert len(_stored(tmp_path / "home")) == decided

    second = RecordingScorer()

    async def finish(consumer: StreamConsumer, port: int) -> None:
        await wait_drained(nats_server.url)

    _session(tmp_path / "home", nats_server.url, second, finish)
    assert [e[1] for e in first.events + second.events] == [t["txn_id"] for t in stream]
    assert len(_stored(tmp_path / "home")) == len(stream)
    assert len(asyncio.run(read_all(nats_server.url, "PESAGUARD_DECISIONS"))) == len(stream)


def _connect_error(url: str) -> ConfigError:
    consumer = StreamConsumer(StreamMetrics(CollectorRegistry()))
    with pytest.raises(ConfigError) as err:
        asyncio.run(consumer.connect(url))
    return err.value


def test_an_unreachable_nats_is_a_config_error_naming_the_setting_without_the_password() -> None:
    port = free_port()
    err = _connect_error(f"nats://app:s3cret@127.0.0.1:{port}")
    assert err.setting == "PESAGUARD_NATS_URL" and err.exit_code == 78
    assert f"nats://127.0.0.1:{port}" in err.message and "s3cret" not in str(err)


def test_a_nats_without_jetstream_is_a_config_error_saying_how_to_enable_it(tmp_path: Path) -> None:
    server = NatsServer(tmp_path / "js")
    proc = subprocess.Popen([server.exe, "-a", "127.0.0.1", "-p", str(server.port)], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while socket.socket().connect_ex(("127.0.0.1", server.port)) != 0:
            assert time.monotonic() < deadline, "nats-server did not start"
            time.sleep(0.02)
        err = _connect_error(server.url)
    finally:
        proc.terminate()
        proc.wait(10)
    assert "JetStream" in err.message and "nats-server -js" in str(err.hint)
