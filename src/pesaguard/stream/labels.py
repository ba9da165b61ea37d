"""Labels recorded by the API, published to the input stream that stream consumer replicas apply.

Beside ``pesaguard consume --cluster`` the replicas' feature state is built from the input stream
alone, so a label posted to ``POST /v1/labels`` (or set by resolving a case) reaches their
label-based features only through that stream. An API given a NATS server (``PESAGUARD_NATS_URL``
set, as in every deployment that runs consumers beside it) publishes each label it records to the
labels subject (``pesaguard.labels``) after storing it, and answers only once JetStream has stored
it. Without ``PESAGUARD_NATS_URL`` (one API on its own) nothing is published.

Idempotent: each message carries the label's id (:func:`pesaguard.store.core.label_id`: transaction,
label, time known, source) as ``Nats-Msg-Id``, so the stream drops a repeat within its duplicate
window, and every replica counts a label once whenever it comes again
(:class:`pesaguard.cluster.machine.StateMachine`). A label whose publish fails is stored but not yet
in the stream: the API answers 503 and the client's retry (the same label) publishes it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

import orjson

from pesaguard.errors import ConfigError, PesaguardError
from pesaguard.store.core import label_id
from pesaguard.stream.consumer import DAY_S, Topology, ensure_stream, servers_shown

log = logging.getLogger("pesaguard.stream")

class LabelStreamUnavailable(PesaguardError):
    """The label is stored, but the stream the replicas read could not take it: retry."""

    exit_code = 75  # EX_TEMPFAIL
    http_status = 503
    code = "label_stream_unavailable"


def enabled(settings: Any) -> bool:
    """Whether the API publishes labels: ``nats_url`` was given (environment, ``pesaguard.toml`` or
    an argument), not left at its default.

    >>> from pesaguard.config import Settings
    >>> enabled(Settings(nats_url="nats://nats:4222")), enabled(Settings())
    (True, False)
    """
    return "nats_url" in settings.model_fields_set


def message(txn_id: str, is_fraud: bool, known_at_ms: int, source: str, typology: str | None = None) -> tuple[
        bytes, dict[str, str]]:
    """The stream message for one label: the body the consumers parse and its headers.

    >>> body, headers = message("T1", True, 1717200000000, "analyst")
    >>> body
    b'{"txn_id":"T1","is_fraud":true,"known_at_ms":1717200000000,"source":"analyst","typology":null}'
    >>> headers["Nats-Msg-Id"] == "label-" + label_id("T1", True, 1717200000000, "analyst")
    True
    """
    body = orjson.dumps({"txn_id": txn_id, "is_fraud": bool(is_fraud), "known_at_ms": int(known_at_ms),
                         "source": source, "typology": typology})
    return body, {"Nats-Msg-Id": "label-" + label_id(txn_id, bool(is_fraud), int(known_at_ms), source)}


class LabelPublisher:
    """A NATS connection on the API's event loop; :meth:`publish` is called from request threads.

    :meth:`start` connects in the background, retrying until NATS answers (the API starts, and
    serves everything else, while NATS is still coming up; labels answer 503 until then)."""

    def __init__(self, servers: str, topology: Topology | None = None, timeout_s: float = 5.0) -> None:
        self.servers, self.t, self.timeout_s = servers, topology or Topology(), timeout_s
        self.nc: Any = None
        self.js: Any = None
        self.loop: asyncio.AbstractEventLoop | None = None
        self._connecting: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Connect from a background task on the running loop."""
        self.loop = asyncio.get_running_loop()
        self._connecting = self.loop.create_task(self._connect_until_done())

    async def _connect_until_done(self, retry_s: float = 2.0) -> None:
        warned = False
        while True:
            try:
                await self.connect()
                return
            except ConfigError as exc:
                if not warned:
                    log.warning("%s; labels answer 503 until it does (retrying every %.0f s)", exc.message, retry_s)
                    warned = True
                await asyncio.sleep(retry_s)

    async def connect(self) -> None:
        """Connect (a few attempts; once connected, reconnect for ever) and make sure the input
        stream holds the labels subject (created as ``pesaguard consume`` creates it, if no
        consumer has yet)."""
        import nats
        from nats.errors import NoServersError

        t = self.t

        async def error(exc: Exception) -> None:
            log.warning("NATS (labels): %s", exc)

        urls = [u.strip() for u in self.servers.split(",") if u.strip()]
        try:
            nc = await nats.connect(servers=urls, name="pesaguard-api-labels", max_reconnect_attempts=3,
                                    reconnect_time_wait=1, connect_timeout=5, error_cb=error)
            nc.options["max_reconnect_attempts"] = -1
        except (TimeoutError, NoServersError, OSError) as exc:
            raise ConfigError(f"no NATS server answers at {servers_shown(self.servers)} for the labels: "
                              f"{exc or type(exc).__name__}", setting="PESAGUARD_NATS_URL") from exc
        js = nc.jetstream()
        try:
            await ensure_stream(js, t.input_stream, [t.transactions, t.labels], create=True, max_age=7 * DAY_S)
        except BaseException:
            await nc.close()
            raise
        self.nc, self.js = nc, js
        log.info("labels recorded by the API are published to %s on %s", t.labels, servers_shown(self.servers))

    @property
    def connected(self) -> bool:
        return self.nc is not None and bool(self.nc.is_connected)

    def publish(self, labels: list[tuple[str, bool, int, str, str | None]]) -> None:
        """Publish (txn_id, is_fraud, known_at_ms, source, typology) labels and wait until JetStream
        has stored each. From a thread other than the event loop's (the API's request threads).
        Raises :class:`LabelStreamUnavailable` when it cannot."""
        if not labels:
            return
        if self.js is None or self.loop is None:
            raise LabelStreamUnavailable(
                f"the label is stored but not published to {self.t.labels} for the stream consumer replicas: "
                f"not connected to NATS at {servers_shown(self.servers)} yet",
                hint="send the same label again once NATS answers: it is stored once and published once")
        try:
            on_loop = asyncio.get_running_loop() is self.loop
        except RuntimeError:
            on_loop = False
        if on_loop:  # waiting here would block the loop the publish needs
            raise RuntimeError("LabelPublisher.publish is for request threads, not the event loop's own")
        fut = asyncio.run_coroutine_threadsafe(self._publish(labels), self.loop)
        try:
            fut.result(self.timeout_s)
        except Exception as exc:
            fut.cancel()
            raise LabelStreamUnavailable(
                f"the label is stored but could not be published to {self.t.labels} for the stream "
                f"consumer replicas: {exc or type(exc).__name__}",
                hint="send the same label again: it is stored once and published once") from exc

    async def _publish(self, labels: list[tuple[str, bool, int, str, str | None]]) -> None:
        for txn_id, is_fraud, known_at_ms, source, typology in labels:
            body, headers = message(txn_id, is_fraud, known_at_ms, source, typology)
            await self.js.publish(self.t.labels, body, headers=headers, timeout=self.timeout_s)

    async def close(self) -> None:
        if self._connecting is not None and not self._connecting.done():
            self._connecting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._connecting
        if self.nc is not None and not self.nc.is_closed:
            with contextlib.suppress(Exception):
                await self.nc.flush(timeout=2)
            await self.nc.close()
