"""Console log-in: a user name and scrypt-hashed password, or an analyst/admin API key.

A successful log-in stores the SHA-256 of a random session token (the cookie holds the token;
HttpOnly, SameSite=Lax). Forms carry a CSRF token derived from the session token, checked on every
POST, so another site cannot make a logged-in browser resolve a case.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from typing import Any

from fastapi import Request

from pesaguard.errors import AuthError
from pesaguard.service.auth import Principal, hash_key, verify_password
from pesaguard.store import Store
from pesaguard.store import decisions as repo

COOKIE = "pesaguard_session"
SESSION_MS = 12 * 3600 * 1000


class LoginRequired(Exception):
    """Raised by :func:`current_user` when there is no valid session; the app redirects to log-in."""


def login(store: Store, username: str, secret: str) -> tuple[str, Principal]:
    """Check credentials; returns (session token, principal). AuthError if they are wrong."""
    principal: Principal | None = None
    if username.strip():
        user = repo.find_user(store, username.strip())
        if user is not None and verify_password(secret, user["password_hash"]):
            principal = Principal(name=user["username"], role=user["role"])
    elif secret.startswith("pgk_"):
        row = repo.find_api_key(store, hash_key(secret.strip()))
        if row is not None and row["role"] in ("analyst", "admin"):
            principal = Principal(name=row["name"] or f"key:{row['key_id']}", role=row["role"])
    if principal is None:
        raise AuthError("wrong user name or password, or not an analyst API key",
                        hint="create a user with `pesaguard users create NAME`")
    token = secrets.token_urlsafe(32)
    repo.insert_session(store, hash_key(token), principal.name, principal.role, repo.now_ms() + SESSION_MS)
    return token, principal


def logout(store: Store, token: str | None) -> None:
    if token:
        repo.delete_session(store, hash_key(token))


def current_user(request: Request) -> Principal:
    """The logged-in analyst (dependency for console pages); raises :class:`LoginRequired`."""
    token = request.cookies.get(COOKIE)
    if not token:
        raise LoginRequired()
    row: dict[str, Any] | None = repo.find_session(request.app.state.store, hash_key(token))
    if row is None or row["role"] not in ("analyst", "admin"):
        raise LoginRequired()
    return Principal(name=row["principal"], role=row["role"])


def csrf_token(request: Request) -> str:
    token = request.cookies.get(COOKIE, "")
    return hmac.new(token.encode(), b"pesaguard-csrf", hashlib.sha256).hexdigest()[:32]


def check_csrf(request: Request, submitted: str | None) -> None:
    if not submitted or not hmac.compare_digest(submitted, csrf_token(request)):
        raise AuthError("the form is stale or came from another site", hint="reload the page and try again")
