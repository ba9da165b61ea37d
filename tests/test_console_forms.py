"""Every console page and form through the app, without a browser: who may see it, what each form
changes in the store, and the errors a wrong form gets."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key, hash_password
from pesaguard.store import access
from service_support import TinyScorer, settle, txn


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    home = tmp_path_factory.mktemp("console") / "home"
    app = create_app(Settings(home=home), scorer=TinyScorer())
    with TestClient(app) as c:
        scorer = {"X-API-Key": create_key(app.state.store, "scorer")}
        for i in range(8):  # alerts on four accounts: four open cases
            r = c.post("/v1/transactions", json=txn(f"f{i}", amount=5_000_000, night=True, payer=f"C{i % 4}"),
                       headers=scorer)
            assert r.status_code == 200 and r.json()["action"] != "allow"
        settle(c)
        access.upsert_user(app.state.store, "wanjiku", hash_password("correct horse battery"), "analyst")
        yield c


@pytest.fixture
def client(app_client: TestClient) -> Iterator[TestClient]:
    """The module's app with this test's own cookies: logged out."""
    app_client.cookies.clear()
    yield app_client
    app_client.cookies.clear()


def _login_user(client: TestClient) -> None:
    r = client.post("/console/login", data={"username": "wanjiku", "password": "correct horse battery"},
                    follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/console/queue"


def _csrf(client: TestClient, path: str = "/console/queue") -> str:
    return re.findall(r'name="csrf" value="([^"]+)"', client.get(path).text)[0]


def _case_ids(client: TestClient, status: str = "open") -> list[str]:
    rows = client.get("/console/queue/rows", params={"status": status}).text
    return re.findall(r"/console/cases/([^\"]+)\"", rows)


def test_every_page_needs_a_log_in(client: TestClient) -> None:
    assert client.get("/console", follow_redirects=False).headers["location"] == "/console/queue"
    for path in ("/console/queue", "/console/queue/rows", "/console/cases/c_x", "/console/dashboard",
                 "/console/chat"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/console/login?next="), path
    assert client.get("/console/login").status_code == 200
    for path, data in (("/console/cases/c_x/resolve", {"label": "fraud"}), ("/console/cases/c_x/assign", {}),
                       ("/console/cases/c_x/comment", {"text": "x"}), ("/console/chat", {"question": "q"})):
        assert client.post(path, data=data, follow_redirects=False).status_code == 303, path


def test_a_user_logs_in_with_a_password_and_out_with_the_csrf_token(client: TestClient) -> None:
    wrong = client.post("/console/login", data={"username": "wanjiku", "password": "wrong"})
    assert wrong.status_code == 401 and "Log in" in wrong.text
    assert client.post("/console/login", data={"username": "nobody", "password": "x"}).status_code == 401
    _login_user(client)
    page = client.get("/console/queue")
    assert page.status_code == 200 and "wanjiku" in page.text
    assert client.post("/console/logout", data={"csrf": "forged"}, follow_redirects=False).status_code == 401
    out = client.post("/console/logout", data={"csrf": _csrf(client)}, follow_redirects=False)
    assert out.status_code == 303 and out.headers["location"] == "/console/login"
    assert client.get("/console/queue", follow_redirects=False).status_code == 303  # the session is over


def test_queue_sorts_filters_and_ignores_unknown_values(client: TestClient) -> None:
    _login_user(client)
    assert len(_case_ids(client)) == 4
    by_amount = client.get("/console/queue/rows", params={"sort": "amount", "order": "asc"})
    unknown = client.get("/console/queue/rows", params={"sort": "nonsense", "status": "nonsense",
                                                        "min_score": "not a number"})
    assert by_amount.status_code == unknown.status_code == 200
    assert len(re.findall(r"/console/cases/", unknown.text)) >= 4  # unknown values: no filter, default sort
    assert client.get("/console/queue/rows", params={"min_score": "1"}).text.count("/console/cases/") == 0
    too_long = client.get("/console/queue/rows", params={"reason": "x" * 201})
    assert too_long.status_code == 422


def test_case_page_assign_comment_and_errors(client: TestClient) -> None:
    _login_user(client)
    case_id = _case_ids(client)[0]
    page = client.get(f"/console/cases/{case_id}")
    assert page.status_code == 200 and case_id in page.text
    csrf = _csrf(client, f"/console/cases/{case_id}")
    r = client.post(f"/console/cases/{case_id}/assign", data={"csrf": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/console/cases/{case_id}"
    case = client.app.state.store.query_dicts(  # type: ignore[attr-defined]
        "SELECT assignee FROM cases WHERE case_id = ?", (case_id,))[0]
    assert case["assignee"] == "wanjiku"
    assert client.post(f"/console/cases/{case_id}/comment", data={"text": "", "csrf": csrf}).status_code == 422
    assert client.post(f"/console/cases/{case_id}/comment", data={"text": "x" * 2001, "csrf": csrf}).status_code == 422
    client.post(f"/console/cases/{case_id}/comment", data={"text": "rang the customer", "csrf": csrf})
    assert "rang the customer" in client.get(f"/console/cases/{case_id}").text
    assert client.get("/console/cases/c_no_such_case").status_code == 404
    assert client.post("/console/cases/c_no_such_case/assign", data={"csrf": csrf}).status_code == 404


def test_resolving_labels_the_cases_transactions_once(client: TestClient) -> None:
    _login_user(client)
    store = client.app.state.store  # type: ignore[attr-defined]
    case_id = _case_ids(client)[-1]
    csrf = _csrf(client, f"/console/cases/{case_id}")
    assert client.post(f"/console/cases/{case_id}/resolve", data={"label": "maybe", "csrf": csrf}).status_code == 422
    flagged = [r[0] for r in store.query("SELECT d.txn_id FROM case_decisions cd JOIN decisions d"
                                         " ON d.decision_id = cd.decision_id WHERE cd.case_id = ?", (case_id,))]
    before = store.scalar("SELECT COUNT(*) FROM labels")
    r = client.post(f"/console/cases/{case_id}/resolve", data={"label": "fraud", "note": "confirmed", "csrf": csrf},
                    follow_redirects=False)
    assert r.status_code == 303
    assert store.query("SELECT status, resolution FROM cases WHERE case_id = ?", (case_id,)) == [("resolved", "fraud")]
    assert store.scalar("SELECT COUNT(*) FROM labels") == before + len(flagged)
    assert {r[0] for r in store.query("SELECT txn_id FROM labels WHERE source = 'analyst' AND is_fraud = 1")} >= set(flagged)
    again = client.post(f"/console/cases/{case_id}/resolve", data={"label": "legitimate", "csrf": csrf})
    assert again.status_code == 409 and store.scalar("SELECT COUNT(*) FROM labels") == before + len(flagged)
    assert case_id in "".join(_case_ids(client, "resolved"))


def test_dashboard_draws_its_charts_and_chat_needs_the_token(client: TestClient) -> None:
    _login_user(client)
    dash = client.get("/console/dashboard")
    assert dash.status_code == 200
    for title in ("Alerts per day", "Review precision", "Score distribution", "Top reasons"):
        assert title in dash.text
    assert dash.text.count("<img") + dash.text.count("<svg") >= 4
    assert client.post("/console/chat", data={"question": "what is a sim swap?", "csrf": "forged"}).status_code == 401
    assert client.post("/console/chat", data={"question": "", "csrf": _csrf(client, "/console/chat")}).status_code == 422
