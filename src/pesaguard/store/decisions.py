"""Repository for the decision area: API keys, console users and sessions, decisions and cases.

Decisions are written by the service's single writer thread in batches (group commit); every
insert is keyed by a natural id (``txn_id`` for decisions) so a replay after a crash adds nothing
twice. Cases: at most one open case per account (a partial unique index enforces it).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

import orjson

from pesaguard.store.base import Store


def now_ms() -> int:
    return int(time.time() * 1000)


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
    return store.execute(
        "UPDATE api_keys SET revoked_ms = ? WHERE key_id = ? AND revoked_ms IS NULL", (now_ms(), key_id)
    )


# -- console users and sessions ---------------------------------------------------------------


def upsert_user(store: Store, username: str, password_hash: str, role: str) -> None:
    sql = store.upsert("users", ("username", "password_hash", "role", "created_ms"), ("username",))
    store.execute(sql, (username, password_hash, role, now_ms()))


def find_user(store: Store, username: str) -> dict[str, Any] | None:
    rows = store.query_dicts("SELECT username, password_hash, role FROM users WHERE username = ?", (username,))
    return rows[0] if rows else None


def insert_session(store: Store, token_hash: str, principal: str, role: str, expires_ms: int) -> None:
    store.execute(
        "INSERT INTO sessions (token_hash, principal, role, expires_ms) VALUES (?, ?, ?, ?)",
        (token_hash, principal, role, expires_ms),
    )


def find_session(store: Store, token_hash: str) -> dict[str, Any] | None:
    rows = store.query_dicts(
        "SELECT principal, role, expires_ms FROM sessions WHERE token_hash = ? AND expires_ms > ?",
        (token_hash, now_ms()),
    )
    return rows[0] if rows else None


def delete_session(store: Store, token_hash: str) -> None:
    store.execute("DELETE FROM sessions WHERE token_hash = ? OR expires_ms < ?", (token_hash, now_ms()))


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=str)


def _dumps(value: Any) -> str:
    """The decision log's JSON: compact, key order as produced (the feature engine's order is fixed).

    orjson: the 76-value feature vector took ~95 µs with ``json.dumps`` and ~8 µs with orjson, on
    every decision. A NaN (which JSON lacks) is written as null, as the feature vector already does.
    """
    return orjson.dumps(value).decode()


def _loads(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    for k in keys:
        if isinstance(row.get(k), str):
            row[k] = json.loads(row[k])
    return row


# -- decisions --------------------------------------------------------------------------------

DECISION_COLUMNS = ("decision_id", "txn_id", "request_hash", "ts_ms", "account_id", "amount_minor", "action",
                    "score", "reasons", "rule_hits", "features", "model_version", "policy_version", "created_ms")
_JSON_COLUMNS = ("reasons", "rule_hits", "features")


def write_decisions(store: Store, decisions: Sequence[dict[str, Any]], transactions: Sequence[Sequence[Any]]) -> None:
    """Commit a batch of decisions, their transactions and case updates in one transaction.

    ``decisions`` are dicts with :data:`DECISION_COLUMNS` (JSON columns as Python values);
    ``transactions`` are rows in :data:`pesaguard.schema.TRANSACTION_COLUMNS` order. Idempotent:
    a decision whose ``txn_id`` is already stored is skipped, and so are its case updates.
    """
    from pesaguard.schema import TRANSACTION_COLUMNS

    with store.transaction() as cur:
        store.executemany_in(cur, store.insert_ignore("transactions", TRANSACTION_COLUMNS, ("txn_id",)),
                             transactions)
        insert = store.sql(store.insert_ignore("decisions", DECISION_COLUMNS, ("txn_id",)))
        for d in decisions:
            row = tuple(_dumps(d[c]) if c in _JSON_COLUMNS else d[c] for c in DECISION_COLUMNS)
            cur.execute(insert, row)
            if cur.rowcount == 1 and d["action"] != "allow":
                _open_or_update_case(store, cur, d)


def _open_or_update_case(store: Store, cur: Any, d: dict[str, Any]) -> None:
    cur.execute(store.sql("SELECT case_id, max_score FROM cases WHERE account_id = ? AND status = 'open'"),
                (d["account_id"],))
    row = cur.fetchone()
    reason = d["reasons"][0] if d["reasons"] else None
    if row is None:
        case_id = "c_" + d["decision_id"][2:]
        cur.execute(store.sql(
            "INSERT INTO cases (case_id, account_id, status, opened_ms, updated_ms, max_score, worst_action,"
            " top_reason, max_amount, n_alerts) VALUES (?, ?, 'open', ?, ?, ?, ?, ?, ?, 1)"),
            (case_id, d["account_id"], d["created_ms"], d["created_ms"], d["score"], d["action"], reason,
             d["amount_minor"]))
    else:
        case_id = row[0]
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


def find_decision(store: Store, *, decision_id: str | None = None, txn_id: str | None = None) -> dict[str, Any] | None:
    """One stored decision by id or by transaction id (JSON columns decoded)."""
    col, value = ("decision_id", decision_id) if decision_id is not None else ("txn_id", txn_id)
    rows = store.query_dicts(f"SELECT {', '.join(DECISION_COLUMNS)} FROM decisions WHERE {col} = ?", (value,))
    return _loads(rows[0], _JSON_COLUMNS) if rows else None


def decision_hashes(store: Store, txn_ids: Sequence[str]) -> dict[str, str]:
    """``txn_id -> request_hash`` for the ids that already have a decision."""
    out: dict[str, str] = {}
    for i in range(0, len(txn_ids), 900):
        chunk = list(txn_ids[i : i + 900])
        marks = ",".join("?" for _ in chunk)
        out.update(dict(store.query(f"SELECT txn_id, request_hash FROM decisions WHERE txn_id IN ({marks})", chunk)))
    return out


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
        f"SELECT {cols}, d.decision_id, d.action, d.score, d.features, d.rule_hits FROM decisions d "
        f"JOIN transactions t ON t.txn_id = d.txn_id{where} ORDER BY d.ts_ms, d.txn_id", params)
    return [_loads(r, ("features", "rule_hits")) for r in rows]


# -- SQLite write-ahead log housekeeping (no-ops on PostgreSQL) -------------------------------


def set_autocheckpoint(store: Store, pages: int) -> None:
    """Automatic WAL checkpoints for this thread's connection (0 turns them off)."""
    if store.dialect == "sqlite":
        store.conn.execute(f"PRAGMA wal_autocheckpoint={int(pages)}")


def checkpoint(store: Store) -> None:
    """A passive WAL checkpoint on this thread's connection (never blocks writers)."""
    if store.dialect == "sqlite":
        store.conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
