"""Rewrite ``seed_vectors.npz``: the passage vectors of every shipped article chunk and sentence and
of the triage training set. Run after editing an article: ``python -m pesaguard.assistant.seed``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from pesaguard.assistant.documents import chunk_document, read_document
from pesaguard.assistant.embed import SEED_FILE, default_embedder, text_key
from pesaguard.assistant.index import BUILTIN_ROOT, _iter_files
from pesaguard.assistant.triage_model import TRAIN_FILE, load_labelled


def shipped_texts() -> list[str]:
    """Every passage text the shipped knowledge base and triage model embed, without repeats."""
    texts: list[str] = []
    for path in _iter_files(BUILTIN_ROOT):
        for c in chunk_document(read_document(path, root=BUILTIN_ROOT)):
            texts.append(c.embed_text)
            texts.extend(c.sentences)
    texts.extend(r["text"] for r in load_labelled(TRAIN_FILE))
    return sorted(set(texts))


def write_seed(path: Path = SEED_FILE) -> int:
    emb = default_embedder()
    texts = shipped_texts()
    vecs = emb.passages(texts)
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as f:
        np.savez(f, embedder=np.array(emb.name), keys=np.array([text_key(t) for t in texts]),
                 vectors=vecs.astype(np.float32))
    Path(f.name).chmod(0o644)
    Path(f.name).replace(path)
    return len(texts)


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {write_seed()} vectors to {SEED_FILE}")
