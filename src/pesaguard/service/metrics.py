"""Prometheus metrics, one registry per app (so tests can build many apps in one process).

The request middleware is plain ASGI rather than ``BaseHTTPMiddleware``: the latter adds a task and
a queue per request, which costs measurable throughput on the scoring path.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send


class Metrics:
    """The service's counters and histograms."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter("pesaguard_http_requests_total", "HTTP requests by route and status",
                                ["method", "route", "status"], registry=self.registry)
        self.latency = Histogram("pesaguard_http_request_seconds", "HTTP request latency by route",
                                 ["route"], registry=self.registry,
                                 buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1.0, 5.0))
        self.decisions = Counter("pesaguard_decisions_total", "Decisions by action", ["action"],
                                 registry=self.registry)
        self.rule_hits = Counter("pesaguard_rule_hits_total", "Operator rule hits by rule", ["rule"],
                                 registry=self.registry)
        self.commit_batch = Histogram("pesaguard_commit_batch_size", "Decisions per journal write (one per event-loop iteration)",
                                      registry=self.registry, buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
        self.queue_depth = Gauge("pesaguard_write_queue_depth", "Decisions acknowledged or waiting to be written, not in the store yet",
                                 registry=self.registry)
        # SQLite's write-ahead log, which the journal's copying process writes into
        self.wal_bytes = Gauge("pesaguard_sqlite_wal_bytes", "Size of the SQLite write-ahead log file",
                               registry=self.registry)


class MetricsMiddleware:
    """Counts requests and their latency by route template (never by raw path: bounded labels)."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics
        # Bound children per label set: ``labels()`` validates, takes a lock and builds a key on
        # every call, a measurable share of a decision's CPU; the label sets are bounded (route
        # templates), and a child stays valid for the registry's lifetime.
        self._counters: dict[tuple[str, str, int], Any] = {}
        self._histograms: dict[str, Any] = {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = {"code": 500}

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            route: Any = scope.get("route")
            name = getattr(route, "path", None) or "unmatched"
            key = (scope["method"], name, status["code"])
            counter = self._counters.get(key)
            if counter is None:
                counter = self._counters[key] = self.metrics.requests.labels(key[0], name, str(key[2]))
            counter.inc()
            histogram = self._histograms.get(name)
            if histogram is None:
                histogram = self._histograms[name] = self.metrics.latency.labels(name)
            histogram.observe(time.perf_counter() - start)


def serve_metrics(bind: str, registry: CollectorRegistry) -> Callable[[], None]:
    """Serve ``registry`` at ``http://BIND/metrics`` without credentials (``PESAGUARD_METRICS_BIND``,
    for a scraper on a private interface) from a thread; returns the function that stops it."""
    from prometheus_client import start_http_server

    from pesaguard.errors import ConfigError

    host, _, port = bind.rpartition(":")
    if not host or not port.isdigit():
        raise ConfigError(f"PESAGUARD_METRICS_BIND must be HOST:PORT, not {bind!r}", setting="PESAGUARD_METRICS_BIND",
                          hint="for example 127.0.0.1:9464")
    try:
        server, thread = start_http_server(int(port), addr=host.strip("[]"), registry=registry)
    except OSError as exc:
        raise ConfigError(f"cannot serve metrics on {bind}: {exc.strerror or exc}", setting="PESAGUARD_METRICS_BIND",
                          hint="choose a free port on an address of this machine") from exc

    def stop() -> None:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)

    return stop
