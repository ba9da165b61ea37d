"""``FeatureEngine``: one feature definition for offline replay (training) and online scoring.

Contract: ``replay`` over a history returns, for each transaction, the values ``score_and_update``
would have returned had the same events arrived one by one in replay order (``pesaguard.features.order``):
both drive the same compiled kernel (``pesaguard.features.kernel``). Features of a transaction use only
events before it plus its own fields; then it is added to the state. Feed online events in time order.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.errors import InputError
from pesaguard.features import kernel as K
from pesaguard.features.config import GROUPS, FeatureConfig, feature_names
from pesaguard.features.encoding import PAYEE_PREFIX, num, type_code
from pesaguard.features.memory import PendingLabels, TxnMemory
from pesaguard.features.replay import replay_frames
from pesaguard.features.state import KernelState, Registry, pair_key

SNAPSHOT_FORMAT = 3
#: Online: sweep expired windows and idle entities after this many events (values never change).
SWEEP_EVERY = 200_000


class FeatureEngine:
    """Streaming feature state plus the two ways to drive it (replay and one event at a time).

    Not thread-safe: serialise calls (``pesaguard.models.scorer.Scorer`` holds a lock).
    """

    def __init__(self, cfg: FeatureConfig | None = None) -> None:
        self.cfg = cfg or FeatureConfig()
        self.names = feature_names(self.cfg)
        full = feature_names(self.cfg.model_copy(update={"groups": GROUPS}))
        pos = {n: i for i, n in enumerate(self.names)}
        self._colmap = np.array([pos.get(n, -1) for n in full], np.int64)
        self._s = KernelState(self.cfg)
        self._accts = Registry()
        self._pairs = Registry()
        self._txns = TxnMemory()
        self._pending = PendingLabels()
        self._row = np.empty((1, len(self.names)), np.float64)
        self._scratch = np.empty(
            K.scratch_len(len(self._colmap), len(self.cfg.windows), len(self.cfg.label_windows),
                          len(self.cfg.lagged_windows)), np.float64)
        self._since_sweep = 0

    # -- ids -------------------------------------------------------------------------------------------
    def _acct(self, key: Any) -> int:
        r = self._accts.get_or_add(str(key))
        self._s.ensure_rows(len(self._accts), len(self._pairs))
        return r

    def _pair(self, a: int, b: int) -> int:
        r = self._pairs.get_or_add(pair_key(int(a), int(b)))
        self._s.ensure_rows(len(self._accts), len(self._pairs))
        return r

    def _required(self, txn: dict[str, Any]) -> tuple[int, str, str]:
        for f in ("ts_ms", "payer", "payee"):
            if txn.get(f) is None:
                raise InputError(f"transaction has no {f}", field=f, hint="ts_ms, payer and payee are required")
        payee = str(txn["payee"])
        if self.cfg.payee_id_space == "separate":
            payee = PAYEE_PREFIX + payee
        return int(txn["ts_ms"]), str(txn["payer"]), payee

    @staticmethod
    def _amount(txn: dict[str, Any]) -> tuple[int, bool]:
        a = num(txn.get("amount_minor"))
        return (0, False) if math.isnan(a) else (round(a), True)

    # -- online ----------------------------------------------------------------------------------------
    def peek(self, txn: dict[str, Any]) -> dict[str, float]:
        """Features of ``txn`` without changing the state (for idempotent retries)."""
        t, payer, payee = self._required(txn)
        a = self._accts.index.get(payer, 0)
        b = self._accts.index.get(payee, 0)
        pr = self._pairs.index.get(pair_key(a, b), 0) if a and b else 0
        return self._features(txn, t, a, b, pr)

    def _features(self, txn: dict[str, Any], t: int, a: int, b: int, pr: int) -> dict[str, float]:
        s = self._s
        amt, ok = self._amount(txn)
        K.txn_features(
            s.AI, s.AF, s.PI, s.OE, s.IE, s.FE, s.P, t, a, b, pr, amt, ok,
            num(txn.get("payer_balance_before")), type_code(txn.get("type")), self._colmap, self._row, 0,
            self._scratch,
        )  # fmt: skip
        return dict(zip(self.names, self._row[0].tolist(), strict=True))

    def score_and_update(self, txn: dict[str, Any]) -> dict[str, float]:
        """Features of ``txn`` from the state before it, then ``txn`` is added to the state."""
        t, payer, payee = self._required(txn)
        self._room(1, 0)  # before resolving rows: a sweep may free rows of idle entities
        a, b = self._acct(payer), self._acct(payee)
        pr = self._pair(a, b)
        s = self._s
        amt, ok = self._amount(txn)
        K.txn_score(
            s.AI, s.AF, s.PI, s.OE, s.IE, s.FE, s.meta, s.P, t, a, b, pr, amt, ok,
            num(txn.get("payer_balance_before")), type_code(txn.get("type")), self._colmap, self._row, 0,
            self._scratch,
        )  # fmt: skip
        feats = dict(zip(self.names, self._row[0].tolist(), strict=True))
        self._tick()
        tid = txn.get("txn_id")
        if tid is not None:
            tid = str(tid)
            entry = self._txns.add(tid, t, a, b)
            waiting = self._pending.pop(tid)
            if waiting is not None and t - waiting[1] < self.cfg.horizon_ms:
                self._apply_label(a, b, waiting[0], False, False, entry, t, waiting[1])
        self._maybe_sweep()
        return feats

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        """A label for ``txn_id`` that became known at ``known_at_ms`` (usable from then on)."""
        self._s.advance(int(known_at_ms))
        self._tick()
        tid = str(txn_id)
        hit = self._txns.get(tid, self._s.clock - self.cfg.horizon_ms)
        if hit is None:  # not seen yet (or forgotten): wait for it
            self._pending.put(tid, bool(is_fraud), int(known_at_ms))
        else:
            self._apply_label(hit[1], hit[2], bool(is_fraud), hit[3], hit[4], hit[5], hit[0], int(known_at_ms))

    def _apply_label(self, a: int, b: int, is_fraud: bool, applied: bool, labelled: bool, handle: Any,
                     tx_ts: int, known_at: int) -> None:
        if labelled and (applied or not is_fraud):
            return  # nothing new: each transaction counts once as fraud
        # A sweep here cannot free rows a or b: they moved money less than the horizon ago.
        self._room(0, K.N_ROLES)
        s = self._s
        applied, labelled = K.label_step(s.AI, s.FE, s.meta, s.P, a, b, is_fraud, applied, labelled, tx_ts,
                                         known_at)
        self._txns.set_flags(handle, applied, labelled)

    def add_account_event(self, account_id: str, ts_ms: int, kind: str) -> None:
        """A SIM swap or device change (other kinds only advance the clock)."""
        code = K.KIND_CODES.get(kind, -1)
        a = self._acct(account_id) if code >= 0 else 0
        K.account_step(self._s.AI, self._s.meta, a, int(ts_ms), code)
        self._tick()

    def add_sms_event(self, account_id: str, ts_ms: int, scam_type: str | None, score: float | None) -> None:
        """A scam SMS received by ``account_id`` (``score`` may be None; below ``sms_min_score`` it is ignored)."""
        sc = num(score)
        counts = math.isnan(sc) or sc >= self.cfg.sms_min_score
        a = self._acct(account_id) if counts else 0
        K.sms_step(self._s.AI, self._s.AF, self._s.meta, a, int(ts_ms), sc, counts)
        self._tick()

    def _tick(self) -> None:
        """Forget remembered transactions and waiting labels older than the horizon."""
        cutoff = self._s.clock - self.cfg.horizon_ms
        self._txns.evict(cutoff)
        self._pending.evict(cutoff)

    def _room(self, payments: int, frauds: int) -> None:
        """Make room in the arenas: when one is full, sweep first, then grow to twice what stays live."""
        s, m = self._s, self._s.meta
        full = (
            m[K.O_LIVE] + payments > s.OE.shape[0]
            or m[K.I_LIVE] + payments > s.IE.shape[0]
            or m[K.F_LIVE] + frauds > s.FE.shape[0]
        )
        if not full:
            return
        self.sweep()
        s.ensure_arenas(int(max(m[K.O_LIVE], m[K.I_LIVE])) + payments + 16, int(m[K.F_LIVE]) + frauds + 16)

    def _maybe_sweep(self) -> None:
        self._since_sweep += 1
        if self._since_sweep >= SWEEP_EVERY:
            self.sweep()

    def sweep(self) -> None:
        """Return memory: expire windows, evict entities idle for the horizon. Never changes a value."""
        self._since_sweep = 0
        self._tick()
        acct, pair = self._s.sweep(len(self._accts), len(self._pairs), evict=True)
        self._accts.evict(acct)
        self._pairs.evict(pair)

    @property
    def n_accounts(self) -> int:
        return self._accts.count()

    @property
    def n_pairs(self) -> int:
        return self._pairs.count()

    # -- what replay drives (pesaguard.features.replay) ----------------------------------------------
    @property
    def kernel_state(self) -> KernelState:
        """The kernel's arrays, which replay's compiled loop reads and writes in place."""
        return self._s

    @property
    def column_map(self) -> np.ndarray:
        """Position of every kernel feature in ``names`` (-1 for a feature of a group that is off)."""
        return self._colmap

    def account_rows(self, keys: list[str]) -> np.ndarray:
        """State rows of these account ids, adding the new ones."""
        rows = self._accts.add_many(keys)
        self._s.ensure_rows(len(self._accts), len(self._pairs))
        return rows

    def pair_rows(self, keys: list[Any]) -> np.ndarray:
        """State rows of these payer-payee pairs (keys from ``pair_key``), adding the new ones."""
        rows = self._pairs.add_many(keys)
        self._s.ensure_rows(len(self._accts), len(self._pairs))
        return rows

    def sweep_windows(self) -> None:
        """Free arena slots of events that left every window (no entity is evicted)."""
        self._s.sweep(len(self._accts), len(self._pairs), evict=False)

    @property
    def has_waiting_labels(self) -> bool:
        return len(self._pending) > 0

    def take_waiting_labels(self, txn_ids: pd.Index) -> list[tuple[str, bool, int]]:
        """Remove and return ``(txn_id, is_fraud, known_at_ms)`` of the labels waiting for one of ``txn_ids``."""
        waiting = list(self._pending.items)
        found = txn_ids.get_indexer(pd.Index(waiting)) if waiting else np.zeros(0, np.int64)
        taken = []
        for tid, j in zip(waiting, found, strict=True):
            if j >= 0:
                f, known = self._pending.items.pop(tid)
                taken.append((tid, f, known))
        return taken

    def wait_for_transaction(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        """Keep a label until its transaction arrives (bounded by the horizon)."""
        self._pending.put(txn_id, is_fraud, known_at_ms)

    def remembered(self, txn_id: str) -> tuple[int, int, int, bool, bool, Any] | None:
        """``(ts_ms, payer row, payee row, applied, labelled, handle)`` of a remembered transaction."""
        return self._txns.get(txn_id, -(2**62))

    def set_label_flags(self, handle: Any, applied: bool, labelled: bool) -> None:
        self._txns.set_flags(handle, applied, labelled)

    def remember(self, txn_ids: np.ndarray, ts: np.ndarray, a: np.ndarray, b: np.ndarray, applied: np.ndarray,
                 labelled: np.ndarray) -> None:
        """Keep transactions (given in time order) that are within the horizon, for labels that arrive later."""
        keep = ts > self._s.clock - self.cfg.horizon_ms
        self._txns.add_batch(txn_ids[keep], ts[keep], a[keep], b[keep], applied[keep], labelled[keep])

    def forget_expired(self) -> None:
        """Forget remembered transactions and waiting labels older than the horizon."""
        self._tick()

    # -- state -----------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole state as a pickle-able dict of plain Python and numpy objects."""
        return {
            "format": SNAPSHOT_FORMAT,
            "config": self.cfg.model_dump(),
            "arrays": self._s.trimmed(len(self._accts), len(self._pairs)),
            "accounts": self._accts.state(),
            "pairs": self._pairs.state(),
            "txns": self._txns.state(),
            "pending": [(k, *v) for k, v in self._pending.items.items()],
        }

    @classmethod
    def restore(cls, state: dict[str, Any]) -> FeatureEngine:
        if state.get("format") != SNAPSHOT_FORMAT:
            raise InputError(
                f"feature snapshot format {state.get('format')!r} is not {SNAPSHOT_FORMAT}",
                hint="rebuild the state by replaying history",
            )
        eng = cls(FeatureConfig(**state["config"]))
        eng._s.load(state["arrays"])
        eng._accts = Registry.from_state(state["accounts"])
        eng._pairs = Registry.from_state(state["pairs"])
        eng._txns = TxnMemory.from_state(state["txns"])
        for k, f, t in state["pending"]:
            eng._pending.put(k, f, t)
        eng._s.ensure_rows(len(eng._accts), len(eng._pairs))
        return eng

    # -- offline ---------------------------------------------------------------------------------------
    def replay(
        self,
        transactions: pd.DataFrame,
        labels: pd.DataFrame | None = None,
        account_events: pd.DataFrame | None = None,
        sms_events: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Features for every transaction (one row each, input order, columns ``feature_names(cfg)``).

        The state continues from where it was and ends holding the replayed history, so a service can
        warm up by replaying and then score live traffic. Ties in ``ts_ms`` are processed in input
        order: sort by ``(ts_ms, txn_id)`` first for a canonical order.
        """
        return replay_frames(self, transactions, labels, account_events, sms_events)


__all__ = ["FeatureEngine"]
