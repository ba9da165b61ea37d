"""The decision API end to end: scoring, idempotency, policy, cases, labels, roles (both dialects)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from pesaguard.config import Settings
from pesaguard.decisions.policy import Policy
from pesaguard.decisions.rules import parse_rules
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from pesaguard.store import core
from service_support import TinyScorer, txn

RULES = {
    "thresholds": {"review": 0.5, "block": 0.97},
    "lists": {"blocked_accounts": ["EVIL"]},
    "rules": [
        {"name": "blocked_payer", "when": ["payer in_list blocked_accounts"], "action": "block",
         "reason": "payer is on the blocked list"},
        {"name": "big_cash_out", "when": ["amount_minor > 1000000", "type in [cash_out]"], "action": "review",
         "reason": "large cash-out"},
    ],
}


@pytest.fixture
def env(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, TinyScorer, dict[str, dict[str, str]]]]:
    scorer = TinyScorer()
    settings = Settings(home=tmp_path / "home", database_url=store_url)
    app = create_app(settings, scorer=scorer, policy=Policy(parse_rules(RULES)))
    with TestClient(app) as client:
        store = app.state.store
        keys = {r: {"Authorization": f"Bearer {create_key(store, r)}"} for r in ("scorer", "analyst", "admin")}
        yield client, scorer, keys


def test_decision_has_the_contract_fields_and_is_stored_with_features(env) -> None:
    client, _, keys = env
    r = client.post("/v1/transactions", json=txn("t1"), headers=keys["scorer"])
    assert r.status_code == 200, r.text
    body = r.json()
    assert set(body) == {"decision_id", "txn_id", "action", "score", "reasons", "rule_hits", "model_version",
                         "policy_version"}
    assert body["action"] == "allow" and body["score"] < 0.5 and body["model_version"] == "tiny-lgbm-test"
    stored = client.get(f"/v1/decisions/{body['decision_id']}", headers=keys["analyst"]).json()
    assert stored["features"] == {"log_amount": pytest.approx(8.517, abs=1e-3), "hour": 14.0,
                                  "payer_txn_count": 0.0}
    assert stored["score"] == body["score"]
    assert core.count(client.app.state.store, "transactions") == 1  # type: ignore[attr-defined]


def test_same_request_is_idempotent_and_not_counted_twice(env) -> None:
    client, scorer, keys = env
    first = client.post("/v1/transactions", json=txn("t1"), headers=keys["scorer"]).json()
    again = client.post("/v1/transactions", json=txn("t1"), headers=keys["scorer"]).json()
    assert again == first
    assert scorer.calls == 1 and scorer.counts["C1"] == 1
    second = client.post("/v1/transactions", json=txn("t2"), headers=keys["scorer"]).json()
    assert second["decision_id"] != first["decision_id"]
    assert client.get(f"/v1/decisions/{second['decision_id']}",
                      headers=keys["analyst"]).json()["features"]["payer_txn_count"] == 1.0


def test_same_id_different_payload_is_409(env) -> None:
    client, scorer, keys = env
    client.post("/v1/transactions", json=txn("t1"), headers=keys["scorer"])
    r = client.post("/v1/transactions", json=txn("t1", amount=7), headers=keys["scorer"])
    assert r.status_code == 409
    assert r.json()["error"]["code"] == "conflict" and r.json()["error"]["field"] == "txn_id"
    assert scorer.calls == 1


def test_model_score_and_rules_decide_with_explanations(env) -> None:
    client, _, keys = env
    night = client.post("/v1/transactions", json=txn("n1", amount=5_000_000, night=True), headers=keys["scorer"])
    assert night.json()["action"] == "block"
    assert any("model score" in r for r in night.json()["reasons"])
    assert "large amount at night" in night.json()["reasons"]
    blocked = client.post("/v1/transactions", json=txn("b1", payer="EVIL"), headers=keys["scorer"]).json()
    assert blocked["action"] == "block"
    assert blocked["rule_hits"] == [{"rule": "blocked_payer", "action": "block", "reason": "payer is on the blocked list",
                                     "matched": [{"condition": "payer in_list blocked_accounts", "value": "EVIL"}]}]
    review = client.post("/v1/transactions", json=txn("r1", amount=2_000_000, type="cash_out"),
                         headers=keys["scorer"]).json()
    assert review["action"] == "review" and review["reasons"] == ["large cash-out"]


def test_batch_decides_each_item_alone(env) -> None:
    client, _, keys = env
    client.post("/v1/transactions", json=txn("x"), headers=keys["scorer"])
    batch = [txn("a"), txn("x", amount=99), txn("b", payer="EVIL"), txn("a")]
    r = client.post("/v1/transactions:batch", json={"transactions": batch}, headers=keys["scorer"])
    assert r.status_code == 200, r.text
    res = r.json()["results"]
    assert [i["txn_id"] for i in res] == ["a", "x", "b", "a"]
    assert res[1]["error"]["code"] == "conflict" and res[1]["decision"] is None
    assert res[2]["decision"]["action"] == "block"
    assert res[0]["decision"] == res[3]["decision"]
    assert client.post("/v1/transactions:batch", json={"transactions": []}, headers=keys["scorer"]).status_code == 422


def test_roles_scorer_cannot_read_cases_or_decisions(env) -> None:
    client, _, keys = env
    d = client.post("/v1/transactions", json=txn("t1"), headers=keys["scorer"]).json()
    assert client.get("/v1/cases", headers=keys["scorer"]).status_code == 403
    assert client.get(f"/v1/decisions/{d['decision_id']}", headers=keys["scorer"]).status_code == 403
    assert client.post("/v1/keys", json={"role": "admin"}, headers=keys["analyst"]).status_code == 403
    assert client.post("/v1/transactions", json=txn("t2")).status_code == 401


def test_alerts_open_one_case_per_account_and_resolution_labels_the_store(env) -> None:
    client, scorer, keys = env
    h = keys["scorer"]
    client.post("/v1/transactions", json=txn("r1", amount=2_000_000, type="cash_out"), headers=h)
    client.post("/v1/transactions", json=txn("r2", amount=3_000_000, type="cash_out"), headers=h)
    client.post("/v1/transactions", json=txn("ok"), headers=h)
    queue = client.get("/v1/cases", headers=keys["analyst"]).json()
    assert len(queue) == 1 and queue[0]["account_id"] == "C1" and queue[0]["n_alerts"] == 2
    assert queue[0]["max_amount"] == 3_000_000
    case_id = queue[0]["case_id"]
    detail = client.get(f"/v1/cases/{case_id}", headers=keys["analyst"]).json()
    assert {d["txn_id"] for d in detail["decisions"]} == {"r1", "r2"}
    assert {t["txn_id"] for t in detail["timeline"]} == {"r1", "r2", "ok"}
    client.post(f"/v1/cases/{case_id}/assign", json={"assignee": "amina"}, headers=keys["analyst"])
    client.post(f"/v1/cases/{case_id}/comments", json={"text": "called the customer"}, headers=keys["analyst"])
    done = client.post(f"/v1/cases/{case_id}/resolve", json={"label": "fraud"}, headers=keys["analyst"])
    assert done.status_code == 200 and done.json()["status"] == "resolved"
    assert [e["kind"] for e in done.json()["events"]] == ["assign", "comment", "resolve"]
    labels = core.load_labels(client.app.state.store)  # type: ignore[attr-defined]
    assert sorted(labels["txn_id"]) == ["r1", "r2"] and set(labels["is_fraud"]) == {1}
    assert set(labels["source"]) == {"analyst"}
    assert sorted(t for t, f, _ in scorer.labels) == ["r1", "r2"]  # the live feature state heard of them too
    again = client.post(f"/v1/cases/{case_id}/resolve", json={"label": "fraud"}, headers=keys["analyst"])
    assert again.status_code == 409
    client.post("/v1/transactions", json=txn("r3", amount=2_500_000, type="cash_out"), headers=h)
    assert len(client.get("/v1/cases", headers=keys["analyst"]).json()) == 1  # a new case
    assert client.get("/v1/cases/nope", headers=keys["analyst"]).status_code == 404


def test_labels_endpoint_is_idempotent(env) -> None:
    client, _, keys = env
    body = {"txn_id": "t9", "label": "legitimate", "source": "customer", "known_at": "2024-06-01T10:00:00Z"}
    first = client.post("/v1/labels", json=body, headers=keys["analyst"])
    assert first.status_code == 201 and first.json()["added"] is True
    second = client.post("/v1/labels", json=body, headers=keys["analyst"]).json()
    assert second == {"label_id": first.json()["label_id"], "added": False}
    lab = core.load_labels(client.app.state.store)  # type: ignore[attr-defined]
    assert lab.iloc[0]["known_at_ms"] == 1_717_236_000_000 and lab.iloc[0]["is_fraud"] == 0
    bad = client.post("/v1/labels", json={**body, "label": "maybe"}, headers=keys["analyst"])
    assert bad.status_code == 422 and bad.json()["error"]["details"][0]["field"] == "label"


def test_without_a_model_decisions_are_503_and_not_ready(settings: Settings) -> None:
    app = create_app(settings)
    with TestClient(app) as client:
        key = {"X-API-Key": create_key(app.state.store, "scorer")}
        r = client.post("/v1/transactions", json=txn("t1"), headers=key)
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_not_ready"
        ready = client.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"]["model"].startswith("not loaded")
