"""Decision service throughput and latency, against ``mlflow models serve`` on the same model.

Run: ``python benchmarks/bench_service.py [--home DIR] [--duration 20] [--connections 8,16]``.

The service is started the way users start it (``pesaguard serve``) on loopback, and the load
comes from ``wrk`` (Debian package; C, one thread) in a separate process with a Lua script that
gives every request a unique transaction id, so each request is a full decision: auth, validation,
idempotency check, live features, LightGBM, policy, a durable commit, the answer. In the same run
the champion model is served by ``mlflow models serve`` (its pyfunc form) and loaded with the same
wrk settings; MLflow receives precomputed feature rows, so it does strictly less work per request.
Prints a markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
LUA = ROOT / "benchmarks" / "bench_service.lua"
PESAGUARD = Path(sys.executable).with_name("pesaguard")
MLFLOW = Path(sys.executable).with_name("mlflow")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def prepare(home: Path, accounts: int, days: int) -> None:
    """A simulated network in the store and a trained champion model (skipped if already there)."""
    from pesaguard.config import Settings
    from pesaguard.models.scorer import Scorer

    settings = Settings(home=home)
    try:
        Scorer.from_champion(settings)
        return
    except Exception:
        pass
    from pesaguard.demo import simulate_and_ingest
    from pesaguard.models.data import from_store
    from pesaguard.models.pipeline import train_for_deployment
    from pesaguard.store import open_store

    settings.ensure_home()
    t0 = time.perf_counter()
    with open_store(settings) as store:
        simulate_and_ingest(settings, store, accounts=accounts, days=days, seed=11)
        train_for_deployment(from_store(store), settings, promote=True)
    print(f"prepared {home} ({accounts} accounts, {days} days, trained) in {time.perf_counter() - t0:.0f} s",
          file=sys.stderr)


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


def run_wrk(url: str, lua: Path, connections: int, duration: int, args: list[str]) -> dict[str, float]:
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{duration}s", "--latency", "-s", str(lua), url,
                          "--", *args], capture_output=True, text=True, check=True).stdout
    pct = {p: _ms(v, u) for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", out, re.M)}
    done = re.search(r"(\d+) requests in ([\d.]+)(s|m)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    assert done is not None, out
    return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
            "requests": int(done.group(1)), "p50": pct["50"], "p90": pct["90"], "p99": pct["99"],
            "errors": (int(non2xx.group(1)) if non2xx else 0) + (sum(map(int, sock.groups())) if sock else 0)}


def _ms(value: str, unit: str) -> float:
    return float(value) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


def bench_pesaguard(home: Path, env: dict[str, str], conns: list[int], duration: int) -> tuple[list[dict], dict]:
    db = home / "pesaguard.db"
    key = subprocess.run([str(PESAGUARD), "-q", "keys", "create", "--role", "scorer", "--name", "bench"], env=env,
                         capture_output=True, text=True, check=True).stdout.split()[-1]
    with sqlite3.connect(db) as c:
        payers = [r[0] for r in c.execute("SELECT account_id FROM accounts WHERE kind = 'customer' LIMIT 1000")]
        base = int(c.execute("SELECT MAX(ts_ms) FROM transactions").fetchone()[0]) + 86_400_000
        before = int(c.execute("SELECT COUNT(*) FROM decisions").fetchone()[0])
    port = free_port()
    proc = subprocess.Popen([str(PESAGUARD), "serve", "--port", str(port)], env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL)
    t0 = time.perf_counter()
    rows = []
    warm = {"requests": 0.0}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_ready(f"{url}/readyz", proc)
        startup = time.perf_counter() - t0
        run = f"b{int(time.time())}"
        warm = run_wrk(url, LUA, conns[0], 3, [key, f"{run}w", str(base), *payers])  # warm-up, not reported
        for i, c in enumerate(conns):
            # each run starts a day later so feature windows see a plausible, increasing clock
            res = run_wrk(url, LUA, c, duration, [key, f"{run}c{c}", str(base + (i + 1) * 86_400_000), *payers])
            rows.append({"server": "pesaguard serve", "connections": c, **res})
    finally:
        stop(proc)
    with sqlite3.connect(db) as c:
        stored = int(c.execute("SELECT COUNT(*) FROM decisions").fetchone()[0]) - before
        dupes = int(c.execute("SELECT COUNT(*) - COUNT(DISTINCT txn_id) FROM decisions").fetchone()[0])
    sent = warm["requests"] + sum(r["requests"] for r in rows)
    return rows, {"startup_s": startup, "stored_minus_acknowledged": stored - sent, "duplicates": dupes}


def bench_mlflow(home: Path, env: dict[str, str], conns: list[int], duration: int) -> list[dict]:
    from pesaguard.config import Settings
    from pesaguard.models.registry import MODEL_NAME

    settings = Settings(home=home)
    with sqlite3.connect(home / "pesaguard.db") as c:
        features = json.loads(c.execute("SELECT features FROM decisions ORDER BY created_ms DESC LIMIT 1").fetchone()[0])
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
            rows.append({"server": "mlflow models serve", "connections": c,
                         **run_wrk(f"{url}/invocations", lua, c, duration, [])})
    finally:
        stop(proc)
        shutil.rmtree(lua.parent, ignore_errors=True)
    return rows


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--home", type=Path, default=None, help="reuse a prepared PESAGUARD_HOME (default: a temp dir)")
    ap.add_argument("--accounts", type=int, default=5000)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--duration", type=int, default=20, help="seconds per measured run")
    ap.add_argument("--connections", default="8,32", help="comma-separated wrk connection counts")
    ap.add_argument("--skip-mlflow", action="store_true")
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("wrk is not installed: apt-get install wrk")
    home = a.home or Path(tempfile.mkdtemp(prefix="pesaguard-bench-"))
    prepare(home, a.accounts, a.days)
    env = {k: v for k, v in os.environ.items() if not k.startswith("PESAGUARD_")} | {"PESAGUARD_HOME": str(home)}
    conns = [int(c) for c in a.connections.split(",")]
    rows, checks = bench_pesaguard(home, env, conns, a.duration)
    if not a.skip_mlflow:
        rows += bench_mlflow(home, env, conns, a.duration)
    print(f"\n{os.cpu_count()} cores; load average before the run: {os.getloadavg()[0]:.1f}; "
          f"service start-up (warm-up included) {checks['startup_s']:.1f} s; decisions stored minus acknowledged: "
          f"{checks['stored_minus_acknowledged']} (in flight when wrk stopped); duplicates: {checks['duplicates']}\n")
    print("| server | connections | requests/s | p50 ms | p90 ms | p99 ms | errors |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['server']} | {r['connections']} | {r['rps']:,.0f} | {r['p50']:.2f} | {r['p90']:.2f} | "
              f"{r['p99']:.2f} | {r['errors']} |")
    by = {(r["server"], r["connections"]): r["rps"] for r in rows}
    for c in conns:
        if ("mlflow models serve", c) in by:
            print(f"\nratio pesaguard / mlflow at {c} connections: "
                  f"{by[('pesaguard serve', c)] / by[('mlflow models serve', c)]:.2f}x")


if __name__ == "__main__":
    main()
