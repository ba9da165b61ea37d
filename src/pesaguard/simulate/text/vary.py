"""Natural variation for people's and scammers' texts: spelling, abbreviations, Sheng, casing, punctuation.

Operator notifications are machine-made and are not varied. Deterministic for a given ``random.Random``.

>>> import random
>>> vary("Please send the money today.", "en", random.Random(3), 0.0)
'Please send the money today.'
"""

from __future__ import annotations

import random
import re

SUBS: dict[str, dict[str, tuple[str, ...]]] = {
    "en": {
        "please": ("pls", "plz", "pliz", "kindly"), "you": ("u",), "your": ("ur", "yr"), "are": ("r",),
        "money": ("cash", "doh", "pesa"), "thanks": ("thx", "thnx", "asante"), "thank you": ("thank u", "thanx", "asante"),
        "tomorrow": ("tmrw", "tomoro", "kesho"), "message": ("msg", "sms"), "number": ("no.", "nmbr", "namba"),
        "account": ("acc", "a/c", "acct"), "because": ("coz", "cos", "bcoz"), "before": ("b4",), "today": ("2day", "leo"),
        "immediately": ("asap", "right now", "haraka"), "congratulations": ("congrats", "CONGRATULATIONS"),
        "okay": ("ok", "sawa", "poa"), "friend": ("msee", "buda"), "hello": ("hallo", "hi", "niaje", "sasa"),
        "hi": ("hey", "niaje", "sasa"), "send": ("snd", "tuma"), "call": ("cal", "piga"), "mistake": ("error",),
        "mistakenly": ("by mistake", "wrongly"), "dear": ("dia", "mpendwa"), "urgently": ("urgent", "haraka"),
        "will": ("'ll", "wil"), "to": ("2",), "for": ("4",), "now": ("sasa",), "great": ("poa", "fiti"),
    },
    "sw": {
        "tafadhali": ("tafadhal", "tafathali", "plz", "pls", "tafadhari"), "pesa": ("doh", "chapaa", "ganji", "mkwanja", "munde"),
        "habari": ("niaje", "sasa", "mambo", "hello", "habari yako"), "rafiki": ("msee", "buda", "bro"),
        "nimekutumia": ("nmekutumia", "nimekutumia", "nimekusendia"), "kimakosa": ("kwa makosa", "bila kujua", "by mistake"),
        "asante": ("asanti", "thanx", "ahsante", "shukran"), "sana": ("saana", "mno"), "haraka": ("upesi", "fasta", "chap chap"),
        "namba": ("nambari", "no.", "nambo"), "sawa": ("poa", "fiti", "ok", "sawasawa"), "leo": ("today",),
        "kesho": ("tmrw",), "mimi": ("mi", "mie"), "wewe": ("we", "wee"), "simu": ("rununu", "phone"),
        "nyumbani": ("home", "keja", "mtaa"), "kazi": ("job", "mboka"), "rudisha": ("reverse", "rudishia"),
        "ujumbe": ("sms", "msg"), "mpendwa": ("dear", "mpenzi"), "kwa sababu": ("juu", "coz"), "nipigie": ("nishtue", "nibeep"),
        "mteja": ("customer",), "akaunti": ("account", "acc"), "nitumie": ("nisendie", "nitumie tu"),
    },
}
_PATTERNS = {lang: re.compile(r"\b(" + "|".join(sorted(map(re.escape, d), key=len, reverse=True)) + r")\b", re.I)
             for lang, d in SUBS.items()}
_WORD = re.compile(r"[A-Za-z]{5,}")


def _match_case(src: str, rep: str) -> str:
    if src.isupper() and len(src) > 1:
        return rep.upper()
    if src[:1].isupper():
        return rep[:1].upper() + rep[1:]
    return rep


def _typo(text: str, rng: random.Random) -> str:
    words = [m for m in _WORD.finditer(text) if "{" not in m.group()]
    if not words:
        return text
    m = rng.choice(words)
    w = m.group()
    i = rng.randrange(1, len(w) - 1)
    op = rng.random()
    if op < 0.3:
        w = w[:i] + w[i + 1:]  # dropped letter
    elif op < 0.6:
        w = w[:i] + w[i + 1] + w[i] + w[i + 2:]  # swapped letters
    elif op < 0.8:
        w = w[:i] + w[i] + w[i:]  # doubled letter
    else:
        w = w[:i] + rng.choice("aeiou") + w[i + 1:]  # wrong vowel
    return text[: m.start()] + w + text[m.end():]


def vary(text: str, lang: str, rng: random.Random, strength: float) -> str:
    """Return ``text`` with random human variation; ``strength`` 0 leaves it as it is, 1 is heavy."""
    if strength <= 0:
        return text
    subs = SUBS[lang]

    def sub(m: re.Match[str]) -> str:
        if rng.random() >= 0.3 * strength:
            return m.group()
        return _match_case(m.group(), rng.choice(subs[m.group().lower()]))

    text = _PATTERNS[lang].sub(sub, text)
    for _ in range(2):
        if rng.random() < 0.15 * strength:
            text = _typo(text, rng)
    r = rng.random()
    if r < 0.06 * strength:
        text = text.upper()
    elif r < 0.18 * strength:
        text = text.lower()
    r = rng.random()
    if r < 0.15 * strength:
        text = text.rstrip(".")
    elif r < 0.25 * strength:
        text = text.rstrip(".") + rng.choice(("!!", "!!!", "!", " !", "..."))
    if rng.random() < 0.12 * strength:
        text = text.replace(". ", rng.choice(("..", ".", " ", ". . ")))
    if rng.random() < 0.08 * strength:
        text = text.replace(", ", rng.choice((",", " ", " , ")))
    if rng.random() < 0.05 * strength:
        text = text.replace(" ", "  ", 1)
    return text
