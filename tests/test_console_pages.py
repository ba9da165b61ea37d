"""Console pages without a browser: log-in rules, CSRF, the queue partial's filters, the chat page."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from service_support import TinyScorer, txn


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path / "home"), scorer=TinyScorer())
    with TestClient(app) as c:
        scorer = {"X-API-Key": create_key(app.state.store, "scorer")}
        for i in range(6):
            c.post("/v1/transactions", json=txn(f"t{i}", amount=5_000_000, night=True, payer=f"C{i % 3}"), headers=scorer)
        yield c


def _login(client: TestClient, role: str) -> str:
    key = create_key(client.app.state.store, role)  # type: ignore[attr-defined]
    return client.post("/console/login", data={"username": "", "password": key}).text


def test_pages_need_a_log_in_and_a_scorer_key_cannot_log_in(client: TestClient) -> None:
    r = client.get("/console/cases/x", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/login?next=/console/cases/x"
    assert client.get("/console/queue/rows", headers={"HX-Request": "true"}).headers["HX-Redirect"] == "/console/login"
    assert "not an analyst API key" in _login(client, "scorer")
    assert "Log in" in client.get("/console/queue").text  # still not logged in
    bad_next = client.post("/console/login", data={"username": "", "password": "pgk_x", "next": "https://evil.example/"})
    assert "evil" not in bad_next.headers.get("location", "")


def test_queue_rows_filter_and_forms_need_csrf(client: TestClient) -> None:
    _login(client, "analyst")
    rows = client.get("/console/queue/rows", params={"min_score": "", "sort": "amount", "reason": "night"})
    assert rows.status_code == 200 and rows.text.count("<tr") == 3
    assert client.get("/console/queue/rows", params={"reason": "no such reason"}).text.count("<tr") == 1  # "no cases"
    case_id = re.findall(r"/console/cases/([^\"]+)\"", rows.text)[0]
    forged = client.post(f"/console/cases/{case_id}/resolve", data={"label": "fraud", "csrf": "guess"})
    assert forged.status_code == 401
    page = client.get(f"/console/cases/{case_id}").text
    csrf = re.findall(r'name="csrf" value="([^"]+)"', page)[0]
    done = client.post(f"/console/cases/{case_id}/comment", data={"text": "called", "csrf": csrf})
    assert done.status_code == 200 and "called" in done.text


def test_chat_page_answers_with_sources(client: TestClient) -> None:
    from pesaguard.console.routes import assistant_answer

    assert assistant_answer() is not None  # the assistant ships with the package
    _login(client, "analyst")
    page = client.get("/console/chat")
    assert page.status_code == 200
    csrf = re.findall(r'name="csrf" value="([^"]+)"', page.text)[0]
    r = client.post("/console/chat", data={"question": "How do I spot a SIM swap fraud?", "csrf": csrf})
    assert r.status_code == 200 and "Sources" in r.text and "[1]" in r.text
