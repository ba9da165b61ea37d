"""Case summaries for analysts: what happened in a case, in a few sentences of English or Swahili.

The facts (timeline, amounts, counterparties, the typology rules and model reasons that fired, the
account's SMS) are read from the case as :func:`pesaguard.decisions.cases.get` returns it; counts
and totals are computed from it. A template writes them out. When a chat API is configured
(``PESAGUARD_ASSISTANT_LLM_URL``, the assistant's :class:`~pesaguard.assistant.generate.ChatGenerator`)
a model may rephrase them, under :func:`check`: every number, identifier and rule name in its text
must be in the facts, else the template's text is returned with the reason.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

from pesaguard.decisions.policy import pct
from pesaguard.decisions.summary_text import PHRASES

Lang = Literal["en", "sw"]
MAX_LISTED = 3  # counterparties, rules, reasons and SMS named per summary: it stays short however big the case
_DECIMALS = {"UGX": 0, "RWF": 0, "BIF": 0, "XAF": 0, "XOF": 0, "GNF": 0}


def money(minor: int | None, currency: str = "KES") -> str:
    """An amount in minor units for people.

    >>> money(4060000), money(5000, "UGX")
    ('KES 40,600.00', 'UGX 5,000')
    """
    if minor is None:
        return ""
    d = _DECIMALS.get(currency, 2)
    return f"{currency} {minor / 10**d:,.{d}f}"


def when(ms: int) -> str:
    """A stored time for people; any stored value renders (a row dated in year 146 million included).

    >>> when(0), when(2**62)
    ('1970-01-01 00:00', 'outside the calendar')
    """
    try:
        return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%d %H:%M")
    except (ValueError, OverflowError, OSError):
        return "outside the calendar"


@dataclass(frozen=True)
class Facts:
    """What the summary may say, read and counted from one case."""

    case_id: str
    account_id: str
    status: str
    resolution: str | None
    currency: str
    max_score: float
    flagged: int
    blocked: int
    first_ms: int
    last_ms: int
    total_minor: int
    max_minor: int
    counterparties: list[tuple[str, int, int]]  # (account, flagged transactions, total minor), largest first
    more_counterparties: int
    rules: list[tuple[str, str, int]]  # (rule, its reason, transactions it fired on)
    model_reasons: list[tuple[str, int]]
    history_txns: int
    sms_total: int
    sms_flagged: int
    sms_shown: list[dict[str, Any]] = field(default_factory=list)


def facts(case: dict[str, Any], currency: str = "KES") -> Facts:
    """The facts of ``case`` (a dict from :func:`pesaguard.decisions.cases.get`)."""
    decisions = case["decisions"]
    txns = {t["txn_id"]: t for t in case["timeline"] if t["kind"] == "txn"}
    cur = next((t["currency"] for t in txns.values() if t.get("currency")), currency)
    per_party: dict[str, list[int]] = {}
    rule_reason: dict[str, str] = {}
    rule_n: Counter[str] = Counter()
    reason_n: Counter[str] = Counter()
    for d in decisions:
        t = txns.get(d["txn_id"])
        if t is not None:
            other = t["payee"] if t["payer"] == case["account_id"] else t["payer"]
            per_party.setdefault(other, []).append(int(d["amount_minor"]))
        hits = d.get("rule_hits") or []
        for h in hits:
            rule_n[h["rule"]] += 1
            rule_reason.setdefault(h["rule"], str(h.get("reason") or ""))
        fired = {str(h.get("reason")) for h in hits}
        # the policy's reasons are the rules' reasons, then the model's, then its threshold sentence
        reason_n.update(r for r in d["reasons"] if r not in fired and not r.startswith("model score "))
    parties = sorted(((p, len(a), sum(a)) for p, a in per_party.items()), key=lambda x: (-x[2], x[0]))
    sms = [t for t in case["timeline"] if t["kind"] == "sms"]
    risky = [s for s in sms if s.get("verdict") in ("scam", "suspicious")]
    times = [int(d["ts_ms"]) for d in decisions] or [int(case["opened_ms"])]
    amounts = [int(d["amount_minor"]) for d in decisions] or [0]
    return Facts(
        case_id=case["case_id"], account_id=case["account_id"], status=case["status"],
        resolution=case.get("resolution"), currency=cur, max_score=float(case["max_score"]),
        flagged=len(decisions), blocked=sum(d["action"] == "block" for d in decisions),
        first_ms=min(times), last_ms=max(times), total_minor=sum(amounts), max_minor=max(amounts),
        counterparties=parties[:MAX_LISTED], more_counterparties=max(0, len(parties) - MAX_LISTED),
        rules=[(r, rule_reason[r], n) for r, n in sorted(rule_n.items(), key=lambda x: (-x[1], x[0]))[:MAX_LISTED]],
        model_reasons=sorted(reason_n.items(), key=lambda x: (-x[1], x[0]))[:MAX_LISTED],
        history_txns=len(txns), sms_total=len(sms), sms_flagged=len(risky), sms_shown=(risky or sms)[:2])


def _clip(text: str, limit: int = 100) -> str:
    """At most ``limit`` characters, cut between words (a number is never cut in two)."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit].rsplit(" ", 1)[0] + " …"


def template(f: Facts, lang: Lang = "en") -> str:
    """The summary written from the facts alone, in ``lang``."""
    p = PHRASES[lang]
    state = p["open"] if f.status == "open" else p["resolved"].format(p.get(f.resolution or "", f.resolution))
    out = [p["head"].format(account=f.account_id, case=f.case_id, state=state, risk=pct(f.max_score))]
    if f.flagged:
        first, last = when(f.first_ms), when(f.last_ms)
        window = p["moment" if first == last else "window"].format(first=first, last=last)
        out.append(p["flagged"].format(n=f.flagged, window=window, blocked=f.blocked, review=f.flagged - f.blocked,
                                       total=money(f.total_minor, f.currency), largest=money(f.max_minor, f.currency)))
    if f.counterparties:
        parties = [p["party"].format(name=n, n=k, total=money(t, f.currency)) for n, k, t in f.counterparties]
        more = p["more"].format(n=f.more_counterparties) if f.more_counterparties else ""
        out.append(p["parties"].format(list="; ".join(parties), more=more))
    if f.rules:
        out.append(p["rules"].format(list="; ".join(p["rule"].format(rule=r, reason=_clip(why, 80), n=n)
                                                     for r, why, n in f.rules)))
    if f.model_reasons:
        out.append(p["reasons"].format(list="; ".join(p["reason"].format(text=_clip(t, 80), n=n)
                                                      for t, n in f.model_reasons)))
    out.append(p["history"].format(n=f.history_txns))
    if not f.sms_total:
        out.append(p["no_sms"])
    else:
        out.append(p["sms"].format(n=f.sms_total, flagged=f.sms_flagged))
        for s in f.sms_shown:
            verdict = p.get(str(s.get("verdict")), s.get("verdict") or "—")
            out.append(p["sms_one"].format(sender=s["sender"], at=when(int(s["ts_ms"])), verdict=verdict,
                                           text=_clip(s.get("text_redacted") or "")))
    return " ".join(out)


# -- the faithfulness check -------------------------------------------------------------------

_ID = re.compile(r"\b(?=[\w-]*[A-Za-z])(?=[\w-]*\d)[\w-]+\b")  # a token with letters and digits: C000, t900
_RULE = re.compile(r"\b[A-Za-z]\w*_\w*(?:\.\w+)?\b")  # snake_case names: rules, typologies, features
_NUMBER = re.compile(r"\d{1,3}(?:,\d{3})+(?:\.\d+)?|\d+(?:\.\d+)?")
# numbers written as words could carry an invented amount past the numeral check
_MAGNITUDES = re.compile(r"\b(hundred|thousand|million|billion|mia|elfu|laki|milioni|bilioni)\b", re.I)


def numbers(text: str) -> set[str]:
    """The numerals of ``text``, canonical (thousands separators and trailing zeros dropped), outside
    identifiers.

    >>> sorted(numbers("KES 40,600.00 on 2024-06-01 02:00 by C000 (97%)"))
    ['0', '1', '2', '2024', '40600', '6', '97']
    """
    bare = _ID.sub(" ", text)
    return {format(Decimal(m.replace(",", "")).normalize(), "f") for m in _NUMBER.findall(bare)}


def names(text: str) -> set[str]:
    """Identifiers (letters and digits) and snake_case names in ``text``, lower-cased."""
    return {m.lower() for m in _ID.findall(text)} | {m.lower() for m in _RULE.findall(text)}


def check(text: str, facts_text: str) -> list[str]:
    """Why ``text`` is not faithful to ``facts_text`` (empty when it is): numbers, identifiers or rule
    names that the facts do not contain, or numbers written as words."""
    problems = []
    extra = numbers(text) - numbers(facts_text)
    if extra:
        problems.append("numbers not in the case: " + ", ".join(sorted(extra)))
    unknown = names(text) - names(facts_text)
    if unknown:
        problems.append("names not in the case: " + ", ".join(sorted(unknown)))
    words = _MAGNITUDES.findall(text)
    if words:
        problems.append("numbers written as words: " + ", ".join(sorted(set(words))))
    if not text.strip():
        problems.append("empty text")
    return problems


# -- generated summaries ----------------------------------------------------------------------


class Chat(Protocol):
    name: str

    def complete(self, messages: list[dict[str, str]]) -> str: ...


@dataclass(frozen=True)
class Summary:
    case_id: str
    lang: Lang
    text: str
    source: str  # "template" or the chat model ("chat:MODEL") whose text passed the check
    rejected: list[str] = field(default_factory=list)  # why a generated text was not used


_cache: dict[tuple[str, str, str], str] = {}
_cache_lock = threading.Lock()


def _generate(chat: Chat, facts_text: str, lang: Lang) -> str:
    """The chat model's summary of ``facts_text``, cached by model, language and facts (a case page
    is opened many times; the facts change only when the case does)."""
    key = (chat.name, lang, facts_text)
    with _cache_lock:
        if key in _cache:
            return _cache[key]
    system = PHRASES[lang]["system"]
    text = chat.complete([{"role": "system", "content": system},
                          {"role": "user", "content": f"Facts of the case:\n{facts_text}"}]).strip()
    with _cache_lock:
        if len(_cache) >= 512:
            _cache.pop(next(iter(_cache)))
        _cache[key] = text
    return text


def summarize(case: dict[str, Any], lang: Lang = "en", *, chat: Chat | None = None,
              currency: str = "KES") -> Summary:
    """The case's summary: the template's, or ``chat``'s when it passes :func:`check` against the
    facts. The chat model is shown the English template (all facts, nothing else)."""
    f = facts(case, currency)
    text = template(f, lang)
    if chat is None:
        return Summary(f.case_id, lang, text, "template")
    from pesaguard.assistant.generate import LLMUnavailable  # the assistant loads only when a chat API is set

    facts_text = template(f, "en") + ("\n" + text if lang != "en" else "")
    try:
        generated = _generate(chat, facts_text, lang)
    except LLMUnavailable as exc:
        return Summary(f.case_id, lang, text, "template", [exc.message])
    problems = check(generated, facts_text)
    if problems:
        return Summary(f.case_id, lang, text, "template", problems)
    return Summary(f.case_id, lang, generated, chat.name)


def chat_from_settings(settings: Any) -> Chat | None:
    """The assistant's chat API client when ``PESAGUARD_ASSISTANT_LLM_URL`` is set, else None."""
    if not getattr(settings, "assistant_llm_url", None):
        return None
    from pesaguard.assistant.generate import ChatGenerator

    return ChatGenerator(settings.assistant_llm_url, settings.assistant_llm_model,
                         api_key=settings.assistant_llm_api_key, timeout_s=settings.assistant_llm_timeout_s)
