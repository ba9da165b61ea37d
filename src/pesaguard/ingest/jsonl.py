"""JSON Lines rows as Arrow string tables, one JSON object per line.

Numbers keep the exact text they were written with (``json`` with ``parse_float=str``), so an
amount such as ``1234567890123456.78`` is not rounded through a binary float on the way in; the
amount parser then applies the same rules as for CSV text. Strings are taken as they are,
``true``/``false`` become ``"true"``/``"false"``, nested arrays and objects stay JSON text, and a
missing key or ``null`` is an empty value. The columns are the keys of the first
:data:`SAMPLE_OBJECTS` objects, in order of first appearance. A line that is not a JSON object is a
broken row, quarantined with its line number; blank lines are not rows.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from pesaguard.errors import InputError
from pesaguard.ingest.csvread import RAW_CHARS, Broken, Piece
from pesaguard.ingest.sniff import WINDOWS_1252, Layout, ensure_codecs, open_binary

SAMPLE_OBJECTS = 1000


def _loads(text: str) -> Any:
    return json.loads(text, parse_float=str, parse_int=str, parse_constant=str)


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    return json.dumps(v, ensure_ascii=False, separators=(",", ":"))


class JsonlReader:
    """Stream a JSON Lines file as :class:`Piece` objects."""

    def __init__(self, path: Path, layout: Layout, piece_rows: int = 50_000) -> None:
        self.path, self.layout, self.piece_rows = path, layout, piece_rows
        self.recoded_rows = 0
        if layout.encoding == WINDOWS_1252:
            ensure_codecs()
        self.columns = self._columns()
        layout.columns = self.columns
        self.recoded_rows = 0  # counted again when the rows are read

    def _lines(self) -> Iterator[tuple[int, str]]:
        with open_binary(self.path, self.layout.compression) as fh:
            fh.read(self.layout.header_end)  # a byte-order mark
            for n, raw in enumerate(fh, start=1):
                try:
                    text = raw.decode(self.layout.encoding)
                except UnicodeDecodeError:
                    ensure_codecs()
                    text = raw.decode(WINDOWS_1252)
                    self.recoded_rows += 1
                yield n, text

    def _columns(self) -> list[str]:
        seen: dict[str, None] = {}
        objects = 0
        for _, text in self._lines():
            if not text.strip():
                continue
            try:
                obj = _loads(text)
            except ValueError:
                continue
            if isinstance(obj, dict):
                seen.update(dict.fromkeys(str(k) for k in obj))
                objects += 1
                if objects >= SAMPLE_OBJECTS:
                    break
        if not seen:
            raise InputError("no line of the file is a JSON object with keys", file=self.path,
                             hint="JSON Lines files hold one JSON object per line, e.g. "
                                  '{"id": "T1", "time": "2024-01-01T10:00:00Z", ...}')
        return list(seen)

    def pieces(self, wanted: list[str]) -> Iterator[Piece]:
        cols: list[list[str | None]] = [[] for _ in wanted]
        numbers: list[int] = []
        broken: list[Broken] = []
        row = 0
        for line, text in self._lines():
            body = text.strip()
            if not body:
                continue
            row += 1
            try:
                obj = _loads(body)
                reason = None if isinstance(obj, dict) else f"line is JSON but not an object (line {line})"
            except ValueError as exc:
                obj, reason = None, f"line is not valid JSON ({exc.args[0].split(':')[0].lower()}, line {line})"
            if reason is not None or not isinstance(obj, dict):
                broken.append((row, reason or "not an object", {"_line": line, "_raw": body[:RAW_CHARS]}))
            else:
                for out, name in zip(cols, wanted, strict=True):
                    out.append(_text(obj.get(name)))
                numbers.append(row)
            if len(numbers) + len(broken) >= self.piece_rows:
                yield _piece(wanted, cols, numbers, broken)
                cols, numbers, broken = [[] for _ in wanted], [], []
        if numbers or broken or row == 0:
            yield _piece(wanted, cols, numbers, broken)


def _piece(wanted: list[str], cols: list[list[str | None]], numbers: list[int], broken: list[Broken]) -> Piece:
    table = pa.table({n: pa.array(c, pa.string()) for n, c in zip(wanted, cols, strict=True)})
    return Piece(table, np.asarray(numbers, dtype=np.int64), broken)
