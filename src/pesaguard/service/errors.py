"""One JSON error envelope for every failure: ``{"error": {"code", "message", "hint", "file", "row",
"field", "setting"[, "details"]}}`` with the HTTP status taken from the error class.

Request validation failures become ``invalid_input`` (422) with one ``details`` entry per field;
unknown routes and methods keep their 404/405 in the same envelope; a database that cannot be
reached is a 503 with ``Retry-After``; anything unexpected is a 500 envelope that hides the
internals (and is logged with its traceback). Server file paths never reach a client: they are
shortened to their last part (:func:`scrub`).
"""

from __future__ import annotations

import logging
import re
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from pesaguard.errors import PesaguardError
from pesaguard.service.types import CLEAN_PATTERN, unprintable

log = logging.getLogger("pesaguard.service")

_HTTP_CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
               405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
               422: "invalid_input", 429: "too_many_requests"}


#: An absolute file path (two parts at least) not preceded by a word, a dot or a URL scheme.
_PATH = re.compile(r"(?<![\w.:/~-])/(?:[\w.@+~-]+/)+([\w.@+~-]*)")
#: Paths of this service's own routes, which hints name on purpose.
_ROUTES = ("/v1/", "/console/", "/docs", "/redoc", "/openapi.json", "/healthz", "/readyz", "/metrics")


def scrub(text: str) -> str:
    """``text`` with server file paths cut to their last part.

    >>> scrub("cannot open SQLite database /srv/pesaguard/home/pesaguard.db: disk I/O error")
    'cannot open SQLite database …/pesaguard.db: disk I/O error'
    >>> scrub("list keys with GET /v1/keys")
    'list keys with GET /v1/keys'
    """
    return _PATH.sub(lambda m: m.group(0) if m.group(0).startswith(_ROUTES) else f"…/{m.group(1)}", text)


def error_body(exc: PesaguardError) -> dict[str, Any]:
    """The envelope of ``exc`` as a client sees it (server paths scrubbed)."""
    body = exc.to_dict()
    inner = body["error"]
    for key in ("message", "hint", "file"):
        if isinstance(inner.get(key), str):
            inner[key] = scrub(inner[key])
    return body


def envelope(code: str, message: str, *, hint: str | None = None, field: str | None = None,
             details: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"code": code, "message": message, "hint": hint, "file": None, "row": None,
                            "field": field, "setting": None}
    if details is not None:
        body["details"] = details
    return {"error": body}


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    # ("body", "amount_minor") -> "amount_minor"; ("body", "items", 3, "ts_ms") -> "items[3].ts_ms"
    parts = list(loc[1:] if loc and loc[0] in ("body", "query", "path", "header", "cookie") else loc)
    out = ""
    for p in parts:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out or (str(loc[0]) if loc else "body")


async def _pesaguard_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, PesaguardError)
    if exc.http_status >= 500:
        log.error("%s %s failed: %s", request.method, request.url.path, exc)
    return JSONResponse(error_body(exc), status_code=exc.http_status, headers=error_headers(exc))


def error_headers(exc: PesaguardError) -> dict[str, str] | None:
    if exc.http_status == 401:
        return {"WWW-Authenticate": "Bearer"}
    if exc.http_status in (429, 503):
        return {"Retry-After": "1"}
    return None


async def _validation_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    details = [{"field": _field(e.get("loc", ())), "message": _message(e), "type": e.get("type", "")}
               for e in exc.errors()]
    first = details[0] if details else {"field": "body", "message": "invalid request"}
    message = f"{len(details)} invalid field(s); first: {first['field']}: {first['message']}"
    body = envelope("invalid_input", message, field=first["field"], details=details,
                    hint="correct the fields listed in details; the schema is at /openapi.json")
    return JSONResponse(body, status_code=422)


def _message(error: dict[str, Any]) -> str:
    """pydantic's message, except for an id with an unprintable character: say which one and where."""
    if error.get("type") == "string_pattern_mismatch" and (error.get("ctx") or {}).get("pattern") == CLEAN_PATTERN:
        return unprintable(error.get("input")) or str(error.get("msg", ""))
    return str(error.get("msg", ""))


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = _HTTP_CODES.get(exc.status_code, "http_error")
    hint = "see /docs for the routes and methods" if exc.status_code in (404, 405) else None
    return JSONResponse(envelope(code, str(exc.detail), hint=hint), status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))


async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
    if unreachable_store(exc):
        log.error("%s %s: the database is unreachable: %s", request.method, request.url.path, exc)
        return JSONResponse(envelope("store_unavailable", "the database cannot be reached right now",
                                     hint="retry shortly"), status_code=503, headers={"Retry-After": "1"})
    log.exception("unhandled error on %s %s", request.method, request.url.path, exc_info=exc)
    return JSONResponse(envelope("internal_error", "internal error; the details are in the server log",
                                 hint="report this with the time of the request"), status_code=500)


def unreachable_store(exc: BaseException) -> bool:
    """A database driver's connection failure that escaped the store's own handling."""
    return type(exc).__module__.startswith("psycopg") and any(
        c.__name__ in ("OperationalError", "InterfaceError") for c in type(exc).__mro__)


def install(app: FastAPI) -> None:
    """Register the envelope handlers on ``app``."""
    app.add_exception_handler(PesaguardError, _pesaguard_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)
