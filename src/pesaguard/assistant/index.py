"""The knowledge index: chunks, their dense vectors and a BM25 index, persisted under ``HOME/kb``.

Files (written atomically, readers never see a half-written index):

- ``manifest.json``: registered sources, the embedder's name, one entry per document with the
  file signature (mtime, size) it was read at;
- ``chunks.json``: the chunks in index order;
- ``chunk_vectors.npy`` / ``sentence_vectors.npy``: one row per chunk / per chunk sentence, in order;
- ``key_vectors.npy``: one row per answer-block question (``asks``), embedded as a query, in order.

Updates are incremental: a file whose signature is unchanged is not read again, a chunk whose
content hash is unchanged is not embedded again, and files that disappeared drop their chunks.
The BM25 index is derived from the chunks in milliseconds at load, so it is rebuilt rather than
stored (one less file format to keep in step).
"""

from __future__ import annotations

import json
import logging
import os
import threading
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import bm25s
import numpy as np

from pesaguard.assistant.documents import AUDIENCES, SUFFIXES, Chunk, chunk_document, read_document
from pesaguard.assistant.embed import Embedder, default_embedder
from pesaguard.assistant.text import query_tokens, search_tokens
from pesaguard.config import Settings
from pesaguard.errors import InputError, NotFoundError

log = logging.getLogger("pesaguard.assistant")
BUILTIN_ROOT = Path(__file__).resolve().parent / "kb"
FORMAT = 2
RRF_K = 60  # the constant of Cormack et al.'s reciprocal rank fusion; flat enough for two lists


@dataclass(frozen=True)
class Hit:
    """One retrieved chunk with the evidence behind its rank."""

    index: int
    chunk: Chunk
    score: float  # the ranking score of the mode used (fused RRF, BM25 or cosine)
    bm25: float
    dense: float  # cosine to the chunk, or to the closest of its questions when higher


@dataclass(frozen=True)
class UpdateStats:
    documents: int
    chunks: int
    embedded: int  # chunks embedded in this update
    reused: int  # chunks whose vectors were kept
    removed: int  # chunks dropped (changed or deleted)


def _signature(path: Path) -> list[int]:
    st = path.stat()
    return [st.st_mtime_ns, st.st_size]


def _iter_files(source: Path) -> Iterable[Path]:
    """The documents of a source: files of a supported type (:data:`SUFFIXES`), not hidden, and not
    links that lead out of the source folder (whatever they point at would be served to callers)."""
    if source.is_file():
        if source.suffix.lower() in SUFFIXES:
            yield source
        return
    root = source.resolve()
    for p in sorted(source.rglob("*")):
        if p.suffix.lower() not in SUFFIXES or any(part.startswith(".") for part in p.relative_to(source).parts):
            continue
        resolved = p.resolve()
        if not resolved.is_relative_to(root):
            log.warning("knowledge base: skipped %s, a link to %s outside the source folder", p, resolved)
            continue
        if resolved.is_file():
            yield p


class KnowledgeIndex:
    """Chunks + vectors + BM25 for the shipped articles and every operator source."""

    def __init__(self, root: Path, embedder: Embedder | None = None) -> None:
        self.root = root
        self._embedder = embedder
        self._lock = threading.RLock()
        self.manifest: dict[str, Any] = {"format": FORMAT, "sources": [], "docs": {}}
        self.chunks: list[Chunk] = []
        self.chunk_vectors = np.zeros((0, 384), dtype=np.float32)
        self.sentence_vectors = np.zeros((0, 384), dtype=np.float32)
        self.sentence_offsets = np.zeros(1, dtype=np.int64)  # chunk i owns rows [off[i], off[i+1])
        self.key_vectors = np.zeros((0, 384), dtype=np.float32)
        self.key_owner = np.zeros(0, dtype=np.int64)  # the chunk each key row belongs to
        self._bm25: bm25s.BM25 | None = None
        self._loaded: tuple[int, int] | None = None  # (inode, mtime) of the manifest this object reflects
        self._load()

    # -- persistence ---------------------------------------------------------------------------

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = default_embedder()
        return self._embedder

    @property
    def exists(self) -> bool:
        return (self.root / "manifest.json").exists()

    def _load(self) -> None:
        if not self.exists:
            return
        try:
            manifest = json.loads((self.root / "manifest.json").read_text(encoding="utf-8"))
            chunks = [Chunk.from_dict(d) for d in json.loads((self.root / "chunks.json").read_text(encoding="utf-8"))]
            if manifest.get("format") != FORMAT:
                return  # an older layout: the next update re-reads everything
            cv = np.load(self.root / "chunk_vectors.npy")
            sv = np.load(self.root / "sentence_vectors.npy")
            kv = np.load(self.root / "key_vectors.npy")
        except (OSError, ValueError, KeyError) as exc:
            raise InputError(f"the knowledge index is damaged: {exc}", file=self.root,
                             hint="run `pesaguard kb rebuild --full`") from exc
        self.manifest, self.chunks = manifest, chunks
        self._set_vectors(cv, sv, kv)
        self._loaded = self._manifest_mtime()

    def _manifest_mtime(self) -> tuple[int, int] | None:
        # every save replaces the file, so its inode changes even within one timestamp tick
        try:
            st = (self.root / "manifest.json").stat()
        except FileNotFoundError:
            return None
        return st.st_ino, st.st_mtime_ns

    def reload_if_changed(self) -> bool:
        """Pick up an update written by another process (`pesaguard kb add` next to a running
        server); one stat call when nothing changed."""
        if self._manifest_mtime() == self._loaded:
            return False
        with self._lock:
            self._load()
        return True

    def _set_vectors(self, cv: np.ndarray, sv: np.ndarray, kv: np.ndarray) -> None:
        self.chunk_vectors, self.sentence_vectors, self.key_vectors = cv, sv, kv
        counts = [len(c.sentences) for c in self.chunks]
        self.sentence_offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
        self.key_owner = np.repeat(np.arange(len(self.chunks)), [len(c.keys) for c in self.chunks]).astype(np.int64)
        self._bm25 = None
        if self.chunks:
            bm = bm25s.BM25()
            bm.index([search_tokens(c.search_text) for c in self.chunks], show_progress=False)
            self._bm25 = bm
        self._aud = np.array([c.audience for c in self.chunks])
        self._lang = np.array([c.lang for c in self.chunks])
        self._kind = np.array([c.kind for c in self.chunks])

    def _save(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)

        def put(name: str, write: Callable[[Path], None]) -> None:
            tmp = self.root / f".{name}.{os.getpid()}.{threading.get_ident()}.tmp"  # writers never share one
            write(tmp)
            os.replace(tmp, self.root / name)

        def npy(arr: np.ndarray) -> Callable[[Path], None]:
            def w(p: Path) -> None:
                with p.open("wb") as f:
                    np.save(f, arr)
            return w

        put("chunk_vectors.npy", npy(self.chunk_vectors))
        put("sentence_vectors.npy", npy(self.sentence_vectors))
        put("key_vectors.npy", npy(self.key_vectors))
        def text(payload: Any, indent: int | None = None) -> Callable[[Path], None]:
            def w(p: Path) -> None:
                p.write_text(json.dumps(payload, indent=indent, ensure_ascii=False), encoding="utf-8")
            return w

        put("chunks.json", text([c.to_dict() for c in self.chunks]))
        put("manifest.json", text(self.manifest, indent=1))  # last: its presence marks a complete index
        self._loaded = self._manifest_mtime()

    # -- sources and updates -------------------------------------------------------------------

    @property
    def sources(self) -> list[dict[str, str]]:
        return list(self.manifest.get("sources", []))

    def add_source(self, path: Path, audience: str = "customer",
                   progress: Callable[[int], None] | None = None) -> UpdateStats:
        """Register a directory (or file) of operator documents and index it."""
        path = path.resolve()
        if not path.exists():
            raise NotFoundError(f"{path} does not exist", file=path, hint="give a directory of .md, .html, .pdf or .txt files")
        if audience not in AUDIENCES:
            raise InputError(f"audience must be one of {', '.join(AUDIENCES)}", field="audience")
        if path.is_file() and path.suffix.lower() not in SUFFIXES:
            raise InputError(f"{path.name} is not a document type the knowledge base reads", file=path,
                             hint=f"give a {', '.join(SUFFIXES)} file, or a directory of them")
        if not any(True for _ in _iter_files(path)):
            raise InputError(f"no {', '.join(SUFFIXES)} files in {path}", file=path,
                             hint="point at a directory containing documents")
        with self._lock:
            sources = [s for s in self.sources if s["path"] != str(path)]
            sources.append({"path": str(path), "audience": audience})
            self.manifest["sources"] = sources
            return self.update(progress=progress)

    def remove_source(self, path: Path) -> UpdateStats:
        with self._lock:
            before = len(self.sources)
            self.manifest["sources"] = [s for s in self.sources if s["path"] != str(path.resolve())]
            if len(self.manifest["sources"]) == before:
                raise NotFoundError(f"{path} is not a registered source", hint="see `pesaguard kb list`")
            return self.update()

    def _scan(self) -> list[tuple[str, Path, Path, str]]:
        """(doc_id, file, root, default audience) for every document of every source."""
        found = [(f"builtin:{p.relative_to(BUILTIN_ROOT).as_posix()}", p, BUILTIN_ROOT, "customer")
                 for p in _iter_files(BUILTIN_ROOT)]
        for src in self.sources:
            root = Path(src["path"])
            if not root.exists():
                continue  # a source that vanished drops its chunks, like a deleted file
            base = root if root.is_dir() else root.parent
            found.extend((str(p.resolve()), p, base.parent, src["audience"]) for p in _iter_files(root))
        return found

    def update(self, *, full: bool = False, progress: Callable[[int], None] | None = None) -> UpdateStats:
        """Bring the index in line with its sources, embedding only new or changed chunks."""
        with self._lock:
            old_docs: dict[str, Any] = {} if full else self.manifest.get("docs", {})
            old_by_doc: dict[str, list[int]] = {}
            for i, c in enumerate(self.chunks):
                old_by_doc.setdefault(c.doc_id, []).append(i)
            embedder = self.embedder
            if self.manifest.get("embedder") not in (None, embedder.name):
                full = True  # vectors from another model are not comparable
            chunks: list[Chunk] = []
            docs: dict[str, Any] = {}
            for doc_id, path, root, audience in self._scan():
                sig = _signature(path)
                prev = old_docs.get(doc_id)
                if prev is not None and prev["signature"] == sig and not full and doc_id in old_by_doc:
                    chunks.extend(self.chunks[i] for i in old_by_doc[doc_id])
                    docs[doc_id] = prev
                    continue
                doc = read_document(path, root=root, doc_id=doc_id, default_audience=audience)
                new = chunk_document(doc)
                chunks.extend(new)
                docs[doc_id] = {"path": doc.path, "title": doc.title, "lang": doc.lang, "audience": doc.audience,
                                "signature": sig, "chunks": len(new)}
            before = ([c.chunk_id for c in self.chunks], self.manifest.get("docs"), self.manifest.get("sources"))
            stats = self._embed(chunks, reuse=not full, progress=progress)
            self.manifest.update(format=FORMAT, embedder=embedder.name, docs=docs)
            after = ([c.chunk_id for c in self.chunks], docs, self.manifest.get("sources"))
            if full or before != after or stats.embedded or not self.exists:
                self._save()
            return stats

    def _embed(self, chunks: list[Chunk], *, reuse: bool,
               progress: Callable[[int], None] | None) -> UpdateStats:
        old_c, old_s, old_k = self._vectors_by_text() if reuse else ({}, {}, {})
        todo_c = sorted({c.embed_text for c in chunks if c.content_hash not in old_c})
        todo_s = sorted({s for c in chunks for s in c.sentences if s not in old_s})
        todo_k = sorted({k for c in chunks for k in c.keys if k not in old_k})
        new_c = dict(zip(todo_c, self._embed_batches(todo_c, progress), strict=True))
        new_s = dict(zip(todo_s, self._embed_batches(todo_s, progress), strict=True))
        new_k = dict(zip(todo_k, self._embed_batches(todo_k, progress, queries=True), strict=True))
        dim = self.embedder.dim
        cv = np.zeros((len(chunks), dim), dtype=np.float32)
        for i, c in enumerate(chunks):
            cv[i] = old_c[c.content_hash] if c.content_hash in old_c else new_c[c.embed_text]
        sv = _stacked([s for c in chunks for s in c.sentences], old_s, new_s, dim)
        kv = _stacked([k for c in chunks for k in c.keys], old_k, new_k, dim)
        kept = {c.content_hash for c in chunks}
        removed = sum(c.content_hash not in kept for c in self.chunks)
        embedded = sum(c.content_hash not in old_c for c in chunks)
        self.chunks = chunks
        self._set_vectors(cv, sv, kv)
        return UpdateStats(len({c.doc_id for c in chunks}), len(chunks), embedded, len(chunks) - embedded, removed)

    def _vectors_by_text(self) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray], dict[str, np.ndarray]]:
        """The index's vectors, to reuse: chunks' by content hash, sentences' and keys' by their text."""
        old_c = {c.content_hash: self.chunk_vectors[i] for i, c in enumerate(self.chunks)}
        old_s: dict[str, np.ndarray] = {}
        for i, c in enumerate(self.chunks):
            for j, s in enumerate(c.sentences):
                old_s[s] = self.sentence_vectors[self.sentence_offsets[i] + j]
        old_k: dict[str, np.ndarray] = {}
        rows = iter(range(len(self.key_vectors)))
        for c in self.chunks:
            for k in c.keys:
                old_k[k] = self.key_vectors[next(rows)]
        return old_c, old_s, old_k

    def _embed_batches(self, texts: Sequence[str], progress: Callable[[int], None] | None,
                       queries: bool = False) -> list[np.ndarray]:
        out: list[np.ndarray] = []
        for i in range(0, len(texts), 64):
            batch = texts[i : i + 64]
            out.extend(self.embedder.queries(batch) if queries else self.embedder.passages(batch))
            if progress:
                progress(len(batch))
        return out

    # -- search --------------------------------------------------------------------------------

    def mask(self, audience: str, lang: str | None, kinds: Sequence[str] = ("section", "answer")) -> np.ndarray:
        """Chunks a reader may see: customers see customer articles, analysts see everything.
        Within each audience, chunks in ``lang`` are preferred whenever that audience has any."""
        allowed = ("customer",) if audience == "customer" else AUDIENCES
        out = np.zeros(len(self.chunks), dtype=bool)
        for a in allowed:
            sub = (self._aud == a) & np.isin(self._kind, list(kinds))
            if lang is not None and (sub & (self._lang == lang)).any():
                sub &= self._lang == lang
            out |= sub
        return out

    def dense_scores(self, qvec: np.ndarray) -> np.ndarray:
        """Cosine of every chunk to the question; an answer block scores its closest ask when higher
        (question to question, both embedded as queries)."""
        dense = self.chunk_vectors @ qvec
        if len(self.key_owner):
            np.maximum.at(dense, self.key_owner, self.key_vectors @ qvec)
        return dense

    def search(self, query: str, qvec: np.ndarray | None = None, *, k: int = 10, audience: str = "customer",
               lang: str | None = None, mode: str = "hybrid",
               kinds: Sequence[str] = ("section", "answer")) -> list[Hit]:
        """Top ``k`` chunks for ``query`` by BM25, dense cosine or their reciprocal-rank fusion."""
        if not self.chunks:
            return []
        mask = self.mask(audience, lang, kinds)
        idx = np.flatnonzero(mask)
        if idx.size == 0:
            return []
        qt = query_tokens(query)
        assert self._bm25 is not None
        bm = self._bm25.get_scores(qt) if qt else np.zeros(len(self.chunks))
        bm = np.asarray(bm, dtype=np.float64)
        if qvec is None and mode != "bm25":
            qvec = self.embedder.query(query)
        dense = self.dense_scores(qvec) if qvec is not None else np.zeros(len(self.chunks))
        if mode == "bm25":
            score = bm[idx]
        elif mode == "dense":
            score = dense[idx]
        elif mode == "hybrid":
            score = np.zeros(idx.size)
            bm_sub = bm[idx]
            order = np.argsort(-bm_sub, kind="stable")
            ranks = np.empty(idx.size)
            ranks[order] = np.arange(1, idx.size + 1)
            score += np.where(bm_sub > 0, 1.0 / (RRF_K + ranks), 0.0)
            order = np.argsort(-dense[idx], kind="stable")
            ranks[order] = np.arange(1, idx.size + 1)
            score += 1.0 / (RRF_K + ranks)
        else:
            raise InputError(f"unknown retrieval mode {mode!r}", field="mode", hint="use hybrid, bm25 or dense")
        top = np.argsort(-score, kind="stable")[:k]
        return [Hit(int(idx[t]), self.chunks[idx[t]], float(score[t]), float(bm[idx[t]]), float(dense[idx[t]]))
                for t in top]

    def sentence_vectors_of(self, i: int) -> np.ndarray:
        return self.sentence_vectors[self.sentence_offsets[i] : self.sentence_offsets[i + 1]]


_open: dict[Path, KnowledgeIndex] = {}
_open_lock = threading.Lock()


def kb_root(settings: Settings) -> Path:
    return settings.home / "kb"


def open_index(settings: Settings, embedder: Embedder | None = None, *, refresh: bool = True) -> KnowledgeIndex:
    """The index under ``HOME/kb`` (cached per process), built or refreshed on first open."""
    root = kb_root(settings).resolve()
    with _open_lock:
        index = _open.get(root)
        if index is None:
            index = KnowledgeIndex(root, embedder)
            if refresh:
                index.update()
            _open[root] = index
        return index


def forget(settings: Settings) -> None:
    """Drop the cached index of ``settings`` (after an out-of-process change, or in tests)."""
    with _open_lock:
        _open.pop(kb_root(settings).resolve(), None)


def _stacked(texts: list[str], old: dict[str, np.ndarray], new: dict[str, np.ndarray], dim: int) -> np.ndarray:
    """One row per text: its reused vector, else the one just embedded."""
    out = np.zeros((len(texts), dim), dtype=np.float32)
    for i, t in enumerate(texts):
        out[i] = old[t] if t in old else new[t]
    return out
