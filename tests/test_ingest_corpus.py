"""The messy-file corpus (tests/data/ingest, written by make_corpus.py): each file gives its expected report,
every row is accounted for (A + Q + D = N), and stored values are exact."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from pesaguard import errors
from pesaguard.ingest import IngestOptions, IngestReport, ingest_file, inspect_file
from pesaguard.store import Store, core
from pesaguard.store import quarantine as qstore

DATA = Path(__file__).parent / "data" / "ingest"
SPECS = sorted(DATA.glob("*.expected.json"))


def _name(p: Path) -> str:
    return p.name.removesuffix(".expected.json")


@pytest.fixture
def mem_store() -> Iterator[Store]:
    s = Store("sqlite:///:memory:")
    s.migrate()
    yield s
    s.close()


def _check_report(r: IngestReport, expect: dict[str, Any]) -> None:
    for key, want in expect.items():
        got = getattr(r, key)
        if key == "notes":
            for text in want:
                assert any(text in note for note in got), (text, got)
        elif key == "file":
            assert {k: got.get(k) for k in want} == want
        else:
            assert got == want, (key, got, want)


@pytest.mark.parametrize("spec_path", SPECS, ids=_name)
def test_each_corpus_file_gives_its_expected_report(spec_path: Path, mem_store: Store) -> None:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    path = DATA / spec["file"]
    options = IngestOptions(**spec.get("options", {}))
    args = (mem_store, path, spec.get("format", "auto"), spec.get("map"), options)
    if "error" in spec:
        with pytest.raises(getattr(errors, spec["error"]["class"]), match=spec["error"]["match"]):
            ingest_file(*args)
        assert core.count(mem_store, "transactions") == 0
        return
    r = ingest_file(*args)
    assert r.accepted + r.quarantined + r.duplicates == r.read
    _check_report(r, spec["expect"])
    if "reasons" not in spec["expect"] and r.quarantined == 0:
        assert r.reasons == {}
    q = qstore.load_quarantine(mem_store, r.source_key)
    if "quarantined_rows" in spec:
        assert q["row_number"].tolist() == spec["quarantined_rows"]
    assert len(q) == r.quarantined
    if "values" in spec:
        key = spec["values"]["key"]
        stored = core.load_transactions(mem_store).set_index(key)
        for ident, cols in spec["values"]["rows"].items():
            row = stored.loc[ident]
            assert {c: (int(row[c]) if c in ("amount_minor", "ts_ms") or "balance" in c else row[c])
                    for c in cols} == cols, ident
    again = ingest_file(*args)  # idempotent: nothing new, the same quarantine
    assert (again.accepted, again.quarantined, again.duplicates) == (0, r.quarantined, r.read - r.quarantined)
    assert len(qstore.load_quarantine(mem_store, r.source_key)) == r.quarantined


@pytest.mark.parametrize("spec_path", [p for p in SPECS if "inspect" in json.loads(p.read_text())], ids=_name)
def test_inspect_proposes_the_map_and_options_that_load_the_file(spec_path: Path) -> None:
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    want = spec["inspect"]
    prof = inspect_file(DATA / spec["file"])
    assert prof.map == want["map"]
    assert prof.options == want["options"]
    for text in want["command_contains"]:
        assert text in prof.command
    assert prof.report is not None and prof.report.read == spec["expect"]["read"]
    assert prof.report.quarantined == spec["expect"]["quarantined"]


#: Options inspect proposes itself; a spec needing any other (a zone, a delay, rounding) is read by
#: inspect without it, so its counts may differ.
INFERRED = {"decimal", "time_format"}


@pytest.mark.parametrize("spec_path", [p for p in SPECS if "error" not in json.loads(p.read_text())
                                       and set(json.loads(p.read_text()).get("options", {})) <= INFERRED
                                       and "header_only" not in p.name], ids=_name)
def test_inspect_alone_finds_how_every_corpus_file_is_read(spec_path: Path) -> None:
    # from an unknown file to a correct command: inspect's proposal loads each file as its spec says
    spec = json.loads(spec_path.read_text(encoding="utf-8"))
    prof = inspect_file(DATA / spec["file"])
    assert prof.unmapped == [] and prof.report is not None, prof.warnings
    got = {k: getattr(prof.report, k) for k in ("read", "quarantined", "reasons") if k in spec["expect"]}
    assert got == {k: spec["expect"][k] for k in got}
    assert set(spec.get("options", {})) <= set(prof.options)


def test_inspect_of_a_header_only_file_says_so() -> None:
    with pytest.raises(errors.InputError, match="header but no data rows"):
        inspect_file(DATA / "header_only.csv")
