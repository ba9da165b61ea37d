"""Bulk insert of transactions into the store vs SQLAlchemy Core and pandas.to_sql, same run, same schema.

Each contender writes the same DataFrame (realistic shape: time-ordered ids, 50k accounts, balances)
into a fresh SQLite database migrated to the project's schema (primary key plus three secondary
indexes), 50k rows per transaction, with the same connection settings: the store's own
(``journal_mode=WAL`` and ``store.base.SQLITE_PRAGMAS``: ``synchronous=NORMAL``, a 64 MiB page
cache, ...) are applied to the peers' connections too, and each contender's settings are read
back and printed. The target is >= 100,000 transactions/s for
``store.core.insert_transactions``. ``_rows`` (DataFrame -> tuples) is also timed against the
``astype(object)`` conversion it replaced. With ``PESAGUARD_TEST_POSTGRES_URL`` set, the store's
insert is measured on PostgreSQL as well.

    python benchmarks/bench_store.py [--rows 500000]
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd

from pesaguard.store import Store, core
from pesaguard.store.base import SQLITE_PRAGMAS

CHUNK = 50_000


def frame(n: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    accounts = np.char.add("2547", rng.integers(10**7, 10**8, 50_000).astype(str))
    ts = 1_704_067_200_000 + np.sort(rng.integers(0, 30 * 86_400_000, n))
    df = pd.DataFrame({
        "txn_id": [f"TX{i:010d}" for i in range(n)],
        "ts_ms": ts,
        "payer": accounts[rng.integers(0, len(accounts), n)],
        "payee": accounts[rng.integers(0, len(accounts), n)],
        "amount_minor": rng.integers(100, 10**7, n),
        "currency": "KES",
        "type": np.array(["p2p", "merchant", "cash_out", "cash_in"])[rng.integers(0, 4, n)],
        "channel": "app",
        "payer_balance_before": rng.integers(0, 10**8, n),
        "payer_balance_after": rng.integers(0, 10**8, n),
    })
    return df


def _fresh(tmp: Path, name: str) -> Store:
    store = Store(f"sqlite:///{tmp / name}.db")
    store.migrate()
    return store


def timed(fn: Callable[[], object]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process): CPU time barely depends on what else the machine runs."""
    t, c = time.perf_counter(), time.process_time()
    fn()
    return time.perf_counter() - t, time.process_time() - c


#: The settings every contender runs with (the store's connections apply these; the peers get them below).
SETTINGS = ("PRAGMA journal_mode=WAL", *SQLITE_PRAGMAS)
SHOWN = ("journal_mode", "synchronous", "cache_size", "foreign_keys")


def settings_of(execute: Callable[[str], object]) -> str:
    """The connection's settings as read back, e.g. ``journal_mode=wal synchronous=1 cache_size=-65536``."""
    return " ".join(f"{p}={execute(f'PRAGMA {p}').fetchone()[0]}" for p in SHOWN)  # type: ignore[attr-defined]


def bench_pesaguard(store: Store, df: pd.DataFrame, seen: dict[str, str]) -> None:
    if store.dialect == "sqlite":
        seen["store.core.insert_transactions"] = settings_of(store.conn.execute)
    for i in range(0, len(df), CHUNK):
        core.insert_transactions(store, df.iloc[i : i + CHUNK])


def _same_settings(conn: object) -> str:
    """Apply :data:`SETTINGS` to a SQLAlchemy connection; returns them as read back."""
    for pragma in SETTINGS:
        conn.exec_driver_sql(pragma)  # type: ignore[attr-defined]
    shown = settings_of(conn.exec_driver_sql)  # type: ignore[attr-defined]
    conn.commit()  # type: ignore[attr-defined]
    return shown


def bench_sqlalchemy(path: Path, df: pd.DataFrame, seen: dict[str, str]) -> None:
    import sqlalchemy as sa
    from sqlalchemy.dialects.sqlite import insert

    engine = sa.create_engine(f"sqlite:///{path}")
    meta = sa.MetaData()
    table = sa.Table("transactions", meta, autoload_with=engine)
    stmt = insert(table).on_conflict_do_nothing(index_elements=["txn_id"])
    with engine.connect() as conn:
        seen["SQLAlchemy Core"] = _same_settings(conn)
        for i in range(0, len(df), CHUNK):
            records = df.iloc[i : i + CHUNK].to_dict("records")
            with conn.begin():
                conn.execute(stmt, records)
    engine.dispose()


def bench_to_sql(path: Path, df: pd.DataFrame, seen: dict[str, str]) -> None:
    import sqlalchemy as sa

    engine = sa.create_engine(f"sqlite:///{path}")
    with engine.connect() as conn:
        seen["pandas.to_sql"] = _same_settings(conn)
        df.to_sql("transactions", conn, if_exists="append", index=False, chunksize=CHUNK)
        conn.commit()
    engine.dispose()


def _old_rows(df: pd.DataFrame) -> list[tuple[object, ...]]:
    out = df.reindex(columns=list(core.TRANSACTION_COLUMNS))
    out = out.astype(object).where(out.notna(), None)
    return list(out.itertuples(index=False, name=None))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rows", type=int, default=500_000)
    args = ap.parse_args()
    n = args.rows
    df = frame(n)
    print(f"rows: {n:,}; schema: transactions with a primary key and 3 secondary indexes; {CHUNK:,} rows per commit")
    results: list[tuple[str, tuple[float, float]]] = []
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        t_new = timed(lambda: core._rows(df, core.TRANSACTION_COLUMNS))[1]
        t_old = timed(lambda: _old_rows(df))[1]
        print(f"DataFrame -> tuples (CPU): _rows {n / t_new:,.0f} rows/s; "
              f"astype(object)+itertuples {n / t_old:,.0f} rows/s")
        seen: dict[str, str] = {}
        print(f"load average at the start: {os.getloadavg()[0]:.1f}", flush=True)
        store = _fresh(tmp, "pesaguard")
        results.append(("store.core.insert_transactions", timed(lambda: bench_pesaguard(store, df, seen))))
        assert core.count(store, "transactions") == n
        store.close()
        _fresh(tmp, "sqlalchemy").close()
        results.append(("SQLAlchemy Core executemany (ON CONFLICT DO NOTHING)",
                        timed(lambda: bench_sqlalchemy(tmp / "sqlalchemy.db", df, seen))))
        _fresh(tmp, "to_sql").close()
        results.append(("pandas.DataFrame.to_sql (plain INSERT)",
                        timed(lambda: bench_to_sql(tmp / "to_sql.db", df, seen))))
    print(f"\nload average at the end: {os.getloadavg()[0]:.1f}")
    for who, settings in seen.items():
        print(f"settings, {who}: {settings}")
    if len(set(seen.values())) != 1:
        raise SystemExit("the contenders ran with different settings")
    print("\n| SQLite, same run | wall s | rows/s (wall) | CPU s | rows/s (CPU) |\n|---|---:|---:|---:|---:|")
    for name, (wall, cpu) in results:
        print(f"| {name} | {wall:.2f} | {n / wall:,.0f} | {cpu:.2f} | {n / cpu:,.0f} |")
    pg = os.environ.get("PESAGUARD_TEST_POSTGRES_URL")
    if pg:
        _postgres(pg, df.iloc[: min(n, 200_000)])
    wall, cpu = results[0][1]
    print(f"\ntarget >= 100,000 rows/s into SQLite: {n / wall:,.0f} wall, {n / cpu:,.0f} CPU")


def _postgres(url: str, df: pd.DataFrame) -> None:
    import psycopg

    schema = f"bench_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    try:
        sep = "&" if "?" in url else "?"
        store = Store(f"{url}{sep}options=-csearch_path%3D{schema}")
        store.migrate()
        secs = timed(lambda: bench_pesaguard(store, df, {}))[0]
        again = timed(lambda: bench_pesaguard(store, df, {}))[0]  # every row conflicts: the idempotent re-run
        store.close()
        print("\n| PostgreSQL | seconds | rows/s |\n|---|---:|---:|")
        print(f"| store.core.insert_transactions, {len(df):,} new rows | {secs:.2f} | {len(df) / secs:,.0f} |")
        print(f"| the same rows again (all conflicts) | {again:.2f} | {len(df) / again:,.0f} |")
    finally:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


if __name__ == "__main__":
    main()
