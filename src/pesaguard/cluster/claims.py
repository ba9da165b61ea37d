"""One decision per transaction across replicas: the first replica to *claim* a ``txn_id`` fixes
its decision; every later answer for that id (a redelivery, an upstream retry reaching another
replica) returns the claimed decision.

The claim is a create-if-absent write, keyed by ``txn_id``, of the request hash and the whole
decision row: on a JetStream key-value bucket (:class:`KvClaims`, file storage, one revision per
key) across processes, or a dict (:class:`MemoryClaims`) for in-process replicas. The claim comes
before the store write and the publish, so a replica dying after claiming leaves a decision that
the next replica to get the message stores and publishes as it is.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from typing import Any, Protocol

import orjson

from pesaguard.cluster.machine import Outcome
from pesaguard.stream.consumer import Dead

BUCKET = "pesaguard_decisions"


class NotYet(Exception):
    """A repeated transaction whose first occurrence has no claimed decision yet (its replica is
    still deciding it, or died before claiming): try again later."""


class Claims(Protocol):
    async def get(self, txn_id: str) -> dict[str, Any] | None: ...

    async def create(self, txn_id: str, row: dict[str, Any]) -> dict[str, Any]:
        """Claim ``txn_id`` with ``row``; returns the row that holds the claim (``row`` itself, or
        the one an earlier claim stored)."""
        ...


class MemoryClaims:
    """Claims for replicas in one process (the property tests)."""

    def __init__(self) -> None:
        self.rows: dict[str, dict[str, Any]] = {}

    async def get(self, txn_id: str) -> dict[str, Any] | None:
        return self.rows.get(txn_id)

    async def create(self, txn_id: str, row: dict[str, Any]) -> dict[str, Any]:
        return self.rows.setdefault(txn_id, row)


def key(txn_id: str) -> str:
    """A bucket key for any ``txn_id`` (keys allow only ``[-/_=.a-zA-Z0-9]``).

    >>> key("T 1/é")
    'ea3a60e47a76da0a7756e7a0ffb0a691'
    """
    return hashlib.blake2b(txn_id.encode(), digest_size=16).hexdigest()


def encode(row: dict[str, Any]) -> bytes:
    return orjson.dumps(row)


def decode(data: bytes) -> dict[str, Any]:
    """The stored row; features JSON wrote as null (NaN: missing) are NaN again, as the scorer gave them."""
    row: dict[str, Any] = orjson.loads(data)
    feats = row.get("features")
    if isinstance(feats, dict):
        row["features"] = {k: math.nan if v is None else v for k, v in feats.items()}
    return row


class KvClaims:
    """Claims on a JetStream key-value bucket (``BUCKET``), shared by every replica."""

    def __init__(self, kv: Any) -> None:
        self.kv = kv

    @classmethod
    async def open(cls, js: Any, bucket: str = BUCKET, ttl_s: float = 7 * 86_400.0) -> KvClaims:
        from nats.js.api import KeyValueConfig, StorageType
        from nats.js.errors import BucketNotFoundError, NotFoundError

        try:
            kv = await js.key_value(bucket)
        except (BucketNotFoundError, NotFoundError):
            kv = await js.create_key_value(KeyValueConfig(bucket=bucket, history=1, ttl=ttl_s,
                                                          storage=StorageType.FILE))
        return cls(kv)

    async def get(self, txn_id: str) -> dict[str, Any] | None:
        from nats.js.errors import KeyNotFoundError

        try:
            entry = await self.kv.get(key(txn_id))
        except KeyNotFoundError:
            return None
        return decode(entry.value) if entry.value else None

    async def create(self, txn_id: str, row: dict[str, Any]) -> dict[str, Any]:
        from nats.js.errors import KeyWrongLastSequenceError

        try:
            await self.kv.create(key(txn_id), encode(row))
            return row
        except KeyWrongLastSequenceError:  # claimed meanwhile by another replica
            found = await self.get(txn_id)
            if found is None:
                raise NotYet(f"the claim on {txn_id!r} exists but cannot be read yet") from None
            return found


def conflict(txn_id: str) -> Dead:
    return Dead("conflict", f"transaction {txn_id!r} was already decided with a different payload", "txn_id")


async def settle(outcome: Outcome, claims: Claims,
                 evaluate: Callable[[Outcome], dict[str, Any]]) -> tuple[dict[str, Any], bool]:
    """The decision for a transaction ``outcome`` and whether this call made it.

    Raises :class:`Dead` for a message that can never be decided (invalid, or a ``txn_id`` reused
    with another payload) and :class:`NotYet` for a repeat whose original is not claimed yet.
    ``evaluate`` turns a scored outcome into a decision row (policy, versions, decision id).
    """
    if outcome.kind == "dead":
        raise Dead(outcome.code, outcome.message, outcome.field)
    assert outcome.txn is not None
    txn_id = outcome.txn.txn_id
    if outcome.kind == "conflict":
        raise conflict(txn_id)
    if outcome.kind == "duplicate":
        found = await claims.get(txn_id)
        if found is None:
            raise NotYet(f"transaction {txn_id!r} repeats stream message {outcome.first_seq}, not decided yet")
        if found.get("request_hash") != outcome.req_hash:
            raise conflict(txn_id)
        return found, False
    # a first occurrence: claim it straight away (one round trip); a claim already there (this
    # message decided before a crash or a lost acknowledgement) is returned instead
    row = evaluate(outcome)
    held = await claims.create(txn_id, row)
    if held is not row and held.get("request_hash") != outcome.req_hash:
        raise conflict(txn_id)
    return held, held is row
