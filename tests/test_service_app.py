"""The app factory: error envelope, API-key auth and roles, health, readiness and metrics."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key, hash_key, hash_password, verify_password

ENVELOPE_KEYS = {"code", "message", "hint", "file", "row", "field", "setting"}


@pytest.fixture
def client(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as c:
        yield c


def _key(client: TestClient, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(client.app.state.store, role)}"}  # type: ignore[attr-defined]


def test_health_ready_and_metrics(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code in (200, 503)
    assert ready.json()["checks"]["store"] == "ok"
    assert ready.json()["checks"]["sms_model"] == "ok" or ready.json()["checks"]["sms_model"].startswith("off:")
    assert client.get("/metrics").status_code == 401  # rule names and hit counts are not public
    text = client.get("/metrics", headers=_key(client, "scorer")).text
    assert 'pesaguard_http_requests_total{method="GET",route="/healthz",status="200"} 1.0' in text


def test_unknown_route_uses_the_envelope(client: TestClient) -> None:
    r = client.get("/no/such/route")
    assert r.status_code == 404
    assert set(r.json()["error"]) == ENVELOPE_KEYS
    assert r.json()["error"]["code"] == "not_found"


def test_keys_are_stored_hashed_and_roles_are_enforced(client: TestClient) -> None:
    store = client.app.state.store  # type: ignore[attr-defined]
    key = create_key(store, "analyst")
    assert store.scalar("SELECT COUNT(*) FROM api_keys WHERE key_hash = ?", (hash_key(key),)) == 1
    assert store.scalar("SELECT COUNT(*) FROM api_keys WHERE key_hash = ?", (key,)) == 0
    # no key -> 401, analyst key on an admin route -> 403, admin -> 201; both header styles work
    r = client.get("/v1/keys")
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    r = client.get("/v1/keys", headers={"X-API-Key": key})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    admin = _key(client, "admin")
    r = client.post("/v1/keys", json={"role": "scorer", "name": "till 7"}, headers=admin)
    assert r.status_code == 201 and r.json()["key"].startswith("pgk_")
    listed = client.get("/v1/keys", headers=admin).json()
    assert {k["role"] for k in listed} == {"analyst", "admin", "scorer"}
    assert all("key" not in k and "key_hash" not in k for k in listed)


def test_wrong_key_and_revoked_key_are_401(client: TestClient) -> None:
    r = client.get("/v1/keys", headers={"Authorization": "Bearer pgk_nothing_here"})
    assert r.status_code == 401
    admin = _key(client, "admin")
    store = client.app.state.store  # type: ignore[attr-defined]
    victim = create_key(store, "admin")
    key_id = victim.split("_")[1]
    assert client.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 204
    client.app.state.key_verifier._cache.clear()  # type: ignore[attr-defined]
    assert client.get("/v1/keys", headers={"X-API-Key": victim}).status_code == 401
    assert client.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 404


def test_validation_errors_are_422_with_field_detail(client: TestClient) -> None:
    admin = _key(client, "admin")
    r = client.post("/v1/keys", json={"role": "superuser", "extra": 1}, headers=admin)
    assert r.status_code == 422
    err = r.json()["error"]
    assert err["code"] == "invalid_input"
    assert {d["field"] for d in err["details"]} == {"role", "extra"}


def test_password_hash_round_trip() -> None:
    encoded = hash_password("correct horse")
    assert encoded.startswith("scrypt$") and "correct horse" not in encoded
    assert verify_password("correct horse", encoded)
    assert not verify_password("wrong", encoded)
    assert not verify_password("x", "garbage")
