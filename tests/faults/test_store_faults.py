"""An unlucky day for the store: a journal write that fails, a damaged database file, a copying process
that is gone. Nothing acknowledged is lost, nothing is counted twice, and the service says when it
cannot store or cannot answer from fresh data."""

from __future__ import annotations

import errno
import functools
import os
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

import pesaguard.decisions.journal as journal_module
from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from service_support import TinyScorer, settle, txn


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, TinyScorer, dict[str, str]]]:
    scorer = TinyScorer()
    app = create_app(Settings(home=tmp_path / "home"), scorer=scorer)
    with TestClient(app) as client:
        yield client, scorer, {"X-API-Key": create_key(app.state.store, "scorer")}


def test_a_failed_journal_write_and_its_retry_count_the_transaction_once(env, monkeypatch: pytest.MonkeyPatch) -> None:
    client, scorer, key = env
    real_write = os.write
    fail = {"left": 1}

    def full_disk(fd: int, data: bytes) -> int:
        if fail["left"]:
            fail["left"] -= 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(fd, data)

    monkeypatch.setattr(journal_module.os, "write", full_disk)
    first = client.post("/v1/transactions", json=txn("once"), headers=key)
    assert first.status_code == 503 and first.json()["error"]["code"] == "store_unavailable"
    assert scorer.calls == 1 and scorer.counts["C1"] == 1
    different = client.post("/v1/transactions", json=txn("once", amount=99), headers=key)
    assert different.status_code == 409  # the feature state already holds the first payload
    retry = client.post("/v1/transactions", json=txn("once"), headers=key)
    assert retry.status_code == 200, retry.text
    assert scorer.calls == 1 and scorer.counts["C1"] == 1  # written now, not scored again
    assert client.post("/v1/transactions", json=txn("once"), headers=key).json() == retry.json()
    nxt = client.post("/v1/transactions", json=txn("after"), headers=key).json()
    settle(client)
    store = client.app.state.store  # type: ignore[attr-defined]
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 2
    features = store.query("SELECT features FROM decisions WHERE txn_id = ?", (nxt["txn_id"],))[0][0]
    assert features.startswith("[") and ",1.0]" in features  # payer_txn_count: 'once' counted one time


@pytest.mark.slow
def test_a_damaged_database_stops_acknowledgements_and_readiness(env) -> None:
    client, _, key = env
    for i in range(30):
        assert client.post("/v1/transactions", json=txn(f"a{i}", payer=f"C{i % 7}"), headers=key).status_code == 200
    settle(client)
    db = client.app.state.settings.home / "pesaguard.db"  # type: ignore[attr-defined]
    with sqlite3.connect(db) as con:
        con.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
    size = db.stat().st_size
    with db.open("r+b") as f:
        f.seek(4096)
        f.write(os.urandom(size - 4096))  # every page but the header
        f.seek(24)
        f.write(os.urandom(4))  # the change counter: every connection drops its cached pages
    refused = None
    deadline = time.monotonic() + 30
    i = 0
    while time.monotonic() < deadline:
        r = client.post("/v1/transactions", json=txn(f"b{i}", payer=f"C{i % 7}"), headers=key)
        i += 1
        if r.status_code == 503:
            refused = r.json()["error"]
            break
        time.sleep(0.1)
    assert refused is not None, "decisions were still acknowledged with nothing able to store them"
    assert "cannot be stored" in refused["message"]
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert "malformed" in ready.json()["checks"]["journal"] or "malformed" in ready.json()["checks"]["store"]


def test_reads_answer_503_rather_than_stale_data_when_the_copy_is_behind(env, monkeypatch: pytest.MonkeyPatch) -> None:
    client, _, key = env
    analyst = {"X-API-Key": create_key(client.app.state.store, "analyst")}  # type: ignore[attr-defined]
    journal = client.app.state.decider.writer  # type: ignore[attr-defined]
    assert client.post("/v1/transactions", json=txn("r1"), headers=key).status_code == 200
    settle(client)
    journal._spawn = False  # the copying process dies and is not restarted
    journal._proc.kill()
    journal._proc.wait()
    monkeypatch.setattr(journal, "sync", functools.partial(journal.sync, timeout=0.3))
    decided = client.post("/v1/transactions", json=txn("r2", amount=2_000_000, night=True), headers=key)
    assert decided.status_code == 200
    r = client.get(f"/v1/decisions/{decided.json()['decision_id']}", headers=analyst)
    assert r.status_code == 503 and r.headers["retry-after"] == "1"
    assert "stale" in r.json()["error"]["message"]
    assert client.get("/readyz").json()["checks"]["journal"] == "the journal's copying process is not running"
    journal._spawn = True
    journal._last_spawn -= 10
    journal._check_ingester(force=True)  # restarted: it resumes where it stopped
    monkeypatch.undo()
    assert client.get(f"/v1/decisions/{decided.json()['decision_id']}", headers=analyst).status_code == 200
