"""Fitting the abstention constants of :mod:`pesaguard.assistant.answering` on the fitting data only.

The fitting data: the retrieval questions and the ``dev`` answer questions (in scope) against the
``dev`` out-of-scope questions and the domain model's written out-of-domain questions
(``domain_data/out_of_domain.txt``). Nothing else is read here: not the ``heldout`` or ``test``
rows, and never the blind sets ``eval/blind.jsonl`` and ``eval/blind2.jsonl`` (a test asserts it).

Two steps, run by ``python benchmarks/bench_assistant.py --fit``:

1. The confidence model: a logistic regression on the four signals of
   :func:`pesaguard.assistant.answering.confidence_features`, the domain probability of each
   fitting question taken out of fold (from a domain model fitted without it).
2. The threshold, checked where the failure it guards against shows: questions on a topic the
   fitting data never covered. The fitting questions are grouped into :data:`TOPICS` topics
   (k-means on their e5 vectors) and every topic is left out in turn (grouped 5-fold): the domain
   model and the confidence model are refitted without it and score its questions. A left-out topic
   of out-of-scope questions is the unseen kind of off-topic question a customer asks (an
   exchange-rate or a screen-lock question when the fitting data has neither). Over :data:`SEEDS`
   groupings, each threshold of :data:`GRID` gets its balanced rate J (in-scope answered plus
   out-of-scope abstained, less 1); the threshold is the one nearest 0.5 (the equal-cost point of a
   class-balanced model) whose J is within one standard error of the best J (the one-standard-error
   rule): a threshold is moved off 0.5 only for a gain the left-out topics can tell from noise.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from pesaguard.assistant import answering as ans
from pesaguard.assistant.domain import _fit, _prob, domain_model, negative_questions
from pesaguard.assistant.evaluation import load_jsonl
from pesaguard.assistant.index import KnowledgeIndex
from pesaguard.assistant.text import detect_language

Row = tuple[str, str, str]  # (question, audience, lang)

TOPICS = 30  # topic groups of the fitting questions (about 14 questions each)
SEEDS = (0, 1, 2, 3, 4)  # k-means groupings averaged over
FOLDS = 5
GRID = np.round(np.arange(0.50, 0.96, 0.01), 2)
CONFIDENCE_C = 10.0  # inverse L2 regularisation of the confidence model (on standardised signals)


def fitting_sets() -> tuple[list[Row], list[Row]]:
    """(question, audience, lang) of the fitting data: in scope, and out of scope (the written
    out-of-domain questions, then the ``dev`` out-of-scope questions: the order of
    :func:`pesaguard.assistant.domain.training_questions`)."""
    ins = [(q["question"], q["audience"], q["lang"]) for q in load_jsonl("retrieval.jsonl")]
    ins += [(q["question"], q["audience"], q["lang"]) for q in load_jsonl("answers.jsonl")
            if q["split"] == "dev" and not q.get("previous")]
    oos = [(q, "customer", detect_language(q)) for q in negative_questions()]
    oos += [(q["question"], "customer", q["lang"]) for q in load_jsonl("out_of_scope.jsonl") if q["split"] == "dev"]
    return ins, oos


def retrieval_signals(index: KnowledgeIndex, rows: list[Row]) -> np.ndarray:
    """The three retrieval signals of each question (best dense score, log1p best BM25, coverage)."""
    out = []
    for q, audience, lang in rows:
        qvec = index.embedder.query(q)
        hits = index.search(q, qvec, k=ans.SEARCH_K, audience=audience, lang=lang)
        out.append(ans.confidence_features(q, hits, 0.0)[:3])
    return np.vstack(out)


def features(index: KnowledgeIndex, rows: list[Row], in_domain: np.ndarray | None = None) -> np.ndarray:
    """The confidence model's four signals; ``in_domain`` replaces the shipped domain model's
    probabilities (out of fold, for the fitting questions themselves)."""
    x = retrieval_signals(index, rows)
    if in_domain is None:
        dm = domain_model(index)
        in_domain = np.array([dm.prob(index.embedder.query(q)) for q, _, _ in rows])
    return np.column_stack([x, in_domain])


def _domain_probs(keys: np.ndarray, v: np.ndarray, y: np.ndarray, train: np.ndarray,
                  score: np.ndarray) -> np.ndarray:
    """Domain probabilities of rows ``score`` from a model fitted on rows ``train`` (plus the
    knowledge base's block questions, always positive)."""
    w, b = _fit(np.vstack([keys, v[train][y[train] == 1]]), v[train][y[train] == 0])
    return np.asarray(_prob(v[score], w, b))


def _oof_domain(keys: np.ndarray, v: np.ndarray, y: np.ndarray, rows: np.ndarray, seed: int = 0) -> np.ndarray:
    """Out-of-fold domain probabilities of ``rows`` (stratified 5-fold within them)."""
    from sklearn.model_selection import StratifiedKFold

    p = np.zeros(len(rows))
    for tr, te in StratifiedKFold(FOLDS, shuffle=True, random_state=seed).split(rows, y[rows]):
        p[te] = _domain_probs(keys, v, y, rows[tr], rows[te])
    return p


def _confidence_model(x: np.ndarray, y: np.ndarray) -> Any:
    """Logistic regression on standardised signals: unscaled, the L2 penalty would shrink the signal
    with the narrowest range most (dense cosines of e5 span about 0.2, so the question-to-block
    match counted for almost nothing against the domain probability's 0-1)."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    return make_pipeline(StandardScaler(), LogisticRegression(C=CONFIDENCE_C, class_weight="balanced",
                                                              max_iter=1000)).fit(x, y)


def _raw_coefficients(model: Any) -> tuple[tuple[float, ...], float]:
    """The pipeline's weights on the unscaled signals (what answering.py applies)."""
    scaler, lr = model[0], model[-1]
    w = lr.coef_[0] / scaler.scale_
    return tuple(float(c) for c in w), float(lr.intercept_[0] - w @ scaler.mean_)


@dataclass(frozen=True)
class AbstentionFit:
    coef: tuple[float, ...]
    bias: float
    threshold: float
    n_in: int
    n_out: int
    # leave-topic-out confidences: one row per seed, one column per fitting question
    topic_out: np.ndarray
    y: np.ndarray
    questions: list[Row]

    def rates(self, t: float) -> tuple[float, float]:
        """(in-scope answered, out-of-scope abstained) at threshold ``t``, topics left out, averaged
        over the seeds."""
        ins, outs = self.topic_out[:, self.y == 1], self.topic_out[:, self.y == 0]
        return float((ins >= t).mean()), float((outs < t).mean())


def choose_threshold(result: AbstentionFit) -> float:
    """The grid threshold nearest 0.5 whose left-out-topic J is within one standard error of the best."""
    j = {float(t): sum(result.rates(float(t))) - 1.0 for t in GRID}
    best = max(j, key=lambda t: j[t])
    n1, n0 = int((result.y == 1).sum()), int((result.y == 0).sum())
    # binomial standard errors, the rates taken as (k + 1) / (n + 2) so that a perfect rate still has one
    p1, p0 = ((r * n + 1) / (n + 2) for r, n in zip(result.rates(best), (n1, n0), strict=True))
    se = float(np.sqrt(p1 * (1 - p1) / n1 + p0 * (1 - p0) / n0))
    return min((t for t in j if j[t] >= j[best] - se), key=lambda t: abs(t - 0.5))


def fit(index: KnowledgeIndex, seeds: tuple[int, ...] = SEEDS, topics: int = TOPICS) -> AbstentionFit:
    """Fit the confidence model on all the fitting data and choose its threshold on left-out topics."""
    from sklearn.cluster import KMeans
    from sklearn.model_selection import GroupKFold

    ins, oos = fitting_sets()
    rows = ins + oos
    y = np.r_[np.ones(len(ins)), np.zeros(len(oos))].astype(int)
    v = index.embedder.queries([q for q, _, _ in rows])
    keys = index.key_vectors
    signals = retrieval_signals(index, rows)
    every = np.arange(len(rows))
    model = _confidence_model(np.column_stack([signals, _oof_domain(keys, v, y, every)]), y)

    topic_out = np.zeros((len(seeds), len(rows)))
    for s, seed in enumerate(seeds):
        groups = KMeans(topics, n_init=10, random_state=seed).fit_predict(v)
        for tr, te in GroupKFold(FOLDS).split(v, y, groups):
            x_tr = np.column_stack([signals[tr], _oof_domain(keys, v, y, tr, seed)])
            x_te = np.column_stack([signals[te], _domain_probs(keys, v, y, tr, te)])
            topic_out[s, te] = _confidence_model(x_tr, y[tr]).predict_proba(x_te)[:, 1]
    coef, bias = _raw_coefficients(model)
    result = AbstentionFit(coef, bias, 0.5, len(ins), len(oos), topic_out, y, rows)
    threshold = choose_threshold(result)
    return AbstentionFit(result.coef, result.bias, threshold, len(ins), len(oos), topic_out, y, rows)
