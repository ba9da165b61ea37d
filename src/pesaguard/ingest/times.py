"""Times as they come in files -> UTC epoch milliseconds.

* ISO 8601 with an offset (``2024-01-01T10:00:00+03:00``, ``...Z``) is that instant.
* ISO 8601 without one (``2024-01-01 10:00``, ``2024-01-01``) is a wall-clock time in ``tz``
  (default UTC; for example ``Africa/Nairobi``). A wall-clock time that a daylight-saving change
  skips or repeats in that zone is a quarantine reason, not a guess.
* Numbers are epoch times. With ``unit="auto"`` the magnitude says the unit: below 1e11 seconds,
  below 1e14 milliseconds, below 1e17 microseconds, else nanoseconds (for times between 1973 and
  5138 the ranges cannot be confused); ``s``/``ms`` force it. Whole numbers are read as integers,
  exactly.
* ``time_format`` (strftime codes, e.g. ``%d/%m/%Y %H:%M`` for day-first times) replaces the two
  rules above: every value must match it; ``%z`` in it reads an offset, otherwise ``tz`` applies.
* Typed timestamp and date columns (Parquet) are used as they are; zone-less ones are in ``tz``.

Arrow's vectorised casts and ``strptime`` do the work; pandas parses what they refuse (mixed ISO
layouts, strftime codes Arrow lacks).
"""

from __future__ import annotations

import zoneinfo
from functools import lru_cache

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from pesaguard.errors import UsageError

YEAR_9999_MS = 253_402_300_799_999
_EPOCH = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_WHOLE = r"^[+-]?\d{1,18}$"
_OFFSET = r"[T ]\d{2}(:?\d{2}(:?\d{2}([.,]\d+)?)?)?\s*([zZ]|UTC|GMT|[+-]\d{2}(:?\d{2})?)$"


@lru_cache(maxsize=32)
def check_tz(tz: str) -> str:
    """``tz`` if it is an IANA zone name; a :class:`UsageError` naming the fix otherwise."""
    try:
        zoneinfo.ZoneInfo(tz)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise UsageError(f"--tz {tz!r} is not a time zone", hint="use an IANA name such as UTC or "
                                                                  "Africa/Nairobi") from None
    return tz


def epoch_ms(text: pa.Array, rows: np.ndarray, unit: str) -> np.ndarray:
    """Epoch numbers at ``rows`` -> milliseconds (0 elsewhere); out-of-range values are clipped just
    outside 1970..9999 so the range checks catch them."""
    n = len(text)
    out = np.zeros(n, dtype=np.int64)
    whole = rows & np.asarray(pc.fill_null(pc.match_substring_regex(text, _WHOLE), False)
                              .to_numpy(zero_copy_only=False))
    frac = rows & ~whole
    if whole.any():
        src = pc.replace_substring_regex(pc.if_else(pa.array(whole), text, pa.scalar("0")), r"^\+", "")
        ints = np.asarray(src.cast(pa.int64()).to_numpy())
        out = np.where(whole, _scale_int(ints, unit), out)
    if frac.any():
        num = np.asarray(pc.if_else(pa.array(frac), text, pa.scalar("0")).cast(pa.float64()).to_numpy())
        with np.errstate(over="ignore", invalid="ignore"):
            scaled = np.rint(num * _float_scale(num, unit))
        out = np.where(frac, np.clip(np.nan_to_num(scaled, nan=-1), -1, YEAR_9999_MS + 1).astype(np.int64), out)
    return out


def _scale_int(v: np.ndarray, unit: str) -> np.ndarray:
    a = np.abs(v)
    if unit == "s":
        return np.clip(v, -1, YEAR_9999_MS // 1000 + 1) * 1000
    if unit == "ms":
        return v
    return np.where(a < 10**11, np.clip(v, -(10**11), 10**11) * 1000,
                    np.where(a < 10**14, v, np.where(a < 10**17, v // 1000, v // 1_000_000)))


def _float_scale(num: np.ndarray, unit: str) -> np.ndarray | float:
    if unit == "s":
        return 1000.0
    if unit == "ms":
        return 1.0
    a = np.abs(num)
    return np.where(a < 1e11, 1000.0, np.where(a < 1e14, 1.0, np.where(a < 1e17, 1e-3, 1e-6)))


def iso_ms(text: pa.Array, rows: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """ISO 8601 at ``rows`` -> (ms, parsed, not in tz): values with an offset are instants, the
    others wall-clock times in ``tz``; ``not in tz`` marks wall-clock times a DST change skips or repeats."""
    n = len(text)
    ms = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    gap = np.zeros(n, dtype=bool)
    aware = rows & np.asarray(pc.fill_null(pc.match_substring_regex(text, _OFFSET), False)
                              .to_numpy(zero_copy_only=False))
    naive = rows & ~aware
    for mask, utc in ((aware, True), (naive, False)):
        if not mask.any():
            continue
        idx = np.flatnonzero(mask)
        sub_ms, sub_ok = _cast_iso(text.take(pa.array(idx)), utc)
        if not utc and tz != "UTC":
            sub_ms, sub_gap = localise(sub_ms, sub_ok, tz)
            gap[idx] = sub_gap
            sub_ok &= ~sub_gap
        ms[idx] = sub_ms
        ok[idx] = sub_ok
    return ms, ok, gap


def _cast_iso(sub: pa.Array, utc: bool) -> tuple[np.ndarray, np.ndarray]:
    target = pa.timestamp("ms", tz="UTC") if utc else pa.timestamp("ms")
    try:
        return np.asarray(sub.cast(target).cast(pa.int64()).to_numpy()), np.ones(len(sub), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    parsed = pd.to_datetime(pd.Series(sub.to_pylist(), dtype=object), utc=utc, errors="coerce", format="ISO8601")
    return _series_ms(parsed)


def _series_ms(parsed: pd.Series) -> tuple[np.ndarray, np.ndarray]:
    ok = np.asarray(parsed.notna())
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_convert("UTC").dt.tz_localize(None)
    ms = parsed.dt.as_unit("ms").to_numpy(dtype="datetime64[ms]").astype(np.int64)
    return np.where(ok, ms, 0), ok


def localise(ms: np.ndarray, ok: np.ndarray, tz: str) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock milliseconds in ``tz`` -> (UTC milliseconds, skipped or repeated by a DST change)."""
    if tz == "UTC" or not ok.any():
        return ms, np.zeros(len(ms), dtype=bool)
    idx = pd.DatetimeIndex(np.where(ok, ms, 0).astype("datetime64[ms]"))
    # a zoneinfo object, not the name: pandas would take pytz's tables, which stop at 2037
    loc = idx.tz_localize(zoneinfo.ZoneInfo(tz), ambiguous="NaT", nonexistent="NaT")
    gap = np.asarray(loc.isna()) & ok
    out = np.asarray(loc.tz_convert("UTC").tz_localize(None).as_unit("ms").to_numpy(dtype="datetime64[ms]")
                     ).astype(np.int64)
    return np.where(ok & ~gap, out, 0), gap


def formatted_ms(text: pa.Array, rows: np.ndarray, fmt: str, tz: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Values at ``rows`` read with strftime codes ``fmt`` -> (ms, parsed, not in tz)."""
    n = len(text)
    idx = np.flatnonzero(rows)
    ms = np.zeros(n, dtype=np.int64)
    ok = np.zeros(n, dtype=bool)
    gap = np.zeros(n, dtype=bool)
    if not len(idx):
        return ms, ok, gap
    sub = text.take(pa.array(idx))
    try:
        ts = pc.strptime(sub, format=fmt, unit="ms", error_is_null=True)
        sub_ok = np.asarray(ts.is_valid().to_numpy(zero_copy_only=False))
        sub_ms = np.asarray(pc.fill_null(ts.cast(pa.int64()), 0).to_numpy())
        aware = ts.type.tz is not None
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        parsed = pd.to_datetime(pd.Series(sub.to_pylist(), dtype=object), format=fmt, errors="coerce")
        aware = "%z" in fmt
        if aware:
            parsed = pd.to_datetime(parsed, utc=True)
        sub_ms, sub_ok = _series_ms(parsed)
    if not aware and tz != "UTC":
        sub_ms, sub_gap = localise(sub_ms, sub_ok, tz)
        gap[idx] = sub_gap
        sub_ok &= ~sub_gap
    ms[idx] = sub_ms
    ok[idx] = sub_ok
    return ms, ok, gap


def typed_ms(arr: pa.Array, tz: str) -> pa.Array:
    """A typed timestamp or date column -> UTC milliseconds (zone-less values are in ``tz``)."""
    zone = getattr(arr.type, "tz", None)
    ms = arr.cast(pa.timestamp("ms", tz=zone)).cast(pa.int64())
    if zone is not None or tz == "UTC":
        return ms
    valid = np.asarray(ms.is_valid().to_numpy(zero_copy_only=False))
    out, gap = localise(np.asarray(pc.fill_null(ms, 0).to_numpy()), valid, tz)
    return pa.array(out, pa.int64(), mask=~valid | gap)


def is_epoch(text: pa.Array) -> np.ndarray:
    return np.asarray(pc.fill_null(pc.match_substring_regex(text, _EPOCH), False).to_numpy(zero_copy_only=False))
