"""Is a question about mobile-money help at all? A logistic regression on the question's e5 vector.

Positives are the knowledge base's own questions (every answer block's title and asks, embedded as
queries: they are in the index already) and the in-scope questions of the fitting split (the
retrieval set and the ``dev`` answer questions); negatives are ``domain_data/out_of_domain.txt``,
questions about everything else (cooking, health, school, sport, phones, government services, and
look-alikes that share the articles' words: other PINs and passwords, parcels, insurance agents,
school fees), written for this purpose in English, Swahili and Sheng, and the ``dev`` out-of-scope
questions. The ``heldout`` answer questions, the ``test`` split and the blind sets never enter it.

Retrieval signals alone judge topical overlap, so "How do I apply for a licence?" looks close to
the articles on licensed lenders; this model judges the kind of question, and its probability is
the fourth signal of the assistant's confidence model. It is refitted whenever the index changes
(the vectors come from the shipped seed; the fit takes a fraction of a second).
"""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np

from pesaguard.assistant.index import KnowledgeIndex

NEGATIVES_FILE = Path(__file__).resolve().parent / "domain_data" / "out_of_domain.txt"
# Inverse L2 regularisation (unit-length 384-d inputs). Chosen by 5-fold cross-validation on the
# model's own training set (fitting split only): log-loss 0.35 at C=1, 0.16 at 10, 0.087 at 100,
# 0.075 at 300, 0.072 at 1000 (balanced accuracy 0.952 / 0.961 / 0.970 / 0.971 / 0.967).
C = 300.0


def negative_questions() -> list[str]:
    """The written out-of-domain questions (``domain_data/out_of_domain.txt``)."""
    lines = NEGATIVES_FILE.read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]


def fitting_questions() -> tuple[list[str], list[str]]:
    """(in-scope, out-of-scope) questions of the evaluation sets' fitting split."""
    from pesaguard.assistant.evaluation import load_jsonl

    ins = [q["question"] for q in load_jsonl("retrieval.jsonl")]
    ins += [q["question"] for q in load_jsonl("answers.jsonl") if q["split"] == "dev" and not q.get("previous")]
    oos = [q["question"] for q in load_jsonl("out_of_scope.jsonl") if q["split"] == "dev"]
    return ins, oos


def training_questions() -> tuple[list[str], list[str]]:
    """The written questions of both classes (the index adds its block questions to the positives)."""
    ins, oos = fitting_questions()
    return ins, negative_questions() + oos


def _fit(pos: np.ndarray, neg: np.ndarray) -> tuple[np.ndarray, float]:
    from sklearn.linear_model import LogisticRegression  # heavy import, only when answering

    x = np.vstack([pos, neg])
    y = np.r_[np.ones(len(pos)), np.zeros(len(neg))]
    model = LogisticRegression(C=C, class_weight="balanced", max_iter=5000).fit(x, y)
    return model.coef_[0].astype(np.float64), float(model.intercept_[0])


def _prob(x: np.ndarray, w: np.ndarray, b: float) -> np.ndarray:
    return np.asarray(1.0 / (1.0 + np.exp(-(x @ w + b))))


class DomainModel:
    """P(question is about what the knowledge base covers) from its query vector."""

    def __init__(self, index: KnowledgeIndex) -> None:
        ins, outs = training_questions()
        self._w, self._b = _fit(np.vstack([index.key_vectors, index.embedder.queries(ins)]),
                                index.embedder.queries(outs))

    def prob(self, qvec: np.ndarray) -> float:
        return float(_prob(qvec, self._w, self._b))


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
