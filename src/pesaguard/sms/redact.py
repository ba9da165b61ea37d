"""PII redaction and salted hashing for stored messages (SMS, triage messages, assistant questions).

What is removed: phone numbers of the region however they are written (``0712 345 678``,
``0712.345.678``, ``07-12-345-678``, ``+254 (0) 712 345678``, ``(+256) 772-123-456``, ``255754123456``),
payment card numbers, national ID numbers (after "ID" / "kitambulisho" / "NIN" / "NIDA", and
Uganda's NIN by its shape), PINs and passwords after "PIN" / "namba ya siri" / "password",
e-mail addresses, names after "from" / "kutoka (kwa)" / "jina" / "na" in money messages, account
and transaction numbers, and any other run of six or more digits. Amounts, dates, times and the
wording stay, so an analyst can still read what kind of message it was. ``tests/security`` checks
this against generated numbers in every format above (hypothesis).

>>> redact("QK12AB34CD Confirmed. You have received Ksh5,000.00 from JOHN DOE 0712345678 on 3/1/24")
'<code> Confirmed. You have received Ksh5,000.00 from <name> <phone> on 3/1/24'
>>> redact("Umepokea Tsh 20,000 kutoka kwa Amina Juma, akaunti 1234567890")
'Umepokea Tsh 20,000 kutoka kwa <name>, akaunti <account>'
>>> redact("nipigie 0712.345.678, PIN yangu ni 4321, kadi 4111 1111 1111 1111")
'nipigie <phone>, PIN yangu ni <pin>, kadi <card>'
"""

from __future__ import annotations

import hashlib
import hmac
import re

from pesaguard.sms.normalize import CODE_RE, EMAIL_RE, normalize

# A phone number: a leading +, 0 or country code (25x), then digits, spaces, dots, dashes and
# brackets (``+254 (0) 712 345678``), ending on a digit that no word or decimal (``,5`` ``.5``) follows.
_PHONE_RE = re.compile(r"(?<![\w.,/-])(?:\+|\(\+|0|2[5-6]\d)[\d\s().-]{6,20}\d(?!\w|[.,]\d)")
_DATE_LIKE = re.compile(r"\d{4}[./-]\d{1,2}[./-]\d{1,2}|\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")
# A date standing alone (not part of a longer dotted or dashed number): set aside before numbers are
# looked for, so that a date and the number after it never read as one phone number.
_DATE_RE = re.compile(rf"(?<![\w.,/-])(?:{_DATE_LIKE.pattern})(?![\w/-]|[.,]\d)")
_HELD = "\ue000"  # a private-use character: never in real text, and no digit
# A card: 13 to 19 digits, in groups separated by single spaces or dashes, or none.
_CARD_RE = re.compile(r"(?<![\w.,-])\d(?:[ -]?\d){12,18}(?!\w|[.,]\d)")
_SECRET_RE = re.compile(
    r"(?P<lead>\b(?i:pin|(?:namba|nambari|neno)(?:\s+ya)?\s+siri|siri)\b[^\d\n]{0,24}?)(?P<value>\d{4,8})(?!\d)"
)
_PASSWORD_RE = re.compile(r"(?P<lead>\b(?i:password|passcode|nenosiri|nywila)\b\s*(?i:is|ni)?\s*[:=]?\s*)(?P<value>\S{3,})")
_ID_RE = re.compile(
    r"(?P<lead>\b(?i:national\s+id|id|i\.d\.|kitambulisho|nin|nida)\b\.?"
    r"(?:\s*(?i:no|number|namba|nambari|#)\.?)?(?:\s+(?i:ni|is|yangu|yako|changu|chako))*[\s:.#-]*)"
    r"(?P<value>(?:[A-Z]{2})?\d(?:[ -]?\d){4,24}[A-Z]{0,4})(?![\w])"
)
# Uganda's National Identification Number: CM or CF, then 12 letters and digits.
_UG_NIN_RE = re.compile(r"\bC[MF][A-Z0-9]{12}\b")
_ACCOUNT_RE = re.compile(
    r"(?i)(?P<lead>\b(?:account|acc|a/c|akaunti|acct)\.?(?:\s*(?:no|number|namba|#)\.?)?[\s:]*)[\w-]*\d[\w-]*"
)
_NUMBER_RE = re.compile(r"(?<![\w.,])\d{6,}(?!\w|[.,]\d)")
_NAME_WORD = r"[A-Z][A-Za-z'’.-]+"
# A name is one to four words after an introducing word; capitalised words only (how senders and
# operators write them), so "from today" or "kutoka kazini" are left alone.
_NAME_RE = re.compile(
    rf"(?P<lead>(?:\b(?:from|From|FROM|by|By|BY|kutoka kwa|kutoka|Kutoka kwa|Kutoka|KUTOKA KWA|KUTOKA|na|jina|Jina|JINA"
    rf"|Mzee|MZEE|Mr|Mrs|Ms|Dr|Bw|Bi)|<phone>\)?\s*-)"
    rf"(?:\s+(?:litakuja|lije|litoke|ni|litaonyesha|italeta))?[\s:(-]+)"
    rf"(?P<name>{_NAME_WORD}(?:\s+{_NAME_WORD}){{0,3}})"
)
_NON_NAMES = {"M-PESA", "MPESA", "M-Pesa", "Safaricom", "SAFARICOM", "Vodacom", "Airtel", "AIRTEL", "Tigo",
              "TIGO", "Halotel", "MTN", "Ksh", "KES", "Tsh", "TSh", "TSH", "UGX", "Kshs", "Sh", "Agent", "Your"}


def _redact_name(m: re.Match[str]) -> str:
    words = m.group("name").split()
    if words[0] in _NON_NAMES:
        return m.group(0)
    return f"{m.group('lead')}<name>"


def _redact_phone(m: re.Match[str]) -> str:
    # Eight or more digits is a phone number; fewer (an amount, "1 2 3"), or a date, is left alone.
    v = m.group()
    digits = sum(c.isdigit() for c in v)
    if digits < 8 or _DATE_LIKE.fullmatch(v.strip("()")):
        return v
    return "<phone>" if not v.startswith("(") else "(<phone>"


def _redact_card(m: re.Match[str]) -> str:
    digits = [int(c) for c in m.group() if c.isdigit()]
    return "<card>" if _luhn(digits) else "<number>"


def _luhn(digits: list[int]) -> bool:
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return total % 10 == 0


def redact(text: str) -> str:
    """The text with phone, card, ID and account numbers, PINs, names after "from"/"kutoka kwa",
    e-mail addresses and transaction codes replaced by placeholders."""
    dates: list[str] = []

    def hold(m: re.Match[str]) -> str:
        dates.append(m.group())
        return f"{_HELD}{chr(0xE100 + len(dates) - 1)}"

    text = CODE_RE.sub("<code>", text)
    text = EMAIL_RE.sub("<email>", text)
    text = _DATE_RE.sub(hold, text)
    text = _SECRET_RE.sub(r"\g<lead><pin>", text)
    text = _PASSWORD_RE.sub(r"\g<lead><secret>", text)
    text = _UG_NIN_RE.sub("<id>", text)
    text = _ID_RE.sub(r"\g<lead><id>", text)
    text = _ACCOUNT_RE.sub(r"\g<lead><account>", text)
    text = _CARD_RE.sub(_redact_card, text)
    text = _PHONE_RE.sub(_redact_phone, text)
    text = _NUMBER_RE.sub("<number>", text)
    text = _NAME_RE.sub(_redact_name, text)
    if dates:
        text = re.sub(f"{_HELD}(.)", lambda m: dates[ord(m.group(1)) - 0xE100], text)
    return text


def salted_hash(value: str, salt: str, *, size: int = 16) -> str:
    """A keyed hash (HMAC-BLAKE2b): stable for one salt, not reversible without it."""
    return hmac.new(salt.encode(), value.encode(), lambda: hashlib.blake2b(digest_size=size)).hexdigest()


def text_hash(text: str, salt: str) -> str:
    """Hash of the normalised text (so the same message typed twice has one hash)."""
    return salted_hash(normalize(text, placeholders=False), salt)
