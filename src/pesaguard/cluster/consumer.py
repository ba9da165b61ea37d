"""``pesaguard consume --cluster``: many replicas, one feature state.

Each replica runs two subscriptions on the input stream:

- the *applier*, an ordered consumer of its own that reads every message, in order, into the
  replica's :class:`~pesaguard.cluster.machine.StateMachine` (from the start of the stream, or
  after the snapshot it restored): every replica holds the whole feature state, the same as a
  single process that read the stream;
- the *work* consumer, the durable pull consumer that all replicas share: JetStream hands each
  message to one replica, which waits until its applier has reached that message, claims the
  decision (:mod:`pesaguard.cluster.claims`), stores it, publishes it and acknowledges.

A replica killed mid-message leaves it unacknowledged: after the ack wait another replica gets it,
and finds the claim if one was made, so the decision is never made twice. A replica that starts
(or restarts) restores the newest state snapshot at or below the work consumer's acknowledgement
floor (:mod:`pesaguard.cluster.snapshots`; one is written every ``snapshot_every`` messages) and
replays the stream after it before it is ready; it keeps the outcome of each message until the
acknowledgement floor passes it, and pauses its applier while it holds ``max_ahead`` outcomes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

import orjson
import pandas as pd
from nats.aio.msg import Msg
from prometheus_client import Gauge

from pesaguard.cluster.claims import Claims, KvClaims, NotYet, conflict, settle
from pesaguard.cluster.machine import Outcome, StateMachine
from pesaguard.cluster.snapshots import Snapshots
from pesaguard.decisions.decider import PUBLIC_FIELDS, DecisionService, data_row, request_hash
from pesaguard.errors import PesaguardError
from pesaguard.schema import Label, Transaction
from pesaguard.store import Store, core
from pesaguard.stream.consumer import Dead, StreamConsumer, Topology, Tuning, parse_label, parse_transaction
from pesaguard.stream.metrics import StreamMetrics

log = logging.getLogger("pesaguard.cluster")


class ClusterMetrics:
    def __init__(self, registry: Any) -> None:
        self.applied = Gauge("pesaguard_cluster_applied_seq",
                             "Last input stream sequence applied to this replica's feature state", registry=registry)
        self.held = Gauge("pesaguard_cluster_outcomes_held",
                          "Applied messages whose outcome this replica keeps until some replica answers for them",
                          registry=registry)
        self.ack_floor = Gauge("pesaguard_cluster_ack_floor",
                               "Input stream sequence up to which every message has been answered", registry=registry)
        self.restored = Gauge("pesaguard_cluster_restored_seq",
                              "Stream sequence of the state snapshot this replica started from (0: none)",
                              registry=registry)


def ack_position(reply: str) -> tuple[int, int]:
    """(stream sequence, stored time in epoch ms) of a JetStream message, from its reply subject
    ``$JS.ACK.<stream>.<consumer>.<delivered>.<stream seq>.<consumer seq>.<stored ns>.<pending>``,
    with or without the domain and account tokens of the longer form.

    What ``msg.metadata`` gives, without building its objects and a datetime: every replica reads
    every message, and the metadata objects were a third of the receive's CPU (16-17 against 10-11
    µs per message, ``benchmarks/bench_cluster.py``).

    >>> ack_position("$JS.ACK.PESAGUARD_IN.c1.1.42.42.1717200000123456789.0")
    (42, 1717200000123)
    >>> ack_position("$JS.ACK.dom.acc.PESAGUARD_IN.c1.1.42.42.1717200000123456789.0.rnd")
    (42, 1717200000123)
    """
    tokens = reply.split(".")
    if len(tokens) == 9 and tokens[0] == "$JS" and tokens[1] == "ACK":
        ns = int(tokens[7])
        # the stored time feeds the event-window check, which every replica must answer alike: within
        # 2 µs of a millisecond's edge, the client's float and datetime rounding (what every replica
        # before this function used) can land on the next millisecond, so it is used there as is
        if 2_000 <= ns % 1_000_000 < 998_000:
            return int(tokens[5]), ns // 1_000_000
    md = Msg.Metadata._from_reply(reply)  # the client's own parser
    return md.sequence.stream, int(md.timestamp.timestamp() * 1000)


class ClusterConsumer(StreamConsumer):
    """A :class:`StreamConsumer` whose feature state is rebuilt from the stream (see the module)."""

    def __init__(self, metrics: StreamMetrics, topology: Topology | None = None, tuning: Tuning | None = None,
                 create_streams: bool = True, max_ahead: int = 50_000, snapshot_every: int = 100_000,
                 registry: Any = None) -> None:
        super().__init__(metrics, topology, tuning, create_streams)
        self.max_ahead = max_ahead
        self.snapshot_every = snapshot_every
        self.snapshots: Snapshots | None = None
        self.machine: StateMachine | None = None
        self.claims: Claims | None = None
        self.cmetrics = ClusterMetrics(registry) if registry is not None else None
        self._outcomes: dict[int, Outcome] = {}
        self._waiters: dict[int, asyncio.Future[Outcome]] = {}
        self._room = asyncio.Event()
        self._caught_up = asyncio.Event()
        self._floor = 0
        self._applier: Any = None
        self._target = 0
        self._started = 0.0
        self._failure: Exception | None = None
        self._background: list[asyncio.Task[None]] = []

    async def connect(self, servers: str) -> None:
        await super().connect(servers)
        self.claims = await KvClaims.open(self.js, ttl_s=7 * 86_400.0)
        self.snapshots = await Snapshots.open(self.js)
        self._floor = await self._ack_floor()

    def attach(self, decider: DecisionService, store: Store) -> None:
        super().attach(decider, store)
        self.machine = StateMachine(decider.scorer, decider.window)

    @property
    def ready(self) -> bool:
        return super().ready and self._caught_up.is_set()

    async def _ack_floor(self) -> int:
        info = await self.js.consumer_info(self.t.input_stream, self.t.durable, timeout=5)
        return int(info.ack_floor.stream_seq if info.ack_floor else 0)

    # -- the applier ----------------------------------------------------------------------------
    async def _start_applier(self) -> int:
        """Restore the newest usable snapshot, subscribe from the message after it; returns the
        stream's last sequence at that moment (the replay to finish before being ready)."""
        from nats.js.api import ConsumerConfig, DeliverPolicy

        m = self.machine
        assert m is not None and self.snapshots is not None
        info = await self.js.stream_info(self.t.input_stream)
        first = int(info.state.first_seq or 1)
        if self.snapshot_every and m.can_snapshot:
            found = await self.snapshots.latest(at_most=self._floor)
            if found is not None:
                seq, state = found
                if state["engine"]["config"] != m.scorer.engine.cfg.model_dump():
                    log.warning("snapshot at %d was taken with another feature configuration: not used", seq)
                elif seq + 1 < first:
                    log.warning("snapshot at %d is older than the stream's first message %d: not used", seq, first)
                else:
                    m.restore(state)
                    if self.cmetrics is not None:
                        self.cmetrics.restored.set(seq)
                    log.info("feature state restored from the snapshot at stream sequence %d", seq)
        if m.applied == 0 and first > 1:
            log.warning("no snapshot: the feature state starts at stream sequence %d, the first the stream still "
                        "holds (older messages have expired), and lacks their history", first)
        # an ordered consumer of the stream, this replica's own: no filter, so transactions and labels
        # come in the one order the stream stored them
        config = ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=max(m.applied + 1, first))
        self._applier = await self.js.subscribe("", stream=self.t.input_stream, ordered_consumer=True, config=config,
                                                cb=self._apply, manual_ack=True,
                                                pending_msgs_limit=4 * self.max_ahead)
        return int(info.state.last_seq)

    async def _apply_loop(self) -> None:
        """Start the applier and wait: the subscription's own task calls :meth:`_apply` per message."""
        assert self.machine is not None
        self._target = await self._start_applier()
        self._started = time.monotonic()
        if self._target == 0 or self.machine.applied >= self._target:
            self._caught_up.set()
        await asyncio.Event().wait()

    async def _apply(self, msg: Any) -> None:
        """One message into the state, in stream order.

        A callback, not a ``next_msg`` loop: the client calls it for every message it holds without
        returning to the event loop in between (``next_msg`` makes a task per message), so the
        deciders woken by a run of messages publish together, in a few socket writes instead of one
        or two per message (measured: 1.4 against 0.6 ms of CPU per decision, most of it in
        ``send``)."""
        m = self.machine
        assert m is not None and self.snapshots is not None
        try:
            while len(self._outcomes) >= self.max_ahead:
                self._room.clear()
                await self._room.wait()
            seq, stored_ms = ack_position(msg.reply)
            if seq <= m.applied:  # the ordered consumer restarted behind us
                return
            if msg.subject == self.t.labels:
                outcome = m.apply_label(seq, msg.data)
            else:
                outcome = m.apply_transaction(seq, msg.data, stored_ms)
        except Exception as exc:  # the state can no longer be trusted: stop, a restart rebuilds it
            log.exception("message %s could not be applied to the feature state; stopping", msg.reply)
            self._failure = exc
            self.stop()
            raise
        if seq > self._floor:
            self._outcomes[seq] = outcome
        waiter = self._waiters.pop(seq, None)
        if waiter is not None and not waiter.done():
            waiter.set_result(outcome)
        if not self._caught_up.is_set() and seq >= self._target:
            log.info("feature state rebuilt up to stream sequence %d in %.1f s", seq, time.monotonic() - self._started)
            self._caught_up.set()
        if self.cmetrics is not None:
            self.cmetrics.applied.set(seq)
        if self.snapshot_every and seq % self.snapshot_every == 0 and m.can_snapshot:
            self.snapshots.save_soon(seq, m.snapshot())
        if seq % 256 == 0:
            await asyncio.sleep(0)  # let the deciders run during a long replay

    async def _floor_loop(self) -> None:
        """Forget the outcomes of messages every replica is done with."""
        while True:
            await asyncio.sleep(0.25)
            try:
                self._floor = max(self._floor, await self._ack_floor())
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("consumer info: %s", exc)
                continue
            for seq in [s for s in self._outcomes if s <= self._floor]:
                del self._outcomes[seq]
            if self.cmetrics is not None:
                self.cmetrics.ack_floor.set(self._floor)
                self.cmetrics.held.set(len(self._outcomes))
            if len(self._outcomes) < self.max_ahead:
                self._room.set()

    async def run(self) -> None:
        """Rebuild the state, then take work until :meth:`stop` (no work is fetched while the state
        is still behind: it would wait for the applier and go back to the stream unanswered)."""
        applier = asyncio.create_task(self._apply_loop())
        self._background = [applier, asyncio.create_task(self._floor_loop())]
        try:
            caught_up = asyncio.ensure_future(self._caught_up.wait())
            stopped = asyncio.ensure_future(self._stop.wait())
            await asyncio.wait({caught_up, stopped, applier}, return_when=asyncio.FIRST_COMPLETED)
            for fut in (caught_up, stopped):
                fut.cancel()
            if applier.done():
                applier.result()  # raises why the applier could not start
            if not self._stop.is_set():
                await super().run()
        finally:
            for task in self._background:
                task.cancel()
            for task in self._background:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
            if self.snapshots is not None:
                await self.snapshots.wait()
            if self._applier is not None:
                with contextlib.suppress(Exception):
                    await self._applier.unsubscribe()
        if self._failure is not None:
            raise RuntimeError(f"the feature state stopped at a message it could not apply: {self._failure}")

    async def _dispatch(self, msgs: list[Any]) -> None:
        # every message in parallel: labels reach the feature state through the applier, in order
        received = time.perf_counter()
        for msg in msgs:
            self._spawn(self._handle_safely(msg, received, label=msg.subject == self.t.labels))

    # -- one work message -----------------------------------------------------------------------
    async def _outcome(self, seq: int) -> Outcome | None:
        """The outcome of stream message ``seq`` once the applier has reached it; None when it was
        forgotten (this replica answered it before, and the answer was lost)."""
        assert self.machine is not None
        found = self._outcomes.get(seq)
        if found is not None or seq <= self.machine.applied:
            return found
        fut = self._waiters.get(seq)
        if fut is None:
            fut = self._waiters[seq] = asyncio.get_running_loop().create_future()
        return await asyncio.wait_for(asyncio.shield(fut), self.tuning.ack_wait_s / 2)

    async def _handle(self, msg: Any, received: float, label: bool) -> None:
        kind = "label" if label else "transaction"
        md = msg.metadata
        seq = md.sequence.stream
        self.metrics.lag.set(md.num_pending)
        if md.num_delivered > 1:
            self.metrics.redeliveries.inc()
        try:
            if label:
                await self._store_label(parse_label(msg.data))
                outcome_name = "stored"
            else:
                await self._decide(msg, seq)
                outcome_name = "decided"
            await msg.ack()
            self._outcomes.pop(seq, None)
        except Dead as dead:
            await self._dead_letter(msg, dead)
            self._outcomes.pop(seq, None)
            outcome_name = "dead_letter"
        except PesaguardError as exc:
            if exc.http_status < 500:
                await self._dead_letter(msg, Dead(exc.code, exc.message, exc.field))
                outcome_name = "dead_letter"
            else:
                outcome_name = await self._retry(msg, exc)
        except Exception as exc:  # NotYet, a timeout waiting for the applier, NATS or store trouble
            outcome_name = await self._retry(msg, exc)
        self.metrics.messages.labels(kind, outcome_name).inc()
        if outcome_name != "retry":
            self.metrics.handle_seconds.observe(time.perf_counter() - received)
            self.metrics.end_to_end_seconds.observe(max(0.0, time.time() - md.timestamp.timestamp()))

    async def _decide(self, msg: Any, seq: int) -> None:
        assert self.decider is not None and self.claims is not None and self.machine is not None
        decider, machine = self.decider, self.machine
        outcome = await self._outcome(seq)
        txn: Transaction
        if outcome is None:  # answered here before and forgotten: only the claim can answer
            txn = parse_transaction(msg.data)
            row = await self.claims.get(txn.txn_id)
            if row is None:
                raise NotYet(f"stream message {seq} is no longer held and has no claimed decision")
            if row.get("request_hash") != request_hash(txn):
                raise conflict(txn.txn_id)
        else:
            decider.writer.admit()  # raises (503, retried) while the store's writer is behind
            row, _ = await settle(outcome, self.claims,
                                  lambda o: decider.evaluate(o.txn, o.req_hash, result=machine.result(o)))  # type: ignore[arg-type]
            assert outcome.txn is not None
            txn = outcome.txn
        await decider.writer.submit(row, data_row(txn))  # idempotent on txn_id
        await self.js.publish(self.t.decisions, orjson.dumps({k: row[k] for k in PUBLIC_FIELDS}),
                              headers={"Nats-Msg-Id": row["decision_id"]})

    async def _store_label(self, lab: Label) -> None:
        df = pd.DataFrame({"txn_id": [lab.txn_id], "is_fraud": [int(lab.is_fraud)],
                           "known_at_ms": [lab.known_at_ms], "source": [lab.source], "typology": [lab.typology]})
        assert self.store is not None
        core.insert_labels(self.store, df)  # the feature state has it from the applier
