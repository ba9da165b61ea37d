"""Decide transactions read from NATS JetStream and publish each decision.

Delivery is at least once. A message is acknowledged only after its decision is durable (the
decision service returns once it is) and the decision has been stored by the decisions stream, so
a crash at any point means the message comes again. A redelivered transaction is answered by the
decision service's idempotency on ``txn_id`` (the stored decision, scored once, counted once in the
feature state), and the decision is published again with the same ``Nats-Msg-Id`` (its
``decision_id``), which the decisions stream drops as a duplicate within its duplicate window.

Order. Transactions are decided in stream order: each fetched batch is started in order, and the
decision service scores a transaction (updating the feature state) before its first ``await``. A
label waits until every transaction before it in the stream is decided, then updates the store and
the feature state, so label-based features see it exactly where the stream put it.

What never blocks the stream: a message that can never be decided (not JSON, fails validation, a
``txn_id`` already decided with another payload) is republished unchanged to the dead-letter
subject with the reason in its headers, then acknowledged. A transient failure (store down, journal
behind, 503s) is retried with a growing delay (``nak``), and after ``max_deliveries`` attempts it
goes to the dead-letter subject too, naming the last error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import orjson
import pandas as pd
from pydantic import ValidationError

from pesaguard.decisions.decider import PUBLIC_FIELDS, DecisionService
from pesaguard.errors import ConfigError, PesaguardError
from pesaguard.schema import Label
from pesaguard.service.routers.transactions import TransactionIn
from pesaguard.store import Store, core
from pesaguard.stream.metrics import StreamMetrics

log = logging.getLogger("pesaguard.stream")

DAY_S = 86_400.0
#: labels a consumer remembers having applied to its feature state (to count a repeat once)
LABELS_REMEMBERED = 1_000_000


@dataclass(frozen=True)
class Topology:
    """Stream, subject and consumer names. The input stream holds both input subjects, so one
    consumer sees transactions and labels in the order they were published."""

    input_stream: str = "PESAGUARD_IN"
    transactions: str = "pesaguard.transactions"
    labels: str = "pesaguard.labels"
    decisions_stream: str = "PESAGUARD_DECISIONS"
    decisions: str = "pesaguard.decisions"
    dead_letter_stream: str = "PESAGUARD_DLQ"
    dead_letter: str = "pesaguard.deadletter"
    durable: str = "pesaguard-decider"
    #: how long the decisions and dead-letter streams remember a Nats-Msg-Id to drop a duplicate
    duplicate_window_s: float = 600.0


@dataclass(frozen=True)
class Tuning:
    max_in_flight: int = 512  # messages being decided at once (and fetched ahead)
    batch: int = 256  # messages per pull request, at most
    ack_wait_s: float = 30.0  # unacknowledged this long, the server delivers the message again
    max_deliveries: int = 8  # a message failing transiently this often goes to the dead-letter subject
    retry_delay_s: float = 0.5  # first redelivery delay after a transient failure; doubles, up to 30 s
    fetch_timeout_s: float = 0.05  # how long one pull waits when the stream is idle (bounds shutdown time)


class Dead(Exception):
    """A message that can never be decided: goes to the dead-letter subject with ``code`` and ``message``."""

    def __init__(self, code: str, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.code, self.message, self.field = code, message, field


def parse_transaction(data: bytes) -> TransactionIn:
    """The API's own payload model (same fields, bounds and ``extra="forbid"``), from JSON bytes."""
    try:
        return TransactionIn.model_validate_json(data)
    except ValidationError as exc:
        raise _dead_from(exc, "transaction") from exc


def parse_label(data: bytes) -> Label:
    """``{"txn_id", "is_fraud", "known_at_ms"[, "source", "typology"]}``."""
    try:
        return Label.model_validate_json(data)
    except ValidationError as exc:
        raise _dead_from(exc, "label") from exc


def _dead_from(exc: ValidationError, what: str) -> Dead:
    first = exc.errors()[0]
    if first["type"] == "json_invalid":
        return Dead("malformed_json", f"the message is not a JSON object: {first['msg']}")
    field = ".".join(str(p) for p in first["loc"]) or None
    return Dead(f"invalid_{what}", f"{field or what}: {first['msg']}", field)


def servers_shown(servers: str) -> str:
    """The NATS server list without credentials, for messages and logs.

    >>> servers_shown("nats://app:s3cret@nats-1:4222, nats://nats-2")
    'nats://nats-1:4222, nats://nats-2'
    """
    from urllib.parse import urlsplit

    shown = []
    for url in (u.strip() for u in servers.split(",") if u.strip()):
        try:
            parts = urlsplit(url if "://" in url else f"nats://{url}")
            host = parts.hostname or "?"
            shown.append(f"{parts.scheme}://{host}" + (f":{parts.port}" if parts.port else ""))
        except ValueError:
            shown.append("<unreadable URL>")
    return ", ".join(shown)


def _header(value: object) -> str:
    """A header value on one line (NATS headers are line-based), bounded."""
    return " ".join(str(value).split())[:1000]


async def ensure_stream(js: Any, name: str, subjects: list[str], create: bool = True, **config: Any) -> None:
    """Check that stream ``name`` exists with ``subjects`` (create it with ``config`` if missing and
    ``create``); a clear :class:`ConfigError` otherwise."""
    from nats.js.api import StorageType, StreamConfig
    from nats.js.errors import NotFoundError, ServiceUnavailableError

    try:
        info = await js.stream_info(name)
    except NotFoundError:
        if not create:
            raise ConfigError(f"JetStream stream {name} does not exist",
                              hint=f"create it with subjects {subjects}, or run without --no-create-streams") from None
        await js.add_stream(StreamConfig(name=name, subjects=subjects, storage=StorageType.FILE, **config))
        log.info("created stream %s for %s", name, ", ".join(subjects))
        return
    except ServiceUnavailableError as exc:  # nobody answers the JetStream API
        raise ConfigError("the NATS server does not have JetStream enabled",
                          setting="PESAGUARD_NATS_URL", hint="start it with `nats-server -js`") from exc
    missing = [s for s in subjects if s not in (info.config.subjects or [])]
    if missing:
        raise ConfigError(f"JetStream stream {name} exists but does not hold subject(s) {', '.join(missing)}",
                          hint=f"add them to the stream or pass other --subject options (it holds "
                               f"{info.config.subjects})")


class StreamConsumer:
    """Pulls from the input stream's durable consumer, decides, publishes, acknowledges."""

    def __init__(self, metrics: StreamMetrics, topology: Topology | None = None, tuning: Tuning | None = None,
                 create_streams: bool = True) -> None:
        # set by attach(): the consumer connects (and fails fast on a wrong URL) before the decision
        # service's warm-up, which can take a minute on a large store
        self.decider: DecisionService | None = None
        self.store: Store | None = None
        self.metrics = metrics
        self.t = topology or Topology()
        self.tuning = tuning or Tuning()
        self.create_streams = create_streams
        self.nc: Any = None
        self.js: Any = None
        self._sub: Any = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._slot = asyncio.Event()
        self._stop = asyncio.Event()
        self._paused_until = 0.0
        self._ready = False
        self._labels_applied: OrderedDict[tuple[str, bool, int, str], None] = OrderedDict()

    # -- connection and set-up ------------------------------------------------------------------
    async def connect(self, servers: str) -> None:
        """Connect, check JetStream, create the streams and the durable consumer if missing."""
        import nats
        from nats.errors import NoServersError

        async def disconnected() -> None:
            self.metrics.connected.set(0)
            if self._ready:  # not when close() is closing it
                log.warning("disconnected from NATS; reconnecting")

        async def reconnected() -> None:
            self.metrics.connected.set(1)
            log.warning("reconnected to NATS")

        async def error(exc: Exception) -> None:
            log.warning("NATS: %s", exc)

        urls = [u.strip() for u in servers.split(",") if u.strip()]
        try:
            # a few attempts per server at start (a wrong URL fails in seconds, a NATS starting
            # alongside is waited for); once connected, reconnect for ever
            self.nc = await nats.connect(servers=urls, name="pesaguard-consume", max_reconnect_attempts=3,
                                         reconnect_time_wait=1, connect_timeout=5, allow_reconnect=True,
                                         disconnected_cb=disconnected, reconnected_cb=reconnected,
                                         error_cb=error)
            self.nc.options["max_reconnect_attempts"] = -1  # read by the client at each reconnect
        except (TimeoutError, NoServersError, OSError) as exc:
            raise ConfigError(f"cannot reach a NATS server at {servers_shown(servers)}: {exc or type(exc).__name__}",
                              setting="PESAGUARD_NATS_URL",
                              hint="start one (`nats-server -js`) or point PESAGUARD_NATS_URL at yours") from exc
        self.metrics.connected.set(1)
        self.js = self.nc.jetstream()
        await self._ensure_streams()
        await self._ensure_consumer()
        self._ready = True

    async def _ensure_streams(self) -> None:
        t = self.t
        await self._ensure_stream(t.input_stream, [t.transactions, t.labels], max_age=7 * DAY_S)
        await self._ensure_stream(t.decisions_stream, [t.decisions], max_age=7 * DAY_S,
                                  duplicate_window=t.duplicate_window_s)
        await self._ensure_stream(t.dead_letter_stream, [t.dead_letter], max_age=30 * DAY_S,
                                  duplicate_window=t.duplicate_window_s)

    async def _ensure_stream(self, name: str, subjects: list[str], **config: Any) -> None:
        await ensure_stream(self.js, name, subjects, self.create_streams, **config)

    async def _ensure_consumer(self) -> None:
        from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
        from nats.js.errors import NotFoundError

        t, tu = self.t, self.tuning
        try:
            info = await self.js.consumer_info(t.input_stream, t.durable)
            if info.config.ack_wait and abs(info.config.ack_wait - tu.ack_wait_s) > 1e-6:
                log.warning("consumer %s keeps its ack wait of %.0f s (asked for %.0f s)", t.durable,
                            info.config.ack_wait, tu.ack_wait_s)
        except NotFoundError:
            # no filter subject: the consumer sees every input subject in stream order. Redeliveries
            # are unlimited on the server; this process dead-letters after max_deliveries itself, so
            # the reason is recorded (the server's own limit would drop it with an advisory only)
            await self.js.add_consumer(t.input_stream, ConsumerConfig(
                durable_name=t.durable, ack_policy=AckPolicy.EXPLICIT, deliver_policy=DeliverPolicy.ALL,
                ack_wait=tu.ack_wait_s, max_deliver=-1, max_ack_pending=4 * tu.max_in_flight))
        self._sub = await self.js.pull_subscribe_bind(durable=t.durable, stream=t.input_stream)

    def attach(self, decider: DecisionService, store: Store) -> None:
        """The decision service (and its store) that :meth:`run` decides with."""
        self.decider, self.store = decider, store

    @property
    def ready(self) -> bool:
        return (self._ready and self.decider is not None and self.nc is not None and self.nc.is_connected
                and not self._stop.is_set())

    # -- the loop -------------------------------------------------------------------------------
    def stop(self) -> None:
        """Stop fetching; :meth:`run` returns once the messages in hand are decided and acknowledged."""
        self._stop.set()
        self._slot.set()

    async def run(self) -> None:
        """Fetch and dispatch until :meth:`stop`; then finish what is in flight."""
        from nats.errors import TimeoutError as NatsTimeout

        if self.decider is None:
            raise RuntimeError("attach() a decision service before run()")
        lag_task = asyncio.create_task(self._watch_lag())
        try:
            while not self._stop.is_set():
                pause = self._paused_until - time.monotonic()
                if pause > 0:
                    with contextlib.suppress(asyncio.TimeoutError):
                        await asyncio.wait_for(self._stop.wait(), pause)
                    continue
                room = self.tuning.max_in_flight - len(self._tasks)
                if room <= 0:
                    self._slot.clear()
                    await self._slot.wait()
                    continue
                try:
                    msgs = await self._sub.fetch(min(self.tuning.batch, room), timeout=self.tuning.fetch_timeout_s)
                except (TimeoutError, NatsTimeout):
                    continue
                except Exception as exc:  # disconnected mid-pull: the client reconnects by itself
                    if self._stop.is_set():
                        break
                    log.warning("pull failed (%s); retrying", exc)
                    await asyncio.sleep(0.2)
                    continue
                await self._dispatch(msgs)
        finally:
            await self._finish_delivered()
            await self._drain()
            lag_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lag_task

    async def _dispatch(self, msgs: list[Any]) -> None:
        received = time.perf_counter()
        for msg in msgs:
            if msg.subject == self.t.labels:
                await self._drain()  # every transaction before it is decided first
                await self._handle_safely(msg, received, label=True)
            else:
                self._spawn(self._handle_safely(msg, received, label=False))

    async def _finish_delivered(self) -> None:
        """At a stop, handle the messages the server sent for a pull that returned before they
        arrived (nats-py keeps them for a next ``fetch`` that will not come, and a pull request that
        outlived its ``fetch`` may still deliver for up to ``fetch_timeout_s``): decided and
        acknowledged here rather than redelivered after the ack wait. Anything still arriving after
        2 s is given back with a ``nak``."""
        pending = getattr(getattr(self._sub, "_sub", None), "_pending_queue", None)  # no public accessor
        if pending is None:
            return
        quiet, deadline = 0, time.monotonic() + 2.0
        while quiet < 3:  # until nothing has arrived for ~60 ms
            if pending.empty():
                quiet += 1
                await asyncio.sleep(0.02)
                continue
            quiet = 0
            msgs = []
            while not pending.empty():
                msg = pending.get_nowait()
                if (msg.reply or "").startswith("$JS.ACK."):  # not a status message of the pull protocol
                    msgs.append(msg)
            if time.monotonic() < deadline:
                await self._dispatch(msgs)
                continue
            for msg in msgs:
                with contextlib.suppress(Exception):
                    await msg.nak(delay=self.tuning.retry_delay_s)
                self.metrics.messages.labels(
                    "label" if msg.subject == self.t.labels else "transaction", "released").inc()

    def _spawn(self, coro: Any) -> None:
        task = asyncio.ensure_future(coro)
        self._tasks.add(task)
        self.metrics.in_flight.set(len(self._tasks))
        task.add_done_callback(self._done)

    def _done(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        self.metrics.in_flight.set(len(self._tasks))
        self._slot.set()

    async def _drain(self) -> None:
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    async def _watch_lag(self) -> None:
        """Refresh the lag gauges from the server every 2 s (each message also updates the lag)."""
        while True:
            try:
                info = await self.js.consumer_info(self.t.input_stream, self.t.durable, timeout=2)
                self.metrics.lag.set(info.num_pending or 0)
                self.metrics.ack_pending.set(info.num_ack_pending or 0)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.debug("consumer info: %s", exc)
            await asyncio.sleep(2.0)

    # -- one message ----------------------------------------------------------------------------
    async def _handle_safely(self, msg: Any, received: float, label: bool) -> None:
        try:
            await self._handle(msg, received, label)
        except Exception as exc:  # NATS unreachable while dead-lettering or retrying: redelivered after ack_wait
            log.error("message %s left unacknowledged: %s", msg.metadata.sequence.stream, exc)

    async def _handle(self, msg: Any, received: float, label: bool) -> None:
        kind = "label" if label else "transaction"
        md = msg.metadata
        self.metrics.lag.set(md.num_pending)
        if md.num_delivered > 1:
            self.metrics.redeliveries.inc()
        try:
            assert self.decider is not None
            if label:
                await self._store_label(parse_label(msg.data))
                outcome = "stored"
            else:
                row = await self.decider.decide(parse_transaction(msg.data))
                await self.js.publish(self.t.decisions, orjson.dumps({k: row[k] for k in PUBLIC_FIELDS}),
                                      headers={"Nats-Msg-Id": row["decision_id"]})
                outcome = "decided"
            await msg.ack()
        except Dead as dead:
            await self._dead_letter(msg, dead)
            outcome = "dead_letter"
        except PesaguardError as exc:
            if exc.http_status < 500:  # the payload is at fault (a conflict, say): never retried
                await self._dead_letter(msg, Dead(exc.code, exc.message, exc.field))
                outcome = "dead_letter"
            else:
                outcome = await self._retry(msg, exc)
        except Exception as exc:
            outcome = await self._retry(msg, exc)
        self.metrics.messages.labels(kind, outcome).inc()
        if outcome != "retry":
            self.metrics.handle_seconds.observe(time.perf_counter() - received)
            self.metrics.end_to_end_seconds.observe(max(0.0, time.time() - md.timestamp.timestamp()))

    async def _store_label(self, lab: Label) -> None:
        df = pd.DataFrame({"txn_id": [lab.txn_id], "is_fraud": [int(lab.is_fraud)],
                           "known_at_ms": [lab.known_at_ms], "source": [lab.source], "typology": [lab.typology]})
        assert self.decider is not None and self.store is not None
        core.insert_labels(self.store, df)  # stored once by its id, whoever stored it first
        # counted once by this process, however often it comes: by its own record of the labels it
        # has applied, not by whether the insert above added a row, since a label the API recorded
        # (and published, pesaguard.stream.labels) is already in a store the two share
        key = (lab.txn_id, lab.is_fraud, lab.known_at_ms, lab.source)
        if key not in self._labels_applied:
            self._labels_applied[key] = None
            if len(self._labels_applied) > LABELS_REMEMBERED:
                self._labels_applied.popitem(last=False)
            self.decider.add_labels([(lab.txn_id, lab.is_fraud, lab.known_at_ms)])

    async def _retry(self, msg: Any, exc: Exception) -> str:
        n = msg.metadata.num_delivered
        if n >= self.tuning.max_deliveries:
            await self._dead_letter(msg, Dead("gave_up", f"failed {n} deliveries; last error: {exc}"))
            return "dead_letter"
        delay = min(30.0, self.tuning.retry_delay_s * 2 ** (n - 1))
        log.warning("message %s (delivery %d) failed, retrying in %.1f s: %s", msg.metadata.sequence.stream, n,
                    delay, exc)
        # stop pulling for a while too: a failing store or journal fails every message alike
        self._paused_until = max(self._paused_until, time.monotonic() + min(delay, 5.0))
        with contextlib.suppress(Exception):
            await msg.nak(delay=delay)
        return "retry"

    async def _dead_letter(self, msg: Any, dead: Dead) -> None:
        """Republish the message unchanged with the reason in its headers, then acknowledge it."""
        md = msg.metadata
        headers = {
            # a redelivered bad message is dead-lettered once (the stream drops the repeat)
            "Nats-Msg-Id": f"dlq-{md.stream}-{md.sequence.stream}",
            "Pesaguard-Reason": dead.code,
            "Pesaguard-Error": _header(dead.message),
            "Pesaguard-Subject": msg.subject,
            "Pesaguard-Stream-Seq": str(md.sequence.stream),
            "Pesaguard-Deliveries": str(md.num_delivered),
        }
        if dead.field:
            headers["Pesaguard-Field"] = _header(dead.field)
        await self.js.publish(self.t.dead_letter, msg.data, headers=headers)
        self.metrics.dead_letters.labels(dead.code).inc()
        log.warning("message %s on %s dead-lettered: %s: %s", md.sequence.stream, msg.subject, dead.code, dead.message)
        await msg.ack()

    async def close(self) -> None:
        """After :meth:`run`: flush the connection (pending acknowledgements included) and close it."""
        self._ready = False
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.flush(timeout=5)
            await self.nc.close()
        self.metrics.connected.set(0)
