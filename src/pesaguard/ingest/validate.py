"""Per-column validation: text in, canonical values out, one reason per bad row.

Every parser takes a column (a pyarrow array, a pandas Series or a list; CSV columns arrive as
text, typed Parquet columns are cast to text, timestamps are used as they are) and returns a
:class:`Checked`: the parsed values (null where the input was empty or invalid), a mask of invalid
rows and a reason for each. They are vectorised with ``pyarrow.compute`` and have no side effects,
so the file ingest, the live API (one-row tables) and the simulator share them.

Money is parsed exactly: the text is checked with a pattern and cast to a decimal, never a float.

>>> c = parse_amount(["12.50", "abc", "0", ""], "amount")
>>> c.values.to_pylist(), sorted(c.errors.items())
([1250, None, None, None], [(1, "amount 'abc' is not a number"), (2, 'amount must be > 0'), (3, 'amount is empty')])
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pesaguard.ingest import amounts, times

ColumnLike: TypeAlias = pa.Array | pa.ChunkedArray | pd.Series | Sequence[Any]

MAX_TEXT = 128
#: Characters no id or name may hold: C0 controls and DEL, and the bidirectional overrides that can
#: make text display as something else.
_HIDDEN = "[\\x00-\\x1f\\x7f\\x{202a}-\\x{202e}\\x{2066}-\\x{2069}]"
_WHOLE = r"^\+?\d{1,15}(\.0*)?$"

LABEL_TRUE = ("1", "true", "fraud", "yes", "1.0")
LABEL_FALSE = ("0", "false", "legit", "legitimate", "no", "0.0")

#: Source vocabularies mapped onto :data:`pesaguard.schema.TRANSACTION_TYPES`; others are kept lower-cased.
TYPE_ALIASES: dict[str, str] = {
    "cash_in": "cash_in",
    "cash_out": "cash_out",
    "transfer": "p2p",
    "payment": "merchant",
    "debit": "debit",
}


@dataclass(frozen=True)
class Checked:
    """Parsed values (null where empty or invalid), plus the invalid rows and why."""

    values: pa.Array
    errors: dict[int, str] = field(default_factory=dict)
    adjusted: dict[int, str] = field(default_factory=dict)  # row -> what was done (amounts: snapped, rounded)

    @property
    def bad(self) -> np.ndarray:
        mask = np.zeros(len(self.values), dtype=bool)
        if self.errors:
            mask[np.fromiter(self.errors, dtype=np.int64, count=len(self.errors))] = True
        return mask


def as_text(values: ColumnLike) -> pa.Array:
    """Any column -> a trimmed string array (typed columns are cast; floats print exactly as stored)."""
    arr = _array(values)
    if pa.types.is_large_string(arr.type) or pa.types.is_dictionary(arr.type):
        arr = arr.cast(pa.string())
    elif pa.types.is_floating(arr.type):
        # 3.0 -> "3", 9839.64 -> "9839.64": Arrow prints the shortest text that round-trips.
        arr = arr.cast(pa.string())
    elif not pa.types.is_string(arr.type):
        arr = arr.cast(pa.string())
    if bytes_within(arr, 0x21, 0x7E):
        return arr  # printable ASCII only: nothing to trim, and trimming copies every value
    return pc.utf8_trim_whitespace(arr)


def _array(values: ColumnLike) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        return values.combine_chunks() if values.num_chunks != 1 else values.chunk(0)
    if isinstance(values, pa.Array):
        return values
    if isinstance(values, pd.Series):
        if values.dtype == object:
            return pa.array([None if _missing(v) else str(v) for v in values], pa.string())
        return pa.Array.from_pandas(values)
    return pa.array([None if _missing(v) else v for v in values])


def _missing(v: Any) -> bool:
    return v is None or (isinstance(v, float) and np.isnan(v)) or v is pd.NA or v is pd.NaT


def _show(raw: Any) -> str:
    text = str(raw)
    return repr(text if len(text) <= 40 else text[:37] + "...")


def _empty(text: pa.Array) -> np.ndarray:
    """Null or '' (after trimming)."""
    if not pa.types.is_string(text.type):
        return np.asarray(pc.fill_null(pc.equal(pc.binary_length(text), 0), True).to_numpy(zero_copy_only=False))
    empty = _lengths(text) == 0
    return empty | _nulls(text) if text.null_count else empty


def _nulls(arr: pa.Array) -> np.ndarray:
    return np.asarray(arr.is_null().to_numpy(zero_copy_only=False))


def _mask(expr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(expr, False).to_numpy(zero_copy_only=False))


def _reasons(text: pa.Array, idx: np.ndarray, name: str, rest: str) -> dict[int, str]:
    """``{name} {value as shown} {rest}`` for the rows ``idx`` (joined, not formatted: a column
    name or option from the user may hold braces)."""
    if len(idx) == 0:
        return {}
    raws = text.take(pa.array(idx)).to_pylist()
    return {int(i): f"{name} {_show(r)} {rest}" for i, r in zip(idx, raws, strict=True)}


def text_bytes(arr: pa.Array) -> memoryview | None:
    """The bytes a string array's values occupy (None for another type): scanning them once is
    several times cheaper than a per-value kernel when the answer is almost always "no"."""
    if not pa.types.is_string(arr.type) or len(arr) == 0:
        return None
    bufs = arr.buffers()
    if bufs[2] is None:
        return memoryview(b"")
    offsets = np.frombuffer(bufs[1], dtype=np.int32)
    start, end = int(offsets[arr.offset]), int(offsets[arr.offset + len(arr)])
    return memoryview(bufs[2])[start:end]


def bytes_within(arr: pa.Array, low: int, high: int) -> bool:
    """True only if every byte of the string array's values lies in ``low..high`` (one scan of the
    value bytes; an empty array or one of nulls and empty strings is within any range)."""
    data = text_bytes(arr)
    if data is None:
        return False
    raw = np.frombuffer(data, dtype=np.uint8)
    return not bool(((raw - np.uint8(low)) > np.uint8(high - low)).any())  # uint8 wraps: one comparison


def _lengths(arr: pa.Array) -> np.ndarray:
    """Byte length of each value of a string array (0 for nulls), from its offsets."""
    offsets = np.frombuffer(arr.buffers()[1], dtype=np.int32)[arr.offset : arr.offset + len(arr) + 1]
    return np.diff(offsets)


def may_hold(arr: pa.Array, needle: bytes) -> bool:
    """False only if no value of the string array holds ``needle`` (True for other types)."""
    data = text_bytes(arr)
    return data is None or re.search(re.escape(needle), data) is not None


def _may_hide(text: pa.Array) -> bool:
    """False only if no value holds a control byte or the lead byte of a bidirectional override."""
    data = text_bytes(text)
    if data is None:
        return True
    raw = np.frombuffer(data, dtype=np.uint8)
    return bool(((raw < 0x20) | (raw == 0x7F) | (raw == 0xE2)).any())


def _null_where(values: pa.Array, bad: np.ndarray) -> pa.Array:
    if not bad.any():
        return values
    return pc.if_else(pa.array(bad), pa.nulls(len(values), values.type), values)


def parse_text(values: ColumnLike, name: str, *, required: bool = True, max_len: int = MAX_TEXT) -> Checked:
    """Trimmed text; empty -> null (an error if ``required``); longer than ``max_len`` characters, or
    holding a control character (line breaks, tabs, NUL) or a bidirectional override, -> error."""
    text = as_text(values)
    empty = _empty(text)
    errors: dict[int, str] = {}
    if required:
        errors.update({int(i): f"{name} is empty" for i in np.flatnonzero(empty)})
    too_long = _lengths(text) > max_len  # bytes >= characters: a cheap filter
    if too_long.any():
        too_long = _mask(pc.greater(pc.utf8_length(text), max_len))
    errors.update({int(i): f"{name} is longer than {max_len} characters" for i in np.flatnonzero(too_long)})
    hidden = np.zeros(len(text), dtype=bool)
    if _may_hide(text):
        hidden = _mask(pc.match_substring_regex(text, _HIDDEN)) & ~too_long
    errors.update(_reasons(text, np.flatnonzero(hidden), name, "holds a control or bidirectional character"))
    return Checked(_null_where(text, empty | too_long | hidden), errors)


def parse_amount(values: ColumnLike, name: str, *, unit: str = "major", minimum: int | None = 1,
                 required: bool = True, decimal: str = ".", rounding: str | None = None,
                 currency: str | pa.Array | None = None) -> Checked:
    """Money -> exact integer minor units, by the rules of :mod:`pesaguard.ingest.amounts`.

    ``unit``: ``major`` (12.50, two decimal places) or ``minor`` (1250). ``minimum`` is the smallest
    allowed value in minor units (1: must be > 0; None: any sign). ``decimal`` is the decimal mark
    (``.`` or ``,``); ``rounding="half-even"`` rounds finer values instead of rejecting them;
    ``currency`` (a code or one per row) is what a currency written in the amount must match.
    """
    text = as_text(values)
    n = len(text)
    if unit == "major" and decimal == ".":
        whole = _cast_all_major(text)
        if whole is not None:
            return _checked_minor(whole, name, minimum, required)
    empty = _empty(text)
    ok = _mask(pc.match_substring_regex(text, amounts._FAST[unit])) & ~empty
    if decimal == "," and unit == "major":
        ok &= ~_mask(pc.match_substring(text, "."))  # "1.200" is twelve hundred with a decimal comma
    minor = _fast_minor(text, ok, unit)
    errors: dict[int, str] = {}
    adjusted: dict[int, str] = {}
    if required:
        errors.update({int(i): f"{name} is empty" for i in np.flatnonzero(empty)})
    rest = ~ok & ~empty
    if rest.any():
        idx = np.flatnonzero(rest)
        sub = text.take(pa.array(idx))
        plain, codes, shaped = amounts.normalise(sub, decimal)
        other = amounts.normalise(sub, "," if decimal == "." else ".")[2] if not shaped.all() else shaped
        row_currency = _row_currency(currency, idx)
        for j, (i, raw, num, code) in enumerate(zip(idx.tolist(), sub.to_pylist(), plain.to_pylist(),
                                                    codes.to_pylist(), strict=True)):
            if not shaped[j]:
                errors[i] = _not_a_number(name, raw, decimal, bool(other[j]))
                continue
            if code is not None and row_currency is not None and row_currency[j] is not None \
                    and code != row_currency[j]:
                errors[i] = f"{name} {_show(raw)} is in {code} but the row's currency is {row_currency[j]}"
                continue
            value, kind = amounts.to_minor(num, unit, rounding)
            if value is None:
                errors[i] = _amount_reason(name, raw, unit, kind)
                continue
            minor[i] = value
            ok[i] = True
            if kind is not None:
                adjusted[i] = kind
    nonpos = ok & (minor < minimum) if minimum is not None else np.zeros(n, dtype=bool)
    rule = "> 0" if minimum == 1 else f">= {minimum}"
    errors.update({int(i): f"{name} must be {rule}" for i in np.flatnonzero(nonpos)})
    for i in np.flatnonzero(nonpos).tolist():
        adjusted.pop(i, None)
    invalid = ~ok | nonpos
    return Checked(pa.array(minor, pa.int64(), mask=invalid), errors, adjusted)


def _cast_all_major(text: pa.Array) -> pa.Array | None:
    """Every value of ``text`` as a decimal with two places, or None if any value (other than a
    null) does not read as one exactly. Arrow's cast reads plain decimals (with a sign) as the
    rules do and fails on everything else (empty text, separators, currencies, more than 16
    integer digits, and finer values, which it will not round), so a column that casts whole needs
    no pattern match: on a clean column the match cost as much as the cast itself. Scientific
    notation is left to the rules: Arrow 26 casts ``1E-41`` to 0 without an error."""
    if may_hold(text, b"e") or may_hold(text, b"E"):
        return None
    try:
        return text.cast(pa.decimal128(18, 2))
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None


def _checked_minor(dec: pa.Array, name: str, minimum: int | None, required: bool) -> Checked:
    """A column that cast whole (:func:`_cast_all_major`) -> minor units; nulls are empty values."""
    buf = np.frombuffer(dec.buffers()[1], dtype=np.int64).reshape(-1, 2)
    minor = buf[dec.offset : dec.offset + len(dec), 0].copy()  # the low word: |value| < 10**18
    empty = _nulls(dec) if dec.null_count else np.zeros(len(dec), dtype=bool)
    errors: dict[int, str] = {}
    if required:
        errors.update({int(i): f"{name} is empty" for i in np.flatnonzero(empty)})
    nonpos = ~empty & (minor < minimum) if minimum is not None else np.zeros(len(dec), dtype=bool)
    rule = "> 0" if minimum == 1 else f">= {minimum}"
    errors.update({int(i): f"{name} must be {rule}" for i in np.flatnonzero(nonpos)})
    invalid = empty | nonpos
    return Checked(pa.array(minor, pa.int64(), mask=invalid if invalid.any() else None), errors)


def _fast_minor(text: pa.Array, ok: np.ndarray, unit: str) -> np.ndarray:
    """Minor units of the rows that match the fast pattern (0 elsewhere), in one vectorised cast."""
    if not ok.any():
        return np.zeros(len(text), dtype=np.int64)
    src = text if ok.all() else pc.if_else(pa.array(ok), text, pa.scalar("0"))
    if unit == "major":
        dec = src.cast(pa.decimal128(18, 2))
        buf = np.frombuffer(dec.buffers()[1], dtype=np.int64).reshape(-1, 2)
        return buf[dec.offset : dec.offset + len(dec), 0].copy()
    ints = pc.replace_substring_regex(src, r"^\+|\.0*$", "")  # Arrow's integer cast refuses a plus sign
    return np.asarray(ints.cast(pa.int64()).to_numpy()).copy()


def _row_currency(currency: str | pa.Array | None, idx: np.ndarray) -> list[str | None] | None:
    if currency is None:
        return None
    if isinstance(currency, str):
        return [currency] * len(idx)
    return list(_array(currency).take(pa.array(idx)).to_pylist())


def _not_a_number(name: str, raw: str, decimal: str, other_mark_reads_it: bool) -> str:
    reason = f"{name} {_show(raw)} is not a number"
    if other_mark_reads_it:
        reason += " (with a decimal comma, give --decimal ,)" if decimal == "." else \
            " (with a decimal point, leave out --decimal ,)"
    return reason


def _amount_reason(name: str, raw: str, unit: str, kind: str | None) -> str:
    if kind == "too_large":
        return f"{name} {_show(raw)} is too large"
    if kind == "finer":
        if unit == "minor":
            return f"{name} {_show(raw)} is not a whole number of minor units"
        return (f"{name} {_show(raw)} has more than 2 decimals (a finer amount, not a float artefact: "
                "--round half-even rounds it)")
    return f"{name} {_show(raw)} is not a number"


def parse_whole(values: ColumnLike, name: str) -> Checked:
    """A non-negative whole number (PaySim's ``step``)."""
    text = as_text(values)
    empty = _empty(text)
    if not empty.any() and bytes_within(text, ord("0"), ord("9")) and _lengths(text).max(initial=0) <= 15:
        return Checked(text.cast(pa.int64()))  # digits only: what the pattern would accept, without it
    ok = _mask(pc.match_substring_regex(text, _WHOLE)) & ~empty
    out = pc.if_else(pa.array(ok), text, pa.scalar("0")) if not ok.all() else text
    if may_hold(text, b"+") or may_hold(text, b"."):  # Arrow's integer cast refuses both
        out = pc.replace_substring_regex(out, r"^\+|\.0*$", "")
    out = out.cast(pa.int64())
    errors = {int(i): f"{name} is empty" for i in np.flatnonzero(empty)}
    errors.update(_reasons(text, np.flatnonzero(~ok & ~empty), name, "is not a whole number"))
    return Checked(_null_where(out, ~ok), errors)


def parse_time(values: ColumnLike, name: str, *, unit: str = "auto", required: bool = True,
               time_format: str | None = None, tz: str = "UTC") -> Checked:
    """Times -> UTC epoch milliseconds, by the rules of :mod:`pesaguard.ingest.times`: ISO 8601 (a
    time without an offset is in ``tz``), epoch numbers (``unit``: auto, s or ms), or strftime codes
    ``time_format``; typed timestamp and date columns as they are."""
    tz = times.check_tz(tz)
    arr = _array(values)
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        ms = times.typed_ms(arr, tz)
        missing = np.asarray(ms.is_null().to_numpy(zero_copy_only=False)) & \
            np.asarray(arr.is_null().to_numpy(zero_copy_only=False))
        gap = np.asarray(ms.is_null().to_numpy(zero_copy_only=False)) & ~missing
        typed = {int(i): f"{name} is empty" for i in np.flatnonzero(missing)} if required else {}
        typed.update({int(i): f"{name} does not exist or is ambiguous in {tz} (a daylight-saving change)"
                      for i in np.flatnonzero(gap)})
        return Checked(ms, typed)
    text = as_text(arr)
    empty = _empty(text)
    errors: dict[int, str] = {}
    if required:
        errors.update({int(i): f"{name} is empty" for i in np.flatnonzero(empty)})
    if time_format is not None:
        out, parsed, gap = times.formatted_ms(text, ~empty, time_format, tz)
        bad_text = ~empty & ~parsed & ~gap
        errors.update(_reasons(text, np.flatnonzero(bad_text), name, f"does not match --time-format "
                                                               f"{time_format!r}"))
    else:
        numeric = times.is_epoch(text) & ~empty
        out = times.epoch_ms(text, numeric, unit)
        parsed = numeric.copy()
        iso = ~numeric & ~empty
        gap = np.zeros(len(text), dtype=bool)
        if iso.any():
            iso_ms, iso_ok, gap = times.iso_ms(text, iso, tz)
            out = np.where(iso_ok, iso_ms, out)
            parsed |= iso_ok
        errors.update(_reasons(text, np.flatnonzero(iso & ~parsed & ~gap), name, "is not a date"))
    errors.update(_reasons(text, np.flatnonzero(gap), name, f"does not exist or is ambiguous in {tz} "
                                                      "(a daylight-saving change)"))
    before = parsed & (out < 0)
    errors.update(_reasons(text, np.flatnonzero(before), name, "is before 1970"))
    after = parsed & (out > times.YEAR_9999_MS)
    errors.update(_reasons(text, np.flatnonzero(after), name, "is after the year 9999"))
    return Checked(pa.array(out, pa.int64(), mask=~parsed | before | after), errors)


def parse_label(values: ColumnLike, name: str, *, required: bool = False) -> Checked:
    """Fraud labels -> 1/0 (int8). Accepts 1/0, true/false, fraud/legit/legitimate, yes/no; empty -> null."""
    text = as_text(values)
    if len(text) and bytes_within(text, ord("0"), ord("1")) and (_lengths(text) == 1).all():
        data = text_bytes(text)  # only "0" and "1": each value is one byte of the buffer
        assert data is not None
        return Checked(pa.array((np.frombuffer(data, dtype=np.uint8) == ord("1")).astype(np.int8), pa.int8()))
    # Otherwise a label column holds a handful of distinct values: each is read once, then looked
    # up per row (a third of the cost of lower-casing and matching every row).
    encoded = pc.dictionary_encode(text)
    words = pc.utf8_lower(encoded.dictionary)
    word_true = _mask(pc.is_in(words, pa.array(LABEL_TRUE)))
    word_false = _mask(pc.is_in(words, pa.array(LABEL_FALSE)))
    word_empty = _empty(words)
    index = np.asarray(pc.fill_null(encoded.indices, 0).to_numpy(zero_copy_only=False))
    null = _nulls(encoded.indices) if encoded.indices.null_count else np.zeros(len(index), dtype=bool)
    if len(words) == 0:
        is_true = is_false = np.zeros(len(index), dtype=bool)
        empty = null
    else:
        is_true, is_false = word_true[index] & ~null, word_false[index] & ~null
        empty = word_empty[index] | null
    bad = ~empty & ~is_true & ~is_false
    errors = {int(i): f"{name} is empty" for i in np.flatnonzero(empty)} if required else {}
    if bad.any():
        text = words.take(encoded.indices)
        errors.update(_reasons(text, np.flatnonzero(bad), name, "is not one of 1/0/true/false/fraud/legit"))
    return Checked(pa.array(is_true.astype(np.int8), pa.int8(), mask=~(is_true | is_false)), errors)


def parse_currency(values: ColumnLike, default: str) -> Checked:
    """ISO 4217 codes, upper-cased; empty -> ``default``."""
    text = pc.utf8_upper(as_text(values))
    empty = _empty(text)
    ok = _mask(pc.match_substring_regex(text, r"^[A-Z]{3}$"))
    errors = _reasons(text, np.flatnonzero(~ok & ~empty), "currency", "is not a 3-letter ISO 4217 code")
    filled = pc.if_else(pa.array(empty), pa.scalar(default), text)
    return Checked(_null_where(filled, ~ok & ~empty), errors)


def canonical_type(values: ColumnLike) -> pa.Array:
    """Map transaction types onto the canonical names (PaySim's CASH_IN -> cash_in, TRANSFER -> p2p, ...).

    >>> canonical_type(["TRANSFER", "Cash-Out", "bill", ""]).to_pylist()
    ['p2p', 'cash_out', 'bill', None]
    """
    # A type column holds a handful of distinct values: each is mapped once, then looked up per row
    # (a tenth of the cost of lower-casing and rewriting every row).
    encoded = pc.dictionary_encode(as_text(values))
    text = pc.replace_substring_regex(pc.utf8_lower(encoded.dictionary), r"[\s-]+", "_")
    keys = pa.array(list(TYPE_ALIASES))
    mapped = pc.take(pa.array(list(TYPE_ALIASES.values())), pc.index_in(text, keys))
    out = pc.coalesce(mapped, text)
    return _null_where(out, _empty(out)).take(encoded.indices)


_QUOTED = re.compile(r"'(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"")
_HINT = re.compile(r" \([^()]*\)$")  # a trailing "(line 8)" or "(fix ...)"


def rule_of(reason: str) -> str:
    """The rule a quarantine reason states: its first reason without the row's value or line.

    >>> rule_of("amount 'abc' is not a number; time is empty")
    'amount is not a number'
    >>> rule_of("row has 6 fields, expected 5 (line 8)")
    'row has 6 fields, expected 5'
    >>> rule_of("amount '1,5' is not a number (with a decimal comma, give --decimal ,)")
    'amount is not a number'
    """
    first = reason.split("; ", 1)[0]
    return _HINT.sub("", _QUOTED.sub("", first, count=1)).replace("  ", " ").strip()


def merge_errors(checks: Sequence[tuple[str, Checked]]) -> dict[int, tuple[str, str]]:
    """Row index -> (first bad field, every reason joined by '; '), fields in the given order."""
    merged: dict[int, tuple[str, list[str]]] = {}
    for name, checked in checks:
        for i, reason in checked.errors.items():
            if i in merged:
                merged[i][1].append(reason)
            else:
                merged[i] = (name, [reason])
    return {i: (f, "; ".join(r)) for i, (f, r) in sorted(merged.items())}
