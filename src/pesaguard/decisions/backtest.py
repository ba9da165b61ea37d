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


def _numeric(s: pd.Series) -> pd.Series:
    if s.dtype == object:  # text compared with a number is never a hit, even "3" (as live)
        s = s.where(s.map(lambda v: isinstance(v, int | float | np.number)))
    return pd.to_numeric(s, errors="coerce")


def condition_mask(cond: Condition, frame: pd.DataFrame, lists: dict[str, frozenset[str]]) -> np.ndarray:
    """Vectorised :meth:`Condition.test`: the same truth value for every row (missing -> False)."""
    col = cond.field if cond.field in frame else None
    if col is None or (cond.ref is not None and cond.ref not in frame):
        return np.zeros(len(frame), dtype=bool)
    s = frame[col]
    present = s.notna().to_numpy()
    if cond.ref is not None:
        other = frame[cond.ref]
        present &= other.notna().to_numpy()
        if cond.op in ("==", "!="):
            eq = (s == other).to_numpy(dtype=bool)
            return present & (eq if cond.op == "==" else ~eq)
        a, b = _numeric(s).to_numpy(dtype=float), _numeric(other).to_numpy(dtype=float)
        ops = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
        with np.errstate(invalid="ignore"):
            return present & ~np.isnan(a) & ~np.isnan(b) & ops[cond.op](a, b)
    if cond.op in ("in", "not_in", "in_list", "not_in_list"):
        values = list(lists[cond.value]) if cond.op.endswith("_list") else list(cond.value)
        inside = s.isin(values).to_numpy()
        return present & (inside if cond.op in ("in", "in_list") else ~inside)
    if cond.op in ("==", "!="):
        eq = (s == cond.value).to_numpy(dtype=bool)
        return present & (eq if cond.op == "==" else ~eq)
    num = _numeric(s)
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
        for cond in rule.conditions:
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


def typology_report(rules: RuleSet, frame: pd.DataFrame, is_fraud: np.ndarray, days: float,
                    covers: dict[str, list[str]] | None = None, truth_typology: np.ndarray | None = None,
                    ) -> dict[str, Any]:
    """Per typology of the packs in ``rules``: alerts per day, precision, recall, money caught.

    A typology's alerts are the rows any of its rules hits. Recall counts the fraud rows of the
    simulator typologies it ``covers`` (when ``truth_typology`` names each row's); ``caught`` is the
    share of all fraud it hits. Money is ``amount_minor`` of the fraud rows hit. The last row, ``(pack)``,
    is every typology together; ``by_truth`` gives the pack's recall per simulator typology.
    """
    masks = rule_masks(rules, frame)
    amount = frame["amount_minor"].to_numpy(dtype=np.int64) if "amount_minor" in frame else np.zeros(len(frame), int)
    fraud = np.asarray(is_fraud, dtype=bool)
    per: dict[str, np.ndarray] = {}
    for rule in rules.rules:
        if rule.typology is not None and rule.name in masks:
            per[rule.typology] = per.get(rule.typology, np.zeros(len(frame), dtype=bool)) | masks[rule.name]
    rows = []
    union = np.zeros(len(frame), dtype=bool)
    for name, mask in per.items():
        union |= mask
        rows.append(_typology_row(name, mask, fraud, amount, days, (covers or {}).get(name), truth_typology))
    rows.append(_typology_row("(pack)", union, fraud, amount, days, None, truth_typology))
    by_truth: dict[str, dict[str, Any]] = {}
    if truth_typology is not None:
        for t in sorted({str(v) for v in truth_typology[fraud]}):
            sel = fraud & (truth_typology == t)
            by_truth[t] = {"frauds": int(sel.sum()), "recall": float((union & sel).sum() / sel.sum()),
                           **{name: float((m & sel).sum() / sel.sum()) for name, m in per.items()}}
    return {"typologies": rows, "by_truth": by_truth, "days": days, "transactions": len(frame),
            "frauds": int(fraud.sum()), "fraud_amount_minor": int(amount[fraud].sum())}


def _typology_row(name: str, mask: np.ndarray, fraud: np.ndarray, amount: np.ndarray, days: float,
                  covers: list[str] | None, truth: np.ndarray | None) -> dict[str, Any]:
    hits, tp = int(mask.sum()), int((mask & fraud).sum())
    recall = None
    if covers and truth is not None:
        target = fraud & np.isin(truth, covers)
        recall = float((mask & target).sum() / target.sum()) if target.any() else None
    return {"typology": name, "alerts": hits, "alerts_per_day": hits / days if days else None,
            "fraud_hits": tp, "precision": tp / hits if hits else None, "recall": recall,
            "fraud_caught": tp / int(fraud.sum()) if fraud.any() else None,
            "money_caught_minor": int(amount[mask & fraud].sum())}
