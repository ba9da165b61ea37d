"""Decision service throughput and latency, against ``mlflow models serve`` on the same model.

Run: ``python benchmarks/bench_service.py [--home DIR] [--duration 20] [--connections 8,12]
[--rates 2000,2500] [--skip-mlflow] [--skip-floor] [--server-env PESAGUARD_X=V]``. Needs ``wrk``, and
``nginx-light`` for the floor rows (Debian packages).

Three kinds of rows: closed-loop rows from wrk (N connections, each sending its next request when
its answer arrives), fixed-rate rows from ``openloop.py`` (Poisson arrivals, latency from each
request's scheduled departure, so stalls count against every request due during them: the rows that
answer "p99 at a sustained rate"), and the same fixed-rate load on nginx answering a constant decision
(the floor this machine allows). Beside every row ``stallprobe.py`` records the machine's own stalls
(both vCPUs paused at once on the benchmark VM: 40-60 ms at a time, a few times a minute), and the
fixed-rate rows also give the p99 of the requests that were not *due* during such a pause: a request
due while nothing runs is late whatever the server, but the backlog a pause leaves is the server's to
clear, so requests due after it still count.

The service is started the way users start it (``pesaguard serve``) on loopback, and the load
comes from ``wrk`` (Debian package; C, one thread) in a separate process. Every request is a full
decision: auth, validation, idempotency check, live features, LightGBM, policy, a durable commit,
the answer.

Traffic. The main rows replay realistic traffic: the simulator runs ``days + live_days`` days of one
world (fixed seed); the first ``days`` are ingested and the model is trained on them; the later days'
transactions, which the model never saw, are written once as JSON request bodies
(``HOME/bench/live.jsonl``) that ``bench_service.lua`` cycles through, giving each request a
txn_id unique to the run and shifting timestamps forward by the live span on every cycle, so the
service's clock never goes backwards. A last row keeps the old synthetic load
(``bench_service.lua stress``: a 1,000-payer pool sending every few simulated ms, so nearly every
decision is a review or block that opens or updates a case) as the worst case. Every row prints the
alert rate (review + block share of the decisions it made, read from the store) and the server's CPU
time per decision (utime + stime of the server process from /proc over the row, divided by the
requests answered, then the same for its child processes: the decision journal's ingester, which
copies decisions into the store on the other core), the figure to compare on a shared machine, and the largest size the SQLite WAL
file reached during the row (sampled every 50 ms; it carries over from the rows before), and the
share of the row's decisions that took at most 5 and 10 ms inside the server (the service's own
latency histogram on /metrics, from the request reaching the application to its answer): next to
wrk's percentiles it tells time spent in the server from time spent waiting outside it. Repeat a
connection count (``--connections 8,8,8``) for repeated rows.

In the same run the champion model is served by ``mlflow models serve`` (its pyfunc form) and
loaded with the same wrk settings; MLflow receives precomputed feature rows, so it does strictly
less work per request. Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import re
import shutil
import signal
import socket
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

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "benchmarks" / "bench_service.lua"  # first argument: replay or stress
OPENLOOP = ROOT / "benchmarks" / "openloop.py"
PROBE = ROOT / "benchmarks" / "stallprobe.py"
PESAGUARD = Path(sys.executable).with_name("pesaguard")
MLFLOW = Path(sys.executable).with_name("mlflow")
DAY_MS = 86_400_000
SEED = 11
REPLAY = "replay: simulated days after training"
STRESS = "stress: ~all-alert traffic"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def traffic_path(home: Path) -> Path:
    return home / "bench" / "live.jsonl"


def prepare(home: Path, accounts: int, days: int, live_days: int) -> dict[str, Any]:
    """A simulated network's first ``days`` in the store, a champion model trained on them, and the
    next ``live_days`` days written as request bodies (all skipped if already there).

    Returns the replay's parameters: ``{"path", "requests", "start_ms", "span_ms"}``.
    """
    from pesaguard.config import Settings
    from pesaguard.models.registry import champion_scorer

    settings = Settings(home=home)
    path = traffic_path(home)
    meta_path = path.with_suffix(".json")
    try:
        champion_scorer(settings)
        ready = True
    except Exception:
        ready = False
    if ready and meta_path.exists():
        return json.loads(meta_path.read_text())
    if ready:
        sys.exit(f"{home} holds a trained model but no replay traffic ({path}): it was prepared by an older "
                 "version of this script; use a fresh --home")
    from pesaguard.demo_stages import simulate_and_ingest
    from pesaguard.models.data import from_store
    from pesaguard.models.pipeline import train_for_deployment
    from pesaguard.service.live_traffic import request_bodies
    from pesaguard.store import open_store

    settings.ensure_home()
    t0 = time.perf_counter()
    with open_store(settings) as store:
        world = simulate_and_ingest(settings, store, accounts=accounts, days=days, seed=SEED, live_days=live_days)
        train_for_deployment(from_store(store), settings, promote=True)
    bodies = request_bodies(world.live)  # time order; the same conversion the demo's live traffic uses
    if not bodies:
        sys.exit(f"the simulation produced no transactions after day {days}: raise --live-days")
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w") as f:
        for b in bodies:
            # txn_id and ts_ms first: bench_service.lua rewrites them per request
            f.write(json.dumps({"txn_id": b["txn_id"], "ts_ms": b["ts_ms"],
                                **{k: v for k, v in b.items() if k not in ("txn_id", "ts_ms")}},
                               separators=(",", ":")) + "\n")
    start = int(world.live["ts_ms"].min()) // DAY_MS * DAY_MS
    meta = {"path": str(path), "requests": len(bodies), "start_ms": start, "span_ms": live_days * DAY_MS}
    meta_path.write_text(json.dumps(meta, indent=1))
    print(f"prepared {home} ({accounts} accounts, {days} days stored and trained on, {live_days} more days "
          f"= {len(bodies):,} replay requests) in {time.perf_counter() - t0:.0f} s", file=sys.stderr)
    return meta


def wait_ready(url: str, proc: subprocess.Popen[bytes], timeout: float = 300) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args!r} exited with {proc.returncode}")
        try:
            if httpx.get(url, timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{url} not ready after {timeout} s")


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def children(pid: int) -> list[int]:
    """The live child processes of ``pid`` (the decision journal's ingester), from /proc."""
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").iterdir():
        with contextlib.suppress(OSError):
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


def tree_cpu_seconds(pid: int) -> dict[int, float]:
    """CPU seconds of ``pid`` and of each of its live children, by pid."""
    out = {pid: cpu_seconds(pid)}
    for c in children(pid):
        with contextlib.suppress(OSError):
            out[c] = cpu_seconds(c)
    return out


class FileSizePeak:
    """The largest size a file reaches while the ``with`` block runs, sampled every ``every`` s
    from a thread (0 if it never exists): the SQLite WAL's peak during a wrk run."""

    def __init__(self, path: Path | None, every: float = 0.05) -> None:
        self.path, self.every, self.peak = path, every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while True:
            with contextlib.suppress(OSError):  # not created yet
                self.peak = max(self.peak, self.path.stat().st_size)  # type: ignore[union-attr]
            if self._stop.wait(self.every):
                return

    def __enter__(self) -> FileSizePeak:
        if self.path is not None:
            self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        if self.path is not None:
            self._thread.join()


class StallProbe:
    """``stallprobe.py`` in its own process while the ``with`` block runs: how long the machine ran
    nothing at all (paused vCPUs) during a row; ``result`` afterwards."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.result: dict[str, Any] = {}

    def __enter__(self) -> StallProbe:
        self._proc = subprocess.Popen([sys.executable, str(PROBE), str(self.seconds)], stdout=subprocess.PIPE, text=True)
        return self

    def __exit__(self, *exc: object) -> None:
        out = self._proc.communicate(timeout=self.seconds + 60)[0]
        with contextlib.suppress(ValueError):
            self.result = json.loads(out)

    def fields(self) -> dict[str, float]:
        r = self.result
        return {"stalls": r.get("stalls", math.nan), "stalled_ms": r.get("stalled_ms", math.nan),
                "stall_max_ms": r.get("max_ms", math.nan)}


class RowMeasures:
    """What every row records beside its load generator, while the ``with`` block runs: the server's
    CPU seconds (from /proc), the WAL's peak size and the machine's stalls (``fields(requests)``)."""

    def __init__(self, seconds: float, server_pid: int | None, wal: Path | None) -> None:
        self.server_pid, self.wal = server_pid, wal
        self._peak, self._probe = FileSizePeak(wal), StallProbe(seconds)

    def __enter__(self) -> RowMeasures:
        self._cpu0 = tree_cpu_seconds(self.server_pid) if self.server_pid else {}
        self._peak.__enter__()
        self._probe.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._probe.__exit__(*exc)
        self._peak.__exit__(*exc)
        self._cpu, self._cpu_children = math.nan, math.nan
        if self.server_pid:
            after = tree_cpu_seconds(self.server_pid)
            self._cpu = after[self.server_pid] - self._cpu0[self.server_pid]
            # a child started during the row (an ingester restart) counts from zero
            self._cpu_children = sum(v - self._cpu0.get(p, 0.0) for p, v in after.items() if p != self.server_pid)

    def pause_windows(self) -> list[tuple[float, float]]:
        return [tuple(w) for w in self._probe.result.get("windows", [])]  # type: ignore[misc]

    def fields(self, requests: int) -> dict[str, float]:
        return {"cpu_ms": 1000 * self._cpu / requests if requests else math.nan,
                "cpu_children_ms": 1000 * self._cpu_children / requests if requests else math.nan,
                "wal_peak_mb": self._peak.peak / 2**20 if self.wal is not None else math.nan, **self._probe.fields()}


def run_wrk(url: str, lua: Path, connections: int, duration: int, args: list[str],
            server_pid: int | None = None, wal: Path | None = None) -> dict[str, Any]:
    with RowMeasures(duration, server_pid, wal) as measures:
        out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(lua), url,
                              "--", *args], capture_output=True, text=True, check=True).stdout
    pct = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    top = re.search(r"^\s+Latency\s+\S+\s+\S+\s+([\d.]+)(us|ms|s)", out, re.M)
    done = re.search(r"(\d+) requests in ([\d.]+)(s|m)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    assert done is not None, out
    requests = int(done.group(1))
    return {"load": f"wrk, {connections} connections (closed loop)", "connections": connections,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "requests": requests, "p50": pct["50"], "p90": pct["90"], "p99": pct["99"], "p999": math.nan,
            "max": _ms(*top.groups()) if top else math.nan,
            "errors": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0),
            **measures.fields(requests)}


def run_openloop(url: str, key: str, bodies: str, rate: int, duration: int, prefix: str, shift: int, span: int,
                 server_pid: int | None = None, wal: Path | None = None) -> dict[str, Any]:
    """One fixed-rate row (``openloop.py`` in its own process): latency from each request's scheduled
    departure, so machine or server pauses count against every request due during them."""
    with tempfile.TemporaryDirectory() as tmp, RowMeasures(duration, server_pid, wal) as measures:
        dump = Path(tmp) / "requests.npz"
        out = subprocess.run([sys.executable, str(OPENLOOP), url, key, bodies, "--rate", str(rate), "--duration",
                              str(duration), "--prefix", prefix, "--shift", str(shift), "--span", str(span),
                              "--dump", str(dump)], capture_output=True, text=True, check=True).stdout
        requests = dict(np.load(dump))
    r = json.loads(out)
    r["p99_outside_pauses"] = _p99_outside(requests, measures.pause_windows())
    return {"load": f"{rate:,}/s Poisson (open loop, {r['connections']} connections)", "connections": r["connections"],
            "rps": r["rps"], "requests": r["answered"], "p50": r["p50"], "p90": r["p90"], "p99": r["p99"],
            "p999": r["p999"], "max": r["max"], "errors": r["errors"], "send_lag_p99": r["send_lag_p99"],
            "p99_outside_pauses": r["p99_outside_pauses"],
            **measures.fields(r["answered"])}


def _p99_outside(requests: dict[str, Any], windows: list[tuple[float, float]]) -> float:
    """p99 latency of the answered requests that were not due while the machine was paused (a
    stall probe window): no server can answer those on time. Every other request counts, including
    the ones delayed by the backlog a pause leaves, which is the server's to clear."""
    due, latency = requests["due"], requests["latency_ms"]
    keep = ~np.isnan(latency)
    for start, end in windows:
        keep &= ~((due >= start) & (due <= end))
    return float(np.percentile(latency[keep], 99)) if keep.any() else math.nan


def server_latency(url: str, key: str) -> dict[float, float]:
    """The service's own latency histogram for ``POST /v1/transactions`` (``/metrics``: from the
    request reaching the application to its answer, commit included): cumulative counts by bound."""
    text = httpx.get(f"{url}/metrics", headers={"X-API-Key": key}, timeout=10).text
    return {float(le): float(n) for le, n in re.findall(
        r'^pesaguard_http_request_seconds_bucket\{le="([\d.]+)",route="/v1/transactions"\} ([\d.e+]+)$', text, re.M)}


def _in_server(before: dict[float, float], after: dict[float, float]) -> dict[str, float]:
    return {"in_server_5ms": _in_server_share(before, after, 0.005),
            "in_server_10ms": _in_server_share(before, after, 0.01)}


def _in_server_share(before: dict[float, float], after: dict[float, float], bound: float) -> float:
    """Share of the row's decisions that took at most ``bound`` seconds inside the server."""
    inf = max(after)
    total = after[inf] - before.get(inf, 0.0)
    return (after[bound] - before.get(bound, 0.0)) / total if total else math.nan


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def _next_shift(db: Path, start_ms: int) -> int:
    """The whole-day shift that puts the replay's first transaction after everything stored (the
    history, and earlier runs' traffic): time never goes backwards for the feature state."""
    with sqlite3.connect(db) as c:
        last = int(c.execute("SELECT MAX(ts_ms) FROM transactions").fetchone()[0])
    return max(0, (last - start_ms) // DAY_MS + 1) * DAY_MS


def _stress_pass(db: Path, payers: list[str]) -> int:
    """Where the stress script's payer-payee pairing starts: past every pass earlier stress runs made
    (each pass sends one transfer per payer), so its pairs are new to the feature state."""
    with sqlite3.connect(db) as c:
        n = int(c.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
    return n // len(payers) + 1


def _alert_rate(db: Path, prefix: str) -> float:
    """Share of review + block among the decisions whose txn_id starts with ``prefix``."""
    with sqlite3.connect(db) as c:
        n, alerts = c.execute("SELECT COUNT(*), SUM(action <> 'allow') FROM decisions WHERE txn_id >= ? AND txn_id < ?",
                              (prefix + "-", prefix + ".")).fetchone()  # '.' sorts right after '-'
    return (alerts or 0) / n if n else math.nan


def bench_pesaguard(home: Path, env: dict[str, str], replay: dict[str, Any], conns: list[int],
                    stress_conns: list[int], duration: int, rates: list[int],
                    label: str = "pesaguard serve") -> tuple[list[dict], dict]:
    db = home / "pesaguard.db"
    wal = db.with_name(db.name + "-wal")
    key = subprocess.run([str(PESAGUARD), "-q", "keys", "create", "--role", "scorer", "--name", "bench"], env=env,
                         capture_output=True, text=True, check=True).stdout.split()[-1]
    with sqlite3.connect(db) as con:
        payers = [r[0] for r in con.execute("SELECT account_id FROM accounts WHERE kind = 'customer' LIMIT 1000")]
        before = int(con.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
    port = free_port()
    proc = subprocess.Popen([str(PESAGUARD), "serve", "--port", str(port)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    rows = []
    sent = 0
    run = f"b{int(time.time())}"

    def replay_args(prefix: str) -> list[str]:
        shift = _next_shift(db, replay["start_ms"])
        return ["replay", key, prefix, str(shift), str(replay["span_ms"]), replay["path"]]

    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/readyz", proc)
        startup = time.perf_counter() - t0
        sent += run_wrk(url, LUA, conns[0], 3, replay_args(f"{run}w"))["requests"]  # warm-up, not reported
        for i, c in enumerate(conns):  # the row number keeps prefixes unique if a count repeats
            prefix = f"{run}r{i}c{c}"
            hist = server_latency(url, key)
            res = run_wrk(url, LUA, c, duration, replay_args(prefix), proc.pid, wal)
            rows.append({"server": label, "traffic": REPLAY, **res,
                         "alert_rate": _alert_rate(db, prefix), **_in_server(hist, server_latency(url, key))})
            sent += res["requests"]
        for i, rate in enumerate(rates):
            prefix = f"{run}o{i}r{rate}"
            hist = server_latency(url, key)
            res = run_openloop(url, key, replay["path"], rate, duration, prefix, _next_shift(db, replay["start_ms"]),
                               replay["span_ms"], proc.pid, wal)
            rows.append({"server": label, "traffic": REPLAY, **res,
                         "alert_rate": _alert_rate(db, prefix), **_in_server(hist, server_latency(url, key))})
            sent += res["requests"]
        for i, c in enumerate(stress_conns):
            prefix = f"{run}s{i}c{c}"
            base = _next_shift(db, 0)  # a day boundary after everything stored
            hist = server_latency(url, key)
            res = run_wrk(url, LUA, c, duration, ["stress", key, prefix, str(base), str(_stress_pass(db, payers)),
                                                         *payers], proc.pid, wal)
            rows.append({"server": label, "traffic": STRESS, **res,
                         "alert_rate": _alert_rate(db, prefix), **_in_server(hist, server_latency(url, key))})
            sent += res["requests"]
    finally:
        stop(proc)
    with sqlite3.connect(db) as con:
        stored = int(con.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]) - before
        dupes = int(con.execute("SELECT COUNT(*) - COUNT(DISTINCT txn_id) FROM decisions").fetchone()[0])
    return rows, {"startup_s": startup, "stored_minus_acknowledged": stored - sent, "duplicates": dupes}


def bench_mlflow(home: Path, env: dict[str, str], conns: list[int], duration: int) -> list[dict]:
    from pesaguard.config import Settings
    from pesaguard.models.registry import MODEL_NAME
    from pesaguard.store import open_store
    from pesaguard.store.decision_log import load_decisions

    settings = Settings(home=home)
    with open_store(settings) as store:  # the stored feature vector, however the store encodes it
        last = store.scalar("SELECT MAX(ts_ms) FROM decisions")
        features = load_decisions(store, start_ms=int(last))[-1]["features"]
    body = json.dumps({"dataframe_split": {"columns": list(features),
                                           "data": [[0.0 if v is None else v for v in features.values()]]}})
    lua = Path(tempfile.mkdtemp()) / "mlflow.lua"
    lua.write_text(f'wrk.method = "POST"\nwrk.headers["Content-Type"] = "application/json"\nwrk.body = {json.dumps(body)}\n')
    port = free_port()
    # mlflow starts uvicorn by name, so the venv's bin must be on PATH
    menv = {**env, "MLFLOW_TRACKING_URI": settings.resolved_mlflow_uri,
            "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"}
    proc = subprocess.Popen([str(MLFLOW), "models", "serve", "-m", f"models:/{MODEL_NAME}@champion", "-p", str(port),
                             "-h", "127.0.0.1", "--env-manager", "local", "-w", "1"], env=menv, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/ping", proc)
        run_wrk(f"{url}/invocations", lua, conns[0], 3, [])
        for c in conns:
            rows.append({"server": "mlflow models serve", "traffic": "one precomputed feature row",
                         **run_wrk(f"{url}/invocations", lua, c, duration, []),
                         "alert_rate": math.nan, "cpu_ms": math.nan})
    finally:
        stop(proc)
        shutil.rmtree(lua.parent, ignore_errors=True)
    return rows


NGINX_CONF = """worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {dir}/body;
    server {{
        listen 127.0.0.1:{port};
        location / {{
            default_type application/json;
            return 200 '{answer}';
        }}
    }}
}}
"""


def bench_floor(replay: dict[str, Any], rates: list[int], duration: int) -> list[dict]:
    """The same fixed-rate load on nginx answering every request with a constant decision: no
    parsing, scoring or storing, one C worker. What it measures is the floor this machine and
    loopback allow; pesaguard's rows cannot do better."""
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    if not Path(nginx).exists():
        print("nginx not installed (apt-get install nginx-light): no floor rows", file=sys.stderr)
        return []
    workdir = Path(tempfile.mkdtemp(prefix="pesaguard-floor-"))
    port = free_port()
    answer = json.dumps({"decision_id": "d_0", "action": "allow", "score": 0.01, "reasons": [], "rule_hits": []})
    (workdir / "nginx.conf").write_text(NGINX_CONF.format(dir=workdir, port=port, answer=answer))
    proc = subprocess.Popen([nginx, "-p", str(workdir), "-c", str(workdir / "nginx.conf"), "-e", "stderr"],
                            start_new_session=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = []
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(url, proc, timeout=30)
        for rate in rates:
            res = run_openloop(url, "-", replay["path"], rate, duration, "floor", 0, replay["span_ms"])
            rows.append({"server": "nginx, constant answer (the floor)", "traffic": "same bodies, not read", **res,
                         "alert_rate": math.nan, "cpu_ms": math.nan})
    finally:
        stop(proc)
        shutil.rmtree(workdir, ignore_errors=True)
    return rows


def _fmt(v: float, spec: str) -> str:
    return "-" if math.isnan(v) else format(v, spec)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None, help="reuse a prepared PESAGUARD_HOME (default: a temp dir)")
    ap.add_argument("--accounts", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30, help="simulated days stored and trained on")
    ap.add_argument("--live-days", type=int, default=3, help="later simulated days replayed as traffic")
    ap.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    ap.add_argument("--connections", default="8,12", help="comma-separated wrk connection counts (replay rows)")
    ap.add_argument("--stress-connections", default=None,
                    help="connection counts for the stress rows (default: the largest of --connections; "
                         "'' for none)")
    ap.add_argument("--rates", default="2000,2500",
                    help="comma-separated fixed request rates for the open-loop rows ('' for none)")
    ap.add_argument("--skip-mlflow", action="store_true")
    ap.add_argument("--skip-floor", action="store_true", help="no nginx floor rows")
    ap.add_argument("--server-env", action="append", default=[], metavar="PESAGUARD_X=VALUE",
                    help="a setting for the served pesaguard (repeatable); the caller's own PESAGUARD_* "
                         "variables are not passed on")
    ap.add_argument("--compare-env", action="append", default=[], metavar="PESAGUARD_X=VALUE",
                    help="after the pesaguard rows, the same rows again with these settings added (repeatable: "
                         "one variant), on the same store, which has grown by the first rows")
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    home = a.home or Path(tempfile.mkdtemp(prefix="pesaguard-bench-"))
    replay = prepare(home, a.accounts, a.days, a.live_days)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESAGUARD_")} | {"PESAGUARD_HOME": str(home)}
    def settings(items: list[str], flag: str) -> dict[str, str]:
        out = {}
        for item in items:
            name, sep, value = item.partition("=")
            if not sep or not name.startswith("PESAGUARD_"):
                sys.exit(f"{flag} {item!r}: expected PESAGUARD_NAME=VALUE")
            out[name] = value
        return out

    env |= settings(a.server_env, "--server-env")
    variant = settings(a.compare_env, "--compare-env")
    conns = [int(c) for c in a.connections.split(",") if c.strip()]
    rates = [int(r) for r in a.rates.split(",") if r.strip()]
    stress = ([max(conns)] if a.stress_connections is None
              else [int(c) for c in a.stress_connections.split(",") if c.strip()])
    load_before = os.getloadavg()[0]
    with StallProbe(5) as idle:  # the machine at rest, before anything runs
        pass
    rows, checks = bench_pesaguard(home, env, replay, conns, stress, a.duration, rates)
    all_checks = [("pesaguard serve", checks)]
    if variant:
        label = f"pesaguard serve ({', '.join(a.compare_env)})"
        more, more_checks = bench_pesaguard(home, env | variant, replay, conns, stress, a.duration, rates, label)
        rows += more
        all_checks.append((label, more_checks))
    if rates and not a.skip_floor:
        rows += bench_floor(replay, rates, a.duration)
    if not a.skip_mlflow:
        rows += bench_mlflow(home, env, conns, a.duration)
    i = idle.result
    print(f"\n{os.cpu_count()} cores; load average before the run {load_before:.1f}, after it "
          f"{os.getloadavg()[0]:.1f}; machine at rest for 5 s before the run: {i.get('stalls')} stalls over 5 ms, "
          f"{i.get('stalled_ms')} ms in all (stallprobe.py, real-time: {i.get('realtime')}); replay: "
          f"{replay['requests']:,} requests over {replay['span_ms'] // DAY_MS} simulated days, cycled"
          + "".join(f"; {name}: start-up (warm-up included) {c['startup_s']:.1f} s, decisions stored minus "
                    f"acknowledged {c['stored_minus_acknowledged']}, duplicates {c['duplicates']}"
                    for name, c in all_checks)
          + (f"; server settings: {', '.join(a.server_env)}" if a.server_env else "") + "\n")
    print("| server | traffic | load | requests/s | p50 ms | p90 ms | p99 ms | p99 ms, not due in a pause | p99.9 ms "
          "| max ms | errors | alert rate "
          "| server CPU per decision: service + journal ingester | WAL peak MB | in server <= 5 / 10 ms "
          "| machine stalls: n / ms (largest) |")
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['server']} | {r['traffic']} | {r['load']} | {r['rps']:,.0f} | {r['p50']:.2f} | "
              f"{r['p90']:.2f} | {r['p99']:.2f} | {_fmt(r.get('p99_outside_pauses', math.nan), '.2f')} | "
              f"{_fmt(r['p999'], '.2f')} | {_fmt(r['max'], '.1f')} | {r['errors']} | "
              f"{_fmt(100 * r['alert_rate'], '.2f')}% | "
              f"{_fmt(r['cpu_ms'], '.3f')} + {_fmt(r.get('cpu_children_ms', math.nan), '.3f')} ms | "
              f"{_fmt(r.get('wal_peak_mb', math.nan), ',.0f')} | "
              f"{_fmt(100 * r.get('in_server_5ms', math.nan), '.2f')}% / "
              f"{_fmt(100 * r.get('in_server_10ms', math.nan), '.2f')}% | "
              f"{_fmt(r.get('stalls', math.nan), '.0f')} / {_fmt(r.get('stalled_ms', math.nan), '.0f')} "
              f"({_fmt(r.get('stall_max_ms', math.nan), '.0f')}) |"
              .replace("| -% |", "| - |").replace("| - + - ms |", "| - |").replace("| -% / -% |", "| - |"))
    by = {(r["server"], r["traffic"], r["load"]): r["rps"] for r in rows}
    for c in sorted(set(conns)):
        load = f"wrk, {c} connections (closed loop)"
        peer = by.get(("mlflow models serve", "one precomputed feature row", load))
        if peer:
            print(f"\nratio pesaguard (replay) / mlflow at {c} connections: {by[('pesaguard serve', REPLAY, load)] / peer:.2f}x")


if __name__ == "__main__":
    main()
