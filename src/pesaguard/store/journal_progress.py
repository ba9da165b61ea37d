"""The decision journal's progress: how far each journal segment is stored (``journal_progress``),
written in the same transaction as the decisions it covers (:mod:`pesaguard.decisions.journal`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from pesaguard.store.base import Store, now_ms
from pesaguard.store.decision_log import insert_decision_rows
from pesaguard.store.feature_layouts import feature_layout, stored


def write_journal_batch(store: Store, rows: Sequence[Sequence[Any]], transactions: Sequence[Sequence[Any]],
                        layouts: Mapping[str, tuple[str, ...]], segment: str, offset: int) -> None:
    """Store decision rows read from a journal segment and record, in the same transaction, that the
    segment is ingested up to byte ``offset``: a crash between the two cannot happen, so no record is
    stored twice or skipped. ``layouts`` names the feature layouts the rows use."""
    for names in layouts.values():
        feature_layout(names)  # registers id -> names for insert_new_layouts
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
