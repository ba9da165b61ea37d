"""What the service would actually do on a test period: the model alone, the typology pack alone, and
both combined under the policy, measured the same way on the same transactions.

Contract: ``test`` holds the test transactions (transaction columns, ``is_fraud``, optionally
``typology``) and ``features`` their feature values, row for row, as the live scorer saw them. Each
*arm* is a risk per transaction and the action the policy takes on it:

- ``model``: the model's probability, acted on by the policy's thresholds alone;
- ``pack``: the noisy-OR of the weights of the pack rules that hit (0 when none does), acted on by
  the rules' actions alone;
- ``combined``: :meth:`pesaguard.decisions.policy.Policy.decide` vectorised: the rules' actions and
  the thresholds together, the risk combining the model's probability with the rule weights as the
  policy's mode says (a tenth of each weight next to a supervised model, all of it in cold start).

Each arm is measured by average precision, recall when an analyst team reviews the top
``budget`` share of each day's transactions by risk (a transaction with risk 0 is never reviewed),
recall per typology at that budget, fraud money reviewed and missed at that budget, and the alerts
per day and recall of the policy's actions.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pesaguard.decisions.backtest import build_frame, rule_masks
from pesaguard.decisions.policy import SEVERITY, SUPERVISED_WEIGHT_SHARE, Policy
from pesaguard.decisions.rules import Thresholds

DAY_MS = 86_400_000
ACTIONS = ("allow", "review", "block")


def decide_frame(policy: Policy, frame: pd.DataFrame, p: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """``(risk, action)`` per row: :meth:`Policy.decide` on a whole frame (``p=None``: no model, the
    rules alone). The same risk and action as deciding each row live (a test holds them equal)."""
    n = len(frame)
    masks = rule_masks(policy.rules, frame)
    share = 1.0 if (p is None or policy.mode == "cold_start") else SUPERVISED_WEIGHT_SHARE
    rules = {r.name: r for r in policy.rules.rules if r.enabled}
    keep = np.ones(n)
    severity = np.zeros(n, dtype=np.int8)
    allowed = np.zeros(n, dtype=bool)
    for name, mask in masks.items():
        rule = rules[name]
        if rule.action == "allow":
            allowed |= mask
            continue
        severity = np.maximum(severity, np.where(mask, SEVERITY[rule.action], 0)).astype(np.int8)
        if rule.weight is not None:
            keep *= np.where(mask, 1.0 - share * rule.weight, 1.0)
    if p is not None:
        p = np.clip(np.asarray(p, dtype=float), 0.0, 1.0)
        th = policy.thresholds
        by_score = np.where(p >= th.block, 2, np.where(p >= th.review, 1, 0))
        severity = np.maximum(severity, by_score).astype(np.int8)
        base = p
    else:
        base = np.zeros(n)
    risk = 1.0 - (1.0 - base) * keep
    risk = np.where(allowed, base, risk)
    severity = np.where(allowed, 0, severity)
    return risk, np.asarray(ACTIONS, dtype=object)[severity]


def reviewed_at_budget(ts_ms: np.ndarray, risk: np.ndarray, budget: float) -> np.ndarray:
    """Rows an analyst team reviews when it takes the top ``budget`` share of each UTC day by risk."""
    day = np.asarray(ts_ms, dtype=np.int64) // DAY_MS
    df = pd.DataFrame({"day": day, "risk": risk})
    rank = df.groupby("day")["risk"].rank(method="first", ascending=False).to_numpy()
    size = df.groupby("day")["risk"].transform("size").to_numpy()
    return (rank <= np.ceil(budget * size)) & (np.asarray(risk) > 0)


def arm_metrics(test: pd.DataFrame, risk: np.ndarray, action: np.ndarray, budget: float) -> dict[str, Any]:
    """Every figure of one arm on the test transactions (see the module docstring)."""
    from sklearn.metrics import average_precision_score, roc_auc_score

    y = test["is_fraud"].to_numpy(dtype=bool)
    amount = test["amount_minor"].to_numpy(dtype=np.int64)
    reviewed = reviewed_at_budget(test["ts_ms"].to_numpy(), risk, budget)
    alerted = np.isin(action, ("review", "block"))
    days = max(1, len(np.unique(test["ts_ms"].to_numpy(dtype=np.int64) // DAY_MS)))
    single = y.all() or not y.any()
    out: dict[str, Any] = {
        "average_precision": None if single else float(average_precision_score(y, risk)),
        "roc_auc": None if single else float(roc_auc_score(y, risk)),
        "recall_at_budget": float((reviewed & y).sum() / y.sum()) if y.any() else None,
        "precision_at_budget": float((reviewed & y).sum() / reviewed.sum()) if reviewed.any() else None,
        "reviewed_per_day": float(reviewed.sum() / days),
        "money_caught_minor": int(amount[reviewed & y].sum()), "money_missed_minor": int(amount[~reviewed & y].sum()),
        "alerts_per_day": float(alerted.sum() / days), "blocks_per_day": float((action == "block").sum() / days),
        "recall_of_alerts": float((alerted & y).sum() / y.sum()) if y.any() else None,
        "precision_of_alerts": float((alerted & y).sum() / alerted.sum()) if alerted.any() else None,
    }
    if "typology" in test.columns:
        typ = test["typology"].to_numpy(dtype=object)
        out["typology_recall_at_budget"] = {
            str(t): {"frauds": int((y & (typ == t)).sum()), "recall": float((reviewed & y & (typ == t)).sum()
                                                                            / (y & (typ == t)).sum())}
            for t in sorted({t for t in typ[y] if isinstance(t, str) and t})}
    return out


def compare(test: pd.DataFrame, features: pd.DataFrame, policy: Policy, model_p: np.ndarray | None,
            budget: float = 0.01, extra: dict[str, tuple[np.ndarray, Thresholds]] | None = None,
            ) -> dict[str, dict[str, Any]]:
    """Metrics of the ``model``, ``pack`` and ``combined`` arms (and of ``extra`` arms: another model's
    probabilities and thresholds, combined with the same rules, e.g. the cold-start anomaly score) on
    the same transactions."""
    frame = build_frame(test.reset_index(drop=True), features.reset_index(drop=True))
    test = test.reset_index(drop=True)
    out: dict[str, dict[str, Any]] = {}
    rules_only = Policy(policy.rules, policy.thresholds, mode="cold_start")
    if model_p is not None:
        no_rules = Policy(None, policy.thresholds)
        risk, action = decide_frame(no_rules, frame, model_p)
        out["model"] = arm_metrics(test, risk, action, budget)
    risk, action = decide_frame(rules_only, frame, None)
    out["pack"] = arm_metrics(test, risk, action, budget)
    if model_p is not None:
        risk, action = decide_frame(policy, frame, model_p)
        out["combined"] = arm_metrics(test, risk, action, budget)
    for name, (p, thresholds) in (extra or {}).items():
        risk, action = decide_frame(Policy(policy.rules, thresholds, mode="cold_start"), frame, p)
        out[name] = arm_metrics(test, risk, action, budget)
    return out


def evaluate_policy(ds: Any, ev: Any, policy: Policy, budget: float = 0.01) -> dict[str, dict[str, Any]]:
    """:func:`compare` on the test period of a :func:`pesaguard.models.evaluate.evaluate` run: the
    model it chose, the policy's rules, and both, on the same test transactions and truth.

    ``ev.extra`` must hold ``test_x`` and ``feature_names`` (the test rows' features, as evaluate keeps them).
    """
    test = ev.test.reset_index(drop=True)
    cols = [c for c in ds.transactions.columns if c not in test.columns or c == "txn_id"]
    rows = test[["txn_id"]].merge(ds.transactions[cols], on="txn_id", how="left")
    frame = pd.concat([test, rows.drop(columns=["txn_id"])], axis=1)
    feats = pd.DataFrame(ev.extra["test_x"], columns=list(ev.extra["feature_names"]))
    return compare(frame, feats, policy, test["score"].to_numpy(dtype=float), budget)
