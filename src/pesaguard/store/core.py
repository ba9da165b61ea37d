"""Repository functions for the core tables: transactions, accounts, events, labels.

The ingest's quarantine, runs and label timing live in :mod:`pesaguard.store.quarantine`.

Every write is idempotent: rows carry natural keys and inserts skip keys that already exist, so
re-running an ingest or replaying a batch after a crash adds nothing twice.
"""

from __future__ import annotations

import gc
import hashlib
import itertools
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.store.base import Store

if TYPE_CHECKING:
    import pandas as pd

# numpy and pandas are imported where they are used: importing pandas costs about 0.3 s of CPU,
# which every command that imports this module (the whole CLI does) would pay at start-up.

ACCOUNT_COLUMNS = ("account_id", "kind", "region", "income_band", "opened_ms", "device_id", "msisdn_hash")
EVENT_COLUMNS = ("event_id", "account_id", "ts_ms", "kind")
LABEL_COLUMNS = ("label_id", "txn_id", "is_fraud", "known_at_ms", "source", "typology")


def label_id(txn_id: str, is_fraud: bool, known_at_ms: int, source: str) -> str:
    """Deterministic id of a label event, so the same label file ingested twice adds nothing."""
    key = f"{txn_id}\x1f{int(is_fraud)}\x1f{known_at_ms}\x1f{source}".encode()
    return hashlib.blake2b(key, digest_size=12).hexdigest()


def _rows(df: pd.DataFrame, columns: Sequence[str]) -> list[tuple[Any, ...]]:
    """DataFrame -> list of tuples with Python scalars and None for missing values.

    Built column by column: ``numpy.tolist()`` turns a null-free numeric column into Python scalars
    in one C loop, and only columns that hold nulls are patched, which is several times faster than
    ``astype(object)`` plus ``itertuples`` on wide frames.

    >>> import pandas as pd
    >>> _rows(pd.DataFrame({"a": [1, 2], "b": ["x", None]}), ["a", "b", "c"])
    [(1, 'x', None), (2, None, None)]
    """
    n = len(df)
    if n == 0:
        return []
    cols = [_values(df[c]) if c in df.columns else itertools.repeat(None, n) for c in columns]
    was = gc.isenabled()
    gc.disable()  # a million fresh tuples would trigger full collections that find no cycles
    try:
        return list(zip(*cols, strict=True))
    finally:
        if was:
            gc.enable()


def _values(s: pd.Series) -> list[Any]:
    """One column as a list of Python scalars, None where missing."""
    import numpy as np
    import pandas as pd

    kind = s.dtype.kind
    if kind in "iub":
        return s.to_numpy().tolist()
    if kind == "f":
        arr = s.to_numpy()
        nulls = np.isnan(arr)
        values: list[Any] = arr.tolist()
        for i in np.flatnonzero(nulls).tolist():
            values[i] = None
        return values
    if isinstance(s.dtype, pd.api.extensions.ExtensionDtype) or kind in "mM":
        return [None if pd.isna(v) else v for v in s.astype(object).tolist()]
    values = s.tolist()
    nulls = pd.isna(s).to_numpy()
    if nulls.any():
        for i in np.flatnonzero(nulls).tolist():
            values[i] = None
    return values


def insert_rows(store: Store, table: str, columns: Sequence[str], key: Sequence[str],
                rows: Sequence[Sequence[Any]], cur: Any = None) -> int:
    """Insert rows, skipping existing keys; returns how many were new."""
    sql = store.insert_ignore(table, columns, key)
    if cur is not None:
        return store.executemany_in(cur, sql, rows)
    return store.executemany(sql, rows)


#: A bulk load suspends the secondary indexes when it brings at least this many rows and at
#: least half as many as the table already holds (rebuilding is O(table), so small loads into a
#: big table keep their indexes).
BULK_MIN_ROWS = 100_000


@contextmanager
def bulk_load(store: Store, table: str, expected_rows: int | None) -> Iterator[bool]:
    """Load a large batch into ``table`` with its secondary indexes suspended; yields whether they were.

    Random-key indexes such as (payer, ts) cost SQLite most of an insert's CPU; building them once
    after the load sorts the keys instead (``benchmarks/bench_store.py`` measures both). The indexes
    are rebuilt when the block ends, also on error; if the process is killed in between, the next
    :meth:`Store.migrate` (run by every ``open_store``) rebuilds them, so nothing is lost but time.
    Only SQLite suspends: PostgreSQL readers keep their indexes during a load.
    """
    suspend = False
    if store.dialect == "sqlite" and expected_rows is not None and expected_rows >= BULK_MIN_ROWS:
        # MAX(rowid) reads one B-tree path: a cheap upper bound on the row count.
        held = int(store.scalar(f"SELECT COALESCE(MAX(rowid), 0) FROM {table}") or 0)
        suspend = expected_rows * 2 >= held
    if suspend:
        store.drop_indexes(table)
    try:
        yield suspend
    finally:
        if suspend:
            with _index_rebuild_settings(store):
                store.ensure_indexes(table)


#: Page cache (KiB) while a bulk load rebuilds its indexes. SQLite's sorter builds sorted runs the
#: size of the page cache and merges them; 2 MiB runs stay in the CPU caches, and rebuilding the
#: three transaction indexes over 1M rows measured 1.2 s of CPU against 1.6-1.8 s with the 64 MiB
#: cache (one big in-memory sort), same data, back to back (load ~5).
_REBUILD_CACHE_KIB = 2048


def _sorter_threads() -> int:
    """Helper threads for SQLite's sorter during a rebuild: one per core, at most 4. They sort the
    runs while the main thread scans the table; rebuilding 1M rows' three indexes on this 2-core
    machine took 1.2 s of the main thread with none, 0.87-0.90 s with one and 0.72-0.77 s with two
    (about 1.45 s of CPU in all either way; load ~4). Nothing else runs at that point of a load."""
    return max(1, min(4, os.cpu_count() or 2))


@contextmanager
def _index_rebuild_settings(store: Store) -> Iterator[None]:
    before = store.scalar("PRAGMA cache_size")
    store.conn.execute(f"PRAGMA cache_size=-{_REBUILD_CACHE_KIB}")
    store.conn.execute(f"PRAGMA threads={_sorter_threads()}")
    try:
        yield
    finally:
        store.conn.execute("PRAGMA threads=0")
        store.conn.execute(f"PRAGMA cache_size={int(before)}")


#: Transaction columns an insert may leave out: nullable, with no default, so a row that gives no
#: value stores NULL, as binding a null would.
OMITTABLE_TRANSACTION_COLUMNS = frozenset(TRANSACTION_COLUMNS) - {"txn_id", "ts_ms", "payer", "payee",
                                                                  "amount_minor", "currency"}


def transaction_insert(store: Store, columns: Sequence[str], constants: Mapping[str, str | int]) -> str:
    """The idempotent transaction INSERT binding ``columns`` per row, with ``constants`` (one value
    for every row, such as the currency of a file) written into the statement as literals.

    Binding the same text a million times is work for nothing: loading 1M PaySim rows through the
    ADBC writer took 2.66 s of CPU with the two constant columns as literals and the three absent
    ones left out, against 3.04 s binding all 15 columns (best of three each, interleaved, load
    about 15). Columns left out of both must be in :data:`OMITTABLE_TRANSACTION_COLUMNS`.

    >>> sql = transaction_insert(Store("sqlite:///:memory:"), ["txn_id", "ts_ms", "payer", "payee", "amount_minor"],
    ...                          {"currency": "KES", "source": "it's.csv"})
    >>> sql.split(" VALUES ")[1]
    "(?, ?, ?, ?, ?, 'KES', 'it''s.csv') ON CONFLICT (txn_id) DO NOTHING"
    """
    missing = set(TRANSACTION_COLUMNS) - set(columns) - set(constants) - OMITTABLE_TRANSACTION_COLUMNS
    if missing:
        raise ValueError(f"transaction columns without a value: {sorted(missing)}")
    sql = store.insert_ignore("transactions", [*columns, *constants], ("txn_id",))
    marks = ", ".join(["?"] * len(columns) + [_literal(v) for v in constants.values()])
    head, _, tail = sql.partition(" VALUES (")
    return f"{head} VALUES ({marks}{tail[tail.index(')'):]}"


def _literal(value: str | int) -> str:
    """A SQL literal: integers as digits, text quoted with inner quotes doubled (standard SQL, the
    only escape SQLite and PostgreSQL need)."""
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise TypeError(f"no SQL literal for {value!r}")
    return str(value) if isinstance(value, int) else "'" + value.replace("'", "''") + "'"


def insert_transactions(store: Store, df: pd.DataFrame, cur: Any = None) -> int:
    """Insert transactions (columns named as in :data:`TRANSACTION_COLUMNS`); returns new rows."""
    return insert_rows(store, "transactions", TRANSACTION_COLUMNS, ("txn_id",),
                       _rows(df, TRANSACTION_COLUMNS), cur)


def insert_accounts(store: Store, df: pd.DataFrame) -> int:
    return insert_rows(store, "accounts", ACCOUNT_COLUMNS, ("account_id",), _rows(df, ACCOUNT_COLUMNS))


def insert_account_events(store: Store, df: pd.DataFrame) -> int:
    return insert_rows(store, "account_events", EVENT_COLUMNS, ("event_id",), _rows(df, EVENT_COLUMNS))


def insert_labels(store: Store, df: pd.DataFrame, cur: Any = None) -> int:
    """Insert labels (txn_id, is_fraud, known_at_ms, source[, typology]); ids are derived if absent."""
    df = df.copy()
    if "source" not in df:
        df["source"] = "unknown"
    if "label_id" not in df:
        df["label_id"] = [
            label_id(t, bool(f), int(k), str(s))
            for t, f, k, s in zip(df["txn_id"], df["is_fraud"], df["known_at_ms"], df["source"], strict=True)
        ]
    df["is_fraud"] = df["is_fraud"].astype(int)
    return insert_rows(store, "labels", LABEL_COLUMNS, ("label_id",), _rows(df, LABEL_COLUMNS), cur)


def insert_quarantine(store: Store, source_key: str, source: str,
                      rows: Sequence[tuple[int, str, str, dict[str, Any] | None]], cur: Any = None) -> int:
    """Quarantine bad rows: (row_number, field, reason, raw record); idempotent per source and row.
    The ingest writes richer entries through :func:`pesaguard.store.quarantine.insert_quarantine`."""
    from pesaguard.store import quarantine

    entries = [(rn, field, reason, raw, None, reason) for rn, field, reason, raw in rows]
    return quarantine.insert_quarantine(store, source_key, source, entries, cur)


def count(store: Store, table: str) -> int:
    return int(store.scalar(f"SELECT COUNT(*) FROM {table}") or 0)


def existing_txn_ids(store: Store, ids: Sequence[str]) -> set[str]:
    """Which of ``ids`` are already stored (chunked to stay under parameter limits)."""
    found: set[str] = set()
    for i in range(0, len(ids), 900):
        chunk = list(ids[i : i + 900])
        marks = ",".join("?" for _ in chunk)
        found.update(r[0] for r in store.query(f"SELECT txn_id FROM transactions WHERE txn_id IN ({marks})", chunk))
    return found


def newest_transaction_ms(store: Store, not_after_ms: int) -> int | None:
    """The newest transaction time at or before ``not_after_ms`` (rows dated later are ignored), or None."""
    value = store.scalar("SELECT MAX(ts_ms) FROM transactions WHERE ts_ms <= ?", (not_after_ms,))
    return None if value is None else int(value)


def load_transactions(store: Store, start_ms: int | None = None, end_ms: int | None = None,
                      columns: Sequence[str] = TRANSACTION_COLUMNS) -> pd.DataFrame:
    """Transactions with ``start_ms <= ts_ms < end_ms``, ordered by time then id."""
    import pandas as pd

    where, params = _range(start_ms, end_ms)
    cols = ", ".join(columns)
    rows = store.query(f"SELECT {cols} FROM transactions{where} ORDER BY ts_ms, txn_id", params)
    return pd.DataFrame.from_records(rows, columns=list(columns))


def iter_transactions(store: Store, start_ms: int | None = None, end_ms: int | None = None,
                      chunk_rows: int = 200_000) -> Iterator[pd.DataFrame]:
    """Stream transactions in time order, ``chunk_rows`` at a time (bounded memory)."""
    import pandas as pd

    where, params = _range(start_ms, end_ms)
    cols = ", ".join(TRANSACTION_COLUMNS)
    cur = store.conn.cursor()
    try:
        cur.execute(store.sql(f"SELECT {cols} FROM transactions{where} ORDER BY ts_ms, txn_id"), params)
        while True:
            rows = cur.fetchmany(chunk_rows)
            if not rows:
                break
            yield pd.DataFrame.from_records(rows, columns=list(TRANSACTION_COLUMNS))
    finally:
        cur.close()


def label_conflicts(store: Store, txn_id: str, is_fraud: bool, known_at_ms: int) -> bool:
    """Whether ``txn_id`` already has the opposite label known at exactly ``known_at_ms``."""
    return store.scalar("SELECT 1 FROM labels WHERE txn_id = ? AND known_at_ms = ? AND is_fraud = ? LIMIT 1",
                        (txn_id, known_at_ms, int(not is_fraud))) is not None


def stored_labels(store: Store, ids: Sequence[str]) -> dict[tuple[str, int], set[int]]:
    """(txn_id, known_at_ms) -> the label values stored for it, for the transactions ``ids``."""
    found: dict[tuple[str, int], set[int]] = {}
    unique = list(dict.fromkeys(ids))
    for i in range(0, len(unique), 900):
        chunk = unique[i : i + 900]
        marks = ",".join("?" for _ in chunk)
        for t, at, f in store.query(f"SELECT txn_id, known_at_ms, is_fraud FROM labels WHERE txn_id IN ({marks})",
                                    chunk):
            found.setdefault((t, int(at)), set()).add(int(f))
    return found


def load_labels(store: Store, known_before_ms: int | None = None) -> pd.DataFrame:
    """Label events, optionally only those known strictly before ``known_before_ms``."""
    import pandas as pd

    sql = f"SELECT {', '.join(LABEL_COLUMNS)} FROM labels"
    params: tuple[Any, ...] = ()
    if known_before_ms is not None:
        sql += " WHERE known_at_ms < ?"
        params = (known_before_ms,)
    rows = store.query(sql + " ORDER BY known_at_ms, label_id", params)
    return pd.DataFrame.from_records(rows, columns=list(LABEL_COLUMNS))


def load_accounts(store: Store) -> pd.DataFrame:
    import pandas as pd

    rows = store.query(f"SELECT {', '.join(ACCOUNT_COLUMNS)} FROM accounts ORDER BY account_id")
    return pd.DataFrame.from_records(rows, columns=list(ACCOUNT_COLUMNS))


def load_account_events(store: Store) -> pd.DataFrame:
    import pandas as pd

    rows = store.query(f"SELECT {', '.join(EVENT_COLUMNS)} FROM account_events ORDER BY ts_ms, event_id")
    return pd.DataFrame.from_records(rows, columns=list(EVENT_COLUMNS))


def load_quarantine(store: Store, source_key: str | None = None) -> pd.DataFrame:
    """Quarantined rows (see :func:`pesaguard.store.quarantine.load_quarantine`)."""
    from pesaguard.store import quarantine

    return quarantine.load_quarantine(store, source_key)


def find_incoming(store: Store, account: str, amount_minor: int, around_ms: int,
                  window_ms: int = 2 * 3600 * 1000, payer: str | None = None) -> list[dict[str, Any]]:
    """Transactions paid *to* ``account`` of exactly ``amount_minor`` within ``window_ms`` of a time.

    Used to verify "you have received ..." claims against the ledger.
    """
    sql = ("SELECT txn_id, ts_ms, payer, payee, amount_minor, currency FROM transactions "
           "WHERE payee = ? AND amount_minor = ? AND ts_ms BETWEEN ? AND ?")
    params: list[Any] = [account, amount_minor, around_ms - window_ms, around_ms + window_ms]
    if payer is not None:
        sql += " AND payer = ?"
        params.append(payer)
    return store.query_dicts(sql + " ORDER BY ts_ms", params)


def _range(start_ms: int | None, end_ms: int | None) -> tuple[str, tuple[Any, ...]]:
    clauses, params = [], []
    if start_ms is not None:
        clauses.append("ts_ms >= ?")
        params.append(start_ms)
    if end_ms is not None:
        clauses.append("ts_ms < ?")
        params.append(end_ms)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def latest_transaction_ms(store: Store) -> int | None:
    """The newest stored transaction's time, or None when there is none."""
    value = store.scalar("SELECT MAX(ts_ms) FROM transactions")
    return None if value is None else int(value)
