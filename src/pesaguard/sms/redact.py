"""PII redaction and salted hashing for stored SMS.

What is removed: phone numbers, e-mail addresses, names after "from" / "kutoka (kwa)" / "jina" /
"na" in money messages, account and transaction numbers. Amounts, dates and the wording stay, so an
analyst can still read what kind of message it was.

>>> redact("QK12AB34CD Confirmed. You have received Ksh5,000.00 from JOHN DOE 0712345678 on 3/1/24")
'<code> Confirmed. You have received Ksh5,000.00 from <name> <phone> on 3/1/24'
>>> redact("Umepokea Tsh 20,000 kutoka kwa Amina Juma, akaunti 1234567890")
'Umepokea Tsh 20,000 kutoka kwa <name>, akaunti <account>'
"""

from __future__ import annotations

import hashlib
import hmac
import re

from pesaguard.sms.normalize import CODE_RE, EMAIL_RE, normalize

_PHONE_RE = re.compile(r"(?<![\w.,])(?:\+|0|2[5-6]\d)[\d\s-]{6,16}\d(?![\w,]|\.\d)")
_DATE_LIKE = re.compile(r"\d{4}-\d{1,2}-\d{1,2}|\d{1,2}-\d{1,2}-\d{2,4}")
_ACCOUNT_RE = re.compile(
    r"(?i)(?P<lead>\b(?:account|acc|a/c|akaunti|acct)\.?(?:\s*(?:no|number|namba|#)\.?)?[\s:]*)[\w-]*\d[\w-]*"
)
_NUMBER_RE = re.compile(r"(?<![\w.,])\d{6,}(?![\w,]|\.\d)")
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
    # Eight or more digits is a phone number; fewer (a date, an amount, "1 2 3") is left alone.
    v = m.group()
    return "<phone>" if sum(c.isdigit() for c in v) >= 8 and not _DATE_LIKE.search(v) else v


def redact(text: str) -> str:
    """The text with phone numbers, names after "from"/"kutoka kwa", codes and account numbers replaced."""
    text = CODE_RE.sub("<code>", text)
    text = EMAIL_RE.sub("<email>", text)
    text = _ACCOUNT_RE.sub(r"\g<lead><account>", text)
    text = _PHONE_RE.sub(_redact_phone, text)
    text = _NUMBER_RE.sub("<number>", text)
    return _NAME_RE.sub(_redact_name, text)


def salted_hash(value: str, salt: str, *, size: int = 16) -> str:
    """A keyed hash (HMAC-BLAKE2b): stable for one salt, not reversible without it."""
    return hmac.new(salt.encode(), value.encode(), lambda: hashlib.blake2b(digest_size=size)).hexdigest()


def text_hash(text: str, salt: str) -> str:
    """Hash of the normalised text (so the same message typed twice has one hash)."""
    return salted_hash(normalize(text, placeholders=False), salt)
