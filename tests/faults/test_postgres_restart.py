"""PostgreSQL restarts under load: a real server process of pesaguard on a PostgreSQL cluster of the
test's own (initdb in a temporary directory, on a free port, so the shared test server is never
disturbed), stopped and started while decisions flow.

While the database is away the service reports not-ready, store-backed requests answer 503 (never
500), and decisions are acknowledged into the journal; once it is back the service reconnects by
itself and every acknowledged decision reaches the store exactly once. A SIGTERM while it is away
stops the service within its grace period; the next start stores what the journal kept.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ci_support import missing
from service_support import txn

TESTS = Path(__file__).resolve().parents[1]
GRACE_S = 4.0
SERVER = """
import sys, uvicorn
sys.path.insert(0, {tests!r})
from service_support import TinyScorer
from pesaguard.config import Settings
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
app = create_app(Settings(home={home!r}, database_url={url!r}, shutdown_grace_s={grace}), scorer=TinyScorer())
if {make_keys}:
    print(create_key(app.state.store, "scorer"), create_key(app.state.store, "analyst"), flush=True)
uvicorn.run(app, host="127.0.0.1", port={port}, log_level="warning", timeout_graceful_shutdown=1)
"""


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
    return found[-1].parent if found else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """A throw-away PostgreSQL cluster (initdb in a temporary directory), run as the ``postgres`` OS
    user when the tests run as root (the server refuses root)."""

    def __init__(self, bin_dir: Path) -> None:
        self.bin = bin_dir
        self.port = _free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pesaguard-pg-"))
        self.data = self.dir / "data"
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.data), "-A", "trust", "-U", "pesaguard", "--no-sync", "-E", "UTF8")
        self.url = f"postgresql://pesaguard:restart-secret@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.prefix, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "log"), "-w", "-t", "60", "start",
                  "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        with_suppress = subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.data), "-m",
                                        "immediate", "stop"], capture_output=True, timeout=60)
        del with_suppress
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def cluster() -> Iterator[Cluster]:
    bin_dir = _pg_bin()
    if bin_dir is None:
        missing("PostgreSQL's server binaries (initdb, pg_ctl)", "apt-get install postgresql (.ci/run installs it)")
    c = Cluster(bin_dir)
    try:
        c.start()
        yield c
    finally:
        c.remove()


def _start(home: Path, url: str, port: int, make_keys: bool) -> tuple[subprocess.Popen[str], list[str]]:
    code = SERVER.format(tests=str(TESTS), home=str(home), url=url, grace=GRACE_S, port=port, make_keys=make_keys)
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True, start_new_session=True)
    keys = proc.stdout.readline().split() if make_keys else []  # type: ignore[union-attr]
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200:
                return proc, keys
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    proc.kill()
    raise RuntimeError("the service did not become ready")


def _wait(predicate: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():  # type: ignore[operator]
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} within {timeout:.0f} s")


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.mark.slow
def test_postgres_restarts_under_load_lose_nothing_and_are_survived(cluster: Cluster, tmp_path: Path) -> None:
    from pesaguard.store import Store

    home, port = tmp_path / "home", _free_port()
    base = f"http://127.0.0.1:{port}"
    proc, (scorer_key, analyst_key) = _start(home, cluster.url, port, make_keys=True)
    acked: dict[str, str] = {}
    statuses: dict[int, int] = {}
    lock = threading.Lock()
    stop = threading.Event()

    def client(worker: int) -> None:
        with httpx.Client(base_url=base, headers={"X-API-Key": scorer_key}, timeout=10) as c:
            i = 0
            while not stop.is_set():
                tid = f"w{worker}-{i}"
                i += 1
                try:
                    r = c.post("/v1/transactions", json=txn(tid, payer=f"C{i % 11}"))
                except httpx.HTTPError:
                    continue
                with lock:
                    statuses[r.status_code] = statuses.get(r.status_code, 0) + 1
                    if r.status_code == 200:
                        acked[tid] = r.json()["decision_id"]
                time.sleep(0.002)

    workers = [threading.Thread(target=client, args=(w,)) for w in range(3)]
    for w in workers:
        w.start()
    try:
        time.sleep(1.0)
        cluster.stop()
        during = len(acked)
        _wait(lambda: not _ready(base), 10, "readiness did not report the database gone")
        with httpx.Client(base_url=base, headers={"X-API-Key": analyst_key}, timeout=10) as c:
            label = c.post("/v1/labels", json={"txn_id": "w0-1", "label": "fraud"})
            assert label.status_code == 503, label.text  # never a 500
            assert label.json()["error"]["code"] == "store_unavailable"
            assert "restart-secret" not in label.text
        sms = {"text": "Umepokea Ksh 5,000 kutoka kwa JOHN. Tuma pesa hiyo kwa 0712345678", "to": "C1"}
        with httpx.Client(base_url=base, headers={"X-API-Key": scorer_key}, timeout=10) as c:
            checked = c.post("/v1/sms/check", json=sms)  # the ledger check and the record need the store
            assert checked.status_code == 503 and checked.json()["error"]["code"] == "store_unavailable", checked.text
        time.sleep(1.0)
        assert len(acked) > during, "decisions stopped while the journal could hold them"
        cluster.start()
        _wait(lambda: _ready(base), 30, "the service did not reconnect")
        time.sleep(0.5)
    finally:
        stop.set()
        for w in workers:
            w.join(timeout=30)
    assert statuses.get(500, 0) == 0, statuses
    with httpx.Client(base_url=base, headers={"X-API-Key": analyst_key}, timeout=30) as c:
        _wait(lambda: c.get("/v1/cases").status_code == 200, 30, "reads did not catch up")
        assert c.post("/v1/labels", json={"txn_id": "w0-1", "label": "fraud"}).status_code == 201
    with httpx.Client(base_url=base, headers={"X-API-Key": scorer_key}, timeout=30) as c:
        assert c.post("/v1/sms/check", json=sms).status_code == 200

    store = Store(cluster.url)
    stored = dict(store.query("SELECT txn_id, decision_id FROM decisions"))
    assert {t: stored.get(t) for t in acked} == acked and len(stored) == len(acked)

    # the database goes away again, and the service is told to stop meanwhile
    cluster.stop()
    _wait(lambda: not _ready(base), 10, "readiness did not report the database gone")
    with httpx.Client(base_url=base, headers={"X-API-Key": scorer_key}, timeout=10) as c:
        kept = {f"k{i}": c.post("/v1/transactions", json=txn(f"k{i}")).json()["decision_id"] for i in range(20)}
    t0 = time.monotonic()
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(timeout=GRACE_S + 10)
    took = time.monotonic() - t0
    assert took <= GRACE_S + 3, f"the service took {took:.1f} s to stop (grace {GRACE_S} s)"
    assert list((home / "journal").glob("*.log")), "the acknowledged decisions were not kept in the journal"
    cluster.start()
    proc, _ = _start(home, cluster.url, port, make_keys=False)  # copies the journal before it is ready
    try:
        stored = dict(Store(cluster.url).query("SELECT txn_id, decision_id FROM decisions"))
        assert {t: stored.get(t) for t in kept} == kept
        assert len(stored) == len(acked) + len(kept)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    print(f"\nacknowledged {len(acked)} + {len(kept)}, stored {len(stored)}, answers {statuses}, "
          f"SIGTERM to exit {took:.1f} s")
