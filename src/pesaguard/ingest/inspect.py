"""``inspect_file``: profile a transaction file before anything is stored.

It reports what the ingest would detect (kind, compression, encoding, delimiter), each column's
inferred type, the column map it proposes (``--map``), and then reads the whole file through the
same parsers and the same chunk preparation as :func:`~pesaguard.ingest.ingest_file`, without
writing: how many rows each rule would quarantine (with examples), which values a rule would
adjust, the label balance, the time range and the repeated ids. It ends with the ``pesaguard
ingest`` command that would load the file, so an unknown CSV needs nothing else.

Column map proposals come from the column names (a list per key, e.g. ``TX_AMOUNT`` or ``amt``
for the amount) checked against the inferred types (a time must parse as one, an amount as
money, a label as 1/0-like values); a key no name matches takes the one column of its type, if
exactly one fits. Day-first and month-first layouts are tried when a time column is not ISO 8601.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from pydantic import BaseModel, ConfigDict, Field

from pesaguard.errors import InputError, UsageError
from pesaguard.ingest.batches import ChunkWriter, LabelTiming, Tally
from pesaguard.ingest.models import (
    MAP_ALIASES,
    TXN_MAP_OPTIONAL,
    TXN_MAP_REQUIRED,
    IngestOptions,
    IngestReport,
)
from pesaguard.ingest.pipeline import label_timing, resolve_format
from pesaguard.ingest.readers import Source
from pesaguard.ingest.transactions import PAYSIM_COLUMNS, is_paysim, parse_generic, parse_paysim
from pesaguard.ingest.validate import LABEL_FALSE, LABEL_TRUE, as_text, parse_amount, parse_time

SAMPLE_ROWS = 20_000
#: Names (lower case, letters and digits only) that say which key a column is, best first.
NAMES: dict[str, tuple[str, ...]] = {
    "id": ("txnid", "transactionid", "txid", "transid", "id", "transactionref", "reference", "ref", "receiptno",
           "receipt", "transnum", "tranid"),
    "time": ("time", "timestamp", "ts", "tsms", "datetime", "txdatetime", "transactiontime", "transdatetranstime",
             "createdat", "completiontime", "date", "transactiondate", "txtime"),
    "payer": ("payer", "sender", "from", "fromaccount", "sourceaccount", "customerid", "customer", "nameorig",
              "payerid", "account", "accountid", "msisdn", "ccnum", "debitaccount", "senderid"),
    "payee": ("payee", "receiver", "recipient", "to", "toaccount", "destination", "dest", "terminalid", "terminal",
              "merchant", "merchantid", "namedest", "payeeid", "creditaccount", "receiverid"),
    "amount": ("amount", "amt", "txamount", "transactionamount", "value", "amountkes"),
    "label": ("label", "isfraud", "fraud", "txfraud", "class", "target", "fraudflag", "isfraudulent"),
    "known_at": ("knownat", "labeltime", "reportedat", "fraudreportedat", "chargebackdate", "labelknownat"),
    "typology": ("typology", "txfraudscenario", "fraudscenario", "fraudtype", "scenario"),
    "type": ("type", "txtype", "transactiontype"),
    "currency": ("currency", "ccy", "currencycode"),
    "channel": ("channel",),
    "device": ("device", "deviceid"),
    "fee": ("fee", "fees", "charge", "transactionfee"),
}
#: Layouts tried for a time column that is not ISO 8601 (day-first before month-first).
TIME_FORMATS = (
    "%d/%m/%Y %H:%M:%S", "%d/%m/%Y %H:%M", "%d/%m/%Y", "%m/%d/%Y %H:%M:%S", "%m/%d/%Y %H:%M", "%m/%d/%Y",
    "%d-%m-%Y %H:%M:%S", "%d-%m-%Y %H:%M", "%d-%m-%Y", "%d.%m.%Y %H:%M:%S", "%d.%m.%Y %H:%M", "%d.%m.%Y",
    "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d", "%d/%m/%y %H:%M", "%d/%m/%y", "%d-%b-%Y %H:%M:%S",
    "%d-%b-%Y", "%d %b %Y %H:%M", "%d %b %Y",
)
_KINDS_FOR = {
    "time": ("datetime", "epoch"),
    "known_at": ("datetime", "epoch"),
    "amount": ("amount", "integer"),
    "fee": ("amount", "integer"),
    "label": ("label",),
}


class ColumnProfile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    kind: str = Field(description="empty, label, integer, epoch, amount, datetime or text")
    detail: str = ""
    empty: int = 0
    distinct: int = 0
    example: str | None = None
    time_format: str | None = None
    numeric: bool = Field(default=False, description="Every value is a plain number (1/0 labels too).")


class Profile(BaseModel):
    """What :func:`inspect_file` found."""

    model_config = ConfigDict(extra="forbid")

    source: str
    file: dict[str, str | None]
    notes: list[str]
    format: str
    columns: list[ColumnProfile]
    map: dict[str, str]
    unmapped: list[str] = Field(default_factory=list, description="Required keys no column was found for.")
    options: dict[str, Any] = Field(default_factory=dict, description="Options the file needs (inferred).")
    report: IngestReport | None = Field(default=None, description="What ingest would do into an empty store.")
    label_counts: dict[str, int] = Field(default_factory=dict)
    time_range: tuple[str, str] | None = None
    repeated_ids: int = 0
    sampled: bool = False
    warnings: list[str] = Field(default_factory=list)
    command: str = ""


def _key(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.lower())


#: A column is of a kind when at least this share of its sampled values fit it; the rest are what
#: ingest would quarantine, which the dry run counts. One bad value must not hide an amount or a
#: time column (nor make its numbers read as epoch seconds).
FIT_SHARE = 0.9
#: The share for a column whose name says what it is (``amount``, ``TX_DATETIME``): half its values.
NAMED_SHARE = 0.5
#: Epoch numbers of 2000-02 .. 2103 in each unit (ingest reads the unit from each value's magnitude).
_EPOCHS = (("seconds", 9.5e8, 4.2e9), ("milliseconds", 9.5e11, 4.2e12), ("microseconds", 9.5e14, 4.2e15),
           ("nanoseconds", 9.5e17, 4.2e18))
_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"


def _share(mask: pa.Array, n: int) -> float:
    return int(pc.sum(mask).as_py() or 0) / n


def profile_column(name: str, values: pa.Array) -> ColumnProfile:
    """Infer a column's type from a sample of its values (see :data:`FIT_SHARE`)."""
    text = as_text(values)
    non_empty = pc.utf8_trim_whitespace(text.filter(pc.fill_null(pc.greater(pc.binary_length(text), 0), False)))
    n = len(non_empty)
    prof = ColumnProfile(name=name, kind="empty", empty=len(text) - n)
    if n == 0:
        return prof
    prof.example = str(non_empty[0].as_py())[:40]
    prof.distinct = len(pc.unique(non_empty))
    is_number = pc.match_substring_regex(non_empty, _NUMBER)
    number = _share(is_number, n)
    prof.numeric = number == 1.0
    lowered = pc.utf8_lower(non_empty)
    if prof.distinct <= 2 and pc.all(pc.is_in(lowered, pa.array(LABEL_TRUE + LABEL_FALSE))).as_py():
        prof.kind = "label"
        return prof
    named = _key(name)
    time_share = NAMED_SHARE if named in NAMES["time"] + NAMES["known_at"] else FIT_SHARE
    if number >= min(time_share, FIT_SHARE):
        nums = np.abs(np.asarray(pc.cast(non_empty.filter(is_number), pa.float64()).to_numpy()))
        units = [(unit, (nums >= lo) & (nums <= hi)) for unit, lo, hi in _EPOCHS]
        hits = [int(m.sum()) for _, m in units]
        if sum(hits) / n >= time_share:
            used = [unit for (unit, _), h in zip(units, hits, strict=True) if h]
            prof.kind = "epoch"
            prof.detail = f"epoch {used[0]}" if len(used) == 1 else f"epoch {', '.join(used)} (by magnitude)"
            return prof
    if _share(pc.match_substring_regex(non_empty, r"^[+-]?\d+$"), n) >= FIT_SHARE:
        prof.kind, prof.detail = "integer", "unique" if prof.distinct == n else ""
        return prof
    if _amount(prof, non_empty, n, NAMED_SHARE if named in NAMES["amount"] + NAMES["fee"] else FIT_SHARE):
        return prof
    iso = parse_time(non_empty, name)
    if number < FIT_SHARE and 1 - len(iso.errors) / n >= time_share:  # numbers alone would read as epochs
        offset = pc.any(pc.match_substring_regex(non_empty, r"([zZ]|[+-]\d{2}:?\d{2})$")).as_py()
        prof.kind, prof.detail = "datetime", "ISO 8601, " + ("with offset" if offset else "no offset: read in --tz")
        return prof
    fits = [f for f in TIME_FORMATS if 1 - len(parse_time(non_empty, name, time_format=f).errors) / n >= time_share]
    if fits:
        prof.kind, prof.time_format = "datetime", fits[0]
        prof.detail = f"--time-format '{fits[0]}'"
        if len(fits) > 1 and "%m/%d" in " ".join(fits[1:]) and "%d/%m" in fits[0]:
            prof.detail += " (month-first reads every value too: check)"
        return prof
    prof.kind = "text"
    prof.detail = "unique" if prof.distinct == n else (f"{prof.distinct} values" if prof.distinct <= 50 else "")
    return prof


def _amount(prof: ColumnProfile, non_empty: pa.Array, n: int, share: float) -> bool:
    """Whether the column holds money; sets the profile's kind and detail when it does. The reading
    that fits most values wins; on a tie a decimal point before a comma, each strictly before
    rounding finer values, so that ``1.234`` in a decimal-comma file reads as 1234, not as 1.23."""
    readings = [(decimal, parse_amount(non_empty, prof.name, minimum=None, decimal=decimal, rounding=rounding))
                for decimal, rounding in ((".", None), (",", None), (".", "half-even"), (",", "half-even"))]
    decimal, used = min(readings, key=lambda r: len(r[1].errors))  # the one reading most values; ties: first
    if 1 - len(used.errors) / n < share:
        return False
    prof.kind = "amount"
    notes = ["decimal comma (--decimal ,)"] if decimal == "," else []
    if pc.any(pc.match_substring_regex(non_empty, "[eE]")).as_py():
        notes.append("scientific notation")
    kinds = list(used.adjusted.values())
    if snapped := kinds.count("snapped"):
        notes.append(f"{snapped:,} float artefacts in the sample")
    finer = kinds.count("rounded") + sum("more than 2 decimals" in r for r in used.errors.values())
    if finer:
        notes.append(f"{finer:,} finer than the minor unit")
    if pc.any(pc.match_substring_regex(non_empty, "[A-Za-z$€£]")).as_py():
        notes.append("currency written in the values")
    prof.detail = ", ".join(notes)
    return True


def propose_map(profiles: list[ColumnProfile], given: Mapping[str, str] | None = None) -> dict[str, str]:
    """A column per key: the given ones, then by name (checked against the type), then by type."""
    mapping = {MAP_ALIASES.get(k, k): v for k, v in (given or {}).items()}
    by_name = {_key(p.name): p for p in profiles}
    used = set(mapping.values())
    for key in (*TXN_MAP_REQUIRED, *[k for k in TXN_MAP_OPTIONAL if k not in MAP_ALIASES]):
        if key in mapping:
            continue
        kinds = _KINDS_FOR.get(key)
        for candidate in NAMES.get(key, ()):
            p = by_name.get(candidate)
            if p is None or p.name in used or p.kind == "empty":
                continue
            if kinds and p.kind not in kinds and not (key in ("amount", "fee") and p.numeric):
                continue
            mapping[key] = p.name
            used.add(p.name)
            break
    for key in ("time", "amount", "id"):
        if key in mapping:
            continue
        kinds = _KINDS_FOR.get(key, ("integer", "text"))
        fits = [p for p in profiles if p.name not in used and p.kind in kinds
                and (key != "id" or p.detail == "unique")]
        if len(fits) == 1 or (key == "id" and fits):
            mapping[key] = fits[0].name
            used.add(fits[0].name)
    return mapping


def inspect_file(path: str | Path, fmt: str = "auto", column_map: Mapping[str, str] | None = None,
                 options: IngestOptions | None = None, max_rows: int | None = None) -> Profile:
    """Profile a transaction file (see the module docstring); nothing is stored."""
    options = options or IngestOptions()
    src = Source(path, encoding=options.encoding, delimiter=options.delimiter)
    sample = next(src.chunks(SAMPLE_ROWS), None)
    if sample is None or sample.read == 0:
        raise InputError("the file has a header but no data rows", file=src.path, hint="nothing to profile")
    columns = src.columns
    profiles = [profile_column(c, sample.table.column(c) if sample is not None and c in sample.table.column_names
                               else pa.array([], pa.string())) for c in columns]
    paysim = fmt == "paysim" or (fmt == "auto" and not column_map and is_paysim(columns))
    mapping = {} if paysim else propose_map(profiles, column_map)
    inferred = {} if paysim else _inferred_options(profiles, mapping, options)
    prof = Profile(source=str(src.path), file=src.describe(), notes=list(src.layout.notes),
                   format="paysim" if paysim else "generic", columns=profiles, map=mapping, options=inferred)
    prof.unmapped = [] if paysim else [k for k in TXN_MAP_REQUIRED if k not in mapping]
    if prof.unmapped:
        prof.warnings.append(f"no column found for {', '.join(prof.unmapped)}: give them with --map KEY=COLUMN")
        prof.command = _command(prof, options)
        return prof
    used = options.model_copy(update=inferred)
    fmt_used, full_map = resolve_format(src, "paysim" if paysim else "generic", mapping)
    _dry_run(prof, src, fmt_used, full_map, used, max_rows)
    prof.command = _command(prof, options)
    return prof


def _inferred_options(profiles: list[ColumnProfile], mapping: dict[str, str],
                      options: IngestOptions) -> dict[str, Any]:
    """Options the mapped columns call for that were not given: the time format, a decimal comma."""
    inferred: dict[str, Any] = {}
    time_col = next((p for p in profiles if p.name == mapping.get("time")), None)
    if options.time_format is None and time_col is not None and time_col.time_format:
        inferred["time_format"] = time_col.time_format
    amount_col = next((p for p in profiles if p.name == mapping.get("amount")), None)
    if options.decimal == "." and amount_col is not None and "decimal comma" in amount_col.detail:
        inferred["decimal"] = ","
    return inferred


def _dry_run(prof: Profile, src: Source, fmt: str, mapping: dict[str, str], options: IngestOptions,
             max_rows: int | None) -> None:
    """Read the file as ingest would, without a database: counts, reasons, labels, times."""
    try:
        timing = label_timing(src, fmt, mapping, options)
    except UsageError:  # a labelled file without timing: profile it as if timed, and say so below
        timing = LabelTiming("at_transaction", 0, mapping.get("label", "isFraud"))
    report = IngestReport(source=str(src.path), source_key="", format=fmt, file=src.describe())
    writer = ChunkWriter(_NoStore(), "", src.path.name, fmt, options, timing)  # type: ignore[arg-type]
    tally = Tally(report, None)
    wanted = [c for c in PAYSIM_COLUMNS if c in src.columns] if fmt == "paysim" else list(dict.fromkeys(mapping.values()))
    counts = _DryRunCounts()
    for chunk in src.chunks(options.chunk_rows, wanted):
        parsed = parse_paysim(chunk.table, options) if fmt == "paysim" else \
            parse_generic(chunk.table, mapping, options, source=src.path.name)
        batch = writer.prepare(chunk, parsed)
        new = counts.add(batch.txns, parsed.is_fraud)
        prof.repeated_ids += batch.txns.num_rows - new
        tally.add((batch, new, len(batch.labels)))
        if max_rows is not None and report.read >= max_rows:
            prof.sampled = True
            break
    tally.finish(src.notes(), None)
    prof.notes = report.notes
    prof.report = report
    has_labels = ("isFraud" in src.columns) if fmt == "paysim" else ("label" in mapping)
    if not has_labels:
        prof.label_counts = {}
    else:
        prof.label_counts = counts.labels
        if timing is not None and timing.timing == "at_transaction" and not options.labels_at_transaction:
            prof.warnings.append(
                "the file has labels but no known-at column: ingest needs --label-delay-days D, the days "
                "between a transaction and its label becoming known (7 as in the Fraud Detection Handbook)")
    if counts.lo is not None and counts.hi is not None:
        prof.time_range = (_iso(counts.lo), _iso(counts.hi))
    prof.warnings.extend(w for w in report.warnings if not w.startswith("labels are stored"))
    if report.read and report.quarantined == report.read:
        prof.warnings.append("every row would be quarantined: check the map and the options above")



class _DryRunCounts:
    """What the dry run counts across chunks: distinct ids, labels by value, the time range."""

    def __init__(self) -> None:
        self.seen: set[Any] = set()
        self.labels = {"fraud": 0, "legitimate": 0, "empty": 0}
        self.lo: int | None = None
        self.hi: int | None = None

    def add(self, txns: pa.Table, is_fraud: pa.Array | None) -> int:
        """Count one chunk's transactions and labels; returns how many ids were new."""
        new = 0
        for i in txns.column("txn_id").to_pylist():
            if i not in self.seen:
                self.seen.add(i)
                new += 1
        if is_fraud is not None:
            self.labels["fraud"] += int(pc.sum(pc.equal(is_fraud, 1)).as_py() or 0)
            self.labels["legitimate"] += int(pc.sum(pc.equal(is_fraud, 0)).as_py() or 0)
            self.labels["empty"] += int(is_fraud.null_count)
        if txns.num_rows:
            ts = txns.column("ts_ms")
            self.lo = min(self.lo, pc.min(ts).as_py()) if self.lo is not None else pc.min(ts).as_py()
            self.hi = max(self.hi, pc.max(ts).as_py()) if self.hi is not None else pc.max(ts).as_py()
        return new

def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, UTC).isoformat().replace("+00:00", "Z")


def _command(prof: Profile, options: IngestOptions) -> str:
    """The ``pesaguard ingest`` command for the file as profiled."""
    parts = ["pesaguard ingest", _quote(Path(prof.source).name)]
    if prof.format == "paysim":
        parts.append("--format paysim")
    else:
        parts += ["--format generic", "--map " + ",".join(f"{k}={_quote(v)}" for k, v in prof.map.items())]
    chosen = {**options.model_dump(exclude_defaults=True, exclude={"chunk_rows"}), **prof.options}
    flags = {"time_format": "--time-format", "tz": "--tz", "decimal": "--decimal", "encoding": "--encoding",
             "delimiter": "--delimiter", "amount_unit": "--amount-unit", "time_unit": "--time-unit",
             "currency": "--currency", "labels": "--labels"}
    for key, flag in flags.items():
        if key in chosen:
            parts.append(f"{flag} {_quote(str(chosen[key]))}")
    if chosen.get("rounding") == "half-even":
        parts.append("--round half-even")
    labelled = bool(prof.label_counts) and options.labels != "none"
    if labelled and "known_at" not in prof.map:
        if options.labels_at_transaction:
            parts.append("--labels-known-at-transaction")
        else:
            parts.append(f"--label-delay-days {options.label_delay_days or 7:g}")
    elif labelled and options.label_delay_days:
        parts.append(f"--label-delay-days {options.label_delay_days:g}")
    return " ".join(parts)


def _quote(text: str) -> str:
    return text if re.fullmatch(r"[A-Za-z0-9_.,=/:+-]+", text) else "'" + text.replace("'", "'\\''") + "'"


class _NoStore:
    """What :class:`ChunkWriter` asks of a store when nothing is written (SQL text only)."""

    dialect = "sqlite"

    def insert_ignore(self, table: str, columns: Any, conflict: Any) -> str:
        return ""
