"""Batch decisions: a time-ordered frame of transactions through the scorer and the policy, giving each
row the action, risk and reasons the decision service would give it on the same stream.

The features are replayed through the scorer's own feature engine (replay and live scoring agree:
``tests/test_features_parity.py``), the model scores the whole matrix at once, and
:meth:`pesaguard.decisions.policy.Policy.decide_frame` decides every row column-wise, with the
outcome :meth:`~pesaguard.decisions.policy.Policy.decide` gives each row live (a property test holds
them equal). The model explains exactly the rows whose reasons show its explanation (probability at
or above review, no allow rule hit), as the service's reasons show them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.decisions.policy import Policy
from pesaguard.decisions.rules import EXACT_INT, Column
from pesaguard.schema import TRANSACTION_COLUMNS, Transaction

#: Columns of :func:`decide_frame`'s result.
COLUMNS = ("txn_id", "score", "action", "reasons", "rules", "model_version", "policy_version")
_TEXT = {c for c in TRANSACTION_COLUMNS if Transaction.model_fields[c].annotation not in (int, int | None)}
_DEFAULTS = {c: Transaction.model_fields[c].default for c in TRANSACTION_COLUMNS
             if not Transaction.model_fields[c].is_required()}


def live_value(col: str, value: Any) -> Any:
    """A transaction column's value as the service's validated request holds it: missing values
    None, text as ``str`` (an id column of digits is read as numbers), numbers as ``int`` (an integer
    column that held a missing value is read as float)."""
    if value is None or value is pd.NA or (isinstance(value, float) and value != value):
        default = _DEFAULTS.get(col)
        return None if default is None else live_value(col, default)
    return str(value) if col in _TEXT else int(value)


def live_record(row: Mapping[Any, Any]) -> dict[str, Any]:
    """One row as the service's validated request (:func:`live_value` of each transaction column)."""
    return {c: live_value(c, row.get(c)) for c in TRANSACTION_COLUMNS}


def txn_column(values: pd.Series | None, col: str, n: int) -> Column:
    """A transaction column for :meth:`Policy.decide_frame`: every row's :func:`live_value`.

    Text is coded by distinct value (a string never equals a non-string, so the distinct values of an
    all-text column are the distinct texts); integers stay a float64 array when every value is a
    whole number float64 holds exactly. Anything else takes each row through :func:`live_value`.
    """
    if values is None:
        values = pd.Series([None] * n, dtype=object)
    default = _DEFAULTS.get(col)
    if default is not None and values.isna().any():
        values = values.fillna(default)
    kind = values.dtype.kind
    if col in _TEXT:
        if kind in "iub":
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            return Column(codes=codes, values=[str(u) for u in uniques.tolist()])
        if kind in "OSUT" or isinstance(values.dtype, pd.StringDtype):
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            if all(isinstance(u, str) for u in uniques):
                return Column(codes=codes, values=[str(u) for u in uniques])
    elif kind in "iuf":
        numbers = values.to_numpy(dtype=np.float64, na_value=np.nan)
        whole = np.trunc(numbers)  # int() of a float rounds toward zero
        finite = np.isfinite(whole) | np.isnan(whole)
        if finite.all() and not (np.abs(whole) > EXACT_INT).any():
            return Column.of_numbers(whole, ints=True)
    return Column.of_values([live_value(col, v) for v in values.astype(object).tolist()])


def _columns(policy: Policy, df: pd.DataFrame, features: pd.DataFrame) -> dict[str, Column]:
    """The fields the policy's rules test, as :class:`Column` s."""
    wanted = {f for r in policy.rules.rules if r.enabled for c in r.conditions for f in (c.field, c.ref) if f}
    out: dict[str, Column] = {}
    for f in wanted:
        if f.startswith("features."):
            name = f[len("features."):]
            if name in features:
                out[f] = Column.of_numbers(features[name].to_numpy(dtype=np.float64))
        elif f in TRANSACTION_COLUMNS:
            out[f] = txn_column(df.get(f), f, len(df))
    return out


def decide_frame(scorer: Any, policy: Policy, transactions: pd.DataFrame, reasons: bool = True) -> pd.DataFrame:
    """Decisions (:data:`COLUMNS`) for ``transactions`` in time order, replayed through (and added
    to) ``scorer``'s feature state. ``reasons=False`` skips the model's reason codes (rule reasons
    and the threshold sentence remain); ``rules`` names the rules that hit, joined by ``;``.
    """
    df = transactions
    if not df["ts_ms"].is_monotonic_increasing:  # exports are usually in time order
        df = df.sort_values("ts_ms", kind="stable")
    df = df.reset_index(drop=True)
    with scorer._lock:  # the live state: the same lock as Scorer.score
        features = scorer.engine.replay(df)
    x = features.to_numpy(dtype=np.float64)
    if list(features.columns) != scorer.names:
        x = features[scorer.names].to_numpy(dtype=np.float64)
    from pesaguard.models.bundle import predict_matrix

    p = predict_matrix(scorer.bundle, x)

    def explain(rows: np.ndarray) -> list[list[str]]:
        return [[r.text for r in rs] for rs in scorer.explain_frame(x[rows])]

    out = policy.decide_frame(_columns(policy, df, features), p, explain if reasons else None)
    why = np.full(len(df), "", dtype=object)
    for i, texts in out.reasons.items():
        why[i] = "; ".join(texts)
    hits = np.full(len(df), "", dtype=object)
    for i, names in out.rules.items():
        hits[i] = ";".join(names)
    n = len(df)  # whole columns, not scalars to broadcast: pandas builds the frame 3x faster
    return pd.DataFrame({"txn_id": df["txn_id"].astype(str), "score": out.score, "action": out.action,
                         "reasons": why, "rules": hits,
                         "model_version": np.full(n, str(scorer.model_version), dtype=object),
                         "policy_version": np.full(n, policy.version, dtype=object)}, columns=list(COLUMNS), copy=False)
