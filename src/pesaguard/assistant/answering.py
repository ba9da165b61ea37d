"""Grounded answers: retrieve, decide whether the knowledge base covers the question, draft,
keep only sentences a cited chunk supports, and hand off to a person otherwise."""

from __future__ import annotations

import math
import re
import threading
import time
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, Field

from pesaguard.assistant import support
from pesaguard.assistant.embed import Embedder
from pesaguard.assistant.generate import Draft, Generator, LLMUnavailable, make_generator
from pesaguard.assistant.index import Hit, KnowledgeIndex, open_index
from pesaguard.assistant.text import detect_language, tokens
from pesaguard.assistant.tools import REGISTRY, ToolResult
from pesaguard.config import Settings, get_settings
from pesaguard.errors import ForbiddenError, InputError, UsageError

Lang = Literal["en", "sw"]
Audience = Literal["customer", "analyst"]

# Abstention: a logistic model of "the knowledge base covers this question" on three retrieval
# signals, fitted by ``evaluation.calibrate_abstention`` on the shipped in-scope questions against
# the out-of-scope ones (``benchmarks/bench_assistant.py`` refits it and prints these numbers;
# docs/benchmarks.md has the leave-one-out rates). The signals: the best chunk cosine, the best
# BM25 score (log1p), and the share of the question's content words found in the top 3 chunks.
CONFIDENCE_COEF = (3.854, 5.522, 4.784)
CONFIDENCE_BIAS = -11.710
CONFIDENCE_MIN = 0.5
TOP_K = 5

HANDOFF = {
    "en": ("I don't have a reliable answer to that in my help articles, so I won't guess. "
           "You can talk to a person: call your operator's official customer care number, "
           "or reply HUMAN and an agent will contact you."),
    "sw": ("Sina jibu la uhakika kuhusu hilo kwenye makala zangu za msaada, kwa hiyo sitabahatisha. "
           "Unaweza kuongea na mtu: piga namba rasmi ya huduma kwa wateja wa mtoa huduma wako, "
           "au jibu MTU na wakala atawasiliana nawe."),
}


class Citation(BaseModel):
    """A numbered source: ``[n]`` in the answer text points here."""

    n: int
    title: str
    heading: str
    path: str
    chunk_id: str
    lang: str
    audience: str

    def __str__(self) -> str:
        return f"[{self.n}] {self.title} — {self.heading} ({self.path})"


class AnswerSentence(BaseModel):
    text: str
    citations: list[int]
    supported: bool
    support: float = Field(description="support score: the better of word overlap and cosine to the cited chunk")


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
    unsupported: list[AnswerSentence] = Field(default_factory=list,
                                              description="drafted sentences removed by the support check")
    tools: list[ToolResult] = Field(default_factory=list)
    timings_ms: dict[str, float] = Field(default_factory=dict)


def confidence(question: str, hits: list[Hit]) -> float:
    """Probability that the retrieved chunks cover the question (see :data:`CONFIDENCE_COEF`)."""
    if not hits:
        return 0.0
    return float(_sigmoid(np.dot(CONFIDENCE_COEF, confidence_features(question, hits)) + CONFIDENCE_BIAS))


def confidence_features(question: str, hits: list[Hit]) -> np.ndarray:
    qt = tokens(question)
    top = {t for h in hits[:3] for t in tokens(h.chunk.embed_text)}
    coverage = sum(t in top for t in qt) / len(qt) if qt else 0.0
    return np.array([max(h.dense for h in hits), math.log1p(max(h.bm25 for h in hits)), coverage])


def _sigmoid(x: float) -> float:
    return 1.0 / (1.0 + math.exp(-x))


_QUOTED = re.compile(r"[\"“”']([^\"“”]{25,})[\"“”']")


def pasted_message(question: str) -> str | None:
    """A quoted message of 25+ characters inside the question (what a customer pastes to ask about).

    >>> pasted_message('Is this real? "Confirmed. You have received Ksh 2,000 from JOHN"')
    'Confirmed. You have received Ksh 2,000 from JOHN'
    """
    m = _QUOTED.search(question)
    return m.group(1).strip() if m else None


class Assistant:
    """Retrieval, generation and the support check over one knowledge index."""

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
            account_id: str | None = None, generator: str | None = None, store: Any = None) -> Answer:
        """Answer ``question`` for ``audience`` in ``lang`` (``auto`` detects en/sw). ``store`` is
        what the tools read (default: the configured store, opened for the call)."""
        t0 = time.perf_counter()
        question = " ".join(question.split())
        if not question:
            raise InputError("the question is empty", field="question", hint="ask a question in English or Swahili")
        if audience not in ("customer", "analyst"):
            raise InputError(f"audience {audience!r} is not customer or analyst", field="audience")
        if account_id and audience != "analyst":
            raise ForbiddenError("account look-ups are for analysts", field="account_id",
                                 hint="ask with audience analyst (an analyst key in the API)")
        qlang = detect_language(question) if lang == "auto" else lang
        if qlang not in ("en", "sw"):
            raise InputError(f"language {lang!r} is not auto, en or sw", field="lang")
        self.index.reload_if_changed()
        qvec = self.embedder.query(question)
        t1 = time.perf_counter()
        hits = self.index.search(question, qvec, k=10, audience=audience, lang=qlang)
        conf = confidence(question, hits)
        t2 = time.perf_counter()
        results = self._run_tools(question, message, account_id, store)
        gen = self.generator if generator is None else self._pick(generator)
        drafts, gen_name = self._draft(gen, question, qlang, hits[:TOP_K], qvec) if conf >= CONFIDENCE_MIN else ([], gen.name)
        kept, dropped, cites = self._check(drafts, hits[:TOP_K])
        t3 = time.perf_counter()
        timings = {"embed": (t1 - t0) * 1e3, "retrieve": (t2 - t1) * 1e3, "generate": (t3 - t2) * 1e3,
                   "total": (t3 - t0) * 1e3}
        common: dict[str, Any] = dict(question=question, lang=qlang, audience=audience, confidence=conf,
                                      generator=gen_name, unsupported=dropped, tools=results, timings_ms=timings)
        if not kept:
            return Answer(text=HANDOFF[qlang], sentences=[], citations=[], abstained=True, handoff=True, **common)
        text = " ".join(f"{s.text} " + "".join(f"[{n}]" for n in s.citations) for s in kept)
        return Answer(text=text, sentences=kept, citations=cites, abstained=False, handoff=False, **common)

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
                                                                    list[Citation]]:
        """Keep drafts supported by a chunk they cite (or, if uncited or mis-cited, by another
        retrieved chunk, which then becomes the citation); renumber citations 1..n."""
        if not drafts:
            return [], [], []
        todo = [d.text for d in drafts if d.vec is None]
        fresh = iter(self.embedder.passages(todo)) if todo else iter(())
        vecs = [d.vec if d.vec is not None else next(fresh) for d in drafts]
        numbering: dict[int, int] = {}
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
            n = numbering.setdefault(pos, len(numbering) + 1)
            kept.append(AnswerSentence(text=d.text, citations=[n], supported=True, support=s.score))
        cites = [Citation(n=n, title=hits[pos - 1].chunk.title, heading=hits[pos - 1].chunk.heading,
                          path=hits[pos - 1].chunk.path, chunk_id=hits[pos - 1].chunk.chunk_id,
                          lang=hits[pos - 1].chunk.lang, audience=hits[pos - 1].chunk.audience)
                 for pos, n in sorted(numbering.items(), key=lambda kv: kv[1])]
        return kept, dropped, cites

    def _run_tools(self, question: str, message: str | None, account_id: str | None,
                   store: Any) -> list[ToolResult]:
        out = []
        text = message or pasted_message(question)
        if text:
            out.append(REGISTRY["sms_check"].run(self.settings, text=text, account_id=account_id, store=store))
        if account_id:
            out.append(REGISTRY["account_activity"].run(self.settings, account_id=account_id, store=store))
        return out


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
           store: Any = None) -> Answer:
    """Answer a fraud-help question with citations, or abstain and offer a human hand-off.

    ``message`` is an SMS to run the scam check on; ``account_id`` (analysts) adds the account's
    recent activity. ``generator`` forces ``"extractive"`` or ``"llm"``; by default the chat API is
    used when ``assistant_llm_url`` is set.
    """
    return get_assistant(settings).ask(question, lang=lang, audience=audience, message=message,
                                       account_id=account_id, generator=generator, store=store)
