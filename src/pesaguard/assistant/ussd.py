"""A USSD menu tree generated from the knowledge base's answer blocks, served as sessions.

Each answer block with a ``menu`` path ("Report fraud > I lost money to a scam") is a leaf; the
path's earlier parts are the menus above it, ordered by ``menu_order`` (a menu takes the smallest
order of its leaves). English and Swahili trees come from the articles of each language, so an
operator who edits or adds an article changes the menu with it.

Sessions follow the gateway convention used across East Africa (Africa's Talking and others): the
gateway sends the whole input chain so far (``"1*2"``) with each request, and the reply starts with
``CON`` (more input expected) or ``END`` (session over). The chain is the state, so the service
keeps none between requests and a repeated request gets the same screen. On any menu ``0`` goes
back and ``00`` home; on the home menu ``9`` switches language; a menu longer than one screen
(182 characters) shows ``98`` for its next page. A leaf shows the action with its reference; ``1``
shows the steps, ``2`` the why. Leaves marked ``report`` record an urgent report
(a triage case, once per session id) when opened with a phone number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from pesaguard.assistant.channels import gsm7
from pesaguard.assistant.documents import Chunk
from pesaguard.assistant.index import KnowledgeIndex

SCREEN_CHARS = 182  # the USSD limit for one screen
TITLE = {"en": "PesaGuard help", "sw": "Msaada PesaGuard"}
MORE = "98"
WORDS = {
    "en": {"steps": "What to do", "why": "Why", "back": "Back", "home": "Home", "lang": "Kiswahili", "more": "More",
           "invalid": "Invalid choice.", "empty": "No help topics are configured.",
           "reported": "Report recorded."},
    "sw": {"steps": "Ufanye nini", "why": "Kwa nini", "back": "Rudi", "home": "Mwanzo", "lang": "English",
           "more": "Zaidi",
           "invalid": "Chaguo si sahihi.", "empty": "Hakuna mada za msaada zilizowekwa.",
           "reported": "Ripoti imepokelewa."},
}


@dataclass
class Node:
    label: str
    order: int = 100
    children: list[Node] = field(default_factory=list)
    chunk: Chunk | None = None  # set on leaves


def build_tree(index: KnowledgeIndex, lang: str) -> Node:
    """The menu tree of one language from the customer answer blocks that have a ``menu`` path."""
    root = Node(TITLE.get(lang, TITLE["en"]), 0)
    for c in index.chunks:
        if c.kind != "answer" or c.block is None or not c.block.menu or c.lang != lang or c.audience != "customer":
            continue
        parts = [p.strip() for p in c.block.menu.split(">") if p.strip()]
        node = root
        for depth, label in enumerate(parts):
            child = next((n for n in node.children if n.label == label), None)
            if child is None:
                child = Node(label, c.block.menu_order)
                node.children.append(child)
            child.order = min(child.order, c.block.menu_order)
            if depth == len(parts) - 1:
                child.chunk = c
            node = child
    _sort(root)
    return root


def _sort(node: Node) -> None:
    node.children.sort(key=lambda n: (n.order, n.label))
    for n in node.children:
        _sort(n)


@dataclass(frozen=True)
class Screen:
    """One reply: ``text`` starts with CON or END; ``report`` names the leaf to record, if any."""

    text: str
    lang: str
    path: tuple[int, ...]
    report: Chunk | None = None

    @property
    def done(self) -> bool:
        return self.text.startswith("END")


def _pages(node: Node, lang: str, home: bool) -> list[list[int]]:
    """Child indices per screen: as many as fit with the title, the navigation and a "More" line."""
    w = WORDS[lang]
    nav = f"9. {w['lang']}" if home else f"0. {w['back']}  00. {w['home']}"
    budget = SCREEN_CHARS - len("CON ") - len(gsm7(node.label)) - len(nav) - len(f"\n{MORE}. {w['more']}") - 2
    pages: list[list[int]] = [[]]
    used = 0
    for i, child in enumerate(node.children):
        line = len(gsm7(f"{i + 1}. {child.label}")) + 1
        if pages[-1] and used + line > budget:
            pages.append([])
            used = 0
        pages[-1].append(i)
        used += line
    return pages


def _menu(node: Node, lang: str, home: bool, page: int) -> str:
    w = WORDS[lang]
    pages = _pages(node, lang, home)
    page = min(page, len(pages) - 1)
    lines = [node.label] + [f"{i + 1}. {node.children[i].label}" for i in pages[page]]
    if page < len(pages) - 1:
        lines.append(f"{MORE}. {w['more']}")
    lines.append(f"9. {w['lang']}" if home else f"0. {w['back']}  00. {w['home']}")
    return _fit("CON " + "\n".join(lines))


def _fit(text: str) -> str:
    text = gsm7(text) if not text.startswith(("CON ", "END ")) else text[:4] + gsm7(text[4:])
    return text if len(text) <= SCREEN_CHARS else text[: SCREEN_CHARS - 3].rstrip() + "..."


def screen(index: KnowledgeIndex, chain: str, lang: str = "en", reported: bool = False) -> Screen:
    """The screen for the input ``chain`` ("" at the start, then "1", "1*2", ...); ``reported``
    says on a report leaf that the report was recorded."""
    lang = lang if lang in WORDS else "en"
    inputs = [p.strip() for p in chain.split("*")] if chain.strip() else []
    trees = {lg: build_tree(index, lg) for lg in WORDS}
    walk = _Walk(trees, lang)
    for raw in inputs:
        if not walk.step(raw):
            return Screen(_fit("END " + WORDS[walk.lang]["invalid"]), walk.lang, tuple(walk.path))
    node, lang, path = walk.stack[-1], walk.lang, tuple(walk.path)
    if not node.children and node.chunk is None:
        return Screen(_fit("END " + WORDS[lang]["empty"]), lang, path)
    if node.chunk is None:
        return Screen(_menu(node, lang, home=len(walk.stack) == 1, page=walk.page), lang, path)
    return _leaf(node.chunk, lang, path, walk.detail, reported)


@dataclass
class _Walk:
    """Where a chain of inputs has led: the menus entered, the page of the top one, a leaf's detail."""

    trees: dict[str, Node]
    lang: str
    stack: list[Node] = field(default_factory=list)
    path: list[int] = field(default_factory=list)
    detail: str | None = None  # "steps" or "why" while showing a leaf's detail
    page: int = 0  # of the menu on top of the stack

    def __post_init__(self) -> None:
        self.home()

    def home(self) -> None:
        self.stack, self.path, self.detail, self.page = [self.trees[self.lang]], [], None, 0

    def step(self, raw: str) -> bool:
        """Apply one input; False when it is not a choice on the current screen."""
        node = self.stack[-1]
        if raw == "00":
            self.home()
        elif raw == "0":
            self.back()
        elif len(self.stack) == 1 and raw == "9":
            self.lang = "sw" if self.lang == "en" else "en"
            self.home()
        elif raw == MORE and node.chunk is None:
            self.page += 1
        elif node.chunk is not None and self.detail is None and raw in ("1", "2"):
            self.detail = "steps" if raw == "1" else "why"
        elif not raw.isdigit() or not (1 <= int(raw) <= len(node.children)) or node.chunk is not None:
            return False
        else:
            self.stack.append(node.children[int(raw) - 1])
            self.path.append(int(raw))
            self.page = 0
        return True

    def back(self) -> None:
        if self.detail is not None:
            self.detail = None
        elif len(self.stack) > 1:
            self.stack.pop()
            self.path.pop()
        self.page = 0


def _leaf(c: Chunk, lang: str, path: tuple[int, ...], detail: str | None, reported: bool) -> Screen:
    """A leaf: its action (with the reference and options) or, after 1 or 2, its steps or reasons."""
    w = WORDS[lang]
    assert c.block is not None
    if detail is not None:
        parts = c.part(detail)
        body = " ".join(f"{i}) {s}" for i, s in enumerate(parts, 1)) if detail == "steps" else " ".join(parts)
        return Screen(_fit(f"END {body}"), lang, path)
    action = gsm7(" ".join(c.part("action")))
    if reported and c.block.report:
        action = f"{w['reported']} {action}"
    options = f"\n1. {w['steps']} 2. {w['why']} 0. {w['back']}"
    tail = f" Ref {c.ref}"
    room = SCREEN_CHARS - len("CON ") - len(tail) - len(options)
    if len(action) > room:  # the reference must survive: shorten the action instead
        action = action[: room - 3].rstrip() + "..."
    return Screen(f"CON {action}{tail}{options}", lang, path, report=c if c.block.report else None)


def menu_outline(index: KnowledgeIndex, lang: str) -> list[dict[str, Any]]:
    """The tree as nested dicts (``pesaguard kb menu``, docs and tests)."""
    def walk(n: Node) -> dict[str, Any]:
        d: dict[str, Any] = {"label": n.label}
        if n.chunk is not None:
            d.update(ref=n.chunk.ref, report=bool(n.chunk.block and n.chunk.block.report), path=n.chunk.path)
        if n.children:
            d["children"] = [walk(c) for c in n.children]
        return d

    return walk(build_tree(index, lang)).get("children", [])
