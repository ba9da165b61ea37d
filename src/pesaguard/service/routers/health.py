"""Liveness, readiness and Prometheus metrics. No authentication: probes and scrapers call these."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@router.get("/healthz", response_model=Health, summary="Liveness: the process answers")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/readyz", response_model=Readiness, summary="Readiness: store reachable, model loaded",
            responses={503: {"model": Readiness, "description": "not ready; checks say which part"}})
def readyz(request: Request) -> Any:
    checks: dict[str, str] = {}
    for name, check in request.app.state.ready_checks.items():
        try:
            checks[name] = check()
        except Exception as exc:  # a probe reports, it never raises
            checks[name] = f"failed: {exc}"
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse({"status": "ready" if ok else "not_ready", "checks": checks},
                        status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}}})
def metrics(request: Request) -> Response:
    return Response(generate_latest(request.app.state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
