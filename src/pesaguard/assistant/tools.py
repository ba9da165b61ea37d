"""Tools the assistant can run: the SMS scam check on a pasted message, (analysts only) an
account's recent activity, the ledger check of a logged-in customer's "did I really receive ...?"
question, and recording an urgent report as a case (triage). Each tool is a :class:`Tool` in
:data:`REGISTRY`; a tool whose backing area is not installed reports itself unavailable instead of
inventing a result.
"""

from __future__ import annotations

import importlib
import re
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from pesaguard.config import Settings
from pesaguard.errors import PesaguardError


class ToolResult(BaseModel):
    """What a tool returned: ``ok`` is False when it could not run (``summary`` says why)."""

    tool: str
    ok: bool
    summary: str
    data: dict[str, Any] = {}


@dataclass(frozen=True)
class Tool:
    name: str
    description: str
    audiences: tuple[str, ...]
    run: Callable[..., ToolResult]


@contextmanager
def _store(settings: Settings, store: Any) -> Iterator[Any]:
    """The caller's store, or the configured one opened (and closed) for this call."""
    if store is not None:
        yield store
        return
    from pesaguard.store import open_store

    with open_store(settings) as opened:
        yield opened


def _shield_factory() -> Callable[..., Any] | None:
    """``pesaguard.sms.shield.get_shield`` if the SMS shield is installed."""
    try:
        module = importlib.import_module("pesaguard.sms.shield")
    except ImportError:
        return None
    fn = getattr(module, "get_shield", None)
    return fn if callable(fn) else None


def sms_check(settings: Settings, text: str, account_id: str | None = None, store: Any = None,
              **_: Any) -> ToolResult:
    """The SMS shield's verdict on ``text``; with ``account_id`` its money-received claim is also
    checked against that account's ledger."""
    get_shield = _shield_factory()
    if get_shield is None:
        return ToolResult(tool="sms_check", ok=False, summary="The SMS check is not installed here.")
    try:
        shield = get_shield(settings)
        if account_id:
            with _store(settings, store) as s:
                result = shield.check(text, to=account_id, store=s)
        else:
            result = shield.check(text)
    except PesaguardError as exc:  # typically no SMS model trained yet: say so, never guess
        return ToolResult(tool="sms_check", ok=False, summary=f"The SMS check could not run: {exc}")
    data = result.model_dump(mode="json")
    summary = f"SMS check: {result.verdict} (scam probability {result.score:.2f})"
    if result.scam_type:
        summary += f", type {result.scam_type}"
    if result.reasons:
        summary += ": " + "; ".join(result.reasons[:3])
    return ToolResult(tool="sms_check", ok=True, summary=summary + ".", data=data)


def account_activity(settings: Settings, account_id: str, limit: int = 20, store: Any = None,
                     **_: Any) -> ToolResult:
    """Recent transactions of an account (either side) with their fraud labels, and account events."""
    from pesaguard.store.assistant import recent_account_activity

    with _store(settings, store) as s:
        act = recent_account_activity(s, account_id, limit=limit)
    txns, events = act["transactions"], act["events"]
    if not txns and not events:
        return ToolResult(tool="account_activity", ok=True, summary=f"No activity found for account {account_id}.",
                          data=act)
    fraud = sum(1 for t in txns if t.get("is_fraud") == 1)
    summary = (f"Account {account_id}: {len(txns)} recent transactions ({fraud} labelled fraud), "
               f"{len(events)} account events")
    if events:
        summary += f"; latest event {events[0]['kind']}"
    return ToolResult(tool="account_activity", ok=True, summary=summary + ".", data=act)


# "Did I really receive ...?": the questions the ledger check answers (English, Swahili, Sheng).
_CLAIM_Q = re.compile(
    r"\b(did i (really |actually |truly )?(receive|recieve|get|got)|have i (really |actually )?(received|recieved|got)|"
    r"was i (really |actually )?(paid|sent)|(is|was) (the|this|that) (money|payment|transfer|cash) (real|genuine)|"
    r"(check|confirm|verify) (if|whether|that) i (received|recieved|got)|(has|did) (the )?(money|payment|cash)\b.{0,30}"
    r"\b(arrive|arrived|come|reach|reached)|nimepokea kweli|je,? nimepokea|nimetumiwa kweli|zimeingia kweli|"
    r"imeingia kweli|zimefika kweli|nimelipwa kweli|ni kweli nimepokea|ni kweli nimetumiwa)", re.I)
_NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_AMOUNT = re.compile(rf"(?:\b(?:ksh|kes|kshs|tsh|tzs|ugx|ush|rwf|sh|shs)\.?\s*)?({_NUM})\s*(k\b|bob\b|/[-=])?", re.I)
_PHONE = re.compile(r"(?<!\d)(\+?254\d{9}|0[17]\d{8}|\+?255\d{9}|\+?256\d{9})(?!\d)")
_SW_UNITS = {"moja": 1, "mbili": 2, "tatu": 3, "nne": 4, "tano": 5, "sita": 6, "saba": 7, "nane": 8, "tisa": 9,
             "kumi": 10, "ishirini": 20, "thelathini": 30, "arobaini": 40, "hamsini": 50, "sitini": 60, "sabini": 70,
             "themanini": 80, "tisini": 90}
_SW_SCALE = {"mia": 100, "elfu": 1000, "laki": 100_000, "milioni": 1_000_000}
ZERO_DECIMAL = frozenset({"UGX", "RWF", "XAF", "XOF", "BIF", "GNF"})  # ISO 4217 exponent 0; the rest here use 2
EAST_AFRICA = timezone(timedelta(hours=3))


def asked_amount(question: str) -> Decimal | None:
    """The amount a question asks about, in major units: digits ("5,000", "5k") or Swahili words.

    >>> asked_amount("did I really receive 5,000 from 0712345678?"), asked_amount("nimepokea elfu tano kweli?")
    (Decimal('5000'), Decimal('5000'))
    >>> asked_amount("je nimepokea elfu mbili mia tano?"), asked_amount("did i get 2.5k")
    (Decimal('2500'), Decimal('2500.0'))
    """
    text = _PHONE.sub(" ", question)
    for m in _AMOUNT.finditer(text):
        value = Decimal(m.group(1).replace(",", ""))
        if m.group(2) and m.group(2).lower() == "k":
            value *= 1000
        if value > 0:
            return value
    # Swahili says the scale first and its count after: "elfu mbili mia tano" is 2,000 + 500.
    total, scale, counted = 0, 0, True
    for w in re.findall(r"[a-z]+", question.lower()):
        if w in _SW_SCALE:
            if not counted:
                total += scale
            scale, counted = _SW_SCALE[w], False
        elif w in _SW_UNITS and scale:
            total += scale * _SW_UNITS[w]
            counted = True
        elif w != "na" and scale:
            if not counted:
                total += scale
            scale, counted = 0, True
    if scale and not counted:
        total += scale
    seen = total > 0
    return Decimal(total) if seen and total else None


def _window(question: str, now_ms: int) -> tuple[int, int, str]:
    """(centre, half-width) of the time a question asks about, and its wording."""
    q = question.lower()
    local = datetime.fromtimestamp(now_ms / 1000, tz=EAST_AFRICA)
    midnight = int(local.replace(hour=0, minute=0, second=0, microsecond=0).timestamp() * 1000)
    if re.search(r"\b(yesterday|jana)\b", q):
        return midnight - 43_200_000, 43_200_000, "yesterday"
    if re.search(r"\b(today|leo|this morning|asubuhi)\b", q):
        return (midnight + now_ms) // 2, (now_ms - midnight) // 2 + 1, "today"
    return now_ms - 36 * 3_600_000, 36 * 3_600_000, "in the last 3 days"


def claim_check(settings: Settings, question: str, account_id: str, store: Any = None, lang: str = "en",
                now_ms: int | None = None, **_: Any) -> ToolResult:
    """The ledger's answer to "did I really receive AMOUNT (from NUMBER)?" for the logged-in
    customer ``account_id``, through the SMS shield's claim check (``pesaguard.sms.claims``)."""
    if not _CLAIM_Q.search(question):
        return ToolResult(tool="claim_check", ok=True, summary="Not a question about money received.",
                          data={"asked": False})
    amount = asked_amount(question)
    if amount is None:
        msg = ("Say how much you expected, for example: did I receive 5,000?" if lang == "en" else
               "Taja kiasi ulichotarajia, kwa mfano: je nimepokea 5,000?")
        return ToolResult(tool="claim_check", ok=False, summary=msg, data={"asked": True})
    try:
        from pesaguard.sms.claims import Claim, check_claim
    except ImportError:
        return ToolResult(tool="claim_check", ok=False, summary="The ledger check is not installed here.",
                          data={"asked": True})
    currency = settings.currency
    minor = int(amount * (1 if currency in ZERO_DECIMAL else 100))
    phone = _PHONE.search(question)
    now_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    centre, half, when = _window(question, now_ms)
    claim = Claim("question", minor, currency, payer_phone=phone.group(1) if phone else None)
    with _store(settings, store) as s:
        status, txn_id, reasons = check_claim(s, claim, account_id, centre, window_ms=half)
    shown = f"{currency} {amount:,.0f}"
    data = {"asked": True, "status": status, "amount_minor": minor, "currency": currency, "matched_txn_id": txn_id,
            "payer_phone": claim.payer_phone, "window": when, "reasons": reasons}
    if status == "verified":
        summary = (f"Yes: your account received {shown} {when} (transaction {txn_id})." if lang == "en" else
                   f"Ndiyo: akaunti yako ilipokea {shown} (muamala {txn_id}).")
    else:
        summary = (f"No: your account received no {shown} {when}. Do not send any money back." if lang == "en" else
                   f"Hapana: akaunti yako haijapokea {shown}. Usirudishe pesa yoyote.")
    return ToolResult(tool="claim_check", ok=True, summary=summary, data=data)


def report(settings: Settings, text: str, message_id: str, account_id: str | None = None, channel: str | None = None,
           store: Any = None, **_: Any) -> ToolResult:
    """Triage the customer's message; an urgent one is recorded as an open case (once per id)."""
    from pesaguard.assistant.triage_model import triage

    with _store(settings, store) as s:
        result = triage(text, message_id=message_id, settings=settings, account_id=account_id,
                        channel=channel or "assistant", store=s)
    if result.urgency != "urgent":
        summary = f"Triage: {result.urgency}; no case needed."
    elif result.case_opened:
        summary = f"Urgent: a case was opened for message {message_id}."
    else:
        summary = f"Urgent: message {message_id} already has an open case."
    return ToolResult(tool="report", ok=True, summary=summary, data=result.model_dump(mode="json"))


REGISTRY: dict[str, Tool] = {
    "sms_check": Tool("sms_check", "Check a pasted SMS for scam signs and fake money-received claims",
                      ("customer", "analyst"), sms_check),
    "account_activity": Tool("account_activity", "An account's recent transactions, labels and events",
                             ("analyst",), account_activity),
    "claim_check": Tool("claim_check", "Check in the ledger whether the logged-in customer really received an amount",
                        ("customer", "analyst"), claim_check),
    "report": Tool("report", "Triage the customer's message and open a case when it is urgent",
                   ("customer", "analyst"), report),
}


def available(audience: str) -> list[str]:
    """Names of the tools ``audience`` may use that can run in this installation."""
    out = []
    for tool in REGISTRY.values():
        if audience not in tool.audiences:
            continue
        if tool.name == "sms_check" and _shield_factory() is None:
            continue
        out.append(tool.name)
    return out
