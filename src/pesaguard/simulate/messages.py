"""The day's SMS stream: operator notifications for real transactions, service messages, personal
messages, and scam messages (targeted ones from the fraud typologies plus untargeted spam).

Only members of the SMS panel have their whole inbox recorded; every victim's scam messages and the
notifications of fraudulent payments are recorded whoever they are.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import numpy as np

from pesaguard.simulate.clock import DayCtx, SmsSpec
from pesaguard.simulate.codes import (
    AIRTIME,
    BANK,
    BANK_TRANSFER,
    BILL,
    CASH_IN,
    CASH_OUT,
    CUSTOMER,
    MERCHANT,
    P2P,
    VICTIM,
)
from pesaguard.simulate.ledger import Day
from pesaguard.simulate.text import templates_en, templates_sw
from pesaguard.simulate.text.render import SCAM_TYPE, Renderer, official, phone_str
from pesaguard.simulate.world import World

_NOTIFY_TPL = {"en": templates_en.NOTIFY, "sw": templates_sw.NOTIFY}
_PAYER_FAMILY = {P2P: "sent", MERCHANT: "paid", BILL: "bill", AIRTIME: "airtime", CASH_OUT: "withdraw",
                 BANK_TRANSFER: "bank_out"}
_SPAM_FAMILIES = ("reversal_fake", "prize", "job_loan", "impersonation", "phishing", "other", "impersonation_agent")
_SPAM_P = (0.12, 0.22, 0.18, 0.14, 0.12, 0.17, 0.05)


@dataclass
class Inbox:
    """Rendered messages of a day, as columns (msg ids are given when written)."""

    ts: list[int] = field(default_factory=list)
    sender: list[str] = field(default_factory=list)
    recipient: list[int] = field(default_factory=list)
    text: list[str] = field(default_factory=list)
    lang: list[str] = field(default_factory=list)
    label: list[str] = field(default_factory=list)
    scam_type: list[str | None] = field(default_factory=list)
    kind: list[str] = field(default_factory=list)
    txn_id: list[str | None] = field(default_factory=list)

    def add(self, ts: int, sender: str, recipient: int, text: str, lang: str, kind: str,
            scam_type: str | None = None, txn_id: str | None = None) -> None:
        self.ts.append(ts)
        self.sender.append(sender)
        self.recipient.append(recipient)
        self.text.append(text)
        self.lang.append(lang)
        self.label.append("scam" if kind == "scam" else "genuine")
        self.scam_type.append(scam_type)
        self.kind.append(kind)
        self.txn_id.append(txn_id)


class Messenger:
    """Turns a processed day into SMS; keeps scam messages whose transaction is not decided yet."""

    def __init__(self, world: World, sender_id: str, seed: int) -> None:
        self.w = world
        self.sender_id = sender_id
        self.brand = "M-PESA" if sender_id.replace("-", "").upper() == "MPESA" else sender_id
        self.seed = seed
        self.waiting: list[SmsSpec] = []

    def _lang(self, rng: random.Random, account: int, mix: float) -> str:
        sw = bool(self.w.sw[account])
        return ("sw" if sw else "en") if rng.random() >= mix else ("en" if sw else "sw")

    def day(self, ctx: DayCtx, day: Day, txn_ids: list[str], decided: dict[int, str | None]) -> Inbox:
        rng = random.Random(self.seed * 1_000_003 + ctx.day)
        r = Renderer(rng, self.brand)
        box = Inbox()
        self._notifications(box, r, day, txn_ids)
        self._everyday(box, r, ctx)
        specs, self.waiting = self.waiting + ctx.sms, []
        for s in specs:
            if s.link_key is not None and s.link_key not in decided:
                self.waiting.append(s)  # its payment falls on a later day
                continue
            txn = decided.get(s.link_key) if s.link_key is not None else None
            self._spec(box, r, s, txn)
        return box

    def _notifications(self, box: Inbox, r: Renderer, day: Day, txn_ids: list[str]) -> None:
        w, rows = self.w, day.rows
        cust_payer = w.kind[rows.payer] == CUSTOMER
        cust_payee = w.kind[rows.payee] == CUSTOMER
        to_payer = cust_payer & (w.panel[rows.payer] | (rows.role == VICTIM))
        to_payee = cust_payee & w.panel[rows.payee]
        todo = np.flatnonzero(to_payer | to_payee)
        if not len(todo):
            return
        date = r.local_dt(int(rows.ts[0]))[0]  # a day's rows share their local date
        minutes = ((rows.ts[todo] + 3 * 3_600_000) % 86_400_000) // 60_000
        clock = [f"{(h % 12) or 12}:{m:02d} {'AM' if h < 12 else 'PM'}" for h, m in zip(*divmod(minutes, 60), strict=True)]
        rand = r.rng.randrange
        for j, i in enumerate(todo.tolist()):
            typ = int(rows.type[i])
            for payer_side in (True, False):
                if payer_side:
                    if not to_payer[i]:
                        continue
                    me, cp, bal = int(rows.payer[i]), int(rows.payee[i]), int(day.payer_after[i])
                    family = _PAYER_FAMILY.get(typ)
                else:
                    if not to_payee[i]:
                        continue
                    me, cp, bal = int(rows.payee[i]), int(rows.payer[i]), int(day.payee_after[i])
                    family = "received_bank" if w.kind[cp] == BANK else {P2P: "received", CASH_IN: "deposit"}.get(typ)
                if family is None:
                    continue
                lang = "sw" if w.sw[me] else "en"
                options = _NOTIFY_TPL[lang][family]
                text = options[rand(len(options))].format(
                    code=txn_ids[i], amt=official(int(rows.amount[i])), cp=w.display[cp], cp_phone=w.phone(cp),
                    date=date, time=clock[j], brand=self.brand, bal=official(bal), fee=official(int(day.fee[i])),
                    limit=official(max(0, 50_000_000 - int(rows.amount[i]))),
                    agent_no=f"{int(w.msisdn[cp]) % 1_000_000:06d}", acct=f"{(me * 7919 + cp * 104_729) % 10_000_000:07d}")
                box.add(int(rows.ts[i]) + rand(2_000, 40_000), self.sender_id, me, text, lang, "notification",
                        txn_id=txn_ids[i])

    def _everyday(self, box: Inbox, r: Renderer, ctx: DayCtx) -> None:
        w, cfg, rng = self.w, ctx.cfg.sms, ctx.rng
        panel = np.flatnonzero(w.panel & ctx.active() & (w.opened_ms < ctx.t0))
        if not len(panel):
            return
        for kind, rate in (("personal", cfg.personal_rate), ("service", cfg.service_rate), ("spam", cfg.spam_rate)):
            who = np.repeat(panel, rng.poisson(rate, len(panel)))
            times = ctx.times(len(who))
            for me, ts in zip(who.tolist(), times.tolist(), strict=True):
                if kind == "personal":
                    friend = int(w.contacts[me, r.rng.randrange(w.contacts.shape[1])])
                    lang = self._lang(r.rng, me, 0.25)
                    box.add(ts, phone_str(int(w.msisdn[friend]), r.rng), me, r.personal(lang, ts), lang, "personal")
                elif kind == "service":
                    lang = "sw" if w.sw[me] else "en"
                    sender = self.sender_id if r.rng.random() < 0.6 else r.rng.choice(("KCB", "EQUITY", "COOP", "NCBA"))
                    box.add(ts, sender, me, r.service(lang, ts), lang, "notification")
                else:
                    family = r.rng.choices(_SPAM_FAMILIES, _SPAM_P)[0]
                    self._spec(box, r, SmsSpec(ts=ts, recipient=me, family=family, params={}), None)

    def _spec(self, box: Inbox, r: Renderer, s: SmsSpec, txn: str | None) -> None:
        w = self.w
        phone = int(w.msisdn[s.sender]) if s.sender is not None else r.random_phone()
        if s.family == "mistaken_plea":
            lang = self._lang(r.rng, s.recipient, 0.3)
            text = r.personal(lang, s.ts, "mistaken_plea", s.params.get("amount"))
            box.add(s.ts, phone_str(phone, r.rng), s.recipient, text, lang, "personal")
            return
        lang = "sw" if r.rng.random() < 0.45 else "en"
        params = dict(s.params)
        if "amount" not in params and s.family in ("reversal_fake", "reversal_plea", "impersonation",
                                                   "impersonation_agent", "other"):
            params["amount"] = r.rng.choice((500, 1_000, 1_500, 2_000, 2_500, 3_000, 4_500, 5_000, 7_000)) * 100
        if "fee" not in params and s.family in ("prize", "job_loan"):
            params["fee"] = r.rng.choice((200, 300, 500, 750, 1_000, 1_500, 2_000)) * 100
        text = r.scam(s.family, lang, s.ts, phone if s.family != "phishing" or r.rng.random() < 0.7 else None, params)
        box.add(s.ts, phone_str(phone, r.rng), s.recipient, text, lang, "scam", SCAM_TYPE[s.family], txn)
