"""The ingest's inputs and outputs: options, the column map and the run report.

Row numbers count data rows from 1: the first row below the header is row 1 (line 2 of a CSV
without blank lines or quoted line breaks); blank lines are not counted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from pesaguard.errors import UsageError

Format = Literal["auto", "paysim", "generic"]

#: Keys of ``--map`` for transaction files; the first five are required.
TXN_MAP_REQUIRED: tuple[str, ...] = ("id", "time", "payer", "payee", "amount")
TXN_MAP_OPTIONAL: tuple[str, ...] = (
    "label",
    "label_time",
    "typology",
    "type",
    "currency",
    "channel",
    "device",
    "fee",
    "source",
    "payer_balance_before",
    "payer_balance_after",
    "payee_balance_before",
    "payee_balance_after",
)
#: Keys of ``--map`` for label files; txn_id and label are required.
LABEL_MAP_REQUIRED: tuple[str, ...] = ("txn_id", "label")
LABEL_MAP_OPTIONAL: tuple[str, ...] = ("known_at", "source", "typology")

DEFAULT_START = datetime(2024, 1, 1, tzinfo=UTC)


def parse_map(text: str | None, allowed: tuple[str, ...]) -> dict[str, str]:
    """Parse ``key=COL,key=COL`` into a dict, rejecting unknown keys.

    >>> parse_map("id=ref, time=when", ("id", "time"))
    {'id': 'ref', 'time': 'when'}
    """
    if not text:
        return {}
    out: dict[str, str] = {}
    for part in text.split(","):
        if not part.strip():
            continue
        key, sep, col = part.partition("=")
        key, col = key.strip(), col.strip()
        if not sep or not key or not col:
            raise UsageError(f"--map entry {part.strip()!r} is not KEY=COLUMN",
                             hint="write --map id=ref,time=created_at,payer=from,payee=to,amount=amt")
        if key not in allowed:
            raise UsageError(f"--map key {key!r} is not known", hint=f"use one of: {', '.join(allowed)}")
        if key in out:
            raise UsageError(f"--map key {key!r} is given twice", hint="give each key once")
        out[key] = col
    return out


class IngestOptions(BaseModel):
    """How to read and interpret a file. Defaults suit PaySim."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime = Field(default=DEFAULT_START, description="PaySim: the time of step 0 (naive = UTC).")
    label_delay_days: float = Field(
        default=0.0, ge=0, description="Labels from a transaction file are known this long after the transaction."
    )
    labels: Literal["fraud", "all", "none"] = Field(
        default="fraud",
        description="Which label rows a transaction file's fraud column writes: only frauds (unlabelled = "
        "legitimate, as with chargeback feeds), every labelled row, or none.",
    )
    label_source: str | None = Field(default=None, description="labels.source; default 'paysim' or 'file'.")
    time_unit: Literal["auto", "s", "ms"] = Field(
        default="auto", description="Unit of numeric times; auto: below 1e11 seconds, else milliseconds."
    )
    amount_unit: Literal["major", "minor"] = Field(
        default="major", description="major: decimals with up to 2 places (12.50); minor: integer cents (1250)."
    )
    currency: str = Field(default="KES", pattern=r"^[A-Z]{3}$", description="Currency when the file has none.")
    chunk_rows: int = Field(default=50_000, ge=1, description="Rows committed per database transaction.")
    known_at: datetime | None = Field(
        default=None, description="Label files without a known_at column: when the labels became known."
    )

    @field_validator("start", "known_at")
    @classmethod
    def _aware(cls, v: datetime | None) -> datetime | None:
        if v is not None and v.tzinfo is None:
            return v.replace(tzinfo=UTC)
        return v


class IngestReport(BaseModel):
    """What one run did. ``accepted + quarantined + duplicates == read`` always holds."""

    model_config = ConfigDict(extra="forbid")

    source: str
    source_key: str
    format: str
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    labels: int = Field(default=0, description="New label rows written.")
    unmatched: int | None = Field(
        default=None, description="Label files: accepted labels whose transaction is not (yet) in the store."
    )
    elapsed: float = Field(default=0.0, description="Seconds, end to end.")
    rows_per_s: float = 0.0
    top_reasons: dict[str, int] = Field(default_factory=dict, description="Quarantine reasons by field.")

    def summary(self) -> str:
        """The one-line summary the CLI prints.

        >>> IngestReport(source="f.csv", source_key="k", format="paysim", read=3, accepted=2, quarantined=1).summary()
        'read 3, accepted 2, quarantined 1, duplicates 0'
        """
        text = f"read {self.read}, accepted {self.accepted}, quarantined {self.quarantined}, duplicates {self.duplicates}"
        if self.unmatched is not None:
            text += f", unmatched {self.unmatched}"
        return text
