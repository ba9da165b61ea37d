"""Repository functions for checked SMS: idempotent saves and scam events for account features.

Texts arrive here already redacted (``pesaguard.sms.redact``) with a salted hash; this module never
sees a raw message. Saving the same message twice keeps the first; the same ``msg_id`` with another
text is a conflict.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import pandas as pd

from pesaguard.errors import ConflictError
from pesaguard.store.base import Store
from pesaguard.store.core import _range

SMS_COLUMNS = ("msg_id", "ts_ms", "sender", "recipient", "text_redacted", "text_hash", "label", "scam_type",
               "verdict", "score", "category")
CHECK_COLUMNS = ("msg_id", "checked_ms", "model_version", "reasons", "claim_status", "claim_txn_id")
SCAM_EVENT_COLUMNS = ("account_id", "ts_ms", "scam_type", "score")


def save_checked_sms_many(store: Store, sms_rows: Sequence[Sequence[Any]], check_rows: Sequence[Sequence[Any]]) -> int:
    """Bulk form of :func:`save_checked_sms`: rows in :data:`SMS_COLUMNS` and :data:`CHECK_COLUMNS`
    order (reasons as a JSON list); one transaction; returns how many messages were new. A
    ``msg_id`` already stored (or given twice) with a different redacted text is a
    :class:`ConflictError` and nothing is saved."""
    with store.transaction() as cur:
        new = store.executemany_in(cur, store.insert_ignore("sms_messages", SMS_COLUMNS, ("msg_id",)), sms_rows)
        if new < len(sms_rows):
            _check_same_texts(store, cur, sms_rows)
        store.executemany_in(cur, store.insert_ignore("sms_checks", CHECK_COLUMNS, ("msg_id",)), check_rows)
    return new


_TEXT = SMS_COLUMNS.index("text_redacted")


def _check_same_texts(store: Store, cur: Any, sms_rows: Sequence[Sequence[Any]]) -> None:
    """Inside the saving transaction: every message id now holds the text given for it. Compared on
    the redacted text, which does not depend on the redaction salt (a rotated salt changes hashes)."""
    given: dict[str, str] = {}
    for row in sms_rows:
        msg_id, text = row[0], row[_TEXT]
        if given.setdefault(msg_id, text) != text:
            raise _conflict(msg_id)
    ids = list(given)
    for i in range(0, len(ids), 900):
        chunk = ids[i : i + 900]
        marks = ",".join("?" for _ in chunk)
        cur.execute(store.sql(f"SELECT msg_id, text_redacted FROM sms_messages WHERE msg_id IN ({marks})"), chunk)
        for msg_id, text in cur.fetchall():
            if given[msg_id] != text:
                raise _conflict(msg_id)


def _conflict(msg_id: str) -> ConflictError:
    return ConflictError(f"message {msg_id!r} is already stored with a different text", field="msg_id",
                         hint="use a new msg_id for a new message; resend the same text to check it again")


def save_checked_sms(store: Store, *, msg_id: str, ts_ms: int, sender: str, recipient: str | None,
                     text_redacted: str, text_hash: str, verdict: str, score: float, scam_type: str | None,
                     model_version: str, reasons: Sequence[str], claim_status: str,
                     claim_txn_id: str | None = None, checked_ms: int | None = None,
                     label: str | None = None, category: str | None = None) -> bool:
    """Store one checked message and its check; returns False when ``msg_id`` was already stored."""
    sms_row = (msg_id, ts_ms, sender, recipient, text_redacted, text_hash, label, scam_type, verdict, float(score),
               category)
    check_row = (msg_id, checked_ms if checked_ms is not None else ts_ms, model_version,
                 json.dumps(list(reasons), ensure_ascii=False), claim_status, claim_txn_id)
    return save_checked_sms_many(store, [sms_row], [check_row]) > 0


def load_sms(store: Store, recipient: str | None = None) -> pd.DataFrame:
    """Stored messages joined with their checks (reasons decoded), oldest first."""
    cols = ", ".join(f"m.{c}" for c in SMS_COLUMNS)
    sql = (f"SELECT {cols}, c.model_version, c.reasons, c.claim_status, c.claim_txn_id "
           "FROM sms_messages m LEFT JOIN sms_checks c ON c.msg_id = m.msg_id")
    params: tuple[Any, ...] = ()
    if recipient is not None:
        sql += " WHERE m.recipient = ?"
        params = (recipient,)
    rows = store.query(sql + " ORDER BY m.ts_ms, m.msg_id", params)
    df = pd.DataFrame.from_records(
        rows, columns=[*SMS_COLUMNS, "model_version", "reasons", "claim_status", "claim_txn_id"])
    df["reasons"] = [json.loads(r) if r else [] for r in df["reasons"]]
    return df


def scam_sms_events(store: Store, since_ms: int | None = None, until_ms: int | None = None) -> pd.DataFrame:
    """Messages judged ``scam`` that reached a known account, with ``since_ms <= ts_ms < until_ms``.

    Columns: ``account_id, ts_ms, scam_type, score``, ordered by time. A feature may use an event only
    from its ``ts_ms`` on (the time the message arrived and was checked).
    """
    where, params = _range(since_ms, until_ms)
    where = (where + " AND" if where else " WHERE") + " verdict = 'scam' AND recipient IS NOT NULL"
    rows = store.query(f"SELECT recipient, ts_ms, scam_type, score FROM sms_messages{where} ORDER BY ts_ms, msg_id",
                       params)
    df = pd.DataFrame.from_records(rows, columns=list(SCAM_EVENT_COLUMNS))
    return df.astype({"account_id": "string", "ts_ms": "int64", "scam_type": "string", "score": "float64"})
