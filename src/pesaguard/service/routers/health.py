"""Liveness, readiness and Prometheus metrics.

``/healthz`` and ``/readyz`` need no credentials (probes call them) and say nothing about the host
(server paths are scrubbed). ``/metrics`` names rules and counts their hits, which would tell a
fraudster which rules exist: it needs an API key (any role) or ``PESAGUARD_METRICS_TOKEN`` as a
bearer token; ``PESAGUARD_METRICS_BIND`` serves it without credentials on a separate listener meant
for a private interface.
"""

from __future__ import annotations

import hmac
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

from pesaguard.errors import AuthError
from pesaguard.service.errors import scrub

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness,
            summary="Readiness: store reachable, its copy from the journal working, models loaded (ready, "
                    "degraded when only the SMS model is missing, or not_ready)",
            responses={503: {"model": Readiness, "description": "not ready; checks say which part"}})
def readyz(request: Request) -> Any:
    checks: dict[str, str] = {}
    for name, check in request.app.state.ready_checks.items():
        try:
            checks[name] = scrub(check())
        except Exception as exc:  # a probe reports, it never raises
            checks[name] = scrub(f"failed: {exc}")
    # The SMS model serves one endpoint: when it cannot be loaded the service is "degraded" (200,
    # SMS checks answer 503) rather than taken out of rotation with the decisions it can still make.
    # "off: ..." is a part that is not configured: reported, not a failure.
    failed = {k for k, v in checks.items() if v != "ok" and not v.startswith("off:")}
    status = "not_ready" if failed - OPTIONAL else "degraded" if failed else "ready"
    return JSONResponse({"status": status, "checks": checks}, status_code=503 if status == "not_ready" else 200)


#: Checks whose failure leaves the decision path working (label_stream: labels answer 503 until
#: NATS is back, pesaguard.stream.labels).
OPTIONAL = frozenset({"sms_model", "label_stream"})


@router.get("/metrics", summary="Prometheus metrics (an API key, or the metrics token as a bearer token)",
            response_class=Response, responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    _check_metrics_access(request)
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)


def _check_metrics_access(request: Request) -> None:
    settings = request.app.state.settings
    if settings.metrics_bind:
        raise AuthError("metrics are served on the separate metrics listener (PESAGUARD_METRICS_BIND)",
                        hint=f"scrape http://{settings.metrics_bind}/metrics")
    scheme, _, credentials = request.headers.get("authorization", "").partition(" ")
    key = credentials.strip() if scheme.lower() == "bearer" else request.headers.get("x-api-key", "")
    token = settings.metrics_token
    if key and token and hmac.compare_digest(key.encode(), token.encode()):
        return
    if not key:
        raise AuthError("/metrics needs credentials",
                        hint="send an API key (`Authorization: Bearer KEY` or `X-API-Key: KEY`) or the "
                             "PESAGUARD_METRICS_TOKEN as a bearer token")
    request.app.state.key_verifier.verify(key)
