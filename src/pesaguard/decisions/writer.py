"""Group commit on the event loop: every decision scored in one loop iteration is committed in one
database transaction, then all of them are acknowledged. Nothing is acknowledged before its commit
returns, so an acknowledged decision survives ``kill -9``.

Why not a writer thread fed by a queue (the usual design)? Measured on CPython: the writer thread
gives up the GIL around every sqlite3 call and then waits up to the interpreter's switch interval
(5 ms) to get it back from the busy event loop; ten calls per commit made p99 latency 30-600 ms at
a few hundred decisions per second. Committing on the loop thread itself has no hand-offs (a batch
commit in WAL mode costs ~0.1-1 ms). The one thing that must stay off the loop is the WAL
checkpoint, which fsyncs the database file: the loop's connection has automatic checkpoints off and
a background thread runs passive checkpoints instead (:class:`Checkpointer`).

Keeping the WAL bounded. SQLite starts the WAL again from its beginning only when a write
transaction begins after a checkpoint has copied every frame into the database file. Under
sustained load a commit lands every few milliseconds, always while the background pass is still
running, so no pass ever finishes the WAL and it grew by ~25 kB per decision (1.1 GB in 27 s). A
blocking RESTART checkpoint bounds it but stalled the loop 55-260 ms each time. Instead, once the
checkpointer sees the WAL past ``wal_reset_bytes``, it asks the loop to *hold* its commits: the loop
keeps reading and scoring requests, their decisions wait in the group unacknowledged (durability is
unchanged), and the checkpointer runs one more passive pass, which now meets no new frames and
finishes. It tells the loop, whose held commit then starts the WAL from the beginning, overwriting
the file in place. Just before asking, the checkpointer catches up (:meth:`Checkpointer._catch_up`),
so the hold costs one short pass and two small fsyncs: mostly 2.5-5 ms, measured. It is bounded by
``max_hold_s``: a pass that cannot finish (a reader holding an old snapshot) releases the commits
anyway, with a warning, and the next attempt waits :data:`RETRY_AFTER_TIMEOUT_S`.

The loop's connection gets its own page cache (``PESAGUARD_SQLITE_WRITER_CACHE_MB``, default 8 MB),
and :meth:`GroupCommitter.prepare` reads into it, at start-up, the indexes every commit inserts into at
a random place (:func:`pesaguard.store.decisions.prewarm_write_indexes`), as far as they fit. Two
measurements set the default. Small: with a large cache SQLite spends more CPU per commit (session 2,
perf: page-cache truncation scanning its hash table, 6% of the server's CPU at 64 MB; session 3, on
a fresh bench store, alternated rows: 2,742-2,762 decisions/s at 1,024 MB against 3,190-3,405/s at
8 MB, 0.36 against 0.30 ms of CPU each). Large: each commit reads the index pages its keys fall on;
with 8 MB they come from the OS page cache, and on a machine that evicts file pages idle for a few
seconds (proactive reclaim, such as DAMON on the benchmark VM) the loop thread sat in ``pread``
waiting for the disk once the store had grown (2.5M transactions: 1.3% of its samples, wrk's p99 up
to 56 ms); at 1,024 MB with the indexes warmed that wait disappeared (1 sample in 60 s) and wrk's p99
went from 13.8-28.7 to 5.6-9.4 ms in alternated rows. The four indexes take about 120 bytes per
stored transaction (the warm-up budgets 40 bytes per entry and 80% of the cache). So: the small
default where the OS keeps its cache, a cache sized to the indexes where it does not.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from pesaguard.errors import StoreError
from pesaguard.store import Store
from pesaguard.store import decisions as repo

log = logging.getLogger("pesaguard.decisions")

#: Default page cache of the connection that commits decisions (see the module docstring).
WRITER_CACHE_BYTES = 8 * 2**20
#: Defaults of ``PESAGUARD_SQLITE_WAL_RESET_MB`` and ``PESAGUARD_SQLITE_WAL_HOLD_MS``.
WAL_RESET_BYTES = 128 * 2**20
MAX_HOLD_S = 0.05
#: After a hold that timed out, the next one waits this long (a long reader would otherwise cost
#: every commit group a full hold).
RETRY_AFTER_TIMEOUT_S = 30.0


class LoopBatch:
    """What one event-loop iteration submits, handed to :meth:`flush` once, after every request the
    iteration read (the grouping shared by :class:`GroupCommitter` and the decision journal)."""

    def __init__(self) -> None:
        self._rows: list[dict[str, Any]] = []
        self._txns: list[Sequence[Any]] = []
        self._futures: list[asyncio.Future[None]] = []
        self._scheduled = False
        self._loop: asyncio.AbstractEventLoop | None = None

    def submit(self, decision: dict[str, Any], txn_row: Sequence[Any]) -> asyncio.Future[None]:
        """Queue one decision; the returned future completes once it is durable (or fails)."""
        loop = asyncio.get_running_loop()
        self._loop = loop
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


class GroupCommitter(LoopBatch):
    """Collects decisions during a loop iteration and commits them together before acknowledging.

    ``wal_reset_bytes`` (SQLite only; 0 turns it off) and ``max_hold_s`` bound the WAL as the
    module docstring describes; ``on_wal_reset(held_s, reset)`` is called on the loop after each
    hold, with ``reset`` False when it timed out.
    """

    def __init__(self, store: Store, on_commit: Callable[[int], None] | None = None,
                 wal_reset_bytes: int = WAL_RESET_BYTES, max_hold_s: float = MAX_HOLD_S,
                 on_wal_reset: Callable[[float, bool], None] | None = None, checkpoint_interval: float = 1.0,
                 cache_bytes: int = WRITER_CACHE_BYTES) -> None:
        super().__init__()
        self.store = store
        self.cache_bytes = cache_bytes
        self.on_commit = on_commit
        self.on_wal_reset = on_wal_reset
        self.wal_reset_bytes = wal_reset_bytes
        self.max_hold_s = max_hold_s
        self._configured = False
        self._hold: asyncio.TimerHandle | None = None  # set while commits are held for a checkpoint
        self._hold_started = 0.0
        self._hold_id = 0
        self.checkpointer = (Checkpointer(store, checkpoint_interval, wal_reset_bytes, self._request_hold)
                             if store.dialect == "sqlite" else None)

    def pending(self) -> int:
        return len(self._rows)

    # The journal's read-your-writes interface (pesaguard.decisions.journal): here every acknowledged
    # decision is already in the store.
    def admit(self) -> None:
        return None

    def lookup(self, txn_id: str) -> None:
        return None

    def caught_up(self) -> bool:
        return True

    async def sync(self, timeout: float = 5.0) -> bool:
        return True

    def holding(self) -> bool:
        """True while commits wait for a checkpoint to finish the WAL."""
        return self._hold is not None

    def wal_bytes(self) -> int:
        """Size of the WAL file (0 without one)."""
        return self.checkpointer.wal_bytes() if self.checkpointer is not None else 0

    def flush(self) -> None:
        if self._hold is not None:
            self._scheduled = False
            return  # committed when the hold ends
        rows, txns, futures = self._take()
        if rows:
            self._commit(rows, txns, futures)

    def prepare(self, warm: bool = True) -> list[str]:
        """Configure the calling thread's connection, the one that will commit (call it on the event
        loop's thread), and with ``warm`` read the write-path indexes into its cache (see the module
        docstring); returns the indexes read. Commits configure it themselves if this was not called."""
        if self._configured or self.checkpointer is None:
            return []
        repo.set_autocheckpoint(self.store, 0)
        repo.set_cache_size(self.store, self.cache_bytes // 1024)
        if self.wal_reset_bytes > 0:
            # trims the file only after it outgrew the bound (a hold that timed out): cutting it
            # back after every reset would make the next cycle extend it again, block by block
            repo.set_journal_size_limit(self.store, 2 * self.wal_reset_bytes)
        self._configured = True
        return repo.prewarm_write_indexes(self.store, int(0.8 * self.cache_bytes)) if warm else []

    def _commit(self, rows: list[dict[str, Any]], txns: list[Sequence[Any]], futures: list[asyncio.Future[None]]) -> None:
        self.prepare(warm=False)
        try:
            repo.write_decisions(self.store, rows, txns)
        except Exception as exc:
            if len(rows) == 1:
                log.error("decision %s not committed: %s", rows[0]["txn_id"], exc)
                settle(futures[0], StoreError(f"decision not stored: {exc}", hint="retry the request"))
                return
            for i in range(len(rows)):  # one bad row must not fail its neighbours
                self._commit(rows[i : i + 1], txns[i : i + 1], futures[i : i + 1])
            return
        if self.on_commit is not None:
            self.on_commit(len(rows))
        for fut in futures:
            settle(fut, None)

    # -- holding commits while a checkpoint finishes the WAL (see the module docstring) ---------

    def _request_hold(self) -> bool:
        """From the checkpointer's thread: ask the loop to hold its commits. False if no loop runs."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return False
        try:
            loop.call_soon_threadsafe(self._begin_hold)
        except RuntimeError:  # the loop closed meanwhile
            return False
        return True

    def _begin_hold(self) -> None:
        assert self.checkpointer is not None and self._loop is not None
        if self._hold is not None:
            return
        self._hold_id += 1
        self._hold_started = time.perf_counter()
        self._hold = self._loop.call_later(self.max_hold_s, self._end_hold, self._hold_id, False)
        self.checkpointer.hold_granted(self._hold_id, self._end_hold_threadsafe)

    def _end_hold_threadsafe(self, hold_id: int) -> None:
        """From the checkpointer's thread: the WAL is fully copied, commit."""
        loop = self._loop
        if loop is not None and not loop.is_closed():
            with contextlib.suppress(RuntimeError):  # the loop closed meanwhile; close() flushed
                loop.call_soon_threadsafe(self._end_hold, hold_id, True)

    def _end_hold(self, hold_id: int, reset: bool) -> None:
        if self._hold is None or hold_id != self._hold_id:
            return  # a late answer to a hold that has already ended
        self._hold.cancel()
        self._hold = None
        held = time.perf_counter() - self._hold_started
        assert self.checkpointer is not None
        self.checkpointer.hold_ended(reset)
        if not reset:
            log.warning("WAL checkpoint did not finish within %.0f ms (a long read transaction?): committing "
                        "anyway; the WAL (%d MB) keeps growing until it can; next attempt in %.0f s",
                        1000 * self.max_hold_s, self.wal_bytes() // 2**20, RETRY_AFTER_TIMEOUT_S)
        if self.on_wal_reset is not None:
            self.on_wal_reset(held, reset)
        self.flush()  # the first write transaction after a complete checkpoint restarts the WAL

    def close(self) -> None:
        if self._hold is not None:
            self._hold.cancel()
            self._hold = None
        self.flush()
        if self.checkpointer is not None:
            self.checkpointer.close()


def _fdatasync_open_file(path: str) -> None:
    """fdatasync ``path`` through a descriptor this process already has open on it (SQLite's own).

    Opening and closing a descriptor of our own would release every POSIX lock the process holds on
    the file, SQLite's included, so it borrows one from ``/proc/self/fd`` instead. Without
    ``/proc`` (not Linux) it does nothing, which only makes the next hold longer.
    """
    try:
        names = os.listdir("/proc/self/fd")
    except OSError:
        return
    for name in names:
        try:
            if os.readlink(f"/proc/self/fd/{name}") == path:
                os.fdatasync(int(name))
                return
        except OSError:  # closed meanwhile, or not a file
            continue


def settle(fut: asyncio.Future[None], err: BaseException | None) -> None:
    """Complete ``fut`` (with ``err`` if given) unless it already is."""
    if fut.done():
        return
    if err is None:
        fut.set_result(None)
    else:
        fut.set_exception(err)


class Checkpointer:
    """Runs passive WAL checkpoints on its own thread and connection, every ``interval`` seconds.

    Passive checkpoints never block writers; the fsync they need happens here, not on the request
    path. When a pass finds at least ``wal_reset_bytes`` of WAL that is still being written, it
    catches up (:meth:`_catch_up`) and calls ``request_hold``; the writer answers with
    :meth:`hold_granted` once its commits are held, and the next pass, if it copied every frame,
    reports so through the callback given there (until the writer's timeout ends the hold, passes
    repeat every millisecond). Above half the threshold, passes run every ``interval / 4`` so that
    the WAL overshoots it by little.
    """

    def __init__(self, store: Store, interval: float = 1.0, wal_reset_bytes: int = 0,
                 request_hold: Callable[[], bool] | None = None) -> None:
        self.store = store
        self.interval = interval
        self.wal_reset_bytes = wal_reset_bytes
        self.request_hold = request_hold
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._lock = threading.Lock()
        self._granted: tuple[int, Callable[[int], None]] | None = None
        self._hold_pending = False  # requested, neither granted nor ended yet
        self._next_hold_at = 0.0
        self._last_frames = -1
        self._db: tuple[str, int] | None = None  # database file (realpath) and page size, once known
        self._thread = threading.Thread(target=self._run, name="pesaguard-checkpoint", daemon=True)
        self._thread.start()

    def wal_bytes(self) -> int:
        db = self._db
        if db is None:
            return 0
        try:
            return os.stat(f"{db[0]}-wal").st_size
        except OSError:
            return 0

    def hold_granted(self, hold_id: int, done: Callable[[int], None]) -> None:
        """From the loop: commits are held; run the finishing pass now and call ``done(hold_id)``
        if it copies every frame."""
        with self._lock:
            self._granted = (hold_id, done)
            self._hold_pending = False
        self._wake.set()

    def hold_ended(self, reset: bool) -> None:
        """From the loop: commits flow again (``reset`` False: the hold timed out)."""
        with self._lock:
            self._granted = None
            self._hold_pending = False
            if not reset:
                self._next_hold_at = time.monotonic() + RETRY_AFTER_TIMEOUT_S

    def _run(self) -> None:
        timeout = self.interval
        while not self._stop.is_set():
            self._wake.wait(timeout)
            self._wake.clear()
            if self._stop.is_set():
                break
            try:
                timeout = self._pass()
            except Exception as exc:  # a failed checkpoint is retried next time; the WAL stays valid
                log.warning("WAL checkpoint failed: %s", exc)
                timeout = self.interval
        repo.checkpoint(self.store)

    def _pass(self) -> float:
        """One passive checkpoint and what follows from it; returns the wait until the next one."""
        if self._db is None:
            found = repo.wal_database(self.store)
            self._db = None if found is None else (os.path.realpath(found[0]), found[1])
        with self._lock:
            granted = self._granted
        result = repo.checkpoint(self.store)
        if result is None or self._db is None or self.wal_reset_bytes <= 0 or self.request_hold is None:
            return self.interval
        frames, backfilled = result
        # ``frames`` is the WAL's length when this pass began: commits made during the pass are not
        # counted, so "all copied" means the WAL can restart only if nothing was committed meanwhile,
        # which is what holding the loop's commits ensures
        idle, self._last_frames = frames == self._last_frames, frames
        size = frames * (self._db[1] + 24)
        if granted is not None:
            if backfilled == frames:
                granted[1](granted[0])
                return self.interval
            return 0.001  # another writer or a reader got in the way; the loop's timeout bounds the hold
        if size >= self.wal_reset_bytes and not (idle and backfilled == frames):
            with self._lock:
                ask = not self._hold_pending and time.monotonic() >= self._next_hold_at
                if ask:
                    self._hold_pending = True
            if ask:
                self._catch_up(self._db[0])
                if not self.request_hold():
                    with self._lock:
                        self._hold_pending = False
            return self.interval  # hold_granted wakes this thread at once
        return self.interval / 4 if 2 * size >= self.wal_reset_bytes else self.interval

    def _catch_up(self, db_path: str) -> None:
        """Leave the finishing pass (the one commits wait for) as little work as possible.

        A pass that a commit overlapped does not fsync the database file (only a pass that ends the
        WAL does), so the pages copied since the last reset are still in the OS cache: the
        finishing pass would flush them all (~30 ms at 128 MB, measured). They are flushed here
        instead, then one more pass copies the frames committed meanwhile, and those are flushed too.
        """
        _fdatasync_open_file(db_path)
        repo.checkpoint(self.store)
        _fdatasync_open_file(db_path)

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)
