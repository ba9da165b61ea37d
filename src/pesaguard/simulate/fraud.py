"""Fraud for one day: each typology turns its config into events, candidate rows and scam SMS.

Every fraudulent row carries its typology code, its event id and its role (victim payment, mule
move, cash-out), which later decide its label. Amounts the fraudster cannot know in advance (a
drained balance, the money collected so far) are left to the ledger as DRAIN/POT rows.
"""

from __future__ import annotations

import numpy as np

from pesaguard.simulate.batch import Batch, Rows
from pesaguard.simulate.clock import HOUR_MS, MIN_MS, DayCtx, SmsSpec
from pesaguard.simulate.codes import (
    AGENT_CH,
    AIRTIME,
    APP,
    BANK_CH,
    BANK_TRANSFER,
    CASH_IN,
    CASH_OUT,
    CASH_OUT_ROLE,
    DRAIN,
    FIXED,
    MERCHANT,
    MULE_MOVE,
    P2P,
    POT,
    TILL,
    USSD,
    VICTIM,
)
from pesaguard.simulate.legit import nice_amounts
from pesaguard.simulate.typologies import TypologySet, typology_code
from pesaguard.simulate.world import KES


class Fraud:
    """Runs the enabled typologies day by day and remembers events that span days."""

    def __init__(self, typologies: TypologySet, n_accounts: int) -> None:
        self.t = typologies
        self.event_t0 = np.zeros(0, dtype=np.int64)
        self.comp_agent_until = np.full(n_accounts, -1, dtype=np.int64)
        self.comp_agent_event = np.full(n_accounts, -1, dtype=np.int64)
        self.comp_merchant_until = np.full(n_accounts, -1, dtype=np.int64)
        self.comp_merchant_event = np.full(n_accounts, -1, dtype=np.int64)
        self.swap_until = np.full(n_accounts, -1, dtype=np.int64)
        self.swap_till = np.full(n_accounts, -1, dtype=np.int64)
        self.swap_event = np.full(n_accounts, -1, dtype=np.int64)

    # -- shared helpers ---------------------------------------------------------------------------

    def _events(self, ctx: DayCtx, t0: np.ndarray | list[int]) -> np.ndarray:
        t0 = np.asarray(t0, dtype=np.int64)
        ids = ctx.keys.events(len(t0))
        self.event_t0 = np.concatenate([self.event_t0, t0])
        return ids

    @staticmethod
    def _count(ctx: DayCtx, rate: float, intensity: float, population: int, per: float = 1e6) -> int:
        return int(ctx.rng.poisson(rate * intensity * population / per * ctx.multiplier))

    @staticmethod
    def _victims(ctx: DayCtx, k: int, min_kes: float = 0) -> np.ndarray:
        """``k`` distinct customers worth robbing (open, not mules, enough money), richer ones likelier."""
        w = ctx.world
        nc = w.n["customer"]
        ok = (w.opened_ms[:nc] < ctx.t0) & ~w.mule[:nc] & (w.balance[:nc] >= min_kes * KES)
        ok[list(ctx.blocked_from)] = False
        pool = np.flatnonzero(ok)
        if k == 0 or not len(pool):
            return np.zeros(0, dtype=np.int64)
        p = np.sqrt(w.balance[pool].astype(np.float64) + 1)
        return ctx.rng.choice(pool, size=min(k, len(pool)), replace=False, p=p / p.sum())

    @staticmethod
    def _targets(ctx: DayCtx, k: int) -> np.ndarray:
        """People a scammer texts: any open customer."""
        w = ctx.world
        c = ctx.rng.integers(0, w.n["customer"], k)
        return c[(w.opened_ms[c] < ctx.t0) & ~w.mule[c]]

    @staticmethod
    def _mules(ctx: DayCtx, k: int) -> np.ndarray:
        w = ctx.world
        pool = np.flatnonzero(w.mule & (w.opened_ms < ctx.t0))
        if not len(pool):
            pool = np.flatnonzero(w.mule)
        return ctx.rng.choice(pool, size=k, replace=True)

    def _agent_for_cash_out(self, ctx: DayCtx) -> int:
        w = ctx.world
        agents = w.ix(1)
        weight = np.where(self.comp_agent_until[agents] >= ctx.day, self.t.compromised_agent.mule_cash_out_pull, 1.0)
        return int(ctx.rng.choice(agents, p=weight / weight.sum()))

    @staticmethod
    def _channel(ctx: DayCtx, c: int) -> int:
        return APP if ctx.rng.random() < (0.85 if ctx.world.smartphone[c] else 0.08) else USSD

    def _cash_out(self, ctx: DayCtx, rows: Rows, typ: int, ev: int, mule: int, pot: int, t: int,
                  splits: int = 1, bank_exit: bool = False) -> None:
        """A mule empties a pot: one or more agent withdrawals (or a bank transfer) shortly after."""
        fracs = ctx.rng.dirichlet(np.ones(splits)) * ctx.rng.uniform(0.85, 0.98)
        for i, f in enumerate(fracs):
            t += int(ctx.rng.uniform(2, 40) * MIN_MS) if i else 0
            if bank_exit and i == splits - 1:
                rows.add(ts=t, payer=mule, payee=int(ctx.world.bank_of[mule]), type=BANK_TRANSFER, channel=APP,
                         device=int(ctx.world.device[mule]), typology=typ, event=ev, mode=POT, frac=f,
                         pot_out=pot, role=CASH_OUT_ROLE)
            else:
                rows.add(ts=t, payer=mule, payee=self._agent_for_cash_out(ctx), type=CASH_OUT, channel=AGENT_CH,
                         device=int(ctx.world.device[mule]), typology=typ, event=ev, mode=POT, frac=f,
                         pot_out=pot, role=CASH_OUT_ROLE)

    # -- the day ----------------------------------------------------------------------------------

    def day(self, ctx: DayCtx, legit: Batch) -> Batch:
        """Fraud candidates for the day; may also divert some of ``legit`` (modified in place)."""
        rows = Rows(ctx.keys)
        active_c = int(ctx.active()[: ctx.world.n["customer"]].sum())
        t = self.t
        if t.sim_swap_ato.active(ctx.day):
            self._sim_swap(ctx, rows, active_c)
        for cfg, fn in ((t.reversal_scam, self._reversal), (t.prize_scam, self._prize),
                        (t.impersonation_scam, self._impersonation)):
            if cfg.active(ctx.day):
                fn(ctx, rows, self._count(ctx, cfg.rate, cfg.intensity, active_c))
        if t.mule_network.active(ctx.day):
            for _ in range(self._count(ctx, t.mule_network.rate, t.mule_network.intensity, active_c)):
                self._mule_ring(ctx, rows)
        self._compromised_agents(ctx, rows, legit)
        self._compromised_merchants(ctx, rows)
        self._till_swap(ctx, rows, legit)
        return rows.batch()

    def _sim_swap(self, ctx: DayCtx, rows: Rows, active_c: int) -> None:
        cfg, rng, w = self.t.sim_swap_ato, ctx.rng, ctx.world
        typ = typology_code(cfg.name)
        victims = self._victims(ctx, self._count(ctx, cfg.rate, cfg.intensity, active_c), cfg.min_victim_balance)
        t0s = ctx.between(len(victims), 6, 23)
        for v, t0, ev in zip(victims.tolist(), t0s.tolist(), self._events(ctx, t0s).tolist(), strict=True):
            ctx.blocked_from[v] = t0
            fraud_dev = int(w.new_devices(1)[0])
            ctx.events.append((v, t0, "sim_swap"))
            ctx.events.append((v, t0 + int(rng.uniform(1, 6) * MIN_MS), "device_change"))
            back = t0 + int(rng.uniform(*cfg.recovery_days) * 86_400_000)
            ctx.events.append((v, back, "sim_swap"))
            ctx.events.append((v, back + int(rng.uniform(5, 90) * MIN_MS), "device_change"))
            mules = self._mules(ctx, int(rng.integers(cfg.mules_per_event[0], cfg.mules_per_event[1] + 1)))
            pots = ctx.keys.pots(len(mules))
            n_drain = 1 + min(int(rng.poisson(cfg.drains_mean)), cfg.max_drains - 1)
            t = t0 + int(ctx.minutes(cfg.first_drain_delay_min, 1)[0])
            slot_ms = ctx.cfg.world.slot_minutes * MIN_MS
            last_to, same_slot_used, prev_slot, first_key = {}, 0.0, -1, None
            airtime_at = int(rng.integers(0, n_drain)) if rng.random() < cfg.airtime_drain_prob else -1
            for i in range(n_drain):
                if i:
                    t += int(ctx.minutes(cfg.drain_gap_min, 1)[0])
                f = rng.uniform(0.45, 0.8) if i < n_drain - 1 else rng.uniform(*cfg.drain_share)
                same_slot_used = same_slot_used if t // slot_ms == prev_slot else 0.0
                frac = (1 - same_slot_used) * f
                prev_slot = t // slot_ms
                m = i % len(mules)
                common = dict(ts=t, payer=v, device=fraud_dev, typology=typ, event=ev, role=VICTIM,
                              channel=APP if rng.random() < 0.7 else USSD)
                if i == airtime_at:
                    amt = int(rng.choice([500, 1_000, 2_000, 3_000])) * KES
                    key = rows.add(payee=w.offset["biller"], type=AIRTIME, amount=amt, **common)
                else:
                    key = rows.add(payee=int(mules[m]), type=P2P, mode=DRAIN, frac=frac, pot_in=int(pots[m]), **common)
                    last_to[m] = t
                    same_slot_used += frac
                first_key = key if first_key is None else first_key
            for m, t_last in last_to.items():
                delay = int(ctx.minutes(cfg.cash_out_delay_min, 1)[0]) + slot_ms
                self._cash_out(ctx, rows, typ, ev, int(mules[m]), int(pots[m]), t_last + delay,
                               splits=int(rng.integers(1, 3)))
            if rng.random() < cfg.phishing_sms_prob:
                ts = max(ctx.t0, t0 - int(rng.uniform(0.3, 8) * HOUR_MS))
                ctx.sms.append(SmsSpec(ts=ts, recipient=v, family="phishing", link_key=first_key,
                                       sender=int(mules[0]) if rng.random() < 0.5 else None))

    def _scam_payment(self, ctx: DayCtx, rows: Rows, typ: int, ev: int, victim: int, to: int, amount: int,
                      t: int, pot: int, via_till: bool = False) -> int:
        return rows.add(ts=t, payer=victim, payee=to, amount=amount, type=MERCHANT if via_till else P2P,
                        channel=TILL if via_till else self._channel(ctx, victim), device=int(ctx.world.device[victim]),
                        typology=typ, event=ev, role=VICTIM, pot_in=pot)

    def _reversal(self, ctx: DayCtx, rows: Rows, k: int) -> None:
        cfg, rng, w = self.t.reversal_scam, ctx.rng, ctx.world
        typ = typology_code(cfg.name)
        targets = self._targets(ctx, k)
        t0s = ctx.between(len(targets), 7, 22)
        claimed = nice_amounts(rng, np.exp(rng.normal(np.log(cfg.claimed_amount_median), cfg.claimed_amount_sigma,
                                                      len(targets))), 0.85)
        for v, t0, amt in zip(targets.tolist(), t0s.tolist(), claimed.tolist(), strict=True):
            scammer = int(self._mules(ctx, 1)[0])
            key = None
            t_plea = t0 + int(ctx.minutes(cfg.plea_delay_min, 1)[0])
            if rng.random() < cfg.success_prob and w.balance[v] >= amt + 60 * KES:
                ev = int(self._events(ctx, [t0])[0])
                pot = int(ctx.keys.pots(1)[0])
                t_pay = t_plea + int(ctx.minutes(cfg.pay_delay_min, 1)[0])
                key = self._scam_payment(ctx, rows, typ, ev, v, scammer, amt, t_pay, pot)
                if rng.random() < cfg.cash_out_prob:
                    delay = int(ctx.minutes(cfg.cash_out_delay_min, 1)[0]) + ctx.cfg.world.slot_minutes * MIN_MS
                    self._cash_out(ctx, rows, typ, ev, scammer, pot, t_pay + delay)
            params = {"amount": amt}
            ctx.sms.append(SmsSpec(ts=t0, recipient=v, family="reversal_fake", sender=scammer, params=params,
                                   link_key=key))
            ctx.sms.append(SmsSpec(ts=t_plea, recipient=v, family="reversal_plea", sender=scammer, params=params,
                                   link_key=key))

    def _prize(self, ctx: DayCtx, rows: Rows, k: int) -> None:
        cfg, rng, w = self.t.prize_scam, ctx.rng, ctx.world
        typ = typology_code(cfg.name)
        tills = np.flatnonzero(w.fraud_till & (w.opened_ms < ctx.t0))
        targets = self._targets(ctx, k)
        for v, t0 in zip(targets.tolist(), ctx.between(len(targets), 7, 21).tolist(), strict=True):
            family = "job_loan" if rng.random() < cfg.job_loan_share else "prize"
            via_till = bool(len(tills)) and rng.random() < cfg.till_share
            to = int(rng.choice(tills)) if via_till else int(self._mules(ctx, 1)[0])
            fee = int(nice_amounts(rng, np.exp(rng.normal(np.log(cfg.fee_median), cfg.fee_sigma, 1)), 0.9)[0])
            params = {"fee": fee, "till": int(w.msisdn[to]) if via_till else None}
            key = None
            if rng.random() < cfg.success_prob and w.balance[v] >= fee + 60 * KES:
                ev = int(self._events(ctx, [t0])[0])
                pot = int(ctx.keys.pots(1)[0])
                t_pay = t0 + int(ctx.minutes(cfg.pay_delay_min, 1)[0])
                key = self._scam_payment(ctx, rows, typ, ev, v, to, fee, t_pay, pot, via_till)
                if rng.random() < cfg.second_fee_prob:
                    t_pay += int(rng.uniform(1, 30) * HOUR_MS)
                    fee2 = fee * int(rng.integers(1, 4))
                    self._scam_payment(ctx, rows, typ, ev, v, to, fee2, t_pay, pot, via_till)
                    ctx.sms.append(SmsSpec(ts=t_pay - int(rng.uniform(5, 60) * MIN_MS), recipient=v, family=family,
                                           sender=None if via_till else to, params={"fee": fee2, **params},
                                           link_key=key))
                delay = int(ctx.minutes(cfg.cash_out_delay_min, 1)[0]) + ctx.cfg.world.slot_minutes * MIN_MS
                if via_till:
                    rows.add(ts=t_pay + delay, payer=to, payee=int(w.bank_of[to]), type=BANK_TRANSFER, channel=BANK_CH,
                             device=int(w.device[to]), typology=typ, event=ev, mode=POT, frac=0.95, pot_out=pot,
                             role=CASH_OUT_ROLE)
                else:
                    self._cash_out(ctx, rows, typ, ev, to, pot, t_pay + delay)
            ctx.sms.append(SmsSpec(ts=t0, recipient=v, family=family, sender=None if via_till else to,
                                   params=params, link_key=key))

    def _impersonation(self, ctx: DayCtx, rows: Rows, k: int) -> None:
        cfg, rng, w = self.t.impersonation_scam, ctx.rng, ctx.world
        typ = typology_code(cfg.name)
        targets = self._targets(ctx, k)
        for v, t0 in zip(targets.tolist(), ctx.between(len(targets), 7, 21).tolist(), strict=True):
            family = "impersonation_agent" if rng.random() < cfg.agent_share else "impersonation"
            scammer = int(self._mules(ctx, 1)[0])
            amt = int(nice_amounts(rng, np.exp(rng.normal(np.log(cfg.amount_median), cfg.amount_sigma, 1)), 0.85)[0])
            key = None
            if rng.random() < cfg.success_prob and w.balance[v] >= amt + 60 * KES:
                ev = int(self._events(ctx, [t0])[0])
                pot = int(ctx.keys.pots(1)[0])
                t_pay = t0 + int(ctx.minutes(cfg.pay_delay_min, 1)[0])
                key = self._scam_payment(ctx, rows, typ, ev, v, scammer, amt, t_pay, pot)
                delay = int(ctx.minutes(cfg.cash_out_delay_min, 1)[0]) + ctx.cfg.world.slot_minutes * MIN_MS
                self._cash_out(ctx, rows, typ, ev, scammer, pot, t_pay + delay)
            ctx.sms.append(SmsSpec(ts=t0, recipient=v, family=family, sender=scammer, params={"amount": amt},
                                   link_key=key))

    def _mule_ring(self, ctx: DayCtx, rows: Rows) -> None:
        cfg, rng, w = self.t.mule_network, ctx.rng, ctx.world
        typ = typology_code(cfg.name)
        slot_ms = ctx.cfg.world.slot_minutes * MIN_MS
        t0 = int(ctx.between(1, 6, 20)[0])
        ev = int(self._events(ctx, [t0])[0])
        n_layers = int(rng.integers(cfg.layers[0], cfg.layers[1] + 1))
        ring = self._mules(ctx, 1 + n_layers)
        pots = ctx.keys.pots(1 + n_layers)
        victims = self._victims(ctx, int(rng.integers(cfg.victims[0], cfg.victims[1] + 1)), 300)
        span = rng.uniform(*cfg.collect_hours) * HOUR_MS
        times = np.sort(t0 + rng.uniform(0, span, len(victims)).astype(np.int64))
        amounts = nice_amounts(rng, np.exp(rng.normal(np.log(cfg.amount_median), cfg.amount_sigma, len(victims))), 0.8)
        pitch = rng.random() < 0.7  # most rings advertise by SMS (fake goods, "investments")
        for v, t, a in zip(victims.tolist(), times.tolist(), amounts.tolist(), strict=True):
            key = self._scam_payment(ctx, rows, typ, ev, v, int(ring[0]), a, t, int(pots[0]))
            if pitch and rng.random() < 0.6:
                ctx.sms.append(SmsSpec(ts=t - int(rng.uniform(10, 600) * MIN_MS), recipient=v, family="other",
                                       sender=int(ring[0]), params={"amount": a}, link_key=key))
        t = int(times[-1]) if len(times) else t0
        for i in range(n_layers):
            t += int(ctx.minutes(cfg.layer_delay_min, 1)[0]) + slot_ms
            rows.add(ts=t, payer=int(ring[i]), payee=int(ring[i + 1]), type=P2P, channel=APP,
                     device=int(w.device[ring[i]]), typology=typ, event=ev, mode=POT, frac=0.95,
                     pot_out=int(pots[i]), pot_in=int(pots[i + 1]), role=MULE_MOVE)
        t += int(ctx.minutes(cfg.cash_out_delay_min, 1)[0]) + slot_ms
        self._cash_out(ctx, rows, typ, ev, int(ring[-1]), int(pots[-1]), t,
                       splits=int(rng.integers(cfg.cash_out_agents[0], cfg.cash_out_agents[1] + 1)),
                       bank_exit=bool(rng.random() < cfg.bank_exit_prob))

    def _compromised_agents(self, ctx: DayCtx, rows: Rows, legit: Batch) -> None:
        cfg, rng, w = self.t.compromised_agent, ctx.rng, ctx.world
        typ = typology_code(cfg.name)
        agents = w.ix(1)
        if cfg.active(ctx.day):
            fresh = agents[(self.comp_agent_until[agents] < ctx.day)
                           & (rng.random(len(agents)) < cfg.rate * cfg.intensity / 1000)]
            self.comp_agent_until[fresh] = ctx.day + rng.integers(cfg.window_days[0], cfg.window_days[1] + 1, len(fresh))
            self.comp_agent_event[fresh] = self._events(ctx, np.full(len(fresh), ctx.t0))
        bad = self.comp_agent_until >= ctx.day
        visits = np.flatnonzero(((legit.type == CASH_OUT) & bad[legit.payee]) | ((legit.type == CASH_IN) & bad[legit.payer]))
        visits = visits[rng.random(len(visits)) < cfg.victim_prob]
        for i in visits.tolist():
            agent = int(legit.payee[i] if legit.type[i] == CASH_OUT else legit.payer[i])
            cust = int(legit.payer[i] if legit.type[i] == CASH_OUT else legit.payee[i])
            t = int(legit.ts[i]) + int(ctx.minutes(cfg.delay_min, 1)[0]) + ctx.cfg.world.slot_minutes * MIN_MS
            dev = int(w.device[agent] if rng.random() < 0.5 else w.device[cust])
            rows.add(ts=t, payer=cust, payee=agent, type=CASH_OUT, channel=AGENT_CH, device=dev, typology=typ,
                     event=int(self.comp_agent_event[agent]), mode=DRAIN, frac=rng.uniform(*cfg.withdraw_share),
                     role=VICTIM)

    def _compromised_merchants(self, ctx: DayCtx, rows: Rows) -> None:
        cfg, rng, w = self.t.compromised_merchant, ctx.rng, ctx.world
        typ = typology_code(cfg.name)
        shops = w.ix(2)
        shops = shops[~w.fraud_till[shops]]
        if cfg.active(ctx.day):
            fresh = shops[(self.comp_merchant_until[shops] < ctx.day)
                          & (rng.random(len(shops)) < cfg.rate * cfg.intensity / 1000)]
            self.comp_merchant_until[fresh] = ctx.day + rng.integers(cfg.window_days[0], cfg.window_days[1] + 1, len(fresh))
            self.comp_merchant_event[fresh] = self._events(ctx, np.full(len(fresh), ctx.t0))
        for m in np.flatnonzero(self.comp_merchant_until >= ctx.day).tolist():
            k = int(rng.integers(cfg.payments_per_day[0], cfg.payments_per_day[1] + 1))
            amounts = nice_amounts(rng, np.exp(rng.normal(np.log(cfg.amount_median), cfg.amount_sigma, k)), 0.4)
            payers = self._victims(ctx, k, float(amounts.max()) / KES)
            devices = w.new_devices(2)
            for p, a, t in zip(payers.tolist(), amounts.tolist(), ctx.times(len(payers)).tolist(), strict=True):
                rows.add(ts=t, payer=p, payee=m, amount=a, type=MERCHANT, channel=APP,
                         device=int(devices[int(rng.integers(0, 2))]), typology=typ,
                         event=int(self.comp_merchant_event[m]), role=VICTIM)

    def _till_swap(self, ctx: DayCtx, rows: Rows, legit: Batch) -> None:
        """Divert some of today's payments to hit shops onto the fraudster's till (edits ``legit``)."""
        cfg, rng, w = self.t.till_swap, ctx.rng, ctx.world
        typ = typology_code(cfg.name)
        shops = w.ix(2)
        shops = shops[~w.fraud_till[shops] & w.till[shops]]
        tills = np.flatnonzero(w.fraud_till & (w.opened_ms < ctx.t0))
        if cfg.active(ctx.day) and len(tills):
            fresh = shops[(self.swap_until[shops] < ctx.day) & (rng.random(len(shops)) < cfg.rate * cfg.intensity / 1000)]
            self.swap_until[fresh] = ctx.day + rng.integers(cfg.duration_days[0], cfg.duration_days[1] + 1, len(fresh))
            self.swap_till[fresh] = rng.choice(tills, size=len(fresh))
            self.swap_event[fresh] = self._events(ctx, np.full(len(fresh), ctx.t0))
        hit = self.swap_until >= ctx.day
        rows_hit = np.flatnonzero((legit.type == MERCHANT) & hit[legit.payee] & (legit.mode == FIXED) & (legit.typology == 0))
        rows_hit = rows_hit[rng.random(len(rows_hit)) < cfg.diverted_share]
        shop = legit.payee[rows_hit]
        legit.payee[rows_hit] = self.swap_till[shop]
        legit.typology[rows_hit] = typ
        legit.event[rows_hit] = self.swap_event[shop]
        legit.role[rows_hit] = VICTIM
        for fake_till in np.unique(self.swap_till[shop]).tolist():
            ev = int(self.swap_event[shop[self.swap_till[shop] == fake_till][0]])
            t = int(ctx.between(1, 21, 23.5)[0])
            rows.add(ts=t, payer=fake_till, payee=int(w.bank_of[fake_till]), type=BANK_TRANSFER, channel=BANK_CH,
                     device=int(w.device[fake_till]), typology=typ, event=ev, mode=DRAIN, frac=cfg.sweep_share,
                     role=CASH_OUT_ROLE)



