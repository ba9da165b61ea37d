"""Render SMS texts from templates: fill slots (names, amounts, phone numbers, dates) with variation.

Amounts come in as minor units. Local time (EAT) is used for what people read.

>>> r = Renderer(random.Random(1), brand="M-PESA")
>>> official(123_456)
'Ksh1,234.56'
>>> r.local_dt(1_704_067_200_000)
('1/1/24', '3:00 AM')
"""

from __future__ import annotations

import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pesaguard.simulate.text import names, templates_en, templates_sw
from pesaguard.simulate.text.vary import vary

TEMPLATES = {"en": templates_en, "sw": templates_sw}
EAT = timedelta(hours=3)
SCAM_TYPE = {"reversal_fake": "reversal", "reversal_plea": "reversal", "prize": "prize", "job_loan": "job_loan",
             "impersonation": "impersonation", "impersonation_agent": "impersonation", "phishing": "phishing",
             "other": "other"}
_THOUSANDS_SW = ("", "moja", "mbili", "tatu", "nne", "tano", "sita", "saba", "nane", "tisa", "kumi")
_OPERATOR = ("Safaricom", "SAFARICOM", "Safaricom PLC", "Safcom")
_BRANDS = ("M-PESA", "MPESA", "Mpesa", "M-pesa", "M-PESA")
_LINKS = ("http://bit.ly/{x}", "https://tinyurl.com/{x}", "www.{w}-ke.com/{x}", "https://{w}.info/claim?id={x}")


def official(minor: int) -> str:
    """Amount the way the operator prints it."""
    return f"Ksh{minor / 100:,.2f}"


def phone_str(national: int, rng: random.Random) -> str:
    """A 9-digit national number written the ways Kenyans write phone numbers."""
    d = f"{national:09d}"
    r = rng.random()
    if r < 0.45:
        return "0" + d
    if r < 0.7:
        return "+254" + d
    if r < 0.8:
        return "254" + d
    if r < 0.9:
        return f"0{d[:3]} {d[3:6]} {d[6:]}"
    return f"0{d[:3]}-{d[3:6]}-{d[6:]}"


def casual_amount(minor: int, rng: random.Random, lang: str) -> str:
    """An amount as a person (or a scammer) types it."""
    n = minor // 100
    r = rng.random()
    if lang == "sw" and n % 1000 == 0 and 1 <= n // 1000 <= 10 and r < 0.12:
        return f"elfu {_THOUSANDS_SW[n // 1000]}" if n // 1000 > 1 else "elfu moja"
    if n % 1000 == 0 and n >= 1000 and r < 0.22:
        return f"{n // 1000}k"
    options: tuple[str, ...] = (f"Ksh{n:,}", f"Ksh {n:,}", f"KES {n:,}", f"Ksh.{n}", f"sh{n}", f"{n:,}/=", f"{n}", f"Kshs {n:,}.00",
               f"ksh{n}", f"Ksh{n:,}.00")
    if lang == "sw":
        options += (f"shilingi {n:,}", f"{n} bob", f"sh. {n}")
    return rng.choice(options)


class Slots(dict[str, str]):
    """A template's slot values, made on first use (so unused slots cost nothing)."""

    def __init__(self, makers: dict[str, Callable[[], str]], given: dict[str, str]) -> None:
        super().__init__(given)
        self.makers = makers

    def __missing__(self, key: str) -> str:
        value = self.makers[key]()
        self[key] = value
        return value


class Renderer:
    """Fills templates for one day; all randomness comes from the ``random.Random`` it is given."""

    def __init__(self, rng: random.Random, brand: str) -> None:
        self.rng = rng
        self.brand = brand
        self._ts: int = 0
        self._phone: int | None = None
        self._lang = "en"
        self._makers = self._build_makers()

    def local_dt(self, ts_ms: int) -> tuple[str, str]:
        t = datetime.fromtimestamp(ts_ms / 1000, tz=UTC) + EAT
        return f"{t.day}/{t.month}/{t.year % 100:02d}", f"{(t.hour % 12) or 12}:{t.minute:02d} {'AM' if t.hour < 12 else 'PM'}"

    def random_phone(self) -> int:
        return self.rng.choice((7, 1)) * 100_000_000 + self.rng.randrange(10_000_000, 99_999_999) \
            if self.rng.random() < 0.1 else 700_000_000 + self.rng.randrange(0, 99_999_999)

    def fake_code(self, ts_ms: int) -> str:
        t = datetime.fromtimestamp(ts_ms / 1000, tz=UTC) + EAT
        alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
        head = chr(ord("A") + (t.year - 2006) % 26) + chr(ord("A") + t.month - 1) if self.rng.random() < 0.6 else \
            "".join(self.rng.choice(alnum[:26]) for _ in range(2))
        return head + "".join(self.rng.choice(alnum) for _ in range(8))

    def _build_makers(self) -> dict[str, dict[str, Callable[[], str]]]:
        """Slot makers per language, built once; they read the message being filled from ``self._ts`` etc."""
        rng = self.rng

        def person() -> str:
            return f"{rng.choice(names.FIRST_NAMES)} {rng.choice(names.LAST_NAMES)}"

        def big(lo: int, hi: int, step: int) -> Callable[[], str]:
            return lambda: casual_amount(rng.randrange(lo, hi, step) * 100, rng, self._lang)

        def link() -> str:
            x = "".join(rng.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(6))
            return rng.choice(_LINKS).format(x=x, w=rng.choice(("promo", "bonus", "win", "mkopo", "kazi", "verify")))

        def otp() -> str:
            width = rng.choice((4, 6))
            return f"{rng.randrange(0, 10**width):0{width}d}"

        common: dict[str, Callable[[], str]] = {
            "name": person, "NAME": lambda: person().upper(), "first": lambda: rng.choice(names.FIRST_NAMES),
            "phone": lambda: phone_str(self._phone if self._phone is not None else self.random_phone(), rng),
            "amt": big(50, 5_000, 50), "fee": big(100, 2_000, 50), "prize": big(20_000, 1_000_000, 5_000),
            "loan": big(5_000, 100_000, 1_000), "salary": big(25_000, 120_000, 5_000), "bal": big(1_000, 30_000, 1),
            "code": lambda: self.fake_code(self._ts), "date": lambda: self.local_dt(self._ts)[0],
            "time": lambda: self.local_dt(self._ts)[1],
            "brand": lambda: rng.choice(_BRANDS), "operator": lambda: rng.choice(_OPERATOR),
            "bank": lambda: rng.choice(names.BANK_NAMES), "place": lambda: rng.choice(names.PLACES),
            "otp": otp, "link": link, "till": lambda: str(rng.randrange(100_000, 9_999_999)),
            "agent_no": lambda: str(rng.randrange(100_000, 999_999)), "care": lambda: rng.choice(("100", "200", "0722000000")),
            "paybill": lambda: str(rng.randrange(100_000, 999_999)), "acct": lambda: str(rng.randrange(10**6, 10**9)),
            "points": lambda: f"{rng.randrange(50, 9_000):,}", "last4": lambda: f"{rng.randrange(0, 10_000):04d}",
            "payto": lambda: self._payto(self._lang, self._phone),
        }
        out = {}
        for lang, tpl in TEMPLATES.items():
            words = {k: (lambda v=v: rng.choice(v)) for k, v in tpl.WORDS.items() if k != "payto"}
            out[lang] = {**common, **words}
        return out

    def _payto(self, lang: str, phone: int | None) -> str:
        if phone is not None or self.rng.random() < 0.5:
            return phone_str(phone if phone is not None else self.random_phone(), self.rng)
        return self.rng.choice(TEMPLATES[lang].WORDS["payto"]).format(till=self.rng.randrange(100_000, 9_999_999))

    def fill(self, template: str, lang: str, ts_ms: int, phone: int | None = None, **given: Any) -> str:
        self._ts, self._phone, self._lang = ts_ms, phone, lang
        slots = Slots(self._makers[lang], {k: str(v) for k, v in given.items() if v is not None})
        return template.format_map(slots)

    def scam(self, family: str, lang: str, ts_ms: int, phone: int | None, params: dict[str, Any]) -> str:
        rng = self.rng
        given: dict[str, Any] = {}
        if "amount" in params:
            a = params["amount"]
            given["amt"] = official(a) if family == "reversal_fake" and rng.random() < 0.8 else casual_amount(a, rng, lang)
            if family == "reversal_fake":
                given["bal"] = official(a + rng.randrange(0, 20_000) * 100 + rng.choice((0, 0, 50, 73)))
        if "fee" in params:
            given["fee"] = casual_amount(params["fee"], rng, lang)
        if params.get("till"):
            given["payto"] = rng.choice(TEMPLATES[lang].WORDS["payto"]).format(till=params["till"])
        text = self.fill(rng.choice(TEMPLATES[lang].SCAM[family]), lang, ts_ms, phone, **given)
        return vary(text, lang, rng, 0.25 if family == "reversal_fake" else 1.0)

    def personal(self, lang: str, ts_ms: int, family: str = "personal", amount: int | None = None) -> str:
        pool = TEMPLATES[lang].MISTAKEN if family == "mistaken_plea" else TEMPLATES[lang].PERSONAL
        amt = casual_amount(amount, self.rng, lang) if amount is not None else None
        return vary(self.fill(self.rng.choice(pool), lang, ts_ms, amt=amt), lang, self.rng, 0.9)

    def service(self, lang: str, ts_ms: int) -> str:
        return self.fill(self.rng.choice(TEMPLATES[lang].SERVICE), lang, ts_ms, brand=self.brand,
                         amt=official(self.rng.randrange(500, 50_000) * 100))
