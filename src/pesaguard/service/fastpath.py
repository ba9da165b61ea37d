"""``POST /v1/transactions`` without FastAPI's per-request machinery (a pure ASGI middleware), and
the limits every request meets first (:class:`BodyLimit`, security headers).

Why: profiled under wrk (py-spy), FastAPI's request handling around the decision (dependency
resolution for the two auth schemes and the decider, body parsing, the exit stacks, the exception
wrapper) took about 45% of the server's CPU per decision, more than scoring itself. This middleware
answers the common case directly: a JSON body, an API key already in the verifier's cache (or
verified now), a valid payload. It checks the key and its role from the headers before reading the
body (a caller without a valid key never gets to send a large body), then validates with the same
pydantic model (``TransactionIn``, JSON mode), calls the same :meth:`DecisionService.decide` and
answers with the same fields. A missing or bad key and a wrong role are answered here with the
route's own errors; anything else (another content type, an invalid payload, no model loaded) is
handed, with its body, to the FastAPI route unchanged, so every error keeps the route's exact
envelope and the OpenAPI document still describes the endpoint. Errors raised by the decision
itself (409 conflict, 422 event time, 503 store, or an unexpected one: 500) are answered with the
same envelope as the app's handlers. It runs in front of FastAPI's own middleware stack, inside the
metrics layer (``pesaguard.service.app._ServiceAPI``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pesaguard.decisions.decider import PUBLIC_FIELDS
from pesaguard.errors import PayloadTooLarge, PesaguardError, StoreError
from pesaguard.service.auth import KeyVerifier, Principal
from pesaguard.service.deps import forbidden, missing_key
from pesaguard.service.errors import envelope, error_body, error_headers
from pesaguard.service.routers.transactions import TransactionIn

log = logging.getLogger("pesaguard.service")

PATH = "/v1/transactions"
#: On every response: no MIME sniffing, no framing by other sites, no referrer leaking ids.
SECURITY_HEADERS = [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                    (b"referrer-policy", b"no-referrer")]
#: The console's pages load only their own script and styles (htmx sets inline styles, and the
#: queue's score bars use a style attribute); forms post only to the console.
CONSOLE_CSP = (b"default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
               b"object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")
_JSON_HEADERS = [(b"content-type", b"application/json"), *SECURITY_HEADERS]
#: Requests that read nothing the decisions write, or write decisions themselves: they do not wait
#: for the store to catch up with the decision journal.
_NO_SYNC = frozenset({"/healthz", "/readyz", "/metrics", "/docs", "/redoc", "/openapi.json", PATH, PATH + ":batch"})
_NO_SYNC_PREFIXES = ("/console/static/", "/docs/")


@dataclass(frozen=True)
class _RouteTemplate:
    path: str


_ROUTE = _RouteTemplate(PATH)


class FastDecisions:
    """Serves ``POST /v1/transactions``'s success path; everything else goes to ``app``."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state  # the FastAPI app's state: decider, key_verifier, settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["path"] != PATH or scope["method"] != "POST":
            await self._other(scope, receive, send)
            return
        decider = self.state.decider
        try:
            who = self._caller(scope)
        except PesaguardError as exc:  # no key, a bad key, the wrong role: answered before any body is read
            await _error(send, exc)
            return
        if who is None or decider is None:
            await self.app(scope, receive, send)
            return
        body = await read_body(receive, self.state.settings.max_body_bytes)
        if body is None:  # client went away: nothing to answer
            return
        try:
            txn = TransactionIn.model_validate_json(body)
        except ValidationError:
            await self.app(scope, _replay(body, receive), send)  # the route answers with its 422 details
            return
        scope["route"] = _ROUTE  # the metrics middleware labels requests by the route's template
        try:
            row = await decider.decide(txn.to_record())
        except PesaguardError as exc:
            if exc.http_status >= 500:
                log.error("POST %s failed: %s", PATH, exc)
            await _error(send, exc)
            return
        except Exception:  # this layer sits in front of FastAPI's error handlers: answer as they do
            log.exception("unhandled error on POST %s", PATH)
            await _answer(send, 500, orjson.dumps(envelope("internal_error", "internal error; the details are in "
                                                           "the server log", hint="report this with the time "
                                                           "of the request")), _JSON_HEADERS)
            return
        await _answer(send, 200, orjson.dumps({k: row[k] for k in PUBLIC_FIELDS}), _JSON_HEADERS)

    async def _other(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Any other request: read-your-writes first, security headers on the answer."""
        path = scope["path"]
        decider = self.state.decider
        # read-your-writes: the store first takes in every decision already acknowledged
        # (pesaguard.decisions.journal); immediate when it has
        if (decider is not None and path not in _NO_SYNC and not path.startswith(_NO_SYNC_PREFIXES)
                and not await decider.writer.sync()):
            await _error(send, StoreError(
                "the store has not yet taken in every acknowledged decision, so this answer could be stale",
                hint="retry in a second; GET /readyz says why if this persists"))
            return
        extra = ([*SECURITY_HEADERS, (b"content-security-policy", CONSOLE_CSP)] if path.startswith("/console")
                 else SECURITY_HEADERS)

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *extra]
            await send(message)

        await self.app(scope, receive, with_headers)

    def _caller(self, scope: Scope) -> Principal | None:
        """The scorer calling, from the headers alone; None if the request should go to the route
        (not JSON, an Authorization header of another scheme). Raises the route's 401/403."""
        content_type = key = authorization = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                content_type = value
            elif name == b"x-api-key":
                key = value
            elif name == b"authorization":
                authorization = value
        if content_type is None or not (content_type == b"application/json"
                                        or content_type.lower().startswith(b"application/json;")):
            return None
        if authorization is not None:  # the route prefers a bearer token over X-API-Key
            scheme, _, credentials = authorization.partition(b" ")
            if scheme.lower() != b"bearer" or not credentials:
                return None
            key = credentials
        if not key:
            raise missing_key()
        verifier: KeyVerifier = self.state.key_verifier
        who = verifier.verify(key.decode("latin-1"))
        if not who.has("scorer"):
            raise forbidden("scorer", who)
        return who


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole request body (None if the client disconnected); :class:`PayloadTooLarge` past ``limit``.

    Parts are joined once at the end: adding each to a growing ``bytes`` copies it again every
    time, quadratic in the body's size.
    """
    parts: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] != "http.request":
            return None
        part = message.get("body", b"")
        size += len(part)
        if size > limit:
            raise _too_large(limit)
        parts.append(part)
        more = message.get("more_body", False)
    return parts[0] if len(parts) == 1 else b"".join(parts)


class BodyLimit:
    """413 for a request body larger than ``limit`` bytes: at once when its Content-Length says so,
    else as soon as the bytes read pass it (the app's read raises :class:`PayloadTooLarge`)."""

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name == b"content-length":
                if not value.isdigit() or int(value) > self.limit:
                    await _error(send, _too_large(self.limit))
                    return
                break
        seen = 0
        started = replaced = False

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _too_large(self.limit)
            return message

        async def watch(message: Message) -> None:
            # an app that turns the failed read into an answer of its own (FastAPI: "400, error
            # parsing the body") is answered for with the 413 instead
            nonlocal started, replaced
            if replaced:
                return
            if message["type"] == "http.response.start" and seen > self.limit:
                replaced = started = True
                await _error(send, _too_large(self.limit))
                return
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted, watch)
        except PayloadTooLarge as exc:
            if not started:
                await _error(send, exc)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the request body is larger than {limit:,} bytes",
                           hint="send smaller requests (a batch holds at most 1,000 transactions); the limit is "
                                "PESAGUARD_MAX_BODY_BYTES")


async def _error(send: Send, exc: PesaguardError) -> None:
    extra = [(k.lower().encode(), v.encode()) for k, v in (error_headers(exc) or {}).items()]
    if isinstance(exc, PayloadTooLarge):
        # the server closes the connection after the answer: the rest of an oversized body would
        # otherwise still be received and parsed on the event loop (100 MB delayed other requests by a second)
        extra.append((b"connection", b"close"))
    await _answer(send, exc.http_status, orjson.dumps(error_body(exc)), [*_JSON_HEADERS, *extra])


def _replay(body: bytes, receive: Receive) -> Receive:
    """The body already read, then the server's own ``receive`` (for a disconnect)."""
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _answer(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [*headers, (b"content-length", str(len(body)).encode())]})
    await send({"type": "http.response.body", "body": body})

