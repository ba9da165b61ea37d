"""Genuine mobile-money notifications for every operator and kind the format library knows.

Each message is internally consistent, as a real one is: the id has the operator's shape, the new
balance covers the money received, the fee follows a tariff-like step of the amount. Around the
fixed core, what varies in real traffic varies here: names, amounts, dates, number formats, promo
tails, line breaks, and masked names and numbers (anonymised data sets). Family ``a`` (training) and
family ``b`` (held-out evaluation) use different promo tails, masks and phrasings of the optional parts.
"""

from __future__ import annotations

import random
from collections.abc import Callable

from pesaguard.sms.generate.common import STYLES, Slots, wrap

# Promo and advice tails after the core, per brand and family (written for pesaguard).
TAILS: dict[str, dict[str, tuple[str, ...]]] = {
    "mpesa_ke": {
        "a": ("", "", "Separate personal and business funds through Pochi la Biashara on *334#.",
              "Earn interest daily on your savings, Dial *334#.", "Pay bills and buy goods with M-PESA at no extra cost.",
              "Download the M-PESA app to transact on the go.", "Save & get a loan on M-Shwari."),
        "b": ("", "", "Use Fuliza M-PESA to complete your payments when short. Dial *234#.", "PIN YAKO SIRI YAKO.",
              "Safaricom only calls you from 0722000000.", "Get Bonga Points every time you transact.",
              "Start investing from Ksh100 on the M-PESA app."),
    },
    "mpesa_tz": {
        "a": ("", "Lipa kwa M-Pesa bila makato.", "Pakua M-Pesa App kufanya miamala kwa urahisi.",
              "Vodacom haitakupigia kuomba namba yako ya siri."),
        "b": ("", "Tumia M-Pesa kulipa bili zako popote.", "Kwa msaada piga 100 bure.", "Weka akiba na M-Pawa."),
    },
    "mtn": {
        "a": ("", "", "Dial *165# to check your balance.", "Pay merchants for free with MoMoPay.",
              "Download the MoMo app for more.", "Thank you for using MTN Mobile Money."),
        "b": ("", "", "Never share your PIN with anyone.", "Save and borrow with MoKash on *165#.",
              "Y'ello! Send money across borders with MoMo.", "Get free MoMo statements on the app."),
    },
    "airtel": {
        "a": ("", "", "Thank you for using Airtel Money.", "Dial *185# for more services.",
              "Pay bills with Airtel Money at no charge."),
        "b": ("", "", "Never share your PIN.", "Download the Airtel Money app.", "Borrow instantly on Airtel Money."),
    },
    "tz_sw": {
        "a": ("", "Asante kwa kutumia huduma zetu.", "Lipa bili kwa urahisi zaidi.", "Usitoe namba yako ya siri."),
        "b": ("", "Karibu tena.", "Tuma pesa bure kwa mtandao wote.", "Pakua App yetu sasa."),
    },
    "fr": {
        "a": ("", "Merci d'utiliser MTN Mobile Money.", "Composez *126# pour votre solde."),
        "b": ("", "Ne partagez jamais votre code secret.", "Téléchargez l'application MoMo."),
    },
    "rw": {
        "a": ("", "Murakoze gukoresha MoMo.", "Kanda *182# kugira ngo urebe amafaranga."),
        "b": ("", "Ntuzigere usangiza umubare wawe w'ibanga.", "Koresha MoMo Pay."),
    },
}

Render = Callable[[Slots, str, random.Random], str]


def _tail(brand: str, family: str, rng: random.Random) -> str:
    """A promo tail: after a space or a line break (glued straight after the core's full stop, as operators
    sometimes print it, when the core ends with one: see :func:`_join`)."""
    t = rng.choice(TAILS[brand][family])
    return (rng.choice((" ", "\x00", "\n")) + t) if t else ""


def _mpesa_ke(s: Slots, fam: str, r: random.Random) -> str:
    c = "KES"
    t = s.when()
    code, date, time = s.mpesa_id(t), s.dmy_short(t), s.ampm(t)
    m = lambda v: s.money(c, v, "ksh")  # noqa: E731
    kind = r.choices(("received", "sent", "paid", "bill", "withdraw", "deposit", "airtime", "received_bank",
                      "fuliza", "reversal"), (22, 20, 14, 10, 10, 5, 8, 5, 3, 1))[0]
    sw = r.random() < (0.12 if fam == "a" else 0.18)
    dot = r.choice((". ", ".", " "))
    if kind in ("received", "received_bank"):
        amt = s.amount(c, "p2p")
        bal = m(s.balance(c, amt))
        who = f"{s.person()} {s.phone(r.choice(('local', 'intl', 'masked_mid')))}" if kind == "received" else \
            f"{s.bank()} {s.digits(5, 6)}" if r.random() < 0.5 else f"{s.digits(6, 6)} - {s.bank()} MONEY TRANSFER"
        if sw:
            core = f"{code} Imethibitishwa.Umepokea {m(amt)} kutoka {who} mnamo {date} saa {time} Salio jipya la M-PESA ni {bal}."
        else:
            core = f"{code} Confirmed.{r.choice(('', ' '))}You have received {m(amt)} from {who} on {date} at {time}{dot}New M-PESA balance is {bal}."
    elif kind == "fuliza":
        amt = s.amount(c, "small")
        fee = max(100, amt // 100)
        core = (f"{code} Confirmed. Fuliza M-PESA amount is {m(amt)}. Access Fee charged {m(fee)}. Total Fuliza M-PESA "
                f"outstanding amount is {m(amt + fee)} due on {date}. To check daily charges, Dial *334#OK Select Fuliza")
    elif kind == "reversal":
        core = f"{code} Confirmed. Transaction {s.mpesa_id(t)} has been reversed. Your account balance is now {m(s.balance(c))}."
    else:
        amt = s.amount(c, {"airtime": "airtime", "bill": "bill", "withdraw": "cash", "deposit": "cash"}.get(kind, "p2p"))
        fee = 0 if kind in ("deposit", "airtime") or (kind == "paid" and r.random() < 0.8) else \
            s.fee(c, amt, "withdraw" if kind == "withdraw" else "send")
        bal = m(s.balance(c))
        limit = f"{max(0, 500_000 - amt // 100 - r.randrange(0, 20_000)):,}.00"
        cost = f"{dot}Transaction cost, {m(fee)}."
        lim = f" Amount you can transact within the day is {limit}." if r.random() < 0.7 else ""
        if kind == "sent":
            if sw:
                core = (f"{code} Imethibitishwa. {m(amt)} imetumwa kwa {s.person()} {s.phone()} mnamo {date} saa {time}. "
                        f"Salio jipya la M-PESA ni {bal}. Gharama ya kutuma ni {m(fee)}.")
            else:
                core = f"{code} Confirmed. {m(amt)} sent to {s.person()} {s.phone('local')} on {date} at {time}{dot}New M-PESA balance is {bal}{cost}{lim}"
        elif kind == "paid":
            core = f"{code} Confirmed. {m(amt)} paid to {s.shop()}. on {date} at {time}{dot}New M-PESA balance is {bal}{cost}{lim}"
        elif kind == "bill":
            core = (f"{code} Confirmed. {m(amt)} sent to {s.biller()} for account {s.digits(6, 11)} on {date} at {time} "
                    f"New M-PESA balance is {bal}{cost}{lim}")
        elif kind == "withdraw":
            core = (f"{code} Confirmed.on {date} at {time}Withdraw {m(amt)} from {s.digits(6, 6)} - {s.agent()} "
                    f"{s.town()}{r.choice((' ', '. '))}New M-PESA balance is {bal}{cost}{lim}")
        elif kind == "deposit":
            core = (f"{code} Confirmed. On {date} at {time} Give {m(amt)} cash to {s.agent()} New M-PESA balance is "
                    f"{m(s.balance(c, amt))}.")
        else:
            target = f" for {s.phone('intl')}" if r.random() < 0.3 else ""
            core = (f"{code} confirmed.You bought {m(amt)} of airtime{target} on {date} at {time}.New M-PESA balance is "
                    f"{bal}{cost}{lim}")
    return core + _tail("mpesa_ke", fam, r)


def _mpesa_tz(s: Slots, fam: str, r: random.Random) -> str:
    c = "TZS"
    t = s.when()
    code, date, time = s.alnum_id(10), s.dmy_short(t), s.ampm(t)
    m = lambda v: s.money(c, v, r.choice(("ksh", "ksh", "pre")))  # noqa: E731
    kind = r.choice(("received", "received", "sent", "sent", "withdraw", "airtime", "bill"))
    en = r.random() < 0.3
    amt = s.amount(c, {"airtime": "airtime", "withdraw": "cash", "bill": "bill"}.get(kind, "p2p"))
    fee = s.fee(c, amt, "withdraw" if kind == "withdraw" else "send")
    tax = max(0, fee // 4)
    if kind == "received":
        bal = m(s.balance(c, amt))
        who = f"{s.phone('intl')} - {s.person()}" if r.random() < 0.7 else s.person()
        core = (f"{code} Confirmed. You have received {m(amt)} from {who} on {date} at {time} New M-Pesa balance is {bal}."
                if en else f"{code} Imethibitishwa. Umepokea {m(amt)} kutoka {who} mnamo {date} saa {time} Salio lako jipya la M-Pesa ni {bal}.")
    elif kind == "sent":
        bal = m(s.balance(c))
        core = (f"{code} Confirmed. {m(amt)} sent to {s.person()} {s.phone('intl')} on {date} at {time}. New M-Pesa balance is {bal}. "
                f"Transaction cost, {m(fee)}. Government levy, {m(tax)}." if en else
                f"{code} Imethibitishwa. {m(amt)} imetumwa kwa {s.person()} {s.phone('intl')} mnamo {date} saa {time}. "
                f"Salio lako jipya la M-Pesa ni {bal}. Ada {m(fee)}. Tozo ya serikali {m(tax)}.")
    elif kind == "withdraw":
        bal = m(s.balance(c))
        core = (f"{code} Imethibitishwa. Umetoa {m(amt)} kutoka kwa wakala {s.digits(6, 6)} - {s.agent()} mnamo {date} "
                f"saa {time}. Salio lako jipya la M-Pesa ni {bal}. Ada {m(fee)}.")
    elif kind == "airtime":
        bal = m(s.balance(c))
        core = (f"{code} confirmed. You bought {m(amt)} of airtime on {date} at {time} New M-Pesa balance is {bal}" if en
                else f"{code} Imethibitishwa. Umenunua salio la {m(amt)} mnamo {date} saa {time}. Salio lako jipya la M-Pesa ni {bal}.")
    else:
        bal = m(s.balance(c))
        core = (f"{code} Imethibitishwa. Umelipa {m(amt)} kwa {s.biller()} kwa kumbukumbu namba {s.digits(8, 12)} mnamo "
                f"{date} saa {time}. Salio lako jipya la M-Pesa ni {bal}. Ada {m(fee)}.")
    return core + _tail("mpesa_tz", fam, r)


def _mtn(country: str, currency: str) -> Render:
    def render(s: Slots, fam: str, r: random.Random) -> str:
        c = currency
        t = s.when()
        tid = s.numeric_id(10, 11)
        style = {"UGX": "pre", "RWF": r.choice(("post", "post_plain", "pre")), "GHS": "pre", "ZMW": r.choice(("pre", "zm_k")),
                 "XAF": "fr"}[c]
        m = lambda v: s.money(c, v, style)  # noqa: E731
        when = s.iso(t, r.random() < 0.7)
        yello = "Y'ello. " if r.random() < (0.3 if fam == "a" else 0.15) else ""
        idl = r.choice(("Financial Transaction Id", "Transaction Id", "Trans ID", "TID") if fam == "a" else
                       ("Financial Transaction Id", "Trans ID", "FT Id", "Transaction ID"))
        kinds = ["received", "sent", "withdrawn", "airtime"] + (["deposit", "approval", "payment", "bundle"]
                                                                 if c == "UGX" else [])
        kind = r.choice(kinds)
        amt = s.amount(c, {"airtime": "airtime", "withdrawn": "cash", "deposit": "cash", "bundle": "airtime"}.get(kind, "p2p"))
        fee = s.fee(c, amt, "withdraw" if kind == "withdrawn" else "send")
        tax = amt // 200 if c in ("UGX", "GHS") and r.random() < 0.5 else 0
        cp, ph = s.person(), s.phone(r.choice(("local", "intl")))
        if c == "XAF":
            return _mtn_cm(s, fam, r, kind, amt, fee, cp, ph, tid, when, m)
        if kind == "received":
            bal = s.balance(c, amt)
            reason = r.choice(("", "", f" Reason: {r.choice(('rent', 'school fees', 'food', 'transport', 'thanks', 'business'))}.",
                               " Message from sender: ."))
            party = r.choice((f"{cp} ({ph})", f"{cp}, {ph}", f"{cp} {ph}"))
            acct = " on your mobile money account" if r.random() < 0.3 else ""
            core = (f"{yello}You have received {m(amt)} from {party}{acct} at {when}.{reason} Your new balance: {m(bal)}. "
                    f"{idl}: {tid}.")
            if c == "GHS" and r.random() < 0.5:
                core = (f"Payment received for {m(amt)} from {cp} Current Balance: {m(bal)} . Available Balance: {m(bal)}. "
                        f"Reference: {r.choice(('rent', 'fees', '1'))}. Transaction ID: {tid}. TRANSACTION FEE: {m(0)}")
        elif kind == "sent":
            bal = s.balance(c)
            fees = f" Fee {m(fee)}." + (f" Tax {m(tax)}." if tax else "")
            if c == "GHS" and r.random() < 0.5:
                core = (f"Your payment of {m(amt)} to {cp} has been completed at {when}. Reference: {r.choice(('1', 'fees'))}. "
                        f"Your new balance: {m(bal)}. Fee was {m(fee)} Tax was {m(tax)}. Financial Transaction Id: {tid}.")
            elif c == "RWF" and r.random() < 0.5:
                core = (f"*165*S*{m(amt)} transferred to {cp} ({ph}) at {when} . Balance: {m(bal)}. Fee was: {m(fee)}. "
                        f"FT Id: {tid}.")
            else:
                core = f"{yello}You have sent {m(amt)} to {cp} {ph} on {when}.{fees} Your new balance: {m(bal)}. {idl}: {tid}."
        elif kind == "withdrawn":
            bal = s.balance(c)
            core = (f"{yello}You have withdrawn {m(amt)} from agent {s.agent()} (Agent ID {s.digits(5, 6)}) at {when}. "
                    f"Fee {m(fee)}." + (f" Tax {m(tax)}." if tax else "") + f" Your new balance: {m(bal)}. {idl}: {tid}.")
        elif kind == "deposit":
            bal = s.balance(c, amt)
            core = (f"Cash deposit of {m(amt)} with Agent ID {s.digits(5, 6)} ({s.agent()}) at {when} successful. "
                    f"New balance: {m(bal)}. {idl}: {tid}.")
        elif kind == "airtime":
            bal = s.balance(c)
            target = f" for {s.phone('intl')}" if r.random() < 0.4 else ""
            core = f"{yello}You have bought {m(amt)} airtime{target}. Your new balance: {m(bal)}. {idl}: {tid}."
        elif kind == "bundle":
            bal = s.balance(c)
            size = r.choice(("1GB Daily", "Weekly 3GB", "Monthly 10GB", "Voice 60 mins", "Social Daily"))
            core = f"You have bought a {size} bundle at {m(amt)}. Your new balance: {m(bal)}. {idl}: {tid}."
        elif kind == "payment":
            bal = s.balance(c)
            core = (f"You have paid {m(amt)} to {s.biller()} for account {s.digits(6, 11)} at {when}. Fee {m(0)}. "
                    f"Your new balance: {m(bal)}. {idl}: {tid}.")
        else:
            merchant = r.choice((s.biller(), s.shop()))
            core = (f"Dial *165# and select My Approvals to {r.choice(('allow', 'approve'))} payment of {m(amt)} to "
                    f"{merchant}. " + r.choice(("", "Request expires in 5 minutes.", "Ignore if you did not request it.")))
        return core + _tail("mtn", fam, r)
    return render


def _mtn_cm(s: Slots, fam: str, r: random.Random, kind: str, amt: int, fee: int, cp: str, ph: str, tid: str,
            when: str, m: Callable[[int], str]) -> str:
    idl = r.choice(("ID de transaction", "ID transaction") if fam == "a" else ("Transaction Id", "ID de transaction"))
    if kind == "received":
        core = (f"Vous avez reçu {m(amt)} de {cp} ({ph}) le {when}. Message de l'expéditeur: . "
                f"Votre nouveau solde est de {m(s.balance('XAF', amt))}. {idl}: {tid}.")
    elif kind == "sent":
        core = (f"Vous avez transféré {m(amt)} à {cp} ({ph}) le {when}. Frais: {m(fee)}. Nouveau solde: "
                f"{m(s.balance('XAF'))}. {idl}: {tid}.")
    elif kind == "withdrawn":
        core = (f"Retrait de {m(amt)} effectué auprès de {s.agent()} le {when}. Frais: {m(fee)}. Nouveau solde: "
                f"{m(s.balance('XAF'))}. {idl}: {tid}.")
    else:
        core = f"Paiement de {m(amt)} à {s.biller()} effectué. Nouveau solde: {m(s.balance('XAF'))}. {idl}: {tid}."
    return core + _tail("fr", fam, r)


def _mtn_rw_kinyarwanda(s: Slots, fam: str, r: random.Random) -> str:
    c = "RWF"
    t = s.when()
    m = lambda v: s.money(c, v, r.choice(("post", "post_plain")))  # noqa: E731
    when, tid, cp, ph = s.iso(t), s.numeric_id(10, 11), s.person(), s.phone("intl")
    kind = r.choice(("received", "sent", "withdrawn"))
    amt = s.amount(c, "cash" if kind == "withdrawn" else "p2p")
    if kind == "received":
        core = (f"Wakiriye {m(amt)} kuva kuri {cp} ({ph}) ku wa {when}. Amafaranga asigaye: {m(s.balance(c, amt))}. "
                f"Nimero y'igikorwa: {tid}.")
    elif kind == "sent":
        core = (f"Wohereje {m(amt)} kuri {cp} ({ph}) ku wa {when}. Ikiguzi: {m(s.fee(c, amt))}. Amafaranga asigaye: "
                f"{m(s.balance(c))}. Nimero y'igikorwa: {tid}.")
    else:
        core = (f"Wabikuje {m(amt)} ku mukozi {s.agent()} ku wa {when}. Ikiguzi: {m(s.fee(c, amt, 'withdraw'))}. "
                f"Amafaranga asigaye: {m(s.balance(c))}. Nimero y'igikorwa: {tid}.")
    return core + _tail("rw", fam, r)


def _airtel(country: str, currency: str) -> Render:
    def render(s: Slots, fam: str, r: random.Random) -> str:
        c = currency
        t = s.when()
        tid = r.choice((s.numeric_id(11, 13), s.dotted_id(t))) if country != "KE" else \
            r.choice((s.numeric_id(12, 13), s.alnum_id(10)))
        style = r.choice(("pre", "pre", "post_tight") if c == "KES" else ("pre", "pre_plain", "post"))
        m = lambda v: s.money(c, v, style)  # noqa: E731
        idl = r.choice(("Trans. ID:", "TID:", "Trans ID:") if fam == "a" else ("TID", "Txn ID:", "Transaction ID:"))
        when = f" on {s.dmy_short(t)} at {t[3]:02d}:{t[4]:02d}" if r.random() < 0.4 else ""
        kind = r.choice(("received", "sent", "withdrawn", "airtime", "bill", "deposit"))
        amt = s.amount(c, {"airtime": "airtime", "withdrawn": "cash", "deposit": "cash", "bill": "bill"}.get(kind, "p2p"))
        fee = s.fee(c, amt, "withdraw" if kind == "withdrawn" else "send")
        cp, ph = s.person(), s.phone(r.choice(("local", "intl")))
        id_first = r.random() < 0.6
        if country == "TZ" and r.random() < 0.6:
            return _airtel_tz_sw(s, fam, r, kind, amt, fee, cp, ph, tid, m)
        if kind == "received":
            core = f"You have received {m(amt)} from {r.choice((f'{cp} {ph}', f'{ph} {cp}', cp))}{when}. Your available balance is {m(s.balance(c, amt))}."
        elif kind == "sent":
            core = f"You have sent {m(amt)} to {cp} {ph}{when}. Fee {m(fee)}. Your available balance is {m(s.balance(c))}."
        elif kind == "withdrawn":
            core = f"You have withdrawn {m(amt)} from agent {s.agent()}{when}. Fee {m(fee)}. Your balance is {m(s.balance(c))}."
        elif kind == "airtime":
            core = f"You have bought airtime of {m(amt)} for {s.phone('local')}. Your balance is {m(s.balance(c))}."
        elif kind == "bill":
            core = (f"You have paid {m(amt)} to {s.biller()} for account {s.digits(6, 10)}{when}. Your available balance "
                    f"is {m(s.balance(c))}.")
        else:
            core = f"You have deposited {m(amt)} at agent {s.agent()}{when}. Your balance is {m(s.balance(c, amt))}."
        if country == "UG" and r.random() < 0.45:
            core = _airtel_ug_compact(s, r, kind, amt, fee, cp, ph, tid, m)
            return core + _tail("airtel", fam, r)
        core = f"{idl} {tid}. {core}" if id_first else f"{core} {idl} {tid}."
        return core + _tail("airtel", fam, r)
    return render


def _airtel_ug_compact(s: Slots, r: random.Random, kind: str, amt: int, fee: int, cp: str, ph: str, tid: str,
                       m: Callable[[int], str]) -> str:
    bal = s.balance("UGX", amt if kind in ("received", "deposit") else 0)
    tax = amt // 200 if r.random() < 0.5 else 0
    taxes = f" Tax {m(tax)}." if tax else ""
    if kind == "received":
        return f"RECEIVED. TID {tid}. {m(amt)} from {cp}, {ph}. Bal {m(bal)}."
    if kind == "sent":
        return r.choice((f"SENT. TID {tid}. {m(amt)} to {cp} {ph}. Fee {m(fee)}.{taxes} Bal {m(bal)}.",
                         f"SENT {m(amt)} to {cp} {ph}. Fee {m(fee)}.{taxes} Bal {m(bal)}. Trans ID {tid}"))
    if kind == "withdrawn":
        return f"WITHDRAWN. TID {tid}. {m(amt)} with Agent ID: {s.digits(5, 6)}. Fee {m(fee)}.{taxes} Bal {m(bal)}."
    if kind == "deposit":
        return f"CASH DEPOSIT of {m(amt)} from {s.agent()}. Bal {m(bal)}. TID {tid}."
    if kind == "airtime":
        return f"TOP UP. TID {tid}. {m(amt)} for {s.phone('local')}. Bal {m(bal)}."
    return f"PAID. TID {tid}. {m(amt)} to {s.biller()}. Fee {m(0)}. Bal {m(bal)}."


def _airtel_tz_sw(s: Slots, fam: str, r: random.Random, kind: str, amt: int, fee: int, cp: str, ph: str, tid: str,
                  m: Callable[[int], str]) -> str:
    idl = r.choice(("Muamala:", "Muamala No:", "TID:") if fam == "a" else ("Kumbukumbu:", "Muamala ID:", "Trans ID:"))
    tax = fee // 5
    if kind == "received":
        core = f"Umepokea {m(amt)} kutoka kwa {cp}, {ph}. Salio jipya ni {m(s.balance('TZS', amt))}. {idl} {tid}"
    elif kind in ("sent", "bill"):
        core = f"Umetuma {m(amt)} kwa {cp} {ph}. Ada {m(fee)}. Tozo {m(tax)}. Salio jipya ni {m(s.balance('TZS'))}. {idl} {tid}"
    elif kind == "withdrawn":
        core = f"Umetoa {m(amt)} kwa wakala {s.agent()}. Ada {m(fee)}. Salio jipya ni {m(s.balance('TZS'))}. {idl} {tid}"
    else:
        core = f"Umenunua muda wa maongezi wa {m(amt)}. Salio jipya ni {m(s.balance('TZS'))}. {idl} {tid}"
    return core + _tail("tz_sw", fam, r)


def _tigo(s: Slots, fam: str, r: random.Random) -> str:
    c = "TZS"
    t = s.when()
    m = lambda v: s.money(c, v, "pre")  # noqa: E731
    tid = r.choice((s.dotted_id(t), s.numeric_id(10, 12)))
    cp, ph = s.person(), s.phone("local")
    kind = r.choice(("received", "sent", "withdrawn", "airtime", "cashin"))
    amt = s.amount(c, "cash" if kind in ("withdrawn", "cashin") else "airtime" if kind == "airtime" else "p2p")
    fee = s.fee(c, amt, "withdraw" if kind == "withdrawn" else "send")
    if r.random() < 0.4:  # the older English shape, balance first
        if kind == "received":
            core = (f"New balance is {m(s.balance(c, amt))}. You have received {m(amt)} from {cp}, {ph}. "
                    f"{s.dmy_long(t)} PM; with TxnId: {s.dotted_id(t)}.")
        elif kind == "sent":
            core = (f"New balance is {m(s.balance(c))}. Money sent successfully to {cp}, {ph}. Amount: {m(amt)}. "
                    f"Fee: {m(fee)}. TxnID: {s.dotted_id(t)}.")
        elif kind == "withdrawn":
            core = (f"New balance is {m(s.balance(c))}. Cash-Out to {s.agent()} was successful. Amount {m(amt)}. "
                    f"Charges {m(fee)}. TxnID {s.dotted_id(t)}.")
        elif kind == "cashin":
            core = f"New balance is {m(s.balance(c, amt))}. Cash-In of {m(amt)} successful. Agent {s.agent()}. TxnID: {s.dotted_id(t)}."
        else:
            core = f"New balance is {m(s.balance(c))}. Your recharge request is successful for amount {m(amt)}. TxnId : {s.dotted_id(t)}."
        return core + _tail("tz_sw", fam, r)
    idl = r.choice(("Muamala No:", "Muamala:") if fam == "a" else ("Kumbukumbu namba:", "TxnId:"))
    brand = r.choice(("Tigo Pesa", "Mixx")) if r.random() < 0.3 else ""
    salio = f"Salio lako jipya la {brand} ni" if brand else "Salio jipya ni"
    if kind == "received":
        core = f"{idl} {tid}. Umepokea {m(amt)} kutoka kwa {cp} ({ph}). {salio} {m(s.balance(c, amt))}."
    elif kind == "sent":
        core = f"Umetuma {m(amt)} kwa {cp}, {ph}. Ada {m(fee)}. Tozo {m(fee // 4)}. {salio} {m(s.balance(c))}. {idl} {tid}"
    elif kind == "withdrawn":
        core = f"Umetoa {m(amt)} kwa wakala {s.agent()}. Ada {m(fee)}. {salio} {m(s.balance(c))}. {idl} {tid}"
    elif kind == "cashin":
        core = f"Umeweka {m(amt)} kupitia wakala {s.agent()}. {salio} {m(s.balance(c, amt))}. {idl} {tid}"
    else:
        core = f"Umenunua muda wa maongezi wa {m(amt)}. {salio} {m(s.balance(c))}. {idl} {tid}"
    return core + _tail("tz_sw", fam, r)


def _halopesa(s: Slots, fam: str, r: random.Random) -> str:
    c = "TZS"
    t = s.when()
    m = lambda v: s.money(c, v, r.choice(("pre", "pre_plain")))  # noqa: E731
    tid = s.numeric_id(10, 12)
    cp, ph = s.person(), s.phone("local")
    kind = r.choice(("received", "sent", "withdrawn", "airtime"))
    amt = s.amount(c, "cash" if kind == "withdrawn" else "p2p")
    fee = s.fee(c, amt)
    date = f" Tarehe: {s.dmy_long(t)}" if r.random() < 0.5 else ""
    idl = r.choice(("Kumbukumbu No:", "Kumbukumbu:") if fam == "a" else ("Muamala:", "Kumbukumbu namba"))
    if kind == "received":
        core = f"Umepokea {m(amt)} kutoka {cp} {ph}. Salio lako jipya ni {m(s.balance(c, amt))}. {idl} {tid}.{date}"
    elif kind == "sent":
        core = f"Umetuma {m(amt)} kwa {cp} {ph}. Ada: {m(fee)}. Kodi: {m(fee // 5)}. Salio lako jipya ni {m(s.balance(c))}. {idl} {tid}.{date}"
    elif kind == "withdrawn":
        core = f"Umetoa {m(amt)} kwa wakala {s.agent()}. Ada: {m(fee)}. Salio lako jipya ni {m(s.balance(c))}. {idl} {tid}."
    else:
        core = f"Umenunua muda wa maongezi wa {m(amt)}. Salio lako jipya ni {m(s.balance(c))}. {idl} {tid}."
    return core + _tail("tz_sw", fam, r)


def _tkash(s: Slots, fam: str, r: random.Random) -> str:
    c = "KES"
    t = s.when()
    m = lambda v: s.money(c, v, "ksh")  # noqa: E731
    code, date, time = s.alnum_id(10), s.dmy_short(t), s.ampm(t)
    kind = r.choice(("received", "sent", "withdrawn", "airtime"))
    amt = s.amount(c, "cash" if kind == "withdrawn" else "p2p")
    if kind == "received":
        core = f"{code} Confirmed. You have received {m(amt)} from {s.person()} {s.phone()} on {date} at {time}. New T-Kash balance is {m(s.balance(c, amt))}."
    elif kind == "sent":
        core = (f"{code} Confirmed. {m(amt)} sent to {s.person()} {s.phone('local')} on {date} at {time}. New T-Kash "
                f"balance is {m(s.balance(c))}. Transaction cost, {m(s.fee(c, amt))}.")
    elif kind == "withdrawn":
        core = (f"{code} Confirmed. On {date} at {time} Withdraw {m(amt)} from {s.digits(6, 6)} - {s.agent()}. New T-Kash "
                f"balance is {m(s.balance(c))}. Transaction cost, {m(s.fee(c, amt, 'withdraw'))}.")
    else:
        core = f"{code} Confirmed. You bought {m(amt)} of airtime on {date} at {time}. New T-Kash balance is {m(s.balance(c))}."
    return core + ("" if r.random() < 0.6 else " Telkom: Dial *160# for T-Kash services.")


#: (country, renderer, weight): how often each operator appears in the generated stream.
OPERATORS: tuple[tuple[str, Render, float], ...] = (
    ("KE", _mpesa_ke, 0.22), ("TZ", _mpesa_tz, 0.08), ("UG", _mtn("UG", "UGX"), 0.14), ("RW", _mtn("RW", "RWF"), 0.04),
    ("RW", _mtn_rw_kinyarwanda, 0.03), ("GH", _mtn("GH", "GHS"), 0.04), ("ZM", _mtn("ZM", "ZMW"), 0.03),
    ("CM", _mtn("CM", "XAF"), 0.03), ("KE", _airtel("KE", "KES"), 0.05), ("UG", _airtel("UG", "UGX"), 0.1),
    ("TZ", _airtel("TZ", "TZS"), 0.05), ("ZM", _airtel("ZM", "ZMW"), 0.03), ("MW", _airtel("MW", "MWK"), 0.03),
    ("RW", _airtel("RW", "RWF"), 0.02), ("TZ", _tigo, 0.05), ("TZ", _halopesa, 0.03), ("KE", _tkash, 0.03),
)


def _join(text: str) -> str:
    """Resolve the tail marker: no space after a full stop, else a space."""
    head, _, tail = text.partition("\x00")
    if not tail:
        return head
    return head + ("" if head.endswith(".") else " ") + tail


def generate(n: int, family: str, seed: int) -> list[str]:
    """``n`` genuine notifications of ``family`` (``a`` or ``b``), reproducible from ``seed``."""
    rng = random.Random(f"notifications-{family}-{seed}")
    style = STYLES[family]
    weights = [w for *_, w in OPERATORS]
    out = []
    for _ in range(n):
        country, render, _ = rng.choices(OPERATORS, weights)[0]
        slots = Slots(rng, country, style)
        slots.new_message()
        text = wrap(_join(render(slots, family, rng)), rng, style.newline_rate)
        if rng.random() < style.lower_rate:
            text = text.lower()
        out.append(text)
    return out
