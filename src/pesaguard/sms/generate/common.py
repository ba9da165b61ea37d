"""Slot values for generated SMS: people, numbers, amounts, dates and ids, with the variation real
messages show (masked fields in anonymised data sets, number formats, casing, line breaks).

Everything is drawn from the ``random.Random`` given, so a corpus is reproducible from its seed.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

from pesaguard.sms.generate import pools

ZERO_DECIMAL = {"UGX", "RWF", "XAF"}


@dataclass(frozen=True)
class Style:
    """How one family of generated messages looks (two families never share a style)."""

    mask_rate: float  # share of messages whose names and numbers are masked, as in anonymised data sets
    name_masks: tuple[str, ...]
    phone_masks: tuple[str, ...]  # "{cc}" country code, "{p}" two leading digits, "{t}" last three digits
    newline_rate: float  # share of messages with line breaks where phones wrap them
    lower_rate: float = 0.0  # share of messages lower-cased (some exports fold case)


STYLES = {
    "a": Style(0.25, ("NAME", "XXXX XXXX", "[NAME]"), ("0{p}XXXXXXX", "+{cc}{p}XXXXXXX", "0{p}X XXX {t}"), 0.2),
    "b": Style(0.35, ("NAME", "***", "<NAME>", "N/A"), ("0{p}*****{t}", "{cc}{p}XXXXXXX", "07XXXXXXXX", "XXXXXXXXXX"),
               0.3, 0.03),
}


class Slots:
    """Random slot values for one country, in one family's style."""

    def __init__(self, rng: random.Random, country: str, style: Style) -> None:
        self.rng = rng
        self.country = country
        self.style = style
        self.masked = False

    def new_message(self) -> None:
        self.masked = self.rng.random() < self.style.mask_rate

    # people and numbers -------------------------------------------------------------------------
    def person(self, upper: bool = True) -> str:
        if self.masked:
            return self.rng.choice(self.style.name_masks)
        r = self.rng
        name = f"{r.choice(pools.FIRST[self.country])} {r.choice(pools.LAST[self.country])}"
        if r.random() < 0.15:
            name += f" {r.choice(pools.LAST[self.country])}"
        return name.upper() if upper else name

    def first(self) -> str:
        return self.rng.choice(pools.FIRST[self.country])

    def phone(self, style: str = "any") -> str:
        """A mobile number: national (``07..``), international (``2547..``, ``+2547..``) or masked."""
        r = self.rng
        cc, prefixes = pools.PHONES[self.country]
        p = r.choice(prefixes)
        rest = "".join(str(r.randrange(10)) for _ in range(9 - len(p)))
        national = p + rest
        if self.masked:
            return r.choice(self.style.phone_masks).format(cc=cc, p=p, t=rest[-3:])
        if self.country == "CM":
            return r.choice((national, cc + national, "+" + cc + national))
        choice = style if style != "any" else r.choice(("local", "local", "intl", "intl", "plus"))
        if choice == "local":
            return "0" + national
        if choice == "masked_mid":  # how Safaricom prints the other party's number since 2023
            return "0" + national[:3] + "***" + national[-3:]
        if choice == "plus":
            return "+" + cc + national
        return cc + national

    def shop(self) -> str:
        r = self.rng
        return f"{r.choice(pools.SHOP_WORDS)} {r.choice(pools.SHOP_KINDS)}".upper()

    def agent(self) -> str:
        r = self.rng
        return f"{r.choice(pools.SHOP_WORDS)} {r.choice(pools.AGENT_KINDS)}".upper()

    def town(self) -> str:
        return self.rng.choice(pools.TOWNS[self.country])

    def biller(self) -> str:
        return self.rng.choice(pools.BILLERS[self.country])

    def bank(self) -> str:
        return self.rng.choice(pools.BANKS[self.country])

    def digits(self, lo: int, hi: int) -> str:
        n = self.rng.randrange(lo, hi + 1)
        return str(self.rng.randrange(1, 10)) + "".join(str(self.rng.randrange(10)) for _ in range(n - 1))

    # money --------------------------------------------------------------------------------------
    def amount(self, currency: str, kind: str = "p2p") -> int:
        """An amount in minor units, drawn like real traffic (many small, few large, round numbers)."""
        r = self.rng
        unit = {"KES": 1, "TZS": 20, "UGX": 30, "RWF": 10, "GHS": 0.1, "ZMW": 0.2, "MWK": 15, "XAF": 5}[currency]
        lo, hi = {"p2p": (50, 20_000), "airtime": (10, 500), "bill": (200, 8_000), "cash": (200, 30_000),
                  "small": (20, 1_500), "big": (2_000, 150_000)}[kind]
        major = r.lognormvariate(0, 1.1) * (lo * hi) ** 0.5
        major = min(max(major, lo), hi) * unit
        step = r.choice((1, 5, 10, 50, 100, 100, 500, 1000)) * (1 if unit < 1 else max(1, int(unit) // 10 * 10) or 1)
        major = max(step, round(major / step) * step)
        minor = int(major) if currency in ZERO_DECIMAL else round(major * 100)
        if currency not in ZERO_DECIMAL and r.random() < 0.1:
            minor += r.randrange(1, 100)
        return max(minor, 1 if currency in ZERO_DECIMAL else 100)

    def fee(self, currency: str, amount: int, kind: str = "send") -> int:
        """A plausible tariff fee: a step function of the amount, about 0.5-3%, sometimes zero."""
        r = self.rng
        if r.random() < 0.15:
            return 0
        share = {"send": 0.012, "withdraw": 0.025, "pay": 0.005}.get(kind, 0.01) * r.uniform(0.5, 1.5)
        fee = amount * share
        scale = 1 if currency in ZERO_DECIMAL else 100
        step = {"KES": 1, "TZS": 50, "UGX": 50, "RWF": 10, "GHS": 0.01, "ZMW": 0.1, "MWK": 10, "XAF": 5}[currency] * scale
        return int(max(step, round(fee / step) * step))

    def balance(self, currency: str, at_least: int = 0) -> int:
        extra = self.amount(currency, self.rng.choice(("small", "p2p", "p2p", "big")))
        if self.rng.random() < 0.3:
            extra //= 10
        return at_least + extra

    def money(self, currency: str, minor: int, style: str) -> str:
        """``minor`` written in an operator's style: ``ksh`` "Ksh1,500.00", ``pre`` "UGX 1,500", ``post`` "1,500 RWF"..."""
        major = minor if currency in ZERO_DECIMAL else minor / 100
        dec = 0 if currency in ZERO_DECIMAL else 2
        num = f"{major:,.{dec}f}"
        plain = f"{major:.{dec}f}"
        word = {"KES": "Ksh", "TZS": "Tsh", "UGX": "UGX", "RWF": "RWF", "GHS": "GHS", "ZMW": "ZMW", "MWK": "MWK",
                "XAF": "FCFA"}[currency]
        if style == "ksh":  # M-Pesa: "Ksh1,500.00"
            return f"{word}{num}"
        if style == "pre":
            return f"{word} {num}"
        if style == "pre_plain":
            return f"{word} {plain}"
        if style == "post":
            return f"{num} {word}"
        if style == "post_plain":
            return f"{plain} {word}"
        if style == "post_tight":  # "50.00Ksh"
            return f"{num}{word}"
        if style == "fr":  # "5 000 FCFA"
            return f"{major:,.0f}".replace(",", " ") + f" {word}"
        if style == "zm_k":
            return f"K{num}"
        raise ValueError(style)

    # dates and ids ------------------------------------------------------------------------------
    def when(self) -> tuple[int, int, int, int, int, int]:
        r = self.rng
        return (r.randrange(2022, 2026), r.randrange(1, 13), r.randrange(1, 29), r.randrange(0, 24), r.randrange(0, 60),
                r.randrange(0, 60))

    @staticmethod
    def dmy_short(t: tuple[int, ...]) -> str:  # 3/1/24
        return f"{t[2]}/{t[1]}/{t[0] % 100}"

    @staticmethod
    def ampm(t: tuple[int, ...]) -> str:  # 2:15 PM
        return f"{(t[3] % 12) or 12}:{t[4]:02d} {'AM' if t[3] < 12 else 'PM'}"

    @staticmethod
    def iso(t: tuple[int, ...], seconds: bool = True) -> str:  # 2024-03-12 14:15:30
        s = f"{t[0]}-{t[1]:02d}-{t[2]:02d} {t[3]:02d}:{t[4]:02d}"
        return s + (f":{t[5]:02d}" if seconds else "")

    @staticmethod
    def dmy_long(t: tuple[int, ...]) -> str:  # 12/03/2024 14:15
        return f"{t[2]:02d}/{t[1]:02d}/{t[0]} {t[3]:02d}:{t[4]:02d}"

    def mpesa_id(self, t: tuple[int, ...]) -> str:
        """Year letter (A = 2006), month letter, then eight letters and digits with at least two digits."""
        r = self.rng
        alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        body = [r.choice(alnum) for _ in range(8)]
        for i in r.sample(range(8), 2):
            body[i] = str(r.randrange(10))
        return chr(ord("A") + t[0] - 2006) + chr(ord("A") + t[1] - 1) + "".join(body)

    def alnum_id(self, n: int = 10) -> str:
        r = self.rng
        body = [r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789") for _ in range(n)]
        body[0] = r.choice("ABCDEFGHJKLMNPQRSTUVWXYZ")
        body[r.randrange(1, n)] = str(r.randrange(10))
        return "".join(body)

    def dotted_id(self, t: tuple[int, ...]) -> str:  # PP240312.1415.A12345
        r = self.rng
        head = r.choice(("PP", "MP", "CI", "CO", "RC", "BP", "TP"))
        return f"{head}{t[0] % 100:02d}{t[1]:02d}{t[2]:02d}.{t[3]:02d}{t[4]:02d}.{r.choice('ABCDEFGH')}{r.randrange(10**5):05d}"

    def numeric_id(self, lo: int = 10, hi: int = 11) -> str:
        return self.digits(lo, hi)


def wrap(text: str, rng: random.Random, rate: float) -> str:
    """Line breaks where phones wrap long messages (at a few random spaces), for ``rate`` of messages."""
    if rng.random() >= rate:
        return text
    words = text.split(" ")
    for _ in range(rng.randrange(1, 4)):
        if len(words) > 4:
            i = rng.randrange(1, len(words))
            words[i] = "\n" + words[i]
    return " ".join(words).replace(" \n", "\n")
