"""One input file: what it is (:mod:`pesaguard.ingest.sniff`), its columns and its rows in chunks.

CSV (plain, ``.gz``, ``.zst``, ``.bz2``) is read by :class:`~pesaguard.ingest.csvread.CsvReader`
(Arrow where the file is clean, Python line by line where it is not), JSON Lines by
:class:`~pesaguard.ingest.jsonl.JsonlReader`, Parquet row group by row group with its own types.
Chunks hold at most about ``rows`` rows and bounded memory.
"""

from __future__ import annotations

import hashlib
import zlib
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from pesaguard.errors import InputError
from pesaguard.ingest.csvread import CsvReader, Piece, ReadStats, regroup
from pesaguard.ingest.jsonl import JsonlReader
from pesaguard.ingest.sniff import Layout, open_binary, sniff

#: A chunk of rows: a table of the wanted columns, each row's number, and the broken rows.
Chunk = Piece

_DELIMITER_NAMES = {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}


class Source:
    """One input file: its kind, layout, header and chunks."""

    def __init__(self, path: str | Path, *, encoding: str | None = None, delimiter: str | None = None) -> None:
        self.path = Path(path)
        self.layout: Layout = sniff(self.path, encoding=encoding, delimiter=delimiter)
        self.kind = self.layout.kind
        self._csv: CsvReader | None = None
        self._jsonl: JsonlReader | None = None
        if self.kind == "parquet":
            self.columns = self._parquet_columns()
        elif self.kind == "jsonl":
            self._jsonl = JsonlReader(self.path, self.layout)
            self.columns = self._jsonl.columns
        else:
            self.columns = self.layout.columns

    def _parquet_columns(self) -> list[str]:
        try:
            return list(pq.ParquetFile(self.path).schema_arrow.names)
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read Parquet: {exc}", file=self.path,
                             hint="check that the file is a complete Parquet file") from exc

    # -- what was found ------------------------------------------------------------------------

    def describe(self) -> dict[str, str | None]:
        """Kind, compression, encoding and delimiter, for reports."""
        lay = self.layout
        text = self.kind != "parquet"
        return {
            "kind": self.kind,
            "compression": lay.compression,
            "encoding": lay.encoding_label if text else None,
            "delimiter": _DELIMITER_NAMES.get(lay.delimiter, lay.delimiter) if self.kind == "csv" else None,
        }

    def notes(self) -> list[str]:
        """What was detected and what the reader noticed while reading (after :meth:`chunks` ran)."""
        out = list(self.layout.notes)
        stats = self._csv.stats if self._csv is not None else ReadStats()
        recoded = stats.recoded_rows or (self._jsonl.recoded_rows if self._jsonl is not None else 0)
        if recoded:
            first = f", the first at line {stats.first_recoded_line}" if stats.first_recoded_line else ""
            out.append(f"{recoded:,} row(s) had bytes that are not UTF-8{first}: read as Windows-1252")
        if stats.multiline_records:
            out.append(f"{stats.multiline_records:,} row(s) hold a quoted line break")
        return out

    # -- identity ------------------------------------------------------------------------------

    def content_sha256(self) -> str:
        """SHA-256 of the file's bytes. On the way, an uncompressed CSV learns whether it holds any
        quote character (a memchr per MiB); if it holds none, the CSV reader skips its per-batch
        quote check from then on (the reader may run beside this, in another thread)."""
        h = hashlib.sha256()
        quote = False
        with open(self.path, "rb") as fh:
            while block := fh.read(1 << 20):
                h.update(block)
                quote = quote or b'"' in block
        if self.kind == "csv" and self.layout.compression is None and not quote:
            self.layout.quote_free = True
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
        """Data rows: exact for Parquet; otherwise the (uncompressed) size over the mean length of
        the first MiB's lines. Used to decide on a bulk load, never for counting."""
        if self.kind == "parquet":
            return int(pq.ParquetFile(self.path).metadata.num_rows)
        comp = self.layout.compression
        size = self.path.stat().st_size
        if comp == "gzip":
            with open(self.path, "rb") as fh:  # gzip's trailer holds the uncompressed size mod 2**32
                fh.seek(-4, 2)
                size = max(int.from_bytes(fh.read(4), "little"), size)
        elif comp is not None:
            size *= 5  # a typical ratio for CSV; only decides which writer to use
        with open_binary(self.path, comp) as fh:
            sample = fh.read(1 << 20)
        lines = sample.count(b"\n")
        if lines <= 1 or not sample:
            return max(lines - 1, 0)
        return max(int(size / (len(sample) / lines)) - 1, 0)

    # -- chunks --------------------------------------------------------------------------------

    def chunks(self, rows: int, columns: list[str] | None = None) -> Iterator[Chunk]:
        """Chunks of about ``rows`` rows; ``columns`` limits what is read (default: all)."""
        wanted = list(columns or self.columns)
        if self.kind == "parquet":
            yield from self._parquet_chunks(rows, wanted)
            return
        if self.kind == "jsonl":
            assert self._jsonl is not None
            pieces = self._jsonl.pieces(wanted)
        else:
            self._csv = CsvReader(self.path, self.layout, wanted, piece_rows=rows)
            pieces = self._csv.pieces()
        # A compressed stream that is damaged or cut short fails where it breaks: the rows before
        # it are good (and stored), the rest cannot be read. Arrow says so with ArrowInvalid.
        damaged = (OSError, EOFError, zlib.error) + ((pa.ArrowInvalid,) if self.layout.compression else ())
        done = 0
        try:
            for chunk in regroup(pieces, rows):
                if len(chunk.row_numbers):
                    done = int(chunk.row_numbers[-1])
                yield chunk
        except damaged as exc:
            what = f"{self.layout.compression}-compressed " if self.layout.compression else ""
            raise InputError(f"cannot read the {what}file after row {done}: {exc}", file=self.path,
                             hint="the file is damaged or incomplete: check the download or copy (rows read before "
                                  "the damage are kept; the same command on a complete copy adds the rest)") from exc

    def _parquet_chunks(self, rows: int, columns: list[str]) -> Iterator[Chunk]:
        done = 0
        try:
            for batch in pq.ParquetFile(self.path).iter_batches(batch_size=rows, columns=columns):
                table = pa.Table.from_batches([batch])
                yield Chunk(table, np.arange(done + 1, done + table.num_rows + 1, dtype=np.int64))
                done += table.num_rows
        except (pa.ArrowInvalid, OSError) as exc:
            raise InputError(f"cannot read Parquet after row {done}: {exc}", file=self.path,
                             hint="the file may be truncated; write it again") from exc
