"""Fill ``{slot}`` templates for generated promotions, personal and service messages and scams.

A template's language picks the countries it is sent in (Sheng: Kenya; Luganda: Uganda; Swahili:
Kenya or Tanzania; English: anywhere). The country decides currency, brands, phone formats and names.
Human-written texts (personal messages, scams) then get spelling, abbreviation and casing variation
(:func:`pesaguard.simulate.text.vary.vary`); machine-sent ones (promotions, service) do not.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable

from pesaguard.sms.generate.common import STYLES, Slots

COUNTRIES_BY_LANG = {"en": (("KE", 0.4), ("UG", 0.3), ("TZ", 0.12), ("RW", 0.06), ("ZM", 0.04), ("GH", 0.04),
                            ("MW", 0.04)),
                     "sw": (("KE", 0.45), ("TZ", 0.55)), "sheng": (("KE", 1.0),), "lg": (("UG", 1.0),),
                     "fr": (("CM", 1.0),), "rw": (("RW", 1.0),)}
CURRENCY = {"KE": "KES", "UG": "UGX", "TZ": "TZS", "RW": "RWF", "GH": "GHS", "ZM": "ZMW", "MW": "MWK", "CM": "XAF"}
CUR_WORD = {"KE": ("Ksh", "KES", "Kshs", "Ksh."), "UG": ("UGX", "Ush", "Shs", "UGX"), "TZ": ("Tsh", "TZS", "Tshs"),
            "RW": ("RWF", "Frw"), "GH": ("GHS", "GH₵"), "ZM": ("K", "ZMW"), "MW": ("MK", "MWK"), "CM": ("FCFA",)}
# Money a typical message talks about, in major units, per country (about 1 USD = 130 KES, 3,700 UGX...).
SCALE = {"KE": 1, "UG": 30, "TZ": 20, "RW": 10, "GH": 0.1, "ZM": 0.2, "MW": 15, "CM": 5}
BRANDS = {
    "KE": (("Safaricom", "M-PESA"), ("Airtel", "Airtel Money"), ("Telkom", "T-Kash")),
    "UG": (("MTN", "MoMo"), ("MTN", "Mobile Money"), ("Airtel", "Airtel Money")),
    "TZ": (("Vodacom", "M-Pesa"), ("Yas", "Mixx by Yas"), ("Tigo", "Tigo Pesa"), ("Airtel", "Airtel Money"),
           ("Halotel", "HaloPesa")),
    "RW": (("MTN", "MoMo"), ("Airtel", "Airtel Money")), "GH": (("MTN", "MoMo"), ("Telecel", "Telecel Cash")),
    "ZM": (("MTN", "MoMo"), ("Airtel", "Airtel Money")), "MW": (("Airtel", "Airtel Money"), ("TNM", "Mpamba")),
    "CM": (("MTN", "MoMo"), ("Orange", "Orange Money")),
}
USSD = {"KE": ("*544#", "*444#", "*334#", "*188#", "*100#", "*555#"), "UG": ("*150#", "*165#", "*185#", "*175#", "*160#"),
        "TZ": ("*149*01#", "*150*00#", "*148*00#", "*150*60#", "*150*88#"), "RW": ("*345#", "*182#", "*140#"),
        "GH": ("*138#", "*170#"), "ZM": ("*117#", "*115#"), "MW": ("*211#", "*444#"), "CM": ("*126#", "*123#")}
LINK_WORDS = ("promo", "bonus", "win", "claim", "verify", "secure", "update", "reward", "gift", "kazi", "mkopo", "loan")
SHORTENERS = ("http://bit.ly/{x}", "https://tinyurl.com/{x}", "https://cutt.ly/{x}", "www.{w}-{c}.com/{x}",
              "https://{w}{n}.xyz/{x}", "http://{w}-{c}.info/?id={x}", "https://wa.me/{ph}", "https://{w}.site/{x}")
OFFICIAL_SITES = ("www.safaricom.co.ke", "www.mtn.co.ug", "www.vodacom.co.tz", "www.airtel.co.ug", "www.kcbgroup.com",
                  "www.naivas.online", "www.equitybank.co.ke", "www.nssf.or.ke")
VERSES_EN = ("The Lord is my shepherd; I shall not want", "I can do all things through Christ who strengthens me",
             "Trust in the Lord with all your heart", "Be strong and courageous. Do not be afraid",
             "Cast all your anxiety on Him because He cares for you", "This is the day the Lord has made",
             "The joy of the Lord is your strength", "Come to me, all you who are weary, and I will give you rest")
VERSES_SW = ("Bwana ndiye mchungaji wangu, sitapungukiwa na kitu", "Nayaweza mambo yote katika yeye anitiaye nguvu",
             "Mtegemee Bwana kwa moyo wako wote", "Uwe hodari na moyo wa ushujaa, usiogope",
             "Furaha ya Bwana ni nguvu yenu")
QUOTES = ("Success is the sum of small efforts repeated every day", "Start where you are. Use what you have",
          "A smooth sea never made a skilled sailor", "Patience is bitter but its fruit is sweet",
          "Haba na haba hujaza kibaba", "Asiyefunzwa na mamaye hufunzwa na ulimwengu", "Small steps every day")
SONGS = ("Sura Yako", "Mungu Ni Mwema", "Tunawaka", "Nakupenda", "Bless Me", "Baraka Tele", "Yesu Ni Wangu",
         "Sweet Love", "Kampala Nights", "Nkwagala", "Wewe Ni Mungu", "Amazing Grace")
ARTISTS = ("Kijana Hodari", "Mama Neema", "Sauti Tamu", "DJ Baraka", "The Voices", "Nyota Band", "Kampala Stars")
BETCOS = ("SportBet", "BetMax", "ChezaSmart", "Kickoff Bet", "Goal Bet", "Bet Afrika", "Premier Odds", "LuckyGoal")
LENDERS = ("Pesa Rahisi", "CashNow", "Mkopo Fasta", "Tumaini Credit", "QuickFund", "Boresha Loans", "SwiftCash")
INSURERS = ("Jamii Cover", "Bima Bora", "Salama Assurance", "Afya Plus", "Tumaini Life")
CHURCHES = ("Deliverance Church", "Redeemed Gospel Church", "St Peter's Parish", "Victory Chapel", "Kanisa la Neema",
            "Miracle Centre")
PROMOS = ("Shinda Mamilioni", "Mega Bonanza", "Tuzo Kubwa", "Bahati Nasibu", "Lucky Draw", "Anniversary Jackpot",
          "Jiongeze Promo", "Cash Bonanza", "Tujiachilie", "Wonder Promo")
COMPANIES = ("Savanna Logistics", "Green Farms Ltd", "Coastline Hotels", "Pwani Security Services", "Kilimo Bora Ltd",
             "Lakeside Supermarkets", "Jamii Construction", "Highway Transporters", "Bright Academy")
ITEMS = ("TV", "smartphone", "laptop", "fridge", "motorbike", "gas cooker", "sofa set", "iPhone", "boda boda", "car")
GOV = {"KE": ("KRA", "HELB", "NHIF", "SHA", "Hustler Fund", "NTSA"), "UG": ("URA", "NSSF", "NIRA", "UNEB"),
       "TZ": ("TRA", "HESLB", "NIDA", "TANESCO"), "RW": ("RRA", "Irembo"), "GH": ("GRA",), "ZM": ("ZRA",),
       "MW": ("MRA",), "CM": ("DGI",)}
DAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday", "tomorrow", "next week")
DAYS_SW = ("Jumatatu", "Jumanne", "Jumatano", "Alhamisi", "Ijumaa", "Jumamosi", "Jumapili", "kesho", "wiki ijayo")
HOURS = ("8am", "10 am", "1pm", "2:30", "4pm", "5 pm", "6:30pm", "7", "noon", "saa nne", "saa tisa", "jioni")
RELATIONS = ("sister", "brother", "mum", "dad", "wife", "husband", "cousin", "son", "daughter", "aunt")
RELATIONS_SW = ("dada", "kaka", "mama", "baba", "mke wangu", "mume wangu", "binamu", "mtoto", "shangazi")

_SLOT = re.compile(r"\{(\w+)\}")


class Filler:
    """Fills templates for one family; one instance per generated message stream."""

    def __init__(self, rng: random.Random, family: str) -> None:
        self.rng = rng
        self.family = family
        self.style = STYLES[family]

    def fill(self, template: str, lang: str) -> tuple[str, str]:
        """The filled text and its country."""
        r = self.rng
        countries = COUNTRIES_BY_LANG[lang]
        country = r.choices([c for c, _ in countries], [w for _, w in countries])[0]
        s = Slots(r, country, self.style)
        s.new_message()
        brand = r.choice(BRANDS[country])
        cache: dict[str, str] = {}
        makers = self._makers(s, country, brand, lang)

        def sub(m: re.Match[str]) -> str:
            key = m.group(1)
            base = key if key in makers else key.rstrip("0123456789")  # {phone2}: a second, different number
            if key not in cache:
                if base not in makers:
                    raise KeyError(f"unknown slot {{{key}}} in template {template!r}")
                cache[key] = makers[base]()
            return cache[key]

        return _SLOT.sub(sub, template), country

    def _makers(self, s: Slots, country: str, brand: tuple[str, str], lang: str) -> dict[str, Callable[[], str]]:
        r = self.rng
        scale = SCALE[country]
        word = lambda: r.choice(CUR_WORD[country])  # noqa: E731

        def amount(lo: float, hi: float, casual: bool | None = True) -> Callable[[], str]:
            def make() -> str:
                major = r.lognormvariate(0, 0.8) * (lo * hi) ** 0.5 * scale
                major = min(max(major, lo * scale), hi * scale)
                step = 10 ** max(0, len(str(int(major))) - 2)
                n = max(step, int(round(major / step) * step))
                if casual is None:  # a bare number after a {cur} in the template
                    return f"{n:,}"
                if not casual:
                    return f"{word()} {n:,}"
                return _casual(n, country, lang, r)
            return make

        def link() -> str:
            x = "".join(r.choice("abcdefghjkmnpqrstuvwxyz23456789") for _ in range(r.randrange(5, 8)))
            return r.choice(SHORTENERS).format(x=x, w=r.choice(LINK_WORDS), c=country.lower(), n=r.randrange(1, 99),
                                               ph=s.phone("intl").lstrip("+"))

        return {
            "name": lambda: s.person(upper=False), "NAME": s.person, "first": s.first,
            "phone": lambda: s.phone(r.choice(("local", "local", "intl", "plus"))),
            "amt": amount(50, 5_000), "small": amount(20, 500), "fee": amount(100, 3_000),
            "big": amount(20_000, 1_000_000, False), "prize": amount(10_000, 2_000_000), "loan": amount(2_000, 200_000),
            "salary": amount(15_000, 150_000), "pay": amount(8_000, 250_000, False), "price": amount(5, 100, None), "money": amount(100, 20_000, False),
            "cur": word, "brand": lambda: brand[0], "wallet": lambda: brand[1],
            "ussd": lambda: r.choice(USSD[country]), "shortcode": lambda: str(r.randrange(100, 99_999)),
            "paybill": lambda: s.digits(5, 7), "till": lambda: s.digits(5, 7), "acct": lambda: s.digits(6, 11),
            "link": link, "site": lambda: r.choice(OFFICIAL_SITES), "otp": lambda: s.digits(4, 6),
            "code": lambda: s.alnum_id(r.choice((6, 8, 10))), "points": lambda: f"{r.randrange(50, 20_000):,}",
            "town": s.town, "shop": lambda: s.shop().title(), "bank": s.bank, "biller": s.biller, "agent": s.agent,
            "verse": lambda: r.choice(VERSES_SW if lang == "sw" else VERSES_EN),
            "ref": lambda: f"{r.choice(('Psalm', 'Zaburi', 'John', 'Yohana', 'Isaiah', 'Romans', 'Mathayo'))} "
                           f"{r.randrange(1, 40)}:{r.randrange(1, 30)}",
            "quote": lambda: r.choice(QUOTES), "song": lambda: r.choice(SONGS), "artist": lambda: r.choice(ARTISTS),
            "betco": lambda: r.choice(BETCOS), "lender": lambda: r.choice(LENDERS), "insurer": lambda: r.choice(INSURERS),
            "church": lambda: r.choice(CHURCHES), "promo": lambda: r.choice(PROMOS), "company": lambda: r.choice(COMPANIES),
            "item": lambda: r.choice(ITEMS), "gov": lambda: r.choice(GOV[country]),
            "day": lambda: r.choice(DAYS_SW if lang in ("sw", "sheng") else DAYS), "hour": lambda: r.choice(HOURS),
            "relation": lambda: r.choice(RELATIONS_SW if lang in ("sw", "sheng") else RELATIONS),
            "date": lambda: f"{r.randrange(1, 29)}/{r.randrange(1, 13):02d}/{r.choice(('24', '25', '2024', '2025'))}",
            "pct": lambda: str(r.choice((10, 15, 20, 25, 30, 40, 50))), "gb": lambda: r.choice(("1GB", "2GB", "500MB", "5GB", "10GB")),
            "mins": lambda: str(r.choice((20, 30, 50, 100, 200))), "num": lambda: str(r.randrange(2, 60)),
            "meter": lambda: s.digits(11, 11), "token": lambda: "-".join(s.digits(4, 4) for _ in range(5)),
            "units": lambda: f"{r.uniform(2, 120):.1f}", "ref_no": lambda: s.alnum_id(8), "last4": lambda: s.digits(4, 4),
            "bal": amount(100, 50_000, False), "agentno": lambda: s.digits(5, 6),
        }


def _casual(n: int, country: str, lang: str, r: random.Random) -> str:
    """An amount as a person types it: "Ksh 1,500", "1500/=", "1.5k", "elfu mbili", "50k"."""
    word = r.choice(CUR_WORD[country])
    options = [f"{word} {n:,}", f"{word}{n}", f"{n:,}/=", f"{n:,}", f"{word} {n:,}", f"{n} {word}"]
    if n >= 1000 and n % 1000 == 0:
        options += [f"{n // 1000}k", f"{n // 1000}K"]
    if lang in ("sw", "sheng") and n % 1000 == 0 and 1 <= n // 1000 <= 10:
        options.append("elfu " + ("moja", "mbili", "tatu", "nne", "tano", "sita", "saba", "nane", "tisa", "kumi")[n // 1000 - 1])
    if lang == "sheng" and country == "KE":
        options += [f"{n} bob", f"bob {n}"]
    if country == "UG":
        options += [f"shs {n:,}", f"{n:,}shs"]
    return r.choice(options)


