"""Legitimate behaviour for one day: customers' everyday payments, paydays, business float management,
and legitimate behaviour that looks like fraud (large one-offs, SIM replacements, chamas, mistakes).

Amounts are integer minor units; a customer's amounts scale with their income band.
"""

from __future__ import annotations

import numpy as np

from pesaguard.simulate.batch import Batch
from pesaguard.simulate.clock import HOUR_MS, MIN_MS, DayCtx, SmsSpec
from pesaguard.simulate.codes import (
    AGENT_CH,
    AIRTIME,
    APP,
    BANK_CH,
    BANK_TRANSFER,
    BILL,
    CASH_IN,
    CASH_OUT,
    DRAIN,
    MERCHANT,
    P2P,
    POT,
    TILL,
    USSD,
)
from pesaguard.simulate.text.names import BILLERS
from pesaguard.simulate.world import BAND_AMOUNT, KES

# Share of each type in a customer's own transactions, by income band (rows) in TYPES order.
TYPE_WEIGHTS = np.array([
    [0.13, 0.19, 0.30, 0.14, 0.04, 0.17, 0.03],
    [0.12, 0.17, 0.30, 0.20, 0.06, 0.12, 0.03],
    [0.09, 0.13, 0.28, 0.27, 0.09, 0.09, 0.05],
    [0.06, 0.09, 0.24, 0.35, 0.12, 0.07, 0.07],
])
TYPE_CUM = np.cumsum(TYPE_WEIGHTS / TYPE_WEIGHTS.sum(1, keepdims=True), axis=1)
# (median KES for the lower-middle band, lognormal sigma) by type; bills and airtime have their own.
AMOUNT = {CASH_IN: (1_000, 0.9), CASH_OUT: (1_200, 0.9), P2P: (400, 1.1), MERCHANT: (300, 1.0),
          BANK_TRANSFER: (3_000, 0.9)}
AIRTIME_KES = np.array([10, 20, 30, 50, 100, 200, 250, 500, 1_000])
AIRTIME_P = np.array([0.1, 0.15, 0.05, 0.25, 0.2, 0.1, 0.05, 0.07, 0.03])
BILL_MEDIAN = np.array([b[1] for b in BILLERS])
BILL_SIGMA = np.array([b[2] for b in BILLERS])
CONTACT_P = 0.7 ** np.arange(32)


def nice_amounts(rng: np.random.Generator, kes: np.ndarray, p_round: float) -> np.ndarray:
    """Whole-shilling amounts in minor units; with probability ``p_round`` rounded the way people do."""
    step = np.select([kes < 100, kes < 1_000, kes < 10_000], [10, 50, 100], 500)
    rounded = np.maximum(np.round(kes / step) * step, step)
    out = np.where(rng.random(len(kes)) < p_round, rounded, np.maximum(np.round(kes), 1))
    return out.astype(np.int64) * KES


class Legit:
    """Generates each day's legitimate candidates; remembers paydays between days."""

    def __init__(self, n_accounts: int) -> None:
        self.last_paid = np.full(n_accounts, -100, dtype=np.int64)

    def day(self, ctx: DayCtx) -> Batch:
        parts = [self._business(ctx), self._payday(ctx), self._chama(ctx)]
        change_ts, old_dev, after_swap = self._lookalike_events(ctx)
        parts += [self._everyday(ctx, change_ts, old_dev), self._top_up(ctx), self._large_one_off(ctx),
                  self._mistaken(ctx), after_swap]
        return Batch.concat(parts)

    # -- everyday life ----------------------------------------------------------------------------

    def _everyday(self, ctx: DayCtx, change_ts: np.ndarray, old_dev: np.ndarray) -> Batch:
        w, rng, cfg = ctx.world, ctx.rng, ctx.cfg
        nc = w.n["customer"]
        active = ctx.active()[:nc]
        lam = w.activity[:nc] * ctx.multiplier * active
        in_payday = w.salaried[:nc] & (ctx.day - self.last_paid[:nc] <= 2)
        lam = np.where(in_payday, lam * cfg.world.payday_boost, lam)
        c = np.repeat(np.arange(nc), rng.poisson(lam))
        k = len(c)
        band = w.band[c]
        typ = (rng.random(k)[:, None] > TYPE_CUM[band]).sum(1).astype(np.int8)
        ts = np.where(np.isin(typ, (CASH_IN, CASH_OUT)), ctx.times(k, "agent"), ctx.times(k, "general"))
        mult = BAND_AMOUNT[band]
        med = np.zeros(k)
        sig = np.zeros(k)
        for t, (m, s) in AMOUNT.items():
            med[typ == t], sig[typ == t] = m, s
        payee = np.zeros(k, dtype=np.int64)
        # counterparties
        u = rng.random(k)
        p_known = np.where(in_payday[c], 1 - cfg.lookalikes.payday_new_counterparty_prob, 0.8)
        cp = CONTACT_P[: w.contacts.shape[1]] / CONTACT_P[: w.contacts.shape[1]].sum()
        contact = w.contacts[c, rng.choice(len(cp), size=k, p=cp)]
        stranger = rng.integers(0, nc, k)
        payee = np.where(u < p_known, contact, stranger)
        agent = w.home_agents[c, (rng.random(k) < 0.3).astype(np.int64)]
        shop = w.fav_merchants[c, rng.integers(0, 3, k)]
        far = rng.random(k) < 0.25
        shop[far] = w.offset["merchant"] + rng.integers(0, w.n["merchant"], far.sum())
        biller = w.my_billers[c, (rng.random(k) < 0.35).astype(np.int64)]
        payee = np.select([typ == CASH_IN, typ == CASH_OUT, typ == MERCHANT, typ == BILL, typ == AIRTIME,
                           typ == BANK_TRANSFER], [c, agent, shop, biller, w.offset["biller"], w.bank_of[c]], payee)
        payer = np.where(typ == CASH_IN, agent, c)
        # amounts
        kes = np.exp(rng.normal(np.log(np.maximum(med, 1) * mult), np.maximum(sig, 1e-6)))
        bill = typ == BILL
        bi = biller[bill] - w.offset["biller"]
        kes[bill] = np.exp(rng.normal(np.log(BILL_MEDIAN[bi] * mult[bill]), BILL_SIGMA[bi]))
        for j, b in enumerate(BILLERS):
            fixed = bill.copy()
            fixed[bill] = bi == j
            if b[3] and fixed.any():
                kes[fixed] = rng.choice(np.array(b[3]), size=fixed.sum())
        amount = nice_amounts(rng, kes, p_round=0.75)
        shop_pay = typ == MERCHANT
        amount[shop_pay] = nice_amounts(rng, kes[shop_pay], p_round=0.3)
        air = typ == AIRTIME
        amount[air] = rng.choice(AIRTIME_KES, size=air.sum(), p=AIRTIME_P) * KES
        amount = np.minimum(amount, cfg.world.max_amount * KES)
        # people short of money mostly send what they have rather than give up
        bal = w.balance[payer]
        short = (payer == c) & (amount > bal) & (rng.random(k) < 0.65)
        amount[short] = nice_amounts(rng, bal[short] / KES * rng.uniform(0.3, 0.9, short.sum()), 0.8)
        channel = self._channels(ctx, c, typ, payee)
        own = np.where(ts >= change_ts[c], w.device[c], old_dev[c])  # a new phone from its first use
        device = np.where(typ == CASH_IN, w.device[payer], own)
        keep = (ts >= w.opened_ms[c]) & (w.opened_ms[payee] < ts) & (payer != payee)
        keep &= ~self._blocked(ctx, payer, ts)
        return ctx.keys.make(ts=ts[keep], payer=payer[keep], payee=payee[keep], amount=amount[keep],
                             type=typ[keep], channel=channel[keep], device=device[keep])

    @staticmethod
    def _channels(ctx: DayCtx, c: np.ndarray, typ: np.ndarray, payee: np.ndarray) -> np.ndarray:
        w = ctx.world
        app = ctx.rng.random(len(c)) < np.where(w.smartphone[c], 0.85, 0.08)
        ch = np.where(app, APP, USSD)
        ch = np.where(np.isin(typ, (CASH_IN, CASH_OUT)), AGENT_CH, ch)
        return np.where((typ == MERCHANT) & w.till[payee], TILL, ch).astype(np.int8)

    @staticmethod
    def _blocked(ctx: DayCtx, payer: np.ndarray, ts: np.ndarray) -> np.ndarray:
        """Rows of SIM-swap victims after they lost their SIM: they cannot transact."""
        out = np.zeros(len(payer), dtype=bool)
        for victim, since in ctx.blocked_from.items():
            out |= (payer == victim) & (ts >= since)
        return out

    def _top_up(self, ctx: DayCtx) -> Batch:
        """People running low load cash at an agent."""
        w, rng = ctx.world, ctx.rng
        nc = w.n["customer"]
        low = (w.balance[:nc] < 800 * KES * BAND_AMOUNT[w.band[:nc]]) & ctx.active()[:nc]
        c = np.flatnonzero(low & (rng.random(nc) < 0.15 * ctx.multiplier))
        agent = w.home_agents[c, 0]
        kes = np.exp(rng.normal(np.log(1_500 * BAND_AMOUNT[w.band[c]]), 0.7))
        ts = np.maximum(ctx.times(len(c), "agent"), w.opened_ms[c])
        return ctx.keys.make(ts=ts, payer=agent, payee=c, amount=nice_amounts(rng, kes, 0.9), type=CASH_IN,
                             channel=AGENT_CH, device=w.device[agent])

    def _payday(self, ctx: DayCtx) -> Batch:
        w = ctx.world
        nc = w.n["customer"]
        due = w.salaried[:nc] & ctx.active()[:nc] & np.where(w.payday[:nc] == 0, ctx.last_dom, w.payday[:nc] == ctx.dom)
        c = np.flatnonzero(due)
        self.last_paid[c] = ctx.day
        return ctx.keys.make(ts=ctx.between(len(c), 5.5, 11), payer=w.bank_of[c], payee=c, amount=w.salary[c],
                             type=BANK_TRANSFER, channel=BANK_CH)

    def _business(self, ctx: DayCtx) -> Batch:
        """Agents rebalance float with their bank each morning; shops and billers sweep to banks at night."""
        w, rng = ctx.world, ctx.rng
        a = w.ix(1)
        bal, target = w.balance[a], w.float_target[a]
        low, high = a[bal < 0.4 * target], a[bal > 2.5 * target]
        top = (w.float_target[low] - w.balance[low]) // (1_000 * KES) * (1_000 * KES)
        excess = (w.balance[high] - w.float_target[high]) // (1_000 * KES) * (1_000 * KES)
        m = w.ix(2)
        sweep = m[(w.balance[m] > 15_000 * KES) & (rng.random(len(m)) < 0.5)]
        billers = w.ix(3)
        return Batch.concat([
            ctx.keys.make(ts=ctx.between(len(low), 6, 8), payer=w.bank_of[low], payee=low, amount=top,
                          type=BANK_TRANSFER, channel=BANK_CH),
            ctx.keys.make(ts=ctx.between(len(high), 18, 20), payer=high, payee=w.bank_of[high], amount=excess,
                          type=BANK_TRANSFER, channel=BANK_CH, device=w.device[high]),
            ctx.keys.make(ts=ctx.between(len(sweep), 21, 23.5), payer=sweep, payee=w.bank_of[sweep], amount=0,
                          mode=DRAIN, frac=rng.uniform(0.6, 0.9, len(sweep)), type=BANK_TRANSFER, channel=BANK_CH,
                          device=w.device[sweep]),
            ctx.keys.make(ts=ctx.between(len(billers), 23, 23.9), payer=billers, payee=w.bank_of[billers],
                          amount=0, mode=DRAIN, frac=0.98, type=BANK_TRANSFER, channel=BANK_CH),
        ])

    # -- legitimate look-alikes -----------------------------------------------------------------------

    def _chama(self, ctx: DayCtx) -> Batch:
        """Savings groups: many members pay one treasurer on one day, who banks the pot the next day."""
        w, rng = ctx.world, ctx.rng
        ch = w.chama[(w.chama[:, 2] == ctx.dom)] if len(w.chama) else w.chama
        ch = ch[(rng.random(len(ch)) < 0.85) & (w.opened_ms[ch[:, 0]] < ctx.t0)] if len(ch) else ch
        if not len(ch):
            return Batch.empty()
        treasurers, inv = np.unique(ch[:, 1], return_inverse=True)
        pots = ctx.keys.pots(len(treasurers))
        members = ctx.keys.make(ts=ctx.between(len(ch), 7, 22), payer=ch[:, 0], payee=ch[:, 1], amount=ch[:, 3],
                                type=P2P, channel=np.where(w.smartphone[ch[:, 0]], APP, USSD),
                                device=w.device[ch[:, 0]], pot_in=pots[inv])
        bank = ctx.keys.make(ts=ctx.between(len(treasurers), 33, 40), payer=treasurers,
                             payee=w.bank_of[treasurers], amount=0, mode=POT, pot_out=pots, frac=0.97,
                             type=BANK_TRANSFER, channel=APP, device=w.device[treasurers])
        return Batch.concat([members, bank])

    def _pick_customers(self, ctx: DayCtx, rate: float) -> np.ndarray:
        nc = ctx.world.n["customer"]
        k = ctx.rng.binomial(nc, min(rate * ctx.multiplier, 1.0))
        c = ctx.rng.choice(nc, size=k, replace=False) if k else np.zeros(0, dtype=np.int64)
        return c[(ctx.world.opened_ms[c] < ctx.t0) & ~ctx.world.mule[c]]

    def _large_one_off(self, ctx: DayCtx) -> Batch:
        """Rent, hospital, school fees, a motorbike: big payments to new counterparties, often funded just before."""
        w, rng, la = ctx.world, ctx.rng, ctx.cfg.lookalikes
        c = self._pick_customers(ctx, la.large_one_off_rate)
        k = len(c)
        kes = np.exp(rng.normal(np.log(la.large_one_off_median * BAND_AMOUNT[w.band[c]] ** 0.5), 0.8))
        amount = np.minimum(np.maximum(np.round(kes, -3), 5_000), ctx.cfg.world.max_amount) .astype(np.int64) * KES
        ts = ctx.between(k, 9, 21)
        kind = rng.choice(4, size=k, p=[0.5, 0.2, 0.15, 0.15])
        nc = w.n["customer"]
        payee = np.select(
            [kind == 0, kind == 1, kind == 2],
            [rng.integers(0, nc, k), w.offset["biller"] + rng.choice([6, 9], size=k), w.bank_of[c]],
            w.offset["merchant"] + rng.integers(0, w.n["merchant"], k))
        typ = np.select([kind == 0, kind == 1, kind == 2], [P2P, BILL, BANK_TRANSFER], MERCHANT)
        pay = ctx.keys.make(ts=ts, payer=c, payee=payee, amount=amount, type=typ, device=w.device[c],
                            channel=np.where(w.smartphone[c], APP, USSD))
        fund = rng.random(k)
        cash, bank = fund < 0.35, (fund >= 0.35) & (fund < 0.6)
        lead = (rng.uniform(0.5, 3, k) * HOUR_MS).astype(np.int64)
        pre_cash = ctx.keys.make(ts=ts[cash] - lead[cash], payer=w.home_agents[c[cash], 0], payee=c[cash],
                                 amount=amount[cash] + 200 * KES, type=CASH_IN, channel=AGENT_CH,
                                 device=w.device[w.home_agents[c[cash], 0]])
        pre_bank = ctx.keys.make(ts=ts[bank] - lead[bank], payer=w.bank_of[c[bank]], payee=c[bank],
                                 amount=amount[bank] + 200 * KES, type=BANK_TRANSFER, channel=BANK_CH)
        return Batch.concat([pre_cash, pre_bank, pay])

    def _lookalike_events(self, ctx: DayCtx) -> tuple[np.ndarray, np.ndarray, Batch]:
        """Legit SIM replacements and new phones: when each customer's device changes today, the devices
        before the change, and the cash-outs some people make after a replacement."""
        w, rng, la = ctx.world, ctx.rng, ctx.cfg.lookalikes
        nc = w.n["customer"]
        change_ts = np.full(nc, np.iinfo(np.int64).max, dtype=np.int64)
        old_dev = w.device[:nc].copy()
        swap = self._pick_customers(ctx, la.legit_sim_swap_rate)
        t_swap = ctx.between(len(swap), 8, 19)
        for c, t in zip(swap.tolist(), t_swap.tolist(), strict=True):
            ctx.events.append((c, t, "sim_swap"))
        phone = self._pick_customers(ctx, la.legit_device_change_rate)
        t_phone = ctx.between(len(phone), 7, 22)
        new_phone = swap[rng.random(len(swap)) < 0.6]
        t_new = t_swap[np.isin(swap, new_phone)] + (rng.uniform(5, 60, len(new_phone)) * MIN_MS).astype(np.int64)
        who = np.concatenate([phone, new_phone])
        when = np.concatenate([t_phone, t_new])
        who, first = np.unique(who, return_index=True)
        when = when[first]
        devs = w.new_devices(len(who))
        for c, t in zip(who.tolist(), when.tolist(), strict=True):
            ctx.events.append((c, t, "device_change"))
        change_ts[who] = when
        w.device[who] = devs
        # after a replacement, some people empty their wallet at an agent (looks like a drain)
        out = swap[rng.random(len(swap)) < la.cash_out_after_swap_prob]
        t_out = t_swap[np.isin(swap, out)] + (rng.uniform(0.5, 6, len(out)) * HOUR_MS).astype(np.int64)
        after = ctx.keys.make(ts=t_out, payer=out, payee=w.home_agents[out, 0], amount=0, mode=DRAIN,
                              frac=rng.uniform(0.5, 0.95, len(out)), type=CASH_OUT, channel=AGENT_CH,
                              device=w.device[out])
        return change_ts, old_dev, after

    def _mistaken(self, ctx: DayCtx) -> Batch:
        """A transfer to a wrong number, a genuine plea, and (usually) the money sent back."""
        w, rng, la = ctx.world, ctx.rng, ctx.cfg.lookalikes
        c = self._pick_customers(ctx, la.mistaken_transfer_rate)
        k = len(c)
        stranger = rng.integers(0, w.n["customer"], k)
        ok = (stranger != c) & (w.opened_ms[stranger] < ctx.t0)
        c, stranger = c[ok], stranger[ok]
        k = len(c)
        amount = nice_amounts(rng, np.exp(rng.normal(np.log(800), 0.8, k)), 0.9)
        ts = ctx.between(k, 7, 21)
        sent = ctx.keys.make(ts=ts, payer=c, payee=stranger, amount=amount, type=P2P, device=w.device[c],
                             channel=np.where(w.smartphone[c], APP, USSD))
        back = rng.random(k) < la.mistaken_return_prob
        t_back = ts[back] + (rng.uniform(0.7, 8, back.sum()) * HOUR_MS).astype(np.int64)
        ret = ctx.keys.make(ts=t_back, payer=stranger[back], payee=c[back], amount=amount[back], type=P2P,
                            device=w.device[stranger[back]], channel=np.where(w.smartphone[stranger[back]], APP, USSD))
        t_plea = ts + (rng.uniform(2, 30, k) * MIN_MS).astype(np.int64)
        for i in range(k):
            ctx.sms.append(SmsSpec(ts=int(t_plea[i]), recipient=int(stranger[i]), family="mistaken_plea",
                                   sender=int(c[i]), params={"amount": int(amount[i])}))
        return Batch.concat([sent, ret])
