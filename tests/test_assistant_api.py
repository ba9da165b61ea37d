"""The assistant's fronts: ``POST /v1/assistant/ask``, ``POST /v1/messages/triage`` on the real app
(API keys, roles, the error envelope) and ``pesaguard ask | kb | triage``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pesaguard.cli.main import app as cli
from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from pesaguard.store import open_store
from pesaguard.store.assistant import get_triage_message
from service_support import TinyScorer


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(home=tmp_path_factory.mktemp("api") / "home")
    with TestClient(create_app(settings, scorer=TinyScorer())) as c:  # no model registry to create: the assistant needs none
        yield c


def _key(client: TestClient, role: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {create_key(client.app.state.store, role)}"}  # type: ignore[attr-defined]


def test_ask_returns_a_cited_answer(client: TestClient) -> None:
    r = client.post("/v1/assistant/ask", headers=_key(client, "scorer"),
                    json={"question": "Nimetumiwa pesa kimakosa na mtu anataka nimrudishie. Nifanye nini?"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lang"] == "sw" and not body["abstained"] and body["citations"]
    assert set(body["citations"][0]) == {"n", "title", "heading", "path", "chunk_id", "lang", "audience", "ref"}
    assert all(s["supported"] for s in body["sentences"])
    assert body["sentences"][0]["role"] in ("action", "safety") and body["action"] and body["ref"]


def test_ask_in_sms_format_and_as_a_conversation(client: TestClient) -> None:
    key = _key(client, "scorer")
    first = client.post("/v1/assistant/ask", headers=key, json={
        "question": "A stranger says he sent me money by mistake and wants it back, what should I do?",
        "format": "sms", "conversation_id": "conv-1"}).json()
    assert first["sms"] and all(len(p) <= 160 for p in first["sms"]) and first["sms"][-1].endswith(f"Ref {first['ref']}")
    follow = client.post("/v1/assistant/ask", headers=key, json={
        "question": "and if I already sent it?", "format": "sms", "conversation_id": "conv-1"}).json()
    assert follow["follow_up"] and follow["ref"] != first["ref"] and not follow["abstained"]
    other = client.post("/v1/assistant/ask", headers=key, json={
        "question": "and if I already sent it?", "conversation_id": "conv-2"}).json()
    assert not other["follow_up"]  # another conversation has no previous turn
    row = get_last(client, "conv-1")
    assert row is not None and row["question"] == "and if I already sent it?"


def get_last(client: TestClient, conversation_id: str) -> dict[str, object] | None:
    from pesaguard.store.assistant import last_turn

    return last_turn(client.app.state.store, conversation_id, max_age_ms=60_000)  # type: ignore[attr-defined]


def test_ask_checks_the_ledger_and_opens_a_case(client: TestClient) -> None:
    import time

    import pandas as pd

    from pesaguard.store import core

    store = client.app.state.store  # type: ignore[attr-defined]
    core.insert_transactions(store, pd.DataFrame({"txn_id": ["API1"], "ts_ms": [int(time.time() * 1000) - 60_000],
                                                  "payer": ["P1"], "payee": ["ACC-API"], "amount_minor": [250_000],
                                                  "currency": ["KES"]}))
    key = _key(client, "scorer")
    r = client.post("/v1/assistant/ask", headers=key, json={
        "question": "did I really receive 2,500 today?", "customer_account": "ACC-API", "format": "sms"})
    body = r.json()
    tool = next(t for t in body["tools"] if t["tool"] == "claim_check")
    assert tool["data"]["status"] == "verified" and body["sms"][0].split(" ", 1)[-1].startswith("Yes")
    r = client.post("/v1/assistant/ask", headers=key, json={
        "question": "Help! Someone has my PIN and is emptying my account right now!", "message_id": "app-9",
        "customer_account": "ACC-API", "channel": "app"})
    report = next(t for t in r.json()["tools"] if t["tool"] == "report")
    assert report["data"]["case_opened"] is True
    row = get_triage_message(store, "app-9")
    assert row is not None and row["channel"] == "app" and row["account_id"] == "ACC-API"


def test_ussd_sessions(client: TestClient) -> None:
    key = _key(client, "scorer")

    def go(chain: str, **extra: str) -> dict[str, object]:
        r = client.post("/v1/assistant/ussd", headers=key, json={"session_id": "S1", "text": chain, **extra})
        assert r.status_code == 200, r.text
        out: dict[str, object] = r.json()
        assert len(str(out["response"])) <= 182
        return out

    home = go("")
    assert str(home["response"]).startswith("CON ") and "1. Report fraud" in str(home["response"])
    assert "2. I sent money to the wrong number" in str(home["response"])
    assert "3. My SIM stopped working" in str(home["response"])
    wrong = go("2")
    assert "Ref WRN1" in str(wrong["response"]) and wrong["ref"] is None  # not a report leaf
    steps = go("2*1")
    assert steps["done"] and str(steps["response"]).startswith("END 1) ")
    sim = go("3", phone_number="+254712000111")
    assert sim["case_opened"] is True and "Report recorded." in str(sim["response"]) and sim["ref"] == "SIM1"
    again = go("3", phone_number="+254712000111")
    assert again["case_opened"] is False  # once per session
    row = get_triage_message(client.app.state.store, "ussd:S1")  # type: ignore[attr-defined]
    assert row is not None and row["channel"] == "ussd" and row["urgency"] == "urgent"
    sw = go("9")
    assert sw["lang"] == "sw" and "Ripoti utapeli" in str(sw["response"])
    assert go("42")["response"] == "END Invalid choice."
    r = client.post("/v1/assistant/ussd", headers=key, json={"session_id": "S1", "text": "1;DROP"})
    assert r.status_code == 422
    r = client.post("/v1/assistant/ussd/gateway", headers=key,
                    data={"sessionId": "G1", "serviceCode": "*384#", "phoneNumber": "+254700000001", "text": "1"})
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/plain")
    assert r.text.startswith("CON Report fraud")
    r = client.post("/v1/assistant/ussd/gateway", headers=key, data={"sessionId": "G1", "text": "abc"})
    assert r.status_code in (400, 422) and "error" in r.json()
    assert client.post("/v1/assistant/ussd", json={"session_id": "S1"}).status_code == 401


def test_ask_abstains_out_of_scope(client: TestClient) -> None:
    r = client.post("/v1/assistant/ask", headers=_key(client, "scorer"),
                    json={"question": "What's the weather in Mombasa?", "lang": "en"})
    assert r.status_code == 200
    assert r.json()["abstained"] and r.json()["handoff"] and r.json()["citations"] == []


def test_ask_roles_and_validation(client: TestClient) -> None:
    assert client.post("/v1/assistant/ask", json={"question": "PIN?"}).status_code == 401
    scorer = _key(client, "scorer")
    r = client.post("/v1/assistant/ask", headers=scorer, json={"question": "mule indicators", "audience": "analyst"})
    assert r.status_code == 403 and r.json()["error"]["code"] == "forbidden"
    r = client.post("/v1/assistant/ask", headers=_key(client, "analyst"),
                    json={"question": "What are the indicators of a mule account?", "audience": "analyst"})
    assert r.status_code == 200 and any(c["audience"] == "analyst" for c in r.json()["citations"])
    r = client.post("/v1/assistant/ask", headers=scorer, json={"question": "", "lang": "fr"})
    assert r.status_code == 422 and "error" in r.json()
    r = client.post("/v1/assistant/ask", headers=scorer, json={"question": "x", "extra": 1})
    assert r.status_code == 422
    r = client.post("/v1/assistant/ask", headers=scorer, json={"question": "PIN safety?", "generator": "llm"})
    assert r.status_code == 400 and "PESAGUARD_ASSISTANT_LLM_URL" in r.json()["error"]["hint"]


def test_triage_opens_one_case_per_message(client: TestClient) -> None:
    key = _key(client, "scorer")
    body = {"message_id": "wa-123", "text": "nimetapeliwa, elfu ishirini zimeenda!", "channel": "whatsapp",
            "received_at": "2024-06-01T10:00:00+03:00"}
    first = client.post("/v1/messages/triage", headers=key, json=body)
    assert first.status_code == 200, first.text
    assert first.json()["urgency"] == "urgent" and first.json()["case_opened"] is True
    again = client.post("/v1/messages/triage", headers=key, json=body)
    assert again.status_code == 200 and again.json()["case_opened"] is False
    row = get_triage_message(client.app.state.store, "wa-123")  # type: ignore[attr-defined]
    assert row is not None and row["status"] == "open" and row["channel"] == "whatsapp"
    assert row["received_ms"] == 1717225200000
    low = client.post("/v1/messages/triage", headers=key, json={"message_id": "wa-124", "text": "Asante sana!"})
    assert low.json()["urgency"] == "low" and low.json()["sentiment"] == "positive"
    assert client.post("/v1/messages/triage", json=body).status_code == 401
    assert client.post("/v1/messages/triage", headers=key, json={"message_id": "x"}).status_code == 422


def test_openapi_lists_the_routes(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/v1/assistant/ask", "/v1/assistant/ussd", "/v1/assistant/ussd/gateway", "/v1/messages/triage"} <= set(paths)


# -- CLI ----------------------------------------------------------------------------------------


def test_cli_ask_kb_and_triage(env_home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    r = runner.invoke(cli, ["ask", "Can an agent ask for my PIN?", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert not out["abstained"] and out["citations"][0]["path"] == "en/agent-rules.md"

    r = runner.invoke(cli, ["ask", "Wakala anaweza kuniomba PIN yangu?"])
    assert r.exit_code == 0 and "[1]" in r.output and "sw/agent-rules.md" in r.output

    docs = tmp_path / "ops"
    docs.mkdir()
    (docs / "hotline.md").write_text(
        "---\ntitle: Fraud hotline\nlang: en\naudience: customer\ntags: [hotline]\n---\n# Fraud hotline\n\n"
        "## Opening hours\n\nThe fraud hotline of Example Money answers every day from 6 am to 11 pm.\n",
        encoding="utf-8")
    r = runner.invoke(cli, ["kb", "add", str(docs)])
    assert r.exit_code == 0 and "1 embedded" in r.output, r.output
    r = runner.invoke(cli, ["ask", "When does the Example Money fraud hotline answer?", "--json"])
    assert json.loads(r.output)["citations"][0]["title"] == "Fraud hotline"
    r = runner.invoke(cli, ["kb", "list", "--json"])
    listed = json.loads(r.output)
    assert any(d["title"] == "Fraud hotline" for d in listed["documents"]) and len(listed["sources"]) == 1
    r = runner.invoke(cli, ["kb", "rebuild"])
    assert r.exit_code == 0 and "0 embedded" in r.output

    r = runner.invoke(cli, ["triage", "Someone has my PIN and is emptying my account right now!", "--id", "c1"])
    assert r.exit_code == 0 and "urgent" in r.output and "case opened" in r.output
    with open_store(Settings(home=env_home)) as store:
        assert get_triage_message(store, "c1") is not None

    r = runner.invoke(cli, ["ask", "PIN?", "--lang", "fr"])
    assert r.exit_code == 64 and "--lang" in r.output

    r = runner.invoke(cli, ["ask", "Someone wants the code that was sent to my phone", "--format", "sms"])
    assert r.exit_code == 0 and all(len(line) <= 160 for line in r.output.splitlines()) and "Ref PIN1" in r.output
    r = runner.invoke(cli, ["ask", "A stranger sent me money by mistake and wants it back", "--conversation", "c9"])
    assert r.exit_code == 0
    r = runner.invoke(cli, ["ask", "and if I already sent it?", "--conversation", "c9", "--json"])
    assert json.loads(r.output)["follow_up"] is True
    r = runner.invoke(cli, ["kb", "menu"])
    assert r.exit_code == 0 and "1. Report fraud" in r.output and "records a report" in r.output
    r = runner.invoke(cli, ["kb", "menu", "--lang", "sw", "--screen", "1"])
    assert r.exit_code == 0 and r.output.startswith("CON Ripoti utapeli")
