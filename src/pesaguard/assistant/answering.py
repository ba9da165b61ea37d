"""Grounded answers: retrieve, decide whether the knowledge base covers the question, draft (from
an answer block first: action, steps, why), keep only sentences a cited chunk supports, make sure
no safety fact the question needs is missing, and hand off to a person otherwise.

A follow-up ("and if I already sent it?") is read together with the previous question of the same
conversation (:class:`Turn`), and answered from a block other than the one just given when the
knowledge base has one."""

from __future__ import annotations

import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from pesaguard.assistant import safety, support
from pesaguard.assistant.documents import Chunk
from pesaguard.assistant.domain import domain_model
from pesaguard.assistant.embed import Embedder
from pesaguard.assistant.generate import (
    Draft,
    Generator,
    LLMUnavailable,
    block_drafts,
    lead_block,
    make_generator,
)
from pesaguard.assistant.index import Hit, KnowledgeIndex, open_index
from pesaguard.assistant.text import detect_language, direction, search_tokens, stage, token_variants, words
from pesaguard.assistant.tools import REGISTRY, ToolResult
from pesaguard.config import Settings, get_settings
from pesaguard.errors import ForbiddenError, InputError, UsageError

Lang = Literal["en", "sw"]
Audience = Literal["customer", "analyst"]

# Abstention: a logistic model of "the knowledge base covers this question" on four signals, fitted by
# ``benchmarks/bench_assistant.py --fit`` (pesaguard.assistant.fitting) on the fitting data only: the
# retrieval questions and the dev answer questions against the dev out-of-scope questions and the
# domain model's written out-of-domain questions. The held-out and test splits and the blind set never
# enter it (docs/benchmarks.md). The signals: the best dense score (chunk cosine, or an answer block's
# closest question: does the best block answer what is asked), the best BM25 score (log1p), the share
# of the question's content words found in the top 3 chunks (a word counts when its Swahili root or a
# Sheng/slang equivalent is there), and the domain model's probability that the question is about
# mobile-money help at all (domain.py; for the fitting questions themselves, out of fold).
# The signals are standardised before the fit (the weights below are on the raw signals). CONFIDENCE_MIN
# is checked on left-out topics (fitting.py: each topic of the fitting data left out of both models in
# turn): the threshold nearest 0.5 within one standard error of the best balanced rate there.
CONFIDENCE_COEF = (28.098, 2.42, 6.204, 7.616)
CONFIDENCE_BIAS = -37.083
CONFIDENCE_MIN = 0.5
TOP_K = 5
SEARCH_K = 20  # hits retrieved: the confidence reads the top 3, answers the top 5, the lead block any
# The answer block an answer leads with: the block in the question's language with the best dense score
# plus this weight times its BM25 score relative to the best block's (dense cosines of e5 sit within a
# few hundredths of each other; BM25 keeps a question's decisive words). Chosen on the dev split:
# must-have-fact recall 0.73 by dense alone, 0.86 by fused rank, 0.87 for weights 0.08-0.5.
BLOCK_BM25_WEIGHT = 0.12
DIRECTION_PENALTY = 0.03  # a few hundredths decide between blocks (see lead_first)
FOLLOW_UP_POOL = 6  # a follow-up chooses among the answer blocks in this many hits for the whole conversation

HANDOFF_SMS = {
    "en": "I can't answer that reliably. Call your operator's official customer care number, or reply HUMAN.",
    "sw": "Siwezi kujibu hilo kwa uhakika. Piga namba rasmi ya huduma kwa wateja, au jibu MTU.",
}
FAILED_SAFETY = {
    "en": ("I can't give you a safe answer to that from my help articles, so I won't guess. Please call your "
           "operator's official customer care number, or reply HUMAN and an agent will contact you."),
    "sw": ("Siwezi kukupa jibu salama kuhusu hilo kutoka kwenye makala zangu, kwa hiyo sitabahatisha. Tafadhali "
           "piga namba rasmi ya huduma kwa wateja, au jibu MTU na wakala atawasiliana nawe."),
}
# A question that leans on the one before it: a connective or "what if" opening, or a short question
# whose subject is a pronoun ("it", "them", "hiyo").
_FOLLOW_UP = re.compile(r"^(and|but|so|also|then|what if|what about|and if|if so|ok(ay)?|na|lakini|je kama|"
                        r"na kama|kama|ikiwa|halafu|alafu|sasa|basi|au|ama)\b", re.I)
_PRONOUNS = frozenset(["it", "that", "this", "them", "they", "he", "she", "him", "her", "those", "hiyo", "huyo",
                       "hizo", "hao", "yeye", "wao", "hicho", "hilo"])

HANDOFF = {
    "en": ("I don't have a reliable answer to that in my help articles, so I won't guess. "
           "You can talk to a person: call your operator's official customer care number, "
           "or reply HUMAN and an agent will contact you."),
    "sw": ("Sina jibu la uhakika kuhusu hilo kwenye makala zangu za msaada, kwa hiyo sitabahatisha. "
           "Unaweza kuongea na mtu: piga namba rasmi ya huduma kwa wateja wa mtoa huduma wako, "
           "au jibu MTU na wakala atawasiliana nawe."),
}


class Turn(BaseModel):
    """The previous question of a conversation and the block that answered it, for follow-ups."""

    question: str
    lang: str | None = None
    chunk_id: str | None = None


class Citation(BaseModel):
    """A numbered source: ``[n]`` in the answer text points here."""

    n: int
    title: str
    heading: str
    path: str
    chunk_id: str
    lang: str
    audience: str
    ref: str | None = Field(default=None, description="short reference of the article or answer block (SMS shows it)")

    def __str__(self) -> str:
        ref = f" {self.ref}" if self.ref else ""
        return f"[{self.n}] {self.title} — {self.heading} ({self.path}){ref}"


class AnswerSentence(BaseModel):
    text: str
    citations: list[int]
    supported: bool
    support: float = Field(description="support score: the better of word overlap and cosine to the cited chunk")
    role: str = Field(default="extract", description="action, step or why of an answer block, safety (a "
                                                    "safety fact put first), or extract (a prose sentence)")


class Answer(BaseModel):
    """An answer whose every sentence cites a supporting chunk, or an abstention with a hand-off."""

    question: str
    lang: Lang
    audience: Audience
    text: str = Field(description="the answer with [n] citation markers, or the hand-off message")
    sentences: list[AnswerSentence]
    citations: list[Citation]
    abstained: bool
    handoff: bool = Field(description="a human hand-off is offered")
    confidence: float = Field(description="estimated probability that the knowledge base covers the question")
    generator: str
    action: str | None = Field(default=None, description="what to do first (the leading answer block's action)")
    ref: str | None = Field(default=None, description="short reference of the answer block the answer leads with")
    chunk_id: str | None = Field(default=None, description="the chunk the answer leads with (for follow-ups)")
    safety: list[str] = Field(default_factory=list, description="safety facts the question needs, all stated")
    safety_missing: list[str] = Field(default_factory=list,
                                      description="safety facts that could not be stated: the answer was withheld")
    follow_up: bool = Field(default=False, description="read together with the previous question")
    sms: list[str] | None = Field(default=None, description="the answer as 1-3 SMS parts (format sms)")
    unsupported: list[AnswerSentence] = Field(default_factory=list,
                                              description="drafted sentences removed by the support check")
    tools: list[ToolResult] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


def confidence(question: str, hits: list[Hit], in_domain: float) -> float:
    """Probability that the retrieved chunks cover the question (see :data:`CONFIDENCE_COEF`)."""
    if not hits:
        return 0.0
    return float(_sigmoid(np.dot(CONFIDENCE_COEF, confidence_features(question, hits, in_domain)) + CONFIDENCE_BIAS))


def confidence_features(question: str, hits: list[Hit], in_domain: float) -> np.ndarray:
    groups = token_variants(question)
    top = {t for h in hits[:3] for t in search_tokens(h.chunk.search_text)}
    coverage = sum(bool(g & top) for g in groups) / len(groups) if groups else 0.0
    return np.array([max(h.dense for h in hits), math.log1p(max(h.bm25 for h in hits)), coverage, in_domain])


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


def looks_like_follow_up(question: str) -> bool:
    """A question that cannot stand alone: it opens with a connective or is short and pronoun-led.

    >>> looks_like_follow_up("and if I already sent it?"), looks_like_follow_up("na kama nimeshazituma?")
    (True, True)
    >>> looks_like_follow_up("I sent money to the wrong number, how do I get it back?")
    False
    """
    q = question.strip().lower()
    if _FOLLOW_UP.match(q):
        return True
    ws = words(q)
    return len(ws) <= 7 and any(w in _PRONOUNS for w in ws)


_QUOTED = re.compile(r"[\"“”']([^\"“”]{25,})[\"“”']")


def pasted_message(question: str) -> str | None:
    """A quoted message of 25+ characters inside the question (what a customer pastes to ask about).

    >>> pasted_message('Is this real? "Confirmed. You have received Ksh 2,000 from JOHN"')
    'Confirmed. You have received Ksh 2,000 from JOHN'
    """
    m = _QUOTED.search(question)
    return m.group(1).strip() if m else None


class Assistant:
    """Retrieval, generation, the support check and the safety check over one knowledge index."""

    def __init__(self, settings: Settings, index: KnowledgeIndex | None = None,
                 embedder: Embedder | None = None, generator: Generator | None = None) -> None:
        self.settings = settings
        self.index = index if index is not None else open_index(settings, embedder)
        self.embedder = self.index.embedder
        self.generator = generator or make_generator(
            "llm" if settings.assistant_llm_url else "extractive", url=settings.assistant_llm_url,
            model=settings.assistant_llm_model, api_key=settings.assistant_llm_api_key,
            timeout_s=settings.assistant_llm_timeout_s)
        self._extractive = make_generator("extractive", url=None, model="")

    def ask(self, question: str, *, lang: str = "auto", audience: str = "customer", message: str | None = None,
            account_id: str | None = None, generator: str | None = None, store: Any = None,
            previous: Turn | None = None, customer_account: str | None = None, message_id: str | None = None,
            channel: str | None = None, fmt: str = "text") -> Answer:
        """Answer ``question`` for ``audience`` in ``lang`` (``auto`` detects en/sw).

        ``previous`` is the conversation's last turn (follow-ups are read with it); ``customer_account``
        is the logged-in customer's account (enables the ledger check of "did I receive ..."
        questions); ``message_id`` lets an urgent question open a case (triage, once per id);
        ``fmt="sms"`` also renders the answer as SMS parts. ``store`` is what the tools read
        (default: the configured store, opened for the call)."""
        t0 = time.perf_counter()
        question = " ".join(question.split())
        if not question:
            raise InputError("the question is empty", field="question", hint="ask a question in English or Swahili")
        if audience not in ("customer", "analyst"):
            raise InputError(f"audience {audience!r} is not customer or analyst", field="audience")
        if fmt not in ("text", "sms"):
            raise InputError(f"format {fmt!r} is not text or sms", field="format", hint="use text or sms")
        if account_id and audience != "analyst":
            raise ForbiddenError("account look-ups are for analysts", field="account_id",
                                 hint="ask with audience analyst (an analyst key in the API)")
        qlang = detect_language(question) if lang == "auto" else lang
        if qlang not in ("en", "sw"):
            raise InputError(f"language {lang!r} is not auto, en or sw", field="lang")
        self.index.reload_if_changed()
        qvec = self.embedder.query(question)
        t1 = time.perf_counter()
        hits = self.index.search(question, qvec, k=SEARCH_K, audience=audience, lang=qlang)
        in_domain = domain_model(self.index).prob(qvec)
        conf = confidence(question, hits, in_domain)
        follow_up = False
        if previous is not None and (looks_like_follow_up(question) or conf < CONFIDENCE_MIN):
            hits, conf, follow_up = self._follow_up(question, qvec, previous, hits, conf, audience, qlang)
        else:
            hits = lead_first(hits, qlang, question)
        t2 = time.perf_counter()
        results = self._run_tools(question, message, account_id, store, customer_account=customer_account,
                                  message_id=message_id, channel=channel, lang=qlang)
        gen = self.generator if generator is None else self._pick(generator)
        drafts, gen_name = self._draft(gen, question, qlang, hits[:TOP_K], qvec) if conf >= CONFIDENCE_MIN else ([], gen.name)
        kept, dropped, used = self._check(drafts, hits[:TOP_K])
        need: list[str] = []
        lost: list[str] = []
        if kept:
            if gen.name != "extractive":
                kept, used = self._lead_with_action(kept, used, hits[:TOP_K], qlang)
            lead = used[0] if used else None
            need = safety.required(question, audience, lead.block.safety if lead and lead.block else ())
            kept, used, lost = self._ensure_safety(need, kept, used, hits, qvec, qlang, audience)
        t3 = time.perf_counter()
        timings = {"embed": (t1 - t0) * 1e3, "retrieve": (t2 - t1) * 1e3, "generate": (t3 - t2) * 1e3,
                   "total": (t3 - t0) * 1e3}
        common: dict[str, Any] = dict(question=question, lang=qlang, audience=audience, confidence=conf,
                                      generator=gen_name, unsupported=dropped, tools=results, timings_ms=timings,
                                      follow_up=follow_up)
        if not kept or lost:
            text = FAILED_SAFETY[qlang] if lost else HANDOFF[qlang]
            out = Answer(text=text, sentences=[], citations=[], abstained=True, handoff=True, safety_missing=lost,
                         **common)
        else:
            cites = [_citation(n, c) for n, c in enumerate(used, 1)]
            lead_chunk = used[kept[0].citations[0] - 1]
            action = " ".join(s.text for s in kept if s.role in ("safety", "action")) or kept[0].text
            out = Answer(text=_render(kept), sentences=kept, citations=cites, abstained=False, handoff=False,
                         action=action, ref=lead_chunk.ref or None,
                         chunk_id=lead_chunk.chunk_id, safety=need, **common)
        if fmt == "sms":
            from pesaguard.assistant.channels import sms_parts

            out.sms = sms_parts(out)
        return out

    def _follow_up(self, question: str, qvec: np.ndarray, previous: Turn, hits: list[Hit], conf: float,
                   audience: str, lang: str) -> tuple[list[Hit], float, bool]:
        """Retrieve for the previous question and this one together, and lead with the answer block
        among those found that fits both the pair and this question alone best (sum of the two
        cosines), preferring blocks of the article that answered the previous question (the next
        step of the same story). The block that already answered is left out when another was
        found: the customer has that advice, the follow-up asks for the next piece."""
        joint = f"{previous.question} {question}"
        jvec = self.embedder.query(joint)
        jhits = self.index.search(joint, jvec, k=10, audience=audience, lang=lang)
        jconf = confidence(joint, jhits, domain_model(self.index).prob(jvec))
        if jconf < CONFIDENCE_MIN and conf < CONFIDENCE_MIN:
            return hits, conf, False
        blocks = [h for h in jhits[:FOLLOW_UP_POOL] if h.chunk.kind == "answer" and h.chunk.lang == lang]
        fresh = [h for h in blocks if h.chunk.chunk_id != previous.chunk_id]
        prev_doc = next((h.chunk.doc_id for h in jhits if h.chunk.chunk_id == previous.chunk_id), None)
        fresh = [h for h in fresh if h.chunk.doc_id == prev_doc] or fresh  # the same story's next step first
        if fresh:
            solo = self.index.dense_scores(qvec)
            best = max(fresh, key=lambda h: h.dense + solo[h.index])
            repeat = [h for h in jhits if h.chunk.chunk_id == previous.chunk_id]
            jhits = [best] + [h for h in jhits if h is not best and h.chunk.chunk_id != previous.chunk_id] + repeat
        else:
            jhits = lead_first(jhits, lang, question)
        return jhits, max(jconf, conf), True

    def _pick(self, kind: str) -> Generator:
        if kind == "extractive":
            return self._extractive
        if kind == "llm" and self.generator.name != "extractive":
            return self.generator
        if kind == "llm" and not self.settings.assistant_llm_url:
            raise UsageError("no chat API is configured for the assistant", field="generator",
                             hint="ask with generator extractive, or set PESAGUARD_ASSISTANT_LLM_URL")
        return make_generator(kind, url=self.settings.assistant_llm_url, model=self.settings.assistant_llm_model,
                              api_key=self.settings.assistant_llm_api_key,
                              timeout_s=self.settings.assistant_llm_timeout_s)

    def _draft(self, gen: Generator, question: str, lang: str, hits: list[Hit],
               qvec: np.ndarray) -> tuple[list[Draft], str]:
        try:
            return gen.generate(question, lang, hits, qvec, self.index), gen.name
        except LLMUnavailable as exc:
            # The chat API is an optional extra: without it the customer still gets a cited answer.
            drafts = self._extractive.generate(question, lang, hits, qvec, self.index)
            return drafts, f"extractive (fallback: {exc.message})"

    def _check(self, drafts: list[Draft], hits: list[Hit]) -> tuple[list[AnswerSentence], list[AnswerSentence],
                                                                    list[Chunk]]:
        """Keep drafts supported by a chunk they cite (or, if uncited or mis-cited, by another
        retrieved chunk, which then becomes the citation); number the cited chunks 1..n."""
        if not drafts:
            return [], [], []
        todo = [d.text for d in drafts if d.vec is None]
        fresh = iter(self.embedder.passages(todo)) if todo else iter(())
        vecs = [d.vec if d.vec is not None else next(fresh) for d in drafts]
        used: list[Chunk] = []
        kept, dropped = [], []
        for d, v in zip(drafts, vecs, strict=True):
            order = list(d.cites) + [i for i in range(1, len(hits) + 1) if i not in d.cites]
            best: tuple[int, support.Support] | None = None
            for pos in order:
                h = hits[pos - 1]
                s = support.check(d.text, h.chunk, v, self.index.sentence_vectors_of(h.index))
                if s.supported:
                    best = (pos, s)
                    break
                if best is None or s.score > best[1].score:
                    best = (pos, s)
            assert best is not None
            pos, s = best
            if not s.supported:
                dropped.append(AnswerSentence(text=d.text, citations=[], supported=False, support=s.score))
                continue
            kept.append(AnswerSentence(text=d.text, citations=[_number(used, hits[pos - 1].chunk)], supported=True,
                                       support=s.score, role=d.role))
        return kept, dropped, used

    def _lead_with_action(self, kept: list[AnswerSentence], used: list[Chunk], hits: list[Hit],
                          lang: str) -> tuple[list[AnswerSentence], list[Chunk]]:
        """A generated answer opens with the action of the answer block that fits the question
        (verbatim, cited) unless its first sentence already comes from that action."""
        pos = lead_block(hits, lang)
        if pos is None:
            return kept, used
        block = hits[pos].chunk
        action = [d for d in block_drafts(hits, pos, self.index) if d.role == "action"]
        first_cited = used[kept[0].citations[0] - 1]
        if first_cited.chunk_id == block.chunk_id and any(
                support.lexical_overlap(kept[0].text, d.text) >= support.LEXICAL_MIN for d in action):
            return kept, used
        used = list(used)
        lead = [AnswerSentence(text=d.text, citations=[_number(used, block)], supported=True, support=1.0,
                               role="action") for d in action]
        texts = {d.text for d in action}
        return lead + [s for s in kept if s.text not in texts], used

    def _ensure_safety(self, need: list[str], kept: list[AnswerSentence], used: list[Chunk], hits: list[Hit],
                       qvec: np.ndarray, lang: str, audience: str
                       ) -> tuple[list[AnswerSentence], list[Chunk], list[str]]:
        """Put first, for every needed safety fact the answer does not state, the sentences of a marked
        block that state it (its action, else the step that does); return the facts that no marked
        block in the answer's language can state (the answer then fails)."""
        text = " ".join(s.text for s in kept)
        lacking = safety.missing(need, text, lang)
        if not lacking:
            return kept, used, []
        used = list(used)
        lead: list[AnswerSentence] = []
        lost = []
        for fact in lacking:
            chunk = self._marked(fact, hits, qvec, lang, audience)
            if chunk is None:
                lost.append(fact)
                continue
            n = _number(used, chunk)
            for sentence in _stating(chunk, fact, lang):
                if sentence not in text and all(sentence != s.text for s in lead):
                    lead.append(AnswerSentence(text=sentence, citations=[n], supported=True, support=1.0,
                                               role="safety"))
            text = " ".join([*(s.text for s in lead), text])
        kept = lead + kept
        lost += [f for f in safety.missing([f for f in lacking if f not in lost], text, lang)]
        return kept, used, lost

    def _marked(self, fact: str, hits: list[Hit], qvec: np.ndarray, lang: str, audience: str) -> Chunk | None:
        """The answer block marked with ``fact`` that best fits the question: one already retrieved,
        else the closest marked block of the reader's audience in ``lang``."""
        for h in hits:
            c = h.chunk
            if c.block and fact in c.block.safety and c.lang == lang and _stating(c, fact, lang):
                return c
        mask = self.index.mask(audience, lang, ("answer",))
        best: tuple[float, Chunk] | None = None
        for i in np.flatnonzero(mask):
            c = self.index.chunks[i]
            if c.block and fact in c.block.safety and c.lang == lang and _stating(c, fact, lang):
                score = float(self.index.chunk_vectors[i] @ qvec)
                if best is None or score > best[0]:
                    best = (score, c)
        return best[1] if best else None

    def _run_tools(self, question: str, message: str | None, account_id: str | None, store: Any, *,
                   customer_account: str | None = None, message_id: str | None = None,
                   channel: str | None = None, lang: str = "en") -> list[ToolResult]:
        out = []
        text = message or pasted_message(question)
        if text:
            out.append(REGISTRY["sms_check"].run(self.settings, text=text, account_id=account_id or customer_account,
                                                 store=store))
        if account_id:
            out.append(REGISTRY["account_activity"].run(self.settings, account_id=account_id, store=store))
        if customer_account and not text:
            claim = REGISTRY["claim_check"].run(self.settings, question=question, account_id=customer_account,
                                                store=store, lang=lang)
            if claim.data.get("asked"):
                out.append(claim)
        if message_id:
            out.append(REGISTRY["report"].run(self.settings, text=question, message_id=message_id,
                                              account_id=customer_account, channel=channel, store=store))
        return out


def lead_first(hits: list[Hit], lang: str, question: str = "") -> list[Hit]:
    """``hits`` with the answer block to lead with moved first (see :data:`BLOCK_BM25_WEIGHT`); a
    block whose questions move money the other way than ``question`` does ("I sent" against "he
    sent me"), or are at the other stage ("he wants my PIN" against "I gave my PIN"), loses
    :data:`DIRECTION_PENALTY` for each."""
    blocks = [h for h in hits if h.chunk.kind == "answer"]
    blocks = [h for h in blocks if h.chunk.lang == lang] or blocks
    if not blocks:
        return hits
    top_bm25 = max(h.bm25 for h in blocks) or 1.0
    axes = [(f, f(question)) for f in (direction, stage)] if question else []

    def score(h: Hit) -> float:
        s = h.dense + BLOCK_BM25_WEIGHT * h.bm25 / top_bm25
        for f, asked in axes:
            if asked is not None and _block_axis(h.chunk, f) not in (None, asked):
                s -= DIRECTION_PENALTY
        return s

    best = max(blocks, key=score)
    return [best] + [h for h in hits if h is not best]


def _block_axis(chunk: Chunk, axis: Callable[[str], str | None]) -> str | None:
    """The value most of a block's questions (title and asks) take on ``axis``, if most agree."""
    found = [d for d in (axis(k) for k in chunk.keys) if d is not None]
    if not found:
        return None
    top = max(set(found), key=found.count)
    return top if found.count(top) * 2 > len(found) else None


def _stating(chunk: Chunk, fact: str, lang: str) -> tuple[str, ...]:
    """The sentences of a marked block that state ``fact``: its action when the action does, else
    the first step that does (empty when neither does)."""
    action = chunk.part("action")
    if safety.states(fact, " ".join(action), lang):
        return action
    return next(((s,) for s in chunk.part("steps") if safety.states(fact, s, lang)), ())


def _number(used: list[Chunk], chunk: Chunk) -> int:
    """The citation number of ``chunk``, adding it to ``used`` when new."""
    for n, c in enumerate(used, 1):
        if c.chunk_id == chunk.chunk_id:
            return n
    used.append(chunk)
    return len(used)


def _citation(n: int, c: Chunk) -> Citation:
    return Citation(n=n, title=c.title, heading=c.heading, path=c.path, chunk_id=c.chunk_id, lang=c.lang,
                    audience=c.audience, ref=c.ref or None)


def _render(sentences: list[AnswerSentence]) -> str:
    """Action (and safety) sentences first on one line, then numbered steps, then the why."""
    lines: list[str] = []
    step = 0
    para: list[str] = []
    for s in sentences:
        marked = f"{s.text} " + "".join(f"[{n}]" for n in s.citations)
        if s.role == "step":
            if para:
                lines.append(" ".join(para))
                para = []
            step += 1
            lines.append(f"{step}. {marked}")
        else:
            if s.role == "why" and para and step:
                lines.append(" ".join(para))
                para = []
            para.append(marked)
    if para:
        lines.append(" ".join(para))
    return "\n".join(lines)


_assistants: dict[tuple[str, str | None], Assistant] = {}
_lock = threading.Lock()


def get_assistant(settings: Settings | None = None) -> Assistant:
    """The process-wide :class:`Assistant` for ``settings`` (its index opened, built if missing)."""
    settings = settings or get_settings()
    key = (str(settings.home.resolve()), settings.assistant_llm_url)
    with _lock:
        a = _assistants.get(key)
        if a is None:
            a = Assistant(settings)
            _assistants[key] = a
        return a


def answer(question: str, *, lang: str = "auto", audience: str = "customer", settings: Settings | None = None,
           message: str | None = None, account_id: str | None = None, generator: str | None = None,
           store: Any = None, previous: Turn | None = None, customer_account: str | None = None,
           message_id: str | None = None, channel: str | None = None, fmt: str = "text") -> Answer:
    """Answer a fraud-help question with citations, or abstain and offer a human hand-off.

    ``message`` is an SMS to run the scam check on; ``account_id`` (analysts) adds the account's
    recent activity; ``customer_account`` (the logged-in customer) enables the ledger check of
    "did I receive ..." questions; ``message_id`` lets an urgent question open a case; ``previous``
    is the conversation's last turn. ``generator`` forces ``"extractive"`` or ``"llm"``; by default
    the chat API is used when ``assistant_llm_url`` is set. ``fmt="sms"`` adds SMS parts.
    """
    return get_assistant(settings).ask(question, lang=lang, audience=audience, message=message,
                                       account_id=account_id, generator=generator, store=store, previous=previous,
                                       customer_account=customer_account, message_id=message_id, channel=channel,
                                       fmt=fmt)
