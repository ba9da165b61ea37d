"""Candidate transactions as columns: what the generators propose and the ledger accepts or rejects."""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from pesaguard.simulate.codes import FIXED, NO_ROLE

_DTYPES: dict[str, type] = {
    "ts": np.int64, "payer": np.int64, "payee": np.int64, "amount": np.int64, "type": np.int8,
    "channel": np.int8, "device": np.int64, "typology": np.int8, "event": np.int64, "mode": np.int8,
    "frac": np.float64, "pot_in": np.int64, "pot_out": np.int64, "role": np.int8, "key": np.int64,
}
_DEFAULTS: dict[str, float] = {"device": -1, "typology": 0, "event": -1, "mode": FIXED, "frac": 0.0,
                               "pot_in": -1, "pot_out": -1, "role": NO_ROLE, "amount": 0}


@dataclass
class Batch:
    """Struct of arrays, one entry per candidate transaction (amounts in minor units, ts in UTC ms).

    ``mode`` says how the amount is set: FIXED uses ``amount``; DRAIN takes ``frac`` of the payer's
    balance when its time slot starts; POT takes ``frac`` of pot ``pot_out``. An accepted row adds its
    amount to pot ``pot_in``. ``key`` is unique in the run, so an SMS can point at a row before the
    ledger has decided it.
    """

    ts: np.ndarray
    payer: np.ndarray
    payee: np.ndarray
    amount: np.ndarray
    type: np.ndarray
    channel: np.ndarray
    device: np.ndarray
    typology: np.ndarray
    event: np.ndarray
    mode: np.ndarray
    frac: np.ndarray
    pot_in: np.ndarray
    pot_out: np.ndarray
    role: np.ndarray
    key: np.ndarray

    def __len__(self) -> int:
        return len(self.ts)

    def take(self, idx: np.ndarray) -> Batch:
        return Batch(**{f.name: getattr(self, f.name)[idx] for f in fields(self)})

    @staticmethod
    def empty() -> Batch:
        return Batch(**{name: np.zeros(0, dtype=dt) for name, dt in _DTYPES.items()})

    @staticmethod
    def concat(parts: list[Batch]) -> Batch:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Batch.empty()
        return Batch(**{name: np.concatenate([getattr(p, name) for p in parts]) for name in _DTYPES})


class Keys:
    """Hands out run-wide unique candidate keys, fraud event ids and pot ids."""

    def __init__(self) -> None:
        self.key = 0
        self.event = 0
        self.pot = 0

    def events(self, k: int) -> np.ndarray:
        out = np.arange(self.event, self.event + k, dtype=np.int64)
        self.event += k
        return out

    def pots(self, k: int) -> np.ndarray:
        out = np.arange(self.pot, self.pot + k, dtype=np.int64)
        self.pot += k
        return out

    def make(self, **cols: np.ndarray | float | int) -> Batch:
        """A batch from columns; scalars broadcast and omitted optional columns take their defaults.

        >>> b = Keys().make(ts=np.array([5, 6]), payer=1, payee=2, amount=100, type=2, channel=0)
        >>> b.payer.tolist(), b.key.tolist(), b.event.tolist()
        ([1, 1], [0, 1], [-1, -1])
        """
        n = len(np.asarray(cols["ts"]))
        keys = cols.pop("key", None)
        out: dict[str, np.ndarray] = {}
        for name, dt in _DTYPES.items():
            if name == "key":
                continue
            v = cols.pop(name, _DEFAULTS.get(name))
            if v is None:
                raise TypeError(f"column {name} is required")
            out[name] = np.broadcast_to(np.asarray(v, dtype=dt), (n,)).copy()
        if cols:
            raise TypeError(f"unknown columns {sorted(cols)}")
        if keys is None:
            keys = np.arange(self.key, self.key + n, dtype=np.int64)
            self.key += n
        out["key"] = np.asarray(keys, dtype=np.int64)
        return Batch(**out)

    def next_key(self) -> int:
        self.key += 1
        return self.key - 1


class Rows:
    """Row-at-a-time builder for the few, intricate fraud rows; keys are handed out on append."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.cols: dict[str, list[float]] = {name: [] for name in _DTYPES}

    def add(self, **row: float) -> int:
        row["key"] = self.keys.next_key()
        for name in _DTYPES:
            self.cols[name].append(row.get(name, _DEFAULTS.get(name)))  # type: ignore[arg-type]
        return int(row["key"])

    def batch(self) -> Batch:
        if not self.cols["ts"]:
            return Batch.empty()
        return Batch(**{name: np.array(v, dtype=_DTYPES[name]) for name, v in self.cols.items()})
