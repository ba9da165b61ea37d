"""Connection, dialect and migrations for the operational store.

Why a thin DB-API layer rather than an ORM: the hot paths are bulk inserts (ingest, simulation,
decision logs) where ``executemany`` on sqlite3 and pipelined ``executemany`` on psycopg are the
fastest portable options; ``benchmarks/bench_store.py`` measures this layer against SQLAlchemy Core
and ``pandas.to_sql`` in the same run. SQL is written once with ``?`` placeholders and rewritten
for psycopg.

SQLite runs in WAL mode with ``synchronous=NORMAL`` (durable across process crashes, which is what
``kill -9`` tests check; a power loss may drop the last transactions, as documented by SQLite).

PostgreSQL connections outlive server restarts: a connection the server dropped is noticed on its
next use, discarded, and the thread's next operation connects again; while the server stays
unreachable, new connection attempts are spaced out (0.1 s doubling to 2 s) and operations fail
at once with :class:`pesaguard.errors.StoreUnavailable` (HTTP 503). A read that fails because its
connection had gone stale is retried once on a fresh connection; a write is not (whether its
commit happened is unknown), so the caller retries it, which every write path allows (idempotent).
Why not psycopg_pool: each thread keeps one connection for its lifetime here (the event loop's,
the ingester's, each request thread's), where a pool lends connections per operation; what a pool
would add is exactly this reconnect with backoff.
"""

from __future__ import annotations

import contextlib
import functools
import re
import sqlite3
import threading
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pesaguard.config import Settings, get_settings, masked_url
from pesaguard.errors import ConfigError, StoreError, StoreUnavailable

Dialect = Literal["sqlite", "postgresql"]

#: Settings of every SQLite connection (WAL, set per file, comes first in :meth:`Store._connect`);
#: the bulk writer process (:mod:`pesaguard.store.sqlite_bulk`) applies the same.
SQLITE_PRAGMAS = (
    "PRAGMA synchronous=NORMAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=30000",
    "PRAGMA cache_size=-65536",
)
#: Reconnection attempts to an unreachable PostgreSQL server: the first wait and the longest.
RECONNECT_MIN_S = 0.1
RECONNECT_MAX_S = 2.0
#: Seconds a PostgreSQL connection attempt may take (an unreachable host, not a refused port).
CONNECT_TIMEOUT_S = 5
_MIGRATION_NAME = re.compile(r"^(\d{4})_([a-z0-9_]+)\.sql$")
_INDEX_DEF = re.compile(r"CREATE INDEX IF NOT EXISTS (\w+) ON (\w+)", re.IGNORECASE)

# Types that differ between the two dialects, substituted into migration files.
_TYPES: dict[Dialect, dict[str, str]] = {
    "sqlite": {"serial_pk": "INTEGER PRIMARY KEY AUTOINCREMENT", "blob": "BLOB", "float": "REAL"},
    "postgresql": {"serial_pk": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA", "float": "DOUBLE PRECISION"},
}


def now_ms() -> int:
    """The clock the store's rows are stamped with: UTC epoch milliseconds."""
    return int(time.time() * 1000)


@functools.lru_cache(maxsize=4096)
def format_paramstyle(text: str) -> str:
    """SQL written with ``?`` placeholders (sqlite3's qmark style) in psycopg's format style: ``?``
    becomes ``%s`` where it is a placeholder (not inside a quoted string or identifier, nor in a
    comment), and every literal ``%`` becomes ``%%``, which psycopg reads back as ``%`` wherever it
    stands. Cached: statements are mostly constants.

    >>> format_paramstyle("SELECT '?', x FROM t WHERE a LIKE '5%' AND b = ? -- why?")
    "SELECT '?', x FROM t WHERE a LIKE '5%%' AND b = %s -- why?"
    """
    out: list[str] = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in "'\"":  # a quoted string or identifier; a doubled quote inside it is an escape
            end = i + 1
            while end < n:
                if text[end] == c:
                    if end + 1 < n and text[end + 1] == c:
                        end += 2
                        continue
                    break
                end += 1
            out.append(text[i : end + 1].replace("%", "%%"))
            i = end + 1
        elif text.startswith("--", i):
            end = text.find("\n", i)
            end = n if end < 0 else end
            out.append(text[i:end].replace("%", "%%"))
            i = end
        elif text.startswith("/*", i):
            end = text.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(text[i:end].replace("%", "%%"))
            i = end
        else:
            out.append("%s" if c == "?" else "%%" if c == "%" else c)
            i += 1
    return "".join(out)


def _migrations() -> list[tuple[int, str, str]]:
    """All migrations shipped in ``pesaguard/store/migrations`` as (version, name, sql), in order."""
    found = []
    for entry in resources.files("pesaguard.store.migrations").iterdir():
        m = _MIGRATION_NAME.match(entry.name)
        if m:
            found.append((int(m.group(1)), m.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise StoreError("two migrations share a version number", hint="renumber the newest migration file")
    return found


def repeatable_indexes() -> list[tuple[str, str, str]]:
    """The secondary indexes of ``migrations/indexes.sql`` as (name, table, statement)."""
    text = resources.files("pesaguard.store.migrations").joinpath("indexes.sql").read_text(encoding="utf-8")
    found = []
    for stmt in _split_sql(text):
        m = _INDEX_DEF.match(stmt)
        if m is None:
            raise StoreError(f"indexes.sql holds a statement that is not CREATE INDEX IF NOT EXISTS: {stmt[:60]}",
                             hint="keep only idempotent index definitions in indexes.sql")
        found.append((m.group(1), m.group(2), stmt))
    return found


class Store:
    """The operational database. Thread-safe: one connection per thread, writes serialised.

    >>> s = Store("sqlite:///:memory:")
    >>> s.migrate() > 0
    True
    >>> s.scalar("SELECT COUNT(*) FROM transactions")
    0
    """

    def __init__(self, url: str) -> None:
        self.url = url
        if url.startswith("sqlite:///"):
            self.dialect: Dialect = "sqlite"
            self._path = url[len("sqlite:///") :]
            if self._path not in ("", ":memory:"):
                try:
                    Path(self._path).parent.mkdir(parents=True, exist_ok=True)
                except OSError as exc:
                    raise StoreError(f"cannot create the database directory {Path(self._path).parent}: "
                                     f"{exc.strerror or exc}",
                                     hint="make PESAGUARD_HOME writable or point it (or PESAGUARD_DATABASE_URL) "
                                          "somewhere writable") from exc
        elif url.startswith(("postgresql://", "postgres://")):
            self.dialect = "postgresql"
            self._path = ""
        else:
            raise ConfigError(
                f"unsupported database URL {masked_url(url)!r}",
                setting="PESAGUARD_DATABASE_URL",
                hint="use sqlite:///path/to/file.db or postgresql://user:pass@host/db",
            )
        self._local = threading.local()
        self._write_lock = threading.RLock()
        self._memory_conn: Any = None  # :memory: must share one connection across threads
        self._reconnect_lock = threading.Lock()
        self._retry_at = 0.0  # PostgreSQL unreachable: no new connection attempt before this (monotonic)
        self._backoff = 0.0
        self._last_error = ""

    # -- connections ---------------------------------------------------------------------------

    def _connect(self) -> Any:
        if self.dialect == "sqlite":
            try:
                conn = sqlite3.connect(
                    self._path or ":memory:", timeout=30, isolation_level=None, check_same_thread=False
                )
                conn.execute("PRAGMA journal_mode=WAL")
                for pragma in SQLITE_PRAGMAS:
                    conn.execute(pragma)
            except sqlite3.Error as exc:
                raise StoreError(f"cannot open SQLite database {self._path}: {exc}",
                                 hint="check the path and its permissions (PESAGUARD_HOME), and that the file "
                                      "is a pesaguard database (restore it from a backup if it is damaged)") from exc
            return conn
        import psycopg

        now = time.monotonic()
        if now < self._retry_at:
            raise StoreUnavailable(f"PostgreSQL is unreachable ({self._last_error}); next connection attempt in "
                                   f"{self._retry_at - now:.1f} s", hint="retry shortly")
        try:
            pg = psycopg.connect(self.url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        except psycopg.OperationalError as exc:
            with self._reconnect_lock:
                self._backoff = min(max(RECONNECT_MIN_S, 2 * self._backoff), RECONNECT_MAX_S)
                self._retry_at = time.monotonic() + self._backoff
                self._last_error = _first_line(exc)
            raise StoreUnavailable(
                f"cannot connect to PostgreSQL at {masked_url(self.url)}: {_first_line(exc)}",
                setting="PESAGUARD_DATABASE_URL",
                hint="check that the server is running and the URL's user, password and database exist",
            ) from exc
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL at {masked_url(self.url)}: {_first_line(exc)}",
                             setting="PESAGUARD_DATABASE_URL",
                             hint="check the URL's user, password and database") from exc
        with self._reconnect_lock:
            self._backoff, self._retry_at = 0.0, 0.0
        return pg

    def _lost(self, exc: BaseException) -> StoreUnavailable:
        """The error for a driver failure on this thread's connection, which is dropped if it is no
        longer usable so that the next operation connects again."""
        c = getattr(self._local, "conn", None)
        if c is not None and (c.closed or getattr(c, "broken", False)):
            with contextlib.suppress(Exception):  # closing a connection that is already broken
                c.close()
            self._local.conn = None
        return StoreUnavailable(f"the database connection failed: {_first_line(exc)}", hint="retry shortly")

    @contextmanager
    def guard(self) -> Iterator[None]:
        """Turn a lost PostgreSQL connection into :class:`StoreUnavailable` (and drop the connection)
        for code that uses :attr:`conn` directly."""
        if self.dialect == "sqlite":
            yield
            return
        import psycopg

        try:
            yield
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            raise self._lost(exc) from exc

    def _stale(self) -> bool:
        """Whether this thread holds a PostgreSQL connection made before now (which may have gone stale)."""
        return self.dialect == "postgresql" and getattr(self._local, "conn", None) is not None

    @property
    def conn(self) -> Any:
        """This thread's connection (autocommit; use :meth:`transaction` to group writes)."""
        if self.dialect == "sqlite" and self._path in ("", ":memory:"):
            if self._memory_conn is None:
                self._memory_conn = self._connect()
            return self._memory_conn
        c = getattr(self._local, "conn", None)
        if c is not None and self.dialect == "postgresql" and (c.closed or c.broken):
            with contextlib.suppress(Exception):  # closing a connection that is already broken
                c.close()
            c = None
        if c is None:
            c = self._connect()
            self._local.conn = c
        return c

    def close(self) -> None:
        c = getattr(self._local, "conn", None)
        if c is not None:
            c.close()
            self._local.conn = None
        if self._memory_conn is not None:
            self._memory_conn.close()
            self._memory_conn = None

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- SQL helpers (for repository modules inside pesaguard.store only) ----------------------

    def sql(self, text: str) -> str:
        """Rewrite ``?`` placeholders for the connected dialect (:func:`format_paramstyle` for psycopg)."""
        return text if self.dialect == "sqlite" else format_paramstyle(text)

    @contextmanager
    def transaction(self) -> Iterator[Any]:
        """Group writes atomically; yields a cursor. Writers are serialised across threads."""
        with self._write_lock:
            if self.dialect == "sqlite":
                conn = self.conn
                conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn.cursor()
                except BaseException:
                    conn.execute("ROLLBACK")
                    raise
                conn.execute("COMMIT")
                return
            import psycopg

            try:
                tx = self._begin()
                with tx, self.conn.cursor() as cur:
                    yield cur
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                raise self._lost(exc) from exc

    def _begin(self) -> Any:
        """A PostgreSQL transaction block begun on this thread's connection; a connection found dead
        at BEGIN (nothing was sent yet) is replaced once."""
        import psycopg

        stale = self._stale()
        tx = self.conn.transaction()
        try:
            tx.__enter__()
        except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
            if not stale:
                raise
            self._lost(exc)
            tx = self.conn.transaction()
            tx.__enter__()
        return _Entered(tx)

    def execute(self, text: str, params: Sequence[Any] = ()) -> int:
        """Run one write statement in its own transaction; returns the affected row count."""
        with self.transaction() as cur:
            cur.execute(self.sql(text), tuple(params))
            return int(cur.rowcount)

    def executemany(self, text: str, rows: Iterable[Sequence[Any]]) -> int:
        """Run one statement for many rows in one transaction; returns rows affected."""
        rows = list(rows)
        if not rows:
            return 0
        with self.transaction() as cur:
            return self.executemany_in(cur, text, rows)

    def executemany_in(self, cur: Any, text: str, rows: Sequence[Sequence[Any]]) -> int:
        """``executemany`` inside an open :meth:`transaction`; returns rows affected."""
        if not rows:
            return 0
        if self.dialect == "sqlite":
            before = self.conn.total_changes
            cur.executemany(text, rows)
            return int(self.conn.total_changes - before)
        cur.executemany(self.sql(text), rows)
        return int(cur.rowcount)

    def query(self, text: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        return self._read(text, params, lambda cur: [tuple(r) for r in cur.fetchall()])

    def query_dicts(self, text: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
        def fetch(cur: Any) -> list[dict[str, Any]]:
            names = [d[0] for d in cur.description]
            return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]

        return self._read(text, params, fetch)

    def _read(self, text: str, params: Sequence[Any], fetch: Any) -> Any:
        if self.dialect == "sqlite":
            cur = self.conn.cursor()
            try:
                cur.execute(text, tuple(params))
                return fetch(cur)
            finally:
                cur.close()
        import psycopg

        for attempt in (0, 1):
            stale = self._stale()
            try:
                with self.conn.cursor() as cur:
                    cur.execute(self.sql(text), tuple(params))
                    return fetch(cur)
            except (psycopg.OperationalError, psycopg.InterfaceError) as exc:
                lost = self._lost(exc)
                if attempt or not stale or getattr(self._local, "conn", None) is not None:
                    raise lost from exc
                # the thread's connection had died since its last use (a server restart): one more try
        raise AssertionError("unreachable")

    def scalar(self, text: str, params: Sequence[Any] = ()) -> Any:
        rows = self.query(text, params)
        return rows[0][0] if rows else None

    def insert_ignore(self, table: str, columns: Sequence[str], conflict: Sequence[str]) -> str:
        """An INSERT that skips rows whose ``conflict`` key already exists (idempotent writes)."""
        cols = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        keys = ", ".join(conflict)
        return f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({keys}) DO NOTHING"

    def upsert(self, table: str, columns: Sequence[str], conflict: Sequence[str]) -> str:
        """An INSERT that overwrites the non-key columns of an existing row."""
        cols = ", ".join(columns)
        marks = ", ".join("?" for _ in columns)
        keys = ", ".join(conflict)
        updates = ", ".join(f"{c} = excluded.{c}" for c in columns if c not in conflict)
        action = f"DO UPDATE SET {updates}" if updates else "DO NOTHING"
        return f"INSERT INTO {table} ({cols}) VALUES ({marks}) ON CONFLICT ({keys}) {action}"

    # -- migrations ----------------------------------------------------------------------------

    def schema_version(self) -> int:
        try:
            v = self.scalar("SELECT MAX(version) FROM schema_migrations")
        except Exception:
            if self.dialect == "postgresql":
                self.conn.rollback() if not self.conn.autocommit else None
            return 0
        return int(v or 0)

    def migrate(self) -> int:
        """Apply pending migrations in order; idempotent. Returns the schema version."""
        self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations ("
            " version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_ms BIGINT NOT NULL)"
        )
        import time

        with self._write_lock:
            # Every version not yet recorded is applied, in order: a migration that lands after a
            # higher-numbered one (parallel branches) is not skipped.
            applied = {int(r[0]) for r in self.query("SELECT version FROM schema_migrations")}
            for version, name, text in _migrations():
                if version in applied:
                    continue
                body = text.format(**_TYPES[self.dialect])
                try:
                    with self.transaction() as cur:
                        for stmt in _split_sql(body):
                            cur.execute(stmt)
                        cur.execute(
                            self.sql("INSERT INTO schema_migrations (version, name, applied_ms) VALUES (?, ?, ?)"),
                            (version, name, int(time.time() * 1000)),
                        )
                except StoreError:
                    raise
                except Exception as exc:
                    raise StoreError(
                        f"migration {version:04d}_{name} failed: {exc}",
                        hint="restore the database from backup or report this with the message above",
                    ) from exc
            self.ensure_indexes()
        return self.schema_version()

    def ensure_indexes(self, table: str | None = None) -> None:
        """(Re)create the repeatable secondary indexes (of one table, or all); a no-op when present."""
        for _name, tbl, stmt in repeatable_indexes():
            if table is None or tbl == table:
                self.execute(stmt)

    def drop_indexes(self, table: str) -> list[str]:
        """Drop the repeatable secondary indexes of ``table``; :meth:`ensure_indexes` brings them back."""
        dropped = []
        for name, tbl, _stmt in repeatable_indexes():
            if tbl == table:
                self.execute(f"DROP INDEX IF EXISTS {name}")
                dropped.append(name)
        return dropped

    def probe(self) -> str:
        """A readiness probe that reaches the data: "ok", or what failed. On SQLite it reads the schema
        and the last page of the decision tables (where new rows go); on PostgreSQL a round trip."""
        try:
            if self.dialect == "sqlite":
                self.scalar("SELECT COUNT(*) FROM sqlite_master")
                for table in ("transactions", "decisions"):
                    self.scalar(f"SELECT MAX(rowid) FROM {table}")
            elif self.scalar("SELECT 1") != 1:
                return "no answer"
        except StoreError as exc:
            return exc.message
        except Exception as exc:  # a damaged file: sqlite3.DatabaseError
            return f"{type(exc).__name__}: {_first_line(exc)}"
        return "ok"

    def tables(self) -> list[str]:
        if self.dialect == "sqlite":
            rows = self.query("SELECT name FROM sqlite_master WHERE type='table' ORDER BY name")
        else:
            rows = self.query(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() ORDER BY table_name"
            )
        return [r[0] for r in rows]


class _Entered:
    """An already-entered psycopg transaction block, usable in a ``with`` that only exits it."""

    def __init__(self, tx: Any) -> None:
        self.tx = tx

    def __enter__(self) -> Any:
        return self.tx

    def __exit__(self, *exc: Any) -> Any:
        return self.tx.__exit__(*exc)


def _first_line(exc: BaseException) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0]


def _split_sql(body: str) -> list[str]:
    """Split a migration into statements (migrations contain no semicolons inside literals)."""
    lines = [ln for ln in body.splitlines() if not ln.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]


def open_store(settings: Settings | None = None, *, migrate: bool = True) -> Store:
    """Open the configured store (and bring its schema up to date unless ``migrate=False``)."""
    settings = settings or get_settings()
    url = settings.resolved_database_url
    if url.startswith("sqlite:///") and settings.database_url is None:
        settings.home.mkdir(parents=True, exist_ok=True)
    store = Store(url)
    if migrate:
        store.migrate()
    return store
