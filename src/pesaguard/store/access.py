"""API keys, console users and their sessions.

A key or a user's password makes a session; revoking the key, or changing the user's password or
role, ends the sessions made with it in the same transaction.
"""

from __future__ import annotations

from typing import Any

from pesaguard.store.base import Store, now_ms

__all__ = ["delete_session", "find_api_key", "find_session", "find_user", "insert_api_key", "insert_session",
           "list_api_keys", "now_ms", "revoke_api_key", "upsert_user"]


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
