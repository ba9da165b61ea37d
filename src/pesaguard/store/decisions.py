"""Repository for the decision area: API keys, console users and sessions, decisions and cases.

Decisions are written in batches by the decision journal's copying process; every insert is keyed by a
natural id (``txn_id`` for decisions) so a replay after a crash adds nothing twice. Cases: at most
one open case per account (a partial unique index enforces it).

A decision's feature vector is stored compactly (migration 0007): ``features`` holds a JSON array of
the values and ``feature_layout`` names a row of ``feature_layouts`` holding the names, once per
layout (the layout id is a hash of the names, so it is the same in every store). Rows written before
0007 hold a JSON object and no layout. :func:`decode_features` reads both; every reader of
``decisions.features`` goes through it.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pesaguard.store import decision_record as record
from pesaguard.store.base import Store, now_ms
from pesaguard.store.feature_layouts import feature_layout, insert_new_layouts, layout_names, stored

log = logging.getLogger("pesaguard.store")

# -- API keys ---------------------------------------------------------------------------------


def insert_api_key(store: Store, key_id: str, key_hash: str, role: str, name: str | None) -> None:
    store.execute(
        "INSERT INTO api_keys (key_id, key_hash, role, name, created_ms) VALUES (?, ?, ?, ?, ?)",
        (key_id, key_hash, role, name, now_ms()),
    )


def find_api_key(store: Store, key_hash: str) -> dict[str, Any] | None:
    """The live (not revoked) key with this hash, or None."""
    rows = store.query_dicts(
        "SELECT key_id, role, name FROM api_keys WHERE key_hash = ? AND revoked_ms IS NULL", (key_hash,)
    )
    return rows[0] if rows else None


def list_api_keys(store: Store) -> list[dict[str, Any]]:
    return store.query_dicts(
        "SELECT key_id, role, name, created_ms, revoked_ms FROM api_keys ORDER BY created_ms, key_id"
    )


def revoke_api_key(store: Store, key_id: str) -> int:
    """Revoke a live key and end the console sessions logged in with it (one transaction); returns
    1, or 0 if there was no live key with that id."""
    with store.transaction() as cur:
        cur.execute(store.sql("UPDATE api_keys SET revoked_ms = ? WHERE key_id = ? AND revoked_ms IS NULL"),
                    (now_ms(), key_id))
        revoked = int(cur.rowcount)
        cur.execute(store.sql("DELETE FROM sessions WHERE key_id = ?"), (key_id,))
    return revoked


def label_conflicts(store: Store, txn_id: str, is_fraud: bool, known_at_ms: int) -> bool:
    """Whether ``txn_id`` already has the opposite label known at exactly ``known_at_ms``."""
    return store.scalar("SELECT 1 FROM labels WHERE txn_id = ? AND known_at_ms = ? AND is_fraud = ? LIMIT 1",
                        (txn_id, known_at_ms, int(not is_fraud))) is not None


# -- console users and sessions ---------------------------------------------------------------


def upsert_user(store: Store, username: str, password_hash: str, role: str) -> int:
    """Create a user, or set an existing user's password and role; either way the user's console
    sessions end (one transaction). Returns how many sessions ended."""
    sql = store.upsert("users", ("username", "password_hash", "role", "created_ms"), ("username",))
    with store.transaction() as cur:
        cur.execute(store.sql(sql), (username, password_hash, role, now_ms()))
        cur.execute(store.sql("DELETE FROM sessions WHERE username = ?"), (username,))
        return int(cur.rowcount)


def find_user(store: Store, username: str) -> dict[str, Any] | None:
    rows = store.query_dicts("SELECT username, password_hash, role FROM users WHERE username = ?", (username,))
    return rows[0] if rows else None


def insert_session(store: Store, token_hash: str, principal: str, role: str, expires_ms: int, *,
                   key_id: str | None = None, username: str | None = None) -> None:
    """A console session, made with an API key (``key_id``) or a user's password (``username``)."""
    if (key_id is None) == (username is None):
        raise ValueError("a session is made with either an API key or a user name")
    store.execute(
        "INSERT INTO sessions (token_hash, principal, role, expires_ms, key_id, username) VALUES (?, ?, ?, ?, ?, ?)",
        (token_hash, principal, role, expires_ms, key_id, username),
    )


def find_session(store: Store, token_hash: str) -> dict[str, Any] | None:
    """A live session: not expired, its key not revoked, its user still there with the same role."""
    rows = store.query_dicts(
        "SELECT s.principal, s.role, s.expires_ms FROM sessions s"
        " LEFT JOIN api_keys k ON k.key_id = s.key_id LEFT JOIN users u ON u.username = s.username"
        " WHERE s.token_hash = ? AND s.expires_ms > ?"
        " AND ((s.key_id IS NOT NULL AND k.revoked_ms IS NULL AND k.role = s.role)"
        " OR (s.username IS NOT NULL AND u.role = s.role))",
        (token_hash, now_ms()),
    )
    return rows[0] if rows else None


def delete_session(store: Store, token_hash: str) -> None:
    store.execute("DELETE FROM sessions WHERE token_hash = ? OR expires_ms < ?", (token_hash, now_ms()))


def decode_features(store: Store, stored: Sequence[tuple[Any, str | None]]) -> list[dict[str, Any]]:
    """Feature dicts from stored ``(features, feature_layout)`` pairs, in order
    (:func:`pesaguard.store.decision_record.decode_features` with the store's layouts)."""
    return record.decode_features(stored, layout_names(store, {lay for _, lay in stored if lay is not None}))


def _decode_rows(store: Store, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Decode the ``features`` (+ ``feature_layout``, removed) of query rows in place."""
    feats = decode_features(store, [(r["features"], r.pop("feature_layout")) for r in rows])
    for r, f in zip(rows, feats, strict=True):
        r["features"] = f
    return rows


_loads = record.decode_json


# -- decisions --------------------------------------------------------------------------------

DECISION_COLUMNS = record.DECISION_COLUMNS
_STORED_COLUMNS = record.COLUMNS
decision_row = record.decision_row


def write_decisions(store: Store, decisions: Sequence[dict[str, Any]], transactions: Sequence[Sequence[Any]]) -> None:
    """Commit a batch of decisions, their transactions and case updates in one transaction.

    ``decisions`` are dicts as :func:`decision_row` takes them; ``transactions`` are rows in
    :data:`pesaguard.schema.TRANSACTION_COLUMNS` order. Idempotent: a decision whose ``txn_id`` is
    already stored is skipped, and so are its case updates.
    """
    rows = [decision_row(d) for d in decisions]
    with store.transaction() as cur:
        new_layouts = insert_decision_rows(store, cur, rows, transactions)
    stored(store, new_layouts)  # only once committed


def insert_decision_rows(store: Store, cur: Any, rows: Sequence[Sequence[Any]],
                         transactions: Sequence[Sequence[Any]]) -> set[str]:
    """Inside an open transaction: stored decision rows (:func:`decision_row`), their transactions
    and case updates, skipping decisions already stored. Returns the feature layouts it inserted,
    which the caller adds to ``_STORED_LAYOUTS`` once the transaction has committed."""
    from pesaguard.schema import TRANSACTION_COLUMNS

    new_layouts = insert_new_layouts(store, cur, {r[record.LAYOUT] for r in rows})
    store.executemany_in(cur, store.insert_ignore("transactions", TRANSACTION_COLUMNS, ("txn_id",)), transactions)
    insert = store.sql(store.insert_ignore("decisions", _STORED_COLUMNS, ("txn_id",)))
    for row in rows:
        cur.execute(insert, row)
        if cur.rowcount == 1 and row[record.ACTION] != "allow":
            _open_or_update_case(store, cur, row)
    return new_layouts


def _open_or_update_case(store: Store, cur: Any, row: Sequence[Any]) -> None:
    d = dict(zip(_STORED_COLUMNS, row, strict=True))
    reasons = json.loads(d["reasons"])
    cur.execute(store.sql("SELECT case_id, max_score FROM cases WHERE account_id = ? AND status = 'open'"),
                (d["account_id"],))
    found = cur.fetchone()
    reason = reasons[0] if reasons else None
    if found is None:
        case_id = "c_" + d["decision_id"][2:]
        cur.execute(store.sql(
            "INSERT INTO cases (case_id, account_id, status, opened_ms, updated_ms, max_score, worst_action,"
            " top_reason, max_amount, n_alerts) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, 1)"),
            (case_id, d["account_id"], d["created_ms"], d["created_ms"], d["score"], d["action"], reason,
             d["amount_minor"]))
    else:
        case_id = found[0]
        cur.execute(store.sql(
            "UPDATE cases SET updated_ms = ?, n_alerts = n_alerts + 1,"
            " top_reason = CASE WHEN ? > max_score THEN ? ELSE top_reason END,"
            " max_score = CASE WHEN ? > max_score THEN ? ELSE max_score END,"
            " max_amount = CASE WHEN ? > max_amount THEN ? ELSE max_amount END,"
            " worst_action = CASE WHEN ? = 'block' THEN 'block' ELSE worst_action END WHERE case_id = ?"),
            (d["created_ms"], d["score"], reason, d["score"], d["score"], d["amount_minor"], d["amount_minor"],
             d["action"], case_id))
    cur.execute(store.sql(store.insert_ignore("case_decisions", ("case_id", "decision_id"),
                                              ("case_id", "decision_id"))), (case_id, d["decision_id"]))


# -- the decision journal's ingestion (pesaguard.decisions.journal) ---------------------------


def write_journal_batch(store: Store, rows: Sequence[Sequence[Any]], transactions: Sequence[Sequence[Any]],
                        layouts: Mapping[str, tuple[str, ...]], segment: str, offset: int) -> None:
    """Store decision rows read from a journal segment and record, in the same transaction, that the
    segment is ingested up to byte ``offset``: a crash between the two cannot happen, so no record is
    stored twice or skipped. ``layouts`` names the feature layouts the rows use."""
    for names in layouts.values():
        feature_layout(names)  # registers id -> names for _store_layouts
    with store.transaction() as cur:
        new_layouts = insert_decision_rows(store, cur, rows, transactions) if rows else set()
        cur.execute(store.sql(
            "INSERT INTO journal_progress (segment, offset_bytes, updated_ms) VALUES (?, ?, ?) "
            "ON CONFLICT (segment) DO UPDATE SET offset_bytes = excluded.offset_bytes, "
            "updated_ms = excluded.updated_ms"), (segment, offset, now_ms()))
    stored(store, new_layouts)


def journal_offset(store: Store, segment: str) -> int:
    """How far (bytes) the journal segment named ``segment`` is ingested; 0 if never."""
    value = store.scalar("SELECT offset_bytes FROM journal_progress WHERE segment = ?", (segment,))
    return int(value or 0)


def forget_journal_segment(store: Store, segment: str) -> None:
    """Drop the progress row of a segment whose file is gone (fully ingested and deleted)."""
    store.execute("DELETE FROM journal_progress WHERE segment = ?", (segment,))


def find_decision(store: Store, *, decision_id: str | None = None, txn_id: str | None = None) -> dict[str, Any] | None:
    """One stored decision by id or by transaction id (JSON columns decoded)."""
    col, value = ("decision_id", decision_id) if decision_id is not None else ("txn_id", txn_id)
    rows = store.query_dicts(f"SELECT {', '.join(_STORED_COLUMNS)} FROM decisions WHERE {col} = ?", (value,))
    return _loads(_decode_rows(store, rows)[0], ("reasons", "rule_hits")) if rows else None


def decision_hash(store: Store, txn_id: str) -> str | None:
    """The stored decision's request hash for ``txn_id``, or None. This is the idempotency check
    made on every decision, so it runs straight on this thread's connection (sqlite3 caches the
    prepared statement) without :meth:`Store.query`'s general row handling."""
    with store.guard():
        row = store.conn.execute(store.sql("SELECT request_hash FROM decisions WHERE txn_id = ?"),
                                 (txn_id,)).fetchone()
    return None if row is None else str(row[0])


def transaction_row(store: Store, txn_id: str) -> tuple[Any, ...] | None:
    """The stored transaction ``txn_id`` in :data:`pesaguard.schema.TRANSACTION_COLUMNS` order, or None."""
    from pesaguard.schema import TRANSACTION_COLUMNS

    rows = store.query(f"SELECT {', '.join(TRANSACTION_COLUMNS)} FROM transactions WHERE txn_id = ?", (txn_id,))
    return rows[0] if rows else None


def iter_known_txn_ids(store: Store, chunk: int = 100_000) -> Iterator[list[str]]:
    """Every stored ``txn_id`` (a decided transaction is stored too), in chunks, in id order (keyset
    pages on the primary key: no cursor held open across chunks)."""
    last = ""
    while True:
        ids = [r[0] for r in store.query("SELECT txn_id FROM transactions WHERE txn_id > ? ORDER BY txn_id LIMIT ?",
                                         (last, chunk))]
        if not ids:
            return
        yield ids
        last = ids[-1]


def load_decisions(store: Store, start_ms: int | None = None, end_ms: int | None = None) -> list[dict[str, Any]]:
    """Decisions with transaction time in ``[start_ms, end_ms)``, joined with their transactions."""
    from pesaguard.schema import TRANSACTION_COLUMNS

    clauses, params = [], []
    if start_ms is not None:
        clauses.append("d.ts_ms >= ?")
        params.append(start_ms)
    if end_ms is not None:
        clauses.append("d.ts_ms < ?")
        params.append(end_ms)
    where = " WHERE " + " AND ".join(clauses) if clauses else ""
    cols = ", ".join(f"t.{c}" for c in TRANSACTION_COLUMNS)
    rows = store.query_dicts(
        f"SELECT {cols}, d.decision_id, d.action, d.score, d.features, d.feature_layout, d.rule_hits FROM decisions d "
        f"JOIN transactions t ON t.txn_id = d.txn_id{where} ORDER BY d.ts_ms, d.txn_id", params)
    return [_loads(r, ("rule_hits",)) for r in _decode_rows(store, rows)]


# -- SQLite write-ahead log housekeeping (no-ops on PostgreSQL) -------------------------------


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
#: Bytes per entry assumed when sizing an index from its table's row count (measured on the bench
#: store: 23-36 bytes per entry for these four indexes, page overhead included).
_INDEX_ENTRY_BYTES = 40


def prewarm_write_indexes(store: Store, budget_bytes: int) -> list[str]:
    """Read the :data:`WRITE_PATH_INDEXES` of this thread's connection into its page cache, in order,
    while their estimated size fits in ``budget_bytes``; returns the indexes read (SQLite only).

    Why: a commit inserts one entry into each, at a random page, and on a machine that evicts file
    pages it has not touched for a few seconds (proactive reclaim, common on cloud VMs) each such
    page was a synchronous disk read on the event loop (measured: the loop thread in ``pread`` for
    up to 1.3% of samples and p99 up to 56 ms). Pages in the connection's own cache are process
    memory, which that reclaim does not take without swap. (The default cache is small, so this
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
