"""What a server's event-loop thread waits on in the kernel: the diagnostic behind the "Where
pesaguard's tail came from" table in docs/benchmarks.md.

Samples the thread every 0.5 ms (Linux ``/proc``; root, or the same user with ptrace allowed). Each
time it is in uninterruptible sleep (state D, a wait for the disk), it records the kernel stack
(``/proc/PID/task/TID/stack``, root only; skipped otherwise) and the system call (``/syscall``: its
number, descriptor, size and file offset). At the end it prints the waits by call and file and, with
``--db``, maps the offsets of reads from the SQLite database to the b-trees holding those pages
(SQLite's ``dbstat`` table, read-only), which tells which table or index the waits were for.

Run it beside a load, e.g. during ``bench_service.py``:
``python benchmarks/loopwait.py --pid "$(pgrep -n -f 'pesaguard serve')" --seconds 30 --db HOME/pesaguard.db``
"""

from __future__ import annotations

import argparse
import collections
import os
import sqlite3
import time

_CALLS = {0: "read", 1: "write", 17: "pread64", 18: "pwrite64", 74: "fsync", 75: "fdatasync"}  # x86_64


def _read(path: str) -> str:
    with open(path) as f:
        return f.read()


def sample(pid: int, tid: int, seconds: float) -> tuple[int, collections.Counter[tuple[str, str]],
                                                         collections.Counter[str], list[int]]:
    """(samples taken, D-state waits by (call, file), by kernel stack, offsets of database reads)."""
    base = f"/proc/{pid}/task/{tid}"
    by_call: collections.Counter[tuple[str, str]] = collections.Counter()
    by_stack: collections.Counter[str] = collections.Counter()
    offsets: list[int] = []
    n = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        n += 1
        try:
            state = _read(f"{base}/stat").rsplit(")", 1)[1].split()[0]
            if state == "D":
                call = _read(f"{base}/syscall").split()
                nr, fd = int(call[0]), int(call[1], 16)
                try:
                    target = os.path.basename(os.readlink(f"/proc/{pid}/fd/{fd}"))
                except OSError:
                    target = "?"
                by_call[(_CALLS.get(nr, str(nr)), target)] += 1
                if nr == 17 and not target.endswith(("-wal", "-shm")):
                    offsets.append(int(call[4], 16))
                try:
                    frames = _read(f"{base}/stack").split("\n")
                    by_stack[" < ".join(f.split()[1].split("+")[0] for f in frames if f.strip())[:300]] += 1
                except OSError:
                    pass
        except (OSError, IndexError, ValueError):
            if not os.path.exists(base):
                break
        time.sleep(0.0005)
    return n, by_call, by_stack, offsets


def btrees(db: str, offsets: list[int]) -> collections.Counter[tuple[str, str]]:
    """The b-tree (name, page type) of each page read, by SQLite's ``dbstat``. Indexes are walked
    before tables (``dbstat`` filtered by name walks one b-tree; by page number it walks them all),
    stopping once every page is found."""
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    page_size = conn.execute("PRAGMA page_size").fetchone()[0]
    wanted = collections.Counter(off // page_size + 1 for off in offsets)
    names = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE rootpage > 0 ORDER BY type = 'table', name")]
    found: collections.Counter[tuple[str, str]] = collections.Counter()
    for name in names:
        for pageno, kind in conn.execute("SELECT pageno, pagetype FROM dbstat WHERE name = ?", (name,)):
            if pageno in wanted:
                found[(name, kind)] += wanted.pop(pageno)
        if not wanted:
            break
    for _ in range(sum(wanted.values())):
        found[("?", "?")] += 1
    conn.close()
    return found


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--pid", type=int, required=True, help="the server process")
    ap.add_argument("--tid", type=int, default=None, help="thread to watch (default: the main thread)")
    ap.add_argument("--seconds", type=float, default=30)
    ap.add_argument("--db", default=None, help="SQLite database file, to name the b-trees of the pages read")
    a = ap.parse_args()
    n, by_call, by_stack, offsets = sample(a.pid, a.tid or a.pid, a.seconds)
    print(f"{n} samples of thread {a.tid or a.pid}; in a disk wait (state D): {sum(by_call.values())}")
    for (call, target), k in by_call.most_common():
        print(f"  {k:6d}  {call} on {target}")
    for stack, k in by_stack.most_common(5):
        print(f"  {k:6d}  {stack}")
    if a.db and offsets:
        print("database pages read while waiting, by b-tree:")
        for (name, kind), k in btrees(a.db, offsets).most_common(10):
            print(f"  {k:6d}  {name} ({kind})")


if __name__ == "__main__":
    main()
