"""Durability: ``kill -9`` a real server process and its journal ingester under load, restart it, and
check that every acknowledged decision is stored, none twice, and retries after the restart are
idempotent. Acknowledged decisions the ingester had not copied yet are in the journal, which the
restart copies into the store before it is ready (``pesaguard.decisions.journal.recover``)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest

from pesaguard.store import Store
from service_support import txn

TESTS = Path(__file__).resolve().parent
SERVER = """
import sys, uvicorn
sys.path.insert(0, {tests!r})
from service_support import TinyScorer
from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
app = create_app(Settings(home={home!r}), scorer=TinyScorer())
if {make_key}:
    print(create_key(app.state.store, "scorer"), flush=True)
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning")
"""


def _body(tid: str) -> dict[str, object]:
    return txn(tid, payer=f"C{int(tid.split('-')[1]) % 13}")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start(home: Path, port: int, make_key: bool) -> tuple[subprocess.Popen[str], str | None]:
    code = SERVER.format(tests=str(TESTS), home=str(home), port=port, make_key=make_key)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    key = proc.stdout.readline().strip() if make_key else None  # type: ignore[union-attr]
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return proc, key
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise RuntimeError("server did not become ready")


@pytest.mark.slow
def test_kill_9_under_load_loses_no_acknowledged_decision(tmp_path: Path) -> None:
    home, port = tmp_path / "home", _free_port()
    proc, key = _start(home, port, make_key=True)
    assert key is not None
    acked: dict[str, str] = {}
    attempted: list[str] = []
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=5) as c:
            i = 0
            while not stop.is_set():
                tid = f"w{worker}-{i}"
                i += 1
                with lock:
                    attempted.append(tid)
                try:
                    r = c.post("/v1/transactions", json=_body(tid))
                except httpx.HTTPError:
                    return  # the server died mid-request: this one was never acknowledged
                if r.status_code == 200:
                    with lock:
                        acked[tid] = r.json()["decision_id"]

    workers = [threading.Thread(target=client, args=(w,)) for w in range(6)]
    for w in workers:
        w.start()
    time.sleep(2.0)
    os.killpg(proc.pid, signal.SIGKILL)  # the server and its ingester at once: no shutdown hook, no final copy
    proc.wait(timeout=10)
    stop.set()
    for w in workers:
        w.join(timeout=10)
    assert len(acked) > 100, "the load did not get going"
    journal = home / "journal"
    left = {p.name for p in journal.glob("*.log")}
    assert left, "the dead server left no journal"

    # the restart copies the journal into the store before it is ready
    proc, _ = _start(home, port, make_key=False)
    try:
        assert not left & {p.name for p in journal.glob("*.log")}, "the dead server's journal was not copied and removed"
        store = Store(f"sqlite:///{home / 'pesaguard.db'}")
        stored = dict(store.query("SELECT txn_id, decision_id FROM decisions"))
        assert {t: stored.get(t) for t in acked} == acked  # every acknowledged decision is there, unchanged
        assert (store.scalar("SELECT COUNT(*) FROM decisions")
                == store.scalar("SELECT COUNT(DISTINCT txn_id) FROM decisions"))
        assert store.scalar("SELECT COUNT(*) FROM transactions") == len(stored)
        store.close()
        # retrying everything that was attempted adds each transaction exactly once
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", headers={"X-API-Key": key}, timeout=10) as c:
            for tid in attempted:
                r = c.post("/v1/transactions", json=_body(tid))
                assert r.status_code == 200, r.text
                if tid in acked:
                    assert r.json()["decision_id"] == acked[tid]
    finally:
        proc.terminate()
        proc.wait(timeout=20)
    store = Store(f"sqlite:///{home / 'pesaguard.db'}")
    assert store.scalar("SELECT COUNT(*) FROM decisions") == len(set(attempted))
    store.close()
