"""Test support for the stream suites: a real ``nats-server -js`` per test, and helpers to publish
and read JetStream messages. Under CI a missing ``nats-server`` fails the test (``.ci/run``
installs it); elsewhere it skips."""

from __future__ import annotations

import asyncio
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ci_support import missing


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class NatsServer:
    """``nats-server -js`` on 127.0.0.1 and a free port, storing under ``directory``."""

    def __init__(self, directory: Path) -> None:
        exe = shutil.which("nats-server") or next(
            (p for p in ("/usr/sbin/nats-server", "/usr/bin/nats-server") if os.path.exists(p)), None)
        if exe is None:
            missing("nats-server", "apt-get install nats-server (.ci/run installs it)")
        self.exe = exe
        self.directory = directory
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> NatsServer:
        self.proc = subprocess.Popen([self.exe, "-js", "-a", "127.0.0.1", "-p", str(self.port),
                                      "-sd", str(self.directory)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", self.port)) == 0:
                    return self
            time.sleep(0.02)
        raise RuntimeError("nats-server did not start")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


@pytest.fixture
def nats_server(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(tmp_path / "jetstream").start()
    yield server
    server.stop()


async def publish_all(url: str, messages: list[tuple[str, bytes]], confirm: bool = True) -> None:
    """Publish ``(subject, payload)`` pairs in order, each confirmed by the stream (``confirm``),
    or as plain NATS messages the stream captures (much faster; the order is kept)."""
    import nats

    nc = await nats.connect(url)
    js = nc.jetstream()
    for subject, data in messages:
        if confirm:
            await js.publish(subject, data)
        else:
            await nc.publish(subject, data)
    await nc.flush()
    await nc.close()


async def read_all(url: str, stream: str) -> list[Any]:
    """Every message stored in ``stream`` (subject, data, headers), in order."""
    import nats
    from nats.js.errors import NotFoundError

    nc = await nats.connect(url)
    js = nc.jetstream()
    out = []
    try:
        info = await js.stream_info(stream)
    except NotFoundError:
        await nc.close()
        return []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        if info.state.messages == 0:
            break
        msg = await js.get_msg(stream, seq)
        out.append(msg)
    await nc.close()
    return out


async def consumer_state(url: str, stream: str = "PESAGUARD_IN", durable: str = "pesaguard-decider") -> tuple[int, int]:
    """(num_pending, num_ack_pending) of the consumer."""
    import nats

    nc = await nats.connect(url)
    info = await nc.jetstream().consumer_info(stream, durable)
    await nc.close()
    return int(info.num_pending), int(info.num_ack_pending)


async def wait_drained(url: str, timeout: float = 30.0) -> None:
    """Until the consumer has nothing pending and nothing unacknowledged."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if await consumer_state(url) == (0, 0):
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"the consumer did not drain: {await consumer_state(url)}")
