"""Rewrite ``seed_vectors.npz``: the passage vectors of every shipped article chunk and sentence and
of the triage sets, and the query vectors of every shipped question. Run after editing an article or
an evaluation set: ``python -m pesaguard.assistant.seed``."""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np

from pesaguard.assistant.documents import chunk_document, read_document
from pesaguard.assistant.embed import SEED_FILE, default_embedder, text_key
from pesaguard.assistant.evaluation import load_jsonl
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
    texts.extend(r["text"] for r in load_jsonl("triage.jsonl"))
    return sorted(set(texts))


def shipped_questions() -> list[str]:
    """Every question embedded as a query: the answer blocks' titles and asks, and the domain
    model's written questions of both classes, without repeats."""
    from pesaguard.assistant.domain import training_questions

    ins, outs = training_questions()
    keys: set[str] = set(ins) | set(outs) | set(evaluation_questions())
    for path in _iter_files(BUILTIN_ROOT):
        for c in chunk_document(read_document(path, root=BUILTIN_ROOT)):
            keys.update(c.keys)
    return sorted(keys)


def evaluation_questions() -> list[str]:
    """Every question of the shipped evaluation sets (a follow-up's previous question too)."""
    out: list[str] = []
    for name in ("retrieval.jsonl", "answers.jsonl", "out_of_scope.jsonl", "in_scope.jsonl"):
        for row in load_jsonl(name):
            out.append(row["question"])
            if row.get("previous"):
                out.append(row["previous"])
    return out


def write_seed(path: Path = SEED_FILE) -> int:
    emb = default_embedder()
    texts, questions = shipped_texts(), shipped_questions()
    vecs = np.vstack([emb.passages(texts), emb.queries(questions)])
    keys = [text_key(t) for t in texts] + [text_key(q, "query") for q in questions]
    with tempfile.NamedTemporaryFile(dir=path.parent, suffix=".npz", delete=False) as f:
        np.savez(f, embedder=np.array(emb.name), keys=np.array(keys), vectors=vecs.astype(np.float32))
    Path(f.name).chmod(0o644)
    Path(f.name).replace(path)
    return len(keys)


if __name__ == "__main__":  # pragma: no cover
    print(f"wrote {write_seed()} vectors to {SEED_FILE}")
