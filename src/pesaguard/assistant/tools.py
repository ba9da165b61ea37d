"""Tools the assistant can run: the SMS scam check on a pasted message, and (analysts only) an
account's recent activity. Each tool is a :class:`Tool` in :data:`REGISTRY`; a tool whose backing
area is not installed reports itself unavailable instead of inventing a result.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
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


REGISTRY: dict[str, Tool] = {
    "sms_check": Tool("sms_check", "Check a pasted SMS for scam signs and fake money-received claims",
                      ("customer", "analyst"), sms_check),
    "account_activity": Tool("account_activity", "An account's recent transactions, labels and events",
                             ("analyst",), account_activity),
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
