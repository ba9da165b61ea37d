"""What a file is before it is read: container, compression, text encoding, delimiter and header.

Everything is decided from the file's first bytes (up to :data:`SAMPLE_BYTES` after decompression)
and reported, so a user can see what was assumed and override it (``--encoding``, ``--delimiter``).

* Container: Parquet by its ``PAR1`` magic; JSON Lines by the extension (``.jsonl``, ``.ndjson``,
  ``.json``) or a first non-blank character ``{``; CSV otherwise.
* Compression by magic bytes: gzip, zstd, bzip2 (Arrow decompresses all three). Zip archives are
  refused with the fix (unzip first).
* Encoding: a byte-order mark wins (UTF-8; UTF-16 and UTF-32 are refused with the fix). A sample
  that decodes as UTF-8 is UTF-8, and so is one that holds multi-byte UTF-8 characters besides stray
  bytes (two sources pasted together). Otherwise the file is Windows-1252 (reported as Latin-1 when
  the sample has no byte in 0x80-0x9F, where the two differ): both decode through the WHATWG
  ``windows-1252`` table, which maps every byte. charset-normalizer was measured on West-European
  CSV samples (names with é, ü, ñ, a € sign) in cp1252 and Latin-1 and named ``cp1250`` for every
  one of them, which turns ñ into ń; the two-way rule above is what this domain needs. Rows of a
  UTF-8 file with bytes that are not UTF-8 further down are read as Windows-1252 and counted
  (:mod:`pesaguard.ingest.csvread`).
* Delimiter: :class:`csv.Sniffer` restricted to comma, semicolon, tab and pipe; when it cannot
  decide, the candidate that splits the sample's lines into the most equal, non-trivial field
  counts; a comma for a one-column file.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import re
import zlib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Literal, cast

import pyarrow as pa

from pesaguard.errors import InputError, NotFoundError, UsageError

SAMPLE_BYTES = 1 << 20
DELIMITERS = ",;\t|"
#: The codec name under which :func:`ensure_codecs` registers the WHATWG windows-1252 table.
WINDOWS_1252 = "pesaguard-windows-1252"

Kind = Literal["csv", "jsonl", "parquet"]
_MAGIC = {b"\x1f\x8b": "gzip", b"\x28\xb5\x2f\xfd": "zstd", b"BZh": "bz2"}
_JSON_SUFFIXES = (".jsonl", ".ndjson", ".json")


@dataclass
class Layout:
    """How to read a file, as detected (or forced), and what was noticed on the way."""

    kind: Kind
    compression: str | None = None
    encoding: str = "utf-8"  # the codec used to decode
    encoding_label: str = "utf-8"  # what the report says
    delimiter: str = ","
    columns: list[str] = field(default_factory=list)
    header_end: int = 0  # byte offset (decompressed) just after the header line
    quoted: bool = False  # the sample holds a quote character
    quote_free: bool = False  # the whole (uncompressed) file holds none: set once it has been hashed
    notes: list[str] = field(default_factory=list)


def ensure_codecs() -> None:
    """Register the WHATWG windows-1252 codec (cp1252 whose five undefined bytes map to the C1
    controls, as browsers decode it), so every byte decodes. Idempotent; called when needed, never
    at import."""
    if _codec_registered[0]:
        return
    table = "".join(chr(b) if b in _CP1252_UNDEFINED else bytes([b]).decode("cp1252") for b in range(256))
    encoding_map = codecs.charmap_build(table)

    def encode(text: str, errors: str = "strict") -> tuple[bytes, int]:
        return codecs.charmap_encode(text, errors, encoding_map)

    def decode(data: bytes, errors: str = "strict") -> tuple[str, int]:
        return codecs.charmap_decode(data, errors, table)

    class _Decoder(codecs.IncrementalDecoder):
        def decode(self, data: bytes, final: bool = False) -> str:  # type: ignore[override]
            return codecs.charmap_decode(data, self.errors, table)[0]

    class _Encoder(codecs.IncrementalEncoder):
        def encode(self, text: str, final: bool = False) -> bytes:
            return codecs.charmap_encode(text, self.errors, encoding_map)[0]

    info = codecs.CodecInfo(name=WINDOWS_1252, encode=encode, decode=decode,  # type: ignore[arg-type]
                            incrementalencoder=_Encoder, incrementaldecoder=_Decoder)

    def search(name: str) -> codecs.CodecInfo | None:
        return info if name.replace("_", "-") == WINDOWS_1252 else None

    codecs.register(search)
    _codec_registered[0] = True


#: A multi-byte UTF-8 sequence: rare by chance in Windows-1252 text (it would take a letter such as
#: Ã followed by a symbol in 0x80-0xBF), the rule in UTF-8 text beyond ASCII.
_UTF8_MULTIBYTE = re.compile(rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}")
_CP1252_UNDEFINED = frozenset({0x81, 0x8D, 0x8F, 0x90, 0x9D})
_codec_registered = [False]


def open_binary(path: Path, compression: str | None) -> IO[bytes]:
    """The file's bytes, decompressed, as a buffered binary stream (readline works)."""
    if compression is None:
        return open(path, "rb")
    if compression == "gzip":
        return cast(IO[bytes], gzip.open(path, "rb"))
    if compression == "bz2":
        return cast(IO[bytes], bz2.open(path, "rb"))
    return cast(IO[bytes], io.BufferedReader(pa.input_stream(str(path), compression=compression)))


def compression_of(path: Path) -> str | None:
    with open(path, "rb") as fh:
        head = fh.read(4)
    if head.startswith(b"PK\x03\x04"):
        raise InputError("the file is a zip archive", file=path,
                         hint="unzip it and ingest the CSV, JSON Lines or Parquet file inside")
    return next((name for magic, name in _MAGIC.items() if head.startswith(magic)), None)


def sniff(path: str | Path, *, encoding: str | None = None, delimiter: str | None = None) -> Layout:
    """Detect how to read ``path``. Raises :class:`InputError` for empty or unreadable files and
    :class:`NotFoundError` for a missing path."""
    path = Path(path)
    if path.is_dir():
        raise InputError("this is a directory, not a file", file=path,
                         hint="give the path of one CSV, JSON Lines or Parquet file")
    if not path.is_file():
        raise NotFoundError(f"no such file: {path}", file=path, hint="check the path")
    if path.stat().st_size == 0:
        raise InputError("the file is empty (0 bytes)", file=path,
                         hint="the export that wrote it may have failed; write it again")
    with open(path, "rb") as fh:
        magic = fh.read(4)
    if magic == b"PAR1":
        return Layout(kind="parquet")
    name = path.name.lower()
    if name.endswith((".parquet", ".pq")):
        raise InputError("the file is named like Parquet but is not a Parquet file", file=path,
                         hint="check that the file is complete, or rename it to what it holds")
    compression = compression_of(path)
    try:
        with open_binary(path, compression) as fh:
            sample = fh.read(SAMPLE_BYTES)
            more = bool(fh.read(1))
    except (OSError, EOFError, zlib.error, pa.ArrowException) as exc:
        raise InputError(f"cannot decompress the file ({compression}): {exc}", file=path,
                         hint="the file is damaged or incomplete: check the download or copy") from exc
    notes: list[str] = [f"{compression}-compressed"] if compression else []
    enc, label, bom = _encoding(path, sample, more, encoding, notes)
    text = sample[bom:].decode(enc, errors="replace")
    if more and "\n" in text:
        text = text[: text.rfind("\n") + 1]  # whole lines only
    stripped = text.lstrip()
    bare = name[:-3] if name.endswith((".gz", ".bz2")) else name[:-4] if name.endswith(".zst") else name
    if bare.endswith(_JSON_SUFFIXES) or stripped.startswith("{"):
        if not stripped:
            raise InputError("the file holds no JSON object", file=path,
                             hint="JSON Lines files hold one JSON object per line")
        return Layout(kind="jsonl", compression=compression, encoding=enc, encoding_label=label,
                      header_end=bom, notes=notes)
    if not stripped:
        raise InputError("the file is empty (no header row)", file=path,
                         hint="the first line must name the columns")
    delim = delimiter if delimiter is not None else _delimiter(text, notes)
    header_line, header_bytes = _first_line(sample, bom, enc)
    columns = _header(path, header_line, delim, notes)
    return Layout(kind="csv", compression=compression, encoding=enc, encoding_label=label, delimiter=delim,
                  columns=columns, header_end=bom + header_bytes, quoted='"' in text, notes=notes)


def _encoding(path: Path, sample: bytes, more: bool, forced: str | None, notes: list[str]) -> tuple[str, str, int]:
    """(codec, label, BOM length)."""
    if sample.startswith((codecs.BOM_UTF32_LE, codecs.BOM_UTF32_BE)) or sample.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("the file is UTF-16 or UTF-32 text", file=path,
                         hint="save it as UTF-8 (in Excel: CSV UTF-8), or convert it with "
                              "`iconv -f UTF-16 -t UTF-8`")
    bom = len(codecs.BOM_UTF8) if sample.startswith(codecs.BOM_UTF8) else 0
    if forced is not None:
        try:
            name = codecs.lookup(forced).name
        except LookupError:
            raise UsageError(f"--encoding {forced!r} is not a known text encoding",
                             hint="use utf-8, windows-1252 or latin-1") from None
        if name in ("cp1252", "windows-1252", "latin-1", "iso8859-1"):
            ensure_codecs()
            return WINDOWS_1252, "windows-1252" if name == "cp1252" else "latin-1", bom
        return name, name, bom
    if bom:
        notes.append("UTF-8 with a byte-order mark")
    body = sample[bom:]
    try:
        body.decode("utf-8")
        return "utf-8", "utf-8", bom
    except UnicodeDecodeError as exc:
        if more and exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return "utf-8", "utf-8", bom  # a character cut by the end of the sample
        line = body.count(b"\n", 0, exc.start) + 1
    if _UTF8_MULTIBYTE.search(body):
        # UTF-8 characters and stray bytes in one file (text pasted from two systems): read it as
        # UTF-8; the lines that are not are read as Windows-1252, each, and counted
        notes.append(f"mostly UTF-8, with bytes that are not from line {line}: those lines are read as "
                     "Windows-1252")
        return "utf-8", "utf-8", bom
    ensure_codecs()
    c1 = any(0x80 <= b <= 0x9F for b in body)
    label = "windows-1252" if c1 else "latin-1"
    notes.append(f"not UTF-8 (first byte that is not, at line {line}): read as "
                 + ("Windows-1252" if c1 else "Latin-1 (ISO-8859-1)"))
    return WINDOWS_1252, label, 0


def _first_line(sample: bytes, bom: int, enc: str) -> tuple[str, int]:
    end = sample.find(b"\n", bom)
    raw = sample[bom:] if end < 0 else sample[bom:end + 1]
    return raw.decode(enc, errors="replace"), len(raw)


def _header(path: Path, line: str, delim: str, notes: list[str]) -> list[str]:
    try:
        cells = next(csv.reader([line.rstrip("\r\n")], delimiter=delim), [])
    except csv.Error as exc:
        raise InputError(f"cannot read the header: {exc}", file=path,
                         hint="the first line must name the columns") from exc
    if not any(c.strip() for c in cells):
        raise InputError("the first line is blank", file=path, hint="the first line must name the columns")
    names: list[str] = []
    for i, cell in enumerate(cells, start=1):
        name = cell.strip()
        if not name:
            name = f"column_{i}"
            notes.append(f"column {i} has no name in the header: called {name}")
        if name in names:
            raise InputError(f"column {name!r} appears twice in the header", file=path, field=name,
                             hint="rename one of them so each column has its own name")
        names.append(name)
    return names


def _delimiter(text: str, notes: list[str]) -> str:
    lines = [ln for ln in text.splitlines()[:50] if ln.strip()]
    if not lines:
        return ","
    try:
        found = csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        found = _consistent(lines)
    if found != ",":
        notes.append(f"delimiter {_name(found)} (sniffed)")
    return found


def _consistent(lines: list[str]) -> str:
    """The delimiter whose field count is the same on most lines, and more than one."""
    best, score = ",", (0, 0)
    for d in DELIMITERS:
        counts = Counter(len(next(csv.reader([ln], delimiter=d))) for ln in lines)
        width, n = counts.most_common(1)[0]
        if width > 1 and (n, width) > score:
            best, score = d, (n, width)
    return best


def _name(delim: str) -> str:
    return {",": "comma", ";": "semicolon", "\t": "tab", "|": "pipe"}.get(delim, repr(delim))
