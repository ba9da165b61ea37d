"""Answer generators: extractive (default, no model) and an OpenAI-compatible chat endpoint.

A generator turns the question and the retrieved chunks into draft sentences, each citing chunks
by their 1-based position in the list it was given. It does not decide what is supported: the
assistant runs the same support check on every draft, whatever wrote it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

import httpx
import numpy as np

from pesaguard.assistant.index import Hit, KnowledgeIndex
from pesaguard.assistant.support import lexical_overlap, strip_citations
from pesaguard.assistant.text import split_sentences, words
from pesaguard.errors import ConfigError, PesaguardError


@dataclass(frozen=True, eq=False)
class Draft:
    text: str
    cites: tuple[int, ...]  # 1-based positions in the hits handed to the generator
    vec: np.ndarray | None = None  # the sentence's passage vector when already known (extractive)
    role: str = "extract"  # an answer block's "action", "step" or "why"; "extract" for prose sentences


def lead_block(hits: list[Hit], lang: str) -> int | None:
    """Position (0-based) of the answer block an answer leads with: the best-ranked answer block in
    the question's language among the hits (fused rank: on the dev split, re-ranking by the dense
    score alone lost 15 points of must-have-fact recall, BM25 keeps a question's decisive words)."""
    blocks = [i for i, h in enumerate(hits) if h.chunk.kind == "answer"]
    same = [i for i in blocks if hits[i].chunk.lang == lang]
    pick = same or blocks
    return pick[0] if pick else None


def block_drafts(hits: list[Hit], pos: int, index: KnowledgeIndex) -> list[Draft]:
    """The sentences of the answer block at ``pos``: action first, then the steps, then the why."""
    h = hits[pos]
    vecs = index.sentence_vectors_of(h.index)
    roles = ["action"] * len(h.chunk.part("action")) + ["step"] * len(h.chunk.part("steps")) + \
        ["why"] * len(h.chunk.part("why"))
    return [Draft(s, (pos + 1,), v, r) for s, v, r in zip(h.chunk.sentences, vecs, roles, strict=True)]


# "What do I do" questions want advice; advice sentences in the articles are imperatives.
_ASKS_ACTION = re.compile(r"\b(what (should|do|can|must) i|what now|how (do|can|should) i|what to do|should i|"
                          r"nifanye|ufanye|nitafanya|nitajuaje|nitazirudishaje|niripoti|nini sasa|naweza)\b", re.I)
_IMPERATIVE = frozenset(["act", "ask", "avoid", "call", "change", "check", "choose", "confirm", "contact", "cover", "delete", "do", "don't", "end", "give", "go", "hang", "hold", "keep", "lock", "never", "note", "protect", "read", "register", "report", "send", "set", "tell", "use", "wait", "angalia", "badilisha", "chagua", "chukua", "funga", "funika", "futa", "hakikisha", "hifadhi", "jisajili", "kata", "linda", "mwambie", "nenda", "piga", "ripoti", "sajili", "sakinisha", "soma", "tumia", "toa", "waombe", "weka", "usi", "usimpe", "usitume", "usilipe", "usijibu", "usipige", "usiondoke", "usiandike", "usiwape"])


def is_imperative(sentence: str) -> bool:
    """Whether a sentence opens with an instruction ("Call ...", "Usitume ...").

    >>> is_imperative("Call customer care now."), is_imperative("Usitume pesa."), is_imperative("The agent is busy.")
    (True, True, False)
    """
    ws = words(sentence)
    return bool(ws) and (ws[0] in _IMPERATIVE or ws[0].startswith("usi"))


class Generator(Protocol):
    name: str

    def generate(self, question: str, lang: str, hits: list[Hit], qvec: np.ndarray,
                 index: KnowledgeIndex) -> list[Draft]: ...


class ExtractiveGenerator:
    """Answers from an answer block when one was retrieved (its action, steps and why, verbatim);
    otherwise selects the sentences of the top chunks closest to the question, in its language.

    Prose sentences are scored by cosine to the question (their vectors are in the index) plus small
    bonuses for sharing the question's words and, when the question asks what to do, for being an
    instruction; they are shown in reading order: by chunk rank, then by position in the chunk.
    """

    name = "extractive"
    max_sentences = 3
    max_chunks = 3
    chunk_margin = 0.04  # chunks whose cosine is this far below the best one are not quoted
    sentence_margin = 0.05
    same_doc_penalty = 0.02
    other_doc_penalty = 0.05
    # a prose section this much closer to the question than the best answer block answers instead (an
    # operator's own document without answer blocks, a question only the prose covers)
    block_margin = 0.03

    def generate(self, question: str, lang: str, hits: list[Hit], qvec: np.ndarray,
                 index: KnowledgeIndex) -> list[Draft]:
        if not hits:
            return []
        lead = lead_block(hits, lang)
        prose = [h.dense for h in hits[: self.max_chunks] if h.chunk.kind == "section"]
        if lead is not None and not (prose and max(prose) > hits[lead].dense + self.block_margin):
            return block_drafts(hits, lead, index)
        return self.from_prose(question, lang, hits, qvec, index)

    def from_prose(self, question: str, lang: str, hits: list[Hit], qvec: np.ndarray,
                   index: KnowledgeIndex) -> list[Draft]:
        best_dense = max(h.dense for h in hits[: self.max_chunks])
        pool = [(r, h) for r, h in enumerate(hits[: self.max_chunks]) if h.dense >= best_dense - self.chunk_margin]
        if any(h.chunk.lang == lang for _, h in pool):
            pool = [(r, h) for r, h in pool if h.chunk.lang == lang]
        action = bool(_ASKS_ACTION.search(question))
        raw: list[tuple[float, int, int, str, np.ndarray, str]] = []
        for r, h in pool:
            vecs = index.sentence_vectors_of(h.index)
            for j, (s, v) in enumerate(zip(h.chunk.sentences, vecs, strict=True)):
                score = float(v @ qvec) + 0.1 * lexical_overlap(question, s)
                if action and is_imperative(s):
                    score += 0.04
                raw.append((score, r, j, s, v, h.chunk.doc_id))
        if not raw:
            return []
        # The best-ranked chunk leads; sentences from elsewhere must beat it clearly, so an answer
        # reads as one piece of advice rather than a collage of articles.
        lead_rank, lead_doc = pool[0][0], pool[0][1].chunk.doc_id
        cands = [(sc - (0.0 if r == lead_rank else self.same_doc_penalty if doc == lead_doc else self.other_doc_penalty),
                  r, j, s, v) for sc, r, j, s, v, doc in raw]
        if not cands:
            return []
        cands.sort(key=lambda c: -c[0])
        top = cands[0][0]
        chosen: list[tuple[float, int, int, str, np.ndarray]] = []
        for c in cands:
            if len(chosen) == self.max_sentences or c[0] < top - self.sentence_margin:
                break
            if any(float(c[4] @ o[4]) > 0.95 for o in chosen):
                continue  # a near-repeat of a sentence already chosen (the same advice in two articles)
            chosen.append(c)
        chosen.sort(key=lambda c: (c[1], c[2]))
        return [Draft(s, (r + 1,), v) for _, r, _, s, v in chosen]


_LANG_NAMES = {"en": "English", "sw": "Swahili"}


class ChatGenerator:
    """Asks an OpenAI-compatible ``/chat/completions`` endpoint (Ollama, vLLM, llama.cpp server, ...)."""

    def __init__(self, url: str, model: str, *, api_key: str | None = None, timeout_s: float = 30.0) -> None:
        base = url.rstrip("/")
        self.endpoint = base if base.endswith("/chat/completions") else base + "/chat/completions"
        self.model = model
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.name = f"chat:{model}"

    def _messages(self, question: str, lang: str, hits: list[Hit]) -> list[dict[str, str]]:
        def source(i: int, h: Hit) -> str:
            c = h.chunk
            if c.kind == "answer":
                return (f"[{i}] ANSWER BLOCK: {c.heading}\nACTION: {' '.join(c.part('action'))}\n"
                        f"STEPS: {' '.join(c.part('steps'))}\nWHY: {' '.join(c.part('why'))}")
            return f"[{i}] {c.title} > {c.heading}\n{c.text}"

        sources = "\n\n".join(source(i, h) for i, h in enumerate(hits, 1))
        system = (
            "You help mobile-money customers and fraud analysts. Answer ONLY from the numbered sources. "
            f"Write at most four short sentences in {_LANG_NAMES.get(lang, 'English')}. If an ANSWER BLOCK fits "
            "the question, start with its ACTION, then its steps, then why, and do not leave out a warning "
            "it gives. End every sentence with the number of the source that supports it, like [1]. If the "
            "sources do not answer the question, say that you do not know. Never add facts, numbers or advice "
            "that are not in the sources."
        )
        return [{"role": "system", "content": system},
                {"role": "user", "content": f"Sources:\n\n{sources}\n\nQuestion: {question}"}]

    def complete(self, messages: list[dict[str, str]]) -> str:
        """The endpoint's reply to ``messages`` (temperature 0); LLMUnavailable if it does not answer.
        Case summaries (:mod:`pesaguard.decisions.summary`) call it too."""
        headers = {"Authorization": f"Bearer {self.api_key}"} if self.api_key else {}
        body = {"model": self.model, "messages": messages, "temperature": 0, "stream": False}
        try:
            resp = httpx.post(self.endpoint, json=body, headers=headers, timeout=self.timeout_s)
            resp.raise_for_status()
            content = resp.json()["choices"][0]["message"]["content"]
        except (httpx.HTTPError, KeyError, IndexError, TypeError, ValueError) as exc:
            raise LLMUnavailable(f"the assistant's chat API at {self.endpoint} failed: {exc}",
                                 setting="PESAGUARD_ASSISTANT_LLM_URL",
                                 hint="check that the server is running and serves the model "
                                      "PESAGUARD_ASSISTANT_LLM_MODEL") from exc
        return str(content)

    def generate(self, question: str, lang: str, hits: list[Hit], qvec: np.ndarray,
                 index: KnowledgeIndex) -> list[Draft]:
        content = self.complete(self._messages(question, lang, hits))
        drafts = []
        for raw in split_sentences(content):
            text, cites = strip_citations(raw)
            if text:
                drafts.append(Draft(text, tuple(c for c in cites if 1 <= c <= len(hits))))
        return drafts


class LLMUnavailable(PesaguardError):
    """The configured chat API did not answer; the assistant falls back to extractive answers."""

    exit_code = 69
    http_status = 503
    code = "llm_unavailable"


def make_generator(kind: str, *, url: str | None, model: str, api_key: str | None = None,
                   timeout_s: float = 30.0) -> Generator:
    """``"extractive"`` or ``"llm"`` (which needs ``url``)."""
    if kind == "extractive":
        return ExtractiveGenerator()
    if kind == "llm":
        if not url:
            raise ConfigError("no chat API configured for the assistant", setting="PESAGUARD_ASSISTANT_LLM_URL",
                              hint="set it to an OpenAI-compatible base URL such as http://127.0.0.1:11434/v1")
        return ChatGenerator(url, model, api_key=api_key, timeout_s=timeout_s)
    raise ConfigError(f"unknown generator {kind!r}", hint="use extractive or llm")
