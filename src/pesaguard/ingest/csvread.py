"""CSV rows as Arrow tables: Arrow where the file is clean, Python line by line where it is not.

Arrow's CSV reader is fast but trusts the file: a quote that is never closed swallows the lines
after it into one value, with no error when the widths happen to fit, so rows vanish without a
trace. So Arrow reads a batch at a time and a batch is only used when it cannot hide that:

* a file whose first MiB has no quote character is read with quoting off (each line is one
  record) and a batch is refused if any value holds a quote character;
* otherwise quoting is on, every column is read, and a batch is refused if any value holds a line
  break.

A refused batch, or one Arrow cannot parse (a ragged row, bytes that are not text in the file's
encoding), is read again by Arrow from its first line in small blocks (:data:`NARROW_BYTES`), and
the small block that fails is read by the Python reader here. It reads line by line:
a line without quotes is split as it is; a line with quotes goes through :mod:`csv` (strict). A
record that runs over several lines (a quoted line break) is kept only if it is well-formed CSV of
the header's width and none of its inner lines would be a row of that width on its own; otherwise
its first line is set aside as a broken row (an unterminated quote) and reading resumes at the
next line, so one stray quote costs one row. After :data:`CALM_LINES` clean lines in a row, an
uncompressed file goes back to Arrow from that byte offset; a compressed one stays with Python to
its end (going back would mean decompressing from the start at every later problem).

Rows are numbered from 1 at the first record below the header; blank lines are not rows. Every
record becomes a row of the table or a broken row with its number, so nothing is skipped.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from pesaguard.ingest.sniff import WINDOWS_1252, Layout, ensure_codecs, open_binary
from pesaguard.ingest.validate import may_hold

BLOCK_BYTES = 4 << 20
#: Arrow's block size while it closes in on a batch it could not use (about 3,000 PaySim rows), so
#: that the Python reader starts near the problem rather than up to 4 MB before it.
NARROW_BYTES = 256 << 10
#: Small blocks read cleanly before Arrow goes back to big ones (4 MB, one big block's worth).
NARROW_BATCHES = 16
#: Clean single-line records the Python reader reads before handing an uncompressed file back to Arrow.
CALM_LINES = 2_000
#: The most lines one quoted value may span; past it the opening line is an unterminated quote.
MAX_RECORD_LINES = 100
RAW_CHARS = 500

Broken = tuple[int, str, dict[str, Any]]


@dataclass
class Piece:
    """Rows of a file: a table, each row's number, and the broken rows (number, reason, raw) among them."""

    table: pa.Table
    row_numbers: np.ndarray
    broken: list[Broken] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.table.num_rows + len(self.broken)


@dataclass
class ReadStats:
    """What the reader noticed, for the report."""

    recoded_rows: int = 0  # rows of a UTF-8 file decoded as Windows-1252
    first_recoded_line: int | None = None
    multiline_records: int = 0  # records with a quoted line break, kept
    python_rows: int = 0  # records read by the Python reader


@dataclass
class _Position:
    offset: int  # byte offset (decompressed) of the next unread line
    line: int  # physical line number of the next unread line (the header is line 1)
    row: int  # rows numbered so far


class CsvReader:
    """Stream a CSV file's records as :class:`Piece` objects (see the module docstring)."""

    def __init__(self, path: Path, layout: Layout, wanted: list[str], piece_rows: int = 50_000) -> None:
        self.path, self.layout, self.wanted = path, layout, wanted
        self.columns = layout.columns
        self.width = len(self.columns)
        self.pos_of = [self.columns.index(c) for c in wanted]
        self.piece_rows = piece_rows
        self.quoted = layout.quoted
        self.stats = ReadStats()
        if layout.encoding == WINDOWS_1252:
            ensure_codecs()

    def pieces(self) -> Iterator[Piece]:
        pos = _Position(self.layout.header_end, 2, 0)
        narrow = False
        while True:
            delivered = 0
            finished = True
            widen = False
            batches = self._arrow(pos.offset, NARROW_BYTES if narrow else BLOCK_BYTES)
            try:
                for i, table in enumerate(batches):
                    if narrow and i == NARROW_BATCHES:  # past the trouble: back to big blocks
                        finished, widen = False, True
                        break
                    if self._refuse(table):
                        finished = False
                        break
                    table = table.select(self.wanted)
                    n = table.num_rows
                    yield Piece(table, np.arange(pos.row + delivered + 1, pos.row + delivered + n + 1, dtype=np.int64))
                    delivered += n
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError, UnicodeDecodeError):
                finished = False
            finally:
                batches.close()  # closes the file now, not when the generator is collected
            if finished:
                return
            if widen:
                pos, narrow = self._advance(pos, delivered), False
                continue
            if not narrow and self.layout.compression is None:
                # close in on the problem: Arrow again from the batch it could not use, in small blocks
                pos, narrow = self._advance(pos, delivered), True
                continue
            nxt = yield from self._python(pos, delivered)
            if nxt is None:
                return
            pos, narrow = nxt, False

    def _advance(self, pos: _Position, rows: int) -> _Position:
        """Where the file stands ``rows`` rows (one non-blank line each, as Arrow read them) past ``pos``."""
        with open_binary(self.path, self.layout.compression) as fh:
            _seek(fh, pos.offset, self.layout.compression is None)
            lines = _Lines(fh, pos.offset, pos.line)
            lines.skip_rows(rows)
            return _Position(lines.offset, lines.line, pos.row + rows)

    # -- Arrow ---------------------------------------------------------------------------------

    def _arrow(self, offset: int, block: int) -> Generator[pa.Table, None, None]:
        lay = self.layout
        if lay.compression is None:
            stream: Any = pa.OSFile(str(self.path))
            stream.seek(offset)
        else:
            stream = pa.input_stream(str(self.path), compression=lay.compression)
            stream.read(offset)
        reader = pacsv.open_csv(
            stream,
            read_options=pacsv.ReadOptions(block_size=block, use_threads=True, column_names=self.columns,
                                           encoding="utf8" if lay.encoding == "utf-8" else lay.encoding),
            parse_options=pacsv.ParseOptions(delimiter=lay.delimiter, quote_char='"' if self.quoted else False,
                                             double_quote=True, newlines_in_values=False, ignore_empty_lines=True),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in self.columns},
                include_columns=self.columns,  # all: a stray quote in any column must be seen
                strings_can_be_null=False, quoted_strings_can_be_null=False),
        )
        try:
            for batch in reader:
                yield pa.Table.from_batches([batch])
        finally:
            stream.close()

    def _refuse(self, table: pa.Table) -> bool:
        """Whether a batch could hide a parsing mistake (see the module docstring)."""
        if not self.quoted and self.layout.quote_free:
            return False  # the file holds no quote at all (found while it was hashed)
        columns = [chunk for col in table.columns for chunk in col.chunks]
        if not self.quoted:
            if any(may_hold(c, b'"') for c in columns):
                self.quoted = True  # the file quotes after all: from here on, read with quoting on
                return True
            return False
        return any(may_hold(c, b"\n") or may_hold(c, b"\r") for c in columns)

    # -- Python --------------------------------------------------------------------------------

    def _python(self, start: _Position, skip: int) -> Generator[Piece, None, _Position | None]:
        """Records from ``start`` (skipping the ``skip`` rows Arrow delivered) until the file ends or
        it is calm again; returns where Arrow should go on, or None at the end of the file."""
        lay = self.layout
        fh = open_binary(self.path, lay.compression)
        try:
            _seek(fh, start.offset, lay.compression is None)
            row = start.row + skip
            lines = _Lines(fh, start.offset, start.line)
            lines.skip_rows(skip)
            pull = lines.pull
            cols: list[list[str]] = [[] for _ in self.wanted]
            numbers: list[int] = []
            broken: list[Broken] = []
            calm = 0
            while True:
                if calm >= CALM_LINES and lines.settled and lay.compression is None:
                    if numbers or broken:
                        yield self._piece(cols, numbers, broken)
                    return _Position(lines.offset, lines.line, row)
                item = pull()
                if item is None:
                    if numbers or broken:
                        yield self._piece(cols, numbers, broken)
                    return None
                ln, raw = item
                text = self._decode(raw, ln)
                body = text.rstrip("\r\n")
                if not body:
                    continue  # a blank line is not a row
                row += 1
                self.stats.python_rows += 1
                fields: list[str] | None
                if '"' not in body:
                    split = body.split(lay.delimiter)
                    fields = split
                    reason = None if len(split) == self.width else \
                        f"row has {len(split)} fields, expected {self.width} (line {ln})"
                    calm = calm + 1 if reason is None else 0
                else:
                    self.quoted = True
                    fields, reason, extra = self._quoted(text, ln, pull)
                    if extra:
                        if reason is None:
                            self.stats.multiline_records += 1
                        else:
                            lines.push_back(extra)  # read them again as rows of their own
                    calm = 0
                if reason is not None:
                    broken.append((row, reason, {"_line": ln, "_raw": body[:RAW_CHARS]}))
                else:
                    assert fields is not None
                    for out, p in zip(cols, self.pos_of, strict=True):
                        out.append(fields[p])
                    numbers.append(row)
                if len(numbers) + len(broken) >= self.piece_rows:
                    yield self._piece(cols, numbers, broken)
                    cols, numbers, broken = [[] for _ in self.wanted], [], []
        finally:
            fh.close()

    def _quoted(self, text: str, ln: int, pull: Callable[[], tuple[int, bytes] | None]
                ) -> tuple[list[str] | None, str | None, list[tuple[int, bytes]]]:
        """One record that starts with a line holding quotes: (fields, reason if broken, extra lines read)."""
        extra: list[tuple[int, bytes]] = []

        def feed() -> Iterator[str]:
            yield text
            while len(extra) < MAX_RECORD_LINES:
                item = pull()
                if item is None:
                    return
                extra.append(item)
                yield self._decode(item[1], item[0])

        reader = csv.reader(feed(), delimiter=self.layout.delimiter, quotechar='"', doublequote=True, strict=True)
        try:
            fields = next(reader, [])
        except csv.Error as exc:
            if extra or text.count('"') % 2:
                return None, f"row has an unterminated quote (line {ln})", extra
            return None, f"row is not valid CSV: {exc} (line {ln})", extra
        if len(fields) != self.width:
            if extra:
                return None, f"row has an unterminated quote (line {ln})", extra
            return None, f"row has {len(fields)} fields, expected {self.width} (line {ln})", extra
        if extra and any(self._is_row(self._decode(raw, n)) for n, raw in extra[:-1]):
            return None, f"row has an unterminated quote (line {ln})", extra
        return fields, None, extra

    def _is_row(self, text: str) -> bool:
        """Whether a line on its own is a well-formed record of the header's width."""
        body = text.rstrip("\r\n")
        if '"' not in body:
            return body.count(self.layout.delimiter) == self.width - 1
        try:
            fields = next(csv.reader([body], delimiter=self.layout.delimiter, strict=True), [])
        except csv.Error:
            return False
        return len(fields) == self.width

    def _decode(self, raw: bytes, line: int) -> str:
        try:
            return raw.decode(self.layout.encoding)
        except UnicodeDecodeError:
            ensure_codecs()
            self.stats.recoded_rows += 1
            if self.stats.first_recoded_line is None:
                self.stats.first_recoded_line = line
            return raw.decode(WINDOWS_1252)

    def _piece(self, cols: list[list[str]], numbers: list[int], broken: list[Broken]) -> Piece:
        table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(self.wanted, cols, strict=True)})
        return Piece(table, np.asarray(numbers, dtype=np.int64), broken)


class _Lines:
    """Lines of a binary stream from a byte offset (``\\n``, ``\\r\\n`` and a bare ``\\r`` end a line,
    for Arrow and csv alike), numbered, with lines pushed back read again first."""

    def __init__(self, fh: IO[bytes], offset: int, line: int) -> None:
        self.fh, self.offset, self.line = fh, offset, line
        self._parts: deque[bytes] = deque()
        self._pending: deque[tuple[int, bytes]] = deque()

    def pull(self) -> tuple[int, bytes] | None:
        """(line number, raw bytes) of the next line, or None at the end."""
        if self._pending:
            return self._pending.popleft()
        if not self._parts:
            raw = self.fh.readline()
            if not raw:
                return None
            self._parts.extend(raw.splitlines(keepends=True) if b"\r" in raw[:-2] else (raw,))
        raw = self._parts.popleft()
        self.offset += len(raw)
        self.line += 1
        return self.line - 1, raw

    def push_back(self, items: list[tuple[int, bytes]]) -> None:
        self._pending.extendleft(reversed(items))

    def skip_rows(self, rows: int) -> None:
        """Skip ``rows`` non-blank lines."""
        while rows:
            item = self.pull()
            if item is None:
                return
            if item[1].strip(b"\r\n"):
                rows -= 1

    @property
    def settled(self) -> bool:
        """No line pushed back or split off is waiting: ``offset`` is where the next line starts."""
        return not self._pending and not self._parts


def _seek(fh: IO[bytes], offset: int, seekable: bool) -> None:
    if seekable:
        fh.seek(offset)
        return
    while offset > 0:
        got = fh.read(min(offset, 1 << 20))
        if not got:
            return
        offset -= len(got)


def regroup(pieces: Iterator[Piece], rows: int) -> Iterator[Piece]:
    """Regroup pieces into pieces of about ``rows`` rows: tables are cut at ``rows`` table rows and
    each broken row goes with the table rows numbered around it."""
    tables: list[pa.Table] = []
    numbers: list[np.ndarray] = []
    broken: list[Broken] = []
    template: pa.Table | None = None
    have = 0
    for p in pieces:
        template = p.table.slice(0, 0) if template is None else template
        if p.table.num_rows:
            tables.append(p.table)
            numbers.append(p.row_numbers)
            have += p.table.num_rows
        broken.extend(p.broken)
        while have >= rows:
            table = pa.concat_tables(tables)
            nums = np.concatenate(numbers)
            last = int(nums[rows - 1])
            yield Piece(table.slice(0, rows), nums[:rows], [b for b in broken if b[0] <= last])
            broken = [b for b in broken if b[0] > last]
            tables, numbers = [table.slice(rows)], [nums[rows:]]
            have -= rows
        if have == 0 and len(broken) >= rows:
            yield Piece(template, np.zeros(0, dtype=np.int64), broken)
            broken = []
    if have or broken:
        assert template is not None
        table = pa.concat_tables(tables) if tables else template
        nums = np.concatenate(numbers) if numbers else np.zeros(0, dtype=np.int64)
        yield Piece(table, nums, broken)
