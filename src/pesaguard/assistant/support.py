"""The support check: is a sentence backed by the chunk it cites?

A sentence is supported by a chunk when every number it states appears in the chunk, and either
most of its content words appear in the chunk (lexical overlap) or it is a close paraphrase of one
of the chunk's sentences (embedding cosine). The same check runs on extractive and generated
answers; for extractive answers it passes by construction, which a test asserts.

Two guards catch what overlap alone misses: the numbers rule ("pay 500 shillings" is not supported
by a chunk without 500), and polarity: "it is safe to share your PIN with an agent" shares most
words with "an agent must never ask for your PIN", so a sentence whose negation differs from that
of its closest chunk sentence is not supported. The thresholds were set on the paraphrase /
invented-sentence pairs in ``tests/test_assistant_answers.py``: every faithful paraphrase there keeps
60% of its content words, while e5 cosines alone do not separate the two in Swahili (an invented
Swahili sentence on the right topic reaches 0.93), so the cosine only rescues a sentence that
already shares 40% of its words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from pesaguard.assistant.documents import Chunk
from pesaguard.assistant.text import numbers, tokens, words

LEXICAL_MIN = 0.6  # share of the sentence's content words found in the chunk
LEXICAL_WITH_DENSE = 0.4  # ... or this share plus a close paraphrase:
DENSE_MIN = 0.92  # cosine to the closest chunk sentence
# Negation markers. Swahili negates inside the verb (ha-, usi-, si-); the prefixes below are the
# common negative forms in customer text, a deliberate approximation.
_NEG_WORDS = frozenset(["not", "no", "never", "nobody", "nothing", "none", "neither", "nor", "cannot", "unable", "without", "don't", "doesn't", "isn't", "aren't", "won't", "can't", "shouldn't", "mustn't", "didn't", "si", "sio", "siyo", "hapana", "kamwe", "bila"])
_NEG_PREFIX = re.compile(r"^(usi|msi|hau|haw|hak|hap|hay|haj|hatu|hana|hatak|sija|siw|sik)\w{2,}")
_CITE = re.compile(r"\s*\[(\d+)\]")


def strip_citations(sentence: str) -> tuple[str, list[int]]:
    """``"Call care [1][2]."`` -> ``("Call care.", [1, 2])``."""
    cites = [int(n) for n in _CITE.findall(sentence)]
    return " ".join(_CITE.sub("", sentence).split()).replace(" .", "."), cites


@dataclass(frozen=True)
class Support:
    supported: bool
    score: float  # the better of lexical overlap and (rescaled) cosine, for display
    lexical: float
    dense: float
    numbers_ok: bool
    polarity_ok: bool


def negated(sentence: str) -> bool:
    """Whether a sentence is negative (English words, Swahili negative verb prefixes).

    >>> negated("Never send money back yourself."), negated("Usitume pesa."), negated("Call care.")
    (True, True, False)
    """
    ws = words(sentence)
    return any(w in _NEG_WORDS or w.endswith("n't") or _NEG_PREFIX.match(w) for w in ws)


def lexical_overlap(sentence: str, chunk_text: str) -> float:
    st = tokens(sentence)
    if not st:
        return 0.0
    ct = set(tokens(chunk_text))
    return sum(t in ct for t in st) / len(st)


def check(sentence: str, chunk: Chunk, sentence_vec: np.ndarray | None,
          chunk_sentence_vecs: np.ndarray | None) -> Support:
    """Support of ``sentence`` (citations already stripped) by ``chunk``."""
    body = chunk.embed_text
    nums_ok = numbers(sentence) <= numbers(body)
    lex = lexical_overlap(sentence, body)
    dense, polarity_ok = 0.0, True
    if sentence_vec is not None and chunk_sentence_vecs is not None and len(chunk_sentence_vecs):
        sims = chunk_sentence_vecs @ sentence_vec
        best = int(np.argmax(sims))
        dense = float(sims[best])
        if best < len(chunk.sentences):
            polarity_ok = negated(sentence) == negated(chunk.sentences[best])
    ok = nums_ok and polarity_ok and (lex >= LEXICAL_MIN or (lex >= LEXICAL_WITH_DENSE and dense >= DENSE_MIN))
    return Support(ok, max(lex, dense), lex, dense, nums_ok, polarity_ok)
