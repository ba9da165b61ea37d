"""``POST /v1/transactions`` without FastAPI's per-request machinery (a pure ASGI middleware).

Why: profiled under wrk (py-spy), FastAPI's request handling around the decision (dependency
resolution for the two auth schemes and the decider, body parsing, the exit stacks, the exception
wrapper) took about 45% of the server's CPU per decision, more than scoring itself. This middleware
answers the common case directly: a JSON body, an API key already in the verifier's cache (or
verified now), a valid payload. It validates with the same pydantic model (``TransactionIn``,
JSON mode), checks the same role, calls the same :meth:`DecisionService.decide` and answers with
the same fields. Anything else (no or bad key, another content type, an invalid payload, no model
loaded) is handed, with its body, to the FastAPI route unchanged, so every error keeps the route's
exact envelope and the OpenAPI document still describes the endpoint. Errors raised by the decision
itself (409 conflict, 503 store, or an unexpected one: 500) are answered with the same envelope as
the app's handlers. It runs in front of FastAPI's own middleware stack, inside the metrics layer
(``pesaguard.service.app._ServiceAPI``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import orjson
from pydantic import ValidationError
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from pesaguard.decisions.service import PUBLIC_FIELDS
from pesaguard.errors import PesaguardError
from pesaguard.service.auth import KeyVerifier
from pesaguard.service.errors import envelope
from pesaguard.service.routers.transactions import TransactionIn

log = logging.getLogger("pesaguard.service")

PATH = "/v1/transactions"
_JSON_HEADERS = [(b"content-type", b"application/json")]
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
        self.state = state  # the FastAPI app's state: decider, key_verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            decider = self.state.decider
            if (decider is not None and scope["type"] == "http" and scope["path"] not in _NO_SYNC
                    and not scope["path"].startswith(_NO_SYNC_PREFIXES)):
                # read-your-writes: the store first takes in every decision already acknowledged
                # (pesaguard.decisions.journal); immediate when it has
                await decider.writer.sync()
            await self.app(scope, receive, send)
            return
        body = b""
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # client went away: nothing to answer
                return
            body += message.get("body", b"")
            more = message.get("more_body", False)
        decider = self.state.decider
        txn = self._admissible(scope, body) if decider is not None else None
        if txn is None:
            await self.app(scope, _replay(body, receive), send)
            return
        scope["route"] = _ROUTE  # the metrics middleware labels requests by the route's template
        try:
            row = await decider.decide(txn.to_record())
        except PesaguardError as exc:
            if exc.http_status >= 500:
                log.error("POST %s failed: %s", PATH, exc)
            await _answer(send, exc.http_status, orjson.dumps(exc.to_dict()), _JSON_HEADERS)
            return
        except Exception:  # this layer sits in front of FastAPI's error handlers: answer as they do
            log.exception("unhandled error on POST %s", PATH)
            await _answer(send, 500, orjson.dumps(envelope("internal_error", "internal error; the details are in "
                                                           "the server log", hint="report this with the time "
                                                           "of the request")), _JSON_HEADERS)
            return
        await _answer(send, 200, orjson.dumps({k: row[k] for k in PUBLIC_FIELDS}), _JSON_HEADERS)

    def _admissible(self, scope: Scope, body: bytes) -> TransactionIn | None:
        """The validated payload if this request can take the fast path, else None."""
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
            return None
        verifier: KeyVerifier = self.state.key_verifier
        try:
            if not verifier.verify(key.decode("latin-1")).has("scorer"):
                return None
            return TransactionIn.model_validate_json(body)
        except (PesaguardError, ValidationError):
            return None


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

