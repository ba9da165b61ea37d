"""The decision writer keeps SQLite's write-ahead log bounded under continuous commits: commits are
held briefly while a checkpoint finishes the WAL, never longer than the bound, and nothing
acknowledged is lost (``pesaguard.decisions.writer``). On PostgreSQL there is nothing to hold."""

from __future__ import annotations

import asyncio
import logging
import os
import sqlite3
import time
from typing import Any

import pytest

import pesaguard.decisions.writer as writer
from pesaguard.decisions.writer import GroupCommitter
from pesaguard.store import Store

T0 = 1_717_200_000_000
THRESHOLD = 2 << 20  # 2 MB: passed within a fraction of a second
FEATURES = {f"f{i}": i / 7 for i in range(60)}


def _row(n: int) -> tuple[dict[str, Any], list[Any]]:
    txn_id = f"t{n:08d}"
    decision = {"decision_id": f"d_{n:011x}", "txn_id": txn_id, "request_hash": "h", "ts_ms": T0 + n,
                "account_id": f"C{n % 50}", "amount_minor": 500, "action": "allow", "score": 0.1,
                "reasons": ["small amount"], "rule_hits": [], "features": FEATURES, "model_version": "m1",
                "policy_version": "p1", "created_ms": T0 + n}
    return decision, [txn_id, T0 + n, f"C{n % 50}", "M1", 500, "KES", "p2p"] + [None] * 8


class Run:
    """Commits groups of decisions back to back on an event loop, as a loaded service does."""

    def __init__(self, committer: GroupCommitter, wal: str | None) -> None:
        self.committer, self.wal = committer, wal
        self.acked: list[str] = []
        self.slowest = 0.0  # longest submit -> acknowledgement, seconds
        self.wal_peak = 0
        self.n = 0

    async def until(self, done: Any, limit_s: float, group: int = 16, pause_s: float = 0.002) -> None:
        deadline = time.monotonic() + limit_s
        while not done() and time.monotonic() < deadline:
            await asyncio.sleep(pause_s)  # a service reads and scores requests between commits
            rows = [_row(self.n + i) for i in range(group)]
            self.n += group
            t0 = time.perf_counter()
            await asyncio.gather(*(self.committer.submit(d, t) for d, t in rows))
            self.slowest = max(self.slowest, time.perf_counter() - t0)
            self.acked += [d["txn_id"] for d, _ in rows]
            if self.wal is not None and os.path.exists(self.wal):
                self.wal_peak = max(self.wal_peak, os.path.getsize(self.wal))


def _stored_once(store: Store, acked: list[str]) -> None:
    counts = dict(store.query("SELECT txn_id, COUNT(*) FROM decisions GROUP BY txn_id"))
    assert all(counts.get(t) == 1 for t in acked), "an acknowledged decision is missing or stored twice"


def test_continuous_commits_keep_the_wal_bounded_and_lose_nothing(store: Store) -> None:
    holds: list[tuple[float, bool]] = []
    committer = GroupCommitter(store, wal_reset_bytes=THRESHOLD, max_hold_s=0.5, checkpoint_interval=0.05,
                               on_wal_reset=lambda held, reset: holds.append((held, reset)))
    wal = f"{store.url[len('sqlite:///'):]}-wal" if store.dialect == "sqlite" else None
    run = Run(committer, wal)
    try:
        asyncio.run(run.until(lambda: sum(r for _, r in holds) >= 4, limit_s=20 if wal else 1))
    finally:
        committer.close()
    _stored_once(store, run.acked)
    if wal is None:  # PostgreSQL: no checkpointer, no holds
        assert committer.checkpointer is None and not holds and committer.wal_bytes() == 0
        return
    assert sum(r for _, r in holds) >= 4, f"WAL never reset: {holds}, peak {run.wal_peak} bytes"
    # four resets: at least 4x the threshold was committed, which a WAL that never restarts would hold
    assert run.wal_peak < 2 * THRESHOLD, f"WAL reached {run.wal_peak} bytes"
    assert all(held < 0.5 for held, _ in holds)


def test_a_checkpoint_that_cannot_finish_does_not_stall_commits(tmp_path: Any, monkeypatch: pytest.MonkeyPatch,
                                                                caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(writer, "RETRY_AFTER_TIMEOUT_S", 0.3)
    store = Store(f"sqlite:///{tmp_path / 'w.db'}")
    store.migrate()
    holds: list[tuple[float, bool]] = []
    committer = GroupCommitter(store, wal_reset_bytes=THRESHOLD, max_hold_s=0.05, checkpoint_interval=0.05,
                               on_wal_reset=lambda held, reset: holds.append((held, reset)))
    run = Run(committer, f"{tmp_path / 'w.db'}-wal")
    reader = sqlite3.connect(tmp_path / "w.db", isolation_level=None)
    try:
        asyncio.run(run.until(lambda: run.n >= 64, limit_s=5))
        reader.execute("BEGIN")
        reader.execute("SELECT COUNT(*) FROM decisions").fetchone()  # pins a snapshot: no checkpoint finishes
        with caplog.at_level(logging.WARNING, logger="pesaguard.decisions"):
            asyncio.run(run.until(lambda: sum(not r for _, r in holds) >= 2, limit_s=20))
        timeouts = [held for held, reset in holds if not reset]
        assert len(timeouts) >= 2 and not any(reset for _, reset in holds)
        assert "did not finish within 50 ms" in caplog.text
        # a hold ends at its bound, plus scheduling slack on a loaded machine
        assert all(0.05 <= held < 0.25 for held in timeouts) and run.slowest < 0.5
        reader.execute("COMMIT")  # the reader goes away: the next attempt resets the WAL
        asyncio.run(run.until(lambda: any(reset for _, reset in holds), limit_s=20))
        assert any(reset for _, reset in holds)
    finally:
        reader.close()
        committer.close()
    _stored_once(store, run.acked)
    store.close()


def test_prepare_warms_the_write_path_indexes_into_the_writers_own_cache(
        store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """At start-up the committing connection reads the indexes every commit inserts into at a random
    place (transaction id, payer, payee) into its page cache, as far as the cache holds them."""
    committer = GroupCommitter(store, cache_bytes=64 << 20)
    try:
        rows = [_row(n) for n in range(300)]
        asyncio.run(_commit_all(committer, rows))  # configures the connection, warms nothing
        if store.dialect != "sqlite":
            assert committer.prepare() == []
            return
        assert store.conn.execute("PRAGMA cache_size").fetchone()[0] == -(64 << 10)
        fresh = GroupCommitter(store, cache_bytes=64 << 20)  # a restart: same store, new committer
        try:
            warmed = fresh.prepare()
        finally:
            fresh.close()
        # the names SQLite gave the two txn_id constraints, then the payer and payee indexes
        assert warmed == [_autoindex(store, "decisions", "txn_id"), _autoindex(store, "transactions", "txn_id"),
                          "ix_transactions_payer", "ix_transactions_payee"]
        # a cache too small for the estimate warms what fits and says what to raise
        small = GroupCommitter(store, cache_bytes=int(300 * 40 * 2.4 / 0.8))
        with caplog.at_level(logging.INFO, logger="pesaguard.store"):
            assert small.prepare() == warmed[:2]
        small.close()
        assert "PESAGUARD_SQLITE_WRITER_CACHE_MB" in caplog.text and "ix_transactions_payer" in caplog.text
    finally:
        committer.close()


async def _commit_all(committer: GroupCommitter, rows: list[tuple[dict[str, Any], list[Any]]]) -> None:
    await asyncio.gather(*(committer.submit(d, t) for d, t in rows))


def _autoindex(store: Store, table: str, column: str) -> str:
    for _, name, _, origin, _ in store.conn.execute(f"PRAGMA index_list({table})").fetchall():
        if origin in ("pk", "u") and [r[2] for r in store.conn.execute(f"PRAGMA index_info({name})")] == [column]:
            return str(name)
    raise AssertionError(f"no unique index on {table}.{column}")
