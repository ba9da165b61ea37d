"""The kernel's arrays and the Python-side id registries around them.

Account and pair ids map to rows of the kernel's arrays; row 0 of each is a permanently empty entity
(what ``peek`` reads for an id never seen). Rows freed by eviction are reused. Arrays grow by doubling.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from pesaguard.features import kernel as K
from pesaguard.features.config import FeatureConfig, parse_duration


def params(cfg: FeatureConfig) -> np.ndarray:
    """The kernel's parameter vector for ``cfg``."""
    w = list(cfg.windows)
    head = [
        len(w),
        len(cfg.label_windows),
        cfg.horizon_ms,
        w.index(cfg.history_window),
        w.index(cfg.recent_window),
        round(cfg.utc_offset_hours * 3_600_000),
        cfg.night_start_hour,
        cfg.night_end_hour,
    ]
    head += [len(cfg.lagged_windows), cfg.label_delay_ms, cfg.min_label_delay_ms, cfg.fraud_span_ms]
    assert len(head) == K.PR_W0
    lagged = [parse_duration(x) for x in cfg.lagged_windows]
    return np.array(head + list(cfg.windows_ms) + [w.index(x) for x in cfg.label_windows] + lagged, np.int64)


def pair_key(a: Any, b: Any) -> Any:
    """The registry key of the pair (payer row, payee row); works on ints and int64 arrays alike."""
    return a * (1 << 32) + b


def _grow(a: np.ndarray, rows: int, fill: np.ndarray | float | int) -> np.ndarray:
    if a.shape[0] >= rows:
        return a
    cap = max(rows, 2 * a.shape[0], 16)
    out = np.zeros((cap, *a.shape[1:]), a.dtype)  # zeros: fresh pages map far faster than empty+write here
    out[: a.shape[0]] = a
    out[a.shape[0] :] = fill
    return out


class Registry:
    """Ids <-> rows, with row 0 reserved and freed rows reused.

    The id -> row dict is built on first use, so a one-off replay (training) never pays for it.
    """

    def __init__(self) -> None:
        self._index: dict[Any, int] | None = {}
        self.keys: list[Any] = [None]
        self.free: list[int] = []

    @property
    def index(self) -> dict[Any, int]:
        if self._index is None:
            self._index = {k: i for i, k in enumerate(self.keys) if k is not None}
        return self._index

    def __len__(self) -> int:
        return len(self.keys)  # rows in use or freed, including row 0

    def get_or_add(self, key: Any) -> int:
        index = self.index
        row = index.get(key)
        if row is None:
            if self.free:
                row = self.free.pop()
                self.keys[row] = key
            else:
                row = len(self.keys)
                self.keys.append(key)
            index[key] = row
        return row

    def add_many(self, uniques: list[Any]) -> np.ndarray:
        """Rows for ``uniques`` (distinct keys), adding the unknown ones."""
        if len(self.keys) == 1 and not self.free:  # fresh: rows in order, dict built lazily
            self.keys.extend(uniques)
            self._index = None
            return np.arange(1, 1 + len(uniques), dtype=np.int64)
        return np.fromiter((self.get_or_add(k) for k in uniques), np.int64, len(uniques))

    def evict(self, rows: np.ndarray) -> None:
        for r in rows.tolist():
            key = self.keys[r]
            if key is not None:
                if self._index is not None:
                    del self._index[key]
                self.keys[r] = None
                self.free.append(r)

    def count(self) -> int:
        """Ids currently mapped."""
        return len(self.keys) - 1 - len(self.free)

    def state(self) -> tuple[list[Any], list[int]]:
        return list(self.keys), list(self.free)

    @classmethod
    def from_state(cls, state: tuple[list[Any], list[int]]) -> Registry:
        reg = cls()
        reg.keys, reg.free = list(state[0]), list(state[1])
        reg._index = None
        return reg


class KernelState:
    """The kernel arrays for one configuration."""

    def __init__(self, cfg: FeatureConfig) -> None:
        self.P = params(cfg)
        self.nw, self.nl, self.nd = len(cfg.windows), len(cfg.label_windows), len(cfg.lagged_windows)
        self.ai_default = K.ai_default_row(self.nw, self.nd)
        self.af_default = K.af_default_row(self.nw)
        self.pi_default = K.pi_default_row()
        self.AI = np.tile(self.ai_default, (16, 1))
        self.AF = np.tile(self.af_default, (16, 1))
        self.PI = np.tile(self.pi_default, (16, 1))
        self.OE = np.zeros((1024, K.oe_cols(self.nw)), np.int64)
        self.IE = np.zeros((1024, K.IE_COLS), np.int64)
        self.FE = np.zeros((64, K.FE_COLS), np.int64)
        self.meta = K.meta_new()

    @property
    def clock(self) -> int:
        return int(self.meta[K.CLOCK])

    def advance(self, t: int) -> None:
        if t > self.meta[K.CLOCK]:
            self.meta[K.CLOCK] = t

    def ensure_rows(self, n_acct: int, n_pair: int) -> None:
        if self.AI.shape[0] < n_acct:
            self.AI = _grow(self.AI, n_acct, self.ai_default)
            self.AF = _grow(self.AF, n_acct, self.af_default)
        if self.PI.shape[0] < n_pair:
            self.PI = _grow(self.PI, n_pair, self.pi_default)

    def ensure_arenas(self, extra_out: int, extra_fraud: int) -> None:
        """Room for ``extra_out`` more events in the payment arenas and ``extra_fraud`` in the label one."""
        m = self.meta
        # Allocation takes a freed slot first, else the next unused one, so capacity minus live is free.
        if m[K.O_LIVE] + extra_out > self.OE.shape[0]:
            self.OE = _grow(self.OE, int(m[K.O_LIVE] + extra_out), 0)
        if m[K.I_LIVE] + extra_out > self.IE.shape[0]:
            self.IE = _grow(self.IE, int(m[K.I_LIVE] + extra_out), 0)
        if m[K.F_LIVE] + extra_fraud > self.FE.shape[0]:
            self.FE = _grow(self.FE, int(m[K.F_LIVE] + extra_fraud), 0)

    def sweep(self, n_acct: int, n_pair: int, evict: bool) -> tuple[np.ndarray, np.ndarray]:
        """Expire all windows to the clock; with ``evict``, reset entities idle for the horizon."""
        acct = np.zeros(max(n_acct, 1), np.bool_)
        pair = np.zeros(max(n_pair, 1), np.bool_)
        K.sweep(
            self.AI, self.AF, self.PI, self.OE, self.IE, self.FE, self.meta, self.P,
            n_acct, n_pair, self.ai_default, self.af_default, acct, pair, evict,
        )  # fmt: skip
        return np.flatnonzero(acct), np.flatnonzero(pair)

    def trimmed(self, n_acct: int, n_pair: int) -> dict[str, np.ndarray]:
        """The arrays cut to what is used (for snapshots)."""
        m = self.meta
        return {
            "AI": self.AI[:n_acct].copy(),
            "AF": self.AF[:n_acct].copy(),
            "PI": self.PI[:n_pair].copy(),
            "OE": self.OE[: m[K.O_USED]].copy(),
            "IE": self.IE[: m[K.I_USED]].copy(),
            "FE": self.FE[: m[K.F_USED]].copy(),
            "meta": m.copy(),
        }

    def capacity(self) -> dict[str, int]:
        """Rows allocated per array. A full arena triggers a sweep before it grows, and a sweep
        changes what a transaction dated far behind the clock sees; so a state restored to continue
        exactly as the original (replicas, :mod:`pesaguard.cluster`) needs the same capacities."""
        return {name: int(getattr(self, name).shape[0]) for name in ("AI", "AF", "PI", "OE", "IE", "FE")}

    def reserve(self, capacity: dict[str, int]) -> None:
        """Give the arrays exactly ``capacity`` rows (:meth:`capacity` of the original), never
        fewer than they use."""
        fills: dict[str, np.ndarray | int] = {"AI": self.ai_default, "AF": self.af_default, "PI": self.pi_default,
                                              "OE": 0, "IE": 0, "FE": 0}
        for name, fill in fills.items():
            a = getattr(self, name)
            rows = max(capacity[name], a.shape[0])
            if rows > a.shape[0]:
                out = np.zeros((rows, *a.shape[1:]), a.dtype)
                out[: a.shape[0]] = a
                out[a.shape[0] :] = fill
                setattr(self, name, out)

    def load(self, arrays: dict[str, np.ndarray]) -> None:
        for name in ("AI", "AF", "PI", "OE", "IE", "FE", "meta"):
            setattr(self, name, arrays[name].copy())
        # keep at least the minimal capacities so the first allocation has room
        self.ensure_rows(max(self.AI.shape[0], 1), max(self.PI.shape[0], 1))
