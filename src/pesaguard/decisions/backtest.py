"""Backtest operator rules on history: hits, precision and recall per rule.

History is replayed from the store through the same feature engine the live scorer uses
(:class:`pesaguard.features.FeatureEngine`, which honours label and event times), so a rule on
``features.*`` sees the values it would have seen live; where a stored decision exists its logged
feature values are used instead (exactly what was seen). Truth is the final label of each
transaction; unlabelled transactions count as genuine, as they do in model evaluation.
Precision is fraud hits / hits; recall is fraud hits / fraud transactions in the period.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from pesaguard.decisions.rules import Condition, RuleSet


def condition_mask(cond: Condition, frame: pd.DataFrame, lists: dict[str, frozenset[str]]) -> np.ndarray:
    """Vectorised :meth:`Condition.test`: the same truth value for every row (missing -> False)."""
    col = cond.field if cond.field in frame else None
    if col is None:
        return np.zeros(len(frame), dtype=bool)
    s = frame[col]
    present = s.notna().to_numpy()
    if cond.op in ("in", "not_in", "in_list", "not_in_list"):
        values = list(lists[cond.value]) if cond.op.endswith("_list") else list(cond.value)
        inside = s.isin(values).to_numpy()
        return present & (inside if cond.op in ("in", "in_list") else ~inside)
    if cond.op in ("==", "!="):
        eq = (s == cond.value).to_numpy(dtype=bool)
        return present & (eq if cond.op == "==" else ~eq)
    if s.dtype == object:  # text compared with a number is never a hit, even "3" (as live)
        s = s.where(s.map(lambda v: isinstance(v, int | float | np.number)))
    num = pd.to_numeric(s, errors="coerce")
    ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
    with np.errstate(invalid="ignore"):
        out = ops[cond.op](num.to_numpy(dtype=float), float(cond.value))
    return present & num.notna().to_numpy() & out


def rule_masks(rules: RuleSet, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """``rule name -> hit mask`` for every enabled rule over ``frame`` (txn columns + ``features.*``)."""
    out = {}
    for rule in rules.rules:
        if not rule.enabled:
            continue
        mask = np.ones(len(frame), dtype=bool)
        for cond in rule.when:
            mask &= condition_mask(cond, frame, rules.lists)
        out[rule.name] = mask
    return out


def report(rules: RuleSet, frame: pd.DataFrame, is_fraud: np.ndarray) -> list[dict[str, Any]]:
    """Per rule (and for any rule at all): hits, fraud hits, precision, recall."""
    masks = rule_masks(rules, frame)
    total_fraud = int(is_fraud.sum())
    rows = []
    actions = {r.name: r.action for r in rules.rules}
    any_hit = np.zeros(len(frame), dtype=bool)
    for name, mask in masks.items():
        any_hit |= mask
        rows.append(_row(name, actions[name], mask, is_fraud, total_fraud))
    if masks:
        rows.append(_row("(any rule)", "-", any_hit, is_fraud, total_fraud))
    return rows


def _row(name: str, action: str, mask: np.ndarray, is_fraud: np.ndarray, total_fraud: int) -> dict[str, Any]:
    hits = int(mask.sum())
    tp = int((mask & (is_fraud == 1)).sum())
    return {"rule": name, "action": action, "hits": hits, "fraud_hits": tp,
            "precision": tp / hits if hits else None, "recall": tp / total_fraud if total_fraud else None}


def build_frame(transactions: pd.DataFrame, features: pd.DataFrame,
                logged: dict[str, dict[str, Any]] | None = None) -> pd.DataFrame:
    """Transaction columns plus ``features.NAME`` columns; logged decision features override."""
    feats = features.reset_index(drop=True)
    if logged:
        over = pd.DataFrame.from_dict(logged, orient="index").reindex(transactions["txn_id"].to_numpy())
        over = over.reset_index(drop=True).apply(pd.to_numeric, errors="coerce")
        feats = over.combine_first(feats)
    feats.columns = [f"features.{c}" for c in feats.columns]
    return pd.concat([transactions.reset_index(drop=True), feats.reset_index(drop=True)], axis=1)
