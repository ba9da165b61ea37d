"""Reliability figures for docs/benchmarks.md ("Reliability and security"): a soak at a fixed rate, kill -9
and PostgreSQL restarts under load, and the hostile inputs with their outcomes.

Run on a home prepared by ``bench_service.py`` (a simulated month stored, a champion trained on it,
later days as request bodies; prepared here if missing):

    python benchmarks/reliability.py --home DIR soak --minutes 10 --rate 2000
    python benchmarks/reliability.py --home DIR kill9 --rate 2000
    python benchmarks/reliability.py --home DIR pgrestart --rate 1000
    python benchmarks/reliability.py --home DIR hostile
    python benchmarks/reliability.py --home DIR copier-heap

Every mode starts ``pesaguard serve`` as users do and loads it with ``openloop.py`` (Poisson arrivals,
latency from each request's scheduled departure). The soak serves a policy with one review rule on the
largest amounts, so that about 1.5% of the replayed traffic is sent to review and opens or updates
cases, as an operator's alert rate would (the model alone alerts on ~0.1% of these days). What it
reports: errors, latency percentiles, the memory of the service and of the journal's copying
process over time (RSS from /proc every 10 s), and decisions acknowledged against decisions stored,
id by id. ``pgrestart`` runs the service on a PostgreSQL cluster of its own (initdb in a temporary
directory, as the ``postgres`` user when run as root) and stops and starts it under load.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import httpx
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_service as bench
import openloop

TXN_ID = re.compile(rb'^\{"txn_id":"([^"]*)"')


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class Sampler:
    """RSS of the service and of each child (the journal's copying process) every ``every`` s."""

    def __init__(self, pid: int, every: float = 10.0) -> None:
        self.pid, self.every = pid, every
        self.rows: list[tuple[float, float, float]] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.t0 = time.monotonic()

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(OSError, ValueError):
                kids = sum(rss_mb(c) for c in bench.children(self.pid))
                self.rows.append((time.monotonic() - self.t0, rss_mb(self.pid), kids))
            self._stop.wait(self.every)

    def __enter__(self) -> Sampler:
        self.t0 = time.monotonic()
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def serve(home: Path, env: dict[str, str], port: int, *extra: str) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([str(bench.PESAGUARD), "serve", "--port", str(port), *extra], env=env,
                            start_new_session=True, stdout=subprocess.DEVNULL)
    bench.wait_ready(f"http://127.0.0.1:{port}/readyz", proc)
    return proc


def scorer_key(env: dict[str, str], role: str = "scorer") -> str:
    return subprocess.run([str(bench.PESAGUARD), "-q", "keys", "create", "--role", role, "--name", "reliability"],
                          env=env, capture_output=True, text=True, check=True).stdout.split()[-1]


def openloop_run(url: str, key: str, replay: dict[str, Any], rate: int, seconds: float, prefix: str, shift: int,
                 dump: Path) -> dict[str, Any]:
    out = subprocess.run([sys.executable, str(bench.OPENLOOP), url, key, replay["path"], "--rate", str(rate),
                          "--duration", str(seconds), "--prefix", prefix, "--shift", str(shift), "--span",
                          str(replay["span_ms"]), "--dump", str(dump)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def request_ids(replay: dict[str, Any], rate: int, seconds: float, prefix: str, shift: int) -> list[str]:
    """The txn_id of every request ``openloop.py`` sent, in order (it builds them the same way)."""
    n = max(1, int(rate * seconds))
    return [TXN_ID.match(b).group(1).decode() for b in  # type: ignore[union-attr]
            openloop.bodies(Path(replay["path"]), n, prefix, shift, replay["span_ms"])]


def stored_ids(db_url: str, prefix: str) -> list[str]:
    if db_url.startswith("sqlite:///"):
        with sqlite3.connect(db_url[len("sqlite:///"):]) as c:
            return [r[0] for r in c.execute("SELECT txn_id FROM decisions WHERE txn_id >= ? AND txn_id < ?",
                                            (prefix + "-", prefix + "."))]
    import psycopg

    with psycopg.connect(db_url) as c:
        return [r[0] for r in c.execute("SELECT txn_id FROM decisions WHERE txn_id >= %s AND txn_id < %s",
                                        (prefix + "-", prefix + "."))]


def settle(db_url: str, prefix: str, quiet_s: float = 3.0, timeout: float = 120.0) -> list[str]:
    """The stored ids once their count has stopped changing for ``quiet_s`` (the journal has copied)."""
    deadline = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < deadline:
        ids = stored_ids(db_url, prefix)
        if len(ids) != last:
            last, since = len(ids), time.monotonic()
        elif time.monotonic() - since >= quiet_s:
            return ids
        time.sleep(0.5)
    return stored_ids(db_url, prefix)


def review_rule(replay: dict[str, Any], home: Path, share: float) -> Path:
    """A policy with one review rule on the largest ``share`` of the replayed amounts."""
    amounts = [json.loads(line)["amount_minor"] for line in Path(replay["path"]).read_text().splitlines()]
    cut = int(np.quantile(amounts, 1 - share))
    path = home / "bench" / "reliability_rules.yaml"
    path.write_text(f"rules:\n  - name: large_amount_review\n    when: [\"amount_minor > {cut}\"]\n"
                    f"    action: review\n    reason: amount among the largest {100 * share:.1f}% of the day\n")
    return path


def soak(home: Path, env: dict[str, str], replay: dict[str, Any], minutes: float, rate: int) -> None:
    rules = review_rule(replay, home, 0.015)
    port = bench.free_port()
    url = f"http://127.0.0.1:{port}"
    db_url = f"sqlite:///{home / 'pesaguard.db'}"
    load0 = os.getloadavg()
    proc = serve(home, env, port, "--rules", str(rules))
    key = scorer_key(env)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            warm = f"s{int(time.time())}w"
            openloop_run(url, key, replay, rate, 10, warm, bench._next_shift(home / "pesaguard.db", replay["start_ms"]),
                         Path(tmp) / "w.npz")
            prefix = f"s{int(time.time())}m"
            shift = bench._next_shift(home / "pesaguard.db", replay["start_ms"])
            seconds = minutes * 60
            with Sampler(proc.pid) as mem, bench.StallProbe(seconds + 5) as probe:
                cpu0 = bench.tree_cpu_seconds(proc.pid)
                result = openloop_run(url, key, replay, rate, seconds, prefix, shift, Path(tmp) / "soak.npz")
                cpu1 = bench.tree_cpu_seconds(proc.pid)
            dump = dict(np.load(Path(tmp) / "soak.npz"))
        ids = request_ids(replay, rate, seconds, prefix, shift)
        stored = settle(db_url, prefix)
    finally:
        bench.stop(proc)
    acked = {t for t, ok in zip(ids, dump["ok"], strict=True) if ok}
    stored_set = set(stored)
    windows = [tuple(w) for w in probe.result.get("windows", [])]
    p99_out = bench._p99_outside(dump, windows)  # type: ignore[arg-type]
    with sqlite3.connect(home / "pesaguard.db") as c:
        n, review = c.execute("SELECT COUNT(*), SUM(action = 'review') + SUM(action = 'block') FROM decisions "
                              "WHERE txn_id >= ? AND txn_id < ?", (prefix + "-", prefix + ".")).fetchone()
    answers = statuses(dump)
    first = next((r for r in mem.rows if r[0] >= 60), mem.rows[0])
    last = mem.rows[-1]
    cpu = {p: cpu1.get(p, 0) - cpu0.get(p, 0) for p in cpu1}
    print(f"\nsoak: {minutes:g} min at {rate:,}/s (Poisson), {result['requests']:,} requests, "
          f"{os.cpu_count()} cores, load average before {load0[0]:.1f}/{load0[1]:.1f}/{load0[2]:.1f}, "
          f"after {os.getloadavg()[0]:.1f}; commit {bench_commit()}\n")
    print("| requests | answered | errors | statuses | p50 ms | p90 ms | p99 ms | p99 not due in a pause | p99.9 ms "
          "| max ms | alert rate | CPU per decision: service + copier | machine stalls n / ms |")
    print("|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    print(f"| {result['requests']:,} | {result['answered']:,} | {result['errors']:,} | {answers} | "
          f"{result['p50']:.2f} | {result['p90']:.2f} | {result['p99']:.2f} | {p99_out:.2f} | {result['p999']:.2f} | "
          f"{result['max']:.0f} | {100 * (review or 0) / max(n, 1):.2f}% | "
          f"{1000 * cpu.get(proc.pid, 0) / max(result['answered'], 1):.3f} + "
          f"{1000 * sum(v for p, v in cpu.items() if p != proc.pid) / max(result['answered'], 1):.3f} ms | "
          f"{probe.result.get('stalls')} / {probe.result.get('stalled_ms')} |")
    print(f"\nacknowledged {len(acked):,}, stored {len(stored):,} ({len(stored_set):,} distinct); acknowledged and "
          f"not stored {len(acked - stored_set)}, stored and not acknowledged {len(stored_set - acked)}")
    print(f"memory (RSS MB) service / copier: at {first[0]:.0f} s {first[1]:.0f} / {first[2]:.0f}, at {last[0]:.0f} s "
          f"{last[1]:.0f} / {last[2]:.0f}; growth {last[1] - first[1]:+.0f} / {last[2] - first[2]:+.0f} MB")
    per_min = [r for r in mem.rows if int(r[0]) % 60 < 10]
    print("per minute (s: service/copier MB): " + ", ".join(f"{r[0]:.0f}: {r[1]:.0f}/{r[2]:.0f}" for r in per_min))


def decided(url: str, key: str) -> float:
    """Decisions the service has made so far (its /metrics counters)."""
    text = httpx.get(f"{url}/metrics", headers={"X-API-Key": key}, timeout=10).text
    return sum(float(v) for v in re.findall(r'^pesaguard_decisions_total\{action="\w+"\} ([\d.e+]+)$', text, re.M))


def statuses(dump: dict[str, Any]) -> dict[int, int]:
    """Answers by HTTP status (0: none, the connection was lost)."""
    return {int(s): int((dump["status"] == s).sum()) for s in np.unique(dump["status"])}


def bench_commit() -> str:
    with contextlib.suppress(Exception):
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=bench.ROOT, capture_output=True, text=True,
                              check=True).stdout.strip()
    return "?"


def kill9(home: Path, env: dict[str, str], replay: dict[str, Any], rate: int, seconds: float = 30,
          kill_at: float = 12) -> None:
    port = bench.free_port()
    url = f"http://127.0.0.1:{port}"
    db_url = f"sqlite:///{home / 'pesaguard.db'}"
    proc = serve(home, env, port)
    key = scorer_key(env)
    prefix = f"k{int(time.time())}"
    shift = bench._next_shift(home / "pesaguard.db", replay["start_ms"])
    with tempfile.TemporaryDirectory() as tmp:
        dump_path = Path(tmp) / "k.npz"
        def kill_when_loaded() -> None:
            # kill_at seconds into the load, counted from the first decision (building the requests takes a
            # while), or once rate * kill_at decisions are made
            first = None
            while True:
                n = decided(url, key)
                first = first or (time.monotonic() if n > 0 else None)
                if n >= rate * kill_at or (first is not None and time.monotonic() - first >= kill_at):
                    break
                time.sleep(0.2)
            os.killpg(proc.pid, signal.SIGKILL)

        killer = threading.Thread(target=kill_when_loaded, daemon=True)
        killer.start()
        result = openloop_run(url, key, replay, rate, seconds, prefix, shift, dump_path)
        proc.wait()
        dump = dict(np.load(dump_path))
    left = sorted(p.name for p in (home / "journal").glob("*.log"))
    t0 = time.monotonic()
    proc = serve(home, env, port)  # copies the dead service's journal before it is ready
    restart_s = time.monotonic() - t0
    try:
        ids = request_ids(replay, rate, seconds, prefix, shift)
        stored = stored_ids(db_url, prefix)
        acked = {t for t, ok in zip(ids, dump["ok"], strict=True) if ok}
        sample = sorted(acked)[:: max(1, len(acked) // 500)]
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=30) as c:
            bodies = {TXN_ID.match(b).group(1).decode(): b for b in  # type: ignore[union-attr]
                      openloop.bodies(Path(replay["path"]), len(ids), prefix, shift, replay["span_ms"])}
            same = sum(c.post("/v1/transactions", content=bodies[t],
                              headers={"Content-Type": "application/json"}).status_code == 200 for t in sample)
        stored_after = stored_ids(db_url, prefix)
    finally:
        bench.stop(proc)
    print(f"\nkill -9 of the service and its copier together {kill_at:g} s into a load of {rate:,}/s: "
          f"{result['requests']:,} requests due, answers {statuses(dump)}, {len(acked):,} acknowledged, journal "
          f"segments left "
          f"{len(left)}; the restart copied them before it was ready ({restart_s:.1f} s); stored {len(stored):,} "
          f"({len(set(stored)):,} distinct); acknowledged and not stored {len(acked - set(stored))}; stored and not "
          f"acknowledged {len(set(stored) - acked)} (journaled, the answer lost with the process); "
          f"{same}/{len(sample)} acknowledged requests retried after the restart answered 200 with nothing added "
          f"({len(stored_after) - len(stored)} rows)")


class Cluster:
    """A throw-away PostgreSQL cluster in a temporary directory."""

    def __init__(self) -> None:
        found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3]))
        if not found:
            sys.exit("PostgreSQL's server binaries are not installed (apt-get install postgresql)")
        self.bin = found[-1].parent
        self.port = bench.free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="pesaguard-pg-"))
        self.prefix: list[str] = []
        if os.geteuid() == 0:
            import pwd

            user = pwd.getpwnam("postgres")
            os.chown(self.dir, user.pw_uid, user.pw_gid)
            self.prefix = ["runuser", "-u", "postgres", "--"]
        self._run("initdb", "-D", str(self.dir / "data"), "-A", "trust", "-U", "pesaguard", "--no-sync")
        self.url = f"postgresql://pesaguard:bench-secret@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run([*self.prefix, str(self.bin / tool), *args], check=True, capture_output=True, timeout=120)

    def start(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "start", "-o",
                  f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1")

    def stop(self) -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", "fast", "-w", "stop")

    def remove(self) -> None:
        subprocess.run([*self.prefix, str(self.bin / "pg_ctl"), "-D", str(self.dir / "data"), "-m", "immediate",
                        "stop"], capture_output=True)
        shutil.rmtree(self.dir, ignore_errors=True)


def model_home(home: Path) -> Path:
    """A home that shares ``home``'s trained model (linked) but has its own store and journal."""
    other = Path(tempfile.mkdtemp(prefix="pesaguard-pg-home-"))
    for entry in home.iterdir():
        if entry.name.startswith("pesaguard.db") or entry.name in ("journal", "bench"):
            continue
        (other / entry.name).symlink_to(entry)
    return other


def pgrestart(home: Path, env: dict[str, str], replay: dict[str, Any], rate: int, seconds: float = 40,
              stop_at: float = 10, down_s: float = 10, grace_s: float = 10) -> None:
    cluster = Cluster()
    cluster.start()
    home = model_home(home)
    env = env | {"PESAGUARD_HOME": str(home), "PESAGUARD_DATABASE_URL": cluster.url,
                 "PESAGUARD_SHUTDOWN_GRACE_S": str(grace_s)}
    port = bench.free_port()
    url = f"http://127.0.0.1:{port}"
    try:
        proc = serve(home, env, port)
        key = scorer_key(env)
        prefix = f"p{int(time.time())}"
        ready: list[tuple[float, int]] = []
        stop = threading.Event()
        t0 = time.monotonic()

        def watch() -> None:
            while not stop.is_set():
                try:
                    ready.append((time.monotonic() - t0, httpx.get(f"{url}/readyz", timeout=2).status_code))
                except httpx.HTTPError:
                    ready.append((time.monotonic() - t0, 0))
                stop.wait(0.25)

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        events = {}

        def outage() -> None:
            events["stop"] = time.monotonic() - t0
            cluster.stop()
            time.sleep(down_s)
            events["start"] = time.monotonic() - t0
            cluster.start()

        threading.Timer(stop_at, outage).start()
        with tempfile.TemporaryDirectory() as tmp:
            result = openloop_run(url, key, replay, rate, seconds, prefix, 0, Path(tmp) / "p.npz")
            dump = dict(np.load(Path(tmp) / "p.npz"))
        stop.set()
        watcher.join()
        ids = request_ids(replay, rate, seconds, prefix, 0)
        stored = settle(cluster.url, prefix)
        acked = {t for t, ok in zip(ids, dump["ok"], strict=True) if ok}
        answers = statuses(dump)
        gone = next((t for t, s in ready if t > events["stop"] and s != 200), float("nan"))
        back = next((t for t, s in ready if t > events["start"] and s == 200), float("nan"))
        print(f"\nPostgreSQL stopped at {events['stop']:.1f} s and started at {events['start']:.1f} s of a "
              f"{seconds:g} s load at {rate:,}/s: answers {answers}; /readyz not ready "
              f"{gone - events['stop']:.1f} s after the stop, ready again {back - events['start']:.1f} s after the "
              f"start; p99 {result['p99']:.1f} ms; acknowledged {len(acked):,}, stored {len(stored):,} "
              f"({len(set(stored)):,} distinct), acknowledged and not stored {len(acked - set(stored))}")
        # the database goes away and the service is told to stop
        with httpx.Client(base_url=url, headers={"X-API-Key": key}, timeout=10) as c:
            cluster.stop()
            body = json.loads(Path(replay["path"]).read_text().splitlines()[0])
            kept = {}
            for i in range(200):
                r = c.post("/v1/transactions", json={**body, "txn_id": f"{prefix}-down-{i}"})
                if r.status_code == 200:
                    kept[f"{prefix}-down-{i}"] = r.json()["decision_id"]
        t1 = time.monotonic()
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=120)
        took = time.monotonic() - t1
        cluster.start()
        proc = serve(home, env, port)
        bench.stop(proc)
        stored_down = [t for t in stored_ids(cluster.url, prefix) if "-down-" in t]
        print(f"SIGTERM with the database down: the service stopped in {took:.1f} s (grace {grace_s:g} s); "
              f"{len(kept)} decisions acknowledged while it was down, {len(set(stored_down) & set(kept))} stored by "
              f"the next start")
    finally:
        with contextlib.suppress(Exception):
            bench.stop(proc)
        cluster.remove()
        shutil.rmtree(home, ignore_errors=True)


HEALTH_PROBE = """
import signal, sys, time, httpx
signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
with httpx.Client() as c:
    while True:
        t = time.perf_counter()
        c.get(sys.argv[1] + "/healthz", timeout=30)
        print(round(1000 * (time.perf_counter() - t), 1), flush=True)
        time.sleep(0.02)
"""


def hostile(home: Path, env: dict[str, str], replay: dict[str, Any]) -> None:
    """Send each hostile input to a running service and print what it answered."""
    port = bench.free_port()
    url = f"http://127.0.0.1:{port}"
    proc = serve(home, env | {"PESAGUARD_LOGIN_MAX_FAILURES": "5"}, port)
    scorer, analyst, admin = scorer_key(env), scorer_key(env, "analyst"), scorer_key(env, "admin")
    # dated inside the replayed days, so that later replays (shifted past the newest stored time) stay
    # inside the accepted window
    base = json.loads(Path(replay["path"]).read_text().splitlines()[0])
    rows: list[tuple[str, str, str]] = []
    h = {"X-API-Key": scorer, "Content-Type": "application/json"}

    def post(name: str, body: Any, expect: str, headers: dict[str, str] | None = None, raw: bytes | None = None) -> None:
        t = time.perf_counter()
        r = httpx.post(f"{url}/v1/transactions", headers=headers or h, timeout=120,
                       content=raw if raw is not None else json.dumps(body).encode())
        ms = 1000 * (time.perf_counter() - t)
        code = r.json().get("error", {}).get("code", "") if r.headers.get("content-type", "").startswith(
            "application/json") and r.status_code >= 400 else ""
        rows.append((name, expect, f"{r.status_code} {code} ({ms:.0f} ms)".strip()))

    n = iter(range(10_000))
    fresh = lambda: {**base, "txn_id": f"hostile-{int(time.time())}-{next(n)}"}  # noqa: E731
    try:
        post("ts_ms = 2^62 (year 146 million)", {**fresh(), "ts_ms": 2**62}, "422")
        post("ts_ms two hours ahead", {**fresh(), "ts_ms": int(time.time() * 1000) + 7_200_000}, "422")
        post("ts_ms = 0 (1970)", {**fresh(), "ts_ms": 0}, "422")
        post("amount_minor: true", {**fresh(), "amount_minor": True}, "422")
        post('amount_minor: "1000"', {**fresh(), "amount_minor": "1000"}, "422")
        post("amount_minor: 1e3", None, "422", raw=json.dumps(fresh()).replace(
            f'"amount_minor": {base["amount_minor"]}', '"amount_minor": 1e3').encode())
        post("amount_minor: 2^63", {**fresh(), "amount_minor": 2**63}, "422")
        post("amount_minor: -5", {**fresh(), "amount_minor": -5}, "422")
        post("currency XYZ", {**fresh(), "currency": "XYZ"}, "422")
        post("payer == payee (p2p)", {**fresh(), "payee": base["payer"], "type": "p2p"}, "422")
        post("txn_id with U+202E (right-to-left override)", {**fresh(), "txn_id": "T\u202e1"}, "422")
        post("txn_id with NUL", {**fresh(), "txn_id": "T\x001"}, "422")
        post("txn_id of 129 characters", {**fresh(), "txn_id": "x" * 129}, "422")
        post("unknown field", {**fresh(), "is_fraud": 0}, "422")
        post("invalid UTF-8", None, "400", raw=b'{"txn_id": "\xff\xfe"}')
        post("JSON nested 100,000 deep", None, "400", raw=b"[" * 100_000 + b"]" * 100_000)
        post("no API key, 1 MB body", None, "401", headers={"Content-Type": "application/json"}, raw=b" " * 2**20)
        post("revoked-looking key", fresh(), "401", headers={**h, "X-API-Key": "pgk_00000000_nope"})
        post("a valid transaction (control)", fresh(), "200")
        big = b'{"txn_id": "' + b"x" * (100 * 2**20) + b'"}'
        # /healthz from another process meanwhile (in this one, sending the body holds the GIL)
        probe = subprocess.Popen([sys.executable, "-c", HEALTH_PROBE, url], stdout=subprocess.PIPE, text=True)
        assert probe.stdout is not None
        before = [float(probe.stdout.readline()) for _ in range(5)]  # the probe runs (its start-up is slow)
        post("100 MB body with a valid key", None, "413", raw=big)
        time.sleep(0.3)
        probe.terminate()
        health = [float(x) for x in (probe.communicate()[0] or "").split()]
        rows[-1] = (rows[-1][0], rows[-1][1], rows[-1][2] + f"; /healthz meanwhile: {len(health)} requests, "
                    f"max {max(health or [0]):.0f} ms (before: max {max(before):.0f} ms)")
        same = fresh()
        post("a txn_id decided, then the same id with another amount", same, "200")
        post("  (the second request)", {**same, "amount_minor": same["amount_minor"] + 1}, "409")
        def call(name: str, path: str, key: str, body: dict[str, Any], expect: str) -> httpx.Response:
            r = httpx.post(f"{url}{path}", json=body, headers={"X-API-Key": key}, timeout=60)
            code = r.json().get("error", {}).get("code", "") if r.status_code >= 400 else ""
            rows.append((name, expect, f"{r.status_code} {code}".strip()))
            return r

        tid, known = f"hostile-label-{int(time.time())}", "2024-01-15T10:00:00Z"
        call("a label", "/v1/labels", analyst, {"txn_id": tid, "label": "fraud", "known_at": known}, "201")
        call("  the opposite label at the same known_at", "/v1/labels", analyst,
             {"txn_id": tid, "label": "legitimate", "known_at": known}, "409")
        call("a label known_at 9999-12-31", "/v1/labels", analyst,
             {"txn_id": tid, "label": "fraud", "known_at": "9999-12-31T23:59:59Z"}, "422")
        call("SMS check of an empty text", "/v1/sms/check", scorer, {"text": ""}, "422")
        call("SMS check of spaces only", "/v1/sms/check", scorer, {"text": "   "}, "422")
        mid = f"hostile-sms-{int(time.time())}"
        call("an SMS msg_id", "/v1/sms/check", scorer, {"text": "Umepokea Ksh 500 kutoka JOHN", "to": "C1",
                                                        "msg_id": mid}, "200")
        call("  the same msg_id with another text", "/v1/sms/check", scorer,
             {"text": "Umepokea Ksh 50,000 kutoka JOHN", "to": "C1", "msg_id": mid}, "409")
        mid = f"hostile-triage-{int(time.time())}"
        secret = "nimetapeliwa, PIN yangu ni 4321, kitambulisho 23456789, nipigie 0712.345.678 haraka"
        call("triage message with a PIN, an ID number and a phone number", "/v1/messages/triage", scorer,
             {"message_id": mid, "text": secret}, "200, stored redacted")
        with sqlite3.connect(home / "pesaguard.db") as c:
            stored = c.execute("SELECT text FROM triage_messages WHERE message_id = ?", (mid,)).fetchone()
        leaked = [p for p in ("4321", "23456789", "345.678") if stored and p in stored[0]]
        rows[-1] = (rows[-1][0], rows[-1][1], rows[-1][2] + f"; stored: {stored[0] if stored else None!r}, "
                    f"digits left {leaked or 'none'}")
        call("  the same message_id with another text", "/v1/messages/triage", scorer,
             {"message_id": mid, "text": secret + " leo"}, "409")
        r = httpx.get(f"{url}/metrics", timeout=10)
        rows.append(("GET /metrics without credentials", "401", str(r.status_code)))
        for pattern in ("%", "_"):
            r = httpx.get(f"{url}/v1/cases", params={"reason": pattern}, headers={"X-API-Key": analyst}, timeout=30)
            literal = sum(pattern in (c.get("top_reason") or "") for c in r.json())
            rows.append((f"queue reason filter '{pattern}'", "literal match",
                         f"{r.status_code}, {len(r.json())} cases, {literal} with a literal '{pattern}'"))
        codes = []
        for _ in range(7):
            codes.append(httpx.post(f"{url}/console/login", data={"username": "amina", "password": "guess"},
                                    timeout=30).status_code)
        rows.append(("7 wrong console passwords for one user", "401 x5, then 429", ", ".join(map(str, codes))))
        kid = admin.split("_")[1]
        r = httpx.delete(f"{url}/v1/keys/{kid}", headers={"X-API-Key": admin}, timeout=10)
        r2 = httpx.get(f"{url}/v1/keys", headers={"X-API-Key": admin}, timeout=10)
        rows.append(("an admin key revokes itself, then is used at once", "204, then 401", f"{r.status_code}, "
                     f"{r2.status_code}"))
        r = httpx.get(f"{url}/console/login", timeout=10)
        rows.append(("console page headers", "CSP, DENY, nosniff",
                     f"{'content-security-policy' in r.headers}, {r.headers.get('x-frame-options')}, "
                     f"{r.headers.get('x-content-type-options')}"))
    finally:
        bench.stop(proc)
    print("\n| input | expected | answered (time) |\n|---|---|---|")
    for name, expect, got in rows:
        print(f"| {name} | {expect} | {got} |")


def copier_heap(steps: int = 9, per_step: int = 10_000) -> None:
    """The journal's copying path in one process under tracemalloc: decisions written to a journal, copied
    by an :class:`Ingester` into a fresh SQLite store; Python memory still held after each step."""
    import asyncio
    import gc
    import resource
    import tracemalloc

    from pesaguard.config import Settings
    from pesaguard.decisions.journal import Ingester, Journal, Progress
    from pesaguard.store import open_store, sqlite_tuning

    tmp = Path(tempfile.mkdtemp(prefix="pesaguard-heap-"))
    settings = Settings(home=tmp / "home")
    settings.ensure_home()
    store = open_store(settings)
    journal = Journal(store, tmp / "journal", store.url, spawn=False, max_lag=10**9)
    features = {f"f{i}": float(i) for i in range(40)}

    async def write(start: int, n: int) -> None:
        for k in range(start, start + n):
            d = {"decision_id": f"d_{k}", "txn_id": f"T{k}", "request_hash": "h", "ts_ms": 1_700_000_000_000 + k,
                 "account_id": f"C{k % 5000}", "amount_minor": 5 + k, "action": "review" if k % 67 == 0 else "allow",
                 "score": 0.1, "reasons": ["r"], "rule_hits": [], "features": features, "model_version": "m",
                 "policy_version": "p", "created_ms": 1}
            await journal.submit(d, [f"T{k}", d["ts_ms"], d["account_id"], f"M{k % 300}", 5 + k, "KES"] + [None] * 9)

    copier_store = open_store(settings, migrate=False)
    sqlite_tuning.set_cache_size(copier_store, 8 * 1024)  # as the copying process sets it
    ingester = Ingester(copier_store, tmp / "journal", journal.owner,
                        publish=Progress(tmp / "journal" / f"{journal.owner}.progress").set)
    tracemalloc.start()
    try:
        for step in range(steps):
            asyncio.run(write(step * per_step, per_step))
            while ingester.run_once():
                pass
            journal.pending()  # the writer forgets what the store now holds
            gc.collect()
            print(f"{(step + 1) * per_step:,} decisions copied: Python memory held "
                  f"{tracemalloc.get_traced_memory()[0] / 2**20:.1f} MB, peak RSS "
                  f"{resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB", flush=True)
    finally:
        journal.close()
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, required=True, help="a home prepared by bench_service.py (prepared if missing)")
    sub = ap.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("soak")
    s.add_argument("--minutes", type=float, default=10)
    s.add_argument("--rate", type=int, default=2000)
    k = sub.add_parser("kill9")
    k.add_argument("--rate", type=int, default=2000)
    p = sub.add_parser("pgrestart")
    p.add_argument("--rate", type=int, default=1000)
    sub.add_parser("hostile")
    sub.add_parser("copier-heap", help="the copying path's Python memory under tracemalloc (needs no --home data)")
    a = ap.parse_args()
    if a.mode == "copier-heap":
        copier_heap()
        return
    replay = bench.prepare(a.home, 5000, 30, 3)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESAGUARD_")} | {"PESAGUARD_HOME": str(a.home)}
    if a.mode == "soak":
        soak(a.home, env, replay, a.minutes, a.rate)
    elif a.mode == "kill9":
        kill9(a.home, env, replay, a.rate)
    elif a.mode == "pgrestart":
        pgrestart(a.home, env, replay, a.rate)
    else:
        hostile(a.home, env, replay)


if __name__ == "__main__":
    main()
