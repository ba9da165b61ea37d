"""Consistency checks on a parsed notification, and the signs of an imitation.

A genuine notification is machine-made: its id has the operator's shape, its numbers add up, its fee
is plausible for the amount, and it never asks for anything. A fake one copies the shape and then
gives itself away: the money "received" exceeds the new balance, a personal number to call, "please
send it back", a request for the PIN, an id of the wrong shape, or a sender ID that imitates the
operator's. Each :class:`Problem` carries the reason shown to the user.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pesaguard.sms.formats.fields import PHONE, ZERO_DECIMAL, digits, format_money, is_masked, parse_date
from pesaguard.sms.formats.spec import MONEY_IN, Notification, Operator


@dataclass(frozen=True)
class Problem:
    """One inconsistency: ``code`` for programs, ``reason`` for people."""

    code: str
    reason: str


# The most an operator charges as a flat fee, in major units, where 10% of the amount would be less.
_FEE_FLOOR = {"KES": 150, "TZS": 10_000, "UGX": 15_000, "RWF": 2_000, "GHS": 20, "ZMW": 40, "MWK": 3_000,
              "XAF": 1_500, "USD": 2}
# Money-in that leaves a balance below the amount is normal only when a loan or overdraft took a cut.
_LOAN_WORDS = re.compile(r"fuliza|overdraft|loan|mkopo|deni|repa(?:y|id)|recover|deducted|okoa|mokash|wewole"
                         r"|mshwari|kcb m-?pesa|used to (?:fully |partially )?pay|imetumika kulipa|prêt|pret\b", re.I)
# First-person asks only: an operator's own tail may say "sent money to a wrong number? forward this SMS".
REVERSAL_ASK = re.compile(
    r"\b(?:send (?:it|them|the money|my money|the cash|that money|the funds|hiyo|iyo) ?back|return (?:it|the money|my money|them)"
    r"|(?:please|kindly|pls|plz) (?:help me )?(?:reverse|refund|return)|reverse (?:it|the money|my money)|refund me"
    r"|\bi(?:'ve| have)?\b[^.]{0,40}\b(?:sent|send|transferred|deposited)\b[^.]{0,40}"
    r"\b(?:by mistake|mistakenly|wrongly|in error|to the wrong)"
    r"|\bi(?:'ve| have)? (?:mistakenly|wrongly|accidentally) (?:sent|transferred|deposited)"
    r"|(?:ni)?rudish(?:ie|e|a|ia) (?:pesa|hela|hiyo|hizo|iyo|ela|doh|fedha)|nirudishie|nirejeshee|irudishe|zirudishe"
    r"|yarudishe|urudishe|\b(?:nime|nili)\w*\b[^.]{0,40}\b(?:kwa makosa|kwa bahati mbaya|kimakosa)|nimekosea|nilikosea"
    r"|tuma (?:kwa|kwenye) (?:namba|nambari) hii|nitumie (?:hiyo|hizo|iyo) (?:pesa|hela)|nzizaayo"
    r"|renvoyez-moi|me (?:les )?renvoyer|rembourse[rz]?-moi|(?:j'ai|je vous ai) (?:envoy[ée]|transf[ée]r[ée]) par erreur)\b",
    re.I)
SECRET_ASK = re.compile(
    r"\b(?:send|share|give|tell|enter|confirm|reply with|provide|tuma|nitumie|nipe|tupe|ingiza|thibitisha|taja|weka"
    r"|tutumie|niambie|envoyez|donnez)\b.{0,30}\b(?:pin|otp|password|namba (?:yako )?ya siri|nambari ya siri|nenosiri"
    r"|one[- ]time (?:code|password)|verification code|secret code|code secret|mot de passe)\b", re.I)
_NEGATED = re.compile(r"(?<![a-z])(?:never|do not|don't|usi\w*|hatutakuomba|will not|ne .{0,10} jamais|ntuzigere)\b.{0,40}$",
                      re.I)
CALL_TO_ACTION = re.compile(
    r"\b(?:call|piga|contact|reach|whatsapp|sms|text|send (?:it|money|cash)? ?to|tuma (?:kwa|kwenye)|nipigie|tupigie"
    r"|wasiliana na|appelez|hamagara|kuba|mpigie|via)\b[^.]{0,30}?(" + PHONE + ")", re.I)
_PHONE_SHAPE = re.compile(r"0\d{9}|\d{12}|\d{9}|6\d{8}|2\d{11}")


def check(n: Notification, op: Operator, groups: dict[str, str | None], flat: str,
          memo: dict[Any, Any] | None = None) -> list[Problem]:
    """Every inconsistency of ``n`` (matched at ``n.span`` in the flattened text ``flat``).

    ``memo`` caches, across the formats tried on one text, what does not depend on the format.
    """
    memo = {} if memo is None else memo
    out = _amount_problems(n, op, groups)
    out += _id_and_date_problems(n, op, groups, flat)
    out += _sum_problems(n, op, groups, flat, memo)
    phone = n.counterparty_phone
    if phone and not is_masked(phone) and not _PHONE_SHAPE.fullmatch(digits(phone)):
        out.append(Problem("phone", f"the number {phone!r} is not a phone number of the region"))
    key = ("tail", n.span, n.counterparty, op.official_numbers, op.name)
    if key not in memo:
        memo[key] = tail_problems(flat, n, op)
    out.extend(memo[key])
    return out


def _amount_problems(n: Notification, op: Operator, groups: dict[str, str | None]) -> list[Problem]:
    """The currency is the operator's, an amount is there where the format has one, and it is not zero."""
    out: list[Problem] = []
    cur = op.currency
    money_currencies = {groups.get(f"{k}_c") or groups.get(f"{k}_c2") for k in ("amt", "bal", "fee", "tax")} - {None}
    if n.currency and n.currency != cur:
        out.append(Problem("currency", f"{op.name} pays in {cur}, the message says {n.currency}"))
    elif not money_currencies and n.amount_minor is None and n.kind not in ("balance", "reversal"):
        out.append(Problem("amount", "no amount where the format has one"))
    if n.amount_minor is not None and n.amount_minor <= 0 and n.kind not in ("balance",):
        out.append(Problem("amount", "an amount of zero"))
    return out


def _id_and_date_problems(n: Notification, op: Operator, groups: dict[str, str | None], flat: str) -> list[Problem]:
    """The transaction id has the operator's shape and the date is a calendar date."""
    out: list[Problem] = []
    # A data set that folded the case of the whole message folded the id too.
    txid = n.txn_id if n.txn_id is None or any(ch.isupper() for ch in flat) else n.txn_id.upper()
    if txid and not is_masked(txid) and not op.id_ok(txid):
        out.append(Problem("txn_id", f"transaction id {n.txn_id!r} does not have the shape of {op.name} ids"))
    date = groups.get("date")
    if date and parse_date(date, op.date_order) is None:
        out.append(Problem("date", f"the date {date!r} is not a calendar date"))
    return out


def _sum_problems(n: Notification, op: Operator, groups: dict[str, str | None], flat: str,
                  memo: dict[Any, Any]) -> list[Problem]:
    """The numbers add up: balance after money in, fee and tax against the amount, the daily limit."""
    out: list[Problem] = []
    cur = op.currency
    amt, bal = n.amount_minor, n.balance_minor
    if n.kind in MONEY_IN and amt is not None and bal is not None and bal < amt and not _loan_words(flat, memo):
        out.append(Problem("balance", f"the new balance ({_fmt(bal, cur)}) is less than the amount received "
                                      f"({_fmt(amt, cur)}): the numbers do not add up"))
    floor = _FEE_FLOOR.get(cur, 0) * (1 if cur in ZERO_DECIMAL else 100)
    for label, value, share in (("fee", n.fee_minor, 0.1), ("tax", n.tax_minor, 0.05)):
        if value is not None and amt is not None and amt > 0 and (value > amt or value > max(share * amt, floor)):
            out.append(Problem("fee", f"a {label} of {_fmt(value, cur)} on {_fmt(amt, cur)} is not what {op.name} "
                                      "charges"))
    limit_raw = groups.get("num")
    if op.daily_limit_minor and limit_raw and amt is not None and n.kind not in MONEY_IN:
        limit = int(float(limit_raw.replace(",", "")) * (1 if cur in ZERO_DECIMAL else 100))
        if limit + amt > op.daily_limit_minor:
            out.append(Problem("daily_limit", f"the amount left to transact today ({_fmt(limit, cur)}) plus this "
                                              f"payment exceeds {op.name}'s daily limit"))
    return out


def _loan_words(flat: str, memo: dict[Any, Any]) -> bool:
    if "loan" not in memo:
        memo["loan"] = bool(_LOAN_WORDS.search(flat))
    return bool(memo["loan"])


def tail_problems(flat: str, n: Notification, op: Operator) -> list[Problem]:
    """Requests that no operator's notification makes, outside its fields or hidden in the name field."""
    start, end = n.span
    rest = f"{flat[:start]} {n.counterparty or ''} {flat[end:]}"
    out = []
    if REVERSAL_ASK.search(rest):
        out.append(Problem("reversal_request", "asks for the money back: an operator's notification never does "
                                               "(the fake-notice-then-\"send it back\" scam)"))
    for m in SECRET_ASK.finditer(rest):
        if not _NEGATED.search(rest[:m.start() + 10]):
            out.append(Problem("secret_request", "asks for a PIN, password or code: an operator's notification never does"))
            break
    official = {digits(x)[-9:] for x in op.official_numbers}
    for m in CALL_TO_ACTION.finditer(rest):
        number = digits(m.group(1))
        if (len(number) >= 9 or is_masked(m.group(1))) and number[-9:] not in official:
            out.append(Problem("call_number", f"asks you to contact a personal number ({m.group(1).strip()}): "
                                              f"{op.name} messages only name its official lines"))
            break
    return out


_fmt = format_money


def sender_kind(sender: str | None, known: set[str]) -> str | None:
    """``operator``, ``lookalike`` (imitates an operator's sender ID), ``phone`` or ``other``; None if absent."""
    if not sender or not sender.strip():
        return None
    key = _key(sender)
    if key in known:
        return "operator"
    if re.fullmatch(r"\+?[\d\s\-()]{7,18}", sender.strip()):
        return "phone"
    for k in known:
        if len(k) >= 4 and (k in key or _distance(k, key) <= (1 if len(k) <= 5 else 2)):
            return "lookalike"
    return "other"


def _key(s: str) -> str:
    return re.sub(r"[^a-z0-9]", "", s.casefold())


def sender_keys(names: tuple[str, ...] | list[str] | set[str]) -> set[str]:
    return {_key(s) for s in names if _key(s)}


def _distance(a: str, b: str) -> int:
    """Levenshtein distance (short strings only: sender IDs are at most 11 characters)."""
    if abs(len(a) - len(b)) > 2:
        return 3
    prev = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        cur = [i]
        for j, cb in enumerate(b, 1):
            cur.append(min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (ca != cb)))
        prev = cur
    return prev[-1]
