"""A SQLite bulk writer in its own process that binds Arrow tables in C.

Why a process and Arrow: Python's ``sqlite3.executemany`` binds each parameter of each row from
Python objects while holding the GIL, which costs about twice SQLite's own insert work and keeps a
writer thread from overlapping the parser (``benchmarks/bench_ingest.py``; docs/benchmarks.md has
the figures). The ADBC SQLite driver (Apache Arrow ADBC) binds the columns of an Arrow table to a
prepared statement in C, at about the cost of an ``INSERT ... SELECT`` inside SQLite. The driver
links its own copy of SQLite, and two copies of SQLite must not open the same database file in one
process (their POSIX locks would cancel each other; sqlite.org/howtocorrupt.html, section 2.2.1),
so it runs in a child process that owns the only ADBC connection; the child also has its own GIL,
so parsing and writing use both cores.

The child is ``python -m pesaguard.store.sqlite_bulk DBFILE`` rather than a ``multiprocessing``
process: spawn would re-import the caller's ``__main__`` (slow for the CLI, and an error for any
script without a ``__main__`` guard). Protocol: pickled messages on the child's stdin and stdout
(a private pipe between two processes of this package). The parent sends a job, a list of
``(sql, table)`` pairs; the child runs each statement once per row of its table, all inside one
``BEGIN IMMEDIATE`` ... ``COMMIT``, and answers with the rows each statement changed, or with the
error after rolling back. A job is committed whole or not at all. If the parent dies (``kill -9``)
the child finishes at most the job it holds, reads end-of-file and exits; it ignores SIGINT, so
Ctrl-C reaches the parent, which closes the pipe.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import pickle
import signal
import sqlite3
import subprocess
import sys
from collections import deque
from collections.abc import Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

import pyarrow as pa

from pesaguard.errors import StoreError
from pesaguard.store.base import SQLITE_PRAGMAS

if TYPE_CHECKING:
    from pesaguard.store.base import Store

#: A job: statements with ``?`` placeholders, each bound to every row of its table.
Job = Sequence[tuple[str, pa.Table]]

#: Pragmas of the writer's connection: the store's own (WAL is a property of the file, already set
#: by the store that migrated it), but no checkpoints: the parent runs them beside the writer.
_PRAGMAS = (*SQLITE_PRAGMAS, "PRAGMA wal_autocheckpoint=0")


def bulk_writer_available() -> bool:
    """Whether the ADBC SQLite driver is installed (``adbc-driver-sqlite``, a dependency of the
    package); without it, callers write through the store's own connection, more slowly."""
    return importlib.util.find_spec("adbc_driver_sqlite") is not None


def sqlite_file(store: Store) -> str | None:
    """The database file of a SQLite store; None for PostgreSQL and in-memory SQLite."""
    if store.dialect != "sqlite":
        return None
    path = store.url[len("sqlite:///"):]
    return None if path in ("", ":memory:") else path


class SqliteBulkWriter:
    """Commit jobs to a SQLite database file from a child process, one transaction per job.

    Use as a context manager; :meth:`send` hands over a job and :meth:`receive` waits for the
    oldest job's answer, so the caller can prepare the next job while one is being written. Jobs
    are committed in the order sent. Leaving the block closes the pipe and waits for the child to
    close its connection.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        src = str(Path(__file__).resolve().parents[2])  # the directory that holds the pesaguard package
        env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH")) if p)}
        self._proc = subprocess.Popen([sys.executable, "-m", "pesaguard.store.sqlite_bulk", path],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=env)
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._jobs: IO[bytes] = self._proc.stdin
        self._answers: IO[bytes] = self._proc.stdout
        self._sender = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-bulk-send")
        self._sending: deque[Future[None]] = deque()
        self._checkpointer = _Checkpointer(path)
        self._finished = False

    def send(self, job: Job) -> None:
        """Hand a job over. A background thread writes it into the pipe while the child reads it
        (about 10 ms for a 50,000-row chunk), so the caller goes back to parsing at once."""
        self._sending.append(self._sender.submit(self._write, list(job)))

    def _write(self, job: list[tuple[str, pa.Table]]) -> None:
        pickle.dump(job, self._jobs, protocol=pickle.HIGHEST_PROTOCOL)
        self._jobs.flush()

    def receive(self) -> list[int]:
        """Rows changed by each statement of the oldest job sent (committed when this returns)."""
        try:
            if self._sending:
                self._sending.popleft().result()
            kind, value = pickle.load(self._answers)
        except (EOFError, OSError, pickle.UnpicklingError) as exc:  # BrokenPipeError is an OSError
            raise self._died() from exc
        if kind == "error":
            raise StoreError(f"bulk write into {self.path} failed: {value}",
                             hint="the failed chunk was rolled back and earlier chunks are committed; fix the "
                                  "cause and run the same command again")
        self._checkpointer.poke()
        return list(value)

    def finish(self) -> None:
        """Send no more jobs: close the pipe (the child exits after the job it holds) and let the
        last checkpoint end. Does not wait for the child to exit: its connection and interpreter
        shut down (~0.1 s) while the caller goes on, e.g. to rebuild indexes. Idempotent."""
        if self._finished:
            return
        self._finished = True
        self._sender.shutdown(wait=True)  # a write that failed has nothing left to do
        with contextlib.suppress(OSError):  # the child is gone already
            self._jobs.close()
        self._checkpointer.close()

    def close(self) -> None:
        """:meth:`finish`, then wait for the child to exit (idempotent)."""
        self.finish()
        if self._answers.closed:
            return
        try:
            self._proc.wait(timeout=120)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        self._answers.close()

    def __enter__(self) -> SqliteBulkWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _died(self) -> StoreError:
        try:
            code = self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            code = None
        return StoreError(f"the SQLite writer process for {self.path} stopped (exit code {code})",
                          hint="chunks it answered are committed; its error is printed above; run the same "
                               "command again to finish")


class _Checkpointer:
    """Passive WAL checkpoints from a thread of the parent, one after each committed job.

    The child's connection does not checkpoint (``wal_autocheckpoint=0``). A checkpoint copies the
    committed pages from the WAL into the database file and fsyncs both; done by the writer at each
    commit, as SQLite does by default, it took 0.66 s of the writer's 2.1 s for 1M rows (commits of
    50,000 rows, measured back to back with and without). A PASSIVE checkpoint from another
    connection runs beside the writer without blocking it, so that I/O leaves the writer's path;
    this connection is the standard library's ``sqlite3`` (one SQLite copy per process, see above).
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-bulk-checkpoint")
        self._conn: sqlite3.Connection | None = None  # made and used in the pool's thread only
        self._running: Future[None] | None = None

    def poke(self) -> None:
        """Start a checkpoint unless one is running."""
        if self._running is not None and not self._running.done():
            return
        if self._running is not None:
            self._result(self._running)
        self._running = self._pool.submit(self._checkpoint)

    def close(self) -> None:
        if self._running is not None:
            self._result(self._running)
        self._pool.submit(self._close).result()
        self._pool.shutdown()

    def _checkpoint(self) -> None:
        if self._conn is None:
            self._conn = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()

    def _close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _result(self, fut: Future[None]) -> None:
        try:
            fut.result()
        except sqlite3.Error as exc:
            raise StoreError(f"WAL checkpoint of {self.path} failed: {exc}",
                             hint="check free disk space and the database file's permissions") from exc


def _serve(path: str, jobs: IO[bytes], answers: IO[bytes]) -> None:
    """The child: one ADBC connection, one transaction per job, until the parent closes the pipe.

    It uses ADBC's low-level API: the DB-API layer imports pyarrow.dataset and pandas (0.35 s of
    CPU at every start) and adds nothing here.
    """
    import adbc_driver_manager
    import adbc_driver_sqlite

    with adbc_driver_sqlite.connect(path) as db, adbc_driver_manager.AdbcConnection(db) as conn:
        statements: dict[str, Any] = {}

        def statement(sql: str) -> Any:
            """A prepared statement per SQL text, made once and reused for every job."""
            stmt = statements.get(sql)
            if stmt is None:
                stmt = statements[sql] = adbc_driver_manager.AdbcStatement(conn)
                stmt.set_sql_query(sql)
                stmt.prepare()
            return stmt

        def run(sql: str) -> int:
            return int(statement(sql).execute_update())

        def commit(job: Job) -> list[int]:
            run("BEGIN IMMEDIATE")  # the connection is in autocommit mode: transactions are explicit
            try:
                changed = []
                for sql, table in job:
                    if table.num_rows == 0:
                        changed.append(0)
                        continue
                    stmt = statement(sql)
                    stmt.bind_stream(table)  # Arrow C stream: the columns bind in C, no Python rows
                    changed.append(int(stmt.execute_update()))
            except BaseException:
                run("ROLLBACK")
                raise
            run("COMMIT")
            return changed

        try:
            for pragma in _PRAGMAS:
                run(pragma)
            while True:
                try:
                    job = pickle.load(jobs)
                except (EOFError, pickle.UnpicklingError):
                    return  # the parent closed the pipe, or died half-way through sending a job
                answer: tuple[str, Any]
                try:
                    answer = ("ok", commit(job))
                except Exception as exc:
                    answer = ("error", f"{type(exc).__name__}: {exc}")
                try:
                    pickle.dump(answer, answers, protocol=pickle.HIGHEST_PROTOCOL)
                    answers.flush()
                except (BrokenPipeError, OSError):
                    return
        finally:
            for stmt in statements.values():
                stmt.close()


def main(argv: list[str]) -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    answers = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)  # anything else printed goes to stderr, never into the answers
    _serve(argv[0], sys.stdin.buffer, answers)


if __name__ == "__main__":
    main(sys.argv[1:])
