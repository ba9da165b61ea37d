"""Load a simulator run into the operational store, in chunks, idempotently (ids come from the seed)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from pesaguard.errors import NotFoundError
from pesaguard.store import Store, core

_TABLES: tuple[tuple[str, Callable[[Store, pd.DataFrame], int]], ...] = (
    ("accounts", core.insert_accounts),
    ("account_events", core.insert_account_events),
    ("transactions", core.insert_transactions),
    ("labels", core.insert_labels),
)


#: The time column that ``until_ms`` cuts each table on (accounts are always loaded whole).
_TIME_COLUMN = {"account_events": "ts_ms", "transactions": "ts_ms", "labels": "known_at_ms"}


def ingest_run(out_dir: Path, store: Store, chunk_rows: int = 50_000,
               progress: Callable[[int], None] | None = None,
               until_ms: int | None = None) -> dict[str, dict[str, int]]:
    """Insert a run's accounts, account events, transactions and labels; returns rows read and new rows.

    SMS are not stored here: ``sms.parquet`` stays a file (storing SMS belongs to the SMS shield).
    ``progress`` is called with the number of rows handled after each chunk. With ``until_ms``, only
    what had happened (events, transactions) or was known (labels) before that time is loaded: the
    rest can then arrive live, as in the demo.
    """
    out: dict[str, dict[str, int]] = {}
    for name, insert in _TABLES:
        path = Path(out_dir) / f"{name}.parquet"
        if not path.exists():
            raise NotFoundError(f"{path} does not exist", file=path,
                                hint="run `pesaguard simulate --out DIR` first, or point at the run's directory")
        rows = new = 0
        for batch in pq.ParquetFile(path).iter_batches(batch_size=chunk_rows):
            df = batch.to_pandas()
            if until_ms is not None and name in _TIME_COLUMN:
                df = df[df[_TIME_COLUMN[name]] < until_ms]
            new += insert(store, df) if len(df) else 0
            rows += len(df)
            if progress is not None:
                progress(len(df))
        out[name] = {"rows": rows, "new": new}
    return out


def run_rows(out_dir: Path) -> int:
    """How many rows :func:`ingest_run` will read (for a progress bar)."""
    return sum(pq.ParquetFile(Path(out_dir) / f"{name}.parquet").metadata.num_rows for name, _ in _TABLES)
