"""Is a question about mobile-money help at all? A logistic regression on the question's e5 vector.

Positives are the knowledge base's own questions (every answer block's title and asks, embedded as
queries: they are in the index already); negatives are ``domain_data/out_of_domain.txt``, questions
about everything else (cooking, health, school, sport, phones, government services), written for
this purpose in English, Swahili and Sheng. Retrieval signals alone judge topical overlap, so "How do
I apply for a licence?" looks close to the articles on licensed lenders; this model judges the kind
of question, and its probability is the fourth signal of the assistant's confidence model.
The model is refitted whenever the index changes (about 50 ms).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from pesaguard.assistant.index import KnowledgeIndex

NEGATIVES_FILE = Path(__file__).resolve().parent / "domain_data" / "out_of_domain.txt"
C = 1.0  # inverse L2 regularisation (unit-length 384-d inputs)


def negative_questions() -> list[str]:
    lines = NEGATIVES_FILE.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


class DomainModel:
    """P(question is about what the knowledge base covers) from its query vector."""

    def __init__(self, index: KnowledgeIndex) -> None:
        from sklearn.linear_model import LogisticRegression  # heavy import, only when answering

        neg = index.embedder.queries(negative_questions())
        pos = index.key_vectors
        x = np.vstack([pos, neg])
        y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
        self.model = LogisticRegression(C=C, class_weight="balanced", max_iter=1000).fit(x, y)
        self._w = self.model.coef_[0].astype(np.float64)
        self._b = float(self.model.intercept_[0])

    def prob(self, qvec: np.ndarray) -> float:
        return float(1.0 / (1.0 + np.exp(-(float(qvec @ self._w) + self._b))))


_models: dict[int, tuple[int, DomainModel]] = {}
_lock = threading.Lock()


def domain_model(index: KnowledgeIndex) -> DomainModel:
    """The model for ``index`` as it is now (refitted after the index's keys change)."""
    stamp = hash((len(index.key_vectors), index.key_vectors[:1].tobytes(), index.key_vectors[-1:].tobytes()))
    with _lock:
        cached = _models.get(id(index))
        if cached is None or cached[0] != stamp:
            cached = (stamp, DomainModel(index))
            _models[id(index)] = cached
        return cached[1]
