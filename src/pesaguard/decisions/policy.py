"""Policy: a model score plus operator rules and lists -> allow, review or block, with reasons.

Precedence (the same as Stripe Radar's): an ``allow`` rule that hits wins over everything (it is
how operators whitelist known-good accounts and devices); otherwise the most severe of the block
rules, review rules and the score thresholds decides. Every rule is evaluated in file order and
every hit is reported with the values it was tested on, whether or not it decided the action.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from pesaguard.decisions.rules import RuleSet, Thresholds

SEVERITY = {"allow": 0, "review": 1, "block": 2}
#: Used only when neither the model nor the policy file gives thresholds.
DEFAULT_THRESHOLDS = Thresholds(review=0.5, block=0.9)


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


class Policy:
    """Thresholds + a :class:`RuleSet`; :meth:`decide` is pure and deterministic."""

    def __init__(self, rules: RuleSet | None = None, model_thresholds: Thresholds | None = None) -> None:
        self.rules = rules or RuleSet()
        # the policy file overrides the model's thresholds, which override the defaults
        self.thresholds = self.rules.thresholds or model_thresholds or DEFAULT_THRESHOLDS
        self.version = f"{self.rules.version}:{self.thresholds.review:g}/{self.thresholds.block:g}"
        self._active = [r for r in self.rules.rules if r.enabled]

    def hits(self, txn: dict[str, Any], features: dict[str, Any]) -> list[dict[str, Any]]:
        """Every enabled rule whose conditions all hold, with the values tested."""
        out = []
        for rule in self._active:
            tested = []
            for cond in rule.when:
                ok, value = cond.test(txn, features, self.rules.lists)
                if not ok:
                    break
                tested.append({"condition": cond.text, "value": value})
            else:
                out.append({"rule": rule.name, "action": rule.action, "reason": rule.reason, "matched": tested})
        return out

    def decide(self, txn: dict[str, Any], score: float, model_reasons: list[str],
               features: dict[str, Any]) -> Outcome:
        hits = self.hits(txn, features)
        th = self.thresholds
        by_score = "block" if score >= th.block else "review" if score >= th.review else "allow"
        if any(h["action"] == "allow" for h in hits):
            allowed = [h for h in hits if h["action"] == "allow"]
            return Outcome("allow", [h["reason"] for h in allowed], hits)
        action = max([by_score, *(h["action"] for h in hits)], key=SEVERITY.__getitem__)
        reasons = [h["reason"] for h in hits if h["action"] != "allow"]
        if by_score != "allow":  # the model's own reasons lead: they say why, the threshold says how much
            reasons += [*model_reasons, f"model score {score:.3f} >= {by_score} threshold "
                        f"{th.block if by_score == 'block' else th.review:g}"]
        return Outcome(action, reasons, hits)
