"""Grounded answers: citations, the support check, abstention with a hand-off, the chat-API path
against a fake OpenAI-compatible server, and the tools."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from assistant_support import kb_assistant_fixture, kb_index_fixture, kb_settings_fixture  # noqa: F401
from pesaguard.assistant import support
from pesaguard.assistant.answering import CONFIDENCE_MIN, Assistant, answer, pasted_message
from pesaguard.assistant.evaluation import load_jsonl
from pesaguard.assistant.generate import ChatGenerator
from pesaguard.assistant.index import KnowledgeIndex
from pesaguard.assistant.text import detect_language
from pesaguard.config import Settings
from pesaguard.errors import ForbiddenError, InputError
from pesaguard.store import core, open_store
from sms_support import install_model, sms_model_dir  # noqa: F401  (fixture)


def test_in_scope_questions_get_grounded_cited_answers_in_their_language(kb_assistant: Assistant) -> None:
    qs = load_jsonl("retrieval.jsonl")
    answered = gold_cited = 0
    for q in qs:
        a = kb_assistant.ask(q["question"], audience=q["audience"])
        assert a.lang == q["lang"]
        if a.abstained:
            continue
        answered += 1
        gold = {(g["path"], g["heading"]) for g in q["gold"]}
        gold_cited += any((c.path, c.heading) in gold for c in a.citations)
        assert a.sentences and not a.handoff
        assert [c.n for c in a.citations] == list(range(1, len(a.citations) + 1))
        for s in a.sentences:
            assert s.supported and len(s.citations) == 1
            chunk_text = next(c for c in kb_assistant.index.chunks if c.chunk_id == a.citations[s.citations[0] - 1].chunk_id).text
            assert s.text in chunk_text  # extractive: verbatim from the cited chunk
            assert f"{s.text} [{s.citations[0]}]" in a.text
        if q["audience"] == "customer":
            assert {c.lang for c in a.citations} == {q["lang"]}
            assert all(detect_language(s.text) == q["lang"] for s in a.sentences if len(s.text.split()) >= 6)
        for c in a.citations:
            assert c.title and c.heading and c.path.endswith(".md")
    assert answered / len(qs) >= 0.9
    assert gold_cited / answered >= 0.64  # measured 0.688 (docs/benchmarks.md)


def test_out_of_scope_questions_get_a_hand_off(kb_assistant: Assistant) -> None:
    oos = load_jsonl("out_of_scope.jsonl")
    results = [kb_assistant.ask(q["question"]) for q in oos]
    abstained = [r for r in results if r.abstained]
    assert len(abstained) / len(oos) >= 0.9
    for r in abstained:
        assert r.handoff and r.sentences == [] and r.citations == [] and r.confidence < CONFIDENCE_MIN
    sw = kb_assistant.ask("Hali ya hewa itakuwaje Mombasa kesho?")
    assert sw.abstained and sw.lang == "sw" and "MTU" in sw.text
    en = kb_assistant.ask("What's the weather in Mombasa?")
    assert en.abstained and "HUMAN" in en.text


def test_the_example_from_the_issue(kb_assistant: Assistant) -> None:
    a = kb_assistant.ask("nimetapeliwa, elfu ishirini zimeenda! nifanye nini?")
    assert not a.abstained and a.lang == "sw"
    assert any(c.path == "sw/if-scammed.md" for c in a.citations)


def test_analysts_get_playbooks_customers_do_not(kb_assistant: Assistant) -> None:
    q = "What are the indicators of a SIM swap account takeover?"
    assert any(c.audience == "analyst" for c in kb_assistant.ask(q, audience="analyst").citations)
    assert all(c.audience == "customer" for c in kb_assistant.ask(q, audience="customer").citations)


def test_bad_requests_are_refused(kb_assistant: Assistant) -> None:
    with pytest.raises(InputError):
        kb_assistant.ask("   ")
    with pytest.raises(InputError):
        kb_assistant.ask("PIN?", lang="fr")
    with pytest.raises(ForbiddenError):
        kb_assistant.ask("recent activity?", account_id="A1", audience="customer")


# -- the support check ----------------------------------------------------------------------------

# (article, heading, sentence, supported?): paraphrases must pass, invented or contradicting
# sentences must not. These pairs set LEXICAL_MIN / DENSE_MIN and the polarity rule.
PAIRS = [
    ("en/reversals.md", "What the operator does", "The operator holds the money in the receiving account so it cannot be withdrawn.", True),
    ("en/reversals.md", "What the operator does", "If the money has already been withdrawn, the operator may be unable to get it back.", True),
    ("en/reversals.md", "What the operator does", "The operator pays every scam victim a bonus of 500 shillings.", False),
    ("en/reversals.md", "What the operator does", "Reversals are always completed within ten minutes and never fail.", False),
    ("en/sim-swap.md", "What to do immediately", "Use a different phone to call customer care and ask them to block your line.", True),
    ("en/sim-swap.md", "What to do immediately", "You should visit the police headquarters in Nairobi and pay a reactivation fee.", False),
    ("en/sim-swap.md", "What to do immediately", "Call your bank as well if your bank account is linked to the number.", True),
    ("en/pin-otp-phishing.md", "Never share a code or your PIN", "Nobody at the operator needs your PIN.", True),
    ("en/pin-otp-phishing.md", "Never share a code or your PIN", "It is safe to share your PIN with a registered agent.", False),
    ("en/prize-lottery.md", "The rule to remember", "Genuine promotions do not ask winners to pay a fee.", True),
    ("en/prize-lottery.md", "The rule to remember", "Winners must pay 10% tax to collect their prize.", False),
    ("sw/reversals.md", "Mtoa huduma anafanya nini", "Mtoa huduma anazuia pesa kwenye akaunti iliyozipokea ili zisitolewe.", True),
    ("sw/reversals.md", "Mtoa huduma anafanya nini", "Mtoa huduma atakupa zawadi ya shilingi elfu moja.", False),
    ("en/agent-rules.md", "What an agent must never do", "Agents may keep your ID card until the transaction is complete.", False),
    ("en/agent-rules.md", "What an agent must never do", "An agent is not allowed to charge more than the official tariff.", True),
]


@pytest.mark.parametrize(("path", "heading", "sentence", "expected"), PAIRS)
def test_support_check(kb_index: KnowledgeIndex, path: str, heading: str, sentence: str, expected: bool) -> None:
    i = next(i for i, c in enumerate(kb_index.chunks) if c.path == path and c.heading == heading)
    vec = kb_index.embedder.passages([sentence])[0]
    assert support.check(sentence, kb_index.chunks[i], vec, kb_index.sentence_vectors_of(i)).supported is expected


def test_numbers_must_appear_in_the_source(kb_index: KnowledgeIndex) -> None:
    i = next(i for i, c in enumerate(kb_index.chunks) if c.path == "en/reversals.md" and c.heading == "How to request a reversal")
    chunk = kb_index.chunks[i]
    assert support.check("Forward the transaction message to 456.", chunk, None, None).numbers_ok
    assert not support.check("Forward the transaction message to 457.", chunk, None, None).supported


# -- the chat-API path ------------------------------------------------------------------------------

SUPPORTED = "Never send money back yourself when a stranger says they sent it to you by mistake [1]."
INVENTED = "The operator also pays every victim a bonus of 500 shillings within one hour [1]."


class _FakeOpenAI(BaseHTTPRequestHandler):
    requests: ClassVar[list[dict[str, Any]]] = []

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        reply = {"id": "x", "object": "chat.completion", "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": f"{SUPPORTED} {INVENTED}"}}]}
        data = json.dumps(reply).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def fake_llm() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeOpenAI)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    _FakeOpenAI.requests = []
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_generated_text_goes_through_the_support_check(kb_settings: Settings, kb_index: KnowledgeIndex,
                                                       fake_llm: str) -> None:
    settings = kb_settings.model_copy(update={"assistant_llm_url": fake_llm, "assistant_llm_model": "tiny"})
    a = Assistant(settings, index=kb_index).ask("A stranger sent me money by mistake and wants it back")
    assert a.generator == "chat:tiny" and not a.abstained
    assert [s.text for s in a.sentences] == [SUPPORTED.replace(" [1]", "")]
    assert [s.text for s in a.unsupported] == [INVENTED.replace(" [1]", "")]
    assert "bonus" not in a.text and a.text.endswith("[1]")
    assert a.citations[0].path in ("en/reversals.md", "en/reversal-scam.md")
    sent = _FakeOpenAI.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["body"]["model"] == "tiny"
    assert "[1]" in sent["body"]["messages"][1]["content"]  # the sources are numbered for the model


def test_an_unreachable_chat_api_falls_back_to_extractive(kb_settings: Settings, kb_index: KnowledgeIndex) -> None:
    settings = kb_settings.model_copy(update={"assistant_llm_url": "http://127.0.0.1:9/v1",
                                              "assistant_llm_timeout_s": 2.0})
    a = Assistant(settings, index=kb_index).ask("How do I protect myself from SIM swap fraud?")
    assert a.generator.startswith("extractive (fallback") and a.sentences and not a.unsupported


def test_chat_generator_parses_citations_and_drops_out_of_range_ones() -> None:
    gen = ChatGenerator("http://127.0.0.1:1/v1/chat/completions", "m")
    assert gen.endpoint == "http://127.0.0.1:1/v1/chat/completions"


# -- tools and the library entry point --------------------------------------------------------------


def test_pasted_message_detection() -> None:
    assert pasted_message('Is this real? "Confirmed. You have received Ksh 2,000 from JOHN"') == \
        "Confirmed. You have received Ksh 2,000 from JOHN"
    assert pasted_message("Is a 'short' quote a message?") is None


def test_account_activity_tool_for_analysts(kb_settings: Settings, kb_index: KnowledgeIndex) -> None:
    with open_store(kb_settings) as store:
        core.insert_transactions(store, pd.DataFrame({
            "txn_id": ["t1", "t2", "t3"], "ts_ms": [1000, 2000, 3000], "payer": ["ACC9", "X", "ACC9"],
            "payee": ["M1", "ACC9", "M2"], "amount_minor": [500, 700, 900], "currency": ["KES"] * 3}))
        core.insert_labels(store, pd.DataFrame({"txn_id": ["t3"], "is_fraud": [1], "known_at_ms": [5000],
                                                "source": ["victim"], "typology": ["sim_swap"]}))
    a = Assistant(kb_settings, index=kb_index).ask("What should I check after a SIM swap?", audience="analyst",
                                                  account_id="ACC9")
    tool = next(t for t in a.tools if t.tool == "account_activity")
    assert tool.ok and "3 recent transactions (1 labelled fraud)" in tool.summary
    assert [t["txn_id"] for t in tool.data["transactions"]] == ["t3", "t2", "t1"]
    assert tool.data["transactions"][0]["typology"] == "sim_swap"


def test_answer_function_and_citation_text(kb_settings: Settings, kb_index: KnowledgeIndex) -> None:
    a = answer("Can an agent ask for my PIN?", settings=kb_settings)
    assert not a.abstained
    assert str(a.citations[0]).startswith("[1] ") and "—" in str(a.citations[0])
    assert a.timings_ms["total"] > 0


@pytest.mark.slow
def test_sms_check_tool_runs_the_real_shield(tmp_path: Path, kb_index: KnowledgeIndex,
                                             sms_model_dir: Path) -> None:  # noqa: F811
    """The SMS tool calls the SMS shield itself (the real model, trained once per run), never a stand-in."""
    settings = Settings(home=tmp_path / "home")
    install_model(sms_model_dir, settings)
    msg = "Congratulations! You have won KES 50,000 in our promotion. Send 500 registration fee to 0712345678 to claim"
    a = Assistant(settings, index=kb_index).ask(f'I received this, is it real? "{msg}"')
    tool = next(t for t in a.tools if t.tool == "sms_check")
    assert tool.ok and tool.data["verdict"] in ("scam", "suspicious")
    assert tool.summary.startswith(f"SMS check: {tool.data['verdict']}")
    assert not a.abstained


def test_sms_check_tool_reports_a_missing_model_instead_of_guessing(tmp_path: Path,
                                                                    kb_index: KnowledgeIndex) -> None:
    settings = Settings(home=tmp_path / "empty")
    a = Assistant(settings, index=kb_index).ask("Is this real?", message="You have won a car, send 1000 to claim")
    tool = a.tools[0]
    assert tool.tool == "sms_check" and not tool.ok and "sms train" in tool.summary
