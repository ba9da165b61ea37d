"""Build the decision path from configuration: the champion scorer and the policy file."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from pesaguard.config import Settings
from pesaguard.decisions.policy import Policy, Scorer
from pesaguard.decisions.rules import RuleSet, Thresholds, load_rules
from pesaguard.errors import ModelNotReadyError

log = logging.getLogger("pesaguard.decisions")


def default_rules_path(settings: Settings) -> Path:
    return settings.home / "rules.yaml"


def load_policy(settings: Settings, path: Path | None = None, scorer: Any = None) -> Policy:
    """The policy from ``path`` (or HOME/rules.yaml if it exists), with the model's thresholds."""
    path = path or default_rules_path(settings)
    rules = load_rules(path) if path.exists() else RuleSet()
    return Policy(rules, model_thresholds(scorer))


def model_thresholds(scorer: Any) -> Thresholds | None:
    """Review/block thresholds the model was calibrated with, if the scorer exposes them."""
    th = getattr(scorer, "thresholds", None)
    if th is None:
        return None
    review = th.get("review") if isinstance(th, dict) else getattr(th, "review", None)
    block = th.get("block") if isinstance(th, dict) else getattr(th, "block", None)
    if review is None or block is None:
        return None
    return Thresholds(review=float(review), block=float(max(block, review)))


def load_scorer(settings: Settings) -> Scorer:
    """The champion model's scorer from :mod:`pesaguard.models`; ModelNotReadyError if none."""
    try:
        from pesaguard.models import Scorer as ModelScorer  # type: ignore[attr-defined]
    except ImportError as exc:
        raise ModelNotReadyError("this installation has no model scorer (pesaguard.models.Scorer)",
                                 hint="train a model with `pesaguard train`") from exc
    scorer: Scorer = ModelScorer.load(settings)
    return scorer
