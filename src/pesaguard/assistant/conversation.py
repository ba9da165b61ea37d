"""Conversations: the last question of each conversation id, so that a follow-up sent as a new
request (an SMS, an API call) is read with it. Questions are stored redacted (phone numbers, names,
account numbers: ``pesaguard.sms.redact``) and forgotten for follow-up purposes after
:data:`TTL_MS`."""

from __future__ import annotations

from typing import Any

from pesaguard.assistant.answering import Answer, Turn

TTL_MS = 30 * 60 * 1000  # a question asked more than 30 minutes later starts afresh


def previous_turn(store: Any, conversation_id: str, now_ms: int | None = None) -> Turn | None:
    """The conversation's last turn, if recent."""
    from pesaguard.store.assistant import last_turn

    row = last_turn(store, conversation_id, max_age_ms=TTL_MS, now_ms=now_ms)
    return Turn(question=row["question"], lang=row["lang"], chunk_id=row["chunk_id"]) if row else None


def remember(store: Any, conversation_id: str, answer: Answer, now_ms: int | None = None) -> None:
    """Store this turn as the conversation's latest (an abstention too: a rephrased question may follow)."""
    from pesaguard.sms.redact import redact
    from pesaguard.store.assistant import save_turn

    save_turn(store, conversation_id, question=redact(answer.question), lang=answer.lang, chunk_id=answer.chunk_id,
              ref=answer.ref, now_ms=now_ms)
