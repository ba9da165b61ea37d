"""What a notification format is, what parsing one yields, and what is known about each operator.

An :class:`Operator` is one mobile-money service in one country: its currency, the shapes its
transaction ids take, the sender IDs its notifications come from, the official numbers and web
domains its messages may mention. A :class:`NotificationFormat` is one message shape of one
operator (a kind, a language, a regex written with the macros of :mod:`.fields`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from pesaguard.sms.formats.fields import currency_present, expand

Kind = Literal["received", "sent", "payment", "bill", "withdrawn", "deposit", "airtime", "bundle", "reversal",
               "balance", "loan", "savings", "approval", "refund"]
#: Kinds that put money into the customer's account (the ledger claim check applies to these).
MONEY_IN: frozenset[str] = frozenset({"received", "deposit", "refund", "reversal"})


@dataclass(frozen=True)
class Operator:
    """One mobile-money service in one country."""

    key: str  # "mpesa_ke"
    name: str  # "M-Pesa Kenya"
    country: str  # ISO 3166 alpha-2
    currency: str
    id_shapes: tuple[str, ...]  # full-match regexes of its transaction ids (case-sensitive)
    senders: tuple[str, ...]  # sender IDs its notifications come from
    official_numbers: tuple[str, ...] = ()  # numbers its own messages ask you to call
    domains: tuple[str, ...] = ()  # web domains its own messages link to
    date_order: str = "dmy"
    utc_offset_hours: float = 3.0
    daily_limit_minor: int | None = None  # what "amount you can transact within the day" can never exceed
    _id_res: tuple[re.Pattern[str], ...] = field(init=False, repr=False, compare=False)
    mentions_currency: re.Pattern[str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_id_res", tuple(re.compile(s) for s in self.id_shapes))
        object.__setattr__(self, "mentions_currency", currency_present(self.currency))

    def id_ok(self, txid: str) -> bool:
        return any(r.fullmatch(txid) for r in self._id_res)


@dataclass(frozen=True)
class NotificationFormat:
    """One message shape: ``pattern`` is written with :data:`.fields.MACROS`."""

    name: str
    operator: Operator
    lang: str
    kind: str
    pattern: str
    regex: re.Pattern[str] = field(init=False, repr=False, compare=False)
    words: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "words", required_words(self.pattern))
        # In patterns a space is optional whitespace and "~" any run of separators, so one pattern
        # covers the line breaks, missing spaces and stray punctuation of real messages.
        body = self.pattern.replace(" ", r"\s*").replace("~", r"[\s.,;:\-]*")
        object.__setattr__(self, "regex", re.compile(expand(body), re.IGNORECASE))


@dataclass(frozen=True)
class Notification:
    """What a matched notification says. Amounts are minor units of ``currency``; times are UTC ms."""

    format: str
    operator: str
    operator_name: str
    country: str
    lang: str
    kind: str
    amount_minor: int | None
    currency: str | None
    counterparty: str | None = None
    counterparty_phone: str | None = None
    balance_minor: int | None = None
    fee_minor: int | None = None
    tax_minor: int | None = None
    txn_id: str | None = None
    when_ms: int | None = None
    account: str | None = None
    span: tuple[int, int] = (0, 0)  # where the format matched in the flattened text

    def to_dict(self) -> dict[str, object]:
        out = {k: getattr(self, k) for k in ("operator", "operator_name", "country", "lang", "kind",
                                             "amount_minor", "currency", "counterparty", "counterparty_phone",
                                             "balance_minor", "fee_minor", "tax_minor", "txn_id", "when_ms")}
        out["format"] = self.format
        return out


def required_words(pattern: str) -> tuple[str, ...]:
    """Literal words of four letters or more that every match contains (lower case).

    Optional groups and groups with alternatives are dropped first, so what is left must appear.
    Checking these with ``in`` before running the regex skips almost every format for a given text:
    a search costs milliseconds when a lazy name field backtracks, the word test microseconds.
    """
    text = re.sub(r"\{[a-z0-9]+\}", " ", pattern)
    text = re.sub(r"\\.", " ", text)  # escapes (\s, \., \( ...)
    text = re.sub(r"\[[^\]]*\]", " ", text)  # character classes
    changed = True
    while changed:
        changed = False
        for m in re.finditer(r"\((?:\?:)?([^()]*)\)([?*]?)", text):
            if m.group(2) or "|" in m.group(1):
                text = text[:m.start()] + " " + text[m.end():]
            else:
                text = text[:m.start()] + " " + m.group(1) + " " + text[m.end():]
            changed = True
            break
    text = re.sub(r".[?*]", " ", text)  # optional characters
    return tuple(dict.fromkeys(w.lower() for w in re.findall(r"[A-Za-z']{4,}", text) if "'" not in w))


def op_formats(op: Operator, lang: str, entries: list[tuple[str, str]]) -> list[NotificationFormat]:
    """``[(kind, pattern), ...]`` of one operator and language -> formats named ``op_lang_kind[_n]``."""
    out: list[NotificationFormat] = []
    seen: dict[str, int] = {}
    for kind, pattern in entries:
        n = seen[kind] = seen.get(kind, 0) + 1
        name = f"{op.key}_{lang}_{kind}" + (f"_{n}" if n > 1 else "")
        out.append(NotificationFormat(name, op, lang, kind, pattern))
    return out
