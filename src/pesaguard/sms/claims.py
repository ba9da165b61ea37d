"""Money-received claims: what a "you have received ..." notification says, checked against the ledger.

A fake "Confirmed. You have received KES 5,000 ..." followed by "I sent it by mistake, please send it
back" is the commonest mobile-money scam in East Africa. The text alone can look perfect; the ledger
cannot be faked: :func:`check_claim` asks the store whether that account really received that amount
around that time.

Where a claim comes from, in order: the operator's own formats in ``HOME/sms_claim_formats.yaml``
(named regexes, tried first); every operator format of :mod:`pesaguard.sms.formats` (money-in kinds:
received, deposit, refund, reversal), whose parsed fields become the claim; the generic English and
Swahili fallbacks in ``claim_formats.yaml`` next to this module. Amounts become integer minor units
using the currency's ISO 4217 exponent (KES, TZS: 2; UGX, RWF: 0).

>>> c = parse_claim("SA32AB34CD Confirmed. You have received Ksh5,000.00 from JOHN DOE 0712345678 "
...                 "on 3/1/24 at 2:15 PM New M-PESA balance is Ksh7,250.00.")
>>> (c.format, c.code, c.amount_minor, c.currency, c.payer_phone)
('mpesa_ke_en_received', 'SA32AB34CD', 500000, 'KES', '0712345678')
"""

from __future__ import annotations

import logging
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from pesaguard.errors import ConfigError
from pesaguard.sms.formats import MONEY_IN, Notification
from pesaguard.sms.formats import parse as parse_notifications

log = logging.getLogger(__name__)

_CUR = r"Kshs?\.?|KES|TShs?\.?|TZS|UGX|USh[s]?\.?|Ushs?\.?|RWF|ZMW|MWK|GHS|USD|Shs?\.?"
# A word of a payer's name: not one of the words that follow names in notifications.
_NAME_WORD = (r"(?!(?:on|at|mnamo|tarehe|saa|siku|new|salio|your|balance|reason|ref|kwa|na|umepokea)\b)"
              r"[A-Za-z][A-Za-z'&-]*")
MACROS: dict[str, str] = {
    "code": r"(?P<code>(?-i:[A-Z0-9]{8,12}))",
    "code2": r"(?P<code>[A-Za-z0-9.]{6,24})",
    "cur": rf"(?P<cur>{_CUR})",
    "cur2": rf"(?P<cur2>{_CUR})",
    "amount": r"(?P<amount>\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d+(?:\.\d{1,2})?)",
    "name": rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,5}})",
    "phone": r"(?P<phone>\+?\d[\d ]{7,14}\d)",
    "date": r"(?P<date>\d{1,4}[/.-]\d{1,2}[/.-]\d{1,4})",
    "time": r"(?P<time>\d{1,2}:\d{2}(?::\d{2})?\s*(?:[AaPp]\.?[Mm]\.?)?)",
}
_CURRENCY_CODES = {"KSH": "KES", "KSHS": "KES", "KES": "KES", "TSH": "TZS", "TSHS": "TZS", "TZS": "TZS",
                   "UGX": "UGX", "USH": "UGX", "USHS": "UGX", "RWF": "RWF", "ZMW": "ZMW", "MWK": "MWK",
                   "GHS": "GHS", "USD": "USD"}
_ZERO_DECIMAL = {"UGX", "RWF", "XAF"}


@dataclass(frozen=True)
class ClaimFormat:
    name: str
    regex: re.Pattern[str]
    currency: str | None = None
    date_order: str = "dmy"
    utc_offset_hours: float = 3.0
    packaged: bool = False  # a generic fallback shipped with pesaguard (tried after the operator formats)


@dataclass(frozen=True)
class Claim:
    """What a money-received notification says happened."""

    format: str
    amount_minor: int
    currency: str
    code: str | None = None
    payer_name: str | None = None
    payer_phone: str | None = None
    sent_ms: int | None = None


@dataclass
class ClaimCheck:
    """The outcome of checking a claim: ``verified``, ``no_match``, ``not_checked`` or ``not_a_claim``."""

    status: str
    claim: Claim | None = None
    sender_is_operator: bool | None = None
    matched_txn_id: str | None = None
    reasons: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        c = self.claim
        return {
            "status": self.status,
            "format": c.format if c else None,
            "amount_minor": c.amount_minor if c else None,
            "currency": c.currency if c else None,
            "code": c.code if c else None,
            "claimed_ms": c.sent_ms if c else None,
            "sender_is_operator": self.sender_is_operator,
            "matched_txn_id": self.matched_txn_id,
            "reasons": list(self.reasons),
        }


def compile_format(entry: dict[str, Any], source: str, packaged: bool = False) -> ClaimFormat:
    """One YAML entry -> :class:`ClaimFormat`; a bad entry is a :class:`ConfigError` naming it."""
    name = entry.get("name")
    pattern = entry.get("pattern")
    if not isinstance(name, str) or not isinstance(pattern, str):
        raise ConfigError(f"claim format {entry!r} needs a string name and pattern", file=source,
                          hint="each entry is {name: ..., pattern: ...}")
    try:
        regex = re.compile(pattern.format(**MACROS), re.IGNORECASE)
    except (re.error, KeyError, IndexError, ValueError) as exc:
        raise ConfigError(f"claim format {name!r} has a bad pattern: {exc}", file=source,
                          hint=f"use Python regex syntax; macros available: {', '.join(MACROS)}") from exc
    if "amount" not in regex.groupindex:
        raise ConfigError(f"claim format {name!r} has no {{amount}}", file=source, hint="add {amount}")
    return ClaimFormat(name, regex, entry.get("currency"), str(entry.get("date_order", "dmy")),
                       float(entry.get("utc_offset_hours", 3.0)), packaged)


def _read_formats(text: str, source: str, packaged: bool = False) -> list[ClaimFormat]:
    try:
        doc = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"cannot parse claim formats: {exc}", file=source, hint="fix the YAML") from exc
    entries = doc.get("formats", []) if isinstance(doc, dict) else []
    return [compile_format(e, source, packaged) for e in entries]


@lru_cache(maxsize=8)
def load_formats(extra_file: Path | None = None) -> tuple[ClaimFormat, ...]:
    """The operator's formats (if ``extra_file`` exists) followed by the packaged ones."""
    packaged = resources.files("pesaguard.sms").joinpath("claim_formats.yaml").read_text(encoding="utf-8")
    formats = _read_formats(packaged, "pesaguard/sms/claim_formats.yaml", packaged=True)
    if extra_file is not None and extra_file.is_file():
        formats = _read_formats(extra_file.read_text(encoding="utf-8"), str(extra_file)) + formats
    return tuple(formats)


def _amount_minor(raw: str, currency: str) -> int | None:
    try:
        value = Decimal(raw.replace(",", ""))
    except InvalidOperation:
        return None
    scale = 1 if currency in _ZERO_DECIMAL else 100
    minor = int((value * scale).to_integral_value())
    return minor if minor > 0 else None


def _currency(groups: dict[str, str | None], fmt: ClaimFormat, default: str) -> str:
    for raw in (groups.get("cur"), groups.get("cur2")):
        if raw:
            key = raw.upper().rstrip(".")
            if key in _CURRENCY_CODES:
                return _CURRENCY_CODES[key]
    return (fmt.currency or default).upper()


def _when(date: str | None, time: str | None, fmt: ClaimFormat) -> int | None:
    if not date:
        return None
    raw = re.split(r"[/.-]", date)
    parts = [int(p) for p in raw]
    if len(raw[0]) == 4 or fmt.date_order == "ymd":
        y, m, d = parts
    elif fmt.date_order == "mdy":
        m, d, y = parts
    else:
        d, m, y = parts
    if y < 100:
        y += 2000
    hour = minute = second = 0
    if time:
        t = re.match(r"(\d{1,2}):(\d{2})(?::(\d{2}))?\s*([AaPp])?", time)
        if t:
            hour, minute, second = int(t.group(1)), int(t.group(2)), int(t.group(3) or 0)
            ampm = (t.group(4) or "").lower()
            if ampm == "p" and hour < 12:
                hour += 12
            elif ampm == "a" and hour == 12:
                hour = 0
    try:
        local = datetime(y, m, d, hour, minute, second, tzinfo=timezone(timedelta(hours=fmt.utc_offset_hours)))
    except ValueError:
        return None
    return int(local.astimezone(UTC).timestamp() * 1000)


def parse_claim(text: str, formats: tuple[ClaimFormat, ...] | None = None, default_currency: str = "KES",
                notification: Notification | None = None) -> Claim | None:
    """The claim a notification makes, or ``None`` when the text is not a money-in notice.

    ``notification`` is the operator format the text already matched (:func:`pesaguard.sms.formats.inspect`);
    without it the library is asked here.
    """
    flat = " ".join(unicodedata.normalize("NFKC", text).split())
    formats = formats if formats is not None else load_formats()
    for fmt in (f for f in formats if not f.packaged):
        claim = _regex_claim(flat, fmt, default_currency)
        if claim is not None:
            return claim
    if notification is None:
        found = parse_notifications(text)
        notification = found[0][0] if found else None
    if notification is not None:
        if notification.kind in MONEY_IN and notification.amount_minor and notification.currency:
            return Claim(notification.format, notification.amount_minor, notification.currency, notification.txn_id,
                         notification.counterparty, _clean_phone(notification.counterparty_phone),
                         notification.when_ms)
        return None  # an operator notification of money going out, a balance, an airtime purchase...
    for fmt in (f for f in formats if f.packaged):
        claim = _regex_claim(flat, fmt, default_currency)
        if claim is not None:
            return claim
    return None


def _clean_phone(phone: str | None) -> str | None:
    value = (phone or "").replace(" ", "").replace("-", "")
    return value or None


def _regex_claim(flat: str, fmt: ClaimFormat, default_currency: str) -> Claim | None:
    m = fmt.regex.search(flat)
    if not m:
        return None
    g = m.groupdict()
    currency = _currency(g, fmt, default_currency)
    amount = _amount_minor(g["amount"], currency)
    if amount is None:
        return None
    name = (g.get("name") or "").strip(" .-") or None
    phone = (g.get("phone") or "").replace(" ", "") or None
    code = (g.get("code") or "").strip(".") or None
    return Claim(fmt.name, amount, currency, code, name, phone, _when(g.get("date"), g.get("time"), fmt))


def sender_is_operator(sender: str | None, operator_ids: list[str]) -> bool | None:
    """Whether ``sender`` is one of the operator's sender IDs (``None`` when no sender was given)."""
    if not sender:
        return None
    key = re.sub(r"[^a-z0-9]", "", sender.casefold())
    return key in {re.sub(r"[^a-z0-9]", "", s.casefold()) for s in operator_ids}


def _phone_keys(phone: str) -> set[str]:
    """Ways one number may be written as an account id: 0712..., 254712..., +254712..., 712..."""
    digits = re.sub(r"\D", "", phone)
    local = digits[3:] if len(digits) == 12 else digits.lstrip("0")
    keys = {phone, digits, local, "0" + local}
    if len(digits) == 12:
        keys |= {"+" + digits}
    return keys


def check_claim(store: Any, claim: Claim, account: str, received_ms: int | None,
                window_ms: int = 2 * 3600 * 1000) -> tuple[str, str | None, list[str]]:
    """Look the claim up in the ledger: (status, matched txn id, reasons).

    Searches incoming transfers to ``account`` of exactly the claimed amount within ``window_ms`` of the
    time the notification states and of the time it arrived. A matching code, then a matching payer
    number, is preferred among several candidates.
    """
    from pesaguard.store.core import find_incoming

    times = sorted({t for t in (claim.sent_ms, received_ms) if t is not None})
    candidates: dict[str, dict[str, Any]] = {}
    for t in times:
        for row in find_incoming(store, account, claim.amount_minor, t, window_ms):
            if str(row.get("currency") or claim.currency).upper() == claim.currency:
                candidates[str(row["txn_id"])] = row
    if not candidates:
        return "no_match", None, ["no such incoming transaction: the ledger shows no "
                                  f"{claim.currency} {claim.amount_minor} received by this account at that time"]
    rows = list(candidates.values())
    if claim.code:
        by_code = [r for r in rows if str(r["txn_id"]).upper() == claim.code.upper()]
        if by_code:
            return "verified", str(by_code[0]["txn_id"]), ["matches an incoming transaction with the same code"]
    if claim.payer_phone:
        keys = _phone_keys(claim.payer_phone)
        by_payer = [r for r in rows if str(r["payer"]) in keys]
        if by_payer:
            return "verified", str(by_payer[0]["txn_id"]), ["matches an incoming transaction from the same number"]
    return "verified", str(rows[0]["txn_id"]), ["matches an incoming transaction of that amount at that time"]
