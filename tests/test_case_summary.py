"""Case summaries: faithful to the case (every number, account and rule name comes from its data) in
English and Swahili, short however many transactions the case holds, with the case's access control;
a chat model's text is used only when it passes the check (a fake OpenAI-compatible endpoint served
by a real HTTP server here)."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pesaguard.assistant.generate import ChatGenerator
from pesaguard.config import Settings
from pesaguard.decisions import summary
from pesaguard.decisions.policy import Policy, pct
from pesaguard.decisions.rules import parse_rules
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from service_support import NIGHT_MS, TinyScorer, txn

RULES = {"rules": [{"name": "big_cash_out", "when": ["amount_minor > 5000000", "type in [cash_out]"],
                    "action": "review", "reason": "large cash-out"}]}
SCAM = "Umepokea Ksh5,000 kutoka kwa JOHN. Nimetuma kimakosa, tafadhali nirudishie kwa 0712345678."


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    app = create_app(Settings(home=tmp_path_factory.mktemp("summary") / "home"), scorer=TinyScorer(),
                     policy=Policy(parse_rules(RULES)))
    with TestClient(app) as c:
        h = {"X-API-Key": create_key(app.state.store, "scorer")}
        for i in range(3):  # C000: night-time cash-outs the model flags, and a scam SMS before them
            c.post("/v1/transactions", json=txn(f"a{i}", amount=4_000_000 + 10_000 * i, night=True, payer="C000",
                                                payee=f"M{i % 2}", type="cash_out"), headers=h)
        for i in range(5):
            c.post("/v1/transactions", json=txn(f"d{i}", amount=2_000 + i, payer="C000"), headers=h)
        received = datetime.fromtimestamp((NIGHT_MS - 3_600_000) / 1000, tz=UTC).isoformat()
        assert c.post("/v1/sms/check", json={"text": SCAM, "sender": "+254700111222", "to": "C000",
                                             "received_at": received}, headers=h).status_code == 200
        c.post("/v1/transactions", json=txn("r1", amount=9_000_000, payer="C004", type="cash_out"), headers=h)
        for i in range(60):  # C777: many flagged payments to many payees
            c.post("/v1/transactions", json=txn(f"m{i:02d}", amount=3_000_000 + 1_000 * i, night=True, payer="C777",
                                                payee=f"P{i % 12:02d}", ts_ms=NIGHT_MS + 60_000 * i), headers=h)
        c.headers["X-API-Key"] = create_key(app.state.store, "analyst")
        yield c


def _case(client: TestClient, account: str) -> dict[str, Any]:
    rows = client.get("/v1/cases", params={"limit": 500}).json()
    case_id = next(r["case_id"] for r in rows if r["account_id"] == account)
    case: dict[str, Any] = client.get(f"/v1/cases/{case_id}").json()
    return case


def _summary(client: TestClient, case: dict[str, Any], lang: str) -> str:
    r = client.get(f"/v1/cases/{case['case_id']}/summary", params={"lang": lang})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["lang"] == lang and body["source"] == "template" and body["rejected"] == []
    return str(body["text"])


def _walk(value: Any, key: str = "") -> Iterator[tuple[str, Any]]:
    """Every leaf of the case with the key it is stored under."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _walk(v, k)
    elif isinstance(value, list):
        for v in value:
            yield from _walk(v, key)
    else:
        yield key, value


def _allowed(case: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Numbers and names the case's data holds, with the counts and totals a summary may state
    computed here on their own (not by the code under test)."""
    nums: set[str] = set()
    names: set[str] = set()
    for key, v in _walk(case):
        if isinstance(v, str):
            nums |= summary.numbers(v)
            names |= summary.names(v) | {v.lower()}
        elif isinstance(v, int | float) and not isinstance(v, bool):
            vals: list[float] = [v]
            if "amount" in key:
                vals.append(v / 100)
            if key.endswith("_ms") and v > 10**11:
                t = datetime.fromtimestamp(v / 1000, tz=UTC)
                vals += [t.year, t.month, t.day, t.hour, t.minute]
            if "score" in key:
                nums |= summary.numbers(pct(float(v)))
            nums |= {summary.numbers(f"{x:f}" if isinstance(x, float) else str(x)).pop() for x in vals}
    decisions = case["decisions"]
    txns = [t for t in case["timeline"] if t["kind"] == "txn"]
    sms = [t for t in case["timeline"] if t["kind"] == "sms"]
    by_id = {t["txn_id"]: t for t in txns}
    party = Counter(by_id[d["txn_id"]]["payee"] for d in decisions)
    total = Counter[str]()
    for d in decisions:
        total[by_id[d["txn_id"]]["payee"]] += d["amount_minor"]
    counts = [len(decisions), len(txns), len(sms), len(party) - 3, *party.values(),
              sum(d["action"] == "block" for d in decisions), sum(d["action"] == "review" for d in decisions),
              sum(s["verdict"] in ("scam", "suspicious") for s in sms),
              *Counter(h["rule"] for d in decisions for h in d["rule_hits"]).values(),
              *Counter(r for d in decisions for r in d["reasons"]).values()]
    sums = [sum(d["amount_minor"] for d in decisions) / 100, *(t / 100 for t in total.values())]
    nums |= {summary.numbers(str(x)).pop() for x in counts if x >= 0} | {summary.numbers(f"{x:.2f}").pop() for x in sums}
    return nums, names


@pytest.mark.parametrize("lang", ["en", "sw"])
@pytest.mark.parametrize("account", ["C000", "C004", "C777"])
def test_every_number_name_and_rule_in_the_summary_comes_from_the_case(client: TestClient, account: str,
                                                                       lang: str) -> None:
    case = _case(client, account)
    text = _summary(client, case, lang)
    nums, names = _allowed(case)
    assert summary.numbers(text) <= nums, summary.numbers(text) - nums
    assert summary.names(text) <= names, summary.names(text) - names
    fired = {h["rule"] for d in case["decisions"] for h in d["rule_hits"]}
    assert {n for n in summary.names(text) if "_" in n} - {case["case_id"].lower()} == fired  # those that fired
    assert account in text and case["case_id"] in text
    assert summary.money(max(d["amount_minor"] for d in case["decisions"])) in text
    assert ("Flagged transactions" if lang == "en" else "Miamala iliyotiliwa shaka") in text


def test_the_summary_names_the_reasons_counterparties_and_sms(client: TestClient) -> None:
    case = _case(client, "C000")
    en, sw = _summary(client, case, "en"), _summary(client, case, "sw")
    assert "Flagged transactions: 3, at 2024-06-01 02:00 UTC (3 blocked, 0 sent to review)" in en
    assert "Miamala iliyotiliwa shaka: 3, tarehe 2024-06-01 02:00 UTC (3 imezuiwa, 0 inasubiri ukaguzi)" in sw
    assert "large amount at night" in en and "M0 (2 flagged, KES 80,200.00)" in en
    assert "From <phone> at 2024-06-01 01:00 UTC (scam)" in en and "Ksh5,000" in en  # the stored, redacted text
    assert "Kutoka <phone>" in sw and "(ulaghai)" in sw and "Wahusika wengine" in sw
    c004 = _summary(client, _case(client, "C004"), "en")
    assert 'big_cash_out: "large cash-out" (on 1 flagged)' in c004 and "M9 (1 flagged, KES 90,000.00)" in c004


def test_a_case_without_sms_says_so_in_both_languages(client: TestClient) -> None:
    case = _case(client, "C004")
    assert not [t for t in case["timeline"] if t["kind"] == "sms"]
    assert "No SMS is stored for this account." in _summary(client, case, "en")
    assert "Hakuna SMS iliyohifadhiwa kwa akaunti hii." in _summary(client, case, "sw")


def test_a_case_with_many_transactions_stays_short(client: TestClient) -> None:
    case = _case(client, "C777")
    assert len(case["decisions"]) >= 30
    for lang, more in (("en", "and 9 more"), ("sw", "na wengine 9")):
        text = _summary(client, case, lang)
        assert len(text) < 700 and more in text and text.count(" (") <= 8, text
        assert sum(f"P{i:02d} " in text for i in range(12)) == 3  # the three largest counterparties only
    assert "from 2024-06-01 02:00 to 2024-06-01 02:59 UTC" in _summary(client, case, "en")
    assert "kuanzia 2024-06-01 02:00 hadi 2024-06-01 02:59 UTC" in _summary(client, case, "sw")


def test_the_summary_has_the_case_access_control(client: TestClient) -> None:
    case_id = _case(client, "C000")["case_id"]
    assert client.get(f"/v1/cases/{case_id}/summary", headers={"X-API-Key": ""}).status_code == 401
    scorer = create_key(client.app.state.store, "scorer")  # type: ignore[attr-defined]
    assert client.get(f"/v1/cases/{case_id}/summary", headers={"X-API-Key": scorer}).status_code == 403
    assert client.get("/v1/cases/nope/summary").status_code == 404
    assert client.get(f"/v1/cases/{case_id}/summary", params={"lang": "fr"}).status_code == 422


def test_the_console_case_page_shows_the_summary_in_either_language(client: TestClient) -> None:
    case_id = _case(client, "C000")["case_id"]
    key = create_key(client.app.state.store, "analyst")  # type: ignore[attr-defined]
    with TestClient(client.app) as browser:
        browser.post("/console/login", data={"username": "", "password": key})
        en = browser.get(f"/console/cases/{case_id}").text
        sw = browser.get(f"/console/cases/{case_id}", params={"lang": "sw"}).text
    assert 'id="summary" lang="en"' in en and "Flagged transactions: 3" in en
    assert 'id="summary" lang="sw"' in sw and "Akaunti C000" in sw


# -- a chat model, constrained to the facts -----------------------------------------------------------


class FakeChat(BaseHTTPRequestHandler):
    """An OpenAI-compatible /chat/completions that answers with ``server.reply`` and keeps the requests."""

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        self.server.requests.append(body)  # type: ignore[attr-defined]
        out = json.dumps({"choices": [{"message": {"role": "assistant",
                                                   "content": self.server.reply}}]}).encode()  # type: ignore[attr-defined]
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_chat() -> Iterator[Any]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), FakeChat)
    server.requests = []  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_a_generated_summary_with_an_invented_number_falls_back_to_the_template(client: TestClient,
                                                                                fake_chat: Any) -> None:
    case = _case(client, "C000")
    url = f"http://127.0.0.1:{fake_chat.server_address[1]}/v1"
    fake_chat.reply = "Account C000 sent KES 75,000.00 to M0 in 3 flagged transactions."
    s = summary.summarize(case, "en", chat=ChatGenerator(url, "inventor"))
    assert s.source == "template" and s.rejected == ["numbers not in the case: 75000"]
    assert s.text == summary.template(summary.facts(case), "en")
    sent = fake_chat.requests[-1]
    assert sent["model"] == "inventor" and "Flagged transactions: 3" in sent["messages"][1]["content"]
    # invented accounts, rule names and amounts in words are refused too
    fake_chat.reply = "Account C999 matched mule_fan_in and moved fifty thousand shillings."
    s = summary.summarize(case, "sw", chat=ChatGenerator(url, "inventor-2"))
    assert s.source == "template" and s.text.startswith("Akaunti C000")
    assert s.rejected == ["names not in the case: c999, mule_fan_in", "numbers written as words: thousand"]


def test_a_faithful_generated_summary_is_used_through_the_api(client: TestClient, fake_chat: Any) -> None:
    case = _case(client, "C000")
    largest = summary.money(max(d["amount_minor"] for d in case["decisions"]))
    fake_chat.reply = (f"Akaunti C000 ilikuwa na miamala 3 iliyotiliwa shaka usiku, kubwa zaidi {largest}, "
                       "baada ya SMS ya ulaghai tarehe 2024-06-01.")
    app = client.app
    settings = app.state.settings  # type: ignore[attr-defined]
    app.state.settings = settings.model_copy(  # type: ignore[attr-defined]
        update={"assistant_llm_url": f"http://127.0.0.1:{fake_chat.server_address[1]}/v1",
                "assistant_llm_model": "faithful"})
    try:
        body = client.get(f"/v1/cases/{case['case_id']}/summary", params={"lang": "sw"}).json()
        again = client.get(f"/v1/cases/{case['case_id']}/summary", params={"lang": "sw"}).json()
    finally:
        app.state.settings = settings  # type: ignore[attr-defined]
    assert body == {"case_id": case["case_id"], "lang": "sw", "text": fake_chat.reply, "source": "chat:faithful",
                    "rejected": []}
    assert again == body and len(fake_chat.requests) == 1  # the same facts are not asked twice
    assert "in Swahili" in fake_chat.requests[0]["messages"][0]["content"]


def test_an_endpoint_that_does_not_answer_falls_back_with_the_reason(client: TestClient) -> None:
    case = _case(client, "C004")
    s = summary.summarize(case, "en", chat=ChatGenerator("http://127.0.0.1:9/v1", "down", timeout_s=2))
    assert s.source == "template" and "No SMS is stored" in s.text
    assert len(s.rejected) == 1 and "chat API at http://127.0.0.1:9/v1/chat/completions failed" in s.rejected[0]


def test_the_check_reads_numbers_in_any_format_and_refuses_what_is_not_in_the_facts() -> None:
    facts = 'Account C000: KES 40,600.00 on 2024-06-01 02:00 UTC; big_cash_out: "large cash-out" (on 2 flagged).'
    assert summary.check("C000 moved KES 40600 on 1 June 2024 at 02:00 (big_cash_out, 2 times).", facts) == []
    assert summary.check("C000 moved KES 40,601.00.", facts) == ["numbers not in the case: 40601"]
    assert summary.check("C001 moved money.", facts) == ["names not in the case: c001"]
    assert summary.check("sim_swap_takeover fired.", facts) == ["names not in the case: sim_swap_takeover"]
    assert summary.check("Elfu arobaini zilitumwa.", facts) == ["numbers written as words: Elfu"]
    assert summary.check("  ", facts) == ["empty text"]


def test_a_resolved_case_says_how_it_was_resolved(client: TestClient) -> None:
    case = _case(client, "C004")
    assert client.post(f"/v1/cases/{case['case_id']}/resolve", json={"label": "legitimate"}).status_code == 200
    assert "(resolved as legitimate; highest risk" in _summary(client, case, "en")
    assert "(imefungwa kama halali; hatari ya juu zaidi" in _summary(client, case, "sw")
