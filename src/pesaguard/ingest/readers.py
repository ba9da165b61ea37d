"""Reading CSV (also ``.csv.gz``) and Parquet in bounded-memory chunks.

CSV is streamed with ``pyarrow.csv.open_csv`` with every column as text. If Arrow meets a row it
cannot parse (a wrong number of fields, bytes that are not UTF-8), the rest of the file is read
with Python's ``csv`` module instead, which reports such rows one by one so they can be
quarantined with their row number. Parquet is read row group by row group with its own types.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import io
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from pesaguard.errors import InputError, NotFoundError

_BLOCK = 4 << 20


@dataclass
class Chunk:
    """Rows of a file: a table, each row's 1-based number, and rows too broken to form a table."""

    table: pa.Table
    row_numbers: np.ndarray
    broken: list[tuple[int, str, dict[str, str]]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return self.table.num_rows + len(self.broken)


class Source:
    """One input file: its kind, header and chunks."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            raise NotFoundError(f"no such file: {self.path}", file=self.path, hint="check the path")
        name = self.path.name.lower()
        if name.endswith((".parquet", ".pq")):
            self.kind = "parquet"
        elif name.endswith((".csv", ".csv.gz", ".txt", ".tsv", ".gz")):
            self.kind = "csv"
        else:
            self.kind = "parquet" if _is_parquet(self.path) else "csv"
        self.columns = self._header()

    # -- header --------------------------------------------------------------------------------

    def _header(self) -> list[str]:
        if self.kind == "parquet":
            try:
                return list(pq.ParquetFile(self.path).schema_arrow.names)
            except (pa.ArrowInvalid, OSError) as exc:
                raise InputError(f"cannot read Parquet: {exc}", file=self.path,
                                 hint="check that the file is a complete Parquet file") from exc
        try:
            with self._text() as fh:
                header = next(csv.reader(fh), None)
        except (OSError, EOFError, UnicodeDecodeError, csv.Error) as exc:
            raise InputError(f"cannot read the header: {exc}", file=self.path,
                             hint="give a UTF-8 CSV (optionally gzip-compressed) with a header row") from exc
        if not header or not any(h.strip() for h in header):
            raise InputError("the file is empty (no header row)", file=self.path,
                             hint="the first line must name the columns")
        return header

    def _text(self) -> IO[str]:
        if _is_gzip(self.path):
            return io.TextIOWrapper(gzip.open(self.path, "rb"), encoding="utf-8-sig", errors="replace", newline="")
        return open(self.path, encoding="utf-8-sig", errors="replace", newline="")

    # -- identity ------------------------------------------------------------------------------

    def content_sha256(self) -> str:
        h = hashlib.sha256()
        with open(self.path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
        return h.hexdigest()

    def complete_map(self, column_map: Mapping[str, str] | None,
                     defaults: Mapping[str, Sequence[str]]) -> dict[str, str]:
        """The given column map, plus each missing key mapped to the first column named like it."""
        mapping = dict(column_map or {})
        for key, names in defaults.items():
            if key not in mapping:
                found = next((n for n in names if n in self.columns), None)
                if found is not None:
                    mapping[key] = found
        return mapping

    def estimated_rows(self) -> int | None:
        """Data rows: exact for Parquet; for CSV, the file's (uncompressed) size over the mean length
        of the first MiB's lines. Used to decide on a bulk load, never for counting."""
        if self.kind == "parquet":
            return int(pq.ParquetFile(self.path).metadata.num_rows)
        gz = self.path.name.lower().endswith(".gz")
        if gz:
            with open(self.path, "rb") as fh:  # gzip's trailer holds the uncompressed size mod 2**32
                fh.seek(-4, 2)
                size = int.from_bytes(fh.read(4), "little")
        else:
            size = self.path.stat().st_size
        opener = gzip.open if gz else open
        with opener(self.path, "rb") as fh:
            sample = fh.read(1 << 20)
        lines = sample.count(b"\n")
        if lines <= 1 or not sample:
            return max(lines - 1, 0)
        return max(int(size / (len(sample) / lines)) - 1, 0)

    # -- chunks --------------------------------------------------------------------------------

    def chunks(self, rows: int, columns: list[str] | None = None) -> Iterator[Chunk]:
        """Chunks of at most ``rows`` rows; ``columns`` limits what is read (default: all)."""
        if self.kind == "parquet":
            yield from self._parquet_chunks(rows, columns)
            return
        wanted = columns or self.columns
        state = _ArrowState()
        yield from _rechunk(self._arrow_chunks(wanted, state), rows)
        if state.failed:
            yield from self._csv_fallback(rows, wanted, skip=state.done)

    def _parquet_chunks(self, rows: int, columns: list[str] | None) -> Iterator[Chunk]:
        done = 0
        for batch in pq.ParquetFile(self.path).iter_batches(batch_size=rows, columns=columns):
            table = pa.Table.from_batches([batch])
            yield Chunk(table, np.arange(done + 1, done + table.num_rows + 1, dtype=np.int64))
            done += table.num_rows

    def _arrow_chunks(self, wanted: list[str], state: _ArrowState) -> Iterator[Chunk]:
        try:
            stream = pa.input_stream(str(self.path), compression="gzip" if _is_gzip(self.path) else None)
            reader = pacsv.open_csv(
                stream,
                read_options=pacsv.ReadOptions(block_size=_BLOCK, use_threads=True),
                convert_options=pacsv.ConvertOptions(
                    column_types={c: pa.string() for c in self.columns},
                    include_columns=wanted,
                    strings_can_be_null=False,
                    quoted_strings_can_be_null=False,
                ),
            )
            for batch in reader:
                table = pa.Table.from_batches([batch])
                done = state.done
                state.done += table.num_rows
                yield Chunk(table, np.arange(done + 1, done + table.num_rows + 1, dtype=np.int64))
        except pa.ArrowInvalid:
            state.failed = True  # a row Arrow cannot parse: go on row by row from where it stopped

    def _csv_fallback(self, rows: int, wanted: list[str], skip: int) -> Iterator[Chunk]:
        width = len(self.columns)
        pos = [self.columns.index(c) for c in wanted]
        cols: list[list[str]] = [[] for _ in wanted]
        numbers: list[int] = []
        broken: list[tuple[int, str, dict[str, str]]] = []
        number = 0
        with self._text() as fh:
            reader = csv.reader(fh)
            next(reader, None)
            for rec in reader:
                if not rec:
                    continue  # blank lines are not rows
                number += 1
                if number <= skip:
                    continue
                if len(rec) != width:
                    broken.append((number, f"row has {len(rec)} fields, expected {width}", {"_raw": ",".join(rec)[:500]}))
                elif any("\ufffd" in v for v in rec):
                    broken.append((number, "row is not valid UTF-8", {"_raw": ",".join(rec)[:500]}))
                else:
                    for out, p in zip(cols, pos, strict=True):
                        out.append(rec[p])
                    numbers.append(number)
                if len(numbers) + len(broken) >= rows:
                    yield _chunk(wanted, cols, numbers, broken)
                    cols, numbers, broken = [[] for _ in wanted], [], []
        if numbers or broken:
            yield _chunk(wanted, cols, numbers, broken)


def _chunk(names: list[str], cols: list[list[str]], numbers: list[int],
           broken: list[tuple[int, str, dict[str, str]]]) -> Chunk:
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(names, cols, strict=True)})
    return Chunk(table, np.asarray(numbers, dtype=np.int64), broken)


@dataclass
class _ArrowState:
    done: int = 0
    failed: bool = False


def _rechunk(chunks: Iterator[Chunk], rows: int) -> Iterator[Chunk]:
    """Regroup Arrow's block-sized batches (which have no broken rows) into chunks of ``rows`` rows."""
    tables: list[pa.Table] = []
    numbers: list[np.ndarray] = []
    have = 0
    for c in chunks:
        tables.append(c.table)
        numbers.append(c.row_numbers)
        have += c.table.num_rows
        while have >= rows:
            table = pa.concat_tables(tables)
            nums = np.concatenate(numbers)
            yield Chunk(table.slice(0, rows), nums[:rows])
            tables, numbers = [table.slice(rows)], [nums[rows:]]
            have -= rows
    if have:
        yield Chunk(pa.concat_tables(tables), np.concatenate(numbers))


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _is_parquet(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PAR1"
