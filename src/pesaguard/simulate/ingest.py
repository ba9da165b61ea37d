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


def ingest_run(out_dir: Path, store: Store, chunk_rows: int = 50_000,
               progress: Callable[[int], None] | None = None) -> dict[str, dict[str, int]]:
    """Insert a run's accounts, account events, transactions and labels; returns rows read and new rows.

    SMS are not stored here: ``sms.parquet`` stays a file (storing SMS belongs to the SMS shield).
    ``progress`` is called with the number of rows handled after each chunk.
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
            new += insert(store, df)
            rows += len(df)
            if progress is not None:
                progress(len(df))
        out[name] = {"rows": rows, "new": new}
    return out


def run_rows(out_dir: Path) -> int:
    """How many rows :func:`ingest_run` will read (for a progress bar)."""
    return sum(pq.ParquetFile(Path(out_dir) / f"{name}.parquet").metadata.num_rows for name, _ in _TABLES)
