"""POST /v1/transactions answers the same through the lean path and the FastAPI route."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pesaguard.config import Settings
from pesaguard.service import fastpath
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from service_support import TinyScorer, txn


@pytest.fixture
def env(tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    app = create_app(Settings(home=tmp_path / "home"), scorer=TinyScorer())
    with TestClient(app) as client:
        yield client, create_key(app.state.store, "scorer")


def _post(client: TestClient, body: Any, headers: dict[str, str]) -> tuple[int, Any]:
    r = client.post("/v1/transactions", content=body if isinstance(body, bytes) else json.dumps(body).encode(),
                    headers=headers)
    return r.status_code, r.json()


def test_lean_path_serves_valid_requests_with_either_key_header(env, monkeypatch: pytest.MonkeyPatch) -> None:
    client, key = env
    taken = []
    original = fastpath.FastDecisions._caller

    def spy(self: fastpath.FastDecisions, scope: Any) -> Any:
        got = original(self, scope)
        taken.append(got is not None)
        return got

    monkeypatch.setattr(fastpath.FastDecisions, "_caller", spy)
    ct = {"Content-Type": "application/json"}
    a = _post(client, txn("f1"), {**ct, "X-API-Key": key})
    b = _post(client, txn("f2"), {**ct, "Authorization": f"Bearer {key}"})
    assert a[0] == b[0] == 200 and taken == [True, True]
    assert set(a[1]) == {"decision_id", "txn_id", "action", "score", "reasons", "rule_hits", "model_version",
                         "policy_version"}
    assert _post(client, txn("f1"), {**ct, "X-API-Key": key}) == a  # idempotent retry
    metrics = client.get("/metrics", headers={"X-API-Key": key}).text
    assert 'method="POST",route="/v1/transactions",status="200"} 3.0' in metrics
    status, body = _post(client, txn("f1", amount=7), {**ct, "X-API-Key": key})
    assert status == 409 and body["error"]["code"] == "conflict" and body["error"]["field"] == "txn_id"


@pytest.mark.parametrize(("headers", "body", "status", "field"), [
    ({"Content-Type": "application/json"}, None, 401, None),                        # no key
    ({"Content-Type": "application/json", "X-API-Key": "pgk_x_y"}, None, 401, None),  # unknown key
    ({"Content-Type": "application/json", "Authorization": "Basic abc"}, None, 401, None),
    ({"Content-Type": "text/plain", "X-API-Key": "KEY"}, None, 422, "body"),
    ({"Content-Type": "application/json", "X-API-Key": "KEY"}, b"{not json", 422, "[1]"),
    ({"Content-Type": "application/json", "X-API-Key": "KEY"}, {"txn_id": "x"}, 422, "ts_ms"),
    ({"Content-Type": "application/json", "X-API-Key": "KEY"}, {**txn("z"), "amount_minor": -1}, 422, "amount_minor"),
])
def test_everything_else_gets_the_routes_own_error_envelope(env, headers: dict[str, str], body: Any, status: int,
                                                            field: str | None) -> None:
    client, key = env
    headers = {k: v.replace("KEY", key) for k, v in headers.items()}
    got_status, got = _post(client, txn("e1") if body is None else body, headers)
    assert got_status == status, got
    assert set(got) == {"error"} and got["error"]["field"] == field


def test_an_unexpected_failure_is_a_500_envelope_and_is_counted(env, monkeypatch: pytest.MonkeyPatch) -> None:
    client, key = env

    def broken(txn: dict[str, Any]) -> Any:
        raise RuntimeError("scorer bug")

    monkeypatch.setattr(client.app.state.decider.scorer, "score", broken)  # type: ignore[attr-defined]
    status, body = _post(client, txn("boom"), {"Content-Type": "application/json", "X-API-Key": key})
    assert status == 500 and body["error"]["code"] == "internal_error"
    metrics = client.get("/metrics", headers={"X-API-Key": key}).text
    assert 'pesaguard_http_requests_total{method="POST",route="/v1/transactions",status="500"} 1.0' in metrics


@pytest.mark.parametrize("body", [
    txn("T-1"),
    {**txn("T-2", amount=2**62), "device_id": "ß漢字🙂 \u2028 \"quoted\" \\ /", "type": None, "fee_minor": 0,
     "payer_balance_before": -(2**62), "payee_balance_after": 17, "source": "app"},
])
def test_a_validated_request_is_the_record_and_hashes_as_its_canonical_json(body: dict[str, Any]) -> None:
    """The decision path takes the validated request as the record (no copy), and the idempotency
    hash uses orjson in place of ``model_dump_json``: stored hashes must not change with either."""
    import hashlib

    from pesaguard.decisions.decider import request_hash
    from pesaguard.schema import Transaction
    from pesaguard.service.routers.transactions import TransactionIn

    got = TransactionIn.model_validate_json(json.dumps(body))
    record = got.to_record()
    assert isinstance(record, Transaction) and record.model_dump() == Transaction(**body).model_dump()
    canonical = Transaction(**body).model_dump_json().encode()
    assert request_hash(record) == hashlib.blake2b(canonical, digest_size=16).hexdigest()
