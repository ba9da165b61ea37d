"""Files that are broken in any way: every row is counted (A + Q + D = N), nothing crashes, nothing is lost.

Random bytes either give a clean error naming the file (no header, no columns) or rows that are
stored or quarantined with a reason; stray quote characters cost the rows they are in, never the rows
after them, whether Arrow or the Python reader reads the file.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pesaguard.errors import PesaguardError
from pesaguard.ingest import IngestOptions, csvread, ingest_file, inspect_file
from pesaguard.ingest.readers import Source
from pesaguard.store import Store, core
from pesaguard.store import quarantine as qstore

HEADER = b"id,time,payer,payee,amount\n"
COMMA = IngestOptions(delimiter=",")
FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def mem_store() -> Iterator[Store]:
    s = Store("sqlite:///:memory:")
    s.migrate()
    yield s
    s.close()


def _write(tmp_path: Path, body: bytes, name: str = "f.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


@given(st.lists(st.binary(min_size=1, max_size=60).map(lambda b: b.replace(b"\n", b"").replace(b"\r", b"")
                                                            .replace(b'"', b"")),
                min_size=1, max_size=30))
@FUZZ
def test_random_byte_lines_are_each_one_row_stored_or_quarantined(mem_store: Store, tmp_path_factory: pytest.TempPathFactory,
                                                                  lines: list[bytes]) -> None:
    path = _write(tmp_path_factory.mktemp("fuzz"), HEADER + b"\n".join(lines) + b"\n")
    rows = sum(1 for ln in lines if ln)
    r = ingest_file(mem_store, path, options=COMMA)
    assert r.read == rows
    assert r.accepted + r.quarantined + r.duplicates == rows
    q = qstore.load_quarantine(mem_store, r.source_key)
    assert len(q) == r.quarantined and q["reason"].map(bool).all()


@given(st.binary(max_size=600))
@FUZZ
def test_any_bytes_at_all_never_crash(mem_store: Store, tmp_path_factory: pytest.TempPathFactory, data: bytes) -> None:
    path = _write(tmp_path_factory.mktemp("fuzz"), HEADER + data)
    try:
        r = ingest_file(mem_store, path)
    except PesaguardError as exc:  # a clean error naming the file, never a traceback
        assert str(path) in str(exc) or "--" in str(exc)
        return
    assert r.accepted + r.quarantined + r.duplicates == r.read


@given(st.integers(min_value=5, max_value=80), st.lists(st.tuples(st.integers(0, 10_000), st.integers(0, 60)),
                                                         min_size=1, max_size=3), st.booleans())
@FUZZ
def test_stray_quotes_cost_only_their_own_rows(mem_store: Store, tmp_path_factory: pytest.TempPathFactory,
                                               n: int, cuts: list[tuple[int, int]], python_only: bool) -> None:
    tag = tmp_path_factory.mktemp("q").name
    rows = [f"{tag}-{i},2024-01-01T00:00:00Z,P{i},Q{i},{i}.50" for i in range(1, n + 1)]
    broken = set()
    for which, at in cuts:
        k = which % n
        line = rows[k]
        pos = at % (len(line) + 1)
        rows[k] = line[:pos] + '"' + line[pos:]
        broken.add(k)
    path = _write(tmp_path_factory.mktemp("q"), HEADER + ("\n".join(rows) + "\n").encode())
    if python_only:  # the Python reader from the first row (what a file Arrow refuses at once gets)
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(csvread.CsvReader, "_refuse", lambda self, table: True)
            r = ingest_file(mem_store, path)
    else:
        r = ingest_file(mem_store, path)
    assert r.read == n
    assert r.accepted + r.quarantined + r.duplicates == n
    stored = set(core.load_transactions(mem_store)["txn_id"])
    intact = {f"{tag}-{i + 1}" for i in range(n) if i not in broken}
    assert intact <= stored  # every row without a stray quote is stored


def test_a_huge_unterminated_field_is_one_broken_row(mem_store: Store, tmp_path: Path) -> None:
    # an unterminated quote followed by more than csv's field limit (128 KiB) and MAX_RECORD_LINES lines
    rows = [f"H{i},2024-01-01T00:00:00Z,A,B,1" for i in range(1, 3001)]
    rows[9] = 'H10,2024-01-01T00:00:00Z,"' + "x" * 200_000  # one line past the field limit
    rows[499] = 'H500,2024-01-01T00:00:00Z,A,B,"1'  # a quote that would swallow the 2,500 lines after it
    r = ingest_file(mem_store, _write(tmp_path, HEADER + ("\n".join(rows) + "\n").encode()))
    assert (r.read, r.accepted, r.quarantined) == (3000, 2998, 2)
    assert r.reasons == {"row has an unterminated quote": 2}
    assert qstore.load_quarantine(mem_store, r.source_key)["row_number"].tolist() == [10, 500]


def test_a_quoted_line_break_in_an_unused_column_after_the_sample_makes_no_phantom_row(
        mem_store: Store, tmp_path: Path) -> None:
    # quoting is off for a file whose first MiB has no quote; this record's two lines would each have
    # the header's width, the quote showing only in the unused column `note`
    rows = [f"P{i},2024-01-01T00:00:00Z,A,B,1,plain" for i in range(30_000)]
    rows.append('P-x,2024-01-01T00:00:00Z,A,B,7,"first line,\nQ-y,2024-01-01T00:00:00Z,A,B,9,second",more')
    head = b"id,time,payer,payee,amount,note\n"
    path = _write(tmp_path, head.replace(b"note\n", b"note,extra\n") + "\n".join(
        r if r.startswith("P-x") else r + ",x" for r in rows).encode() + b"\n")
    r = ingest_file(mem_store, path, options=COMMA)
    assert (r.read, r.accepted, r.quarantined) == (30_001, 30_001, 0)
    assert core.load_transactions(mem_store).set_index("txn_id").loc["P-x", "amount_minor"] == 700


def _read_all(path: Path) -> tuple[dict[int, tuple[str, ...]], dict[int, str]]:
    src = Source(path)
    rows: dict[int, tuple[str, ...]] = {}
    broken: dict[int, str] = {}
    for chunk in src.chunks(700):
        for n, values in zip(chunk.row_numbers.tolist(), chunk.table.to_pylist(), strict=True):
            rows[n] = tuple(values.values())
        broken.update({n: reason for n, reason, _ in chunk.broken})
    return rows, broken


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_arrow_with_python_patches_reads_exactly_what_python_alone_reads(tmp_path: Path, seed: int) -> None:
    """Tiny blocks make every hand-over happen (big block fails, small blocks close in, Python reads the
    bad stretch, Arrow takes over again); the result must equal a read by the Python reader alone."""
    import random

    rng = random.Random(seed)
    lines = []
    for i in range(4000):
        line = f"R{i},2024-01-01T00:00:00Z,P{i % 13},Q{i % 7},{i}.25"
        roll = rng.random()
        if roll < 0.004:
            line += ",surplus"
        elif roll < 0.008:
            line = line.replace(",P", ',"P', 1)  # an unterminated quote
        elif roll < 0.012:
            line = line.rsplit(",", 1)[0] + ',"12\n.50"'  # a quoted line break (an amount that fails later)
        elif roll < 0.016:
            line += "\n"  # a blank line
        lines.append(line)
    body = (HEADER + "\n".join(lines).encode() + b"\n").replace(b"P7,", b"P\xe9,")  # some Windows-1252 bytes
    path = _write(tmp_path, body)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(csvread, "BLOCK_BYTES", 8192)
        mp.setattr(csvread, "NARROW_BYTES", 1024)
        mp.setattr(csvread, "CALM_LINES", 25)
        mixed = _read_all(path)
        mp.setattr(csvread.CsvReader, "_refuse", lambda self, table: True)
        python = _read_all(path)
    assert mixed == python
    rows, broken = mixed
    assert len(rows) + len(broken) == sum(1 for ln in b"\n".join(body.split(b"\n")[1:]).split(b"\n") if ln) - \
        body.count(b'\n.50"')  # every line is a row but the second line of a quoted line break


GOOD_GZIP = gzip.compress(HEADER + b"".join(b"G%d,2024-01-01T00:00:00Z,A,B,1\n" % i for i in range(300)), mtime=0)


@given(st.sampled_from(["gzip-cut", b"\x1f\x8b", b"\x28\xb5\x2f\xfd", b"BZh9"]), st.binary(max_size=300),
       st.integers(min_value=0, max_value=len(GOOD_GZIP)))
@FUZZ
def test_damaged_compressed_files_are_one_line_errors(mem_store: Store, tmp_path_factory: pytest.TempPathFactory,
                                                      head: str | bytes, junk: bytes, cut: int) -> None:
    # a download cut short or bytes damaged inside a .gz/.zst/.bz2: an error naming the file, never a traceback
    body = GOOD_GZIP[:cut] + junk if head == "gzip-cut" else bytes(head) + junk  # type: ignore[arg-type]
    path = _write(tmp_path_factory.mktemp("z"), body, "f.csv.gz")
    try:
        r = ingest_file(mem_store, path)
    except PesaguardError as exc:
        assert str(path) in str(exc)
        return
    assert r.accepted + r.quarantined + r.duplicates == r.read


def test_a_gzip_file_cut_short_says_it_is_damaged(mem_store: Store, tmp_path: Path) -> None:
    # cut inside the first MiB (found while sniffing) and beyond it (found while reading rows)
    big = gzip.compress(HEADER + b"".join(b"B%d,2024-01-01T00:00:00Z,P%d,Q,1.50\n" % (i, i) for i in range(60_000)),
                        compresslevel=1, mtime=0)
    for name, body in (("small.csv.gz", GOOD_GZIP), ("big.csv.gz", big)):
        path = _write(tmp_path, body[: len(body) * 3 // 4], name)
        with pytest.raises(PesaguardError, match=r"gzip.*damaged or incomplete"):
            ingest_file(mem_store, path)


@given(st.binary(max_size=400), st.sampled_from(["f.csv", "f.jsonl"]))
@FUZZ
def test_inspect_of_any_bytes_never_crashes(tmp_path_factory: pytest.TempPathFactory, data: bytes, name: str) -> None:
    # the header is random too: column names reach messages and inferred types
    path = _write(tmp_path_factory.mktemp("fuzz"), data, name)
    try:
        prof = inspect_file(path)
    except PesaguardError as exc:
        assert str(path) in str(exc) or "--" in str(exc)
        return
    if prof.report is not None:
        assert prof.report.accepted + prof.report.quarantined + prof.report.duplicates == prof.report.read
