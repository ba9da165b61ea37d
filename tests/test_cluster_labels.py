"""Labels posted to the API reach the stream consumer replicas: an API given a NATS server
(``PESAGUARD_NATS_URL``) publishes each label it records to the input stream, once however often
it is sent, and the replicas' label-based features then equal a single process's replay of the
stream, label included. Real nats-server, real replica processes, the API in process."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import pytest
from fastapi.testclient import TestClient

from cluster_support import (
    LB,
    TX,
    EngineScorer,
    Replica,
    check_against_replay,
    log_order,
    random_stream,
    replay,
    same_features,
)
from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from pesaguard.store import core
from stream_support import NatsServer, nats_server, publish_all, wait_drained

__all__ = ["nats_server"]


def iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).isoformat()


@pytest.mark.slow
def test_a_label_posted_over_http_changes_the_replicas_features_as_the_replay_does(
        nats_server: NatsServer, tmp_path: Path) -> None:
    url = nats_server.url
    # transactions only: every label in the stream is the API's
    messages = random_stream(seed=21, n=240, accounts=6, label_share=0.0, repeat_share=0.0)
    # the later ones two days on: a label counts once its transaction is a day old (min_label_delay)
    first = messages[:120]
    later = [(s, orjson.dumps({**orjson.loads(d), "ts_ms": orjson.loads(d)["ts_ms"] + 2 * 86_400_000}))
             for s, d in messages[120:]]
    target = orjson.loads(first[40][1])  # an early transaction whose payer and payee keep trading
    known_at = max(orjson.loads(d)["ts_ms"] for _, d in first) + 1
    replicas = [Replica(tmp_path, f"r{i}", url).start() for i in range(2)]
    app = create_app(Settings(home=tmp_path / "api", nats_url=url), scorer=EngineScorer(), warm_up=False)
    try:
        for r in replicas:
            r.wait_ready()
        asyncio.run(publish_all(url, first))
        asyncio.run(wait_drained(url, timeout=60))
        with TestClient(app) as client:
            assert client.get("/readyz").json()["checks"]["label_stream"] == "ok"
            key = {"Authorization": f"Bearer {create_key(app.state.store, 'analyst')}"}
            body = {"txn_id": target["txn_id"], "label": "fraud", "known_at": iso(known_at), "source": "analyst"}
            once = client.post("/v1/labels", json=body, headers=key)
            again = client.post("/v1/labels", json=body, headers=key)  # a client's retry
            assert (once.status_code, once.json()["added"]) == (201, True)
            assert (again.status_code, again.json()["added"]) == (201, False)
            assert once.json()["label_id"] == again.json()["label_id"]
        asyncio.run(publish_all(url, later))
        asyncio.run(wait_drained(url, timeout=60))
    finally:
        codes = [r.stop() for r in replicas]
    assert codes == [0, 0]

    log = log_order(url)
    labels = [orjson.loads(d) for s, d in log if s == LB]
    assert labels == [{"txn_id": target["txn_id"], "is_fraud": True, "known_at_ms": known_at, "source": "analyst",
                       "typology": None}]  # published once, after the first transactions
    assert [s for s, _ in log].index(LB) == len(first)
    expected, _ = check_against_replay(url)  # every decision's features = the replay with the label
    without = replay([m for m in log if m[0] == TX])
    moved = [t for t in expected if not same_features(expected[t], without[t])]
    assert moved, "the label changed no feature: the test would not see a replica missing it"
    later_ids = {orjson.loads(d)["txn_id"] for _, d in later}
    assert set(moved) <= later_ids  # only transactions after the label's time see it


@pytest.mark.slow
def test_a_label_the_stream_cannot_take_is_refused_with_503_and_published_by_the_retry(
        nats_server: NatsServer, tmp_path: Path) -> None:
    url = nats_server.url
    nats_server.stop()  # the API starts before NATS does: it serves, labels answer 503 until NATS is up
    app = create_app(Settings(home=tmp_path / "api", nats_url=url), scorer=EngineScorer(), warm_up=False)
    early = {"txn_id": "T-EARLY", "label": "fraud", "known_at": iso(1_717_200_000_000), "source": "bank"}
    later = {"txn_id": "T-LATER", "label": "legitimate", "known_at": iso(1_717_200_000_000), "source": "bank"}

    def wait_connected(connected: bool) -> None:
        for _ in range(200):
            if app.state.label_publisher.connected == connected:
                return
            time.sleep(0.05)
        raise AssertionError(f"the label publisher is not {'connected' if connected else 'disconnected'}")

    with TestClient(app) as client:
        key = {"Authorization": f"Bearer {create_key(app.state.store, 'analyst')}"}
        ready = client.get("/readyz")  # decisions still go: degraded, not out of rotation
        assert (ready.status_code, ready.json()["status"]) == (200, "degraded")
        assert ready.json()["checks"]["label_stream"] == "not connected to NATS"
        refused = client.post("/v1/labels", json=early, headers=key)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "label_stream_unavailable"
        nats_server.start()
        wait_connected(True)  # connected by the API's own retries
        assert client.post("/v1/labels", json=early, headers=key).json()["added"] is False  # stored before
        nats_server.stop()  # lost while running: the publish times out
        wait_connected(False)
        refused = client.post("/v1/labels", json=later, headers=key)
        assert refused.status_code == 503 and refused.json()["error"]["code"] == "label_stream_unavailable"
        nats_server.start()
        wait_connected(True)
        retried = client.post("/v1/labels", json=later, headers=key)
        assert (retried.status_code, retried.json()["added"]) == (201, False)
        assert len(core.load_labels(app.state.store)) == 2
    labels = [orjson.loads(d)["txn_id"] for s, d in log_order(url) if s == LB]
    assert labels == ["T-EARLY", "T-LATER"]  # each once, though each was refused once


def test_without_a_nats_url_the_api_publishes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PESAGUARD_NATS_URL", raising=False)
    app = create_app(Settings(home=tmp_path / "api"), scorer=EngineScorer(), warm_up=False)
    with TestClient(app) as client:
        key = {"Authorization": f"Bearer {create_key(app.state.store, 'analyst')}"}
        body = {"txn_id": "T1", "label": "fraud", "known_at": iso(1_717_200_000_000)}
        assert client.post("/v1/labels", json=body, headers=key).status_code == 201
        assert app.state.label_publisher is None
        assert "label_stream" not in client.get("/readyz").json()["checks"]
