"""Safety facts: what an answer to a customer must never leave out.

``safety.yaml`` (next to this module) names each fact, the questions that need it (``asked``) and
how an answer states it (``states``, per language). Articles mark the answer blocks whose action
states a fact (``safety: [pin-never-shared]``). :func:`required` lists the facts a question needs,
:func:`missing` those an answer text omits; the assistant repairs an answer by putting a marked
action first and fails (hands off to a person) when it has none to cite.

>>> required("Someone from customer care wants my PIN", "customer")
['official-numbers-only', 'pin-never-shared']
>>> missing(["pin-never-shared"], "Call the official number.", "en")
['pin-never-shared']
>>> missing(["pin-never-shared"], "Never share your PIN with anyone.", "en")
[]
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import yaml

from pesaguard.assistant.text import normalise
from pesaguard.errors import ConfigError

SAFETY_FILE = Path(__file__).resolve().parent / "safety.yaml"


@dataclass(frozen=True)
class SafetyFact:
    id: str
    about: str
    asked: re.Pattern[str]
    states: dict[str, re.Pattern[str]]


@lru_cache(maxsize=1)
def facts() -> dict[str, SafetyFact]:
    """The shipped safety facts by id."""
    raw = yaml.safe_load(SAFETY_FILE.read_text(encoding="utf-8"))
    out = {}
    for fid, d in raw.items():
        try:
            out[fid] = SafetyFact(fid, d["about"], re.compile(d["asked"], re.I),
                                  {lang: re.compile(p, re.I) for lang, p in d["states"].items()})
        except (KeyError, TypeError, re.error) as exc:
            raise ConfigError(f"safety fact {fid!r} is malformed: {exc}", file=SAFETY_FILE,
                              hint="each fact needs about, asked and states: {en: ..., sw: ...}") from exc
    return out


def required(question: str, audience: str, marked: tuple[str, ...] = ()) -> list[str]:
    """Facts an answer to ``question`` must state: those the question asks about (customers only)
    plus ``marked``, the facts of the answer block chosen to answer it."""
    if audience != "customer":
        return []
    q = normalise(question)
    need = {f.id for f in facts().values() if f.asked.search(q)} | {m for m in marked if m in facts()}
    return sorted(need)


def states(fact_id: str, text: str, lang: str) -> bool:
    """Whether ``text`` states the fact in ``lang`` (English patterns when ``lang`` has none)."""
    f = facts()[fact_id]
    pattern = f.states.get(lang) or f.states["en"]
    return bool(pattern.search(normalise(text)))


def missing(need: list[str], text: str, lang: str) -> list[str]:
    """The facts of ``need`` that ``text`` does not state."""
    return [f for f in need if not states(f, text, lang)]
