"""The text model: character and word n-grams and cue features into two linear SVM heads, each Platt-calibrated.

Head ``scam`` tells scams from everything else; head ``promotion`` tells promotions from genuine
messages among the rest. P(scam) comes from the first head, P(promotion) = (1 - P(scam)) x P(promotion
| not scam), P(genuine) the remainder. UCI calls promotions and prize scams alike "spam": its spam is
split by a rule (:func:`pesaguard.sms.data.uci_spam_kind`) for training. Measured on held-out sources
(``benchmarks/bench_sms.py``, ``docs/benchmarks.md``), this factorisation flags far fewer unseen
promotions as scams than the other one (genuine against "unwanted", then scam against promotion
among the unwanted), at a little recall; sentence embeddings are compared there too.

Besides the n-grams, the model sees which of the hand-written cues of :mod:`pesaguard.sms.cues` a text
contains (one binary feature per cue: "asks you to send money back", "asks for your PIN"...). The
cues name scam shapes in words that hold across corpora, and on held-out sources they lift scam F1
where n-grams alone learn the vocabulary of the sources they were trained on; on the sources trained
on they cost a little, since the n-grams already know those sources' vocabulary. How much they count
is the value a present cue feature takes in training next to the L2-normalised TF-IDF blocks (the
SVM's one C regularises a larger value less): :data:`DEFAULT_CUE_WEIGHT` in both heads. A value chosen
inside training, per head, on fits that leave one training source out (:func:`choose_cue_weight`) was
measured with ``benchmarks/bench_sms.py --choose-cue-weight`` and is not used: it swings with the
sources in training (0 for the scam head when the Swahili set is the source held out, whose scams the
cues catch best), see ``docs/benchmarks.md``.

Placeholders carry no weight by construction: each genuine training text also appears with a phone
number or link inserted, so "has a number" is as common in genuine texts as in scams.

The saved model is plain arrays (vocabularies, IDF, weights, calibration) in one ``.npz`` file, not
a pickle, so the copy shipped in the package loads under any scikit-learn version.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import CountVectorizer, TfidfTransformer
from sklearn.model_selection import GroupKFold, StratifiedGroupKFold
from sklearn.svm import LinearSVC

from pesaguard.sms.cues import CUES, cue_vector
from pesaguard.sms.normalize import PLACEHOLDERS

MODEL_FORMAT = 3
#: The value of a present cue feature in training, both heads (the fitted weights are rescaled so that a
#: model always reads cue features as 0 or 1).
DEFAULT_CUE_WEIGHT = 1.0
#: Candidates of :func:`choose_cue_weight` (measured in ``benchmarks/bench_sms.py --choose-cue-weight``).
CUE_WEIGHTS: tuple[float, ...] = (0.0, 0.5, 1.0, 2.0)
SCAM_THRESHOLD = 0.5
SUSPICIOUS_THRESHOLD = 0.2
DEFAULT_C = 0.5
GENUINE, PROMOTION, SCAM = 0, 1, 2
CATEGORIES: tuple[str, ...] = ("genuine", "promotion", "scam")
HEADS: tuple[str, ...] = ("scam", "promotion")

# Placeholders become upper-case words: the text is case-folded, so they can collide neither with a
# real word ("phone") nor with each other's character n-grams.
_PLACEHOLDER_RE = re.compile("|".join(re.escape(p) for p in PLACEHOLDERS))
_INSERTABLE = ("<phone>", "<phone>", "<url>")
_REMOVABLE_RE = re.compile(r"\s*<(?:phone|url|email)>")
#: The two n-gram blocks: (name, analyzer, n-gram range). Fixed by the model format.
BLOCKS: tuple[tuple[str, str, tuple[int, int]], ...] = (("char", "char_wb", (2, 5)), ("word", "word", (1, 2)))


def vector_text(norm: str) -> str:
    """The normalised text as the vectorisers see it (``<phone>`` -> ``PHONE``)."""
    return _PLACEHOLDER_RE.sub(lambda m: m.group()[1:-1].upper(), norm)


def _vectorizer(analyzer: str, ngram: tuple[int, int], vocabulary: dict[str, int] | None = None,
                min_df: int = 2) -> CountVectorizer:
    kw: dict[str, Any] = {"token_pattern": r"(?u)\b\w+\b"} if analyzer == "word" else {}
    return CountVectorizer(analyzer=analyzer, ngram_range=ngram, min_df=1 if vocabulary else min_df, lowercase=False,
                           preprocessor=vector_text, dtype=np.float32, vocabulary=vocabulary, **kw)


def augment(norm: Sequence[str], genuine: Sequence[bool] | np.ndarray, seed: int = 0) -> tuple[list[str], np.ndarray]:
    """Originals plus, for each genuine text, a copy with ``<phone>`` or ``<url>`` inserted at a random word.

    Returns the texts and, for each, the index of the original it was made from.
    """
    rng = np.random.default_rng(seed)
    texts, origin = list(norm), list(range(len(norm)))
    for i, (t, g) in enumerate(zip(norm, genuine, strict=True)):
        if g:
            words = t.split()
            words.insert(int(rng.integers(0, len(words) + 1)), _INSERTABLE[int(rng.integers(0, len(_INSERTABLE)))])
            texts.append(" ".join(words))
            origin.append(i)
    return texts, np.asarray(origin)


@dataclass
class CountedCorpus:
    """Texts (originals then augmented copies) counted once; folds refit only IDF and weights.

    Counting is the slow step (pure-Python analysers). The vocabulary is fitted on all texts without
    labels; IDF and the classifiers are fitted on training rows only.
    """

    vectorizers: list[CountVectorizer]
    blocks: list[Any]  # one CSR count matrix per block
    cues: Any  # CSR matrix of cue features (1.0 where a cue is present)
    origin: np.ndarray  # the original each row was made from
    y: np.ndarray  # category of each row (GENUINE, PROMOTION, SCAM)
    n_original: int

    def rows(self, originals: np.ndarray | None) -> np.ndarray:
        return np.arange(len(self.y)) if originals is None else np.flatnonzero(np.isin(self.origin, originals))

    def features(self, rows: np.ndarray, idfs: list[np.ndarray], cue_weight: float | None = 1.0) -> sparse.csr_matrix:
        """TF-IDF blocks and the cue block at ``cue_weight`` (None: the n-gram blocks only)."""
        cues = [] if cue_weight is None else [self.cues[rows] * cue_weight]
        return sparse.hstack([_tfidf(b[rows], idf) for b, idf in zip(self.blocks, idfs, strict=True)] + cues).tocsr()

    def fit(self, train: np.ndarray | None, c: float = DEFAULT_C, cue_weight: float | Sequence[float] = 1.0) -> Fit:
        """IDF and both heads fitted on the rows made from ``train`` originals (all if None).

        Cue features take the value ``cue_weight`` in training (one for both heads, or one per head:
        scam, promotion); their fitted weights are multiplied by it, so the returned fit reads them as 0
        or 1 (0 turns the cues off).
        """
        weights = head_weights(cue_weight)
        rows = self.rows(train)
        idfs = [TfidfTransformer(sublinear_tf=True).fit(b[rows]).idf_.astype(np.float64) for b in self.blocks]
        ngrams, y = self.features(rows, idfs, None), self.y[rows]
        heads = []
        for w, (target, keep) in zip(weights, ((y == SCAM, np.ones(len(y), dtype=bool)), (y == PROMOTION, y != SCAM)),
                                     strict=True):
            if len(np.unique(target[keep])) < 2:  # one class only (a source left out took the other): constant
                heads.append((np.zeros(ngrams.shape[1] + len(CUES)), 1.0 if target[keep].any() else -1.0))
                continue
            x = sparse.hstack([ngrams[keep], self.cues[rows[keep]] * w]).tocsr()
            svm = LinearSVC(C=c, random_state=0).fit(x, target[keep].astype(int))
            coef = np.asarray(svm.coef_, dtype=np.float64).ravel()
            coef[-len(CUES):] *= w
            heads.append((coef, float(svm.intercept_[0])))
        return Fit(idfs, np.vstack([h[0] for h in heads]), np.array([h[1] for h in heads]), weights)

    def decision(self, fit: Fit, originals: np.ndarray) -> np.ndarray:
        """Decision values (n, 2) of both heads for original rows."""
        return np.asarray(self.features(originals, fit.idfs) @ fit.coef.T) + fit.intercept


@dataclass
class Fit:
    """Fitted IDF per block and the two heads' weights (rows: scam, promotion)."""

    idfs: list[np.ndarray]
    coef: np.ndarray  # cue columns for cue features of 0 or 1, whatever value they took in training
    intercept: np.ndarray
    cue_weight: tuple[float, float] = (1.0, 1.0)  # the value cue features took in training, per head


def _tfidf(counts: Any, idf: np.ndarray) -> sparse.csr_matrix:
    """Sublinear TF x IDF, rows L2-normalised (what TfidfTransformer(sublinear_tf=True) computes)."""
    x = sparse.csr_matrix(counts, dtype=np.float64, copy=True)
    np.log(x.data, out=x.data)
    x.data += 1.0
    x = sparse.csr_matrix(x.multiply(idf))
    norms = np.sqrt(np.asarray(x.multiply(x).sum(axis=1)).ravel())
    norms[norms == 0] = 1.0
    return sparse.csr_matrix(sparse.diags(1.0 / norms) @ x)


def count_corpus(norm: Sequence[str], y: np.ndarray, *, seed: int = 0, min_df: int = 2) -> CountedCorpus:
    texts, origin = augment(norm, np.asarray(y) == GENUINE, seed)
    vecs = [_vectorizer(analyzer, ngram, min_df=min_df) for _, analyzer, ngram in BLOCKS]
    blocks = [vec.fit_transform(texts).tocsr() for vec in vecs]
    return CountedCorpus(vecs, blocks, cue_matrix(texts), origin, np.asarray(y)[origin], len(norm))


def head_weights(cue_weight: float | Sequence[float]) -> tuple[float, float]:
    """One cue weight per head (scam, promotion) from one for both or a pair."""
    if isinstance(cue_weight, (int, float)):
        return float(cue_weight), float(cue_weight)
    scam, promotion = cue_weight
    return float(scam), float(promotion)


def cue_matrix(norm: Sequence[str]) -> sparse.csr_matrix:
    """(n, len(CUES)) cue features (0 or 1) of normalised texts."""
    return sparse.csr_matrix(np.vstack([cue_vector(t) for t in norm]) if len(norm) else np.zeros((0, len(CUES))))


def splits(y: np.ndarray, groups: np.ndarray | None, k: int = 5, seed: int = 0) -> list[tuple[np.ndarray, np.ndarray]]:
    """k folds, stratified; template-disjoint when ``groups`` is given."""
    if groups is None:
        groups = np.arange(len(y))
    try:
        cv: Any = StratifiedGroupKFold(n_splits=k, shuffle=True, random_state=seed)
        return list(cv.split(np.zeros(len(y)), y, groups))
    except ValueError:
        return list(GroupKFold(n_splits=k).split(np.zeros(len(y)), y, groups))


def oof_decisions(cc: CountedCorpus, folds: list[tuple[np.ndarray, np.ndarray]], c: float = DEFAULT_C,
                  cue_weight: float | Sequence[float] = 1.0) -> np.ndarray:
    """Out-of-fold decision values (n_original, 2) of both heads."""
    out = np.zeros((cc.n_original, 2))
    for train, test in folds:
        out[test] = cc.decision(cc.fit(train, c, cue_weight), test)
    return out


def source_out_decisions(cc: CountedCorpus, train: np.ndarray, sources: np.ndarray, c: float = DEFAULT_C,
                         cue_weight: float | Sequence[float] = 1.0) -> np.ndarray:
    """Decision values (len(train), 2) of each ``train`` original from the fit on the other sources of ``train``."""
    out = np.zeros((len(train), 2))
    src = np.asarray(sources)[train]
    for s in np.unique(src):
        held = src == s
        out[held] = cc.decision(cc.fit(train[~held], c, cue_weight), train[held])
    return out


def held_out_loss(decisions: np.ndarray, y: np.ndarray, sources: np.ndarray) -> tuple[float, float]:
    """Log loss of each head (scam; promotion among the rest) over source-out decision values, each source
    weighing the same (a head with one class among its rows: 0).

    Each head's decision values are Platt-scaled on these rows first, so the loss measures how well
    they separate the categories across sources, not where a threshold sits. Every source counts as
    much as any other (a new source is one more draw, whatever its size).
    """
    from sklearn.metrics import log_loss

    _, inverse, counts = np.unique(sources, return_inverse=True, return_counts=True)
    weight = 1.0 / counts[inverse]
    rest = y != SCAM
    out = [0.0, 0.0]
    for h, (d, target, keep) in enumerate(((decisions[:, 0], y == SCAM, np.ones(len(y), dtype=bool)),
                                           (decisions[:, 1], y == PROMOTION, rest))):
        if len(np.unique(target[keep])) < 2:
            continue
        a, b = fit_platt(d[keep], target[keep], weight[keep])
        p = 1.0 / (1.0 + np.exp(-(a * d[keep] + b)))
        out[h] = float(log_loss(target[keep], p, sample_weight=weight[keep], labels=[False, True]))
    return out[0], out[1]


def choose_cue_weight(cc: CountedCorpus, train: np.ndarray, sources: np.ndarray, c: float = DEFAULT_C,
                      candidates: Sequence[float] = CUE_WEIGHTS,
                      ) -> tuple[tuple[float, float], dict[float, tuple[float, float]]]:
    """Per head, the candidate cue weight whose source-out decisions on ``train`` have the lowest
    :func:`held_out_loss` (the heads are fitted apart, so each gets its own).

    Returns the pair (scam head, promotion head) with each candidate's pair of losses. With one
    candidate, that one; with fewer than three sources in ``train`` (a source left out must leave at
    least two to learn from), :data:`DEFAULT_CUE_WEIGHT` if it is a candidate, else the first; both
    unscored.
    """
    y = cc.y[:cc.n_original][train]
    src = np.asarray(sources)[train]
    if len(candidates) == 1 or len(np.unique(src)) < 3:
        w = float(DEFAULT_CUE_WEIGHT if DEFAULT_CUE_WEIGHT in candidates else candidates[0])
        return (w, w), {}
    losses = {float(w): held_out_loss(source_out_decisions(cc, train, sources, c, w), y, src) for w in candidates}

    def best(head: int) -> float:  # ties: the smaller weight
        return min(losses, key=lambda w: (losses[w][head], w))

    return (best(0), best(1)), losses


def fit_platt(decision: np.ndarray, target: np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float]:
    """Platt scaling (a, b) with p = sigmoid(a * d + b), fitted by a nearly unregularised logistic regression."""
    from sklearn.linear_model import LogisticRegression

    lr = LogisticRegression(C=1e4).fit(np.asarray(decision, dtype=float).reshape(-1, 1), np.asarray(target, dtype=int),
                                       sample_weight=weight)
    return float(lr.coef_.ravel()[0]), float(lr.intercept_[0])


def calibrate(decisions: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Platt parameters (2, 2) of both heads from decision values: scam on all rows, promotion on the rest."""
    rest = y != SCAM
    return np.array([fit_platt(decisions[:, 0], y == SCAM),
                     fit_platt(decisions[rest, 1], y[rest] == PROMOTION)])


def probabilities(decisions: np.ndarray, platt: np.ndarray) -> np.ndarray:
    """(n, 3) probabilities of genuine, promotion, scam from the two heads' decision values."""
    p = 1.0 / (1.0 + np.exp(-(decisions * platt[:, 0] + platt[:, 1])))
    scam, promotion = p[:, 0], p[:, 1]
    return np.column_stack([(1.0 - scam) * (1.0 - promotion), (1.0 - scam) * promotion, scam])


def category_of(proba: np.ndarray, scam_threshold: float = SCAM_THRESHOLD) -> np.ndarray:
    """Category index per row: scam at or above the threshold, else the likelier of genuine and promotion."""
    out = np.where(proba[:, PROMOTION] > proba[:, GENUINE], PROMOTION, GENUINE)
    return np.where(proba[:, SCAM] >= scam_threshold, SCAM, out)


class _FastScorer:
    """The decision values of one text without sparse-matrix overhead (same arithmetic, tested equal)."""

    def __init__(self, model: TextModel) -> None:
        self.model = model
        self.blocks = []
        offset = 0
        for vec, idf in zip(model.vectorizers(), model.idfs, strict=True):
            coef = model.coef[:, offset:offset + len(idf)]
            self.blocks.append((vec.build_analyzer(), vec.vocabulary, idf, coef))
            offset += len(idf)

    def decision(self, text: str, cues: np.ndarray | None = None) -> np.ndarray:
        out = self.model.intercept.copy()
        for b in range(len(self.blocks)):
            out += self.contributions(text, b)[1].sum(axis=1)
        return out + self.model.coef[:, -len(CUES):] @ (cue_vector(text) if cues is None else cues)

    def contributions(self, text: str, block: int) -> tuple[np.ndarray, np.ndarray]:
        """Feature indices of one block present in ``text`` and their terms (2, k) in both heads."""
        analyze, vocab, idf, coef = self.blocks[block]
        grams = Counter(analyze(text))  # counted in C; looked up in the vocabulary in C (map), not in a Python loop
        idx = np.fromiter(map(vocab.get, grams, repeat(-1, len(grams))), dtype=np.int64, count=len(grams))
        present = idx >= 0
        if not present.any():
            return np.zeros(0, dtype=np.int64), np.zeros((2, 0))
        idx = idx[present]
        tf = np.fromiter(grams.values(), dtype=float, count=len(grams))[present]
        w = (np.log(tf) + 1.0) * idf[idx]
        return idx, coef[:, idx] * (w / float(np.sqrt(w @ w)))


@dataclass
class TextModel:
    """A fitted, calibrated two-head text classifier."""

    vocabularies: list[list[str]]  # per block, the n-grams by feature index
    idfs: list[np.ndarray]
    coef: np.ndarray  # (2, n_features): scam, promotion heads
    intercept: np.ndarray  # (2,)
    platt: np.ndarray  # (2, 2): (a, b) per head
    scam_threshold: float = SCAM_THRESHOLD
    suspicious_threshold: float = SUSPICIOUS_THRESHOLD
    version: str = "unversioned"
    card: dict[str, Any] = field(default_factory=dict)
    format: int = MODEL_FORMAT
    _cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @classmethod
    def from_fit(cls, cc: CountedCorpus, fit: Fit, platt: np.ndarray) -> TextModel:
        vocabularies = []
        for vec in cc.vectorizers:
            names = np.empty(len(vec.vocabulary_), dtype=object)
            for term, j in vec.vocabulary_.items():
                names[j] = term
            vocabularies.append([str(t) for t in names])
        return cls(vocabularies, [np.asarray(i) for i in fit.idfs], fit.coef, fit.intercept, platt)

    def vectorizers(self) -> list[CountVectorizer]:
        vecs = self._cache.get("vectorizers")
        if vecs is None:
            vecs = self._cache["vectorizers"] = [
                _vectorizer(analyzer, ngram, {t: j for j, t in enumerate(vocab)})
                for (_, analyzer, ngram), vocab in zip(BLOCKS, self.vocabularies, strict=True)]
        return vecs

    def decisions(self, norm: Sequence[str], cues: np.ndarray | None = None) -> np.ndarray:
        """Decision values (n, 2) of both heads for normalised texts (``cues``: their cue vectors, if known)."""
        if len(norm) <= 4:  # the one-message path: building sparse matrices costs more than the maths
            fast = self._cache.get("fast")
            if fast is None:
                fast = self._cache["fast"] = _FastScorer(self)
            return np.array([fast.decision(t, None if cues is None else cues[i])
                             for i, t in enumerate(norm)]).reshape(len(norm), 2)
        parts = [_tfidf(vec.transform(list(norm)), idf) for vec, idf in zip(self.vectorizers(), self.idfs, strict=True)]
        cue_block = cue_matrix(norm) if cues is None else sparse.csr_matrix(cues)
        return np.asarray(sparse.hstack([*parts, cue_block]).tocsr() @ self.coef.T) + self.intercept

    def proba(self, norm: Sequence[str], cues: np.ndarray | None = None) -> np.ndarray:
        """(n, 3) probabilities of genuine, promotion and scam for normalised texts."""
        return probabilities(self.decisions(norm, cues), self.platt)

    def score(self, norm: Sequence[str]) -> np.ndarray:
        """Calibrated scam probability of each normalised text."""
        return self.proba(norm)[:, SCAM]

    def top_terms(self, norm: str, k: int = 3) -> list[str]:
        """The words and word pairs of one text that push its scam probability up the most (for reasons)."""
        fast = self._cache.get("fast") or self._cache.setdefault("fast", _FastScorer(self))
        idx, contrib = fast.contributions(norm, 1)  # block 1: words
        if not len(idx):
            return []
        total = contrib[0]  # the scam head
        words = self.vocabularies[1]
        return [words[idx[i]] for i in np.argsort(-total)[:k] if total[i] > 0]

    # persistence --------------------------------------------------------------------------------
    def save(self, path: Path) -> None:
        """One ``.npz`` (arrays and vocabularies, no pickles), written atomically."""
        arrays: dict[str, np.ndarray] = {"coef": self.coef.astype(np.float32), "intercept": self.intercept,
                                         "platt": self.platt}
        for i, (vocab, idf) in enumerate(zip(self.vocabularies, self.idfs, strict=True)):
            arrays[f"vocab{i}"] = np.frombuffer("\x00".join(vocab).encode("utf-8"), dtype=np.uint8)
            arrays[f"idf{i}"] = idf.astype(np.float32)
        meta = {"format": self.format, "version": self.version, "scam_threshold": self.scam_threshold,
                "suspicious_threshold": self.suspicious_threshold, "cues": [c.reason for c in CUES]}
        arrays["meta"] = np.frombuffer(json.dumps(meta).encode("utf-8"), dtype=np.uint8)
        tmp = path.with_name(path.name + ".tmp.npz")
        np.savez_compressed(tmp, **arrays)  # type: ignore[arg-type]  # numpy's stub reads **kwds as allow_pickle
        tmp.replace(path)

    @classmethod
    def load(cls, path: Path, card: dict[str, Any] | None = None) -> TextModel:
        """The model saved by :meth:`save`; ``ValueError`` when the file is not one of this format."""
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(bytes(z["meta"]).decode("utf-8"))
            if meta.get("format") != MODEL_FORMAT:
                raise ValueError(f"model format {meta.get('format')}, this version reads {MODEL_FORMAT}")
            if meta.get("cues") != [c.reason for c in CUES]:
                raise ValueError("the model was trained with other cues than pesaguard.sms.cues defines now")
            n = len(BLOCKS)
            vocabs = [bytes(z[f"vocab{i}"]).decode("utf-8").split("\x00") for i in range(n)]
            idfs = [z[f"idf{i}"].astype(np.float64) for i in range(n)]
            return cls(vocabs, idfs, z["coef"].astype(np.float64), z["intercept"], z["platt"],
                       meta["scam_threshold"], meta["suspicious_threshold"], meta["version"], card or {})


@dataclass
class Trained:
    """What :func:`fit_text_model` returns: the model, its calibrated out-of-fold probabilities, the cue weight."""

    model: TextModel
    oof: np.ndarray  # (n, 3), template-disjoint out-of-fold, for the model card
    cue_weight: tuple[float, float]  # per head: scam, promotion
    cue_weight_losses: dict[float, tuple[float, float]]  # held-out loss of each candidate per head (empty: not chosen)


def fit_text_model(norm: Sequence[str], y: np.ndarray, groups: np.ndarray, sources: np.ndarray | None = None, *,
                   c: float = DEFAULT_C, k: int = 5, seed: int = 0,
                   cue_weights: Sequence[float] = (DEFAULT_CUE_WEIGHT,)) -> Trained:
    """Fit on everything at the cue weight, calibrate on template-disjoint folds.

    With several ``cue_weights``, the weight is :func:`choose_cue_weight` over ``sources`` first (one
    source without them).
    """
    y = np.asarray(y)
    cc = count_corpus(norm, y, seed=seed)
    every = np.arange(len(y))
    weight, losses = choose_cue_weight(cc, every, np.zeros(len(y)) if sources is None else np.asarray(sources), c,
                                       cue_weights)
    oof = oof_decisions(cc, splits(y, np.asarray(groups), k, seed), c, weight)
    platt = calibrate(oof, y)
    return Trained(TextModel.from_fit(cc, cc.fit(None, c, weight), platt), probabilities(oof, platt), weight, losses)
