"""How long this machine stops running programs at all: the peer of every latency row in
``bench_service.py``.

A process asks to sleep 1 ms, again and again, and records each time it woke more than
``--threshold-ms`` late. It runs as a real-time task (SCHED_FIFO) when allowed, so a busy CPU does not
delay it: what it records is time when *nothing* ran, such as a virtual machine's vCPUs being paused
by the host. No server can answer during such a pause, so any request due then waits too. Without
the privilege it runs at normal priority and says so (its figures then include CPU contention).

Run: ``python benchmarks/stallprobe.py SECONDS`` prints one JSON object, with each stall's window
(``time.monotonic`` seconds, the clock every process on the machine shares) under ``windows``.
"""

from __future__ import annotations

import argparse
import json
import os
import time


def probe(seconds: float, threshold_ms: float = 5.0) -> dict[str, object]:
    realtime = True
    try:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(1))
    except (PermissionError, AttributeError, OSError):
        realtime = False
    gaps: list[float] = []
    windows: list[tuple[float, float]] = []
    limit = threshold_ms / 1000 + 0.001  # the 1 ms asked for, plus the threshold
    # time.monotonic: the system-wide clock, so other processes can place their events in the windows
    end = time.monotonic() + seconds
    last = time.monotonic()
    while last < end:
        time.sleep(0.001)
        now = time.monotonic()
        if now - last > limit:
            gaps.append((now - last - 0.001) * 1000)
            windows.append((last + 0.001, now))
        last = now
    return {"seconds": seconds, "realtime": realtime, "threshold_ms": threshold_ms, "stalls": len(gaps),
            "stalled_ms": round(sum(gaps), 1), "max_ms": round(max(gaps), 1) if gaps else 0.0,
            "windows": windows}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("seconds", type=float)
    ap.add_argument("--threshold-ms", type=float, default=5.0)
    a = ap.parse_args()
    print(json.dumps(probe(a.seconds, a.threshold_ms)))


if __name__ == "__main__":
    main()
