"""Repository functions for the assistant: triaged messages awaiting a case, account activity for the
analyst's lookup tool, and the last turn of each conversation (for follow-up questions)."""

from __future__ import annotations

import json
import time
from typing import Any

from pesaguard.errors import ConflictError
from pesaguard.store.base import Store

TRIAGE_COLUMNS = ("message_id", "received_ms", "account_id", "channel", "lang", "text", "urgency", "sentiment",
                  "urgent_prob", "cues", "status", "created_ms")


def open_triage_case(store: Store, *, message_id: str, received_ms: int, text: str, lang: str, urgency: str,
                     sentiment: str, urgent_prob: float, cues: list[str], account_id: str | None = None,
                     channel: str | None = None) -> bool:
    """Record an urgent message (``text`` already redacted) with status 'open'; returns False if the
    same message was already there, :class:`ConflictError` if its id is stored with another text."""
    row = (message_id, received_ms, account_id, channel, lang, text, urgency, sentiment, float(urgent_prob),
           json.dumps(cues), "open", int(time.time() * 1000))
    if store.execute(store.insert_ignore("triage_messages", TRIAGE_COLUMNS, ("message_id",)), row) == 1:
        return True
    stored = store.scalar("SELECT text FROM triage_messages WHERE message_id = ?", (message_id,))
    if stored != text:
        raise ConflictError(f"message {message_id!r} was already triaged with a different text", field="message_id",
                            hint="use a new message_id for a new message; resend the same text to get its triage")
    return False


def get_triage_message(store: Store, message_id: str) -> dict[str, Any] | None:
    rows = store.query_dicts(f"SELECT {', '.join(TRIAGE_COLUMNS)} FROM triage_messages WHERE message_id = ?",
                             (message_id,))
    if not rows:
        return None
    row = rows[0]
    row["cues"] = json.loads(row["cues"])
    return row


def list_triage_messages(store: Store, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
    """Messages with ``status``, oldest first (the order a case queue should take them in)."""
    rows = store.query_dicts(f"SELECT {', '.join(TRIAGE_COLUMNS)} FROM triage_messages WHERE status = ? "
                             "ORDER BY received_ms, message_id LIMIT ?", (status, limit))
    for r in rows:
        r["cues"] = json.loads(r["cues"])
    return rows


def recent_account_activity(store: Store, account_id: str, limit: int = 20) -> dict[str, Any]:
    """The account's latest transactions (as payer or payee) with their newest label, and its events."""
    txns = store.query_dicts(
        "SELECT t.txn_id, t.ts_ms, t.payer, t.payee, t.amount_minor, t.currency, t.type, t.channel, "
        "(SELECT l.is_fraud FROM labels l WHERE l.txn_id = t.txn_id ORDER BY l.known_at_ms DESC LIMIT 1) AS is_fraud, "
        "(SELECT l.typology FROM labels l WHERE l.txn_id = t.txn_id ORDER BY l.known_at_ms DESC LIMIT 1) AS typology "
        "FROM transactions t WHERE t.payer = ? OR t.payee = ? ORDER BY t.ts_ms DESC, t.txn_id LIMIT ?",
        (account_id, account_id, limit))
    events = store.query_dicts(
        "SELECT event_id, ts_ms, kind FROM account_events WHERE account_id = ? ORDER BY ts_ms DESC LIMIT ?",
        (account_id, limit))
    return {"account_id": account_id, "transactions": txns, "events": events}


CONVERSATION_COLUMNS = ("conversation_id", "question", "lang", "chunk_id", "ref", "updated_ms")


def save_turn(store: Store, conversation_id: str, *, question: str, lang: str, chunk_id: str | None,
              ref: str | None, now_ms: int | None = None) -> None:
    """Remember the conversation's latest question (already redacted by the caller)."""
    row = (conversation_id, question, lang, chunk_id, ref, now_ms if now_ms is not None else int(time.time() * 1000))
    store.execute(store.upsert("assistant_conversations", CONVERSATION_COLUMNS, ("conversation_id",)), row)


def last_turn(store: Store, conversation_id: str, *, max_age_ms: int,
              now_ms: int | None = None) -> dict[str, Any] | None:
    """The conversation's latest question if it is younger than ``max_age_ms``."""
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    rows = store.query_dicts(f"SELECT {', '.join(CONVERSATION_COLUMNS)} FROM assistant_conversations "
                             "WHERE conversation_id = ? AND updated_ms >= ?", (conversation_id, now_ms - max_age_ms))
    return rows[0] if rows else None
