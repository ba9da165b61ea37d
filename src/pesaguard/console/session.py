"""Console log-in: a user name and scrypt-hashed password, or an analyst/admin API key.

A successful log-in stores the SHA-256 of a random session token (the cookie holds the token;
HttpOnly, SameSite=Lax, and Secure when the console is reached over HTTPS, directly or through a
trusted proxy's ``X-Forwarded-Proto``). The session records what it was made with: revoking that
API key, or resetting that user's password or role, ends it (:mod:`pesaguard.store.access`).
Forms carry a CSRF token derived from the session token, checked on every POST (log-out included),
so another site cannot make a logged-in browser act.

Guessing is slowed down: after ``login_max_failures`` wrong passwords for one user name (or four
times as many from one address) within ``login_lockout_s``, log-ins for it are refused for
``login_lockout_s``, whether or not the user exists; and an unknown user name costs the same
scrypt hash as a known one, so the answer's timing does not tell which names exist. The counts
live in the service process (``pesaguard serve`` runs one).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets
import threading
import time
from collections import OrderedDict, deque
from typing import Any

from fastapi import Request

from pesaguard.errors import AuthError, TooManyRequests
from pesaguard.service.auth import Principal, hash_key, hash_password, verify_password
from pesaguard.store import Store
from pesaguard.store import access as repo

COOKIE = "pesaguard_session"
SESSION_MS = 12 * 3600 * 1000
#: Failures from one address allowed per user-name failure allowed (an office behind one NAT).
ADDRESS_FACTOR = 4


class LoginRequired(Exception):
    """Raised by :func:`current_user` when there is no valid session; the app redirects to log-in."""


class LoginThrottle:
    """Counts failed log-ins per user name and per client address in a sliding window; a key that
    reaches its limit is locked for ``lockout_s``. Memory is bounded (oldest keys dropped first)."""

    def __init__(self, max_failures: int = 5, lockout_s: float = 900.0, max_keys: int = 100_000) -> None:
        self.max_failures = max_failures
        self.lockout_s = lockout_s
        self.max_keys = max_keys
        self._failures: OrderedDict[str, deque[float]] = OrderedDict()
        self._locked: dict[str, float] = {}
        self._lock = threading.Lock()

    def _keys(self, username: str, address: str) -> list[tuple[str, int]]:
        return [(f"user:{username.casefold()}", self.max_failures),
                (f"addr:{address}", self.max_failures * ADDRESS_FACTOR)]

    def check(self, username: str, address: str) -> None:
        """:class:`TooManyRequests` while the user name or the address is locked out."""
        now = time.monotonic()
        with self._lock:
            for key, _ in self._keys(username, address):
                until = self._locked.get(key)
                if until is not None and until > now:
                    minutes = max(1, round((until - now) / 60))
                    raise TooManyRequests(f"too many failed log-ins for this user name or from this address; "
                                          f"try again in about {minutes} minute{'s' if minutes != 1 else ''}",
                                          hint="an administrator can reset the password with "
                                               "`pesaguard users create NAME`")
                if until is not None:
                    del self._locked[key]

    def failed(self, username: str, address: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key, limit in self._keys(username, address):
                times = self._failures.pop(key, None) or deque()
                while times and times[0] <= now - self.lockout_s:
                    times.popleft()
                times.append(now)
                self._failures[key] = times  # most recent last
                if len(times) >= limit:
                    self._locked[key] = now + self.lockout_s
                    del self._failures[key]
            while len(self._failures) > self.max_keys:
                self._failures.popitem(last=False)
            if len(self._locked) > self.max_keys:
                self._locked = {k: t for k, t in self._locked.items() if t > now}

    def succeeded(self, username: str) -> None:
        with self._lock:
            self._failures.pop(f"user:{username.casefold()}", None)


@functools.cache
def _dummy_hash() -> str:
    """A password hash no password matches, checked for unknown user names (same scrypt cost)."""
    return hash_password(secrets.token_urlsafe(16))


def login(store: Store, username: str, secret: str, *, throttle: LoginThrottle | None = None,
          address: str = "") -> tuple[str, Principal]:
    """Check credentials; returns (session token, principal). AuthError if they are wrong,
    TooManyRequests while the user name or address is locked out."""
    name = username.strip()
    if throttle is not None:
        throttle.check(name, address)
    principal: Principal | None = None
    owner: dict[str, str] = {}
    if name:
        user = repo.find_user(store, name)
        # an unknown name is checked against a dummy hash, so both answers take one scrypt
        ok = verify_password(secret, user["password_hash"] if user is not None else _dummy_hash())
        if user is not None and ok:
            principal = Principal(name=user["username"], role=user["role"])
            owner = {"username": user["username"]}
    elif secret.startswith("pgk_"):
        row = repo.find_api_key(store, hash_key(secret.strip()))
        if row is not None and row["role"] in ("analyst", "admin"):
            principal = Principal(name=row["name"] or f"key:{row['key_id']}", role=row["role"])
            owner = {"key_id": row["key_id"]}
    if principal is None:
        if throttle is not None:
            throttle.failed(name, address)
        raise AuthError("wrong user name or password, or not an analyst API key",
                        hint="create a user with `pesaguard users create NAME`")
    if throttle is not None:
        throttle.succeeded(name)
    token = secrets.token_urlsafe(32)
    repo.insert_session(store, hash_key(token), principal.name, principal.role, repo.now_ms() + SESSION_MS, **owner)
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
