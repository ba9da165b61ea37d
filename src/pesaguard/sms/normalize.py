"""Text normalisation before features: one canonical form for every way of writing the same SMS.

Steps, in order: HTML entities, Unicode NFKC, M-PESA transaction codes (case-sensitive, so before
casefolding), casefold, diacritics and invisible characters dropped, Cyrillic/Greek look-alikes
mapped to Latin, digits used as letters inside words (``w1n``, ``m0ney``) mapped back, letter-spaced
words (``f r e e``) joined, then structured tokens replaced by placeholders so the model learns from
the shape of a message rather than from a particular number: ``<url>``, ``<email>``, ``<phone>``,
``<amount>``, ``<ussd>``, ``<shortcode>``, ``<date>``, ``<time>``, ``<num>``, ``<code>``.

>>> normalize("Y0u have W0N KES 5,000! Call 0712 345 678 or visit bit.ly/x1")
'you have won <amount> ! call <phone> or visit <url>'
>>> normalize("QK12AB34CD Confirmed. You have received Ksh5,000.00 from JOHN DOE 0712345678")
'<code> confirmed. you have received <amount> from john doe <phone>'
>>> normalize("Рlеаsе  send  уоur PIN")  # Cyrillic look-alikes and double spaces
'please send your pin'
"""

from __future__ import annotations

import html
import re
import unicodedata

PLACEHOLDERS: tuple[str, ...] = (
    "<url>", "<email>", "<phone>", "<amount>", "<ussd>", "<shortcode>", "<date>", "<time>", "<num>", "<code>",
)

# Cyrillic and Greek letters that render like Latin ones (lower case: mapping runs after casefold).
_HOMOGLYPHS = str.maketrans({
    "а": "a", "в": "b", "е": "e", "ё": "e", "к": "k", "м": "m", "н": "h", "о": "o", "р": "p", "с": "c",
    "т": "t", "у": "y", "х": "x", "ѕ": "s", "і": "i", "ї": "i", "ј": "j", "ԁ": "d", "ӏ": "l", "ɡ": "g",
    "ո": "n", "ս": "u", "ь": "b", "г": "r", "п": "n", "и": "u", "ц": "u", "л": "n", "з": "3",
    "α": "a", "β": "b", "ε": "e", "η": "n", "ι": "i", "κ": "k", "μ": "u", "ν": "v", "ο": "o", "ρ": "p",
    "τ": "t", "υ": "u", "χ": "x", "γ": "y", "ω": "w", "ς": "s", "σ": "o",
    "ı": "i", "ł": "l", "ø": "o", "đ": "d", "ß": "ss",
})
# Upper-case look-alikes map before casefolding (Greek "Υ" looks like "Y", its lower case "υ" like "u").
_UPPER_HOMOGLYPHS = str.maketrans({
    "Α": "A", "Β": "B", "Ε": "E", "Ζ": "Z", "Η": "H", "Ι": "I", "Κ": "K", "Μ": "M", "Ν": "N", "Ο": "O",
    "Ρ": "P", "Τ": "T", "Υ": "Y", "Χ": "X", "А": "A", "В": "B", "Е": "E", "К": "K", "М": "M", "Н": "H",
    "О": "O", "Р": "P", "С": "C", "Т": "T", "У": "Y", "Х": "X", "Ѕ": "S", "І": "I", "Ј": "J", "Ԁ": "D",
})
# Digits and symbols standing for letters, only when letters sit on both sides (keeps "2nd", "4g").
_LEET = {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i", "|": "l"}
_LEET_RE = re.compile(r"(?<=[a-z])[0134573@$!|]+(?=[a-z])")
_SPACED_RE = re.compile(r"\b(?:[a-z] ){3,}[a-z]\b")
_WS_RE = re.compile(r"\s+")

# M-PESA-style transaction codes: 10 upper-case letters and digits, at least two of each.
CODE_RE = re.compile(r"\b(?=(?:[A-Z0-9]*\d){2})(?=(?:[A-Z0-9]*[A-Z]){2})[A-Z][A-Z0-9]{9}\b")
_URL_RE = re.compile(
    r"(?:https?://|www\.)\S+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|net|org|info|biz|xyz|top|io|ly|me|co|ke|tz|ug|rw|uk|gl|cc|ws|site|online|link)"
    r"\b(?:/\S*)?"
)
EMAIL_RE = re.compile(r"\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+\b")
_CUR = r"(?:ksh|kes|kshs|tsh|tshs|tzs|ugx|ush|ushs|rwf|usd|eur|gbp|shs?|sh\.|[$£€])"
_NUMBER = r"\d{1,3}(?:[,\s]\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?"
_AMOUNT_RE = re.compile(
    rf"{_CUR}\s?\.?\s?(?:{_NUMBER})(?:\s?(?:/=|/-))?(?:\s?(?:million|milioni|elfu|bn|k|m)\b)?"
    rf"|(?:{_NUMBER})\s?(?:/=|/-|{_CUR}\b)"
    rf"|\b\d{{1,3}}(?:,\d{{3}})+(?:\.\d+)?\b"
)
_USSD_RE = re.compile(r"\*\d+(?:\*\d+)*#")
_PHONE_RE = re.compile(r"(?<![\w<])\+?\d[\d\s-]{7,15}\d(?!\w)|(?<![\w<])\+?\d{9,15}(?!\d)")
_PARTIAL_PHONE_RE = re.compile(r"\b0\d{2}\s?(?:\.{3}|…|x{3,})")
_DATE_RE = re.compile(r"\b\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}\b")
_TIME_RE = re.compile(r"\b\d{1,2}:\d{2}(?::\d{2})?(?:\s?[ap]\.?m\b\.?)?|\b\d{1,2}(?:\.\d{2})?\s?[ap]\.?m\b\.?")
_SHORT_RE = re.compile(r"(?<![\w<])\d{4,6}(?![\w>])")
_NUM_RE = re.compile(r"(?<![<\w])\d+(?:[.,]\d+)*(?![\w>])|(?<=[a-z])\d+|\d+(?=[a-z])")
_PUNCT_SPACE_RE = re.compile(r"(?<=[>])(?=[^\s.,;:)])|(?<=[^\s(])(?=<(?:" + "|".join(
    p.strip("<>") for p in PLACEHOLDERS) + r")>)")


def _fold(text: str, placeholders: bool = True) -> str:
    """NFKC, casefold, drop diacritics and invisible characters, map look-alikes to Latin."""
    text = unicodedata.normalize("NFKC", html.unescape(text))
    text = CODE_RE.sub(" <code> ", text)
    text = text.translate(_UPPER_HOMOGLYPHS).casefold()
    text = "".join(ch for ch in unicodedata.normalize("NFKD", text)
                   if not unicodedata.combining(ch) and unicodedata.category(ch) not in ("Cf", "Co", "Cs"))
    text = text.translate(_HOMOGLYPHS)
    if placeholders:  # before the digit/symbol mapping, which would read "a@b.com" as "aab.com"
        text = _URL_RE.sub(" <url> ", EMAIL_RE.sub(" <email> ", text))
    text = _LEET_RE.sub(lambda m: "".join(_LEET[c] for c in m.group()), text)
    return text


def normalize(text: str, *, placeholders: bool = True) -> str:
    """The canonical form the classifier sees (see the module docstring for the steps)."""
    text = _fold(text, placeholders)
    text = _WS_RE.sub(" ", text).strip()
    text = _SPACED_RE.sub(lambda m: m.group().replace(" ", ""), text)
    if placeholders:
        text = _USSD_RE.sub(" <ussd> ", text)
        text = _DATE_RE.sub(" <date> ", text)
        text = _PARTIAL_PHONE_RE.sub(" <phone> ", text)
        text = _AMOUNT_RE.sub(" <amount> ", text)
        text = _TIME_RE.sub(" <time> ", text)
        text = _PHONE_RE.sub(" <phone> ", text)
        text = _SHORT_RE.sub(" <shortcode> ", text)
        text = _NUM_RE.sub(" <num> ", text)
        text = _PUNCT_SPACE_RE.sub(" ", text)
    return _WS_RE.sub(" ", text).strip()

