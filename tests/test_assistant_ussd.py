"""The USSD menu generated from the answer blocks: both languages have the same tree, every screen
fits 182 characters, navigation (back, home, more, language) and the leaves' detail screens."""

from __future__ import annotations

from collections.abc import Iterator

from assistant_support import kb_index_fixture, kb_settings_fixture  # noqa: F401  (fixtures)
from pesaguard.assistant.index import KnowledgeIndex
from pesaguard.assistant.ussd import MORE, SCREEN_CHARS, menu_outline, screen


def _shape(nodes: list[dict[str, object]]) -> list[object]:
    return [(n.get("ref"), n.get("report"), _shape(n.get("children", []))) for n in nodes]  # type: ignore[arg-type]


def test_both_languages_have_the_same_tree(kb_index: KnowledgeIndex) -> None:
    en, sw = menu_outline(kb_index, "en"), menu_outline(kb_index, "sw")
    assert _shape(en) == _shape(sw)
    assert [n["label"] for n in en][:3] == ["Report fraud", "I sent money to the wrong number", "My SIM stopped working"]
    reports = [c["ref"] for c in en[0]["children"]]
    assert len(reports) == 3 and all(c["report"] for c in en[0]["children"])


def _walk(index: KnowledgeIndex, lang: str, chain: str = "") -> Iterator[tuple[str, str]]:
    s = screen(index, chain, lang)
    yield chain, s.text
    if s.done:
        return
    prefix = f"{chain}*" if chain else ""
    if " Ref " in s.text:  # a leaf: its two detail screens
        for opt in ("1", "2"):
            yield from _walk(index, lang, prefix + opt)
        return
    for line in s.text.splitlines():
        head = line.removeprefix("CON ").split(".", 1)[0]
        if head.isdigit() and head not in ("9", "0", "00"):
            yield from _walk(index, lang, prefix + head)


def test_every_screen_fits_and_every_leaf_is_reachable(kb_index: KnowledgeIndex) -> None:
    for lang in ("en", "sw"):
        screens = dict(_walk(kb_index, lang))
        assert all(len(t) <= SCREEN_CHARS for t in screens.values()), [c for c, t in screens.items() if len(t) > 182]
        leaves = [t for t in screens.values() if " Ref " in t]
        n_leaves = sum(1 for _ in _leaf_refs(menu_outline(kb_index, lang)))
        assert len(leaves) == n_leaves >= 12, (lang, len(leaves))
        assert all(t.startswith(("CON ", "END ")) for t in screens.values())


def _leaf_refs(nodes: list[dict[str, object]]) -> Iterator[str]:
    for n in nodes:
        if "ref" in n:
            yield str(n["ref"])
        yield from _leaf_refs(n.get("children", []))  # type: ignore[arg-type]


def test_navigation(kb_index: KnowledgeIndex) -> None:
    home = screen(kb_index, "").text
    assert f"{MORE}. More" in home and "9. Kiswahili" in home
    page2 = screen(kb_index, MORE).text
    assert "PIN and account" in page2 and "Report fraud" not in page2
    assert screen(kb_index, "1*0").text == home  # back
    assert screen(kb_index, "1*1*00").text == home  # home
    assert screen(kb_index, "2*1*0").text == screen(kb_index, "2").text  # back from a detail screen
    assert screen(kb_index, "9").lang == "sw" and screen(kb_index, "9*9").text == home
    assert screen(kb_index, "", "sw").text == screen(kb_index, "9").text
    why = screen(kb_index, "2*2")
    assert why.done and why.text.startswith("END ") and "Ref" not in why.text
    assert screen(kb_index, "1*1").report is not None and screen(kb_index, "2").report is None
    assert screen(kb_index, "42").text.startswith("END ") and screen(kb_index, "2*3").text.startswith("END ")
