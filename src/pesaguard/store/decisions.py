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


def _loads(row: dict[str, Any], keys: Sequence[str]) -> dict[str, Any]:
    for k in keys:
        if isinstance(row.get(k), str):
            row[k] = json.loads(row[k])
    return row
