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
from collections import deque
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any

from pesaguard.errors import InputError, UsageError
from pesaguard.ingest.batches import Batch, ChunkWriter, LabelTiming, Progress, Tally
from pesaguard.ingest.models import (
    MAP_ALIASES,
    TXN_MAP_OPTIONAL,
    TXN_MAP_REQUIRED,
    Format,
    IngestOptions,
    IngestReport,
)
from pesaguard.ingest.readers import Chunk, Source
from pesaguard.ingest.transactions import (
    DAY_MS,
    PAYSIM_COLUMNS,
    PAYSIM_REQUIRED,
    is_paysim,
    parse_generic,
    parse_paysim,
)
from pesaguard.store import Store, core
from pesaguard.store import quarantine as qstore
from pesaguard.store.sqlite_bulk import SqliteBulkWriter, bulk_writer_available, sqlite_file

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
        writer = ChunkWriter(store, key, src.path.name, fmt_used, options, timing)
        if timing is not None:  # before any label is written, so a killed run leaves it too
            qstore.record_label_timing(store, key, writer.label_source, timing.timing, timing.delay_ms)
        tally = Tally(report, progress)
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


#: A load of at least this many (estimated) rows into a SQLite file is written by a child process
#: (:mod:`pesaguard.store.sqlite_bulk`); smaller loads do not repay the ~0.3 s of CPU it takes to start.
PROCESS_WRITER_MIN_ROWS = 100_000

class _ThreadSink:
    """Commits through the store's own connection from one writer thread (sqlite3 and psycopg release
    the GIL while they work) or, for an in-memory SQLite store (one shared connection), inline."""

    def __init__(self, writer: ChunkWriter, pool: Executor) -> None:
        self.writer, self.pool = writer, pool
        self.futures: deque[Future[tuple[Batch, int, int]]] = deque()

    @property
    def pending(self) -> int:
        return len(self.futures)

    def send(self, batch: Batch) -> None:
        self.futures.append(self.pool.submit(self.writer.commit, batch))

    def receive(self) -> tuple[Batch, int, int]:
        return self.futures.popleft().result()


class _ProcessSink:
    """Commits through :class:`SqliteBulkWriter`, a child process that binds Arrow tables in C."""

    def __init__(self, writer: ChunkWriter, bulk: SqliteBulkWriter) -> None:
        self.writer, self.bulk = writer, bulk
        self.batches: deque[Batch] = deque()

    @property
    def pending(self) -> int:
        return len(self.batches)

    def send(self, batch: Batch) -> None:
        self.bulk.send(self.writer.job(batch))
        self.batches.append(batch)

    def receive(self) -> tuple[Batch, int, int]:
        new, new_labels, _ = self.bulk.receive()
        return self.batches.popleft(), new, new_labels


def _bulk_writer_file(store: Store, expected_rows: int | None) -> str | None:
    """The SQLite file to load through :class:`SqliteBulkWriter`, or None to use the store's connection."""
    path = sqlite_file(store)
    if path is None or expected_rows is None or expected_rows < PROCESS_WRITER_MIN_ROWS:
        return None
    return path if bulk_writer_available() else None


@contextmanager
def _sink(store: Store, writer: ChunkWriter, bulk: SqliteBulkWriter | None) -> Iterator[_ThreadSink | _ProcessSink]:
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


def _read_ahead(chunks: Iterator[Chunk]) -> Iterator[Chunk]:
    """``chunks``, read one ahead by a thread while the caller works on the current one (Arrow's CSV
    decoding releases the GIL; in the caller it took 0.25 s of the main thread per 1M PaySim rows)."""
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-reader") as pool:
        ahead = pool.submit(next, chunks, None)
        while (chunk := ahead.result()) is not None:
            ahead = pool.submit(next, chunks, None)
            yield chunk


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
