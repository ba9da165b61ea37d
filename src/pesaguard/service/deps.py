"""FastAPI dependencies every router uses: settings, the store, and role checks.

>>> from fastapi import APIRouter, Depends
>>> router = APIRouter()
>>> @router.get("/v1/example")
... def example(who=Depends(require_role("analyst")), store=Depends(get_store)) -> dict:
...     return {"caller": who.name}
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import Request, Security
from fastapi.security import APIKeyHeader, HTTPAuthorizationCredentials, HTTPBearer

from pesaguard.config import Settings
from pesaguard.errors import AuthError, ForbiddenError
from pesaguard.service.auth import KeyVerifier, Principal, Role, check_role
from pesaguard.store import Store

# auto_error=False: a missing credential becomes our AuthError (one envelope), not FastAPI's 403.
_bearer = HTTPBearer(auto_error=False, description="Authorization: Bearer <API key>")
_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="X-API-Key: <API key>")
_bearer_dep = Security(_bearer)
_header_dep = Security(_header)


def get_settings_dep(request: Request) -> Settings:
    """The settings the app was created with."""
    settings: Settings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    """The app's store (thread-safe; one connection per thread)."""
    store: Store = request.app.state.store
    return store


def missing_key() -> AuthError:
    return AuthError("no API key given", hint="send `Authorization: Bearer KEY` or `X-API-Key: KEY`; "
                                              "create a key with `pesaguard keys create --role ROLE`")


def forbidden(role: Role, who: Principal) -> ForbiddenError:
    return ForbiddenError(f"this needs the {role} role; the key given has the {who.role} role",
                          hint=f"use a key created with `pesaguard keys create --role {role}`")


def _principal(request: Request, bearer: HTTPAuthorizationCredentials | None, header: str | None) -> Principal:
    key = bearer.credentials if bearer is not None else header
    if not key:
        raise missing_key()
    verifier: KeyVerifier = request.app.state.key_verifier
    return verifier.verify(key)


def require_role(role: Role) -> Callable[..., Awaitable[Principal]]:
    """A dependency that returns the caller's :class:`Principal` if it has ``role`` (or a higher one)."""
    check_role(role)

    async def dependency(
        request: Request,
        bearer: HTTPAuthorizationCredentials | None = _bearer_dep,
        header: str | None = _header_dep,
    ) -> Principal:
        who = _principal(request, bearer, header)
        if not who.has(role):
            raise forbidden(role, who)
        return who

    dependency.__name__ = f"require_{role}"
    return dependency



def labels_added(request: Request, labels: list[tuple[str, bool, int]], source: str = "analyst",
                 typology: str | None = None, stored: bool = True) -> None:
    """Forward labels just stored to the live feature state (no-op when decisions are disabled) and,
    with ``PESAGUARD_NATS_URL`` set, publish them to the stream the consumers apply
    (:mod:`pesaguard.stream.labels`). ``stored=False``: labels already in the store (a retry): only
    published again, which the stream and the replicas count once."""
    decider = getattr(request.app.state, "decider", None)
    if decider is not None and stored:
        decider.add_labels(labels)
    publisher = getattr(request.app.state, "label_publisher", None)
    if publisher is not None:
        publisher.publish([(txn_id, is_fraud, known, source, typology) for txn_id, is_fraud, known in labels])
