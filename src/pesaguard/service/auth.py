"""API keys and roles.

Roles form a chain, each including the ones below it: ``scorer`` (score transactions, check SMS)
< ``analyst`` (read decisions, work cases, add labels, ask the assistant) < ``admin`` (rules, keys).
So a scorer key cannot read cases and an analyst key cannot change rules.

Keys are ``pgk_<key_id>_<secret>`` where the secret is 32 random bytes. Only the SHA-256 of the
whole key is stored: a slow password hash (scrypt, bcrypt) exists to resist guessing low-entropy
human passwords, but a 256-bit random token cannot be guessed, so a fast hash is as safe here and
keeps per-request verification to microseconds on the scoring path.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Literal

from pesaguard.errors import AuthError, InputError
from pesaguard.store import Store
from pesaguard.store import access as repo

Role = Literal["scorer", "analyst", "admin"]
ROLES: tuple[Role, ...] = ("scorer", "analyst", "admin")
_RANK = {r: i for i, r in enumerate(ROLES)}

#: How long a verified key stays cached in a process. A key revoked through this process's API
#: stops at once; one revoked elsewhere (the CLI, another process) stops within this time.
KEY_CACHE_SECONDS = 30.0


@dataclass(frozen=True)
class Principal:
    """Who is calling: a key id or a console user name, and its role."""

    name: str
    role: Role

    def has(self, role: Role) -> bool:
        return _RANK[self.role] >= _RANK[role]


def check_role(role: str) -> Role:
    if role not in _RANK:
        raise InputError(f"unknown role {role!r}", field="role", hint=f"use one of {', '.join(ROLES)}")
    return role


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def create_key(store: Store, role: str, name: str | None = None) -> str:
    """Create an API key with ``role`` and return it; only its hash is stored, so show it once."""
    role = check_role(role)
    key_id = secrets.token_hex(4)
    key = f"pgk_{key_id}_{secrets.token_urlsafe(32)}"
    repo.insert_api_key(store, key_id, hash_key(key), role, name)
    return key


class KeyVerifier:
    """Verifies keys against the store, caching hits for :data:`KEY_CACHE_SECONDS`; :meth:`forget`
    drops a revoked key at once."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._cache: dict[str, tuple[Principal, float]] = {}
        self._lock = threading.Lock()

    def verify(self, key: str) -> Principal:
        digest = hash_key(key)
        now = time.monotonic()
        hit = self._cache.get(digest)
        if hit is not None and hit[1] > now:
            return hit[0]
        row = repo.find_api_key(self.store, digest)
        if row is None:
            raise AuthError("the API key is not valid or has been revoked",
                            hint="create one with `pesaguard keys create --role ROLE`")
        principal = Principal(name=f"key:{row['key_id']}", role=row["role"])
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[digest] = (principal, now + KEY_CACHE_SECONDS)
        return principal

    def forget(self, key_id: str) -> None:
        """Stop accepting the key ``key_id`` from this process's cache (it was revoked)."""
        name = f"key:{key_id}"
        with self._lock:
            for digest in [d for d, (p, _) in self._cache.items() if p.name == name]:
                del self._cache[digest]


def hash_password(password: str) -> str:
    """scrypt (stdlib) with a random salt, encoded as ``scrypt$n$r$p$salt$hash``."""
    salt = secrets.token_bytes(16)
    n, r, p = 2**14, 8, 1
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def verify_password(password: str, encoded: str) -> bool:
    try:
        _, n, r, p, salt, digest = encoded.split("$")
        got = hashlib.scrypt(password.encode("utf-8"), salt=bytes.fromhex(salt), n=int(n), r=int(r),
                             p=int(p), dklen=32)
    except (ValueError, TypeError):
        return False
    return secrets.compare_digest(got.hex(), digest)
