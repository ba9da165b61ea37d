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
from pesaguard.assistant import safety, support
from pesaguard.assistant.answering import CONFIDENCE_MIN, Assistant, Turn, answer, pasted_message
from pesaguard.assistant.channels import SMS_CHARS, gsm7
from pesaguard.assistant.evaluation import evaluate_answers, load_facts, load_jsonl, missing_facts
from pesaguard.assistant.generate import ChatGenerator
from pesaguard.assistant.index import KnowledgeIndex
from pesaguard.assistant.text import detect_language
from pesaguard.config import Settings
from pesaguard.errors import ForbiddenError, InputError
from pesaguard.store import core, open_store
from sms_support import install_model, sms_model_dir  # noqa: F401  (fixture)


def test_in_scope_questions_get_grounded_cited_answers_in_their_language(kb_assistant: Assistant) -> None:
    qs = load_jsonl("retrieval.jsonl")[::2]  # half the set keeps the suite fast; the benchmark runs all
    answered = gold_article = 0
    for q in qs:
        a = kb_assistant.ask(q["question"], audience=q["audience"])
        assert a.lang == q["lang"]
        if a.abstained:
            continue
        answered += 1
        gold_article += any(c.path in {g["path"] for g in q["gold"]} for c in a.citations)
        assert a.sentences and not a.handoff
        assert [c.n for c in a.citations] == list(range(1, len(a.citations) + 1))
        chunks = {c.chunk_id: c for c in kb_assistant.index.chunks}
        for s in a.sentences:
            assert s.supported and len(s.citations) == 1
            cited = chunks[a.citations[s.citations[0] - 1].chunk_id]
            assert s.text in cited.sentences  # extractive: verbatim from the cited chunk
            assert f"{s.text} [{s.citations[0]}]" in a.text
        if a.sentences[0].role in ("action", "safety"):  # an answer block leads: its action comes first
            lead = chunks[a.citations[a.sentences[0].citations[0] - 1].chunk_id]
            assert lead.kind == "answer" and a.action and a.ref
        if q["audience"] == "customer":
            assert {c.lang for c in a.citations} == {q["lang"]}
            assert all(detect_language(s.text) == q["lang"] for s in a.sentences if len(s.text.split()) >= 6)
        for c in a.citations:
            assert c.title and c.heading and c.path.endswith(".md")
    assert answered / len(qs) >= 0.9
    assert gold_article / answered >= 0.75  # measured 0.84 (docs/benchmarks.md)


def test_out_of_scope_questions_get_a_hand_off(kb_assistant: Assistant) -> None:
    oos = load_jsonl("out_of_scope.jsonl")
    results = [kb_assistant.ask(q["question"]) for q in oos]
    answered = [q for q, r in zip(oos, results, strict=True) if not r.abstained]
    # every split: dev (fitting), held out (24) and test (60), all abstained (docs/benchmarks.md)
    assert [q["id"] for q in answered] == []
    for r in results:
        if r.abstained:
            assert r.handoff and r.sentences == [] and r.citations == [] and r.confidence < CONFIDENCE_MIN
    sw = kb_assistant.ask("Hali ya hewa itakuwaje Mombasa kesho?")
    assert sw.abstained and sw.lang == "sw" and "MTU" in sw.text
    en = kb_assistant.ask("What's the weather in Mombasa?")
    assert en.abstained and "HUMAN" in en.text


@pytest.mark.parametrize(("off_topic", "twin"), [
    ("How do I reset my Netflix password?", "How do I reset my mobile money PIN?"),
    ("Nimesahau nenosiri la Netflix, nifanye nini?", "Nimesahau PIN ya pesa kwa simu, nifanye nini?"),
    ("How do I send a birthday card to my aunt abroad?", "I sent money to the wrong number, can I get it back?"),
    ("Who do I call to report a fallen tree on the road?", "Who do I call to report a scammer who took my money?"),
    ("How do I become a real estate agent?", "How do I know if a mobile money agent is genuine?"),
    ("Ada ya kujiunga na chuo ni kiasi gani?", "Ada ya kutuma pesa kwa simu ni kiasi gani?"),
])
def test_a_look_alike_is_refused_and_its_mobile_money_twin_answered(kb_assistant: Assistant, off_topic: str,
                                                                     twin: str) -> None:
    """Minimal pairs written for this test (in no training or evaluation set): the same words
    (password/PIN, send, report, agent, fees) about something else are refused."""
    assert kb_assistant.ask(off_topic).abstained
    assert not kb_assistant.ask(twin).abstained


def test_in_scope_questions_of_the_test_split_are_answered_from_their_articles(kb_assistant: Assistant) -> None:
    """Abstaining more is no way to refuse off-topic questions: the test split's in-scope questions
    (written with the out-of-scope ones, never fitted or tuned on) are answered, citing their article."""
    rows = load_jsonl("in_scope.jsonl")
    assert len(rows) >= 40 and {r["split"] for r in rows} == {"test"}
    hits = []
    for r in rows:
        a = kb_assistant.ask(r["question"], audience=r["audience"])
        hits.append(not a.abstained and any(c.ref.rstrip("0123456789") in r["refs"] for c in a.citations if c.ref))
    # measured 37 of 40 (docs/benchmarks.md, Abstention)
    assert sum(hits) >= 36, [r["question"] for r, ok in zip(rows, hits, strict=True) if not ok]


def test_the_examples_from_the_issues(kb_assistant: Assistant) -> None:
    a = kb_assistant.ask("nimetapeliwa, elfu ishirini zimeenda! nifanye nini?")
    assert not a.abstained and a.lang == "sw"
    assert any(c.path == "sw/if-scammed.md" for c in a.citations)
    # the customer-care caller: the first thing said is never to share the PIN
    pin = kb_assistant.ask("A person called me claiming to be from customer care and asked for my PIN. Should I give it?")
    assert not pin.abstained and "pin-never-shared" in pin.safety
    assert safety.states("pin-never-shared", pin.sentences[0].text, "en")
    # the analyst question that used to abstain
    mule = kb_assistant.ask("What are the signs of a mule account?", audience="analyst")
    assert not mule.abstained and mule.citations[0].path == "analyst/mule-networks.md"
    # Swahili wrong-number reversal: the action leads
    sw = kb_assistant.ask("Mtu amenitumia pesa kimakosa na ananiomba nizirudishe kwa namba nyingine. Nifanye nini?")
    assert sw.sentences[0].role in ("action", "safety")
    assert safety.states("reversal-by-operator", sw.text, "sw")
    assert sw.sentences[0].text.startswith(("Usirudishe", "Mwombe mtoa huduma"))


@pytest.mark.parametrize(("previous", "question", "ref"), [
    ("A stranger says he sent me money by mistake and wants it back, what should I do?", "and if I already sent it?",
     "REV2"),
    ("Mtu anasema alinitumia pesa kimakosa na anataka nizirudishe, nifanye nini?", "na kama tayari nimeshazituma?",
     "REV2"),
    ("Someone claiming to be customer care is asking for my PIN, should I give it?", "What if I already gave it to him?",
     "PIN2"),
])
def test_follow_ups_use_the_previous_turn(kb_assistant: Assistant, previous: str, question: str, ref: str) -> None:
    first = kb_assistant.ask(previous)
    assert first.chunk_id and not first.follow_up
    a = kb_assistant.ask(question, previous=Turn(question=previous, lang=first.lang, chunk_id=first.chunk_id))
    assert a.follow_up and a.ref == ref and a.ref != first.ref
    assert not kb_assistant.ask(question).follow_up  # without a previous turn it stands alone


def test_must_have_fact_recall_on_the_held_out_set(kb_assistant: Assistant) -> None:
    """The issue's target on questions written apart from the articles and never used to fit a
    threshold or choose a weight: every must-have fact, with citations, in both languages."""
    rows = load_jsonl("answers.jsonl")
    assert len(rows) >= 100 and sum(r["lang"] == "sw" for r in rows) >= len(rows) / 3
    assert sum(r["split"] == "heldout" for r in rows) >= 70
    report = evaluate_answers(kb_assistant, rows, oos=[], split="heldout")  # out of scope: the test above
    misses = [(x.id, x.missing) for x in report.results if not x.passed]
    # measured (docs/benchmarks.md, answers table): English 0.926, Swahili 0.923; the target is 0.90
    assert report.by_lang["en"]["recall"] >= 0.90, misses
    assert report.by_lang["sw"]["recall"] >= 0.90, misses


def test_the_metric_fails_answers_without_the_facts() -> None:
    facts = load_facts()
    assert missing_facts("Do not send any money back yourself.", "en", ["no_send_back"], facts) == []
    assert missing_facts("Call customer care.", "en", ["no_send_back"], facts) == ["no_send_back"]
    assert missing_facts("Usirudishe pesa wewe mwenyewe.", "sw", ["no_send_back"], facts) == []


@pytest.mark.parametrize(("fact", "lang", "right", "wrong"), [
    # the PIN named first, then the negated verb of telling (Swahili word order)
    ("never_share_pin", "sw", "Weka PIN yako siri: usimpe mtu yeyote, hata ndugu.",
     "Badilisha PIN yako, kisha usitume pesa kwa mtu huyo."),
    ("never_share_pin", "en", "Keep your PIN secret, even from family.", "Keep your PIN and change it every month."),
    # calling the operator with the transaction is reporting it
    ("report_operator", "en", "Call your operator's customer care on the official number straight away and give "
     "the transaction ID of the money you sent.", "Call the person who sent it and ask for the transaction ID."),
    ("report_operator", "sw", "Piga simu huduma kwa wateja wa mtoa huduma wako mara moja na utoe namba ya muamala.",
     "Piga simu kwa mtu aliyekutumia pesa umwombe namba ya muamala."),
    # an account's age said in days or weeks
    ("a_new_account", "en", "A days-old account paid by several strangers and emptied at once is a mule.",
     "Several accounts opened at the same outlet share one device."),
    ("a_new_account", "en", "Find accounts paid by three payers within seven days of opening.",
     "Find old accounts paid by three payers within seven days."),
    # the new fact: a replacement SIM for the same number
    ("sim_replacement", "en", "Get a replacement SIM at an operator shop with your ID.",
     "Call customer care to block your SIM."),
    ("sim_replacement", "sw", "Pata laini mpya kwenye duka la mtoa huduma ukiwa na kitambulisho.",
     "Piga huduma kwa wateja wazuie laini yako."),
])
def test_widened_fact_patterns_accept_paraphrases_and_still_fail_wrong_answers(fact: str, lang: str, right: str,
                                                                              wrong: str) -> None:
    facts = load_facts()
    assert missing_facts(right, lang, [fact], facts) == []
    assert missing_facts(wrong, lang, [fact], facts) == [fact]


def test_analysts_get_playbooks_customers_do_not(kb_assistant: Assistant) -> None:
    q = "What are the indicators of a SIM swap account takeover?"
    assert any(c.audience == "analyst" for c in kb_assistant.ask(q, audience="analyst").citations)
    assert all(c.audience == "customer" for c in kb_assistant.ask(q, audience="customer").citations)


def test_bad_requests_are_refused(kb_assistant: Assistant) -> None:
    with pytest.raises(InputError):
        kb_assistant.ask("   ")
    with pytest.raises(InputError):
        kb_assistant.ask("PIN?", lang="fr")
    with pytest.raises(InputError):
        kb_assistant.ask("PIN?", fmt="mms")
    with pytest.raises(ForbiddenError):
        kb_assistant.ask("recent activity?", account_id="A1", audience="customer")


# -- safety facts ---------------------------------------------------------------------------------


def test_the_safety_check_fails_an_answer_that_omits_a_needed_fact() -> None:
    need = safety.required("Someone called from customer care and wants my PIN", "customer")
    assert need == ["official-numbers-only", "pin-never-shared"]
    bad = "Call back on the official customer care number and report the caller."
    assert safety.missing(need, bad, "en") == ["pin-never-shared"]
    assert safety.missing(need, bad + " Never share your PIN with anyone.", "en") == []
    assert safety.required("mule indicators", "analyst") == []
    assert safety.required("Nilitumiwa pesa kimakosa, nizirudishe?", "customer") == ["reversal-by-operator"]
    assert safety.missing(["reversal-by-operator"], "Usirudishe pesa.", "sw") == ["reversal-by-operator"]
    assert safety.missing(["reversal-by-operator"], "Mtoa huduma atazirudisha.", "sw") == []
    # Swahili puts the PIN before the negated verb: "namba ya siri" as well as "PIN"
    assert safety.missing(["pin-never-shared"], "Weka namba yako ya siri: usimpe mtu yeyote.", "sw") == []
    assert safety.missing(["pin-never-shared"], "Badilisha namba ya siri kwenye menyu rasmi.", "sw") == \
        ["pin-never-shared"]


def test_an_answer_lacking_a_safety_fact_gets_the_marked_sentence_first(
        kb_settings: Settings, kb_index: KnowledgeIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """A fees answer states no PIN rule; when the question needs it, the marked action of a block that
    does is put first with its own citation; with no marked block to cite, the answer is withheld."""
    assistant = Assistant(kb_settings, index=kb_index)
    q = "How much does it cost to withdraw money at an agent?"
    plain = assistant.ask(q)
    assert not plain.abstained and plain.ref == "FEE1" and plain.safety == []
    assert not safety.states("pin-never-shared", plain.text, "en")
    monkeypatch.setattr(safety, "required", lambda question, audience, marked=(): ["pin-never-shared"])
    a = assistant.ask(q)
    assert not a.abstained and a.safety == ["pin-never-shared"]
    assert a.sentences[0].role == "safety" and safety.states("pin-never-shared", a.sentences[0].text, "en")
    assert a.citations[a.sentences[0].citations[0] - 1].ref != "FEE1"  # cited to the block that states it
    assert [s.text for s in a.sentences[-len(plain.sentences):]] == [s.text for s in plain.sentences]
    monkeypatch.setattr(assistant, "_marked", lambda *args, **kwargs: None)
    withheld = assistant.ask(q)
    assert withheld.abstained and withheld.handoff and withheld.sentences == []
    assert withheld.safety_missing == ["pin-never-shared"] and "official customer care" in withheld.text


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
    content: ClassVar[str] = f"{SUPPORTED} {INVENTED}"

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append({"path": self.path, "body": body})
        reply = {"id": "x", "object": "chat.completion", "model": body["model"],
                 "choices": [{"index": 0, "finish_reason": "stop",
                              "message": {"role": "assistant", "content": type(self).content}}]}
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
    _FakeOpenAI.content = f"{SUPPORTED} {INVENTED}"
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
    texts = [s.text for s in a.sentences]
    # constrained by the answer block: its action opens the answer, verbatim, then the model's sentence
    assert a.sentences[0].role == "action" and SUPPORTED.replace(" [1]", "") in texts
    assert texts.index(SUPPORTED.replace(" [1]", "")) > 0
    assert [s.text for s in a.unsupported] == [INVENTED.replace(" [1]", "")]
    assert "bonus" not in a.text
    assert a.citations[0].path in ("en/reversals.md", "en/reversal-scam.md")
    assert safety.states("reversal-by-operator", a.text, "en")
    sent = _FakeOpenAI.requests[0]
    assert sent["path"] == "/v1/chat/completions" and sent["body"]["model"] == "tiny"
    prompt = sent["body"]["messages"][1]["content"]
    assert "[1]" in prompt and "ANSWER BLOCK" in prompt and "ACTION:" in prompt  # blocks are marked for the model


def test_a_generated_answer_that_omits_the_pin_rule_gets_it_first(kb_settings: Settings, kb_index: KnowledgeIndex,
                                                                 fake_llm: str) -> None:
    _FakeOpenAI.content = "Call back on the official customer care number [1]. Report the number that called you [1]."
    settings = kb_settings.model_copy(update={"assistant_llm_url": fake_llm, "assistant_llm_model": "tiny"})
    a = Assistant(settings, index=kb_index).ask("A caller from customer care wants my PIN. Should I give it?")
    assert not a.abstained and "pin-never-shared" in a.safety
    assert safety.states("pin-never-shared", a.sentences[0].text, "en")
    assert all(s.supported and s.citations for s in a.sentences)


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
    # A model ships in the package; one in HOME that cannot be loaded is the way the tool can fail.
    (settings.models_dir / "sms").mkdir(parents=True)
    (settings.models_dir / "sms" / "model.npz").write_bytes(b"truncated")
    a = Assistant(settings, index=kb_index).ask("Is this real?", message="You have won a car, send 1000 to claim")
    tool = a.tools[0]
    assert tool.tool == "sms_check" and not tool.ok and "sms train" in tool.summary


# -- feature phones: SMS answers ---------------------------------------------------------------------


def test_sms_answers_lead_with_the_action_and_end_with_the_reference(kb_assistant: Assistant) -> None:
    for q in load_jsonl("answers.jsonl")[::6] + load_jsonl("out_of_scope.jsonl")[:3]:
        a = kb_assistant.ask(q["question"], audience=q.get("audience", "customer"), fmt="sms")
        assert a.sms and 1 <= len(a.sms) <= 3, q["id"]
        assert all(len(p) <= SMS_CHARS and gsm7(p) == p for p in a.sms), (q["id"], a.sms)
        joined = " ".join(p.split(" ", 1)[1] if len(a.sms) > 1 else p for p in a.sms)
        if a.abstained:
            assert "HUMAN" in joined or "MTU" in joined
            continue
        assert a.action and joined.startswith(gsm7(a.action)[:40]), (q["id"], joined)
        assert joined.endswith(f"Ref {a.ref}"), (q["id"], joined)
    one = kb_assistant.ask("Someone wants me to read him the code that came to my phone", fmt="sms")
    assert one.sms == [f"{gsm7(one.action or '')} Ref {one.ref}"] and len(one.sms[0]) <= SMS_CHARS


# -- the ledger check and reports ---------------------------------------------------------------------


def test_did_i_really_receive_is_checked_in_the_ledger(kb_settings: Settings, kb_index: KnowledgeIndex) -> None:
    import time

    now = int(time.time() * 1000)
    with open_store(kb_settings) as store:
        core.insert_transactions(store, pd.DataFrame({
            "txn_id": ["QK1", "QK2"], "ts_ms": [now - 3_600_000, now - 7_200_000], "payer": ["254712345678", "X9"],
            "payee": ["CUST1", "CUST1"], "amount_minor": [500_000, 120_000], "currency": ["KES", "KES"]}))
        a = Assistant(kb_settings, index=kb_index)
        yes = a.ask("Did I really receive 5,000 from 0712345678?", customer_account="CUST1", store=store, fmt="sms")
        tool = next(t for t in yes.tools if t.tool == "claim_check")
        assert tool.ok and tool.data["status"] == "verified" and tool.data["matched_txn_id"] == "QK1"
        assert tool.summary.startswith("Yes") and yes.sms and _sms_text(yes.sms).startswith("Yes")
        no = a.ask("did i get 7k from this guy? he says he sent it by mistake", customer_account="CUST1", store=store,
                   fmt="sms")
        tool = next(t for t in no.tools if t.tool == "claim_check")
        assert tool.data["status"] == "no_match" and tool.summary.startswith("No")
        assert no.sms and _sms_text(no.sms).startswith("No: your account received no KES 7,000")
        assert safety.states("reversal-by-operator", no.text, "en")  # and the advice that goes with it
        sw = a.ask("Je nimepokea elfu moja mia mbili kweli?", customer_account="CUST1", store=store)
        tool = next(t for t in sw.tools if t.tool == "claim_check")
        assert tool.data["status"] == "verified" and tool.summary.startswith("Ndiyo")
        plain = a.ask("How do I keep my PIN safe?", customer_account="CUST1", store=store)
        assert not any(t.tool == "claim_check" for t in plain.tools)  # not a question about money received


def _sms_text(parts: list[str]) -> str:
    """The SMS parts read as one text (without the "1/2 " numbering)."""
    return " ".join(p.split(" ", 1)[1] for p in parts) if len(parts) > 1 else parts[0]


def test_an_urgent_question_with_a_message_id_opens_one_case(kb_settings: Settings, kb_index: KnowledgeIndex) -> None:
    from pesaguard.store.assistant import get_triage_message

    with open_store(kb_settings) as store:
        a = Assistant(kb_settings, index=kb_index)
        q = "Nimetapeliwa sasa hivi, elfu ishirini zimeenda! Nifanye nini?"
        first = a.ask(q, message_id="sms-77", customer_account="CUST7", channel="sms", store=store)
        report = next(t for t in first.tools if t.tool == "report")
        assert report.ok and report.data["urgency"] == "urgent" and report.data["case_opened"] is True
        again = a.ask(q, message_id="sms-77", customer_account="CUST7", channel="sms", store=store)
        assert next(t for t in again.tools if t.tool == "report").data["case_opened"] is False
        row = get_triage_message(store, "sms-77")
        assert row is not None and row["status"] == "open" and row["account_id"] == "CUST7" and row["channel"] == "sms"
        calm = a.ask("How much does it cost to send money?", message_id="sms-78", store=store)
        assert next(t for t in calm.tools if t.tool == "report").data["case_opened"] is False
        assert get_triage_message(store, "sms-78") is None
        assert not first.abstained and first.lang == "sw"
