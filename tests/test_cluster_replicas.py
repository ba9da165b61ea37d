"""Three ``pesaguard consume --cluster`` processes on one real nats-server: every decision's features
equal a single process's replay of the stream as the server ordered it, whichever replica made it;
one decision per transaction; a repeated transaction answered by another replica gets the original
decision back; a ``txn_id`` reused with another payload is dead-lettered."""

from __future__ import annotations

import asyncio
from pathlib import Path

import orjson
import pytest

from cluster_support import (
    LB,
    TX,
    Replica,
    check_against_replay,
    log_order,
    publish_interleaved,
    random_stream,
)
from stream_support import NatsServer, nats_server, read_all, wait_drained

__all__ = ["nats_server"]


@pytest.mark.slow
def test_three_replicas_agree_with_the_single_process_replay(nats_server: NatsServer, tmp_path: Path) -> None:
    url = nats_server.url
    stream = random_stream(seed=7, n=800)
    first = orjson.loads(stream[0][1])
    conflict = {**first, "txn_id": "CONFLICT-1"}
    stream += [(TX, orjson.dumps(conflict)), (TX, orjson.dumps({**conflict, "amount_minor": 1}))]
    replicas = [Replica(tmp_path, f"r{i}", url).start() for i in range(3)]
    try:
        for r in replicas:
            r.wait_ready()
        asyncio.run(publish_interleaved(url, stream, publishers=3, seed=7))
        asyncio.run(wait_drained(url, timeout=120))
        decided = [r.metric("pesaguard_stream_messages_total", kind="transaction", outcome="decided")
                   for r in replicas]
        dead = sum(r.metric("pesaguard_stream_dead_letters_total", reason="conflict") for r in replicas)
    finally:
        codes = [r.stop() for r in replicas]
    assert codes == [0, 0, 0]  # clean stops
    assert sum(1 for d in decided if d > 0) >= 2, decided  # the work was shared

    expected, rows = check_against_replay(url)
    n_tx = sum(1 for s, _ in stream if s == TX)
    assert sum(decided) == n_tx - 1  # repeats answered too; the conflicting payload was not
    assert dead == 1
    dlq = asyncio.run(read_all(url, "PESAGUARD_DLQ"))
    assert [m.headers["Pesaguard-Reason"] for m in dlq] == ["conflict"]
    second = [d for s, d in log_order(url) if d.startswith(b'{"txn_id":"CONFLICT-1"')][1]
    assert dlq[0].data == second  # the later of the two payloads, unchanged
    assert sum(1 for s, _ in stream if s == LB) > 60

    # cross-replica idempotency: a repeat answered by another replica stored the original decision,
    # creation time included (it was read back, not made again)
    stores = [r.stored() for r in replicas]
    twice = [t for t in expected if sum(t in s for s in stores) > 1]
    assert twice, "no repeated transaction reached a second replica"
    for t in twice:
        versions = {s[t] for s in stores if t in s}
        assert versions == {(rows[t]["decision_id"], rows[t]["action"], rows[t]["score"], rows[t]["created_ms"])}
