"""Answers for feature phones: SMS parts and the GSM 03.38 character set.

An SMS answer leads with what to do (the answer block's action; a ledger check's verdict before it)
and ends with the short article reference (``Ref REV1``), which customer care can look up. One SMS
holds 160 GSM-7 characters; a longer answer is cut at word boundaries into at most
:data:`MAX_PARTS` parts, each prefixed ``1/2 ``, so that phones without concatenated-SMS support
still read them in order.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pesaguard.assistant.answering import Answer

SMS_CHARS = 160
MAX_PARTS = 3
# GSM 03.38 basic character set (what every handset shows without switching to UCS-2, which would
# cut a part to 70 characters).
GSM7 = frozenset("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
                 "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
_TYPOGRAPHIC = {"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-", "\u2014": "-",
                "\u2026": "...", "\u00a0": " "}


def gsm7(text: str) -> str:
    """``text`` in the GSM-7 basic set: typographic quotes and dashes straightened, accents dropped
    where the set lacks the letter, anything else removed.

    >>> gsm7("Don\u2019t \u201csend\u201d it \u2014 ever")
    'Don\\'t "send" it - ever'
    """
    out = []
    for ch in "".join(_TYPOGRAPHIC.get(c, c) for c in text):
        if ch in GSM7:
            out.append(ch)
            continue
        base = unicodedata.normalize("NFKD", ch)[:1]
        if base in GSM7:
            out.append(base)
    return re.sub(r"[ \t]+", " ", "".join(out)).strip()


def wrap(text: str, max_parts: int = MAX_PARTS) -> list[str]:
    """One SMS when ``text`` fits in 160 characters, else up to ``max_parts`` numbered parts cut at
    word boundaries (the text is shortened at its last whole sentence that fits when needed).

    >>> wrap("Short answer. Ref X1")
    ['Short answer. Ref X1']
    >>> [len(p) <= SMS_CHARS for p in wrap(("word " * 100).strip())]
    [True, True, True]
    """
    if len(text) <= SMS_CHARS:
        return [text]
    width = SMS_CHARS - 4  # room for the "1/3 " prefix
    words = text.split()
    parts: list[str] = []
    cur = ""
    for w in words:
        if cur and len(cur) + 1 + len(w) > width:
            parts.append(cur)
            cur = w
        else:
            cur = f"{cur} {w}" if cur else w
    if cur:
        parts.append(cur)
    if len(parts) > max_parts:
        parts = parts[:max_parts]
        last = parts[-1]
        cut = max(last.rfind(". "), last.rfind("! "), last.rfind("? "))
        parts[-1] = last[: cut + 1] if cut > 0 else last[: width - 3].rstrip() + "..."
    n = len(parts)
    return [f"{i}/{n} {p}" for i, p in enumerate(parts, 1)]


def sms_parts(answer: Answer, max_parts: int = MAX_PARTS) -> list[str]:
    """The answer as SMS: the ledger verdict (if checked), the action, then the reference."""
    from pesaguard.assistant.answering import HANDOFF_SMS

    verdict = [t.summary for t in answer.tools if t.tool == "claim_check" and t.ok and t.data.get("asked")]
    if answer.abstained:
        return wrap(gsm7(" ".join([*verdict, HANDOFF_SMS[answer.lang]])), max_parts)
    body = " ".join([*verdict, answer.action or answer.sentences[0].text])
    ref = answer.ref or next((c.ref for c in answer.citations if c.ref), None)
    tail = f" Ref {ref}" if ref else ""
    text = gsm7(body) + tail
    parts = wrap(text, max_parts)
    if tail and not parts[-1].endswith(tail.strip()):
        # the reference was cut off: shorten the body instead, the reference must arrive
        parts = wrap(gsm7(body)[: max_parts * (SMS_CHARS - 4) - len(tail) - 8], max_parts)
        parts[-1] += tail
    return parts
