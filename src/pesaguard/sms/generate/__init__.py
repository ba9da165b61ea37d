"""The generated part of the SMS training corpus: what real phones in East Africa receive.

Five sources, each in two template families: ``a`` trains the shipped model, ``b`` (different
templates, tails, masks and seeds) is only used to test a model that never saw the source
(``benchmarks/bench_sms.py``, leave-one-source-out):

- ``gen_notifications``: genuine mobile-money notifications of every operator format (:mod:`.notifications`);
- ``gen_service``: bank alerts, tokens, one-time codes, reminders, bet receipts (:mod:`.personal`);
- ``gen_promotions``: offers, licensed betting and lending adverts, subscriptions (:mod:`.promotions`);
- ``gen_personal``: people writing to people (:mod:`.personal`);
- ``gen_scams``: scams in East-African shapes (:mod:`.scams`).

>>> df = generate_source("gen_scams", "a", 3, seed=0)
>>> list(df.columns), sorted(set(df["category"]))
(['text', 'category', 'scam_type', 'source', 'group'], ['scam'])
"""

from __future__ import annotations

import random

import pandas as pd

from pesaguard.sms.generate import notifications, personal, promotions, scams
from pesaguard.sms.generate.fill import Filler

SOURCES: tuple[str, ...] = ("gen_notifications", "gen_service", "gen_promotions", "gen_personal", "gen_scams")
CATEGORY = {"gen_notifications": "genuine", "gen_service": "genuine", "gen_promotions": "promotion",
            "gen_personal": "genuine", "gen_scams": "scam"}
#: Messages per source and family: ``a`` is the training share, ``b`` the held-out test share.
SIZES: dict[str, dict[str, int]] = {
    "a": {"gen_notifications": 3000, "gen_service": 900, "gen_promotions": 1400, "gen_personal": 2400, "gen_scams": 2200},
    "b": {"gen_notifications": 1500, "gen_service": 500, "gen_promotions": 800, "gen_personal": 1200, "gen_scams": 1200},
}
# Which language's spelling variation a human-written text gets (simulate.text.vary knows en and sw).
_VARY_LANG = {"en": "en", "sw": "sw", "sheng": "sw", "lg": "en"}
_COLUMNS = ["text", "category", "scam_type", "source", "group"]


class _NONE:
    format = "unparsed"


def generate_source(source: str, family: str, n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` messages of one source and family; ``group`` names the template each came from."""
    if source not in CATEGORY:
        raise ValueError(f"unknown source {source!r}; known: {', '.join(SOURCES)}")
    if family not in ("a", "b"):
        raise ValueError(f"family must be 'a' or 'b', not {family!r}")
    if source == "gen_notifications":
        from pesaguard.sms.formats import inspect

        texts = notifications.generate(n, family, seed)
        # A notification's template is its format (operator, language, kind).
        formats = [(inspect(t).notification or _NONE).format for t in texts]
        return pd.DataFrame({"text": texts, "category": "genuine", "scam_type": None, "source": source,
                             "group": [f"{source}:{family}:{f}" for f in formats]})[_COLUMNS]
    rng = random.Random(f"{source}-{family}-{seed}")
    filler = Filler(rng, family)
    pool = _pool(source, family)
    rows = []
    for _ in range(n):
        key, lang, index, template = pool[rng.randrange(len(pool))]
        text, _country = filler.fill(template, lang)
        if source in ("gen_personal", "gen_scams") and lang in _VARY_LANG:
            from pesaguard.simulate.text.vary import vary  # training-time only: never on the scoring path

            text = vary(text, _VARY_LANG[lang], rng, 0.7 if source == "gen_scams" else 0.9)
        scam_type = scams.SCAM_TYPE[key] if source == "gen_scams" else None
        rows.append((text, CATEGORY[source], scam_type, source, f"{source}:{family}:{key}:{lang}:{index}"))
    return pd.DataFrame(rows, columns=_COLUMNS)


def _pool(source: str, family: str) -> list[tuple[str, str, int, str]]:
    """(key, language, index, template) of every template of one source and family."""
    if source == "gen_scams":
        return [(key, lang, i, t) for key, langs in scams.SCAMS[family].items()
                for lang, ts in langs.items() for i, t in enumerate(ts)]
    table = {"gen_promotions": promotions.TEMPLATES, "gen_personal": personal.PERSONAL,
             "gen_service": personal.SERVICE}[source][family]
    return [(source, lang, i, t) for lang, ts in table.items() for i, t in enumerate(ts)]


def generated_corpus(family: str = "a", seed: int = 0, scale: float = 1.0) -> pd.DataFrame:
    """Every generated source of one family (``scale`` multiplies :data:`SIZES`)."""
    parts = [generate_source(src, family, max(1, int(SIZES[family][src] * scale)), seed) for src in SOURCES]
    return pd.concat(parts, ignore_index=True)
