"""Input normalisation and the one order in which replay processes events.

Order: by timestamp; at equal timestamps labels, then account events, then SMS events, then
transactions; within a kind, input order. So a transaction sees side events stamped at its own
millisecond, and transactions sharing a millisecond see each other in input order. A label's
timestamp is ``known_at_ms``; a label known before its transaction was seen waits and is applied
right after that transaction (the online engine does the same).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pesaguard.errors import InputError

LABEL, ACCOUNT_EVENT, SMS, TXN = 0, 1, 2, 3

LABEL_COLUMNS = ("txn_id", "is_fraud", "known_at_ms")
ACCOUNT_EVENT_COLUMNS = ("account_id", "ts_ms", "kind")
SMS_COLUMNS = ("account_id", "ts_ms", "scam_type", "score")
_OPTIONAL = {"scam_type", "score"}


def require(df: pd.DataFrame, columns: tuple[str, ...], what: str) -> None:
    """Raise an InputError naming the first missing required column."""
    for c in columns:
        if c not in df.columns and c not in _OPTIONAL:
            raise InputError(
                f"{what} has no column {c!r}", field=c, hint=f"{what} needs columns {list(columns)}"
            )


def event_order(
    txn_ts: np.ndarray,
    label_ts: np.ndarray | None = None,
    account_ts: np.ndarray | None = None,
    sms_ts: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(kind, row) arrays giving the processing order of all events.

    >>> kind, row = event_order(np.array([5, 5, 1]), label_ts=np.array([5]))
    >>> kind.tolist(), row.tolist()
    ([3, 0, 3, 3], [2, 0, 0, 1])
    """
    given = ((LABEL, label_ts), (ACCOUNT_EVENT, account_ts), (SMS, sms_ts), (TXN, txn_ts))
    parts = [(k, np.asarray(a, dtype=np.int64)) for k, a in given if a is not None and len(a)]
    if not parts:
        return np.zeros(0, np.int8), np.zeros(0, np.int64)
    ts = np.concatenate([a for _, a in parts])
    kind = np.concatenate([np.full(len(a), k, np.int8) for k, a in parts])
    row = np.concatenate([np.arange(len(a), dtype=np.int64) for _, a in parts])
    o = np.lexsort((row, kind, ts))
    return kind[o], row[o]

