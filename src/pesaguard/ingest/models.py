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
    "known_at",
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
#: ``--map`` keys that are other names of a key (``label_time`` is the older name of ``known_at``).
MAP_ALIASES: dict[str, str] = {"label_time": "known_at"}
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
        key = MAP_ALIASES.get(key, key)
        if key in out:
            raise UsageError(f"--map key {key!r} is given twice", hint="give each key once")
        out[key] = col
    return out


class IngestOptions(BaseModel):
    """How to read and interpret a file. Defaults suit PaySim and clean CSV."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start: datetime = Field(default=DEFAULT_START, description="PaySim: the time of step 0 (naive = UTC).")
    label_delay_days: float | None = Field(
        default=None, gt=0,
        description="Labels from a transaction file are known this many days after the transaction (a "
                    "known_at column, where given, wins). A labelled file needs this, a known_at column "
                    "or labels_at_transaction.")
    labels_at_transaction: bool = Field(
        default=False, description="The file's labels were known at their transaction's time (no delay): "
                                   "stored so, recorded, and warned about.")
    labels: Literal["fraud", "all", "none"] = Field(
        default="fraud",
        description="Which label rows a transaction file's fraud column writes: only frauds (unlabelled = "
        "legitimate, as with chargeback feeds), every labelled row, or none.",
    )
    label_source: str | None = Field(default=None, description="labels.source; default 'paysim' or 'file'.")
    time_unit: Literal["auto", "s", "ms"] = Field(
        default="auto", description="Unit of numeric times; auto: by magnitude (s, ms, us, ns).")
    time_format: str | None = Field(
        default=None, description="strftime codes every time must match, e.g. '%d/%m/%Y %H:%M'.")
    tz: str = Field(default="UTC", description="Zone of times without an offset, e.g. Africa/Nairobi.")
    amount_unit: Literal["major", "minor"] = Field(
        default="major", description="major: decimals with up to 2 places (12.50); minor: integer cents (1250).")
    decimal: Literal[".", ","] = Field(default=".", description="The decimal mark of amounts.")
    rounding: Literal["none", "half-even"] = Field(
        default="none", description="Amounts finer than the minor unit: quarantined (none) or rounded half-even.")
    encoding: str | None = Field(default=None, description="Text encoding; default: detected.")
    delimiter: str | None = Field(default=None, description="CSV delimiter; default: sniffed.")
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

    @field_validator("delimiter")
    @classmethod
    def _one_char(cls, v: str | None) -> str | None:
        if v is not None and v in ("tab", "\\t"):
            return "\t"
        if v is not None and len(v) != 1:
            raise ValueError("give one character (or 'tab')")
        return v

    @property
    def round_half_even(self) -> str | None:
        return "half-even" if self.rounding == "half-even" else None


class Example(BaseModel):
    """One row that a rule quarantined or an adjustment changed."""

    model_config = ConfigDict(extra="forbid")

    row: int
    field: str
    text: str


class IngestReport(BaseModel):
    """What one run did. ``accepted + quarantined + duplicates == read`` always holds."""

    model_config = ConfigDict(extra="forbid")

    source: str
    source_key: str
    format: str
    file: dict[str, str | None] = Field(default_factory=dict,
                                        description="kind, compression, encoding and delimiter, as detected.")
    notes: list[str] = Field(default_factory=list, description="What was detected or noticed while reading.")
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    duplicates: int = 0
    labels: int = Field(default=0, description="New label rows written.")
    unmatched: int | None = Field(
        default=None, description="Label files: accepted labels whose transaction is not (yet) in the store."
    )
    frauds: int | None = Field(default=None, description="Rows labelled fraud in the file (None: no labels).")
    quarantined_frauds: int | None = Field(default=None, description="Quarantined rows labelled fraud.")
    label_timing: str | None = Field(default=None, description="How the labels' known-at times were set.")
    elapsed: float = Field(default=0.0, description="Seconds, end to end.")
    rows_per_s: float = 0.0
    top_reasons: dict[str, int] = Field(default_factory=dict, description="Quarantine counts by field.")
    reasons: dict[str, int] = Field(default_factory=dict, description="Quarantine counts by rule.")
    examples: dict[str, list[Example]] = Field(default_factory=dict, description="Up to 3 rows per rule.")
    adjustments: dict[str, int] = Field(default_factory=dict,
                                        description="Values changed by a rule (float artefacts snapped, rounding).")
    adjustment_examples: dict[str, list[Example]] = Field(default_factory=dict)
    warnings: list[str] = Field(default_factory=list)

    def summary(self) -> str:
        """The one-line summary the CLI prints.

        >>> IngestReport(source="f.csv", source_key="k", format="paysim", read=3, accepted=2, quarantined=1).summary()
        'read 3, accepted 2, quarantined 1, duplicates 0'
        """
        text = f"read {self.read}, accepted {self.accepted}, quarantined {self.quarantined}, duplicates {self.duplicates}"
        if self.unmatched is not None:
            text += f", unmatched {self.unmatched}"
        return text

    def fraud_line(self) -> str | None:
        """"quarantined 1,256 rows (0.07%), of them 1,214 labelled fraud (8.3% of the file's frauds)"."""
        if not self.quarantined or self.read == 0:
            return None
        text = f"quarantined {n_rows(self.quarantined)} ({pct(self.quarantined, self.read)})"
        if self.frauds and self.quarantined_frauds is not None:
            text += (f", of them {self.quarantined_frauds:,} labelled fraud "
                     f"({pct(self.quarantined_frauds, self.frauds)} of the file's frauds)")
        return text


def n_rows(n: int) -> str:
    """'1 row', '1,256 rows'."""
    return f"{n:,} row" + ("" if n == 1 else "s")


def pct(part: int, whole: int) -> str:
    """A share as text: two decimals below 1%, one above."""
    share = 100 * part / whole
    return f"{share:.2f}%" if share < 1 else f"{share:.1f}%"


#: Quarantine is biased against frauds when it removes at least this share of a file's frauds and
#: at least :data:`FRAUD_SHARE_RATIO` times the share of all rows it removes.
FRAUD_SHARE_MIN = 0.01
FRAUD_SHARE_RATIO = 2.0


def fraud_bias(read: int, quarantined: int, frauds: int | None, quarantined_frauds: int | None) -> bool:
    """Whether quarantine removes a noticeably larger share of frauds than of rows.

    >>> fraud_bias(1_754_155, 1_256, 14_681, 1_214), fraud_bias(1000, 10, 100, 1)
    (True, False)
    """
    if not read or not frauds or not quarantined_frauds:
        return False
    fraud_share, row_share = quarantined_frauds / frauds, quarantined / read
    return fraud_share >= FRAUD_SHARE_MIN and fraud_share >= FRAUD_SHARE_RATIO * row_share
