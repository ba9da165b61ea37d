"""Build the decision path from configuration: the champion scorer and the policy file."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pandas as pd

from pesaguard.config import Settings
from pesaguard.decisions.policy import Policy, Scorer
from pesaguard.decisions.rules import RuleSet, Thresholds, load_rules, parse_rules
from pesaguard.errors import ModelNotReadyError, PesaguardError
from pesaguard.store import Store, core

log = logging.getLogger("pesaguard.decisions")


def default_rules_path(settings: Settings) -> Path:
    return settings.home / "rules.yaml"


def load_policy(settings: Settings, path: Path | None = None, scorer: Any = None) -> Policy:
    """The policy from ``path`` (or HOME/rules.yaml if it exists; else the shipped mobile-money
    typology pack alone), with the model's thresholds and mode (cold start or supervised)."""
    path = path or default_rules_path(settings)
    rules = load_rules(path) if path.exists() else default_rules()
    return Policy(rules, model_thresholds(scorer), mode=model_mode(scorer))


def default_rules() -> RuleSet:
    """The policy used without a rules file: the shipped mobile-money typology pack."""
    from pesaguard.decisions.typologies import DEFAULT_PACK

    return parse_rules({"packs": [DEFAULT_PACK]}, f"the {DEFAULT_PACK} typology pack")


def model_mode(scorer: Any) -> str:
    """``cold_start`` when the scorer's model is the unsupervised anomaly score, else ``supervised``."""
    bundle = getattr(scorer, "bundle", None)
    if bundle is None:
        return "supervised"
    from pesaguard.models.anomaly import mode_of

    return mode_of(bundle)


def model_thresholds(scorer: Any) -> Thresholds | None:
    """Review/block thresholds the model was calibrated with, if the scorer exposes them
    (``scorer.thresholds`` or ``scorer.bundle.thresholds``, as an object or a dict)."""
    th = getattr(scorer, "thresholds", None) or getattr(getattr(scorer, "bundle", None), "thresholds", None)
    if th is None:
        return None
    review = th.get("review") if isinstance(th, dict) else getattr(th, "review", None)
    block = th.get("block") if isinstance(th, dict) else getattr(th, "block", None)
    if review is None or block is None:
        return None
    return Thresholds(review=float(review), block=float(max(block, review)))


def load_scorer(settings: Settings) -> Scorer:
    """The champion model's scorer (:class:`pesaguard.models.scorer.Scorer`); ModelNotReadyError if
    there is no trained champion yet."""
    hint = "train and promote a model with `pesaguard train` (or run `pesaguard demo`)"
    try:
        from pesaguard.models.registry import champion_scorer
    except ImportError as exc:
        raise ModelNotReadyError(f"the model package cannot be loaded: {exc}", hint=hint) from exc
    try:
        # path attribution for reason codes: TreeSHAP alone would take a quarter of the CPU per
        # decision (docs/architecture.md, "The scoring endpoint's lean path")
        scorer: Scorer = champion_scorer(settings, attribution="path")
    except PesaguardError:
        raise
    except (ImportError, OSError, KeyError, ValueError) as exc:
        raise ModelNotReadyError(f"no champion model could be loaded: {exc}", hint=hint) from exc
    return scorer


def warm_up(scorer: Any, store: Store, days: float = 31.0, ahead_ms: int = 3_600_000,
            now_ms: int | None = None) -> int:
    """Rebuild the scorer's live feature state from the store's recent history (transactions, labels
    known so far and account events of the last ``days`` days, longer than the longest window).

    This is what makes feature state a function of the durable store: after a restart, or a crash,
    every acknowledged decision's transaction counts exactly once. Returns transactions replayed.

    The history ends at the newest transaction dated no later than the server clock plus
    ``ahead_ms`` (the accepted clock skew): a row dated in the future (a bad file, a bad clock)
    neither moves the window nor enters the state, so it cannot make every account look new.
    """
    engine = getattr(scorer, "engine", None)
    if engine is None or not hasattr(engine, "replay"):
        return 0
    limit = (int(time.time() * 1000) if now_ms is None else now_ms) + ahead_ms
    latest = core.newest_transaction_ms(store, limit)
    if latest is None:
        return 0
    since = int(latest - days * 86_400_000)
    txns = core.load_transactions(store, since, latest + 1)
    labels = core.load_labels(store)
    events = core.load_account_events(store)
    events = events[(events["ts_ms"] >= since) & (events["ts_ms"] <= latest)]
    log.info("warming feature state with %d transactions since %d", len(txns), since)
    lock = getattr(scorer, "_lock", None)
    if lock is not None:
        with lock:
            engine.replay(txns, labels=labels if len(labels) else None, account_events=events if len(events) else None)
    else:
        engine.replay(txns, labels=labels if len(labels) else None, account_events=events if len(events) else None)
    peek = getattr(scorer, "peek", None)
    if peek is not None and len(txns):
        # score one transaction without changing state, so any lazily compiled single-row path is
        # built now, at start-up, and not on the first live request
        last = txns.iloc[-1]
        peek({k: (None if pd.isna(v) else v) for k, v in last.items()})
    return len(txns)
