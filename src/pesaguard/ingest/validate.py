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

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

ColumnLike: TypeAlias = pa.Array | pa.ChunkedArray | pd.Series | Sequence[Any]

MAX_TEXT = 128
_MAJOR_NUMBER = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_MAJOR_OK = r"^[+-]?(\d{1,16}(\.\d{0,2}0*)?|\.\d{1,2}0*)$"
_MINOR_OK = r"^[+-]?\d{1,18}(\.0*)?$"
_EPOCH = r"^[+-]?(\d+\.?\d*|\.\d+)$"
_WHOLE = r"^\+?\d{1,15}$"
_YEAR_9999_MS = 253_402_300_799_999

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
    return np.asarray(pc.fill_null(pc.equal(pc.binary_length(text), 0), True).to_numpy(zero_copy_only=False))


def _mask(expr: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(expr, False).to_numpy(zero_copy_only=False))


def _reasons(text: pa.Array, idx: np.ndarray, template: str) -> dict[int, str]:
    if len(idx) == 0:
        return {}
    raws = text.take(pa.array(idx)).to_pylist()
    return {int(i): template.format(_show(r)) for i, r in zip(idx, raws, strict=True)}


def _null_where(values: pa.Array, bad: np.ndarray) -> pa.Array:
    if not bad.any():
        return values
    return pc.if_else(pa.array(bad), pa.nulls(len(values), values.type), values)


def parse_text(values: ColumnLike, name: str, *, required: bool = True, max_len: int = MAX_TEXT) -> Checked:
    """Trimmed text; empty -> null (an error if ``required``), longer than ``max_len`` -> error."""
    text = as_text(values)
    empty = _empty(text)
    errors: dict[int, str] = {}
    if required:
        errors.update({int(i): f"{name} is empty" for i in np.flatnonzero(empty)})
    too_long = _mask(pc.greater(pc.binary_length(text), max_len))  # bytes >= characters: a cheap filter
    if too_long.any():
        too_long = _mask(pc.greater(pc.utf8_length(text), max_len))
    errors.update({int(i): f"{name} is longer than {max_len} characters" for i in np.flatnonzero(too_long)})
    return Checked(_null_where(text, empty | too_long), errors)


def parse_amount(values: ColumnLike, name: str, *, unit: str = "major", minimum: int | None = 1,
                 required: bool = True) -> Checked:
    """Money -> exact integer minor units. ``major``: decimals with up to 2 places; ``minor``: integers.

    ``minimum`` is the smallest allowed value in minor units (1: must be > 0; None: any sign).
    """
    text = as_text(values)
    empty = _empty(text)
    ok = _mask(pc.match_substring_regex(text, _MAJOR_OK if unit == "major" else _MINOR_OK)) & ~empty
    if unit == "major":
        dec = (text if ok.all() else pc.if_else(pa.array(ok), text, pa.scalar("0"))).cast(pa.decimal128(18, 2))
        buf = np.frombuffer(dec.buffers()[1], dtype=np.int64).reshape(-1, 2)
        minor = buf[dec.offset : dec.offset + len(dec), 0].copy()
    else:
        ints = pc.replace_substring_regex(pc.if_else(pa.array(ok), text, pa.scalar("0")), r"\.0*$", "")
        minor = np.asarray(ints.cast(pa.int64()).to_numpy())
    errors: dict[int, str] = {}
    if required:
        errors.update({int(i): f"{name} is empty" for i in np.flatnonzero(empty)})
    bad = ~ok & ~empty
    if bad.any():
        idx = np.flatnonzero(bad)
        for i, raw in zip(idx, text.take(pa.array(idx)).to_pylist(), strict=True):
            errors[int(i)] = _amount_reason(name, raw, unit)
    nonpos = ok & (minor < minimum) if minimum is not None else np.zeros(len(minor), dtype=bool)
    rule = "> 0" if minimum == 1 else f">= {minimum}"
    errors.update({int(i): f"{name} must be {rule}" for i in np.flatnonzero(nonpos)})
    invalid = ~ok | nonpos
    return Checked(pa.array(minor, pa.int64(), mask=invalid), errors)


def _amount_reason(name: str, raw: str, unit: str) -> str:
    import re

    if unit == "minor":
        if re.match(_MAJOR_NUMBER, raw):
            return f"{name} {_show(raw)} is not a whole number of minor units"
        return f"{name} {_show(raw)} is not a number"
    if not re.match(_MAJOR_NUMBER, raw):
        return f"{name} {_show(raw)} is not a number"
    if len(raw.lstrip("+-").split(".")[0]) > 16:
        return f"{name} {_show(raw)} is too large"
    return f"{name} {_show(raw)} has more than 2 decimals"


def parse_whole(values: ColumnLike, name: str) -> Checked:
    """A non-negative whole number (PaySim's ``step``)."""
    text = as_text(values)
    empty = _empty(text)
    ok = _mask(pc.match_substring_regex(text, _WHOLE)) & ~empty
    out = pc.if_else(pa.array(ok), text, pa.scalar("0")).cast(pa.int64())
    errors = {int(i): f"{name} is empty" for i in np.flatnonzero(empty)}
    errors.update(_reasons(text, np.flatnonzero(~ok & ~empty), f"{name} {{}} is not a whole number"))
    return Checked(_null_where(out, ~ok), errors)


def parse_time(values: ColumnLike, name: str, *, unit: str = "auto", required: bool = True) -> Checked:
    """Times -> UTC epoch milliseconds.

    Accepts ISO-8601 with or without a zone (naive = UTC) and epoch numbers: with ``unit="auto"``
    numbers below 1e11 are seconds and larger ones milliseconds; ``"s"`` or ``"ms"`` force the unit.
    Typed timestamp and date columns (Parquet) are used as they are.
    """
    arr = _array(values)
    if pa.types.is_timestamp(arr.type) or pa.types.is_date(arr.type):
        ms = arr.cast(pa.timestamp("ms", tz=getattr(arr.type, "tz", None))).cast(pa.int64())
        missing = np.asarray(ms.is_null().to_numpy(zero_copy_only=False))
        empties = {int(i): f"{name} is empty" for i in np.flatnonzero(missing)} if required else {}
        return Checked(ms, empties)
    text = as_text(arr)
    n = len(text)
    empty = _empty(text)
    numeric = _mask(pc.match_substring_regex(text, _EPOCH)) & ~empty
    out = np.zeros(n, dtype=np.int64)
    parsed = numeric.copy()
    if numeric.any():
        num = np.asarray(pc.if_else(pa.array(numeric), text, pa.scalar("0")).cast(pa.float64()).to_numpy())
        scale = np.where(np.abs(num) < 1e11, 1000.0, 1.0) if unit == "auto" else (1000.0 if unit == "s" else 1.0)
        scaled = np.where(numeric, np.rint(num * scale), 0)
        out = np.clip(scaled, -1, _YEAR_9999_MS + 1).astype(np.int64)
    iso = ~numeric & ~empty
    if iso.any():
        iso_ms, iso_ok = _parse_iso(text, iso)
        out = np.where(iso_ok, iso_ms, out)
        parsed |= iso_ok
    errors: dict[int, str] = {}
    if required:
        errors.update({int(i): f"{name} is empty" for i in np.flatnonzero(empty)})
    errors.update(_reasons(text, np.flatnonzero(iso & ~parsed), f"{name} {{}} is not a date"))
    before = parsed & (out < 0)
    errors.update(_reasons(text, np.flatnonzero(before), f"{name} {{}} is before 1970"))
    after = parsed & (out > _YEAR_9999_MS)
    errors.update(_reasons(text, np.flatnonzero(after), f"{name} {{}} is after the year 9999"))
    before |= after
    return Checked(pa.array(out, pa.int64(), mask=~parsed | before), errors)


def _parse_iso(text: pa.Array, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """ISO-8601 text at ``rows`` -> (ms, ok). Arrow's casts first (fast); pandas for mixed or odd rows."""
    subset = text.filter(pa.array(rows))
    ms: np.ndarray | None = None
    for target in (pa.timestamp("ms"), pa.timestamp("ms", tz="UTC")):
        try:
            ms = np.asarray(subset.cast(target).cast(pa.int64()).to_numpy())
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            continue
    ok_sub = np.ones(len(subset), dtype=bool)
    if ms is None:
        parsed = pd.to_datetime(pd.Series(subset.to_pylist(), dtype=object), utc=True, errors="coerce",
                                format="ISO8601")
        ok_sub = np.asarray(parsed.notna())
        ns = parsed.to_numpy(dtype="datetime64[ns]").astype(np.int64)
        ms = np.where(ok_sub, np.floor_divide(ns, 1_000_000), 0)
    full_ms = np.zeros(len(text), dtype=np.int64)
    full_ok = np.zeros(len(text), dtype=bool)
    full_ms[rows] = ms
    full_ok[rows] = ok_sub
    return full_ms, full_ok


def parse_label(values: ColumnLike, name: str, *, required: bool = False) -> Checked:
    """Fraud labels -> 1/0 (int8). Accepts 1/0, true/false, fraud/legit/legitimate, yes/no; empty -> null."""
    text = pc.utf8_lower(as_text(values))
    empty = _empty(text)
    is_true = _mask(pc.is_in(text, pa.array(LABEL_TRUE)))
    is_false = _mask(pc.is_in(text, pa.array(LABEL_FALSE)))
    bad = ~empty & ~is_true & ~is_false
    errors = {int(i): f"{name} is empty" for i in np.flatnonzero(empty)} if required else {}
    errors.update(_reasons(text, np.flatnonzero(bad), f"{name} {{}} is not one of 1/0/true/false/fraud/legit"))
    return Checked(pa.array(is_true.astype(np.int8), pa.int8(), mask=~(is_true | is_false)), errors)


def parse_currency(values: ColumnLike, default: str) -> Checked:
    """ISO 4217 codes, upper-cased; empty -> ``default``."""
    text = pc.utf8_upper(as_text(values))
    empty = _empty(text)
    ok = _mask(pc.match_substring_regex(text, r"^[A-Z]{3}$"))
    errors = _reasons(text, np.flatnonzero(~ok & ~empty), "currency {} is not a 3-letter ISO 4217 code")
    filled = pc.if_else(pa.array(empty), pa.scalar(default), text)
    return Checked(_null_where(filled, ~ok & ~empty), errors)


def canonical_type(values: ColumnLike) -> pa.Array:
    """Map transaction types onto the canonical names (PaySim's CASH_IN -> cash_in, TRANSFER -> p2p, ...).

    >>> canonical_type(["TRANSFER", "Cash-Out", "bill", ""]).to_pylist()
    ['p2p', 'cash_out', 'bill', None]
    """
    text = pc.replace_substring_regex(pc.utf8_lower(as_text(values)), r"[\s-]+", "_")
    keys = pa.array(list(TYPE_ALIASES))
    mapped = pc.take(pa.array(list(TYPE_ALIASES.values())), pc.index_in(text, keys))
    out = pc.coalesce(mapped, text)
    return _null_where(out, _empty(out))


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
