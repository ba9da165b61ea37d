"""Retrieval evaluation on the shipped question set: recall@5, MRR and nDCG@10 per retrieval mode.

A gold passage is an article path plus a heading; every chunk of that section counts as a hit for
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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from pesaguard.assistant.index import KnowledgeIndex

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
    """Run every question through each retrieval mode; the question vector is computed once."""
    questions = questions if questions is not None else load_jsonl("retrieval.jsonl")
    qvecs = [index.embedder.query(q["question"]) for q in questions]
    reports = {}
    for mode in modes:
        rows: list[tuple[str, float, float, float]] = []
        for q, qv in zip(questions, qvecs, strict=True):
            hits = index.search(q["question"], qv, k=20, audience=q["audience"], lang=q["lang"], mode=mode)
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
