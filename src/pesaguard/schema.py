"""Domain records shared by every area.

Contract: amounts are integers in minor units (cents) with an ISO 4217 currency; timestamps are
UTC, carried as integer epoch milliseconds (``ts_ms``) in storage and bulk paths and as aware
``datetime`` at API boundaries. These models validate single records at boundaries; bulk paths
(ingest, replay, simulation) move columns (pandas/pyarrow) with the same names and meanings.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

#: Column names of a transaction, in storage order. Optional columns may be null everywhere.
TRANSACTION_COLUMNS: tuple[str, ...] = (
    "txn_id",
    "ts_ms",
    "payer",
    "payee",
    "amount_minor",
    "currency",
    "type",
    "channel",
    "fee_minor",
    "payer_balance_before",
    "payer_balance_after",
    "payee_balance_before",
    "payee_balance_after",
    "device_id",
    "source",
)
REQUIRED_TRANSACTION_COLUMNS: tuple[str, ...] = ("txn_id", "ts_ms", "payer", "payee", "amount_minor")

#: Canonical transaction types. Readers map their own vocabularies onto these; unknown types are kept
#: lower-cased as they came, so nothing downstream may assume the set is closed.
TRANSACTION_TYPES: tuple[str, ...] = (
    "cash_in",
    "cash_out",
    "p2p",
    "merchant",
    "bill",
    "airtime",
    "bank_transfer",
    "debit",
)

ACCOUNT_KINDS: tuple[str, ...] = ("customer", "agent", "merchant", "biller", "bank", "operator")
ACCOUNT_EVENT_KINDS: tuple[str, ...] = ("sim_swap", "device_change", "pin_reset", "kyc_update")


def to_ms(dt: datetime) -> int:
    """Aware datetime -> epoch milliseconds (naive datetimes are taken as UTC).

    >>> to_ms(datetime(2024, 1, 1, tzinfo=UTC))
    1704067200000
    """
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    """Epoch milliseconds -> aware UTC datetime."""
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


class Action(StrEnum):
    ALLOW = "allow"
    REVIEW = "review"
    BLOCK = "block"


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


NonEmpty = Annotated[str, Field(min_length=1, max_length=128)]


class Transaction(_Record):
    """One money movement from ``payer`` to ``payee``."""

    txn_id: NonEmpty
    ts_ms: int = Field(ge=0, description="UTC epoch milliseconds")
    payer: NonEmpty
    payee: NonEmpty
    amount_minor: int = Field(gt=0, description="amount in minor units (cents)")
    currency: str = Field(default="KES", pattern=r"^[A-Z]{3}$")
    type: str | None = None
    channel: str | None = None
    fee_minor: int | None = Field(default=None, ge=0)
    payer_balance_before: int | None = None
    payer_balance_after: int | None = None
    payee_balance_before: int | None = None
    payee_balance_after: int | None = None
    device_id: str | None = None
    source: str | None = None


class Account(_Record):
    account_id: NonEmpty
    kind: str = "customer"
    region: str | None = None
    income_band: str | None = None
    opened_ms: int | None = None
    device_id: str | None = None
    msisdn_hash: str | None = None


class AccountEvent(_Record):
    """A change to an account that matters for risk: a SIM swap, a new device, a PIN reset."""

    event_id: NonEmpty
    account_id: NonEmpty
    ts_ms: int
    kind: str


class Label(_Record):
    """Ground truth for one transaction, and when it became known (``known_at_ms``)."""

    txn_id: NonEmpty
    is_fraud: bool
    known_at_ms: int
    source: str = "unknown"
    typology: str | None = None


class SmsMessage(_Record):
    msg_id: NonEmpty
    ts_ms: int
    sender: str
    recipient: str | None = None
    text: str
    label: str | None = None
    scam_type: str | None = None
