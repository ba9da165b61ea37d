"""Fixed-rate (open-loop) load on ``POST /v1/transactions`` for ``bench_service.py``.

Requests leave on a schedule set before the run, whatever the server does, and each latency is
measured from the request's *scheduled* departure to the end of its answer. A server stall therefore
counts against every request that should have left during it, which a closed-loop tool such as wrk
cannot show: its connections stop sending while the server is slow, so the stall is recorded once
("coordinated omission"; wrk2 and HdrHistogram measure the same way as this script).

Why hand-written: the open-loop HTTP tools (wrk2, vegeta, oha) are not in the registries this
project may install from (Debian, PyPI, npm's loadtest measures from the actual send), and
Debian's ``h2load --rps`` posts one fixed body, while every decision needs a txn_id of its own (a
repeated body is an idempotent replay answered from the store). The script pre-builds every request
before the clock starts, so the timed part only writes bytes and parses status lines: measured at
about 25 µs of CPU per request, roughly wrk's cost with its Lua body script.

Arrivals are a Poisson process (exponential gaps, fixed seed): independent payments arrive in bursts,
which is harder on the server than evenly spaced ones. Requests go out on a pool of keep-alive
connections (``--connections``, opened before the clock starts); when every connection is busy the
request waits in the generator, and that wait counts in its latency. The event loop's timers have
millisecond resolution, so a request may leave up to ~1 ms after its scheduled time; that lag also
counts against the server (a pessimistic bias), and its p99 is printed so a generator that could not
keep up shows itself.

Run: ``python benchmarks/openloop.py URL KEY BODIES --rate 2500 --duration 30 --prefix P --shift MS
--span MS`` prints one JSON object. BODIES is the JSON-lines file ``bench_service.py`` writes
(``HOME/bench/live.jsonl``); bodies are rewritten exactly as ``bench_service.lua``'s replay mode does
(a txn_id unique to the run, timestamps moved forward by SHIFT and by SPAN per cycle).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import re
import time
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import numpy as np

_FIRST = re.compile(rb'^\{"txn_id":"([^"]*)","ts_ms":(\d+),(.*)$', re.S)
_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.I)


def bodies(path: Path, n: int, prefix: str, shift: int, span: int) -> list[bytes]:
    """``n`` request bodies cycling through ``path``, as ``bench_service.lua replay`` builds them."""
    rows = []
    for lineno, line in enumerate(path.read_bytes().splitlines(), 1):
        m = _FIRST.match(line)
        if m is None:
            raise SystemExit(f'{path} line {lineno}: expected {{"txn_id":...,"ts_ms":..., (bench_service.py writes it)')
        rows.append((m.group(1), int(m.group(2)), m.group(3)))
    if not rows:
        raise SystemExit(f"{path} holds no request bodies")
    out = []
    pre = prefix.encode()
    for counter in range(n):
        cycle, i = divmod(counter, len(rows))
        txn_id, ts, rest = rows[i]
        out.append(b'{"txn_id":"%s-0-%d-%s","ts_ms":%d,%s' % (pre, cycle, txn_id, ts + shift + cycle * span, rest))
    return out


class _Conn(asyncio.Protocol):
    """One keep-alive connection: at most one request in flight (no pipelining)."""

    def __init__(self, gen: _Generator) -> None:
        self.gen = gen
        self.transport: asyncio.Transport | None = None
        self.buf = bytearray()
        self.current = -1  # index of the request in flight

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def send(self, index: int, request: bytes) -> None:
        assert self.transport is not None
        self.current = index
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buf += data
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return
        m = _LENGTH.search(self.buf, 0, end + 2)
        length = int(m.group(1)) if m else 0
        if len(self.buf) < end + 4 + length:
            return
        status = int(self.buf[9:12])
        del self.buf[: end + 4 + length]
        index, self.current = self.current, -1
        self.gen.done(self, index, status)

    def connection_lost(self, exc: Exception | None) -> None:
        self.gen.lost(self)


class _Generator:
    def __init__(self, requests: list[bytes], schedule: np.ndarray) -> None:
        self.requests = requests
        self.schedule = schedule  # seconds from t0
        self.t0 = 0.0
        self.idle: deque[_Conn] = deque()
        self.backlog: deque[int] = deque()
        n = len(requests)
        self.sent_at = np.full(n, np.nan)
        self.done_at = np.full(n, np.nan)
        self.status = np.zeros(n, dtype=np.int16)
        self.outstanding = 0
        self.lost_connections = 0
        self.finished: asyncio.Future[None] | None = None
        self.connect: Any = None  # set by run(): opens one more connection into the pool

    def dispatch(self, index: int) -> None:
        self.outstanding += 1
        if self.idle:
            self._send(self.idle.popleft(), index)
        else:
            self.backlog.append(index)

    def _send(self, conn: _Conn, index: int) -> None:
        self.sent_at[index] = time.monotonic()
        conn.send(index, self.requests[index])

    def done(self, conn: _Conn, index: int, status: int) -> None:
        self.done_at[index] = time.monotonic()
        self.status[index] = status
        self.outstanding -= 1
        # idle connections are taken from the other end: every connection keeps being used, so none
        # sits idle long enough for the server's keep-alive timeout to close it
        self.add(conn)
        self._check_finished()

    def lost(self, conn: _Conn) -> None:
        """The server closed a connection (keep-alive limits): its request in flight, if any, is an
        error; a new connection takes its place while requests are still being sent."""
        self.lost_connections += 1
        if conn in self.idle:
            self.idle.remove(conn)
        if conn.current >= 0:  # status 0 marks it as an error
            self.outstanding -= 1
            conn.current = -1
            self._check_finished()
        if self.finished is None and self.connect is not None:
            asyncio.get_running_loop().create_task(self.connect())

    def _check_finished(self) -> None:
        if self.outstanding == 0 and self.finished is not None and not self.finished.done():
            self.finished.set_result(None)

    def add(self, conn: _Conn) -> None:
        """A connection is ready: it takes a waiting request or joins the idle pool."""
        if self.backlog:
            self._send(conn, self.backlog.popleft())
        else:
            self.idle.append(conn)


async def run(url: str, key: str, requests_bodies: list[bytes], rate: float, connections: int,
              seed: int, drain_s: float = 10.0, dump: Path | None = None) -> dict[str, Any]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    head = (b"POST /v1/transactions HTTP/1.1\r\nHost: %s:%d\r\nContent-Type: application/json\r\n"
            b"X-API-Key: %s\r\nContent-Length: " % (host.encode(), port, key.encode()))
    requests = [head + b"%d\r\n\r\n" % len(b) + b for b in requests_bodies]
    rng = np.random.default_rng(seed)
    schedule = np.cumsum(rng.exponential(1.0 / rate, len(requests)))
    gen = _Generator(requests, schedule)
    loop = asyncio.get_running_loop()

    async def connect() -> None:
        try:
            _, conn = await loop.create_connection(lambda: _Conn(gen), host, port)
        except OSError:
            return  # the server is gone: the requests left unsent count as errors
        gen.add(conn)

    for _ in range(connections):
        await connect()
    gen.connect = connect
    # time.monotonic, not loop.time(): uvloop's clock has millisecond steps and is read once per
    # loop iteration. Sleeps are at least 1 ms: the loop's timers cannot wait less, and asking for
    # less turned the loop into a busy wait that took CPU from the server
    gen.t0 = t0 = time.monotonic() + 0.05
    due = (t0 + schedule).tolist()
    n = len(requests)
    i = 0
    while i < n:
        now = time.monotonic()
        while i < n and due[i] <= now:
            gen.dispatch(i)
            i += 1
        if i < n:
            await asyncio.sleep(max(0.001, due[i] - time.monotonic()))
    gen.finished = loop.create_future()
    if gen.outstanding > 0:
        with contextlib.suppress(TimeoutError):  # unanswered requests count as errors
            await asyncio.wait_for(gen.finished, drain_s)
    for conn in list(gen.idle):
        if conn.transport is not None:
            conn.transport.close()
    intended = t0 + schedule
    answered = ~np.isnan(gen.done_at)
    latency_ms = (gen.done_at[answered] - intended[answered]) * 1000
    lag_ms = (gen.sent_at[~np.isnan(gen.sent_at)] - intended[~np.isnan(gen.sent_at)]) * 1000
    ok = answered & (gen.status >= 200) & (gen.status < 300)
    span = float(np.nanmax(gen.done_at) - t0) if answered.any() else float("nan")
    pct = np.percentile(latency_ms, [50, 90, 99, 99.9]) if latency_ms.size else [float("nan")] * 4
    if dump is not None:  # per request: when it was due (time.monotonic), its latency (NaN: unanswered), 2xx,
        # and its HTTP status (0: unanswered)
        np.savez(dump, due=intended, latency_ms=(gen.done_at - intended) * 1000, ok=ok, status=gen.status)
    return {
        "rate_offered": rate, "requests": int(n), "answered": int(answered.sum()),
        "rps": float(answered.sum() / span) if span == span and span > 0 else float("nan"),
        "errors": int(n - ok.sum()), "non2xx": int((answered & ~ok).sum()),
        "p50": float(pct[0]), "p90": float(pct[1]), "p99": float(pct[2]), "p999": float(pct[3]),
        "max": float(latency_ms.max()) if latency_ms.size else float("nan"),
        "send_lag_p99": float(np.percentile(lag_ms, 99)) if lag_ms.size else float("nan"),
        "connections": connections, "lost_connections": gen.lost_connections,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("url")
    ap.add_argument("key", help="an API key with the scorer role")
    ap.add_argument("bodies", type=Path, help="JSON-lines request bodies (HOME/bench/live.jsonl)")
    ap.add_argument("--rate", type=float, required=True, help="requests per second (Poisson arrivals)")
    ap.add_argument("--duration", type=float, default=30.0, help="seconds of schedule")
    ap.add_argument("--connections", type=int, default=32, help="keep-alive connections in the pool")
    ap.add_argument("--prefix", required=True, help="txn_id prefix, unique to the run")
    ap.add_argument("--shift", type=int, default=0, help="ms added to every timestamp")
    ap.add_argument("--span", type=int, default=0, help="ms added per cycle through the bodies")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--dump", type=Path, default=None,
                    help="also save each request's due time (time.monotonic), latency, success and status (.npz)")
    a = ap.parse_args()
    n = max(1, int(a.rate * a.duration))
    built = bodies(a.bodies, n, a.prefix, a.shift, a.span)
    runner: Any
    try:
        import uvloop

        runner = uvloop.run
    except ImportError:  # pragma: no cover - uvloop is a dependency of the service
        runner = asyncio.run
    cpu0 = time.process_time()
    result = runner(run(a.url, a.key, built, a.rate, a.connections, a.seed, dump=a.dump))
    result["generator_cpu_us"] = 1e6 * (time.process_time() - cpu0) / n
    print(json.dumps(result))


if __name__ == "__main__":
    main()
