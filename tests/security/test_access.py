"""Who gets in, and for how long: API key revocation, console sessions, log-in guessing, headers,
metrics and secrets on the command line."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key, hash_password
from pesaguard.store import access as repo
from service_support import ServerThread, TinyScorer, txn


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path / "home", login_max_failures=3, login_lockout_s=60), scorer=TinyScorer())
    with TestClient(app) as c:
        yield c


def _store(client: TestClient) -> Any:
    return client.app.state.store  # type: ignore[attr-defined]


def _login(client: TestClient, username: str, password: str) -> httpx.Response:
    return client.post("/console/login", data={"username": username, "password": password}, follow_redirects=False)


def _logged_in(client: TestClient) -> bool:
    return client.get("/console/queue", follow_redirects=False).status_code == 200


def test_a_key_revoked_through_the_api_stops_at_once_with_its_console_sessions(client: TestClient) -> None:
    store = _store(client)
    admin = {"X-API-Key": create_key(store, "admin")}
    key = create_key(store, "analyst")
    assert client.get("/v1/cases", headers={"X-API-Key": key}).status_code == 200  # now in the verifier's cache
    assert _login(client, "", key).status_code == 303 and _logged_in(client)
    key_id = key.split("_")[1]
    assert client.delete(f"/v1/keys/{key_id}", headers=admin).status_code == 204
    assert client.get("/v1/cases", headers={"X-API-Key": key}).status_code == 401
    assert not _logged_in(client)


def test_a_key_revoked_elsewhere_ends_console_sessions_at_once(client: TestClient) -> None:
    """Revoked by the CLI (another process, the same store): its console sessions end with it."""
    store = _store(client)
    key = create_key(store, "analyst")
    _login(client, "", key)
    assert _logged_in(client)
    assert repo.revoke_api_key(store, key.split("_")[1]) == 1
    assert not _logged_in(client)


@pytest.mark.parametrize("change", ["password", "role"])
def test_a_password_reset_or_role_change_ends_the_users_sessions(client: TestClient, change: str) -> None:
    store = _store(client)
    repo.upsert_user(store, "amina", hash_password("correct horse"), "admin")
    assert _login(client, "amina", "correct horse").status_code == 303 and _logged_in(client)
    if change == "password":
        repo.upsert_user(store, "amina", hash_password("battery staple"), "admin")
    else:
        repo.upsert_user(store, "amina", hash_password("correct horse"), "analyst")
    assert not _logged_in(client)


def test_log_in_guessing_is_locked_out_per_user_and_address(client: TestClient) -> None:
    store = _store(client)
    repo.upsert_user(store, "amina", hash_password("correct horse"), "analyst")
    for _ in range(3):
        assert _login(client, "amina", "guess").status_code == 401
    locked = _login(client, "amina", "correct horse")  # the right password, too late
    assert locked.status_code == 429 and "too many failed log-ins" in locked.text
    # an unknown name is counted the same way (the answer does not tell which names exist)
    for _ in range(3):
        assert _login(client, "nobody", "guess").status_code == 401
    assert _login(client, "nobody", "guess").status_code == 429
    throttle = client.app.state.login_throttle  # type: ignore[attr-defined]
    throttle._locked = {k: time.monotonic() - 1 for k in throttle._locked}  # the lockout has passed
    assert _login(client, "amina", "correct horse").status_code == 303


def test_too_many_failures_from_one_address_lock_it_whatever_the_name(client: TestClient) -> None:
    for i in range(12):  # 4 x 3 names, each below its own limit
        _login(client, f"user{i % 4}", "guess")
    assert _login(client, "someone-else", "guess").status_code == 429


def test_an_unknown_user_costs_the_same_password_hash(client: TestClient, monkeypatch: pytest.MonkeyPatch) -> None:
    from pesaguard.console import session

    checked: list[str] = []
    real = session.verify_password

    def spy(password: str, encoded: str) -> bool:
        checked.append(encoded.split("$")[0])
        return real(password, encoded)

    monkeypatch.setattr(session, "verify_password", spy)
    repo.upsert_user(_store(client), "amina", hash_password("correct horse"), "analyst")
    _login(client, "amina", "wrong")
    _login(client, "ghost", "wrong")
    assert checked == ["scrypt", "scrypt"]


def test_security_headers_secure_cookies_and_logout_csrf(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path / "home"), scorer=TinyScorer())
    with TestClient(app, base_url="https://testserver") as client:
        page = client.get("/console/login")
        assert page.headers["x-frame-options"] == "DENY" and page.headers["x-content-type-options"] == "nosniff"
        assert "script-src 'self'" in page.headers["content-security-policy"]
        assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
        r = _login(client, "", create_key(app.state.store, "analyst"))
        assert "secure" in r.headers["set-cookie"].lower() and "httponly" in r.headers["set-cookie"].lower()
        queue = client.get("/console/queue")
        assert client.post("/console/logout", data={}, follow_redirects=False).status_code == 401
        assert _logged_in(client)
        csrf = re.findall(r'name="csrf" value="([^"]+)"', queue.text)[0]
        assert client.post("/console/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
        assert not _logged_in(client)
        # last: the queue above waits for every acknowledged decision to be stored, which a loaded machine can
        # make longer than the read's 5 s bound
        key = {"X-API-Key": create_key(app.state.store, "scorer")}
        decided = client.post("/v1/transactions", json=txn("h1"), headers=key)
        assert decided.headers["x-content-type-options"] == "nosniff"
    with TestClient(create_app(Settings(home=tmp_path / "h2"), scorer=TinyScorer())) as plain:
        r = _login(plain, "", create_key(plain.app.state.store, "analyst"))  # type: ignore[attr-defined]
        assert "secure" not in r.headers["set-cookie"].lower()  # plain HTTP (a local demo): no Secure


def test_metrics_need_a_key_or_the_token_or_their_own_listener(tmp_path: Path) -> None:
    app = create_app(Settings(home=tmp_path / "home", metrics_token="scrape-secret-123"), scorer=TinyScorer())
    with TestClient(app) as client:
        assert client.get("/metrics").status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-secret-123"}).status_code == 200
        key = create_key(app.state.store, "scorer")
        assert "pesaguard_http_requests_total" in client.get("/metrics", headers={"X-API-Key": key}).text
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    bound = create_app(Settings(home=tmp_path / "h2", metrics_bind=f"127.0.0.1:{port}"), scorer=TinyScorer())
    with ServerThread(bound) as server:
        assert httpx.get(f"http://127.0.0.1:{port}/metrics").status_code == 200
        key = create_key(bound.state.store, "scorer")
        assert httpx.get(f"{server.url}/metrics", headers={"X-API-Key": key}).status_code == 401  # moved
    with pytest.raises(httpx.HTTPError):
        httpx.get(f"http://127.0.0.1:{port}/metrics", timeout=1)  # stopped with the service


def test_the_readiness_check_says_nothing_about_the_host(client: TestClient) -> None:
    body = client.get("/readyz").json()
    home = str(client.app.state.settings.home.resolve())  # type: ignore[attr-defined]
    assert home not in str(body) and set(body["checks"]) >= {"store", "model", "journal", "sms_model"}


def test_readiness_covers_the_sms_model_without_stopping_decisions(client: TestClient,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    from pesaguard.errors import ModelNotReadyError
    from pesaguard.sms import train

    def broken(settings: Settings) -> Any:
        raise ModelNotReadyError("cannot load the SMS model at /srv/x/model.npz: truncated file")

    monkeypatch.setattr(train, "load_text_model", broken)
    monkeypatch.setattr(train, "model_path", lambda settings: Path(__file__))  # the file is there
    r = client.get("/readyz")
    assert r.status_code == 200 and r.json()["status"] == "degraded"
    assert r.json()["checks"]["sms_model"] == "cannot load the SMS model at …/model.npz: truncated file"
    assert r.json()["checks"]["store"] == "ok"


@pytest.mark.parametrize(("trusted", "secure"), [("127.0.0.1", True), ("10.9.9.9", False)],
                         ids=["proxy-trusted", "proxy-not-trusted"])
def test_behind_a_trusted_tls_proxy_cookies_are_secure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                                       trusted: str, secure: bool) -> None:
    """`pesaguard serve`'s own uvicorn settings: X-Forwarded-Proto counts only from a listed proxy."""
    import threading

    import uvicorn
    from typer.testing import CliRunner

    from pesaguard.cli.main import app as cli
    from pesaguard.config import get_settings

    started: dict[str, Any] = {}
    monkeypatch.setattr(uvicorn, "run", lambda *a, **kw: started.update(kw))
    monkeypatch.setenv("PESAGUARD_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PESAGUARD_FORWARDED_ALLOW_IPS", trusted)
    monkeypatch.delenv("PESAGUARD_DATABASE_URL", raising=False)
    get_settings.cache_clear()
    assert CliRunner().invoke(cli, ["serve"]).exit_code == 0
    get_settings.cache_clear()
    service = create_app(Settings(home=tmp_path / "home"), scorer=TinyScorer())
    server = ServerThread(service)
    server.server = uvicorn.Server(uvicorn.Config(
        service, host="127.0.0.1", port=server.port, log_level="warning", lifespan="on",
        proxy_headers=started["proxy_headers"], forwarded_allow_ips=started["forwarded_allow_ips"]))
    server.thread = threading.Thread(target=server.server.run, daemon=True)
    with server:
        key = create_key(service.state.store, "analyst")
        r = httpx.post(f"{server.url}/console/login", data={"username": "", "password": key},
                       headers={"X-Forwarded-Proto": "https"})
        assert r.status_code == 303, r.text
        assert ("secure" in r.headers["set-cookie"].lower()) is secure
