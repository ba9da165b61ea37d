"""One chunk of a transaction file between validation and the database: the rows to insert, the
label rows, the quarantine entries, the counts of frauds and adjusted values, and the report's tally.

:class:`ChunkWriter` prepares a chunk (ids, the Arrow table in ``TRANSACTION_COLUMNS`` order, labels
timed by :class:`LabelTiming`, quarantine entries with their rule and label) and commits it in one
database transaction, or hands it to the SQLite bulk writer as Arrow tables; :class:`Tally` adds
what each commit did to the :class:`~pesaguard.ingest.models.IngestReport`.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pesaguard.ingest.models import Example, IngestOptions, IngestReport, fraud_bias, pct
from pesaguard.ingest.readers import Chunk
from pesaguard.ingest.transactions import DAY_MS, ContentIds, Parsed
from pesaguard.ingest.validate import rule_of
from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.store import Store, core
from pesaguard.store import quarantine as qstore

Progress = Callable[[int], None]
#: Appended to the default label source (``file``, ``paysim``) of labels asserted known at their
#: transaction's time, so the stored labels carry it: ``file-at-transaction``.
AT_TRANSACTION_SUFFIX = "-at-transaction"


EXAMPLES_PER_RULE = 3


@dataclass(frozen=True)
class LabelTiming:
    """How the known-at times of a file's labels are set: ``column`` (read from ``known_at``;
    ``delay_ms`` stands in for empty cells when set), ``delay`` or ``at_transaction``."""

    timing: str
    delay_ms: int | None
    label_column: str
    known_column: str | None = None

    def describe(self) -> str:
        days = f"{self.delay_ms / DAY_MS:g} day(s)" if self.delay_ms else ""
        if self.timing == "column":
            return f"known at column {self.known_column!r}" + (f" (empty: transaction time + {days})" if days else "")
        if self.timing == "delay":
            return f"known {days} after the transaction"
        return "known at the transaction's time (asserted with --labels-known-at-transaction)"


def example_text(reason: str, raw: dict[str, Any] | None) -> str:
    """What to show of a quarantined row: the reason, or for a row that did not split into
    columns, its line number and text."""
    if raw is not None and "_raw" in raw:
        return f"line {raw.get('_line', '?')}: {str(raw['_raw'])[:80]}"
    return reason


class Tally:
    """Adds up what each committed chunk did, into the report."""

    def __init__(self, report: IngestReport, progress: Progress | None) -> None:
        self.report, self.progress = report, progress
        self.fields: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.adjust: Counter[str] = Counter()

    def add(self, done: tuple[Batch, int, int]) -> None:
        batch, new, new_labels = done
        r = self.report
        r.read += batch.read
        r.accepted += new
        r.duplicates += batch.txns.num_rows - new
        r.quarantined += len(batch.quarantine)
        r.labels += new_labels
        if batch.frauds is not None:
            r.frauds = (r.frauds or 0) + batch.frauds
            r.quarantined_frauds = (r.quarantined_frauds or 0) + batch.quarantined_frauds
        for rn, fld, reason, raw, _fraud, rule in batch.quarantine:
            self.fields[fld] += 1
            self.rules[rule] += 1
            examples = r.examples.setdefault(rule, [])
            if len(examples) < EXAMPLES_PER_RULE:
                examples.append(Example(row=rn, field=fld, text=example_text(reason, raw)))
        for rn, fld, kind, text in batch.adjusted:
            self.adjust[kind] += 1
            examples = r.adjustment_examples.setdefault(kind, [])
            if len(examples) < EXAMPLES_PER_RULE:
                examples.append(Example(row=rn, field=fld, text=text))
        if self.progress is not None:
            self.progress(batch.read)

    def finish(self, notes: list[str], timing: LabelTiming | None) -> None:
        r = self.report
        r.notes = notes
        r.top_reasons = dict(self.fields.most_common(10))
        r.reasons = dict(self.rules.most_common())
        r.adjustments = dict(self.adjust.most_common())
        if timing is not None and timing.timing == "at_transaction":
            r.warnings.append(
                "labels are stored as known at their transaction's time: label-based features see each "
                "fraud the moment it happens, which no live system can, so models and evaluations on this "
                "store will look better than they are")
        if fraud_bias(r.read, r.quarantined, r.frauds, r.quarantined_frauds):
            assert r.frauds and r.quarantined_frauds is not None
            r.warnings.append(
                f"quarantine removed {pct(r.quarantined_frauds, r.frauds)} of the file's frauds but only "
                f"{pct(r.quarantined, r.read)} of its rows: models and metrics on what was stored are biased; "
                f"see `pesaguard quarantine show {r.source_key[:12]}`")


#: Transaction columns stored as integers; the others are text.
_INT_COLUMNS = frozenset({"ts_ms", "amount_minor", "fee_minor", "payer_balance_before", "payer_balance_after",
                          "payee_balance_before", "payee_balance_after"})
_LABEL_TYPES = (pa.string(), pa.string(), pa.int64(), pa.int64(), pa.string(), pa.string())
_QUARANTINE_TYPES = (pa.string(), pa.string(), pa.int64(), pa.string(), pa.string(), pa.string(), pa.int64(),
                     pa.string(), pa.int64())


@dataclass
class Batch:
    read: int
    txns: pa.Table  # the valid rows, columns in TRANSACTION_COLUMNS order (see _txn_table)
    labels: list[tuple[Any, ...]]
    quarantine: list[qstore.Entry]
    frauds: int | None = None  # rows labelled fraud in the chunk (None: the file has no labels)
    quarantined_frauds: int = 0
    adjusted: list[tuple[int, str, str, str]] = field(default_factory=list)  # (row, column, kind, before -> after)
    #: columns with one value for every row (the file's currency, its source), left out of ``txns``
    constants: dict[str, str | int] = field(default_factory=dict)


class ChunkWriter:
    """Prepares one validated chunk for the database and counts what its commit did."""

    def __init__(self, store: Store, key: str, source: str, fmt: str, options: IngestOptions,
                 timing: LabelTiming | None) -> None:
        self.store, self.key, self.source, self.options, self.timing = store, key, source, options, timing
        self.ids = ContentIds("ps") if fmt == "paysim" else None
        base = "paysim" if fmt == "paysim" else "file"
        if timing is not None and timing.timing == "at_transaction":
            base += AT_TRANSACTION_SUFFIX  # the labels themselves say how they were timed
        self.label_source = options.label_source or base
        self._txn_sqls: dict[tuple[Any, ...], str] = {}
        self.label_sql = store.insert_ignore("labels", core.LABEL_COLUMNS, ("label_id",))
        self.quarantine_sql = store.insert_ignore("quarantine", qstore.QUARANTINE_COLUMNS, qstore.QUARANTINE_KEY)

    def prepare(self, chunk: Chunk, parsed: Parsed) -> Batch:
        """Everything but the database: ids, the transactions table, labels and quarantine entries."""
        valid = parsed.valid
        keep = pa.array(valid)
        txn_ids: pa.Array | None = None
        if self.ids is not None and parsed.content is not None and parsed.steps is not None:
            content = pc.cast(parsed.content.filter(keep), pa.binary()).to_pylist()
            steps = np.asarray(parsed.steps.filter(keep).to_numpy(zero_copy_only=False))
            txn_ids = self.ids.id_array(content, steps)
        txns, constants = _txn_table(parsed, keep, int(valid.sum()), txn_ids)
        labels = self._label_rows(parsed, keep, txns)
        batch = Batch(chunk.read, txns, labels, quarantine_rows(chunk, parsed), constants=constants)
        if parsed.is_fraud is not None and self.options.labels != "none":
            fraud = np.asarray(pc.fill_null(pc.equal(parsed.is_fraud, 1), False).to_numpy(zero_copy_only=False))
            batch.frauds = int(fraud.sum())
            batch.quarantined_frauds = int((fraud & ~valid).sum())
        if parsed.adjusted:
            decimals = 2 if self.options.amount_unit == "major" or self.ids is not None else 0
            batch.adjusted = _adjusted(chunk, parsed, decimals)
        return batch

    def _txn_sql(self, batch: Batch) -> str:
        """The INSERT for the batch's transaction columns, with its constants as literals (made once)."""
        key = (tuple(batch.txns.column_names), tuple(batch.constants.items()))
        sql = self._txn_sqls.get(key)
        if sql is None:
            sql = self._txn_sqls[key] = core.transaction_insert(self.store, batch.txns.column_names, batch.constants)
        return sql

    def commit(self, batch: Batch) -> tuple[Batch, int, int]:
        """One database transaction through the store's connection: the chunk's rows, or nothing."""
        with self.store.transaction() as cur:
            new = self.store.executemany_in(cur, self._txn_sql(batch), table_rows(batch.txns))
            new_labels = self.store.executemany_in(cur, self.label_sql, batch.labels)
            if batch.quarantine:
                qstore.insert_quarantine(self.store, self.key, self.source, batch.quarantine, cur)
        return batch, new, new_labels

    def job(self, batch: Batch) -> list[tuple[str, pa.Table]]:
        """The same transaction as :meth:`commit`, as Arrow tables for :class:`SqliteBulkWriter`."""
        quarantine = qstore.quarantine_rows(self.key, self.source, batch.quarantine)
        return [
            (self._txn_sql(batch), batch.txns),
            (self.label_sql, _rows_table(batch.labels, core.LABEL_COLUMNS, _LABEL_TYPES)),
            (self.quarantine_sql, _rows_table(quarantine, qstore.QUARANTINE_COLUMNS, _QUARANTINE_TYPES)),
        ]

    def _label_rows(self, parsed: Parsed, keep: pa.Array, txns: pa.Table) -> list[tuple[Any, ...]]:
        if parsed.is_fraud is None or self.timing is None or txns.num_rows == 0:
            return []
        flags = parsed.is_fraud.filter(keep)
        wanted = pc.fill_null(pc.equal(flags, 1), False) if self.options.labels == "fraud" else flags.is_valid()
        idx = np.flatnonzero(np.asarray(wanted.to_numpy(zero_copy_only=False)))
        if len(idx) == 0:
            return []
        take = pa.array(idx)
        delay = self.timing.delay_ms or 0
        known = _pylist(parsed.label_ms.filter(keep).take(take)) if parsed.label_ms is not None else None
        typology = _pylist(parsed.typology.filter(keep).take(take)) if parsed.typology is not None else None
        fraud = _pylist(flags.take(take))
        ids = _pylist(txns.column("txn_id").take(take))
        times = _pylist(txns.column("ts_ms").take(take))
        out = []
        for j, (txn_id, ts) in enumerate(zip(ids, times, strict=True)):
            at = known[j] if known is not None and known[j] is not None else ts + delay
            f = int(fraud[j])
            typ = typology[j] if typology is not None else None
            out.append((core.label_id(txn_id, bool(f), at, self.label_source), txn_id, f, at, self.label_source, typ))
        return out


def _txn_table(parsed: Parsed, keep: pa.Array, count: int,
               txn_ids: pa.Array | None) -> tuple[pa.Table, dict[str, str | int]]:
    """The ``count`` valid rows as an Arrow table in TRANSACTION_COLUMNS order, and the columns that
    hold one value for every row (the file's currency, its source). Columns the file does not have
    are left out (stored as NULL) and constants are written into the INSERT
    (:func:`pesaguard.store.core.transaction_insert`); ``txn_ids`` are the valid rows' derived ids,
    if the file has none."""
    cols: list[pa.Array] = []
    names: list[str] = []
    constants: dict[str, str | int] = {}
    for name in TRANSACTION_COLUMNS:
        typ = pa.int64() if name in _INT_COLUMNS else pa.string()
        v = parsed.columns.get(name)
        if name == "txn_id" and txn_ids is not None:
            arr = txn_ids  # derived for the valid rows only
        elif isinstance(v, pa.Array):
            arr = v.filter(keep)
            arr = arr if arr.type == typ else arr.cast(typ)
        elif v is None and name in core.OMITTABLE_TRANSACTION_COLUMNS:
            continue
        elif (type(v) is str and typ == pa.string()) or (type(v) is int and typ == pa.int64()):
            constants[name] = v
            continue
        else:
            arr = pa.nulls(count, typ) if v is None else pa.repeat(pa.scalar(v, typ), count)
        cols.append(arr)
        names.append(name)
    return pa.Table.from_arrays(cols, names=names), constants


def table_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """An Arrow table as row tuples of Python values, built column-wise."""
    if table.num_rows == 0:
        return []
    return list(zip(*(_pylist(c.combine_chunks()) for c in table.columns), strict=True))


def _rows_table(rows: list[tuple[Any, ...]], names: tuple[str, ...], types: tuple[pa.DataType, ...]) -> pa.Table:
    """Row tuples as an Arrow table with the given column types."""
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.Table.from_arrays([pa.array(c, t) for c, t in zip(columns, types, strict=True)], names=list(names))


def _pylist(arr: pa.Array) -> list[Any]:
    """Arrow -> Python values quickly (numpy for null-free integers)."""
    if arr.null_count == 0 and pa.types.is_integer(arr.type):
        return np.asarray(arr.to_numpy()).tolist()
    return arr.to_pylist()


def quarantine_rows(chunk: Chunk, parsed: Parsed) -> list[qstore.Entry]:
    """Broken rows and invalid rows: (row number, field, reason, raw record, label, rule), by row."""
    out: list[qstore.Entry] = [(n, "row", r, raw, None, rule_of(r)) for n, r, raw in chunk.broken]
    if parsed.errors:
        idx = np.fromiter(parsed.errors, dtype=np.int64, count=len(parsed.errors))
        take = pa.array(idx)
        raws = chunk.table.take(take).to_pylist()
        numbers = chunk.row_numbers[idx].tolist()
        fraud = parsed.is_fraud.take(take).to_pylist() if parsed.is_fraud is not None else [None] * len(idx)
        for i, n, raw, f in zip(idx.tolist(), numbers, raws, fraud, strict=True):
            fld, reason = parsed.errors[i]
            out.append((n, fld, reason, raw, None if f is None else int(f), rule_of(reason)))
    out.sort(key=lambda q: q[0])
    return out


def _adjusted(chunk: Chunk, parsed: Parsed, decimals: int) -> list[tuple[int, str, str, str]]:
    """Values a rule changed: (row number, column, what was done, 'before -> after')."""
    kinds = {"snapped": "float artefact snapped to whole minor units", "rounded": "rounded half-even"}
    out = []
    for column, rows, values in parsed.adjusted:
        idx = np.fromiter(rows, dtype=np.int64, count=len(rows))
        take = pa.array(idx)
        raws = chunk.table.column(column).take(take).to_pylist()
        after = values.take(take).to_pylist()
        for i, raw, v in zip(idx.tolist(), raws, after, strict=True):
            shown = "?" if v is None else str(Decimal(v).scaleb(-decimals))
            out.append((int(chunk.row_numbers[i]), column, f"{column}: {kinds.get(rows[i], rows[i])}",
                        f"{raw!s} -> {shown}"))
    return out


