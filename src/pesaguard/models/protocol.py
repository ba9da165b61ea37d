"""The honest evaluation protocol: time windows, label delay and prequential folds.

Contract: a model deployed at ``test_start`` may only learn from labels known strictly before
``test_start``; transactions without such a label count as genuine, as they would in production.
Feature-side label use is the feature engine's job (it honours ``known_at_ms`` per transaction).
Windows are half-open ``[start, end)`` in UTC epoch milliseconds.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.errors import UsageError
from pesaguard.models.metrics import DAY_MS
from pesaguard.schema import to_ms


@dataclass(frozen=True)
class Window:
    """Train on ``[train_start, train_end)``, skip the delay, test on ``[test_start, test_end)``."""

    train_start: int
    train_end: int
    test_start: int
    test_end: int

    @property
    def delay_days(self) -> float:
        return (self.test_start - self.train_end) / DAY_MS

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dates(cls, train_start: date, train_end: date, delay_days: int, test_days: int) -> Window:
        """Whole UTC days; ``train_end`` is inclusive (training covers that day too)."""
        if train_end < train_start:
            raise UsageError(f"--train-end {train_end} is before --train-start {train_start}",
                             hint="give a train end on or after the train start")
        if delay_days < 0 or test_days < 1:
            raise UsageError("--delay-days must be >= 0 and --test-days >= 1",
                             hint="for example --delay-days 7 --test-days 7")
        from datetime import UTC, datetime

        start = to_ms(datetime(train_start.year, train_start.month, train_start.day, tzinfo=UTC))
        end = to_ms(datetime(train_end.year, train_end.month, train_end.day, tzinfo=UTC)) + DAY_MS
        test_start = end + delay_days * DAY_MS
        return cls(start, end, test_start, test_start + test_days * DAY_MS)


def known_labels(labels: pd.DataFrame, cutoff_ms: int | None) -> pd.Series:
    """``txn_id -> is_fraud`` from the latest label event known strictly before ``cutoff_ms``.

    ``cutoff_ms=None`` gives the final truth (every label event, whenever it became known).
    """
    if labels.empty:
        return pd.Series(dtype=int)
    lab = labels if cutoff_ms is None else labels[labels["known_at_ms"] < cutoff_ms]
    lab = lab.sort_values("known_at_ms", kind="stable").drop_duplicates("txn_id", keep="last")
    return pd.Series(lab["is_fraud"].astype(int).to_numpy(), index=lab["txn_id"].to_numpy())


def targets(txn_ids: pd.Series, labels: pd.DataFrame, cutoff_ms: int | None) -> np.ndarray:
    """0/1 target per transaction: its label as known before ``cutoff_ms``, else 0 (genuine)."""
    known = known_labels(labels, cutoff_ms)
    return txn_ids.map(known).fillna(0).to_numpy(dtype=int)


def known_fraud_accounts(transactions: pd.DataFrame, labels: pd.DataFrame) -> pd.DataFrame:
    """``payer, known_at_ms``: when each account's first fraud became known (for precision@k)."""
    fraud = labels[labels["is_fraud"].astype(int) == 1][["txn_id", "known_at_ms"]]
    merged = fraud.merge(transactions[["txn_id", "payer"]], on="txn_id", how="inner")
    return merged.groupby("payer")["known_at_ms"].min().reset_index()


def prequential_folds(window: Window, n_folds: int = 2, data_start_ms: int | None = None) -> list[Window]:
    """Validation windows shaped like ``window`` but ending inside its training period.

    Fold ``i`` tests on the ``test``-length block ending ``i`` blocks before ``train_end``, with
    the same delay before it and the same training length before that, so model choice never
    sees the test period. When the data's history (from ``data_start_ms``) is too short for that
    shape, the fold keeps the proportions but shrinks to fit (whole days, at least one each), so a
    month of data still gets a real validation fold; folds that do not fit at all are dropped.
    """
    train_len = window.train_end - window.train_start
    delay = window.test_start - window.train_end
    test_len = window.test_end - window.test_start
    if data_start_ms is not None:
        span = window.train_end - data_start_ms
        need = train_len + delay + test_len
        if span < need:
            f = span / need
            train_len, test_len = (max(DAY_MS, int(v * f) // DAY_MS * DAY_MS) for v in (train_len, test_len))
            delay = int(delay * f) // DAY_MS * DAY_MS
    folds = []
    for i in range(n_folds):
        test_end = window.train_end - i * test_len
        test_start = test_end - test_len
        train_end = test_start - delay
        train_start = train_end - train_len
        if data_start_ms is not None and train_start < data_start_ms:
            break
        folds.append(Window(train_start, train_end, test_start, test_end))
    return folds


def time_mask(ts_ms: pd.Series | np.ndarray, start: int, end: int) -> np.ndarray:
    """Boolean mask of ``start <= ts < end``."""
    ts = np.asarray(ts_ms, dtype=np.int64)
    return (ts >= start) & (ts < end)
