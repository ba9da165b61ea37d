"""Field patterns shared by every notification format, and their conversion to typed values.

A format is a regex written with macros: ``{amt}``, ``{bal}``, ``{fee}``, ``{tax}`` and ``{limit}`` are
money (currency before or after the number, ``Ksh1,500.00``, ``UGX 105,000``, ``5000 RWF``);
``{id}`` a transaction id; ``{cp}`` a counterparty name; ``{phone}`` a phone number, masked or not;
``{date}`` and ``{time}``; ``{acct}`` an account or meter reference; ``{agent}`` an agent number.
Texts are matched after NFKC and whitespace collapsing, case-insensitively (ids keep their case).

Amounts become integer minor units with the currency's ISO 4217 exponent (KES, TZS, GHS, ZMW, MWK:
2; UGX, RWF, XAF: 0).

>>> money_minor("1,500.50", "KES"), money_minor("105,000", "UGX"), money_minor("5 000", "XAF")
(150050, 105000, 5000)
>>> currency_code("Ksh"), currency_code("FCFA"), currency_code("K", "ZMW")
('KES', 'XAF', 'ZMW')
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal, InvalidOperation

# Currency words as operators print them. "K" (kwacha) is only read where the format says ZMW.
_CUR_WORDS = {
    "KES": ("KSH", "KSHS", "KES", "KSH.", "KSHS."),
    "TZS": ("TSH", "TSHS", "TZS", "TSH.", "TSHS."),
    "UGX": ("UGX", "USH", "USHS", "SHS", "USH."),
    "RWF": ("RWF", "FRW", "RF"),
    "GHS": ("GHS", "GH₵", "GHC", "GH¢", "GH¢."),
    "ZMW": ("ZMW", "K"),
    "MWK": ("MWK", "MK"),
    "XAF": ("FCFA", "XAF", "F CFA", "FRS", "F"),
    "USD": ("USD", "$"),
}
ZERO_DECIMAL = frozenset({"UGX", "RWF", "XAF"})
_WORD_TO_CODE = {w: code for code, words in _CUR_WORDS.items() for w in words}
# Longest first so "KSHS" wins over "KSH"; single letters only as whole words.
CUR = "|".join(
    re.escape(w) + (r"(?![A-Za-z])" if len(w) <= 2 else "")
    for w in sorted(_WORD_TO_CODE, key=len, reverse=True)
)
NUM = r"\d{1,3}(?:,\d{3})+(?:\.\d{1,2})?|\d{1,3}(?:[ \u202f]\d{3})+(?![\d,])|\d+(?:\.\d{1,2})?"
# A phone number as written, or masked ("07XXXXXXXX", "0712***678", "2567XXXXXXXX", "079X XXX 350");
# a masked one needs a digit, so a masked name ("XXXX XXXX") is not read as a number.
PHONE = (r"\+?(?:\d[\d \-]{6,15}\d|[Xx*]{9,13}|(?=[\dXx*\u2022 \-]*\d)(?=\d{0,5}[Xx*\u2022])\d{0,5}[Xx*\u2022][\dXx*\u2022 \-]{2,14}"
         r"[\dXx*\u2022])(?![\w*])")
DATE = (r"(?:\d{4}-\d{1,2}-\d{1,2}|\d{1,2}[/.\-]\d{1,2}[/.\-]\d{2,4}"
        r"|\d{1,2}[\- ](?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?[\- ,]*\d{2,4})")
TIME = r"\d{1,2}:\d{2}(?::\d{2})?(?:\s?[AaPp]\.?[Mm]\.?)?"
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


def currency_present(currency: str) -> re.Pattern[str]:
    """Finds a mention of ``currency`` in lower-cased text (single-letter symbols only before a number)."""
    words = [w.lower() for w in _CUR_WORDS.get(currency, (currency,))]
    alts = [re.escape(w) + r"\s?\.?\s?\d" if len(w) <= 2 else re.escape(w) for w in words]
    alts += [r"\d\s?" + re.escape(w) + r"\b" for w in words if len(w) <= 2]
    return re.compile("|".join(alts))


def _money(name: str) -> str:
    return (rf"(?:(?P<{name}_c>{CUR})\s?\.?\s?(?P<{name}>{NUM})"
            rf"|(?P<{name}_n>{NUM})\s?(?P<{name}_c2>{CUR})(?![A-Za-z]))")


MACROS: dict[str, str] = {
    "amt": _money("amt"), "bal": _money("bal"), "fee": _money("fee"), "tax": _money("tax"),
    "limit": _money("limit"),
    "fee2": _money("fee2"),  # where a fee may be printed before or after the balance
    # A bare number where the operator prints no currency (the daily limit, a balance in one format).
    "num": rf"(?P<num>{NUM})",
    # Dotted ids ("PP240312.1415.A12345") continue only into parts with a digit: "123.Thank you" stops.
    # An id has a digit; dotted ids ("PP240312.1415.A12345") continue only into parts with a digit, so
    # "123.Thank you" stops at the dot.
    # An id glued to the next word ("123456789012Asante") ends before the capitalised word.
    "id": r"(?P<txid>(?=[A-Za-z]{0,12}\d)[A-Za-z0-9]{6,26}(?:[.\-](?=[A-Za-z]?\d)[A-Za-z0-9]{2,12})*(?-i:(?![a-z]))"
          r"|[Xx*]{4,})",
    "id2": r"(?P<txid2>(?=[A-Za-z]{0,12}\d)[A-Za-z0-9]{6,26}(?:[.\-](?=[A-Za-z]?\d)[A-Za-z0-9]{2,12})*(?-i:(?![a-z]))"
           r"|[Xx*]{4,})",
    # Counterparty: one to eight words, lazily; the literal that follows in the format ends it.
    "cp": r"(?P<cp>[^\s.,;:()][^;:()]{0,70}?)",
    "phone": rf"(?P<phone>{PHONE})",
    "date": rf"(?P<date>{DATE})",
    "time": rf"(?P<time>{TIME})",
    "acct": r"(?P<acct>[A-Za-z0-9\-/*X]{1,30})",
    "agent": r"(?P<agent>\d{3,8}|[Xx*]{3,8})",
}


_MACRO_RE = re.compile(r"\{([a-z][a-z0-9]*)\}")


def expand(pattern: str) -> str:
    """A format written with macros -> a Python regex (``{name}``; regex counts such as ``{0,80}`` stay)."""
    def sub(m: re.Match[str]) -> str:
        if m.group(1) not in MACROS:
            raise KeyError(f"unknown macro {m.group()}; known: {', '.join(MACROS)}")
        return MACROS[m.group(1)]
    return _MACRO_RE.sub(sub, pattern)


def currency_code(word: str | None, default: str | None = None) -> str | None:
    """``Ksh`` -> ``KES`` (``K`` and ``F`` only mean kwacha or CFA francs where ``default`` says so)."""
    if not word:
        return default
    key = " ".join(word.upper().split())
    code = _WORD_TO_CODE.get(key) or _WORD_TO_CODE.get(key.rstrip("."))
    if code is None:
        return default
    if key in ("K", "F", "RF") and default is not None and default != code:
        return default
    return code


def money_minor(raw: str, currency: str | None) -> int | None:
    """``"1,500.50"`` in KES -> 150050; ``None`` when it is not a number."""
    try:
        value = Decimal(re.sub(r"[,\s\u202f]", "", raw))
    except InvalidOperation:
        return None
    scale = 1 if currency in ZERO_DECIMAL else 100
    return int((value * scale).to_integral_value())


def money(groups: dict[str, str | None], name: str, default_currency: str | None) -> tuple[int | None, str | None]:
    """The amount (minor units) and currency of money macro ``name`` in a match, if it matched."""
    raw = groups.get(name) or groups.get(f"{name}_n")
    if raw is None:
        if f"{name}2" in groups:
            return money(groups, f"{name}2", default_currency)
        return None, None
    cur = currency_code(groups.get(f"{name}_c") or groups.get(f"{name}_c2"), default_currency)
    return money_minor(raw, cur), cur


def when_ms(date: str | None, time: str | None, date_order: str, utc_offset_hours: float) -> int | None:
    """Epoch ms of a stated local date and time; ``None`` when absent or not a real date."""
    if not date:
        return None
    parts = parse_date(date, date_order)
    if parts is None:
        return None
    y, m, d = parts
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
        local = datetime(y, m, d, hour, minute, second, tzinfo=timezone(timedelta(hours=utc_offset_hours)))
    except ValueError:
        return None
    return int(local.astimezone(UTC).timestamp() * 1000)


def parse_date(date: str, date_order: str = "dmy") -> tuple[int, int, int] | None:
    """(year, month, day) of a date as operators print it; ``None`` when not a calendar date."""
    low = date.lower()
    named = re.match(r"(\d{1,2})[\- ]([a-z]{3})[a-z]*\.?[\- ,]*(\d{2,4})", low)
    if named:
        if named.group(2) not in _MONTHS:
            return None
        d, m, y = int(named.group(1)), _MONTHS.index(named.group(2)) + 1, int(named.group(3))
    else:
        raw = re.split(r"[/.\-]", low)
        if len(raw) != 3 or not all(p.isdigit() for p in raw):
            return None
        a, b, c = (int(p) for p in raw)
        if len(raw[0]) == 4 or date_order == "ymd":
            y, m, d = a, b, c
        elif date_order == "mdy":
            m, d, y = a, b, c
        else:
            d, m, y = a, b, c
    if y < 100:
        y += 2000
    try:
        datetime(y, m, d)
    except ValueError:
        return None
    return y, m, d


def format_money(minor: int, currency: str | None) -> str:
    """``150050, "KES"`` -> ``KES 1,500.50``; ``105000, "UGX"`` -> ``UGX 105,000``."""
    if currency in ZERO_DECIMAL:
        return f"{currency} {minor:,}"
    return f"{currency or ''} {minor / 100:,.2f}".strip()


def digits(phone: str | None) -> str:
    return re.sub(r"\D", "", phone or "")


def is_masked(value: str | None) -> bool:
    """Whether a field was masked in the text (``07XXXXXXXX``, ``XXXXXX``, ``0712***678``)."""
    return bool(value) and bool(re.search(r"[Xx*•]{3,}", value or ""))
