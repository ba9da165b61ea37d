"""The ledger: decides which candidates go through and computes every balance, one day at a time.

The day is cut into time slots. In a slot each payer may spend at most the balance it had when the
slot began (money received is spendable from the next slot), so balances can never go negative
whatever the order inside the slot; acceptance and balance updates are vectorised per slot. After
the slot loop, exact before/after balances of every accepted row come from one cumulative sum per
account over the day, in time order.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from pesaguard.simulate.batch import Batch
from pesaguard.simulate.codes import CASH_OUT, CUSTOMER, DRAIN, FIXED, POT
from pesaguard.simulate.fees import fee_minor

KES = 100
MIN_DERIVED = 10 * KES  # derived (drain/pot) amounts below this are not worth moving


@dataclass
class Day:
    """The accepted transactions of one day, sorted by time, with fees and balances (minor units)."""

    rows: Batch
    fee: np.ndarray
    payer_before: np.ndarray
    payer_after: np.ndarray
    payee_before: np.ndarray
    payee_after: np.ndarray
    rejected: int


def _group_cumsum(groups: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Stable-sort order by group and the running sum of ``values`` within each group in that order."""
    order = np.argsort(groups, kind="stable")
    if not len(order):
        return order, values[:0]
    g, v = groups[order], values[order]
    cs = np.cumsum(v)
    starts = np.flatnonzero(np.r_[True, g[1:] != g[:-1]])
    base = np.repeat(cs[starts] - v[starts], np.diff(np.r_[starts, len(g)]))
    return order, cs - base


class Ledger:
    """Balances (held by the world) and fraud pots, updated slot by slot."""

    def __init__(self, balance: np.ndarray, kind: np.ndarray, slot_ms: int, max_amount: int) -> None:
        self.balance = balance
        self.customer = kind == CUSTOMER
        self.slot_ms = slot_ms
        self.max_amount = max_amount
        self.pots = np.zeros(1024, dtype=np.int64)

    def _ensure_pots(self, top: int) -> None:
        if top >= len(self.pots):
            self.pots = np.concatenate([self.pots, np.zeros(max(top + 1, len(self.pots)), dtype=np.int64)])

    def _resolve(self, b: Batch, sl: slice) -> tuple[np.ndarray, np.ndarray]:
        """Amounts and fees of the rows in a slot, deriving drain/pot amounts from current state."""
        amount = b.amount[sl].copy()
        mode, typ, payer = b.mode[sl], b.type[sl], b.payer[sl]
        cust = self.customer[payer]
        derived = mode != FIXED
        if derived.any():
            bal = np.maximum(self.balance[payer[derived]], 0)
            pot_ix = np.maximum(b.pot_out[sl][derived], 0)
            base = np.where(mode[derived] == DRAIN, bal, np.where(mode[derived] == POT, self.pots[pot_ix], 0))
            raw = np.minimum(np.minimum(b.frac[sl][derived] * base, bal), self.max_amount).astype(np.int64)
            gran = np.where(typ[derived] == CASH_OUT, 50 * KES, 10 * KES)
            amt = raw // gran * gran
            fee = fee_minor(typ[derived], amt, cust[derived])
            over = amt + fee > bal
            amt[over] = (bal[over] - fee[over]) // gran[over] * gran[over]
            amt[amt < MIN_DERIVED] = 0
            amount[derived] = amt
        return amount, fee_minor(typ, amount, cust)

    def run_day(self, b: Batch) -> Day:
        """Process one day's candidates (all inside the day) in time order; returns what was accepted."""
        b = b.take(np.argsort(b.ts, kind="stable"))
        n = len(b)
        start_bal = self.balance.copy()
        if len(b.pot_in):
            self._ensure_pots(int(max(b.pot_in.max(), b.pot_out.max())))
        amount = np.zeros(n, dtype=np.int64)
        fee = np.zeros(n, dtype=np.int64)
        ok = np.zeros(n, dtype=bool)
        slot = b.ts // self.slot_ms  # slots on epoch multiples of the slot length
        edges = np.flatnonzero(np.r_[True, slot[1:] != slot[:-1], True]) if n else np.zeros(1, dtype=np.int64)
        for i0, i1 in itertools.pairwise(edges.tolist()):
            sl = slice(i0, i1)
            amt, f = self._resolve(b, sl)
            payer, payee = b.payer[sl], b.payee[sl]
            valid = (amt > 0) & (payer != payee)
            debit = np.where(valid, amt + f, 0)
            order, cum = _group_cumsum(payer, debit)
            good = np.empty(len(debit), dtype=bool)
            good[order] = cum <= self.balance[payer[order]]
            good &= valid
            np.subtract.at(self.balance, payer[good], debit[good])
            np.add.at(self.balance, payee[good], amt[good])
            pin = b.pot_in[sl]
            into = good & (pin >= 0)
            if into.any():
                np.add.at(self.pots, pin[into], amt[into])
            amount[sl], fee[sl], ok[sl] = amt, f, good
        if n and self.balance[self.customer].min() < 0:  # pragma: no cover - the slot rule forbids it
            raise AssertionError("a customer balance went negative")
        rows = b.take(np.flatnonzero(ok))
        rows.amount = amount[ok]
        return self._balances(rows, fee[ok], start_bal, rejected=int(n - ok.sum()))

    def _balances(self, rows: Batch, fee: np.ndarray, start_bal: np.ndarray, rejected: int) -> Day:
        m = len(rows)
        acct = np.empty(2 * m, dtype=np.int64)
        delta = np.empty(2 * m, dtype=np.int64)
        acct[0::2], acct[1::2] = rows.payer, rows.payee
        delta[0::2], delta[1::2] = -(rows.amount + fee), rows.amount
        order, cum = _group_cumsum(acct, delta)
        after = np.empty(2 * m, dtype=np.int64)
        after[order] = start_bal[acct[order]] + cum
        before = after - delta
        return Day(rows, fee, before[0::2], after[0::2], before[1::2], after[1::2], rejected)
