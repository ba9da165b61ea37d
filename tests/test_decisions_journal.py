"""The decision journal (``pesaguard.decisions.journal``): a decision is acknowledged once appended to
a local file, and an ingester copies the file into the store exactly once, in order, whatever
crashes in between. These tests drive the owner's side on an event loop and the ingester in process
(or as its real process where the test is about the process)."""

from __future__ import annotations

import asyncio
import json
import math
import os
import signal
import time
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import pesaguard.decisions.journal as journal
from pesaguard.decisions.journal import Ingester, Journal, recover
from pesaguard.errors import StoreError
from pesaguard.store import Store, journal_progress
from pesaguard.store import decision_log as repo
from pesaguard.store import decision_record as codec

T0 = 1_717_200_000_000
FEATURES = {"amount": 500.0, "payer_count_1h": np.float64(2.0), "payer_std_1h": math.nan}
_COLUMNS = codec.COLUMNS


def _row(n: int, action: str = "allow", features: dict[str, Any] | None = None) -> tuple[dict[str, Any], list[Any]]:
    txn_id = f"t{n:06d}"
    decision = {"decision_id": f"d_{n:011x}", "txn_id": txn_id, "request_hash": f"h{n}", "ts_ms": T0 + n,
                "account_id": f"C{n % 7}", "amount_minor": 500 + n, "action": action,
                "score": 0.9 if action != "allow" else 0.1, "reasons": ["large amount", "new payee"],
                "rule_hits": [{"rule": "r1", "action": action}] if action != "allow" else [],
                "features": dict(features or FEATURES), "model_version": "m1", "policy_version": "p1",
                "created_ms": T0 + n}
    return decision, [txn_id, T0 + n, f"C{n % 7}", "M1", 500 + n, "KES", "p2p"] + [None] * 8


def _journal(store: Store, tmp_path: Path, **kw: Any) -> Journal:
    return Journal(store, tmp_path / "journal", store.url, spawn=False, **kw)


async def _submit(j: Journal, rows: list[tuple[dict[str, Any], list[Any]]]) -> None:
    await asyncio.gather(*(j.submit(d, t) for d, t in rows))


def _stored(store: Store) -> list[tuple[Any, ...]]:
    return store.query(f"SELECT {', '.join(_COLUMNS)} FROM decisions ORDER BY txn_id")


def test_ingested_rows_equal_a_direct_commit_and_open_cases(store: Store, store_url: str, tmp_path: Path) -> None:
    rows = [_row(i, "review" if i % 4 == 0 else "allow") for i in range(40)]
    j = _journal(store, tmp_path)
    asyncio.run(_submit(j, rows))
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 0  # acknowledged, not copied yet
    assert j.lookup("t000003") is not None and j.pending() == 40
    assert Ingester(store, j.directory, j.owner, publish=j.progress.set).run_once() == 40
    # the same decisions committed directly, into a second store
    direct = Store(f"sqlite:///{tmp_path / 'direct.db'}")
    direct.migrate()
    repo.write_decisions(direct, [d for d, _ in rows], [t for _, t in rows])
    assert _stored(store) == _stored(direct)
    assert store.query("SELECT * FROM transactions ORDER BY txn_id") == direct.query(
        "SELECT * FROM transactions ORDER BY txn_id")
    cases = "SELECT account_id, n_alerts, max_score, worst_action, top_reason FROM cases ORDER BY account_id"
    assert store.query(cases) == direct.query(cases) and len(store.query(cases)) > 0
    assert repo.find_decision(store, txn_id="t000000")["features"] == {  # type: ignore[index]
        "amount": 500.0, "payer_count_1h": 2.0, "payer_std_1h": None}
    # the owner learns the store holds them through the shared progress word, and forgets them
    assert j.pending() == 0 and j.lookup("t000003") is None and j.caught_up()
    direct.close()
    j.close()
    assert not list(j.directory.iterdir())[1:] and not list(j.directory.glob("*.log"))


def test_each_record_is_stored_once_whatever_stops_the_ingester(store: Store, tmp_path: Path) -> None:
    j = _journal(store, tmp_path)
    asyncio.run(_submit(j, [_row(i) for i in range(10)]))
    first = Ingester(store, j.directory, j.owner)
    assert first.run_once() == 10
    assert first.run_once() == 0  # nothing new
    asyncio.run(_submit(j, [_row(i) for i in range(10, 15)]))
    # a new ingester (the old one crashed) resumes from the offset stored with the rows
    assert Ingester(store, j.directory, j.owner).run_once() == 5
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 15
    segment = next(j.directory.glob("*.log")).name
    assert journal_progress.journal_offset(store, segment) == os.path.getsize(j.directory / segment)
    # and were the progress lost, storing everything again changes nothing (writes are idempotent)
    store.execute("DELETE FROM journal_progress")
    Ingester(store, j.directory, j.owner).run_once()
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 15
    assert store.scalar("SELECT SUM(n_alerts) FROM cases") is None
    j.close()


def test_torn_and_corrupted_records_are_never_stored(store: Store, tmp_path: Path,
                                                     caplog: pytest.LogCaptureFixture) -> None:
    j = _journal(store, tmp_path)
    asyncio.run(_submit(j, [_row(0), _row(1)]))
    path = next(j.directory.glob("*.log"))
    lines = path.read_bytes().splitlines(keepends=True)  # layout record, then one line per decision
    corrupted = lines[2].replace(b'"t000001"', b'"t000009"')  # same length, checksum no longer matches
    path.write_bytes(b"".join(lines[:2]) + corrupted + lines[1][:40])  # and a torn record at the end
    ingester = Ingester(store, j.directory, j.owner)
    assert ingester.run_once() == 1  # the live segment: the torn tail may still be being written
    assert path.exists()
    rejected = [json.loads(x) for x in (j.directory / "rejected.jsonl").read_text().splitlines()]
    assert [r["error"].split(" (")[0] for r in rejected] == ["checksum or JSON does not match"]
    assert rejected[0]["segment"] == path.name and "t000009" in rejected[0]["record"]
    caplog.clear()
    assert ingester.run_once(final=True) == 0  # the owner is gone: the torn tail was never acknowledged
    assert "dropped 40 bytes of a record torn" in caplog.text and not path.exists()
    assert [r[1] for r in _stored(store)] == ["t000000"]
    os.close(j._fd)


def test_segments_rotate_and_are_deleted_once_copied(store: Store, tmp_path: Path) -> None:
    j = _journal(store, tmp_path, segment_bytes=1_000)
    for start in range(0, 30, 3):
        asyncio.run(_submit(j, [_row(i) for i in range(start, start + 3)]))
    segments = sorted(p.name for p in j.directory.glob("*.log"))
    assert len(segments) >= 5
    # every segment declares the feature layout again, so each can be read alone
    assert all(p.read_bytes().split(b" ", 1)[1].startswith(b'["L"') for p in j.directory.glob("*.log")
               if p.stat().st_size)
    assert Ingester(store, j.directory, j.owner, publish=j.progress.set).run_once() == 30
    assert [p.name for p in j.directory.glob("*.log")] == [segments[-1]]  # the live one stays
    assert {r[0] for r in store.query("SELECT segment FROM journal_progress")} <= {segments[-1]}
    assert j.pending() == 0
    j.close()


def test_recover_copies_the_journals_of_dead_owners_only(store: Store, tmp_path: Path) -> None:
    live = _journal(store, tmp_path)
    dead = _journal(store, tmp_path)
    dead.owner, live_owner = dead.owner, live.owner
    asyncio.run(_submit(live, [_row(i) for i in range(5)]))
    asyncio.run(_submit(dead, [_row(i) for i in range(5, 12)]))
    os.close(dead._fd)
    os.close(dead._lock_fd)  # as the kernel does when its process is killed
    assert recover(store, tmp_path / "journal") == 7
    assert [r[1] for r in _stored(store)] == [f"t{i:06d}" for i in range(5, 12)]
    names = {p.name for p in (tmp_path / "journal").iterdir()}
    assert not any(n.startswith(dead.owner) for n in names) and f"{live_owner}.lock" in names
    live.close()


def test_lookup_admit_and_write_failures(store: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    j = _journal(store, tmp_path, max_lag=100)
    asyncio.run(_submit(j, [_row(i) for i in range(100)]))
    assert j.lookup("t000042")[0] == "h42"  # type: ignore[index]
    with pytest.raises(StoreError, match="100 acknowledged decisions are not in the store yet"):
        j.admit()
    Ingester(store, j.directory, j.owner, publish=j.progress.set).run_once()
    j.admit()  # room again
    size = os.path.getsize(next(j.directory.glob("*.log")))
    real_write = os.write

    def half_then_full(fd: int, data: bytes) -> int:
        monkeypatch.setattr(journal.os, "write", failing)
        return real_write(fd, data[: len(data) // 2])

    def failing(fd: int, data: bytes) -> int:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(journal.os, "write", half_then_full)

    async def refused() -> None:
        with pytest.raises(StoreError, match="No space left"):
            await j.submit(*_row(500))

    asyncio.run(refused())
    assert os.path.getsize(next(j.directory.glob("*.log"))) == size  # the half-written group was cut off
    assert j.lookup("t000500") is None
    monkeypatch.setattr(journal.os, "write", real_write)
    asyncio.run(_submit(j, [_row(501)]))
    Ingester(store, j.directory, j.owner).run_once()
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 101
    j.close()


def test_the_ingester_process_catches_up_restarts_and_drains(store: Store, tmp_path: Path) -> None:
    j = Journal(store, tmp_path / "journal", store.url, max_lag=1_000_000)

    async def run() -> None:
        await _submit(j, [_row(i) for i in range(50)])
        assert await j.sync(timeout=30)
        assert store.scalar("SELECT COUNT(*) FROM decisions") == 50
        assert j._proc is not None
        j._proc.kill()  # the ingester dies; the owner restarts it (at most every 5 s)
        j._proc.wait()
        j._last_spawn -= 5
        await _submit(j, [_row(i) for i in range(50, 80)])
        j._check_ingester(force=True)
        assert await j.sync(timeout=30)
        assert j.ingester_alive()
        await _submit(j, [_row(i) for i in range(80, 90)])

    asyncio.run(run())
    j.close()  # waits for the ingester to copy the rest
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 90
    assert not list((tmp_path / "journal").iterdir())


def test_the_ingester_drains_and_exits_when_its_service_dies(store: Store, tmp_path: Path) -> None:
    """SIGUSR1, which Linux sends the ingester when its parent dies (PR_SET_PDEATHSIG) and the service
    sends when it closes; the SIGTERM a supervisor sends the whole process group is ignored."""
    j = Journal(store, tmp_path / "journal", store.url)

    async def run() -> None:
        await _submit(j, [_row(0)])
        assert await j.sync(timeout=30)  # the ingester is up
        await _submit(j, [_row(i) for i in range(1, 20)])

    asyncio.run(run())
    assert j._proc is not None
    j._proc.send_signal(signal.SIGTERM)
    time.sleep(0.2)
    assert j._proc.poll() is None
    j._proc.send_signal(journal.STOP_SIGNAL)
    assert j._proc.wait(timeout=30) == 0
    assert store.scalar("SELECT COUNT(*) FROM decisions") == 20
    j._spawn = False
    j.close()


def test_sync_gives_up_after_its_timeout_when_nothing_copies(store: Store, tmp_path: Path,
                                                             caplog: pytest.LogCaptureFixture) -> None:
    j = _journal(store, tmp_path)

    async def run() -> bool:
        await _submit(j, [_row(0)])
        t0 = time.monotonic()
        ok = await j.sync(timeout=0.2)
        assert time.monotonic() - t0 >= 0.2
        return ok

    assert asyncio.run(run()) is False
    assert "still 1 decisions behind" in caplog.text
    Ingester(store, j.directory, j.owner, publish=j.progress.set).run_once()
    j.close()


def test_an_unwritable_journal_directory_is_a_clear_error(store: Store, tmp_path: Path) -> None:
    (tmp_path / "journal").write_text("a file where the directory should be")
    with pytest.raises(StoreError, match="cannot write the decision journal under") as err:
        _journal(store, tmp_path)
    assert "writable PESAGUARD_HOME" in (err.value.hint or "")


def test_the_copying_process_starts_without_pandas() -> None:
    """The ingester is started (and restarted) in a fresh interpreter: its imports stay light (pandas
    alone took 1.3 s of CPU, which under load delayed the first copy past the read-your-writes wait)."""
    import subprocess
    import sys

    code = "import sys, pesaguard.decisions.journal; print(sorted({'pandas', 'numpy'} & set(sys.modules)))"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
