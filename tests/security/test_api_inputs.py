"""Hostile and careless input to the decision API: event times, types, ids, sizes, conflicts.

Each test states what an attacker or a buggy client sends and what the service must answer; the
same inputs are listed with their outcomes in docs/benchmarks.md ("Reliability and security").
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pesaguard.config import Settings
from pesaguard.decisions.loader import warm_up
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from pesaguard.store import Store, core
from pesaguard.store import decision_log as repo
from service_support import TinyScorer, txn

NOW_MS = int(time.time() * 1000)


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, TinyScorer, dict[str, dict[str, str]]]]:
    scorer = TinyScorer()
    app = create_app(Settings(home=tmp_path / "home"), scorer=scorer)
    with TestClient(app) as client:
        store = app.state.store
        keys = {r: {"X-API-Key": create_key(store, r)} for r in ("scorer", "analyst", "admin")}
        yield client, scorer, keys


def _error(r: Any) -> dict[str, Any]:
    body = r.json()
    assert set(body) == {"error"}, body
    return body["error"]


# Parameters are fixed values (xdist compares collected test ids across workers); a time relative to
# the clock is resolved inside the test.
TWO_HOURS_AHEAD = -1


@pytest.mark.parametrize(("ts_ms", "why"), [
    (2**62, "year 146 million"),
    (TWO_HOURS_AHEAD, "two hours ahead: local time sent as UTC"),
    (0, "1970"),
], ids=["year-146-million", "two-hours-ahead", "1970"])
def test_event_times_outside_the_window_are_422_and_never_scored(env, ts_ms: int, why: str) -> None:
    client, scorer, keys = env
    if ts_ms == TWO_HOURS_AHEAD:
        ts_ms = int(time.time() * 1000) + 2 * 3_600_000
    r = client.post("/v1/transactions", json={**txn("future"), "ts_ms": ts_ms}, headers=keys["scorer"])
    assert r.status_code == 422, why
    error = _error(r)
    assert error["code"] == "invalid_input" and error["field"] == "ts_ms"
    assert "PESAGUARD_MAX_EVENT_AHEAD_S" in error["hint"]
    assert scorer.calls == 0
    batch = client.post("/v1/transactions:batch", json={"transactions": [txn("ok"), {**txn("bad"), "ts_ms": ts_ms}]},
                        headers=keys["scorer"]).json()["results"]
    assert batch[0]["decision"] is not None and batch[1]["error"]["field"] == "ts_ms"


def test_a_future_dated_stored_row_neither_anchors_nor_enters_the_warm_up(store: Store) -> None:
    """A row dated in the far future (here written straight into the store, as a file could) must not
    move the warm-up window: every account would otherwise score as new."""
    from pesaguard.features import FeatureEngine

    rows = [(f"h{i}", NOW_MS - 3_000_000 + i * 60_000, "P1", f"M{i % 3}", 1_000 + i) for i in range(23)]
    rows.append(("future", 2**62, "P2", "M1", 5))
    store.executemany("INSERT INTO transactions (txn_id, ts_ms, payer, payee, amount_minor) VALUES (?, ?, ?, ?, ?)",
                      rows)

    class Engineered:
        engine = FeatureEngine()

    assert warm_up(Engineered, store) == 23
    features = Engineered.engine.peek({"txn_id": "next", "ts_ms": NOW_MS, "payer": "P1", "payee": "M1",
                                      "amount_minor": 900})
    assert features["payer_count_1h"] == 23
    assert 0 <= features["payer_secs_since_last"] < 3600


def test_the_console_shows_any_stored_time(env) -> None:
    """A decision stored with an absurd time (before the window existed) still renders."""
    client, _, keys = env
    store = client.app.state.store  # type: ignore[attr-defined]
    decision = {"decision_id": "d_far", "txn_id": "far", "request_hash": "h", "ts_ms": 2**62, "account_id": "C9",
                "amount_minor": 5_000, "action": "review", "score": 0.7, "reasons": ["odd"], "rule_hits": [],
                "features": {"f": 1.0}, "model_version": "m", "policy_version": "p", "created_ms": NOW_MS}
    repo.write_decisions(store, [decision], [["far", 2**62, "C9", "M1", 5_000, "KES"] + [None] * 9])
    key = create_key(store, "analyst")
    client.post("/console/login", data={"username": "", "password": key})
    case_id = client.get("/v1/cases", headers=keys["analyst"]).json()[0]["case_id"]
    page = client.get(f"/console/cases/{case_id}")
    assert page.status_code == 200 and "outside the calendar" in page.text


@pytest.mark.parametrize(("change", "field"), [
    ({"amount_minor": True}, "amount_minor"),
    ({"amount_minor": "1000"}, "amount_minor"),
    ({"amount_minor": 1.0}, "amount_minor"),
    ({"amount_minor": 1e3}, "amount_minor"),
    ({"ts_ms": "1717243200000"}, "ts_ms"),
    ({"fee_minor": 2.5}, "fee_minor"),
    ({"currency": "XYZ"}, "currency"),
    ({"currency": "XTS"}, "currency"),
    ({"payee": "C1"}, "body"),  # payer == payee, type p2p
    ({"txn_id": "T\u202e1"}, "txn_id"),  # right-to-left override
    ({"payer": "C\u200b1"}, "payer"),  # zero-width space
    ({"device_id": "D\x07"}, "device_id"),
])
def test_money_time_and_ids_have_strict_types(env, change: dict[str, Any], field: str) -> None:
    client, scorer, keys = env
    r = client.post("/v1/transactions", content=json.dumps({**txn("strict", type="p2p"), **change}),
                    headers={**keys["scorer"], "Content-Type": "application/json"})
    assert r.status_code == 422, r.text
    assert _error(r)["field"] == field
    assert scorer.calls == 0
    if field in ("txn_id", "payer", "device_id"):  # says which character, where
        assert "control or formatting character U+" in _error(r)["message"]


def test_a_self_payment_is_accepted_only_for_types_that_allow_it(env) -> None:
    client, _, keys = env
    r = client.post("/v1/transactions", json=txn("topup", payee="C1", type="airtime"), headers=keys["scorer"])
    assert r.status_code == 200, r.text


def test_an_ingested_transaction_posted_with_another_payload_is_409(tmp_path: Path) -> None:
    home = tmp_path / "home"
    store = Store(f"sqlite:///{home / 'pesaguard.db'}")
    store.migrate()
    body = txn("FILE-1")
    core.insert_transactions(store, __import__("pandas").DataFrame([{**body, "source": "paysim"}]))
    store.close()
    app = create_app(Settings(home=home), scorer=TinyScorer())
    with TestClient(app) as client:
        key = {"X-API-Key": create_key(app.state.store, "scorer")}
        r = client.post("/v1/transactions", json={**body, "amount_minor": 999}, headers=key)
        assert r.status_code == 409 and _error(r)["field"] == "txn_id"
        same = client.post("/v1/transactions", json={**body, "source": "paysim"}, headers=key)
        assert same.status_code == 200, same.text


def test_the_body_limit_is_413_before_the_body_is_read(env) -> None:
    client, _, keys = env
    limit = client.app.state.settings.max_body_bytes  # type: ignore[attr-defined]
    big = b'{"txn_id": "' + b"x" * (limit + 10) + b'"}'
    r = client.post("/v1/transactions", content=big, headers={**keys["scorer"], "Content-Type": "application/json"})
    assert r.status_code == 413 and _error(r)["code"] == "too_large"
    r = client.post("/v1/cases/x/comments", content=big, headers={**keys["analyst"], "Content-Type": "application/json"})
    assert r.status_code == 413

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted as it arrives
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536

    r = client.post("/v1/labels", content=chunks(), headers={**keys["analyst"], "Content-Type": "application/json"})
    assert r.status_code == 413


def test_a_decision_without_a_valid_key_is_refused_before_its_body_is_read(tmp_path: Path) -> None:
    import asyncio

    app = create_app(Settings(home=tmp_path / "home"), scorer=TinyScorer())
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        raise AssertionError("the body was read")

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    async def call(headers: list[tuple[bytes, bytes]]) -> int:
        sent.clear()
        scope = {"type": "http", "method": "POST", "path": "/v1/transactions", "headers": headers,
                 "query_string": b"", "http_version": "1.1", "scheme": "http", "server": ("t", 80),
                 "client": ("c", 1), "root_path": "", "raw_path": b"/v1/transactions"}
        await app(scope, receive, send)
        return int(sent[0]["status"])

    ct = (b"content-type", b"application/json")
    assert asyncio.run(call([ct])) == 401
    assert asyncio.run(call([ct, (b"x-api-key", b"pgk_nope_nope")])) == 401
    app.state.store.close()


def test_contradictory_labels_and_absurd_known_at(env) -> None:
    client, _, keys = env
    h = keys["analyst"]
    known = "2024-06-01T10:00:00Z"
    assert client.post("/v1/labels", json={"txn_id": "t1", "label": "fraud", "known_at": known}, headers=h).status_code == 201
    r = client.post("/v1/labels", json={"txn_id": "t1", "label": "legitimate", "known_at": known}, headers=h)
    assert r.status_code == 409 and _error(r)["field"] == "label"
    later = client.post("/v1/labels", json={"txn_id": "t1", "label": "legitimate", "known_at": "2024-06-02T10:00:00Z"},
                        headers=h)
    assert later.status_code == 201  # a correction is a later label
    for when in ("0001-01-01T00:00:00Z", "9999-12-31T23:59:59Z"):
        r = client.post("/v1/labels", json={"txn_id": "t2", "label": "fraud", "known_at": when}, headers=h)
        assert r.status_code == 422 and _error(r)["field"] == "known_at", when


def test_the_queue_reason_filter_matches_literally(env) -> None:
    client, _, keys = env
    store = client.app.state.store  # type: ignore[attr-defined]
    for i, reason in enumerate(["100% sure", "a_b", "plain"]):
        decision = {"decision_id": f"d_{i}", "txn_id": f"q{i}", "request_hash": "h", "ts_ms": NOW_MS,
                    "account_id": f"C{i}", "amount_minor": 5, "action": "review", "score": 0.7, "reasons": [reason],
                    "rule_hits": [], "features": {}, "model_version": "m", "policy_version": "p", "created_ms": NOW_MS}
        repo.write_decisions(store, [decision], [[f"q{i}", NOW_MS, f"C{i}", "M", 5, "KES"] + [None] * 9])
    found = {c["top_reason"] for c in client.get("/v1/cases", params={"reason": "%"}, headers=keys["analyst"]).json()}
    assert found == {"100% sure"}
    found = {c["top_reason"] for c in client.get("/v1/cases", params={"reason": "_"}, headers=keys["analyst"]).json()}
    assert found == {"a_b"}


def test_error_bodies_do_not_show_server_paths(env, monkeypatch: pytest.MonkeyPatch) -> None:
    from pesaguard.errors import StoreError

    client, scorer, keys = env
    home = str(client.app.state.settings.home.resolve())  # type: ignore[attr-defined]

    def failing(txn: dict[str, Any]) -> Any:
        raise StoreError(f"cannot open SQLite database {home}/pesaguard.db: disk I/O error",
                         file=f"{home}/pesaguard.db", hint="see /v1/keys")

    monkeypatch.setattr(scorer, "score", failing)
    r = client.post("/v1/transactions", json=txn("p1"), headers=keys["scorer"])
    assert r.status_code == 503
    text = r.text
    assert home not in text and "…/pesaguard.db" in text and "/v1/keys" in text


@pytest.mark.parametrize("path", ["/v1/sms/check", "/v1/messages/triage"])
def test_sms_and_triage_times_outside_the_window_are_422(env, path: str) -> None:
    """An SMS dates a scam event of its account and a triage message the case it opens: same window."""
    client, _, keys = env
    body: dict[str, Any] = {"text": "Nimetapeliwa! Wamechukua pesa zangu zote, nisaidieni haraka sana tafadhali"}
    body |= {"to": "C1"} if path == "/v1/sms/check" else {"message_id": "m-window", "account_id": "C1"}
    for when in ("9999-12-31T23:59:59Z", "0001-01-01T00:00:00Z"):
        r = client.post(path, json={**body, "received_at": when}, headers=keys["scorer"])
        assert r.status_code == 422 and _error(r)["field"] == "received_at", (when, r.text)
        assert "PESAGUARD_MAX_EVENT_AHEAD_S" in _error(r)["hint"]
    store = client.app.state.store  # type: ignore[attr-defined]
    assert store.scalar("SELECT COUNT(*) FROM sms_messages") == 0
    assert store.scalar("SELECT COUNT(*) FROM triage_messages") == 0
    r = client.post(path, json={**body, "received_at": "2024-06-01T10:00:00Z"}, headers=keys["scorer"])
    assert r.status_code == 200, r.text
