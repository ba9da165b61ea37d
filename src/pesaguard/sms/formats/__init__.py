"""Mobile-money notification formats: recognise the real ones, catch the fakes.

:func:`inspect` matches a message against every known format (M-Pesa Kenya and Tanzania, MTN MoMo
Uganda, Rwanda, Ghana, Zambia and Cameroon, Airtel Money Kenya, Uganda, Tanzania, Zambia, Malawi and
Rwanda, Tigo Pesa / Mixx by Yas, HaloPesa, T-Kash; English, Swahili, Kinyarwanda, French), extracts
operator, kind, amount, currency, counterparty, balance, fee and transaction id, and runs the
consistency checks of :mod:`.checks`. ``consistent`` means a known format with nothing out of place:
genuine whatever the sender field says. ``inconsistent`` means it imitates a format and breaks it,
with the reasons.

>>> r = inspect("SBK3XY7ZQ1 Confirmed. You have received Ksh1,500.00 from JANE ROE 0712345678 on "
...             "20/2/24 at 10:15 AM New M-PESA balance is Ksh2,345.67.")
>>> (r.status, r.notification.operator, r.notification.kind, r.notification.amount_minor)
('consistent', 'mpesa_ke', 'received', 150000)
>>> inspect(r.text + " I sent it by mistake, please send it back to 0722111222").status
'inconsistent'
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from pesaguard.sms.formats import airtel, mpesa, mtn, others
from pesaguard.sms.formats.checks import Problem, check, sender_keys, sender_kind
from pesaguard.sms.formats.fields import money, when_ms
from pesaguard.sms.formats.spec import MONEY_IN, Notification, NotificationFormat, Operator

FORMATS: tuple[NotificationFormat, ...] = (*mpesa.FORMATS, *mtn.FORMATS, *airtel.FORMATS, *others.FORMATS)
OPERATORS: tuple[Operator, ...] = (*mpesa.OPERATORS, *mtn.OPERATORS, *airtel.OPERATORS, *others.OPERATORS)
#: Every sender ID a known operator's notifications come from (compared without case or punctuation).
OPERATOR_SENDERS: frozenset[str] = frozenset(sender_keys([s for op in OPERATORS for s in op.senders]))

# Words every format contains one of; texts without any skip the format regexes (most personal texts).
_ANCHOR = re.compile(
    r"receiv|sent|paid|withdr|deposit|airtime|balance|\bbal\b|salio|umepokea|umetuma|umetoa|umenunua|umelipa|umeweka"
    r"|imethibitishwa|confirmed|transferred|trans|txn|approvals|solde|re[çc]u|retrait|paiement|wakiriye|wohereje"
    r"|wabikuje|asigaye|bundle|fuliza|shwari|recharge|cash|muamala|kumbukumbu", re.I)

Status = Literal["none", "consistent", "inconsistent"]


@dataclass(frozen=True)
class FormatCheck:
    """What the format library says about one message."""

    text: str
    status: Status
    notification: Notification | None = None
    problems: tuple[Problem, ...] = ()
    sender: str | None = None  # operator, lookalike, phone, other (None: no sender given)
    alternatives: int = 0  # how many other formats also matched

    @property
    def reasons(self) -> list[str]:
        return [p.reason for p in self.problems]


def flatten(text: str) -> str:
    """NFKC with whitespace collapsed: the form every format is matched against."""
    return " ".join(unicodedata.normalize("NFKC", text).split())


_DIGITS_IN_NAME = re.compile(r"\d{6}")


def parse(text: str, prefer: frozenset[str] = frozenset()) -> list[tuple[Notification, list[Problem]]]:
    """The formats that match ``text``, parsed and checked, best first.

    Best: fewest problems, then the longest match (more of the message explained), then the most fields
    read (a number read as a number, not as part of a name), then list order, the operators in
    ``prefer`` (named by the sender ID) first. The search stops at a consistent reading from the first
    word to near the end of the message.
    """
    flat = flatten(text)
    if not _ANCHOR.search(flat):
        return []
    found: list[tuple[int, int, int, int, Notification, list[Problem]]] = []
    low = flat.lower()
    # A format is tried only when its operator's currency is mentioned and its fixed words are all there.
    currencies = {op.currency for op in OPERATORS if op.mentions_currency.search(low)}
    memo: dict[object, object] = {}
    ordered = sorted(enumerate(FORMATS), key=lambda f: f[1].operator.key not in prefer) if prefer else enumerate(FORMATS)
    for order, fmt in ordered:
        if fmt.operator.currency not in currencies or not all(w in low for w in fmt.words):
            continue
        m = fmt.regex.search(flat)
        if m is None:
            continue
        n, groups = _notification(fmt, m)
        problems = check(n, fmt.operator, groups, flat, memo)
        fields = sum(v is not None for v in groups.values())
        found.append((len(problems), -(m.end() - m.start()), -fields, order, n, problems))
        if (not problems and m.start() <= 2 and m.end() >= 0.6 * len(flat)
                and not _DIGITS_IN_NAME.search(n.counterparty or "")):
            # A consistent reading from the first word to (near) the end: no other format can do
            # better, unless the name swallowed a number that a phone-first shape would read.
            break
    found.sort(key=lambda f: f[:4])
    return [(n, p) for *_, n, p in found]


def inspect(text: str, sender: str | None = None, extra_senders: Iterable[str] = ()) -> FormatCheck:
    """Match, parse and check one message; ``sender`` adds the look-alike-sender check."""
    known = set(OPERATOR_SENDERS) | sender_keys(list(extra_senders))
    kind = sender_kind(sender, known)
    # Where several operators print the same shape, the one the sender ID names is tried first.
    prefer = frozenset(op.key for op in OPERATORS if _sender_fits(sender, op)) if kind == "operator" else frozenset()
    matches = parse(text, prefer)
    if not matches:
        return FormatCheck(text, "none", sender=kind)
    n, problems = matches[0]
    problems = list(problems)
    if kind == "lookalike":
        problems.append(Problem("lookalike_sender", f"the sender ID {sender!r} imitates an operator's but is not one"))
    status: Status = "inconsistent" if problems else "consistent"
    return FormatCheck(text, status, n, tuple(problems), kind, len(matches) - 1)


def _sender_fits(sender: str | None, op: Operator) -> bool:
    return bool(sender) and sender_kind(sender, sender_keys(op.senders)) == "operator"


def _notification(fmt: NotificationFormat, m: re.Match[str]) -> tuple[Notification, dict[str, str | None]]:
    g = m.groupdict()
    op = fmt.operator
    amount, cur = money(g, "amt", op.currency)
    balance, bal_cur = money(g, "bal", op.currency)
    fee, _ = money(g, "fee", op.currency)
    tax, _ = money(g, "tax", op.currency)
    cp = (g.get("cp") or "").strip(" -,.") or None
    return Notification(
        format=fmt.name, operator=op.key, operator_name=op.name, country=op.country, lang=fmt.lang, kind=fmt.kind,
        amount_minor=amount, currency=cur or bal_cur or op.currency, counterparty=cp,
        counterparty_phone=(g.get("phone") or "").strip() or None, balance_minor=balance, fee_minor=fee,
        tax_minor=tax, txn_id=(g.get("txid") or g.get("txid2") or "").strip(".-") or None,
        when_ms=when_ms(g.get("date"), g.get("time"), op.date_order, op.utc_offset_hours),
        account=g.get("acct"), span=(m.start(), m.end()),
    ), g


__all__ = ["FORMATS", "MONEY_IN", "OPERATORS", "OPERATOR_SENDERS", "FormatCheck", "Notification", "Problem",
           "flatten", "inspect", "parse"]
