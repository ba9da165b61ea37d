"""Knowledge-base documents: reading markdown, HTML, PDF and text, and cutting them into chunks.

A chunk is one heading section (the text under a heading up to the next heading), carrying its
heading path (``["Title", "Section"]``); a section longer than :data:`MAX_WORDS` is split further
at sentence boundaries. Each chunk has a content hash so that an unchanged chunk is never
embedded twice.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import yaml

from pesaguard.assistant.text import detect_language, split_sentences
from pesaguard.errors import InputError

SUFFIXES = (".md", ".markdown", ".html", ".htm", ".pdf", ".txt")
MAX_WORDS = 160  # e5-small reads 512 tokens; 160 words of prose stays well inside in both languages
AUDIENCES = ("customer", "analyst")


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

    @property
    def heading(self) -> str:
        return self.heading_path[-1] if self.heading_path else self.title

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
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Chunk:
        return cls(d["chunk_id"], d["doc_id"], d["path"], d["title"], tuple(d["heading_path"]), d["text"],
                   d["lang"], d["audience"], tuple(d["tags"]), tuple(d["sentences"]))


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
    return Document(doc_id or str(path.resolve()), rel, title, lang, audience,
                    tuple(str(t) for t in tags), body)


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
                                doc.audience, doc.tags, sentences))
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
