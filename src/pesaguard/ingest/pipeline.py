"""``ingest_file``: a transaction file into the store, chunk by chunk, idempotent and crash-safe.

Each chunk (``options.chunk_rows`` rows) is validated, then written in one database transaction:
its new transactions, their labels and its quarantined rows. A run killed at any point leaves
whole chunks behind; running the same command again re-derives the same ids and row numbers, so
inserts that already happened are skipped (``ON CONFLICT DO NOTHING``) and nothing is lost or
doubled. Counting: every data row is accepted (new), quarantined (invalid) or a duplicate (its id
is already stored or came earlier in the file), so ``accepted + quarantined + duplicates == read``.

A file with fraud labels must say when each label became known (a known_at column,
``label_delay_days``, or ``labels_at_transaction``): otherwise :func:`ingest_file` refuses it
before anything is written, because labels "known" at their transaction's time leak into
label-based features. How the times were set is recorded per run and label source
(``label_timing``).
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
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from pesaguard.errors import InputError, UsageError
from pesaguard.ingest.models import (
    MAP_ALIASES,
    TXN_MAP_OPTIONAL,
    TXN_MAP_REQUIRED,
    Example,
    Format,
    IngestOptions,
    IngestReport,
    fraud_bias,
    pct,
)
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
from pesaguard.ingest.validate import rule_of
from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.store import Store, core
from pesaguard.store import quarantine as qstore
from pesaguard.store.sqlite_bulk import SqliteBulkWriter, bulk_writer_available, sqlite_file

Progress = Callable[[int], None]

#: Column names a generic file may use without ``--map`` (first match wins).
_DEFAULT_NAMES: dict[str, tuple[str, ...]] = {
    "id": ("id", "txn_id"),
    "time": ("time", "timestamp", "ts_ms"),
    "payer": ("payer",),
    "payee": ("payee",),
    "amount": ("amount",),
    **{k: (k,) for k in TXN_MAP_OPTIONAL if k not in MAP_ALIASES},
    "known_at": ("known_at", "label_time"),
}
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


def label_timing(src: Source, fmt: str, mapping: Mapping[str, str], options: IngestOptions) -> LabelTiming | None:
    """How the file's labels will be timed; a :class:`UsageError` naming the fix if nothing says."""
    if options.labels == "none":
        return None
    label_col = ("isFraud" if "isFraud" in src.columns else None) if fmt == "paysim" else mapping.get("label")
    if label_col is None:
        return None
    if options.labels_at_transaction and options.label_delay_days is not None:
        raise UsageError("--labels-known-at-transaction and --label-delay-days contradict each other",
                         hint="give one of them")
    delay = round(options.label_delay_days * DAY_MS) if options.label_delay_days else None
    known = mapping.get("known_at") if fmt != "paysim" else None
    if known is not None:
        return LabelTiming("column", delay, label_col, known)
    if delay is not None:
        return LabelTiming("delay", delay, label_col)
    if options.labels_at_transaction:
        return LabelTiming("at_transaction", 0, label_col)
    raise UsageError(
        f"the file has fraud labels (column {label_col!r}) but nothing says when each became known",
        file=src.path, field=label_col,
        hint="give --label-delay-days D, the days between a transaction and its label becoming known "
             "(--label-delay-days 7 as in the Fraud Detection Handbook), or map a known-at column with "
             "--map known_at=COLUMN; if the labels really were known at once, say so with "
             "--labels-known-at-transaction; --labels none stores the transactions without their labels")


def ingest_file(store: Store, path: str | Path, fmt: Format = "auto", column_map: Mapping[str, str] | None = None,
                options: IngestOptions | None = None, progress: Progress | None = None, *,
                corrects: str | None = None) -> IngestReport:
    """Ingest a CSV (plain, .gz, .zst, .bz2), JSON Lines or Parquet file of transactions.

    Raises :class:`~pesaguard.errors.InputError` (naming the file, the column and the available
    columns) when required columns are missing, and :class:`~pesaguard.errors.UsageError` when a
    labelled file does not say when its labels became known, before anything is written.
    ``corrects`` is the source key of a run whose quarantined rows this file corrects (set by
    :func:`pesaguard.ingest.quarantine.reingest`).
    """
    started = time.perf_counter()
    options = options or IngestOptions()
    src = Source(path, encoding=options.encoding, delimiter=options.delimiter)
    fmt_used, mapping = resolve_format(src, fmt, column_map)
    timing = label_timing(src, fmt_used, mapping, options)
    expected = src.estimated_rows()
    with ExitStack() as stack:
        # A large load into a SQLite file is written by a child process that binds Arrow columns in
        # C (store.sqlite_bulk); it starts first so that it is ready when the first chunk is.
        bulk_path = _bulk_writer_file(store, expected)
        bulk = stack.enter_context(SqliteBulkWriter(bulk_path)) if bulk_path is not None else None
        with ThreadPoolExecutor(max_workers=1) as hasher:
            content_future = hasher.submit(src.content_sha256)
            if fmt_used == "paysim":
                wanted = [c for c in PAYSIM_COLUMNS if c in src.columns]
            else:
                wanted = list(dict.fromkeys(mapping.values()))
            chunks = src.chunks(options.chunk_rows, wanted)
            first = next(chunks, None)  # parse the first chunk while the file is hashed
            content = content_future.result()
        key = run_key(content, fmt_used, mapping, options)
        report = IngestReport(source=str(src.path), source_key=key, format=fmt_used, file=src.describe())
        report.label_timing = timing.describe() if timing is not None else None
        settings = {"format": fmt_used, "map": mapping, "options": options.model_dump(mode="json"),
                    "content_sha256": content}
        started_ms = _now_ms()
        qstore.record_run(store, key, str(src.path), fmt_used, started_ms, settings=settings, corrects=corrects)
        writer = _ChunkWriter(store, key, src.path.name, fmt_used, options, timing)
        if timing is not None:  # before any label is written, so a killed run leaves it too
            qstore.record_label_timing(store, key, writer.label_source, timing.timing, timing.delay_ms)
        tally = _Tally(report, progress)
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
                    tally.add(sink.receive())
                sink.send(batch)
            while sink.pending:
                tally.add(sink.receive())
    tally.finish(src.notes(), timing)
    _finish(store, report, started, started_ms, settings, corrects)
    resolve_same_content(store, key, content)
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
    given = {MAP_ALIASES.get(k, k): v for k, v in (column_map or {}).items()}
    mapping = src.complete_map(given, _DEFAULT_NAMES)
    missing_keys = [k for k in TXN_MAP_REQUIRED if k not in mapping]
    if missing_keys:
        what = "is not PaySim and " if fmt == "auto" and not column_map else ""
        raise InputError(
            f"the file {what}has no column for {', '.join(missing_keys)}",
            file=src.path, field=missing_keys[0],
            hint=f"map them with --map id=COL,time=COL,payer=COL,payee=COL,amount=COL "
                 f"(`pesaguard inspect {src.path.name}` proposes one); the file's columns are: {available}",
        )
    for k, col in mapping.items():
        if col not in src.columns:
            raise InputError(f"column {col!r} (--map {k}={col}) is not in the file", file=src.path, field=col,
                             hint=f"the file's columns are: {available}")
    return "generic", mapping


def source_key(src: Source, fmt: str, mapping: Mapping[str, str], options: IngestOptions | None = None) -> str:
    """What identifies a run's input: sha256 over the file's bytes, the format, the column map and
    the options that change how values are read."""
    return run_key(src.content_sha256(), fmt, mapping, options)


def run_key(content_sha256: str, fmt: str, mapping: Mapping[str, str], options: IngestOptions | None) -> str:
    h = hashlib.sha256()
    h.update(content_sha256.encode())
    h.update(f"\x1f{fmt}\x1f{json.dumps(dict(mapping), sort_keys=True)}".encode())
    if options is not None:
        reading = options.model_dump(mode="json", exclude={"chunk_rows"})
        if reading != IngestOptions().model_dump(mode="json", exclude={"chunk_rows"}):
            h.update(f"\x1f{json.dumps(reading, sort_keys=True)}".encode())
    return h.hexdigest()


def resolve_same_content(store: Store, key: str, content_sha256: str) -> int:
    """Quarantined rows of earlier runs of the same file (other options) that this run read
    without fault are resolved: the rows are stored now. Returns how many."""
    done = 0
    runs = qstore.load_runs(store)
    for _, run in runs.iterrows():
        if run["source_key"] == key or not run["settings"]:
            continue
        if json.loads(run["settings"]).get("content_sha256") != content_sha256:
            continue
        open_rows = qstore.load_quarantine(store, run["source_key"], include_resolved=False)["row_number"]
        still = set(qstore.load_quarantine(store, key)["row_number"].tolist())
        done += qstore.resolve(store, run["source_key"], [int(r) for r in open_rows if int(r) not in still], key)
    return done


def example_text(reason: str, raw: dict[str, Any] | None) -> str:
    """What to show of a quarantined row: the reason, or for a row that did not split into
    columns, its line number and text."""
    if raw is not None and "_raw" in raw:
        return f"line {raw.get('_line', '?')}: {str(raw['_raw'])[:80]}"
    return reason


class _Tally:
    """Adds up what each committed chunk did, into the report."""

    def __init__(self, report: IngestReport, progress: Progress | None) -> None:
        self.report, self.progress = report, progress
        self.fields: Counter[str] = Counter()
        self.rules: Counter[str] = Counter()
        self.adjust: Counter[str] = Counter()

    def add(self, done: tuple[_Batch, int, int]) -> None:
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


#: A load of at least this many (estimated) rows into a SQLite file is written by a child process
#: (:mod:`pesaguard.store.sqlite_bulk`); smaller loads do not repay the ~0.3 s of CPU it takes to start.
PROCESS_WRITER_MIN_ROWS = 100_000

#: Transaction columns stored as integers; the others are text.
_INT_COLUMNS = frozenset({"ts_ms", "amount_minor", "fee_minor", "payer_balance_before", "payer_balance_after",
                          "payee_balance_before", "payee_balance_after"})
_LABEL_TYPES = (pa.string(), pa.string(), pa.int64(), pa.int64(), pa.string(), pa.string())
_QUARANTINE_TYPES = (pa.string(), pa.string(), pa.int64(), pa.string(), pa.string(), pa.string(), pa.int64(),
                     pa.string(), pa.int64())


@dataclass
class _Batch:
    read: int
    txns: pa.Table  # the valid rows, columns as in TRANSACTION_COLUMNS
    labels: list[tuple[Any, ...]]
    quarantine: list[qstore.Entry]
    frauds: int | None = None  # rows labelled fraud in the chunk (None: the file has no labels)
    quarantined_frauds: int = 0
    adjusted: list[tuple[int, str, str, str]] = field(default_factory=list)  # (row, column, kind, before -> after)


class _ChunkWriter:
    """Prepares one validated chunk for the database and counts what its commit did."""

    def __init__(self, store: Store, key: str, source: str, fmt: str, options: IngestOptions,
                 timing: LabelTiming | None) -> None:
        self.store, self.key, self.source, self.options, self.timing = store, key, source, options, timing
        self.ids = ContentIds("ps") if fmt == "paysim" else None
        self.label_source = options.label_source or ("paysim" if fmt == "paysim" else "file")
        self.txn_sql = store.insert_ignore("transactions", TRANSACTION_COLUMNS, ("txn_id",))
        self.label_sql = store.insert_ignore("labels", core.LABEL_COLUMNS, ("label_id",))
        self.quarantine_sql = store.insert_ignore("quarantine", qstore.QUARANTINE_COLUMNS, qstore.QUARANTINE_KEY)

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
        batch = _Batch(chunk.read, txns, labels, _quarantine_rows(chunk, parsed))
        if parsed.is_fraud is not None and self.options.labels != "none":
            fraud = np.asarray(pc.fill_null(pc.equal(parsed.is_fraud, 1), False).to_numpy(zero_copy_only=False))
            batch.frauds = int(fraud.sum())
            batch.quarantined_frauds = int((fraud & ~valid).sum())
        if parsed.adjusted:
            decimals = 2 if self.options.amount_unit == "major" or self.ids is not None else 0
            batch.adjusted = _adjusted(chunk, parsed, decimals)
        return batch

    def commit(self, batch: _Batch) -> tuple[_Batch, int, int]:
        """One database transaction through the store's connection: the chunk's rows, or nothing."""
        with self.store.transaction() as cur:
            new = self.store.executemany_in(cur, self.txn_sql, _table_rows(batch.txns))
            new_labels = self.store.executemany_in(cur, self.label_sql, batch.labels)
            if batch.quarantine:
                qstore.insert_quarantine(self.store, self.key, self.source, batch.quarantine, cur)
        return batch, new, new_labels

    def job(self, batch: _Batch) -> list[tuple[str, pa.Table]]:
        """The same transaction as :meth:`commit`, as Arrow tables for :class:`SqliteBulkWriter`."""
        quarantine = qstore.quarantine_rows(self.key, self.source, batch.quarantine)
        return [
            (self.txn_sql, batch.txns),
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


class _ThreadSink:
    """Commits through the store's own connection from one writer thread (sqlite3 and psycopg release
    the GIL while they work) or, for an in-memory SQLite store (one shared connection), inline."""

    def __init__(self, writer: _ChunkWriter, pool: Executor) -> None:
        self.writer, self.pool = writer, pool
        self.futures: deque[Future[tuple[_Batch, int, int]]] = deque()

    @property
    def pending(self) -> int:
        return len(self.futures)

    def send(self, batch: _Batch) -> None:
        self.futures.append(self.pool.submit(self.writer.commit, batch))

    def receive(self) -> tuple[_Batch, int, int]:
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

    def receive(self) -> tuple[_Batch, int, int]:
        new, new_labels, _ = self.bulk.receive()
        return self.batches.popleft(), new, new_labels


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


def _quarantine_rows(chunk: Chunk, parsed: Parsed) -> list[qstore.Entry]:
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


def _finish(store: Store, report: IngestReport, started: float, started_ms: int, settings: dict[str, Any],
            corrects: str | None) -> None:
    report.elapsed = round(time.perf_counter() - started, 3)
    report.rows_per_s = round(report.read / report.elapsed, 1) if report.elapsed > 0 else 0.0
    counts = (report.read, report.accepted, report.quarantined, report.duplicates)
    qstore.record_run(store, report.source_key, report.source, report.format, started_ms, finished_ms=_now_ms(),
                      counts=counts, frauds=report.frauds, quarantined_frauds=report.quarantined_frauds,
                      settings=settings, corrects=corrects,
                      report=report.model_dump(mode="json", exclude={"elapsed", "rows_per_s"}))


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
