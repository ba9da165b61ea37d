"""The decision journal: a decision is durable once appended to a local file, and a separate process
copies the file into the store.

Why: the event loop that scores must not wait for the store. A commit on the loop spent a large
share of its time in the database (each write transaction writes several pages whatever its size),
a commit on another thread hands the GIL back and forth on every driver call, and one in another
process answered over a socket costs two wake-ups per group. Appending to a file costs the loop one
``write`` per loop iteration and an ``orjson`` encoding per decision, with no answer to wait for;
the ingester process, on another core, brings the store up to date a few milliseconds later. The
measurements behind this are in ``docs/architecture.md`` ("The decision journal").

Durability is the store's: a record is in the OS page cache when ``write`` returns, so it survives
``kill -9`` of the service (as a SQLite commit with ``synchronous=NORMAL`` does); a power loss may
drop the last records (as it may drop the last SQLite transactions). Each record carries a CRC, so
a torn record is recognised and never stored.

Layout, under ``HOME/journal``: each service process (an *owner*, named ``<start ms, hex>-<pid>-<n>``)
holds an exclusive ``flock`` on ``<owner>.lock`` while it lives and appends to segments
``<owner>.<seq>.log``, starting a new one past :data:`SEGMENT_BYTES`. A record is one line::

    <CRC-32 of the JSON, 8 hex digits> <JSON array>\\n

``["L", layout_id, [feature names]]`` once per feature layout and segment, then
``["D", record, [transaction row]]`` per decision, the record being the store's decision codec's
(:func:`pesaguard.store.decision_record.record`: the stored columns, with reasons, rule hits and
feature values as JSON values). The ingester (``python -m pesaguard.decisions.journal``, one per owner, holding
``<owner>.ingest``) stores complete records in batches; each batch also records the segment's byte
offset in ``journal_progress``, in the same transaction, so it resumes exactly after a crash. It
publishes its position (``seq << 40 | offset``, one 8-byte word) in ``<owner>.progress``, which the
owner maps into memory: no message, no system call on the loop. Fully copied segments are deleted.

What the loop keeps meanwhile. A decision not yet in the store is answered from memory
(:meth:`Journal.lookup`) if its request is retried, so it is never scored twice; past
``max_lag`` such decisions (the ingester stopped or cannot keep up) new decisions get a 503 rather
than growing memory without bound. Every other API and console request first waits, briefly, for
the store to hold every decision already acknowledged (:meth:`Journal.sync`): read-your-writes.

Start-up and crashes. Before warming its feature state, a starting service copies the segments of
owners that are gone (their lock is free) into the store (:func:`recover`), waiting for their
ingester if it is still draining. If this service's ingester dies, it is restarted; it resumes
from ``journal_progress``. On shutdown the service writes its last decisions, then tells its
ingester to finish the journal (SIGUSR1; the ingester ignores the SIGTERM or SIGINT a supervisor
sends the whole process group) and waits for it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import fcntl
import itertools
import logging
import mmap
import os
import signal
import struct
import subprocess
import sys
import time
import zlib
from collections import deque
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import orjson

from pesaguard.errors import StoreError, StoreUnavailable
from pesaguard.store import Store, decision_record, journal_progress, sqlite_tuning
from pesaguard.store.feature_layouts import layout_names

log = logging.getLogger("pesaguard.decisions")

#: A segment is closed and a new one started once it passes this size.
SEGMENT_BYTES = 64 * 2**20
#: Default of ``PESAGUARD_DECISION_JOURNAL_MAX_LAG``: acknowledged decisions not yet in the store
#: beyond which new decisions are refused (503).
MAX_LAG = 20_000
#: Tells the ingester to store what is written and exit (see :func:`ingester_main`).
STOP_SIGNAL = signal.SIGUSR1
#: Records the ingester reads per store transaction, at most.
_CHUNK_BYTES = 4 * 2**20
_POSITION = struct.Struct("<q")
_SEQ_SHIFT = 40  # a position is seq << 40 | byte offset: segments stay far below 2**40 bytes
_OWNERS = itertools.count()  # journals opened by this process (an app restarted in one process, tests)


def position(seq: int, offset: int) -> int:
    return (seq << _SEQ_SHIFT) | offset


def _frame(payload: bytes) -> bytes:
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


def _segment(directory: Path, owner: str, seq: int) -> Path:
    return directory / f"{owner}.{seq:06d}.log"


def _segments(directory: Path, owner: str) -> list[tuple[int, Path]]:
    found = []
    for p in directory.glob(f"{owner}.*.log"):
        seq = p.name[len(owner) + 1 : -4]
        if seq.isdigit():
            found.append((int(seq), p))
    return sorted(found)


def _lock(path: Path, blocking: bool, timeout: float = 0.0) -> int | None:
    """An exclusive ``flock`` on ``path`` (created if missing): its descriptor, or None if another
    process holds it (after ``timeout`` seconds when ``blocking``)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + timeout
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if not blocking or time.monotonic() >= deadline:
                os.close(fd)
                return None
            time.sleep(0.05)


# -- ingestion (the ingester process, and recovery at start-up) --------------------------------


class Ingester:
    """Copies one owner's journal segments into ``store``, in order, resuming from ``journal_progress``.

    ``publish(position)`` is told how far the store now holds the journal after every batch.
    """

    def __init__(self, store: Store, directory: Path, owner: str,
                 publish: Callable[[int], None] | None = None) -> None:
        self.store = store
        self.directory = directory
        self.owner = owner
        self.publish = publish or (lambda _pos: None)
        self.layouts: dict[str, tuple[str, ...]] = {}  # every layout seen (records name them once per segment)
        self.rejected = directory / "rejected.jsonl"
        self._offsets: dict[str, int] = {}  # segment -> bytes stored (this ingester alone writes them)

    def run_once(self, final: bool = False) -> int:
        """Store every complete record available; returns how many decisions were stored.

        ``final``: the owner is gone, so its last segment is complete too: a torn record at its end
        (the owner died while writing it, so it was never acknowledged) is dropped, and the segment
        is deleted once copied.
        """
        stored = 0
        segments = _segments(self.directory, self.owner)
        for i, (seq, path) in enumerate(segments):
            closed = final or i < len(segments) - 1
            offset = self._offsets.get(path.name)
            if offset is None:
                offset = journal_progress.journal_offset(self.store, path.name)
            with path.open("rb") as f:
                while True:
                    n, offset, more = self._batch(f, path, seq, offset)
                    stored += n
                    if not more:
                        break
                size = os.fstat(f.fileno()).st_size
            if not closed:
                break
            if offset < size:
                log.warning("journal %s: dropped %d bytes of a record torn at offset %d (written while its "
                            "service died, so never acknowledged)", path, size - offset, offset)
            path.unlink()
            journal_progress.forget_journal_segment(self.store, path.name)
            self._offsets.pop(path.name, None)
            self.publish(position(seq + 1, 0))
        return stored

    def _batch(self, f: Any, path: Path, seq: int, offset: int) -> tuple[int, int, bool]:
        """Store the complete records after ``offset`` (up to a chunk); returns (decisions stored,
        the new offset, whether more may follow at once)."""
        f.seek(offset)
        data = f.read(_CHUNK_BYTES)
        end = data.rfind(b"\n") + 1
        if end == 0:
            return 0, offset, False
        rows: list[Sequence[Any]] = []
        txns: list[Sequence[Any]] = []
        used: dict[str, tuple[str, ...]] = {}
        at = offset
        for line in data[:end].splitlines():
            record = self._parse(line, path, at)
            at += len(line) + 1
            if record is None:
                continue
            if record[0] == "L":
                self.layouts[record[1]] = tuple(record[2])
            elif record[0] == "D":
                rec, txn = record[1], record[2]
                layout = rec[decision_record.LAYOUT]
                names = self.layouts.get(layout) or self._find_layout(layout, path, offset)
                if names is None:
                    self._reject(line, path, at, f"feature layout {layout} was not declared before it")
                    continue
                used[layout] = names
                rows.append(decision_record.row(rec))
                txns.append(txn)
        new_offset = offset + end
        self._store(rows, txns, used, path.name, offset, new_offset, path)
        self._offsets[path.name] = new_offset
        self.publish(position(seq, new_offset))
        return len(rows), new_offset, len(data) == _CHUNK_BYTES

    def _find_layout(self, layout_id: str, path: Path, before: int) -> tuple[str, ...] | None:
        """A layout declared earlier than this ingester started reading (a restart mid-segment): from
        the store, where the records before it put it, else from the segment's first ``before`` bytes."""
        names = layout_names(self.store, {layout_id}).get(layout_id)
        if names is None:
            with path.open("rb") as f:
                head = f.read(before)
            for line in head.splitlines():
                if line[9:14] == b'["L",':
                    record = self._parse(line, path, 0)
                    if record is not None:
                        self.layouts[record[1]] = tuple(record[2])
            names = self.layouts.get(layout_id)
        else:
            self.layouts[layout_id] = names
        return names

    def _store(self, rows: list[Sequence[Any]], txns: list[Sequence[Any]], layouts: dict[str, tuple[str, ...]],
               segment: str, start: int, end: int, path: Path) -> None:
        try:
            journal_progress.write_journal_batch(self.store, rows, txns, layouts, segment, end)
            return
        except Exception as exc:
            if _transient(exc) or not rows:
                raise
        # The store refused the batch for a reason that will not pass (a constraint, bad data): store
        # it record by record and set aside the ones refused. The progress moves past the batch only
        # at the end; records stored again after a crash in between are skipped (writes are idempotent).
        for row, txn in zip(rows, txns, strict=True):
            try:
                journal_progress.write_journal_batch(self.store, [row], [txn], layouts, segment, start)
            except Exception as exc:
                if _transient(exc):
                    raise
                self._reject(decision_record.dumps([row, txn]), path, start, str(exc))
        journal_progress.write_journal_batch(self.store, [], [], {}, segment, end)

    def _parse(self, line: bytes, path: Path, at: int) -> list[Any] | None:
        crc, _, payload = line.partition(b" ")
        try:
            ok = len(crc) == 8 and int(crc, 16) == zlib.crc32(payload)
            record = orjson.loads(payload) if ok else None
        except ValueError:
            ok, record = False, None
        if not ok or not isinstance(record, list) or not record:
            self._reject(line, path, at, "checksum or JSON does not match (a corrupted record)")
            return None
        return record

    def _reject(self, line: bytes, path: Path, at: int, why: str) -> None:
        log.error("journal %s (batch at offset %d): record not stored: %s; kept in %s", path, at, why, self.rejected)
        with self.rejected.open("ab") as f:
            f.write(orjson.dumps({"segment": path.name, "offset": at, "error": why,
                                  "record": line.decode("utf-8", "replace")}) + b"\n")


def _transient(exc: BaseException) -> bool:
    """A database busy, locked, full or unreachable: retry later rather than set records aside."""
    return isinstance(exc, StoreUnavailable) or any(c.__name__ == "OperationalError" for c in type(exc).__mro__)


def recover(store: Store, directory: Path, timeout: float = 60.0) -> int:
    """Copy into ``store`` the journal of every owner that is gone (its lock is free), waiting up to
    ``timeout`` seconds for an ingester still draining it; returns the decisions stored."""
    if not directory.is_dir():
        return 0
    stored = 0
    for lock_path in sorted(directory.glob("*.lock")):
        owner = lock_path.name[:-5]
        owner_fd = _lock(lock_path, blocking=False)
        if owner_fd is None:
            continue  # a live service (another worker process)
        try:
            ingest_fd = _lock(directory / f"{owner}.ingest", blocking=True, timeout=timeout)
            if ingest_fd is None:
                raise StoreError(f"journal {directory}: the ingester of {owner} is still running after "
                                 f"{timeout:.0f} s", hint="wait for it to finish, or stop it, and start again")
            try:
                n = Ingester(store, directory, owner).run_once(final=True)
            finally:
                os.close(ingest_fd)
            if n:
                log.warning("journal: stored %d decisions that %s acknowledged but had not stored yet", n, owner)
            stored += n
            for leftover in (f"{owner}.ingest", f"{owner}.progress", f"{owner}.error"):
                with contextlib.suppress(FileNotFoundError):
                    (directory / leftover).unlink()
            lock_path.unlink()
        finally:
            os.close(owner_fd)
    return stored


#: The environment variable that hands the ingester its database URL: never on its command line,
#: which every local user can read (``ps``, ``/proc/PID/cmdline``); a process's environment is
#: readable only by its owner.
URL_VARIABLE = "PESAGUARD_JOURNAL_DATABASE_URL"


def ingester_main(argv: Sequence[str] | None = None) -> int:
    """The ingester process: ``python -m pesaguard.decisions.journal DIR OWNER`` with the database URL
    in :data:`URL_VARIABLE`.

    Polls the owner's journal every few milliseconds. :data:`STOP_SIGNAL` (sent by the service when
    it closes, and by Linux when the service dies, through ``PR_SET_PDEATHSIG``) means: store
    everything written so far, then exit; if the store stays unreachable for ``--grace`` seconds
    after that, it exits anyway (what is left stays in the journal for the next start). SIGTERM and
    SIGINT are ignored: a supervisor stopping the service signals its whole process group (systemd,
    Ctrl-C), and the ingester must outlive the service's own shutdown, which writes the last
    decisions. A failure it cannot retry is written to ``<owner>.error`` for the service's
    readiness check, and the process exits with status 2.
    """
    ap = argparse.ArgumentParser(prog="python -m pesaguard.decisions.journal")
    ap.add_argument("directory", type=Path)
    ap.add_argument("owner")
    ap.add_argument("--cache-mb", type=float, default=8.0)
    ap.add_argument("--grace", type=float, default=10.0, help="seconds to keep retrying an unreachable store once told to stop")
    ap.add_argument("--parent", type=int, default=None, help="the service's pid (the ingester stops when it dies)")
    args = ap.parse_args(argv)
    database_url = os.environ.pop(URL_VARIABLE, "")
    if not database_url:
        print(f"{ap.prog}: the database URL is read from the environment variable {URL_VARIABLE}", file=sys.stderr)
        return 64
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    stopping = False

    def stop(_sig: int, _frame: Any) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(STOP_SIGNAL, stop)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _die_with_parent(args.parent)
    from pesaguard.config import Settings
    from pesaguard.store import open_store

    ingest_fd = _lock(args.directory / f"{args.owner}.ingest", blocking=True, timeout=60)
    if ingest_fd is None:
        log.error("journal %s: another ingester holds %s", args.directory, args.owner)
        return 1
    error_file = args.directory / f"{args.owner}.error"
    try:
        store = open_store(Settings(database_url=database_url), migrate=False)  # the service migrated it
        return _ingest_until_stopped(store, args, lambda: stopping, error_file)
    except Exception as exc:
        log.exception("journal ingester for %s failed", args.owner)
        _report(error_file, exc)
        return 2


def _report(error_file: Path, exc: BaseException) -> None:
    """Leave the reason of a fatal failure where the service's readiness check reads it."""
    with contextlib.suppress(OSError):
        error_file.write_text(f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}")


def _ingest_until_stopped(store: Store, args: argparse.Namespace, stopping: Callable[[], bool],
                          error_file: Path) -> int:
    if store.dialect == "sqlite":
        # automatic checkpoints stay on: they run here, after this process's commits, never on the loop
        sqlite_tuning.set_cache_size(store, int(args.cache_mb * 1024))
        sqlite_tuning.prewarm_write_indexes(store, int(0.8 * args.cache_mb * 2**20))
    progress = Progress(args.directory / f"{args.owner}.progress")
    ingester = Ingester(store, args.directory, args.owner, publish=progress.set)
    idle = 0.0
    failing_since: float | None = None
    logged = (0.0, "")  # when the last warning was logged, and the error's kind: one line, then one every 30 s
    while True:
        try:
            n = ingester.run_once()
        except Exception as exc:
            if not _transient(exc):
                raise
            now = time.monotonic()
            failing_since = failing_since or now
            if stopping() and now - failing_since >= args.grace:
                log.error("journal ingester for %s: the store is still unavailable (%s); stopping with the rest "
                          "left in the journal for the next start", args.owner, exc)
                return 3
            if type(exc).__name__ != logged[1] or now - logged[0] >= 30:
                log.warning("journal ingester for %s: store busy or unavailable (%s); retrying every second",
                            args.owner, exc)
                logged = (now, type(exc).__name__)
            _report(error_file, exc)  # read by the service's readiness check while the store is behind
            time.sleep(1.0)
            continue
        if failing_since is not None:
            log.warning("journal ingester for %s: storing again after %.0f s", args.owner,
                        time.monotonic() - failing_since)
            failing_since, logged = None, (0.0, "")
            with contextlib.suppress(FileNotFoundError):
                error_file.unlink()
        if stopping() and n == 0:
            break
        # a few ms after data (the next group is already on its way), up to 10 ms when idle
        idle = 0.0 if n else min(0.01, idle + 0.002)
        time.sleep(idle or 0.002)
    store.close()
    return 0


def _die_with_parent(parent: int | None) -> None:
    """Ask Linux to send :data:`STOP_SIGNAL` when the parent dies (``kill -9`` of the service): this process then
    stores what is left and exits, instead of running on unsupervised."""
    with contextlib.suppress(Exception):
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, STOP_SIGNAL)  # PR_SET_PDEATHSIG
    if parent is not None and os.getppid() != parent:  # the parent died before the request took effect
        os.kill(os.getpid(), STOP_SIGNAL)


class Progress:
    """The ingester's position, one 8-byte word in a memory-mapped file shared with the owner."""

    def __init__(self, path: Path) -> None:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            if os.fstat(fd).st_size < _POSITION.size:
                os.ftruncate(fd, _POSITION.size)
            self._map = mmap.mmap(fd, _POSITION.size)
        finally:
            os.close(fd)

    def get(self) -> int:
        return int(_POSITION.unpack_from(self._map, 0)[0])

    def set(self, pos: int) -> None:
        if pos > self.get():
            _POSITION.pack_into(self._map, 0, pos)  # one aligned 8-byte store: readers never see half

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self._map.close()


# -- the owner's side (the service's event loop) ---------------------------------------------


def settle(fut: asyncio.Future[None], err: BaseException | None) -> None:
    """Complete ``fut`` (with ``err`` if given) unless it already is."""
    if fut.done():
        return
    if err is None:
        fut.set_result(None)
    else:
        fut.set_exception(err)


class LoopBatch:
    """What one event-loop iteration submits, handed to :meth:`flush` once, after every request the
    iteration read: one ``write`` per iteration however many decisions it scored."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._txns: list[Sequence[Any]] = []
        self._futures: list[asyncio.Future[None]] = []
        self._scheduled = False

    def submit(self, decision: dict[str, Any], txn_row: Sequence[Any]) -> asyncio.Future[None]:
        """Queue one decision; the returned future completes once it is durable (or fails)."""
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[None] = loop.create_future()
        self._rows.append(decision)
        self._txns.append(txn_row)
        self._futures.append(fut)
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self.flush)  # after every request already read in this iteration
        return fut

    def _take(self) -> tuple[list[dict[str, Any]], list[Sequence[Any]], list[asyncio.Future[None]]]:
        """The queued decisions, their transaction rows and futures; the queue starts empty again."""
        self._scheduled = False
        taken = self._rows, self._txns, self._futures
        self._rows, self._txns, self._futures = [], [], []
        return taken

    def flush(self) -> None:
        raise NotImplementedError



class Journal(LoopBatch):
    """Appends each loop iteration's decisions to the journal in one ``write``, then acknowledges
    them; the decision service's one durable write path.

    ``spawn=False`` starts no ingester (tests drive :class:`Ingester` themselves).
    """

    def __init__(self, store: Store, directory: Path, database_url: str, on_commit: Callable[[int], None] | None = None,
                 max_lag: int = MAX_LAG, segment_bytes: int = SEGMENT_BYTES, cache_mb: float = 8.0,
                 spawn: bool = True, grace_s: float = 10.0) -> None:
        super().__init__()
        self.store = store
        self.directory = directory
        self.database_url = database_url
        self.on_commit = on_commit
        self.max_lag = max_lag
        self.segment_bytes = segment_bytes
        self.cache_mb = cache_mb
        self.grace_s = grace_s
        self.owner = f"{time.time_ns() // 1_000_000:x}-{os.getpid()}-{next(_OWNERS)}"
        try:
            directory.mkdir(parents=True, exist_ok=True)
            fd = _lock(directory / f"{self.owner}.lock", blocking=False)
            if fd is None:
                raise StoreError(f"journal {directory}: owner {self.owner} is locked by another process")
            self._lock_fd = fd
            self.progress = Progress(directory / f"{self.owner}.progress")
            self._seq = 0
            self._fd = self._open_segment()
        except OSError as exc:
            raise StoreError(f"cannot write the decision journal under {directory}: {exc.strerror or exc}",
                             hint="give the service a writable PESAGUARD_HOME with free space") from exc
        self._size = 0
        self._declared: set[str] = set()  # layouts written into the current segment
        self._recent: dict[str, tuple[str, dict[str, Any]]] = {}  # txn_id -> (request hash, row): not yet stored
        self._order: deque[tuple[int, list[str]]] = deque()  # (position after a write, its txn_ids)
        self._proc: subprocess.Popen[bytes] | None = None
        self._spawn = spawn
        self._next_check = 0.0
        self._last_spawn = 0.0
        self._closed = False
        # (store position when the ingester failed, why): set while it fails and the store is behind;
        # cleared once the store moves past that position
        self._failure: tuple[int, str] | None = None
        if spawn:
            self._start_ingester()

    def pending(self) -> int:
        """Decisions acknowledged or waiting to be written, not yet in the store."""
        self._prune()
        return len(self._recent) + len(self._rows)

    def wal_bytes(self) -> int:
        found = sqlite_tuning.wal_database(self.store)
        if found is None:
            return 0
        try:
            return os.stat(f"{found[0]}-wal").st_size
        except OSError:
            return 0

    def admit(self) -> None:
        """Raise a 503 if too many acknowledged decisions are not in the store yet, or if the
        ingester keeps failing so that nothing can be stored (call before scoring, so a refused
        request leaves the feature state untouched)."""
        if self._failure is None and len(self._recent) + len(self._rows) < self.max_lag:
            return  # the usual case, decided without reading the ingester's progress
        failing = self.failing()
        if failing is not None:
            raise StoreError(f"decisions cannot be stored: the journal's copying process fails ({failing})",
                             hint="retry later; the service log and GET /readyz say why")
        lag = self.pending()  # forgets what the store now holds
        if lag >= self.max_lag:
            self._check_ingester(force=True)
            raise StoreError(f"{lag:,} acknowledged decisions are not in the store yet (the journal "
                             f"ingester is behind or down)", hint="retry shortly; the service log says why")

    def lookup(self, txn_id: str) -> tuple[str, dict[str, Any]] | None:
        """(request hash, decision row) of a decision acknowledged but not in the store yet."""
        return self._recent.get(txn_id)

    def flush(self) -> None:
        rows, txns, futures = self._take()
        if not rows:
            return
        try:
            self._write(rows, txns)
        except Exception as exc:
            log.error("journal write failed, %d decisions not acknowledged: %s", len(rows), exc)
            err = StoreError(f"decision not stored: {exc}", hint="retry the request")
            for fut in futures:
                settle(fut, err)
            return
        if self.on_commit is not None:
            self.on_commit(len(rows))
        for fut in futures:
            settle(fut, None)
        self._prune()
        self._check_ingester()

    def _write(self, rows: list[dict[str, Any]], txns: list[Sequence[Any]]) -> None:
        frames = []
        declared = set()
        for d, t in zip(rows, txns, strict=True):
            rec = decision_record.record(d)
            layout_id = rec[decision_record.LAYOUT]
            if layout_id not in self._declared and layout_id not in declared:
                declared.add(layout_id)
                frames.append(_frame(orjson.dumps(["L", layout_id, list(d["features"])])))
            frames.append(_frame(decision_record.dumps(["D", rec, list(t)])))
        data = b"".join(frames)
        try:
            written = 0
            while written < len(data):
                written += os.write(self._fd, data[written:])
        except BaseException:
            # never leave half a group in the file: the ingester would store the acknowledged-looking part
            with contextlib.suppress(OSError):
                os.ftruncate(self._fd, self._size)
            raise
        self._size += len(data)
        self._declared |= declared
        ids = [d["txn_id"] for d in rows]
        for d in rows:
            self._recent[d["txn_id"]] = (d["request_hash"], d)
        self._order.append((position(self._seq, self._size), ids))
        if self._size >= self.segment_bytes:
            os.close(self._fd)
            self._seq += 1
            self._fd = self._open_segment()
            self._size = 0
            self._declared = set()

    def _open_segment(self) -> int:
        return os.open(_segment(self.directory, self.owner, self._seq), os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)

    def _prune(self) -> None:
        """Forget the decisions the store now holds."""
        if not self._order:
            return
        done = self.progress.get()
        while self._order and self._order[0][0] <= done:
            for txn_id in self._order.popleft()[1]:
                self._recent.pop(txn_id, None)

    def written(self) -> int:
        return position(self._seq, self._size)

    def caught_up(self) -> bool:
        self._prune()
        return not self._order

    async def sync(self, timeout: float = 5.0) -> bool:
        """Wait until the store holds every decision acknowledged so far (False after ``timeout``, and
        at once while the ingester is failing)."""
        if self.caught_up():
            return True
        if self.failing() is not None or self._error_text():
            return False  # the ingester cannot store right now: waiting would only delay the 503
        target = self.written()
        deadline = time.monotonic() + timeout
        while self.progress.get() < target:
            if time.monotonic() >= deadline:
                self._check_ingester(force=True)
                log.warning("journal: the store is still %d decisions behind after %.1f s", self.pending(), timeout)
                return False
            await asyncio.sleep(0.002)
        self._prune()
        return True

    # -- the ingester process -----------------------------------------------------------------------
    def _start_ingester(self) -> None:
        self._last_spawn = time.monotonic()
        with contextlib.suppress(FileNotFoundError):
            (self.directory / f"{self.owner}.error").unlink()
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "pesaguard.decisions.journal", str(self.directory), self.owner,
             "--cache-mb", str(self.cache_mb), "--grace", str(self.grace_s), "--parent", str(os.getpid())],
            stdin=subprocess.DEVNULL, env={**os.environ, URL_VARIABLE: self.database_url})

    def _check_ingester(self, force: bool = False) -> None:
        """Restart the ingester if it died (checked about once a second, at most every 5 s a restart);
        a failed exit is remembered (:meth:`failing`) until the store moves on."""
        if not self._spawn or self._closed:
            return
        now = time.monotonic()
        if not force and now < self._next_check:
            return
        self._next_check = now + 1.0
        if self._proc is None or self._proc.poll() is None:
            return
        code = self._proc.returncode
        # a positive status is the ingester's own verdict that it cannot store (a signal, such as an
        # operator's kill, is not: it is simply restarted)
        if code > 0 and self._failure is None:
            why = self._error_text() or f"exit status {code}"
            self._failure = (self.progress.get(), why)
            log.error("journal ingester failed (%s); new decisions are refused until it stores again", why)
        if now - self._last_spawn >= 5.0:
            log.error("journal ingester exited with code %s; restarting it (it resumes where it stopped)", code)
            self._start_ingester()

    def _error_text(self) -> str:
        with contextlib.suppress(OSError):
            return (self.directory / f"{self.owner}.error").read_text(errors="replace").strip()[:300]
        return ""

    def failing(self) -> str | None:
        """Why the ingester cannot store decisions, or None: set when it exits with a failure while
        decisions wait, cleared once the store holds more of the journal than when it failed."""
        self._check_ingester()
        failure = self._failure
        if failure is not None and (self.progress.get() > failure[0] or self.caught_up()):
            self._failure = failure = None
        return None if failure is None else failure[1]

    def ingester_alive(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def health(self) -> str:
        """The readiness check's answer: "ok", or what is wrong with the copy into the store."""
        failing = self.failing()
        if failing is not None:
            return f"the journal's copying process fails: {failing}"
        if not self.ingester_alive():
            return "the journal's copying process is not running"
        lag = self.pending()
        if lag and self._error_text():
            return f"{lag:,} acknowledged decisions wait for the store: {self._error_text()}"
        if lag >= self.max_lag:
            return f"{lag:,} acknowledged decisions are not in the store yet"
        return "ok"

    def close(self, timeout: float | None = None) -> None:
        """Write what is queued, let the ingester store everything (for at most ``timeout`` seconds,
        default the grace period), stop it and tidy up. What it could not store stays in the
        journal, which the next start copies into the store before it is ready."""
        if self._closed:
            return
        timeout = self.grace_s if timeout is None else timeout
        self.flush()
        self._closed = True
        if self._proc is not None and self._proc.poll() is None:
            self._proc.send_signal(STOP_SIGNAL)
            try:
                self._proc.wait(timeout)
            except subprocess.TimeoutExpired:
                log.error("journal ingester did not finish within %.0f s; the next start stores the rest", timeout)
                self._proc.kill()
                self._proc.wait()
        os.close(self._fd)
        if self.progress.get() >= self.written():
            for _, path in _segments(self.directory, self.owner):
                path.unlink()
                journal_progress.forget_journal_segment(self.store, path.name)
            for leftover in (f"{self.owner}.ingest", f"{self.owner}.progress", f"{self.owner}.error"):
                with contextlib.suppress(FileNotFoundError):
                    (self.directory / leftover).unlink()
            (self.directory / f"{self.owner}.lock").unlink()
        self.progress.close()
        os.close(self._lock_fd)  # releases the lock: whatever is left is another start's to recover


if __name__ == "__main__":
    sys.exit(ingester_main())
