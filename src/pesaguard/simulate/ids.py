"""Deterministic identifiers: account ids, M-PESA-like transaction codes, device ids, hashes.

Everything here is a pure function of its inputs (and the run's seed), so the same seed always gives
the same ids and re-ingesting a run adds nothing.

>>> account_ids("C", 7, 1, 3).to_pylist()
['C0000001', 'C0000002', 'C0000003']
>>> codes = txn_codes(np.array([0, 1]), np.array([2024, 2024]), np.array([1, 3]), seed=7)
>>> [c[:2] for c in codes.to_pylist()], len(codes[0].as_py())
(['SA', 'SC'], 10)
"""

from __future__ import annotations

import hashlib
from datetime import date

import numpy as np
import pyarrow as pa

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)
_ALNUM = np.frombuffer(b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ", dtype=np.uint8)
_CODE_BITS = 41  # 8 base-36 characters hold 2**41 values
_SEED_BITS = 12  # runs with different seeds use disjoint code spaces (up to a 1/4096 clash)


def splitmix64(x: np.ndarray) -> np.ndarray:
    """A fast 64-bit mixing function (vectorised); uniform-looking output for sequential input."""
    with np.errstate(over="ignore"):
        z = x.astype(np.uint64) + np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return z ^ (z >> np.uint64(31))


def unit_hash(*keys: np.ndarray | int) -> np.ndarray:
    """Deterministic uniform numbers in [0, 1) from integer keys (vectorised)."""
    h = np.zeros(1, dtype=np.uint64)
    for k in keys:
        h = splitmix64(h ^ np.asarray(k).astype(np.uint64))
    return (h >> np.uint64(11)).astype(np.float64) / float(1 << 53)


def fixed_width(data: np.ndarray, width: int) -> pa.StringArray:
    """An (n, width) uint8 array of ASCII characters -> an Arrow string array without Python loops."""
    n = data.shape[0]
    offsets = np.arange(0, (n + 1) * width, width, dtype=np.int32)
    return pa.StringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(np.ascontiguousarray(data)))


def _digits(values: np.ndarray, width: int, base: int) -> np.ndarray:
    out = np.empty((len(values), width), dtype=np.uint8)
    v = values.astype(np.int64).copy()
    for i in range(width - 1, -1, -1):
        out[:, i] = _ALNUM[v % base]
        v //= base
    return out


def account_ids(prefix: str, digits: int, first: int, n: int) -> pa.StringArray:
    """Fixed-width ids such as ``C0000123``: the prefix tells the kind of account."""
    head = np.frombuffer(prefix.encode(), dtype=np.uint8)
    body = _digits(np.arange(first, first + n), digits, 10)
    return fixed_width(np.hstack([np.tile(head, (n, 1)), body]), len(prefix) + digits)


def seed_tag(seed: int) -> int:
    return int.from_bytes(hashlib.blake2b(str(seed).encode(), digest_size=8).digest(), "big") % (1 << _SEED_BITS)


def txn_codes(counter: np.ndarray, years: np.ndarray, months: np.ndarray, seed: int) -> pa.StringArray:
    """Ten-character receipt codes: a year letter, a month letter, then 8 base-36 characters.

    The tail is a bijection of (seed tag, run-wide counter), so codes never repeat within a run and
    runs with different seeds almost never share one.
    """
    mask = (1 << _CODE_BITS) - 1
    v = (np.uint64(seed_tag(seed)) << np.uint64(_CODE_BITS - _SEED_BITS)) | counter.astype(np.uint64)
    with np.errstate(over="ignore"):  # an invertible mix inside 41 bits
        for mult in (0x1F3A5B7D9, 0x2C4E6A8B1):
            v = (v * np.uint64(mult)) & np.uint64(mask)
            v ^= v >> np.uint64(17)
    letters = np.empty((len(counter), 2), dtype=np.uint8)
    letters[:, 0] = ord("A") + (years.astype(np.int64) - 2006) % 26  # 2024 -> 'S'
    letters[:, 1] = ord("A") + (months.astype(np.int64) - 1)
    return fixed_width(np.hstack([letters, _digits(v.astype(np.int64), 8, 36)]), 10)


def serial_ids(prefix: str, seed: int, counter: np.ndarray) -> pa.StringArray:
    """Ids such as ``EV0A3F000000012``: prefix, seed tag (3 hex) and a 10-digit run-wide counter."""
    head = np.frombuffer(f"{prefix}{seed_tag(seed):03X}".encode(), dtype=np.uint8)
    body = _digits(counter, 10, 10)
    return fixed_width(np.hstack([np.tile(head, (len(counter), 1)), body]), len(head) + 10)


def device_ids(numbers: np.ndarray, seed: int) -> pa.StringArray:
    """Device ids (12 hex characters) for device numbers; stable for a seed."""
    h = splitmix64(numbers.astype(np.uint64) ^ np.uint64(seed_tag(seed) << 40)) >> np.uint64(16)
    return fixed_width(_digits(h.astype(np.int64), 12, 16), 12)


def msisdn_hash(msisdn: str, salt: str) -> str:
    """Salted hash of a phone number in international form (``2547XXXXXXXX``), 32 hex characters."""
    return hashlib.blake2b(msisdn.encode(), key=salt.encode()[:64], digest_size=16).hexdigest()


def date_parts(days: np.ndarray, start: date) -> tuple[np.ndarray, np.ndarray]:
    """Year and month of ``start + days`` (vectorised)."""
    d = np.datetime64(start, "D") + days.astype("timedelta64[D]")
    months = d.astype("datetime64[M]").astype(np.int64)
    return 1970 + months // 12, months % 12 + 1
