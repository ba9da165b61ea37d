"""Evaluation on the shipped sets: retrieval (recall@5, MRR and nDCG@10 per retrieval mode) and
answers (must-have-fact recall per language, abstention on out-of-scope questions).

Retrieval: a gold passage is an article path plus a heading; every chunk of that section counts as a hit for
it, but each gold passage is credited once (its best-ranked chunk), so a long section split in two
cannot inflate the figures.

>>> ranked = [("a.md", "X"), ("b.md", "Y"), ("a.md", "Z")]
>>> gold = {("a.md", "Z"), ("c.md", "W")}
>>> recall_at(ranked, gold, 5), reciprocal_rank(ranked, gold)
(0.5, 0.3333333333333333)
>>> round(ndcg_at(ranked, gold, 10), 3)
0.307
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from pesaguard.assistant.index import KnowledgeIndex
from pesaguard.assistant.text import normalise

Passage = tuple[str, str]  # (article path, heading)
MODES = ("bm25", "dense", "hybrid")
EVAL_DIR = Path(__file__).resolve().parent / "eval"


def load_jsonl(name: str) -> list[dict[str, Any]]:
    """One of the shipped evaluation files (``pesaguard/assistant/eval/NAME``)."""
    text = (EVAL_DIR / name).read_text(encoding="utf-8")
    return [json.loads(line) for line in text.splitlines() if line.strip()]


def _dedup(ranked: Sequence[Passage]) -> list[Passage]:
    seen: set[Passage] = set()
    out = []
    for p in ranked:
        if p not in seen:
            seen.add(p)
            out.append(p)
    return out


def recall_at(ranked: Sequence[Passage], gold: set[Passage], k: int) -> float:
    return len(set(_dedup(ranked)[:k]) & gold) / len(gold)


def reciprocal_rank(ranked: Sequence[Passage], gold: set[Passage]) -> float:
    for i, p in enumerate(_dedup(ranked), 1):
        if p in gold:
            return 1.0 / i
    return 0.0


def ndcg_at(ranked: Sequence[Passage], gold: set[Passage], k: int) -> float:
    dcg = sum(1.0 / math.log2(i + 1) for i, p in enumerate(_dedup(ranked)[:k], 1) if p in gold)
    ideal = sum(1.0 / math.log2(i + 1) for i in range(1, min(len(gold), k) + 1))
    return dcg / ideal


@dataclass(frozen=True)
class RetrievalReport:
    mode: str
    questions: int
    recall_at_5: float
    mrr: float
    ndcg_at_10: float
    by_lang: dict[str, dict[str, float]]


def evaluate_retrieval(index: KnowledgeIndex, questions: list[dict[str, Any]] | None = None,
                       modes: Sequence[str] = MODES) -> dict[str, RetrievalReport]:
    """Run every question through each retrieval mode over the articles' sections (answer blocks are
    measured by :func:`evaluate_answers`); the question vector is computed once."""
    questions = questions if questions is not None else load_jsonl("retrieval.jsonl")
    qvecs = [index.embedder.query(q["question"]) for q in questions]
    reports = {}
    for mode in modes:
        rows: list[tuple[str, float, float, float]] = []
        for q, qv in zip(questions, qvecs, strict=True):
            hits = index.search(q["question"], qv, k=20, audience=q["audience"], lang=q["lang"], mode=mode,
                                kinds=("section",))
            ranked = [(h.chunk.path, h.chunk.heading) for h in hits]
            gold = {(g["path"], g["heading"]) for g in q["gold"]}
            rows.append((q["lang"], recall_at(ranked, gold, 5), reciprocal_rank(ranked, gold), ndcg_at(ranked, gold, 10)))
        by_lang = {}
        for lang in sorted({r[0] for r in rows}):
            sub = np.array([r[1:] for r in rows if r[0] == lang])
            by_lang[lang] = {"n": float(len(sub)), "recall_at_5": float(sub[:, 0].mean()),
                             "mrr": float(sub[:, 1].mean()), "ndcg_at_10": float(sub[:, 2].mean())}
        arr = np.array([r[1:] for r in rows])
        reports[mode] = RetrievalReport(mode, len(rows), float(arr[:, 0].mean()), float(arr[:, 1].mean()),
                                        float(arr[:, 2].mean()), by_lang)
    return reports


# -- answers: must-have facts ------------------------------------------------------------------------


@dataclass(frozen=True)
class QuestionResult:
    id: str
    lang: str
    split: str
    passed: bool
    abstained: bool
    missing: tuple[str, ...]  # must-have facts the answer lacks
    text: str


@dataclass(frozen=True)
class AnswerReport:
    """Must-have-fact recall: the share of in-scope questions answered (not abstained), with every
    sentence cited, containing every must-have fact; and the share of out-of-scope questions abstained."""

    questions: int
    recall: float
    by_lang: dict[str, dict[str, float]]
    out_of_scope: int
    abstained: float
    oos_by_lang: dict[str, dict[str, float]]
    results: list[QuestionResult]
    oos_answered: list[str]


def load_facts() -> dict[str, dict[str, list[re.Pattern[str]]]]:
    """The must-have fact patterns of the answer set (``eval/facts.yaml``)."""
    raw = yaml.safe_load((EVAL_DIR / "facts.yaml").read_text(encoding="utf-8"))
    return {f: {lang: [re.compile(p, re.I) for p in pats] for lang, pats in d.items()} for f, d in raw.items()}


def missing_facts(text: str, lang: str, must: Sequence[str],
                  facts: dict[str, dict[str, list[re.Pattern[str]]]]) -> list[str]:
    """The facts of ``must`` whose patterns (in ``lang``, else English) all fail on ``text``."""
    t = normalise(text)
    out = []
    for f in must:
        pats = facts[f].get(lang) or facts[f]["en"]
        if not any(p.search(t) for p in pats):
            out.append(f)
    return out


def evaluate_answers(assistant: Any, rows: list[dict[str, Any]] | None = None,
                     oos: list[dict[str, Any]] | None = None, split: str | None = None,
                     generator: str = "extractive") -> AnswerReport:
    """Ask every question of the answer set (a follow-up after its previous question, as one
    conversation) and every out-of-scope question; ``split`` keeps only ``dev`` or ``heldout`` rows."""
    rows = rows if rows is not None else load_jsonl("answers.jsonl")
    oos = oos if oos is not None else load_jsonl("out_of_scope.jsonl")
    if split is not None:
        rows = [r for r in rows if r.get("split") == split]
        oos = [r for r in oos if r.get("split") == split]
    facts = load_facts()
    results = [_answer_result(assistant, r, facts, generator) for r in rows]
    oos_answered = []
    oos_langs: dict[str, list[bool]] = {}
    for q in oos:
        a = assistant.ask(q["question"], generator=generator)
        oos_langs.setdefault(q["lang"], []).append(a.abstained)
        if not a.abstained:
            oos_answered.append(q["id"])
    by_lang = {lang: {"n": float(sum(x.lang == lang for x in results)),
                      "recall": float(np.mean([x.passed for x in results if x.lang == lang]))}
               for lang in sorted({x.lang for x in results})}
    oos_by_lang = {lang: {"n": float(len(v)), "abstained": float(np.mean(v))} for lang, v in sorted(oos_langs.items())}
    n_oos = sum(len(v) for v in oos_langs.values())
    return AnswerReport(len(results), float(np.mean([x.passed for x in results])) if results else 0.0, by_lang,
                        n_oos, float(np.mean([b for v in oos_langs.values() for b in v])) if n_oos else 0.0,
                        oos_by_lang, results, oos_answered)


def _answer_result(assistant: Any, r: dict[str, Any], facts: dict[str, dict[str, list[re.Pattern[str]]]],
                   generator: str) -> QuestionResult:
    """One question of the answer set (after its previous question, if any): passed when answered,
    every sentence cited and every required fact present."""
    from pesaguard.assistant.answering import Turn

    turn = None
    if r.get("previous"):
        first = assistant.ask(r["previous"], audience=r["audience"], generator=generator)
        turn = Turn(question=r["previous"], lang=first.lang, chunk_id=first.chunk_id)
    a = assistant.ask(r["question"], audience=r["audience"], generator=generator, previous=turn)
    cited = bool(a.citations) and all(s.citations for s in a.sentences)
    miss = tuple(missing_facts(a.text, a.lang, r["must"], facts)) if not a.abstained else tuple(r["must"])
    return QuestionResult(r["id"], r["lang"], r.get("split", ""), (not a.abstained) and cited and not miss,
                          a.abstained, miss, a.text)
