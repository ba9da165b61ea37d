"""Money as it comes in files -> exact integer minor units.

The rules, in order (each row's text is trimmed of surrounding white space first):

1. Plain decimals with up to two places (``12.50``, ``-3``, ``.5``) are cast to a 128-bit decimal
   in one vectorised step: the fast path every clean file takes.
2. A currency code or symbol before or after the number is removed (``KES 1,200.50``,
   ``1200 TZS``, ``KSh 50``, ``$3``, ``1,200/=``). ``KSh``/``Ksh``/``KShs`` mean KES, ``TSh`` TZS,
   ``USh`` UGX, ``$`` USD, ``€`` EUR, ``£`` GBP, ``₦`` NGN, ``₵`` GHS; any other three letters are
   taken as an ISO 4217 code. A code that differs from the row's currency is a quarantine reason:
   the amount would be stored in the wrong currency.
3. Thousands separators are removed when they group digits by three (``1,200.50``,
   ``1 200.50``, ``1'200.50``). With ``decimal=","`` the decimal mark is a comma and the separators
   are ``.``, space or ``'`` (``1.200,50``). Anything else with a separator is not a number (with
   a hint when the other decimal mark would read it).
4. Scientific notation (``1.058888527E7``) is read exactly with :class:`decimal.Decimal`.
5. A value with more decimal places than the minor unit is a binary-float artefact when it lies
   within :data:`ARTEFACT_ULPS` units in the last place of a double from a whole number of minor
   units (``90.39999999999999`` is 90.40 written through a float; ``0.30000000000000004`` is
   0.30): it is snapped to that amount, exactly, and counted. A genuinely finer value (``1.234``)
   is quarantined, unless ``rounding="half-even"``, which rounds it and counts it. A double carries
   about 16 significant digits, so only values with 16 or more significant digits can be within
   the tolerance of a cent without being one.

Only rows that miss the fast path take the vectorised normalisation (2, 3), and only rows that
still miss it (scientific notation, artefacts, junk) take :class:`~decimal.Decimal`, one by one.
"""

from __future__ import annotations

import math
from decimal import ROUND_HALF_EVEN, Context, Decimal, InvalidOperation
from typing import Literal

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

#: A value within this many units in the last place of its double from a whole number of minor
#: units is that number (arithmetic on doubles leaves a few ulps; 16-digit decimals differ by far more).
ARTEFACT_ULPS = 4
MAX_MINOR = 10**18  # amounts must fit a signed 64-bit integer with room to spare

_FAST = {"major": r"^[+-]?(\d{1,16}(\.\d{0,2}0*)?|\.\d{1,2}0*)$", "minor": r"^[+-]?\d{1,18}(\.0*)?$"}
_PLAIN = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_SEPS = "\\s\u00a0\u202f\u2009'_"
_SHAPE = (
    r"^(?P<sign>[+-]?)\s*(?P<pre>[A-Za-z]{2,4}\.?|[$€£₦₵¥])?\s*"
    r"(?P<num>[+-]?[0-9][0-9.," + _SEPS + r"]*(?:[eE][+-]?[0-9]+)?|[+-]?[.,][0-9]+)\s*"
    r"(?P<post>[A-Za-z]{2,4}\.?|/=|/-)?$"
)
#: Grouped numbers for each decimal mark: (pattern, separators to remove).
_GROUPED = {
    ".": (r"^[+-]?\d{1,3}([," + _SEPS + r"]\d{3})+(\.\d*)?$", r"[," + _SEPS + r"]"),
    ",": (r"^[+-]?\d{1,3}([." + _SEPS + r"]\d{3})+(,\d*)?$", r"[." + _SEPS + r"]"),
}
_SYMBOLS = {"$": "USD", "€": "EUR", "£": "GBP", "₦": "NGN", "₵": "GHS", "¥": "JPY"}
_ALIASES = {"KSH": "KES", "KSHS": "KES", "TSH": "TZS", "TSHS": "TZS", "USH": "UGX", "USHS": "UGX"}
_CTX = Context(prec=80)

Kind = Literal["snapped", "rounded"]


def to_minor(text: str, unit: str, rounding: str | None) -> tuple[int | None, str | None]:
    """One plain number (sign, digits, point, optional exponent) -> (minor units, adjustment) or
    (None, reason kind): ``finer``, ``too_large`` or ``nan``.

    >>> to_minor("90.39999999999999", "major", None), to_minor("1.058888527E7", "major", None)
    ((9040, 'snapped'), (1058888527, None))
    >>> to_minor("1.234", "major", None), to_minor("1.235", "major", "half-even")
    ((None, 'finer'), (124, 'rounded'))
    """
    try:
        d = Decimal(text)
    except InvalidOperation:
        return None, "nan"
    if not d.is_finite():
        return None, "nan"
    m = d.scaleb(2, _CTX) if unit == "major" else d
    if abs(m) >= MAX_MINOR:
        return None, "too_large"
    n = m.to_integral_value(ROUND_HALF_EVEN, _CTX)
    if m == n:
        return int(n), None
    ulp = Decimal(math.ulp(float(d)))
    if unit == "major":
        ulp = ulp.scaleb(2, _CTX)
    if abs(m - n) <= ARTEFACT_ULPS * ulp:
        return int(n), "snapped"
    if rounding == "half-even":
        return int(n), "rounded"
    return None, "finer"


def currency_of(marker: str) -> str | None:
    """The ISO 4217 code a currency marker stands for (None for ``/=`` and ``/-``).

    >>> [currency_of(m) for m in ("KSh", "kshs.", "$", "usd", "/=")]
    ['KES', 'KES', 'USD', 'USD', None]
    """
    if marker in ("/=", "/-"):
        return None
    if marker in _SYMBOLS:
        return _SYMBOLS[marker]
    code = marker.rstrip(".").upper()
    return _ALIASES.get(code, code if len(code) == 3 else None)


def normalise(text: pa.Array, decimal: str) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """Text that missed the fast path -> (plain numbers, currency codes, shape ok).

    Plain numbers have a sign, digits, a point and maybe an exponent; the currency code is null
    where the text named none; rows whose shape is not a number are null in both.
    """
    parts = pc.extract_regex(text, _SHAPE)
    ok = np.asarray(parts.is_valid().to_numpy(zero_copy_only=False))
    if not ok.any():
        nulls = pa.nulls(len(text), pa.string())
        return nulls, nulls, ok
    num = pc.utf8_trim_whitespace(pc.struct_field(parts, "num"))
    sign = pc.struct_field(parts, "sign")
    marker = pc.if_else(pc.equal(pc.struct_field(parts, "pre"), ""), pc.struct_field(parts, "post"),
                        pc.struct_field(parts, "pre"))
    grouped_pattern, seps = _GROUPED[decimal]
    grouped = pc.fill_null(pc.match_substring_regex(num, grouped_pattern), False)
    degrouped = pc.if_else(grouped, pc.replace_substring_regex(num, seps, ""), num)
    if decimal == ",":
        # after degrouping, a comma is the decimal mark; a point left over is not a number
        point = pc.fill_null(pc.match_substring(degrouped, "."), False)
        degrouped = pc.if_else(point, pa.scalar("x"), pc.replace_substring(degrouped, ",", "."))
    signed = pc.if_else(pc.equal(sign, "-"), pc.binary_join_element_wise("-", degrouped, ""), degrouped)
    plain = np.asarray(pc.fill_null(pc.match_substring_regex(signed, _PLAIN), False).to_numpy(zero_copy_only=False))
    ok &= plain
    codes = [None if not m else currency_of(m) for m in marker.to_pylist()] if pc.any(
        pc.not_equal(marker, "")).as_py() else [None] * len(text)
    mask = pa.array(~ok)
    return (pc.if_else(mask, pa.scalar(None, pa.string()), signed),
            pc.if_else(mask, pa.scalar(None, pa.string()), pa.array(codes, pa.string())), ok)
