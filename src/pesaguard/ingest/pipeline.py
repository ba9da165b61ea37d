"""``ingest_file``: a transaction file into the store, chunk by chunk, idempotent and crash-safe.

Each chunk (``options.chunk_rows`` rows) is validated, then written in one database transaction:
its new transactions, their labels and its quarantined rows. A run killed at any point leaves
whole chunks behind; running the same command again re-derives the same ids and row numbers, so
inserts that already happened are skipped (``ON CONFLICT DO NOTHING``) and nothing is lost or
doubled. Counting: every data row is accepted (new), quarantined (invalid) or a duplicate (its id
is already stored or came earlier in the file), so ``accepted + quarantined + duplicates == read``.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import json
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pesaguard.errors import InputError, UsageError
from pesaguard.ingest.models import TXN_MAP_OPTIONAL, TXN_MAP_REQUIRED, Format, IngestOptions, IngestReport
from pesaguard.ingest.readers import Chunk, Source
from pesaguard.ingest.transactions import (
    DAY_MS,
    PAYSIM_COLUMNS,
    PAYSIM_REQUIRED,
    ContentIds,
    Parsed,
    is_paysim,
    parse_generic,
    parse_paysim,
)
from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.store import Store, core
from pesaguard.store.sqlite_bulk import SqliteBulkWriter, bulk_writer_available, sqlite_file

Progress = Callable[[int], None]

#: Column names a generic file may use without ``--map`` (first match wins).
_DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "txn_id"),
    "time": ("time", "timestamp", "ts_ms"),
    "payer": ("payer",),
    "payee": ("payee",),
    "amount": ("amount",),
    **{k: (k,) for k in TXN_MAP_OPTIONAL},
}


def ingest_file(store: Store, path: str | Path, fmt: Format = "auto", column_map: Mapping[str, str] | None = None,
                options: IngestOptions | None = None, progress: Progress | None = None) -> IngestReport:
    """Ingest a CSV, ``.csv.gz`` or Parquet file of transactions; returns what happened.

    Raises :class:`~pesaguard.errors.InputError` (naming the file, the column and the available
    columns) when required columns are missing, before anything is written.
    """
    started = time.perf_counter()
    options = options or IngestOptions()
    src = Source(path)
    fmt_used, mapping = resolve_format(src, fmt, column_map)
    expected = src.estimated_rows()
    with ExitStack() as stack:
        # A large load into a SQLite file is written by a child process that binds Arrow columns in
        # C (store.sqlite_bulk); it starts first so that it is ready when the first chunk is.
        bulk_path = _bulk_writer_file(store, expected)
        bulk = stack.enter_context(SqliteBulkWriter(bulk_path)) if bulk_path is not None else None
        with ThreadPoolExecutor(max_workers=1) as hasher:
            key_future = hasher.submit(source_key, src, fmt_used, mapping)
            if fmt_used == "paysim":
                wanted = [c for c in PAYSIM_COLUMNS if c in src.columns]
            else:
                wanted = list(dict.fromkeys(mapping.values()))
            chunks = src.chunks(options.chunk_rows, wanted)
            first = next(chunks, None)  # parse the first chunk while the file is hashed
            key = key_future.result()
        report = IngestReport(source=str(src.path), source_key=key, format=fmt_used)
        started_ms = _now_ms()
        core.record_ingest_run(store, key, str(src.path), fmt_used, started_ms)
        writer = _ChunkWriter(store, key, src.path.name, fmt_used, options)
        reasons: Counter[str] = Counter()

        def tally(counts: dict[str, Any]) -> None:
            report.read += counts["read"]
            report.accepted += counts["accepted"]
            report.quarantined += counts["quarantined"]
            report.duplicates += counts["duplicates"]
            report.labels += counts["labels"]
            reasons.update(counts["fields"])
            if progress is not None:
                progress(counts["read"])

        # The writer commits chunk k while this thread validates chunk k+1; at most one chunk waits,
        # so memory stays bounded. A large load into a small table suspends the random-key secondary
        # indexes and rebuilds them once at the end (store.core.bulk_load; a kill -9 in between is
        # healed by the next open).
        with _gc_paused(), core.bulk_load(store, "transactions", expected), _sink(store, writer, bulk) as sink:
            for chunk in _read_ahead(itertools.chain([first] if first is not None else [], chunks)):
                if fmt_used == "paysim":
                    parsed = parse_paysim(chunk.table, options)
                else:
                    parsed = parse_generic(chunk.table, mapping, options, source=src.path.name)
                batch = writer.prepare(chunk, parsed)
                if sink.pending:
                    tally(sink.receive())
                sink.send(batch)
            while sink.pending:
                tally(sink.receive())
    report.top_reasons = dict(reasons.most_common(10))
    _finish(store, report, started, started_ms)
    return report


def resolve_format(src: Source, fmt: str, column_map: Mapping[str, str] | None) -> tuple[str, dict[str, str]]:
    """The format to use and the complete column map; errors name what is missing and what exists."""
    available = ", ".join(src.columns)
    if fmt not in ("auto", "paysim", "generic"):
        raise UsageError(f"unknown format {fmt!r}", hint="use auto, paysim or generic")
    if fmt == "paysim" or (fmt == "auto" and not column_map and is_paysim(src.columns)):
        missing = [c for c in PAYSIM_REQUIRED if c not in src.columns]
        if missing:
            raise InputError(f"PaySim column {missing[0]!r} is missing", file=src.path, field=missing[0],
                             hint=f"the file's columns are: {available}; use --format generic --map ... "
                                  "for other layouts")
        return "paysim", {}
    mapping = src.complete_map(column_map, _DEFAULT_NAMES)
    missing_keys = [k for k in TXN_MAP_REQUIRED if k not in mapping]
    if missing_keys:
        what = "is not PaySim and " if fmt == "auto" and not column_map else ""
        raise InputError(
            f"the file {what}has no column for {', '.join(missing_keys)}",
            file=src.path, field=missing_keys[0],
            hint=f"map them with --map id=COL,time=COL,payer=COL,payee=COL,amount=COL; "
                 f"the file's columns are: {available}",
        )
    for k, col in mapping.items():
        if col not in src.columns:
            raise InputError(f"column {col!r} (--map {k}={col}) is not in the file", file=src.path, field=col,
                             hint=f"the file's columns are: {available}")
    return "generic", mapping


def source_key(src: Source, fmt: str, mapping: Mapping[str, str]) -> str:
    """sha256 over the file's bytes, the format and the column map: what identifies a run's input."""
    h = hashlib.sha256()
    h.update(src.content_sha256().encode())
    h.update(f"\x1f{fmt}\x1f{json.dumps(dict(mapping), sort_keys=True)}".encode())
    return h.hexdigest()


#: A load of at least this many (estimated) rows into a SQLite file is written by a child process
#: (:mod:`pesaguard.store.sqlite_bulk`); smaller loads do not repay the ~0.3 s of CPU it takes to start.
PROCESS_WRITER_MIN_ROWS = 100_000

#: Transaction columns stored as integers; the others are text.
_INT_COLUMNS = frozenset({"ts_ms", "amount_minor", "fee_minor", "payer_balance_before", "payer_balance_after",
                          "payee_balance_before", "payee_balance_after"})
_LABEL_TYPES = (pa.string(), pa.string(), pa.int64(), pa.int64(), pa.string(), pa.string())
_QUARANTINE_TYPES = (pa.string(), pa.string(), pa.int64(), pa.string(), pa.string(), pa.string(), pa.int64())


@dataclass
class _Batch:
    read: int
    txns: pa.Table  # the valid rows, columns as in TRANSACTION_COLUMNS
    labels: list[tuple[Any, ...]]
    quarantine: list[tuple[int, str, str, dict[str, Any] | None]]


class _ChunkWriter:
    """Prepares one validated chunk for the database and counts what its commit did."""

    def __init__(self, store: Store, key: str, source: str, fmt: str, options: IngestOptions) -> None:
        self.store, self.key, self.source, self.options = store, key, source, options
        self.ids = ContentIds("ps") if fmt == "paysim" else None
        self.label_source = options.label_source or ("paysim" if fmt == "paysim" else "file")
        self.txn_sql = store.insert_ignore("transactions", TRANSACTION_COLUMNS, ("txn_id",))
        self.label_sql = store.insert_ignore("labels", core.LABEL_COLUMNS, ("label_id",))
        self.quarantine_sql = store.insert_ignore("quarantine", core.QUARANTINE_COLUMNS, core.QUARANTINE_KEY)

    def prepare(self, chunk: Chunk, parsed: Parsed) -> _Batch:
        """Everything but the database: ids, the transactions table, labels and quarantine entries."""
        valid = parsed.valid
        keep = pa.array(valid)
        txn_ids: pa.Array | None = None
        if self.ids is not None and parsed.content is not None and parsed.steps is not None:
            content = pc.cast(parsed.content.filter(keep), pa.binary()).to_pylist()
            steps = np.asarray(parsed.steps.filter(keep).to_numpy(zero_copy_only=False))
            txn_ids = self.ids.id_array(content, steps)
        txns = _txn_table(parsed, keep, int(valid.sum()), txn_ids)
        labels = self._label_rows(parsed, keep, txns)
        return _Batch(chunk.read, txns, labels, _quarantine_rows(chunk, parsed))

    def commit(self, batch: _Batch) -> dict[str, Any]:
        """One database transaction through the store's connection: the chunk's rows, or nothing."""
        with self.store.transaction() as cur:
            new = self.store.executemany_in(cur, self.txn_sql, _table_rows(batch.txns))
            new_labels = self.store.executemany_in(cur, self.label_sql, batch.labels)
            if batch.quarantine:
                core.insert_quarantine(self.store, self.key, self.source, batch.quarantine, cur)
        return self.counts(batch, new, new_labels)

    def job(self, batch: _Batch) -> list[tuple[str, pa.Table]]:
        """The same transaction as :meth:`commit`, as Arrow tables for :class:`SqliteBulkWriter`."""
        quarantine = core.quarantine_rows(self.key, self.source, batch.quarantine)
        return [
            (self.txn_sql, batch.txns),
            (self.label_sql, _rows_table(batch.labels, core.LABEL_COLUMNS, _LABEL_TYPES)),
            (self.quarantine_sql, _rows_table(quarantine, core.QUARANTINE_COLUMNS, _QUARANTINE_TYPES)),
        ]

    def counts(self, batch: _Batch, new: int, new_labels: int) -> dict[str, Any]:
        return {
            "read": batch.read,
            "accepted": new,
            "duplicates": batch.txns.num_rows - new,
            "quarantined": len(batch.quarantine),
            "labels": new_labels,
            "fields": Counter(q[1] for q in batch.quarantine),
        }

    def _label_rows(self, parsed: Parsed, keep: pa.Array, txns: pa.Table) -> list[tuple[Any, ...]]:
        if parsed.is_fraud is None or self.options.labels == "none" or txns.num_rows == 0:
            return []
        flags = parsed.is_fraud.filter(keep)
        wanted = pc.fill_null(pc.equal(flags, 1), False) if self.options.labels == "fraud" else flags.is_valid()
        idx = np.flatnonzero(np.asarray(wanted.to_numpy(zero_copy_only=False)))
        if len(idx) == 0:
            return []
        take = pa.array(idx)
        delay = round(self.options.label_delay_days * DAY_MS)
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


class _ThreadSink:
    """Commits through the store's own connection from one writer thread (sqlite3 and psycopg release
    the GIL while they work) or, for an in-memory SQLite store (one shared connection), inline."""

    def __init__(self, writer: _ChunkWriter, pool: Executor) -> None:
        self.writer, self.pool = writer, pool
        self.futures: deque[Future[dict[str, Any]]] = deque()

    @property
    def pending(self) -> int:
        return len(self.futures)

    def send(self, batch: _Batch) -> None:
        self.futures.append(self.pool.submit(self.writer.commit, batch))

    def receive(self) -> dict[str, Any]:
        return self.futures.popleft().result()


class _ProcessSink:
    """Commits through :class:`SqliteBulkWriter`, a child process that binds Arrow tables in C."""

    def __init__(self, writer: _ChunkWriter, bulk: SqliteBulkWriter) -> None:
        self.writer, self.bulk = writer, bulk
        self.batches: deque[_Batch] = deque()

    @property
    def pending(self) -> int:
        return len(self.batches)

    def send(self, batch: _Batch) -> None:
        self.bulk.send(self.writer.job(batch))
        self.batches.append(batch)

    def receive(self) -> dict[str, Any]:
        new, new_labels, _ = self.bulk.receive()
        return self.writer.counts(self.batches.popleft(), new, new_labels)


def _bulk_writer_file(store: Store, expected_rows: int | None) -> str | None:
    """The SQLite file to load through :class:`SqliteBulkWriter`, or None to use the store's connection."""
    path = sqlite_file(store)
    if path is None or expected_rows is None or expected_rows < PROCESS_WRITER_MIN_ROWS:
        return None
    return path if bulk_writer_available() else None


@contextmanager
def _sink(store: Store, writer: _ChunkWriter, bulk: SqliteBulkWriter | None) -> Iterator[_ThreadSink | _ProcessSink]:
    """Where chunks are committed: the bulk writer process if there is one, else a writer thread
    (inline for an in-memory SQLite store, whose one connection is shared)."""
    if bulk is not None:
        try:
            yield _ProcessSink(writer, bulk)
        finally:
            bulk.finish()  # no more writes; the child shuts down while the indexes are rebuilt
        return
    if store.dialect == "sqlite" and sqlite_file(store) is None:
        yield _ThreadSink(writer, _InlineExecutor())
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer") as pool:
        try:
            yield _ThreadSink(writer, pool)
        finally:
            pool.submit(store.close).result()  # closes the writer thread's connection only


class _InlineExecutor(Executor):
    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Future[Any]:
        fut: Future[Any] = Future()
        try:
            fut.set_result(fn(*args, **kwargs))
        except BaseException as exc:
            fut.set_exception(exc)
        return fut


def _txn_table(parsed: Parsed, keep: pa.Array, count: int, txn_ids: pa.Array | None) -> pa.Table:
    """The ``count`` valid rows as an Arrow table in TRANSACTION_COLUMNS order (constants and absent
    columns materialised, so each column binds as one typed array); ``txn_ids`` are the valid rows'
    derived ids, if the file has none."""
    cols: list[pa.Array] = []
    for name in TRANSACTION_COLUMNS:
        typ = pa.int64() if name in _INT_COLUMNS else pa.string()
        v = parsed.columns.get(name)
        if name == "txn_id" and txn_ids is not None:
            cols.append(txn_ids)  # derived for the valid rows only
        elif isinstance(v, pa.Array):
            arr = v.filter(keep)
            cols.append(arr if arr.type == typ else arr.cast(typ))
        elif v is None:
            cols.append(pa.nulls(count, typ))
        else:
            cols.append(pa.repeat(pa.scalar(v, typ), count))
    return pa.Table.from_arrays(cols, names=list(TRANSACTION_COLUMNS))


def _table_rows(table: pa.Table) -> list[tuple[Any, ...]]:
    """An Arrow table as row tuples of Python values, built column-wise."""
    if table.num_rows == 0:
        return []
    return list(zip(*(_pylist(c.combine_chunks()) for c in table.columns), strict=True))


def _rows_table(rows: list[tuple[Any, ...]], names: tuple[str, ...], types: tuple[pa.DataType, ...]) -> pa.Table:
    """Row tuples as an Arrow table with the given column types."""
    columns: list[Any] = list(zip(*rows, strict=True)) if rows else [() for _ in names]
    return pa.Table.from_arrays([pa.array(c, t) for c, t in zip(columns, types, strict=True)], names=list(names))


def _read_ahead(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """``chunks``, read one ahead by a thread while the caller works on the current one (Arrow's CSV
    decoding releases the GIL; in the caller it took 0.25 s of the main thread per 1M PaySim rows)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-reader") as pool:
        ahead = pool.submit(next, chunks, None)
        while (chunk := ahead.result()) is not None:
            ahead = pool.submit(next, chunks, None)
            yield chunk


def _pylist(arr: pa.Array) -> list[Any]:
    """Arrow -> Python values quickly (numpy for null-free integers)."""
    if arr.null_count == 0 and pa.types.is_integer(arr.type):
        return np.asarray(arr.to_numpy()).tolist()
    return arr.to_pylist()


def _quarantine_rows(chunk: Chunk, parsed: Parsed) -> list[tuple[int, str, str, dict[str, Any] | None]]:
    out: list[tuple[int, str, str, dict[str, Any] | None]] = [(n, "row", r, raw) for n, r, raw in chunk.broken]
    if parsed.errors:
        idx = np.fromiter(parsed.errors, dtype=np.int64, count=len(parsed.errors))
        raws = chunk.table.take(pa.array(idx)).to_pylist()
        numbers = chunk.row_numbers[idx].tolist()
        for i, n, raw in zip(idx.tolist(), numbers, raws, strict=True):
            field, reason = parsed.errors[i]
            out.append((n, field, reason, raw))
    out.sort(key=lambda q: q[0])
    return out


def _finish(store: Store, report: IngestReport, started: float, started_ms: int) -> None:
    report.elapsed = round(time.perf_counter() - started, 3)
    report.rows_per_s = round(report.read / report.elapsed, 1) if report.elapsed > 0 else 0.0
    counts = (report.read, report.accepted, report.quarantined, report.duplicates)
    core.record_ingest_run(store, report.source_key, report.source, report.format, started_ms, _now_ms(), counts)


def _now_ms() -> int:
    return int(time.time() * 1000)


@contextmanager
def _gc_paused() -> Iterator[None]:
    """Building millions of row tuples makes the cyclic GC rescan them over and over; none are cycles."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()
