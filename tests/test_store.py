"""The store suite: runs against SQLite and PostgreSQL alike."""

from __future__ import annotations

import pandas as pd
import pytest

from pesaguard.errors import ConfigError, StoreError
from pesaguard.store import Store, core


def _txns(n: int, start: int = 0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "txn_id": [f"t{i}" for i in range(start, start + n)],
            "ts_ms": [1_700_000_000_000 + i * 1000 for i in range(start, start + n)],
            "payer": [f"A{i % 7}" for i in range(start, start + n)],
            "payee": [f"B{i % 5}" for i in range(start, start + n)],
            "amount_minor": [100 + i for i in range(start, start + n)],
            "currency": ["KES"] * n,
        }
    )


def test_migrate_is_idempotent_and_versioned(store: Store) -> None:
    v = store.schema_version()
    assert v >= 1
    assert store.migrate() == v
    assert {"transactions", "labels", "accounts", "sms_messages", "quarantine"} <= set(store.tables())


def test_transactions_insert_is_idempotent(store: Store) -> None:
    assert core.insert_transactions(store, _txns(50)) == 50
    assert core.insert_transactions(store, _txns(60)) == 10  # 50 already there
    assert core.count(store, "transactions") == 60
    df = core.load_transactions(store)
    assert list(df["txn_id"][:3]) == ["t0", "t1", "t2"]
    assert df["amount_minor"].dtype.kind == "i"
    assert df["type"].isna().all()


def test_amounts_are_exact_integers(store: Store) -> None:
    big = _txns(1)
    big.loc[0, "amount_minor"] = 9_007_199_254_740_993  # > 2**53: would be rounded by a float
    core.insert_transactions(store, big)
    assert int(core.load_transactions(store)["amount_minor"].iloc[0]) == 9_007_199_254_740_993


def test_non_positive_amount_is_rejected_by_the_schema(store: Store) -> None:
    bad = _txns(1)
    bad.loc[0, "amount_minor"] = 0
    with pytest.raises(Exception, match=r"(?i)check"):
        core.insert_transactions(store, bad)
    assert core.count(store, "transactions") == 0  # the failed batch left nothing behind


def test_time_range_and_streaming(store: Store) -> None:
    core.insert_transactions(store, _txns(100))
    t0 = 1_700_000_000_000
    part = core.load_transactions(store, t0 + 10_000, t0 + 20_000)
    assert list(part["txn_id"]) == [f"t{i}" for i in range(10, 20)]
    chunks = list(core.iter_transactions(store, chunk_rows=30))
    assert [len(c) for c in chunks] == [30, 30, 30, 10]


def test_labels_respect_known_time_and_are_idempotent(store: Store) -> None:
    labels = pd.DataFrame(
        {"txn_id": ["t1", "t2", "t2"], "is_fraud": [1, 0, 1], "known_at_ms": [10, 20, 30], "source": ["victim"] * 3}
    )
    assert core.insert_labels(store, labels) == 3
    assert core.insert_labels(store, labels) == 0
    assert len(core.load_labels(store, known_before_ms=25)) == 2
    assert len(core.load_labels(store)) == 3


def test_quarantine_is_idempotent_per_source_row(store: Store) -> None:
    rows = [(3, "amount", "not a number: 'abc'", {"amount": "abc"}), (9, "time", "empty", None)]
    assert core.insert_quarantine(store, "k1", "f.csv", rows) == 2
    assert core.insert_quarantine(store, "k1", "f.csv", rows) == 0
    q = core.load_quarantine(store, "k1")
    assert list(q["row_number"]) == [3, 9]
    assert q.loc[0, "field"] == "amount"


def test_find_incoming_matches_amount_time_and_payer(store: Store) -> None:
    core.insert_transactions(store, _txns(20))
    t0 = 1_700_000_000_000
    hits = core.find_incoming(store, "B3", 103, t0 + 3000, window_ms=60_000)
    assert [h["txn_id"] for h in hits] == ["t3"]
    assert core.find_incoming(store, "B3", 103, t0 + 3000, payer="A0") == []
    assert core.find_incoming(store, "B3", 104, t0 + 3000) == []


def test_accounts_and_events_roundtrip(store: Store) -> None:
    acc = pd.DataFrame({"account_id": ["C1", "A1"], "kind": ["customer", "agent"], "region": ["Nairobi", None]})
    assert core.insert_accounts(store, acc) == 2
    assert core.insert_accounts(store, acc) == 0
    ev = pd.DataFrame({"event_id": ["e1"], "account_id": ["C1"], "ts_ms": [5], "kind": ["sim_swap"]})
    assert core.insert_account_events(store, ev) == 1
    assert core.load_account_events(store).loc[0, "kind"] == "sim_swap"
    assert set(core.load_accounts(store)["account_id"]) == {"C1", "A1"}


def test_unknown_url_names_the_setting() -> None:
    with pytest.raises(ConfigError) as exc:
        Store("mysql://nope")
    assert exc.value.setting == "PESAGUARD_DATABASE_URL"


def test_unreachable_postgres_is_a_store_error() -> None:
    s = Store("postgresql://nobody:x@127.0.0.1:1/none?connect_timeout=1")
    with pytest.raises(StoreError) as exc:
        s.migrate()
    assert exc.value.exit_code == 74 and exc.value.http_status == 503


def _index_names(store: Store) -> set[str]:
    if store.dialect == "sqlite":
        rows = store.query("SELECT name FROM sqlite_master WHERE type='index' AND tbl_name='transactions'")
    else:
        rows = store.query("SELECT indexname FROM pg_indexes WHERE tablename='transactions' "
                           "AND schemaname = current_schema()")
    return {r[0] for r in rows}


def test_dropped_secondary_indexes_are_rebuilt_by_migrate(store: Store) -> None:
    wanted = {"ix_transactions_ts", "ix_transactions_payer", "ix_transactions_payee"}
    assert wanted <= _index_names(store)
    store.drop_indexes("transactions")  # as a bulk load killed half-way would leave them
    assert not wanted & _index_names(store)
    store.migrate()
    assert wanted <= _index_names(store)


def test_bulk_load_suspends_indexes_only_for_large_loads_into_small_tables(store: Store) -> None:
    wanted = {"ix_transactions_ts", "ix_transactions_payer", "ix_transactions_payee"}
    with core.bulk_load(store, "transactions", expected_rows=10) as suspended:
        assert not suspended and wanted <= _index_names(store)
    with core.bulk_load(store, "transactions", expected_rows=core.BULK_MIN_ROWS) as suspended:
        assert suspended == (store.dialect == "sqlite")
        core.insert_transactions(store, _txns(100))
        if suspended:
            assert not wanted & _index_names(store)
    assert wanted <= _index_names(store)
    with pytest.raises(RuntimeError), core.bulk_load(store, "transactions", core.BULK_MIN_ROWS):
        raise RuntimeError("load failed")
    assert wanted <= _index_names(store)  # rebuilt on error too
    assert core.count(store, "transactions") == 100


def test_a_late_lower_numbered_migration_is_still_applied(store: Store) -> None:
    """Branches merge in any order: a version below the newest that was never applied is applied."""
    newest = store.schema_version()
    # Make 0001 "unapplied" while later versions stay recorded: forget it and remove its tables.
    store.execute("DELETE FROM schema_migrations WHERE version = 1")
    drop = "DROP TABLE IF EXISTS {} CASCADE" if store.dialect == "postgresql" else "DROP TABLE IF EXISTS {}"
    for table in ("quarantine", "transactions", "labels", "accounts", "account_events", "sms_messages",
                  "ingest_runs"):
        store.execute(drop.format(table))
    assert "quarantine" not in store.tables()
    assert store.migrate() == newest
    assert "quarantine" in store.tables()
    assert store.scalar("SELECT COUNT(*) FROM schema_migrations WHERE version = 1") == 1


def test_every_store_module_imports_first() -> None:
    """No import cycle inside the store: each module imports with no other store module loaded yet
    (the journal's copying process starts from one of them in a fresh interpreter)."""
    import subprocess
    import sys

    code = """
import importlib, pkgutil, sys
import pesaguard.store as pkg
names = [f"pesaguard.store.{m.name}" for m in pkgutil.iter_modules(pkg.__path__)]
for name in names:
    for loaded in [m for m in sys.modules if m.startswith("pesaguard.store.")]:
        del sys.modules[loaded]
    importlib.import_module(name)
print(len(names))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert int(done.stdout) >= 12


def test_a_literal_question_mark_or_percent_is_not_a_placeholder(store: Store) -> None:
    """Both dialects: ``?`` inside a string, a quoted identifier or a comment stays text, and ``%``
    is literal (psycopg reads an undoubled ``%`` as the start of a placeholder)."""
    row = store.query("SELECT '?' AS \"a?\", '50%' AS b, ? AS c -- a comment? 100%", ("x",))
    assert row == [("?", "50%", "x")]
    store.execute("INSERT INTO feature_layouts (layout_id, names, created_ms) VALUES (?, '[\"why?\", \"5%\"]', ?)",
                  ("fl_q", 1))
    assert store.query("SELECT names FROM feature_layouts WHERE layout_id = ? AND names LIKE '%?%'",
                       ("fl_q",)) == [('["why?", "5%"]',)]
