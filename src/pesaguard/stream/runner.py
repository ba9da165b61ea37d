"""Run the stream consumer as a process: build the decision service as ``pesaguard serve`` does,
serve ``/healthz``, ``/readyz`` and ``/metrics`` on a port of its own, consume until SIGTERM/SIGINT,
then stop cleanly (finish the messages in hand, acknowledge them, let the journal reach the store).
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

from pesaguard.config import Settings
from pesaguard.decisions.decider import DecisionService
from pesaguard.decisions.journal import Journal, recover
from pesaguard.decisions.loader import load_policy, load_scorer, warm_up
from pesaguard.service.metrics import Metrics
from pesaguard.store import Store, open_store
from pesaguard.stream.consumer import StreamConsumer, Topology, Tuning, servers_shown
from pesaguard.stream.metrics import StreamMetrics

log = logging.getLogger("pesaguard.stream")


def build_decider(settings: Settings, metrics: Metrics, scorer: Any = None,
                  rules_path: Path | None = None, warm: bool = True) -> tuple[Store, DecisionService]:
    """The store and a decision service configured like the API's (journal, warm-up, shadow model).
    ``warm=False``: the feature state starts empty (a cluster replica rebuilds it from the stream).

    Raises :class:`pesaguard.errors.ModelNotReadyError` without a champion model: unlike the API,
    which still serves cases and the console, a consumer without a model has nothing to do.
    """
    from pesaguard.monitoring.shadow import load_shadow

    settings.ensure_home()
    store = open_store(settings)
    try:
        journal_dir = settings.home / "journal"
        recovered = recover(store, journal_dir)
        if recovered:
            log.warning("stored %d decisions from the journal of an earlier run", recovered)
        scorer = scorer or load_scorer(settings)
        policy = load_policy(settings, rules_path, scorer)
        if warm:
            replayed = warm_up(scorer, store)
            log.info("feature state warmed with %d stored transactions", replayed)
        shadow = load_shadow(store, settings, settings.shadow_model)
        gc.collect()
        gc.freeze()  # see pesaguard.service.app: long-lived objects out of the collector's full passes
        journal = Journal(store, journal_dir, settings.resolved_database_url,
                          max_lag=settings.decision_journal_max_lag, cache_mb=settings.sqlite_writer_cache_mb)
        decider = DecisionService(store, scorer, policy, metrics, shadow=shadow, journal=journal)
    except BaseException:
        store.close()
        raise
    return store, decider


def health_app(consumer: StreamConsumer, metrics: Metrics) -> Starlette:
    """``/healthz`` (the event loop answers), ``/readyz`` (connected, consuming, journal copier up),
    ``/metrics`` (stream and decision metrics). No authentication: probes and scrapers call these."""

    def checks() -> dict[str, str]:
        out = {"nats": "ok" if consumer.ready else "not connected, not consuming yet, or stopping"}
        if consumer.decider is not None:
            alive = consumer.decider.writer.ingester_alive()
            out["journal"] = "ok" if alive else "the journal's ingester process is not running"
        return out

    async def healthz(_: Request) -> Response:
        return JSONResponse({"status": "ok"})

    async def readyz(_: Request) -> Response:
        found = checks()
        ok = all(v == "ok" for v in found.values())
        return JSONResponse({"status": "ready" if ok else "not_ready", "checks": found}, status_code=200 if ok else 503)

    async def prometheus(_: Request) -> Response:
        return PlainTextResponse(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return Starlette(routes=[Route("/healthz", healthz), Route("/readyz", readyz), Route("/metrics", prometheus)])


class _HttpServer:
    """uvicorn on this event loop, leaving SIGTERM/SIGINT to the consumer (uvicorn's ``serve``
    would take them over)."""

    def __init__(self, app: Starlette, host: str, port: int) -> None:
        import uvicorn

        class Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        self.server = Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                            lifespan="off"))
        self.task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        self.task = asyncio.create_task(self.server.serve())
        while not self.server.started:
            if self.task.done():
                self.task.result()  # raises why it could not start (port in use, say)
                raise OSError("the metrics server stopped at start-up")
            await asyncio.sleep(0.01)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self.task is not None:
            await self.task


async def consume(settings: Settings, *, host: str = "0.0.0.0", port: int = 9100, scorer: Any = None,
                  rules_path: Path | None = None, topology: Topology | None = None, tuning: Tuning | None = None,
                  create_streams: bool = True, on_ready: Callable[[StreamConsumer], None] | None = None,
                  cluster: bool = False, snapshot_every: int = 100_000) -> int:
    """Consume until SIGTERM or SIGINT; returns the number of messages handled.

    ``cluster``: one replica of many sharing the stream (:mod:`pesaguard.cluster`): the feature
    state is rebuilt from the input stream (from a snapshot taken every ``snapshot_every`` messages)
    instead of warmed from the store."""
    metrics = Metrics()
    stream_metrics = StreamMetrics(metrics.registry)
    consumer: StreamConsumer
    if cluster:
        from pesaguard.cluster.consumer import ClusterConsumer

        consumer = ClusterConsumer(stream_metrics, topology, tuning, create_streams=create_streams,
                                   snapshot_every=snapshot_every, registry=metrics.registry)
    else:
        consumer = StreamConsumer(stream_metrics, topology, tuning, create_streams=create_streams)
    http = _HttpServer(health_app(consumer, metrics), host, port)
    loop = asyncio.get_running_loop()
    store: Store | None = None
    decider: DecisionService | None = None
    try:
        await http.start()  # /healthz answers while connecting; /readyz once consuming
        await consumer.connect(settings.nats_url)  # a wrong URL fails now, before the warm-up
        store, decider = build_decider(settings, metrics, scorer=scorer, rules_path=rules_path, warm=not cluster)
        metrics.queue_depth.set_function(decider.writer.pending)
        consumer.attach(decider, store)
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, consumer.stop)
        log.info("consuming %s and %s from %s; decisions to %s", consumer.t.transactions, consumer.t.labels,
                 servers_shown(settings.nats_url), consumer.t.decisions)
        if on_ready is not None:
            on_ready(consumer)
        await consumer.run()
    finally:
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)
        await consumer.close()
        if decider is not None:
            decider.close()  # the journal's last decisions reach the store before the process ends
        await http.stop()
        if store is not None:
            store.close()
    return int(sum(s.value for m in stream_metrics.messages.collect() for s in m.samples
                   if s.name.endswith("_total")))
