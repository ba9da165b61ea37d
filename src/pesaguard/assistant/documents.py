"""Knowledge-base documents: reading markdown, HTML, PDF and text, and cutting them into chunks.

A chunk is one heading section (the text under a heading up to the next heading), carrying its
heading path (``["Title", "Section"]``); a section longer than :data:`MAX_WORDS` is split further
at sentence boundaries. Each chunk has a content hash so that an unchanged chunk is never
embedded twice.

An article may also carry **answer blocks** in its front matter (``answers:``), one per intent: the
action first, then the steps, then the why, plus the ways people ask for it (``asks``), the safety
facts the action states (``safety``) and an optional place in the USSD menu (``menu``). Each block
becomes a chunk of kind ``answer`` whose sentences are the action, each step and the why, in that
order; its title and ``asks`` are embedded as questions and matched question to question.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pesaguard.assistant.text import detect_language, split_sentences
from pesaguard.errors import InputError

SUFFIXES = (".md", ".markdown", ".html", ".htm", ".pdf", ".txt")
MAX_WORDS = 160  # e5-small reads 512 tokens; 160 words of prose stays well inside in both languages
AUDIENCES = ("customer", "analyst")


class AnswerBlock(BaseModel):
    """One intent's answer: what to do first, the steps, and why (front matter ``answers:``)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$", description="unique within the article")
    title: str = Field(min_length=3, description="the intent, as a heading")
    asks: tuple[str, ...] = Field(default=(), description="ways people ask for this (retrieval keys)")
    action: str = Field(min_length=3, description="what to do, first; one or two short sentences")
    steps: tuple[str, ...] = Field(default=(), description="the steps, one sentence each")
    why: str | None = Field(default=None, description="the reason, one or two sentences")
    safety: tuple[str, ...] = Field(default=(), description="safety facts the action states (safety.yaml)")
    menu: str | None = Field(default=None, description="USSD menu path, e.g. 'Report fraud > I lost money'")
    menu_order: int = Field(default=100, description="position among its menu siblings (lowest first)")
    report: bool = Field(default=False, description="choosing it on USSD records an urgent report")


@dataclass(frozen=True)
class BlockInfo:
    """What a chunk of kind ``answer`` knows about its block: the roles of its sentences and more."""

    id: str
    ref: str  # short reference for SMS answers: the article's ref and the block's number ("REV1")
    n_action: int
    n_steps: int
    n_why: int
    safety: tuple[str, ...] = ()
    menu: str | None = None
    menu_order: int = 100
    report: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "ref": self.ref, "n_action": self.n_action, "n_steps": self.n_steps,
                "n_why": self.n_why, "safety": list(self.safety), "menu": self.menu,
                "menu_order": self.menu_order, "report": self.report}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> BlockInfo:
        return cls(d["id"], d["ref"], d["n_action"], d["n_steps"], d["n_why"], tuple(d["safety"]), d["menu"],
                   d["menu_order"], d["report"])


@dataclass(frozen=True)
class Document:
    """One source file, read into markdown-like text with its metadata."""

    doc_id: str  # stable key: "builtin:en/sim-swap.md" or the resolved path of an operator file
    path: str  # what citations show: the path relative to its knowledge-base root
    title: str
    lang: str
    audience: str
    tags: tuple[str, ...]
    body: str  # markdown (headings as "#" lines)
    ref: str = ""  # short reference of the article (front matter ``ref``, else from the file name)
    answers: tuple[AnswerBlock, ...] = ()
    typologies: tuple[str, ...] = ()  # analyst playbooks: the typology-pack rules they work (front matter)


@dataclass(frozen=True)
class Chunk:
    chunk_id: str
    doc_id: str
    path: str
    title: str
    heading_path: tuple[str, ...]
    text: str
    lang: str
    audience: str
    tags: tuple[str, ...]
    sentences: tuple[str, ...] = field(default=())
    kind: str = "section"  # "section" (prose under a heading) or "answer" (an answer block)
    keys: tuple[str, ...] = ()  # questions matched question to question (an answer block's asks)
    block: BlockInfo | None = None
    ref: str = ""  # short reference: the article's ("REV"), or an answer block's ("REV1")

    @property
    def heading(self) -> str:
        return self.heading_path[-1] if self.heading_path else self.title

    def part(self, role: str) -> tuple[str, ...]:
        """An answer block's sentences of one role: ``action``, ``steps`` or ``why``."""
        b = self.block
        if b is None:
            return ()
        cut = {"action": (0, b.n_action), "steps": (b.n_action, b.n_action + b.n_steps),
               "why": (b.n_action + b.n_steps, b.n_action + b.n_steps + b.n_why)}[role]
        return self.sentences[cut[0]:cut[1]]

    @property
    def search_text(self) -> str:
        """What BM25 indexes: the embedded text plus the block's asks."""
        return self.embed_text + ("\n" + "\n".join(self.keys) if self.keys else "")

    @property
    def embed_text(self) -> str:
        """What is embedded and BM25-indexed: the heading path gives a short section its topic."""
        return " > ".join(self.heading_path) + "\n" + self.text

    @property
    def content_hash(self) -> str:
        return _hash(self.embed_text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "chunk_id": self.chunk_id, "doc_id": self.doc_id, "path": self.path, "title": self.title,
            "heading_path": list(self.heading_path), "text": self.text, "lang": self.lang,
            "audience": self.audience, "tags": list(self.tags), "sentences": list(self.sentences),
            "kind": self.kind, "keys": list(self.keys), "block": self.block.to_dict() if self.block else None,
            "ref": self.ref,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Chunk:
        block = BlockInfo.from_dict(d["block"]) if d.get("block") else None
        return cls(d["chunk_id"], d["doc_id"], d["path"], d["title"], tuple(d["heading_path"]), d["text"],
                   d["lang"], d["audience"], tuple(d["tags"]), tuple(d["sentences"]), d.get("kind", "section"),
                   tuple(d.get("keys", ())), block, d.get("ref", ""))


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


_FRONT = re.compile(r"\A---\s*\n(.*?)\n---\s*\n", re.S)


def split_front_matter(text: str, file: str) -> tuple[dict[str, Any], str]:
    """YAML front matter (between ``---`` lines at the top) and the body after it."""
    m = _FRONT.match(text)
    if not m:
        return {}, text
    try:
        meta = yaml.safe_load(m.group(1)) or {}
    except yaml.YAMLError as exc:
        raise InputError(f"front matter is not valid YAML: {exc}", file=file,
                         hint="write it as key: value lines between two '---' lines") from exc
    if not isinstance(meta, dict):
        raise InputError("front matter must be a mapping", file=file, hint="use key: value lines")
    return meta, text[m.end():]


class _HtmlToMarkdown(HTMLParser):
    """Headings become '#' lines and block elements paragraphs; scripts and styles are dropped."""

    _BLOCK = frozenset({"p", "div", "li", "br", "tr", "section", "article", "blockquote", "pre"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.out: list[str] = []
        self.title = ""
        self._skip = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in ("script", "style", "nav", "footer"):
            self._skip += 1
        elif tag == "title":
            self._in_title = True
        elif re.fullmatch(r"h[1-6]", tag):
            self.out.append("\n\n" + "#" * int(tag[1]) + " ")
        elif tag in self._BLOCK:
            self.out.append("\n\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in ("script", "style", "nav", "footer"):
            self._skip = max(0, self._skip - 1)
        elif tag == "title":
            self._in_title = False
        elif re.fullmatch(r"h[1-6]", tag) or tag in self._BLOCK:
            self.out.append("\n\n")

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.title += data.strip()
        elif not self._skip:
            self.out.append(data.replace("\n", " "))


def _read_body(path: Path) -> tuple[dict[str, Any], str]:
    suffix = path.suffix.lower()
    if suffix == ".pdf":
        from pypdf import PdfReader

        try:
            reader = PdfReader(str(path))
            pages = [(p.extract_text() or "").strip() for p in reader.pages]
        except Exception as exc:  # pypdf raises many types for damaged files
            raise InputError(f"cannot read PDF: {exc}", file=path, hint="re-export the PDF or convert it to text") from exc
        # A PDF has no reliable headings: one section per page, so citations point at a page.
        body = "\n\n".join(f"## Page {i}\n\n{t}" for i, t in enumerate(pages, 1) if t)
        return {}, body
    try:
        raw = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise InputError("file is not UTF-8 text", file=path, hint="save it as UTF-8") from exc
    if suffix in (".html", ".htm"):
        parser = _HtmlToMarkdown()
        parser.feed(raw)
        return ({"title": parser.title} if parser.title else {}), "".join(parser.out)
    if suffix == ".txt":
        return {}, raw
    return split_front_matter(raw, str(path))


def read_document(path: Path, *, root: Path, doc_id: str | None = None,
                  default_audience: str = "customer") -> Document:
    """Read one file into a :class:`Document`; metadata missing from the file is inferred."""
    meta, body = _read_body(path)
    rel = path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
    title = str(meta.get("title") or _first_heading(body) or path.stem.replace("-", " ").replace("_", " "))
    lang = str(meta.get("lang") or detect_language(body[:4000]))
    audience = str(meta.get("audience") or default_audience)
    if audience not in AUDIENCES:
        raise InputError(f"audience {audience!r} is not one of {', '.join(AUDIENCES)}", file=path,
                         field="audience", hint="set audience: customer or audience: analyst in the front matter")
    tags = meta.get("tags") or ()
    if isinstance(tags, str):
        tags = [t.strip() for t in tags.split(",")]
    ref = str(meta.get("ref") or _derived_ref(path.stem))
    if not re.fullmatch(r"[A-Z][A-Z0-9]{1,5}", ref):
        raise InputError(f"ref {ref!r} is not 2-6 capital letters or digits", file=path, field="ref",
                         hint="write a short code such as ref: REV (it names the article in SMS answers)")
    typologies = meta.get("typologies") or ()
    if isinstance(typologies, str):
        typologies = [t.strip() for t in typologies.split(",")]
    return Document(doc_id or str(path.resolve()), rel, title, lang, audience,
                    tuple(str(t) for t in tags), body, ref, _answer_blocks(meta.get("answers"), path),
                    tuple(str(t) for t in typologies))


def _derived_ref(stem: str) -> str:
    words = [w for w in re.split(r"[^A-Za-z0-9]+", stem) if w]
    ref = "".join(w[0] for w in words).upper() if len(words) > 1 else stem[:4].upper()
    ref = re.sub(r"[^A-Z0-9]", "", ref)
    return ref if len(ref) >= 2 and ref[0].isalpha() else ("KB" + ref)[:6]


def _answer_blocks(raw: Any, path: Path) -> tuple[AnswerBlock, ...]:
    if raw is None:
        return ()
    if not isinstance(raw, list):
        raise InputError("answers must be a list of answer blocks", file=path, field="answers",
                         hint="write answers: followed by '- id: ...' entries")
    blocks = []
    for i, entry in enumerate(raw):
        try:
            blocks.append(AnswerBlock.model_validate(entry))
        except ValidationError as exc:
            err = exc.errors()[0]
            loc = ".".join(str(x) for x in err["loc"])
            raise InputError(f"answer block {i + 1}: {err['msg']}", file=path, field=f"answers[{i}].{loc}",
                             hint="each block needs id, title and action; optional asks, steps, why, safety, "
                                  "menu, menu_order, report") from exc
    ids = [b.id for b in blocks]
    if len(set(ids)) != len(ids):
        raise InputError("two answer blocks share an id", file=path, field="answers",
                         hint="give each block its own id")
    return tuple(blocks)


def _first_heading(body: str) -> str | None:
    m = re.search(r"^#{1,6}\s+(.+?)\s*#*\s*$", body, re.M)
    return m.group(1).strip() if m else None


def chunk_document(doc: Document) -> list[Chunk]:
    """Cut a document into heading sections (split further when long)."""
    sections: list[tuple[tuple[str, ...], str]] = []
    stack: list[tuple[int, str]] = []
    buf: list[str] = []

    def flush() -> None:
        text = "\n".join(buf).strip()
        if text:
            path = tuple(h for _, h in stack) or (doc.title,)
            if path[0] != doc.title:
                path = (doc.title, *path)
            sections.append((path, text))
        buf.clear()

    for line in doc.body.splitlines():
        m = re.match(r"^(#{1,6})\s+(.+?)\s*#*\s*$", line)
        if m:
            flush()
            level = len(m.group(1))
            while stack and stack[-1][0] >= level:
                stack.pop()
            stack.append((level, m.group(2).strip()))
        else:
            buf.append(line)
    flush()

    chunks: list[Chunk] = []
    for heading_path, text in sections:
        for part_no, part in enumerate(_split_long(text)):
            sentences = tuple(split_sentences(part))
            key = f"{doc.doc_id}\x1f{' > '.join(heading_path)}\x1f{part_no}"
            chunks.append(Chunk(_hash(key), doc.doc_id, doc.path, doc.title, heading_path, part, doc.lang,
                                doc.audience, doc.tags, sentences, ref=doc.ref))
    for n, b in enumerate(doc.answers, 1):
        action = split_sentences(b.action)
        steps = [" ".join(s.split()) for s in b.steps]
        why = split_sentences(b.why) if b.why else []
        text = "\n\n".join(p for p in (" ".join(action), "\n".join(f"- {s}" for s in steps), " ".join(why)) if p)
        info = BlockInfo(b.id, f"{doc.ref}{n}", len(action), len(steps), len(why), b.safety, b.menu,
                         b.menu_order, b.report)
        key = f"{doc.doc_id}\x1fanswer:{b.id}"
        chunks.append(Chunk(_hash(key), doc.doc_id, doc.path, doc.title, (doc.title, b.title), text, doc.lang,
                            doc.audience, doc.tags, (*action, *steps, *why), "answer",
                            tuple(dict.fromkeys(" ".join(a.split()) for a in (b.title, *b.asks))), info, info.ref))
    return chunks


def _split_long(text: str) -> list[str]:
    if len(text.split()) <= MAX_WORDS:
        return [text]
    parts: list[str] = []
    cur: list[str] = []
    n = 0
    for s in split_sentences(text):
        w = len(s.split())
        if cur and n + w > MAX_WORDS:
            parts.append(" ".join(cur))
            cur, n = [], 0
        cur.append(s)
        n += w
    if cur:
        parts.append(" ".join(cur))
    return parts
