"""Transactions remembered for labels that arrive later, and labels waiting for their transaction.

A fraud label names a transaction; it counts for that transaction's payer and payee, so the engine keeps
``txn_id -> (ts_ms, payer row, payee row, fraud applied, labelled)`` for ``horizon``. Online transactions go to an
ordered dict; a replayed batch is kept whole as one columnar segment (its id index is built on the first
lookup), so replaying millions of rows costs no per-row Python work.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

import numpy as np
import pandas as pd


class _Segment:
    def __init__(
        self, ids: np.ndarray, ts: np.ndarray, a: np.ndarray, b: np.ndarray, applied: np.ndarray, labelled: np.ndarray
    ) -> None:
        self.ids, self.ts, self.a, self.b, self.applied, self.labelled = ids, ts, a, b, applied, labelled
        self.max_ts = int(ts.max()) if len(ts) else -(2**62)
        self._index: pd.Index | None = None

    def find(self, tid: str) -> int:
        if self._index is None:
            idx = pd.Index(self.ids)
            keep = ~idx.duplicated(keep="last")
            self._index = idx[keep]
            self._pos = np.flatnonzero(keep)
        j = self._index.get_indexer(pd.Index([tid]))[0]
        return -1 if j < 0 else int(self._pos[j])

    def state(self) -> tuple[Any, ...]:
        return (self.ids, self.ts, self.a, self.b, self.applied, self.labelled)


class TxnMemory:
    """``txn_id -> (ts_ms, payer row, payee row, fraud applied, labelled)`` for transactions after a cutoff.

    Entries are tuples of ints and bools, replaced when a label changes their flags, not lists updated
    in place: CPython stops tracking such a tuple at its first garbage collection, while a list stays
    tracked for life. The live service keeps one entry per transaction for the label horizon, and as
    lists they filled the oldest GC generation (104k lists after 45 s at 2,000 decisions/s), whose
    full collections then paused the event loop 25-55 ms and longer as it grew.
    """

    def __init__(self) -> None:
        self.recent: OrderedDict[str, tuple[int, int, int, bool, bool]] = OrderedDict()
        self.segments: list[_Segment] = []

    def __len__(self) -> int:
        return len(self.recent) + sum(len(s.ts) for s in self.segments)

    def add(self, tid: str, ts: int, a: int, b: int) -> str:
        """Remember ``tid``; returns its handle for :meth:`set_flags`."""
        self.recent.pop(tid, None)
        self.recent[tid] = (ts, a, b, False, False)
        return tid

    def add_batch(
        self, ids: np.ndarray, ts: np.ndarray, a: np.ndarray, b: np.ndarray, applied: np.ndarray, labelled: np.ndarray
    ) -> None:
        """Remember a replayed batch (rows in processing order). Later rows shadow earlier ones."""
        if len(ids):
            # the batch is newer than anything remembered online
            self._spill_recent()
            self.segments.append(_Segment(ids, ts, a, b, applied, labelled))

    def _spill_recent(self) -> None:
        if self.recent:
            items = list(self.recent.items())
            self.segments.append(
                _Segment(
                    np.array([k for k, _ in items], dtype=object),
                    np.array([v[0] for _, v in items], np.int64),
                    np.array([v[1] for _, v in items], np.int64),
                    np.array([v[2] for _, v in items], np.int64),
                    np.array([v[3] for _, v in items], np.bool_),
                    np.array([v[4] for _, v in items], np.bool_),
                )
            )
            self.recent = OrderedDict()

    def get(self, tid: str, cutoff: int) -> tuple[int, int, int, bool, bool, Any] | None:
        """(ts, payer row, payee row, applied, labelled, handle) if ``tid`` was seen after ``cutoff``."""
        entry = self.recent.get(tid)
        if entry is not None:
            return (*entry, tid) if entry[0] > cutoff else None
        for seg in reversed(self.segments):
            j = seg.find(tid)
            if j >= 0:
                if seg.ts[j] <= cutoff:
                    return None
                return (int(seg.ts[j]), int(seg.a[j]), int(seg.b[j]), bool(seg.applied[j]),
                        bool(seg.labelled[j]), (seg, j))
        return None

    def set_flags(self, handle: Any, applied: bool, labelled: bool) -> None:
        if isinstance(handle, str):
            entry = self.recent.get(handle)
            if entry is not None:  # assigning an existing key keeps its place in the eviction order
                self.recent[handle] = (entry[0], entry[1], entry[2], applied, labelled)
        else:
            seg, j = handle
            seg.applied[j], seg.labelled[j] = applied, labelled

    def evict(self, cutoff: int) -> None:
        """Forget transactions at or before ``cutoff``."""
        recent = self.recent
        while recent and next(iter(recent.values()))[0] <= cutoff:
            recent.popitem(last=False)
        self.segments = [s for s in self.segments if s.max_ts > cutoff]

    def state(self) -> dict[str, Any]:
        return {"recent": [(k, *v) for k, v in self.recent.items()], "segments": [s.state() for s in self.segments]}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> TxnMemory:
        m = cls()
        m.recent = OrderedDict((k, (t, a, b, f, lab)) for k, t, a, b, f, lab in state["recent"])
        m.segments = [_Segment(*s) for s in state["segments"]]
        return m


class PendingLabels:
    """Labels for transactions not seen yet: ``txn_id -> (is_fraud, known_at_ms)``, last label wins."""

    def __init__(self) -> None:
        self.items: OrderedDict[str, tuple[bool, int]] = OrderedDict()

    def __len__(self) -> int:
        return len(self.items)

    def put(self, tid: str, is_fraud: bool, known_at_ms: int) -> None:
        self.items.pop(tid, None)
        self.items[tid] = (is_fraud, known_at_ms)

    def pop(self, tid: str) -> tuple[bool, int] | None:
        return self.items.pop(tid, None)

    def evict(self, cutoff: int) -> None:
        items = self.items
        while items and next(iter(items.values()))[1] <= cutoff:
            items.popitem(last=False)
