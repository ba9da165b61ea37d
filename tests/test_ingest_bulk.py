"""The SQLite bulk writer process (store.sqlite_bulk) behind ingest_file.

Large loads into a SQLite file go through a child process that binds Arrow tables (the kill -9 test
in test_ingest_crash.py runs it at full size); here the threshold is lowered so that the small files
of test_ingest.py take that path too, and the writer's own failure modes are checked.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest

from pesaguard.errors import StoreError
from pesaguard.ingest import ingest_file, pipeline
from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.store import Store, core
from pesaguard.store.sqlite_bulk import SqliteBulkWriter
from test_ingest import (
    DELAY,
    PAYSIM_ROWS,
    paysim,
    test_each_bad_input_goes_to_quarantine_with_row_and_field,
    test_generic_optional_columns_and_labels,
    test_generic_with_only_the_required_columns,
    test_gzip_and_parquet,
    test_identical_paysim_rows_are_distinct_transactions,
    test_paysim_options_start_delay_and_all_labels,
    test_paysim_sample,
    test_reingest_is_idempotent_even_under_another_name,
)

# Collected again in this module, so each runs once more through the writer process.
REUSED = (
    test_paysim_sample,
    test_paysim_options_start_delay_and_all_labels,
    test_reingest_is_idempotent_even_under_another_name,
    test_identical_paysim_rows_are_distinct_transactions,
    test_generic_with_only_the_required_columns,
    test_generic_optional_columns_and_labels,
    test_each_bad_input_goes_to_quarantine_with_row_and_field,
    test_gzip_and_parquet,
)


@pytest.fixture
def store_url(tmp_path: Path) -> Iterator[str]:
    """SQLite files only: the writer process is the SQLite path (PostgreSQL keeps its thread)."""
    yield f"sqlite:///{tmp_path / 'bulk.db'}"


@pytest.fixture(autouse=True)
def every_load_is_bulk(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(pipeline, "PROCESS_WRITER_MIN_ROWS", 0)


def test_the_writer_process_is_used(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[str] = []
    real = pipeline.SqliteBulkWriter

    def spy(path: str) -> SqliteBulkWriter:
        started.append(path)
        return real(path)

    monkeypatch.setattr(pipeline, "SqliteBulkWriter", spy)
    r = ingest_file(store, paysim(tmp_path), options=DELAY)
    assert started == [str(tmp_path / "bulk.db")]
    assert (r.read, r.accepted, r.duplicates, r.labels) == (len(PAYSIM_ROWS), len(PAYSIM_ROWS), 0, 2)


def test_without_the_adbc_driver_the_store_connection_writes(store: Store, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    def no_writer(path: str) -> SqliteBulkWriter:
        raise AssertionError("the writer process must not start without its driver")

    monkeypatch.setattr(pipeline, "bulk_writer_available", lambda: False)
    monkeypatch.setattr(pipeline, "SqliteBulkWriter", no_writer)
    r = ingest_file(store, paysim(tmp_path), options=DELAY)
    assert (r.read, r.accepted, r.labels) == (len(PAYSIM_ROWS), len(PAYSIM_ROWS), 2)


def _txns(ids: list[str], amounts: list[int]) -> pa.Table:
    n = len(ids)
    cols = {c: pa.nulls(n, pa.string()) for c in TRANSACTION_COLUMNS}
    cols |= {"txn_id": pa.array(ids), "ts_ms": pa.array([1] * n, pa.int64()), "payer": pa.array(["p"] * n),
             "payee": pa.array(["q"] * n), "amount_minor": pa.array(amounts, pa.int64()),
             "currency": pa.array(["KES"] * n)}
    return pa.table({c: cols[c] for c in TRANSACTION_COLUMNS})


def test_a_failed_job_is_rolled_back_whole_and_reported(store: Store) -> None:
    sql = store.insert_ignore("transactions", TRANSACTION_COLUMNS, ("txn_id",))
    path = store.url.removeprefix("sqlite:///")
    with SqliteBulkWriter(path) as w:
        w.send([(sql, _txns(["a", "b"], [1, 2]))])
        assert w.receive() == [2]
        w.send([(sql, _txns(["c", "a"], [3, 4])), (sql, _txns(["d"], [0]))])  # amount 0 breaks a CHECK
        with pytest.raises(StoreError, match="CHECK constraint"):
            w.receive()
        w.send([(sql, _txns(["c"], [3]))])  # the writer goes on after a failed job
        assert w.receive() == [1]
    assert sorted(r[0] for r in store.query("SELECT txn_id FROM transactions")) == ["a", "b", "c"]


def test_a_writer_that_dies_is_reported(store: Store) -> None:
    w = SqliteBulkWriter(store.url.removeprefix("sqlite:///"))
    os.kill(w._proc.pid, signal.SIGKILL)
    w._proc.wait()
    with pytest.raises(StoreError, match="exit code -9"):
        w.send([("SELECT 1", _txns(["a"], [1]))])
        w.receive()
    w.close()
    assert core.count(store, "transactions") == 0
