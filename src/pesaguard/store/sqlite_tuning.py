"""SQLite tuning of the connection that stores decisions (no-ops on PostgreSQL): its page cache, the
indexes read into it at start-up, and where its write-ahead log is.
"""

from __future__ import annotations

import logging
from typing import Any

from pesaguard.store.base import Store

log = logging.getLogger("pesaguard.store")


def set_cache_size(store: Store, kib: int) -> None:
    """The page cache of this thread's connection, in KiB."""
    if store.dialect == "sqlite":
        store.conn.execute(f"PRAGMA cache_size=-{int(kib)}")


#: The indexes a decision commit inserts into at a place set by its key (transaction id, payer, payee)
#: rather than at the end, in the order they are warmed: (table, index, its first column). An insert
#: reads the index page its key falls on, so these are the pages a commit may wait on the disk for.
WRITE_PATH_INDEXES = (
    ("decisions", None, "txn_id"),
    ("transactions", None, "txn_id"),
    ("transactions", "ix_transactions_payer", "payer"),
    ("transactions", "ix_transactions_payee", "payee"),
)
#: Bytes per entry assumed when sizing an index from its table's row count (above what these four
#: indexes take per entry, page overhead included, on a grown store).
_INDEX_ENTRY_BYTES = 40


def prewarm_write_indexes(store: Store, budget_bytes: int) -> list[str]:
    """Read the :data:`WRITE_PATH_INDEXES` of this thread's connection into its page cache, in order,
    while their estimated size fits in ``budget_bytes``; returns the indexes read (SQLite only).

    Why: a commit inserts one entry into each, at a random page, and on a machine that evicts file
    pages it has not touched for a few seconds (proactive reclaim, common on cloud VMs) each such
    page was a synchronous disk read for the connection that commits (``docs/architecture.md``, "The
    page cache of the connection that stores decisions"). Pages in the connection's own cache are
    process memory, which that reclaim does not take without swap. (The default cache is small, so this
    usually reads little: ``docs/architecture.md`` gives the trade-off.)
    """
    if store.dialect != "sqlite":
        return []
    conn = store.conn
    done = []
    used = 0
    for table, index, column in WRITE_PATH_INDEXES:
        index = index or _unique_index(conn, table, column)
        if index is None:
            continue
        rows = conn.execute(f"SELECT MAX(rowid) FROM {table}").fetchone()[0] or 0
        size = int(rows) * _INDEX_ENTRY_BYTES
        if used + size > budget_bytes:
            # info, not a warning: on a machine that keeps its OS page cache this costs nothing
            log.info("SQLite writer cache (%.0f MB usable) cannot hold index %s (~%d MB): commits read its pages "
                     "through the OS page cache; where that cache is reclaimed, raise "
                     "PESAGUARD_SQLITE_WRITER_CACHE_MB", budget_bytes / 2**20, index, size // 2**20)
            break
        # COUNT(column), not COUNT(*): SQLite counts rows on the smallest index whatever INDEXED BY says
        conn.execute(f"SELECT COUNT({column}) FROM {table} INDEXED BY {index}").fetchone()
        used += size
        done.append(index)
    return done


def _unique_index(conn: Any, table: str, column: str) -> str | None:
    """The name SQLite gave the index behind a one-column PRIMARY KEY or UNIQUE constraint."""
    for _, name, unique, origin, _ in conn.execute(f"PRAGMA index_list({table})").fetchall():
        if unique and origin in ("pk", "u"):
            cols = [r[2] for r in conn.execute(f"PRAGMA index_info({name})").fetchall()]
            if cols == [column]:
                return str(name)
    return None


def wal_database(store: Store) -> tuple[str, int] | None:
    """The path of the database file (its WAL is that path + ``-wal``) and its page size (a WAL
    frame is a page plus 24 bytes), or None without a WAL."""
    if store.dialect != "sqlite":
        return None
    conn = store.conn
    path = next((r[2] for r in conn.execute("PRAGMA database_list").fetchall() if r[1] == "main"), "")
    if not path or str(conn.execute("PRAGMA journal_mode").fetchall()[0][0]).lower() != "wal":
        return None
    return str(path), int(conn.execute("PRAGMA page_size").fetchall()[0][0])
