"""Policy: a model score plus operator rules and lists -> allow, review or block, with reasons.

Precedence (the same as Stripe Radar's): an ``allow`` rule that hits wins over everything (it is
how operators whitelist known-good accounts and devices); otherwise the most severe of the block
rules, review rules and the score thresholds decides. Every rule is evaluated in file order and
every hit is reported with the values it was tested on, whether or not it decided the action.

The thresholds act on the model's probability ``p``; the decision reports a risk, which orders the
alert queue. It combines ``p`` with the weights ``w`` of the rules that hit, each the share of that
rule's hits expected to be fraud, as independent evidence: ``risk = 1 - (1 - p) * prod(1 - s * w)``
(a noisy-OR), where the share ``s`` depends on the model (:attr:`Policy.mode`):

- ``cold_start`` (the unsupervised anomaly score, before labels exist): ``s = 1``. The anomaly score
  knows no typology, so the pack's knowledge is what ranks.
- ``supervised`` (a model trained on labels): ``s = 0.1`` (:data:`SUPERVISED_WEIGHT_SHARE`); the
  rules act mostly as operator overrides (their actions and reasons). A trained model has already
  learned much of what the rules look at: on the demo's simulated worlds (seeds 7 and 11) the full
  weights lowered average precision from 0.655 to 0.561 and from 0.626 to 0.544, while a tenth of
  them kept it within 0.01 and lifted the worst typology's recall at a 1% review budget from 0.29 to
  0.65 (compromised agents, whose labels the model had not yet learned from).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import numpy as np

from pesaguard.decisions.rules import Column, Rule, RuleSet, Thresholds
from pesaguard.features.describe import humanize

SEVERITY = {"allow": 0, "review": 1, "block": 2}
#: Used only when neither the model nor the policy file gives thresholds.
DEFAULT_THRESHOLDS = Thresholds(review=0.5, block=0.9)
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")


class ScoreResultLike(Protocol):
    """What a scorer returns (``pesaguard.models.scorer.Scorer.score``); reasons are strings or
    objects with a ``text`` sentence."""

    @property
    def score(self) -> float: ...
    @property
    def reasons(self) -> Sequence[Any]: ...
    @property
    def model_version(self) -> str: ...
    @property
    def features(self) -> Mapping[str, Any]: ...


class Scorer(Protocol):
    """Scores one transaction dict, updating its live feature state exactly once per call."""

    def score(self, txn: dict[str, Any]) -> ScoreResultLike: ...


@dataclass(frozen=True)
class Outcome:
    action: str
    reasons: list[str]
    rule_hits: list[dict[str, Any]] = field(default_factory=list)
    #: the combined risk (see the module docstring); the model's probability when no weighted rule hit
    score: float = 0.0


@dataclass(frozen=True)
class FrameOutcome:
    """:meth:`Policy.decide_frame`'s decisions, one per row: the :class:`Outcome` fields column-wise,
    the reasons and the names of the rules that hit (file order) only for rows that have any."""

    action: np.ndarray
    score: np.ndarray
    reasons: dict[int, list[str]]
    rules: dict[int, list[str]]


def combine(p: float, weights: Sequence[float]) -> float:
    """Noisy-OR of a probability and rule weights.

    >>> round(combine(0.1, [0.5]), 3), round(combine(0.2, []), 3)
    (0.55, 0.2)
    """
    keep = 1.0 - min(max(float(p), 0.0), 1.0)
    for w in weights:
        keep *= 1.0 - w
    return 1.0 - keep


def pct(p: float) -> str:
    """A probability with enough digits to tell alerts apart: 42%, 3.1%, 0.27%, 0.0041%."""
    if p >= 0.1:
        return f"{p:.0%}"
    if p <= 0:
        return "0%"
    digits = max(1, 1 - math.floor(math.log10(p * 100)))
    return f"{p * 100:.{digits}f}%"


def reason_text(rule: Rule, txn: dict[str, Any], features: dict[str, Any],
                fields: dict[str, str] | None = None) -> str:
    """The rule's reason with ``{field}`` placeholders replaced by the tested values in words
    (``fields``: ``rule.fields()``, when the caller has it)."""
    if "{" not in rule.reason:
        return rule.reason
    fields = rule.fields() if fields is None else fields

    def fill(m: re.Match[str]) -> str:
        col = fields.get(m.group(1).strip())
        if col is None:
            return m.group(0)
        if col.startswith("features."):
            name, value = col[len("features."):], features.get(col[len("features."):])
        else:
            name, value = ("amount" if col == "amount_minor" else col), txn.get(col)
        if value is None or isinstance(value, str) or (isinstance(value, float) and value != value):
            return "?" if value is None else str(value)
        return humanize(name, value)

    return _PLACEHOLDER.sub(fill, rule.reason)


ACTIONS = ("allow", "review", "block")  # by SEVERITY
MODES = ("supervised", "cold_start")
#: How much of each rule weight counts next to a supervised model's probability (see the module).
SUPERVISED_WEIGHT_SHARE = 0.1


class Policy:
    """Thresholds + a :class:`RuleSet` + the model's mode; :meth:`decide` is pure and deterministic."""

    def __init__(self, rules: RuleSet | None = None, model_thresholds: Thresholds | None = None,
                 mode: str = "supervised") -> None:
        if mode not in MODES:
            raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
        self.rules = rules or RuleSet()
        self.mode = mode
        # the policy file overrides the model's thresholds, which override the defaults
        self.thresholds = self.rules.thresholds or model_thresholds or DEFAULT_THRESHOLDS
        self.version = f"{self.rules.version}:{self.thresholds.review:g}/{self.thresholds.block:g}" + (
            ":cold" if mode == "cold_start" else "")
        self._active = [(r, r.conditions) for r in self.rules.rules if r.enabled]

    def describe(self) -> str:
        """One line for people: what decides (shown in the console)."""
        packs = ", ".join(self.rules.packs) or "no"
        typologies = len({r.typology for r in self.rules.rules if r.typology})
        own = sum(1 for r in self.rules.rules if not r.typology)
        rules = f"{packs} typology pack ({typologies} typologies)" + (f" and {own} operator rules" if own else "")
        if self.mode == "cold_start":
            return f"cold start: unsupervised anomaly score ranked with the {rules}"
        return f"supervised model; the {rules} as overrides"

    def hits(self, txn: dict[str, Any], features: dict[str, Any]) -> list[dict[str, Any]]:
        """Every enabled rule whose conditions all hold, with the values tested."""
        out = []
        lists = self.rules.lists
        for rule, conditions in self._active:
            tested = []
            for cond in conditions:
                ok, value = cond.test(txn, features, lists)
                if not ok:
                    break
                tested.append({"condition": cond.text, "value": value})
            else:
                hit: dict[str, Any] = {"rule": rule.name, "action": rule.action, "reason": reason_text(rule, txn, features),
                       "matched": tested}
                if rule.weight is not None:
                    hit["weight"] = rule.weight
                if rule.typology is not None:
                    hit["typology"] = rule.typology
                out.append(hit)
        return out

    def decide(self, txn: dict[str, Any], score: float, model_reasons: list[str],
               features: dict[str, Any]) -> Outcome:
        hits = self.hits(txn, features)
        th = self.thresholds
        by_score = "block" if score >= th.block else "review" if score >= th.review else "allow"
        if any(h["action"] == "allow" for h in hits):
            allowed = [h for h in hits if h["action"] == "allow"]
            return Outcome("allow", [h["reason"] for h in allowed], hits, float(score))
        acting = [h for h in hits if h["action"] != "allow"]
        action = max([by_score, *(h["action"] for h in acting)], key=SEVERITY.__getitem__)
        share = 1.0 if self.mode == "cold_start" else SUPERVISED_WEIGHT_SHARE
        risk = combine(score, [share * h["weight"] for h in acting if "weight" in h])
        reasons = [h["reason"] for h in acting]
        if by_score != "allow":  # the model's own reasons lead: they say why, the threshold says how much
            level = th.block if by_score == "block" else th.review
            reasons += [*model_reasons, f"model score {pct(score)} is above the {by_score} threshold ({pct(level)})"]
        return Outcome(action, reasons, hits, risk)

    def decide_frame(self, columns: Mapping[str, Column], p: np.ndarray,
                     model_reasons: Callable[[np.ndarray], Sequence[list[str]]] | None = None) -> FrameOutcome:
        """:meth:`decide` for every row of a frame at once, with the same action, risk, reasons and
        rules hit row for row (a property test holds them equal over varied rules and thresholds).

        ``columns`` holds each field a condition names (:class:`Column`: transaction columns as the
        service's validated request has them, ``features.NAME`` as floats); ``p`` the model's
        probabilities; ``model_reasons(rows)`` the model's reasons for the given rows, asked only for
        rows whose reasons show them (score at or above review, no allow rule hit).

        The rules, thresholds and risk are evaluated column-wise, with the float operations of
        :func:`combine` in the same order; Python runs only for the rows that hit a rule or pass a
        threshold, to write their sentences.
        """
        p = np.asarray(p, dtype=np.float64)
        n = len(p)
        th = self.thresholds
        by_score = np.where(p >= th.block, 2, np.where(p >= th.review, 1, 0)).astype(np.int8)
        severity = by_score.copy()
        allowed = np.zeros(n, dtype=bool)
        keep = 1.0 - np.clip(p, 0.0, 1.0)
        share = 1.0 if self.mode == "cold_start" else SUPERVISED_WEIGHT_SHARE
        hit: list[tuple[Rule, np.ndarray]] = []
        for rule, conditions in self._active:
            rows = np.arange(n)
            for cond in conditions:  # each condition tested only on the rows the ones before it kept
                rows = rows[cond.mask(columns, self.rules.lists, n, rows)]
                if not len(rows):
                    break
            if not len(rows):
                continue
            hit.append((rule, rows))
            if rule.action == "allow":
                allowed[rows] = True
                continue
            severity[rows] = np.maximum(severity[rows], SEVERITY[rule.action])
            if rule.weight is not None:
                keep[rows] *= 1.0 - share * rule.weight
        risk = 1.0 - keep
        risk[allowed] = p[allowed]  # an allow rule reports the model's probability as it is
        severity[allowed] = 0
        rules: dict[int, list[str]] = {}
        reasons: dict[int, list[str]] = {}
        for rule, rows in hit:
            shown = rows[allowed[rows] == (rule.action == "allow")]
            for i in rows.tolist():
                rules.setdefault(i, []).append(rule.name)
            if len(shown):
                for i, text in zip(shown.tolist(), self._reason_texts(rule, columns, shown), strict=True):
                    reasons.setdefault(i, []).append(text)
        scored = np.flatnonzero((by_score > 0) & ~allowed)
        explained = model_reasons(scored) if model_reasons is not None and len(scored) else [[]] * len(scored)
        levels = {1: ("review", pct(th.review)), 2: ("block", pct(th.block))}
        for i, own, level in zip(scored.tolist(), explained, by_score[scored].tolist(), strict=True):
            name, threshold = levels[level]
            reasons.setdefault(i, []).extend(
                [*own, f"model score {pct(float(p[i]))} is above the {name} threshold ({threshold})"])
        return FrameOutcome(np.asarray(ACTIONS, dtype=object)[severity], risk, reasons, rules)

    @staticmethod
    def _reason_texts(rule: Rule, columns: Mapping[str, Column], rows: np.ndarray) -> list[str]:
        """:func:`reason_text` for the given rows, each given the values its placeholders name;
        rows with the same values share one sentence."""
        if "{" not in rule.reason:
            return [rule.reason] * len(rows)
        fields = rule.fields()
        wanted = sorted({f for f in fields.values() if f in columns})
        said: dict[tuple[Any, ...], str] = {}
        out = []
        for i in rows.tolist():
            values = [columns[f].at(i) for f in wanted]
            key = tuple(v if v else repr(v) for v in values)  # 0.0 and -0.0 are equal keys but read differently
            text = said.get(key)
            if text is None:
                txn = {f: v for f, v in zip(wanted, values, strict=True) if not f.startswith("features.")}
                features = {f[len("features."):]: v for f, v in zip(wanted, values, strict=True)
                            if f.startswith("features.")}
                text = said[key] = reason_text(rule, txn, features, fields)
            out.append(text)
        return out
