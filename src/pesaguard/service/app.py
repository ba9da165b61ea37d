"""The FastAPI app factory.

How a router plugs in: write ``pesaguard/service/routers/<area>.py`` exposing an ``APIRouter`` named
``router`` with full paths (``/v1/...``) and add one import and one ``include_router`` line in
:func:`create_app`. Use the dependencies from :mod:`pesaguard.service.deps`:
``Depends(get_store)``, ``Depends(get_settings_dep)`` and ``Depends(require_role("scorer"))``
(roles: scorer < analyst < admin). Raise :mod:`pesaguard.errors` subclasses for failures; the
handlers in :mod:`pesaguard.service.errors` turn them into the one JSON envelope with the class's
HTTP status. Keep business logic in the area package; a router only translates HTTP.
"""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from pesaguard import __version__
from pesaguard.config import Settings, get_settings
from pesaguard.console import routes as console
from pesaguard.decisions.decider import DecisionService, EventWindow
from pesaguard.decisions.journal import Journal, recover
from pesaguard.decisions.loader import load_policy, load_scorer, warm_up
from pesaguard.errors import PesaguardError
from pesaguard.monitoring.gauges import install as install_monitoring_gauges
from pesaguard.monitoring.shadow import load_shadow
from pesaguard.service import errors
from pesaguard.service.auth import KeyVerifier
from pesaguard.service.fastpath import BodyLimit, FastDecisions
from pesaguard.service.metrics import Metrics, MetricsMiddleware, serve_metrics
from pesaguard.service.routers import assistant, cases, decisions, health, keys, labels, sms, transactions
from pesaguard.store import open_store
from pesaguard.stream import labels as labels_stream

log = logging.getLogger("pesaguard.service")

DESCRIPTION = """Real-time fraud decisions for mobile money, SMS scam checks, cases and labels.

Authenticate with an API key: `Authorization: Bearer KEY` or `X-API-Key: KEY`
(`pesaguard keys create --role scorer|analyst|admin`). Errors share one envelope:
`{"error": {"code", "message", "hint", "field", ...}}`."""


def create_app(settings: Settings | None = None, **options: Any) -> FastAPI:
    """Build the app: store, auth, error envelope, metrics and every area's router.

    ``options`` are passed to the decision service (``scorer=``, ``policy=``) so tests and the
    demo can inject a model or rules; by default the champion model and HOME/rules.yaml are used.
    """
    settings = settings or get_settings()
    store = open_store(settings)
    metrics = Metrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        _start_decisions(app, settings, options)
        if labels_stream.enabled(settings):  # labels to the stream's consumers as well
            publisher = labels_stream.LabelPublisher(settings.nats_url)
            publisher.start()
            app.state.label_publisher = publisher
            app.state.ready_checks["label_stream"] = lambda: "ok" if publisher.connected else "not connected to NATS"
        if settings.metrics_bind:
            app.state.shutdown_hooks.append(serve_metrics(settings.metrics_bind, metrics.registry))
        yield
        for hook in app.state.shutdown_hooks:
            hook()
        if app.state.label_publisher is not None:
            await app.state.label_publisher.close()
        store.close()

    app = _ServiceAPI(title="pesaguard", version=__version__, description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.metrics = metrics
    # drift and alert-rate gauges, read from the latest stored monitoring snapshot (never recomputed)
    app.state.monitoring_gauges = install_monitoring_gauges(metrics.registry, store)
    app.state.key_verifier = KeyVerifier(store)
    app.state.shutdown_hooks = []
    app.state.ready_checks = {"store": store.probe, "sms_model": lambda: sms_model_state(settings)}
    app.state.decider = None
    app.state.decider_error = None
    app.state.label_publisher = None
    errors.install(app)

    app.include_router(health.router)
    app.include_router(keys.router)
    app.include_router(transactions.router)
    app.include_router(decisions.router)
    app.include_router(labels.router)
    app.include_router(cases.router)
    app.include_router(sms.router)
    app.include_router(assistant.router)
    console.install(app)
    return app


class _ServiceAPI(FastAPI):
    """FastAPI behind two plain ASGI layers: the request metrics, then the decision fast path
    (:mod:`pesaguard.service.fastpath`), then FastAPI's own stack for everything else.

    Why in front of FastAPI rather than added with ``add_middleware`` (inside its stack): per
    request FastAPI checks three OpenTelemetry providers and runs Starlette's entry, its
    server-error, exception-telemetry and body-limit layers; on ``POST /v1/transactions``, which
    answers its own errors in the same envelope, that was ~3% of a decision's CPU (py-spy).
    """

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._front: Any = None

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if self._front is None:
            inner = super().__call__
            limit = self.state.settings.max_body_bytes
            self._front = MetricsMiddleware(BodyLimit(FastDecisions(inner, state=self.state), limit),
                                            metrics=self.state.metrics)
        await self._front(scope, receive, send)


def app_from_env() -> FastAPI:
    """Factory for ``uvicorn --factory`` (used by ``pesaguard serve``, also in each worker process):
    settings from the environment, the rules file from ``PESAGUARD_RULES`` if set."""
    rules = os.environ.get("PESAGUARD_RULES")
    return create_app(rules_path=Path(rules) if rules else None)


def sms_model_state(settings: Settings) -> str:
    """The SMS model for readiness: "ok", "off: ..." when none is trained (SMS checks answer 503, the
    rest of the service works), else why it cannot be loaded."""
    try:
        from pesaguard.sms import train
    except ImportError as exc:
        return f"off: the SMS package cannot be loaded ({exc})"
    try:
        train.load_text_model(settings)
    except PesaguardError as exc:
        # no model file at all: SMS checks answer 503 and the rest works; a model that is there but
        # cannot be loaded is a fault to fix
        locate = getattr(train, "model_path", None)
        missing = locate is not None and not locate(settings).is_file()
        return f"off: {exc.message}" if missing else exc.message
    return "ok"


def _start_decisions(app: FastAPI, settings: Settings, options: dict[str, Any]) -> None:
    """Load the scorer and policy and start the writer. Without a model the service still starts
    (health, cases, labels, console work) and decisions answer 503 until a model is trained;
    a bad rules file, on the other hand, stops start-up: it is an operator error to fix now."""
    store = app.state.store
    journal_dir = settings.home / "journal"
    # decisions an earlier run acknowledged but had not copied into the store yet, before the
    # feature state is warmed from the store (pesaguard.decisions.journal)
    recovered = recover(store, journal_dir)
    if recovered:
        log.warning("stored %d decisions from the journal of an earlier run", recovered)
    try:
        scorer = options.get("scorer") or load_scorer(settings)
    except PesaguardError as exc:
        log.warning("decisions disabled: %s", exc)
        app.state.decider_error = exc
        reason = f"not loaded: {exc.message}"
        app.state.ready_checks["model"] = lambda: reason
        return
    policy = options.get("policy") or load_policy(settings, options.get("rules_path"), scorer)
    window = EventWindow.from_settings(settings)
    if options.get("warm_up", True):
        warm_up(scorer, store, ahead_ms=window.ahead_ms)
    # Everything loaded so far (libraries, model, warmed feature state) lives as long as the process.
    # Without this, each full collection walks it all: measured 250-450 ms pauses under load, which
    # is the whole p99 budget many times over. Frozen objects are never scanned again.
    # shadow mode (PESAGUARD_SHADOW_MODEL): a second model scores next to the champion, logged apart
    shadow = options.get("shadow") or load_shadow(store, settings, settings.shadow_model)
    gc.collect()
    gc.freeze()
    journal = Journal(store, journal_dir, settings.resolved_database_url, max_lag=settings.decision_journal_max_lag,
                      # half the grace period: uvicorn gives open requests the other half (cli/serve.py)
                      cache_mb=settings.sqlite_writer_cache_mb, grace_s=settings.shutdown_grace_s / 2)
    decider = DecisionService(store, scorer, policy, app.state.metrics, shadow=shadow, journal=journal, window=window)
    app.state.decider = decider
    app.state.shutdown_hooks.append(decider.close)
    app.state.ready_checks["model"] = lambda: "ok"
    app.state.ready_checks["journal"] = journal.health
    metrics = app.state.metrics
    metrics.queue_depth.set_function(decider.writer.pending)
    metrics.wal_bytes.set_function(decider.writer.wal_bytes)
