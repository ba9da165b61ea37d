"""The names a policy condition may test: transaction columns, streaming features, and readable
shorthands for the feature engine's windows, counts, sums and event recency.

A shorthand is rewritten to the feature it names, once, when a policy is parsed, so live evaluation
and the vectorised backtest see the same column::

    count(payer, 1h)          -> features.payer_count_1h        (payments the payer made)
    sum(payee, 24h)           -> features.payee_sum_24h         (money the payee received)
    distinct(payer, 24h)      -> features.payer_distinct_payees_24h
    distinct(payee, 24h)      -> features.payee_distinct_payers_24h
    frauds(payee, 30d)        -> features.payee_fraud_count_30d (frauds known by decision time)
    since(sim_swap)           -> features.payer_secs_since_sim_swap

>>> resolve("count(payer, 1h)")
'features.payer_count_1h'
>>> resolve("since(payee.sim_swap)")
'features.payee_secs_since_sim_swap'
>>> is_seconds("features.pair_secs_since_last"), duration_seconds("36h")
(True, 129600)
"""

from __future__ import annotations

import re

from pesaguard.features.config import FeatureConfig, parse_duration

#: ``since(EVENT)``: seconds from the event to this transaction (missing when it never happened
#: within the feature horizon, which makes every condition on it false).
SINCE: dict[str, str] = {
    "sim_swap": "payer_secs_since_sim_swap",
    "device_change": "payer_secs_since_device_change",
    "payee.sim_swap": "payee_secs_since_sim_swap",
    "money_in": "payer_secs_since_last_in",
    "last_payment": "payer_secs_since_last",
    "last_payment_to_payee": "pair_secs_since_last",
    "scam_sms": "payer_secs_since_scam_sms",
    "payee.first_receipt": "payee_secs_since_first",
    "payee.last_receipt": "payee_secs_since_last",
}

#: ``FUNC(side, WINDOW)``: the feature family each aggregate names, per side of the payment.
AGGREGATES: dict[tuple[str, str], str] = {
    ("count", "payer"): "payer_count_{w}", ("sum", "payer"): "payer_sum_{w}",
    ("mean", "payer"): "payer_mean_{w}", ("std", "payer"): "payer_std_{w}", ("max", "payer"): "payer_max_{w}",
    ("distinct", "payer"): "payer_distinct_payees_{w}",
    ("count", "payee"): "payee_count_{w}", ("sum", "payee"): "payee_sum_{w}", ("mean", "payee"): "payee_mean_{w}",
    ("distinct", "payee"): "payee_distinct_payers_{w}",
    ("frauds", "payee"): "payee_fraud_count_{w}", ("frauds", "payer"): "payer_fraud_count_{w}",
    ("fraud_rate", "payee"): "payee_fraud_rate_{w}",
}

_CALL = re.compile(r"^(\w+)\(\s*([\w.]+)\s*(?:,\s*(\w+)\s*)?\)$")
_DURATION = re.compile(r"^\d+(ms|s|m|h|d)$")
#: What may stand on the left of a condition: a column, ``features.NAME`` or a shorthand call.
FIELD_PATTERN = r"[A-Za-z_][A-Za-z0-9_.]*(?:\([^()]*\))?"


def resolve(expr: str, cfg: FeatureConfig | None = None) -> str:
    """The column a shorthand names (``features.NAME``); other text is returned unchanged.

    Raises ``ValueError`` naming the fix for an unknown function, side, event or window.
    """
    m = _CALL.match(expr.strip())
    if not m:
        return expr
    func, arg, window = m.group(1), m.group(2), m.group(3)
    if func == "since":
        if window is not None or arg not in SINCE:
            raise ValueError(f"{expr!r}: write since(EVENT) with EVENT one of {', '.join(SINCE)}")
        return f"features.{SINCE[arg]}"
    funcs = sorted({f for f, _ in AGGREGATES})
    if func not in funcs:
        raise ValueError(f"{expr!r}: unknown function {func!r}; use since(EVENT) or one of {', '.join(funcs)}"
                         "(payer|payee, WINDOW)")
    if (func, arg) not in AGGREGATES:
        sides = [s for f, s in AGGREGATES if f == func]
        raise ValueError(f"{expr!r}: {func} is computed for {' and '.join(sides)}, not {arg!r}")
    windows = (cfg or FeatureConfig()).windows
    label_windows = (cfg or FeatureConfig()).label_windows
    allowed = label_windows if func.startswith("fraud") else windows
    if window not in allowed:
        raise ValueError(f"{expr!r}: the feature engine keeps {func} windows {', '.join(allowed)} "
                         f"(FeatureConfig), not {window!r}")
    return "features." + AGGREGATES[(func, arg)].format(w=window)


def is_seconds(field: str) -> bool:
    """Whether a field holds seconds (so a duration such as ``24h`` may be compared with it)."""
    return field.startswith("features.") and "_secs_" in field


def is_duration(text: str) -> bool:
    return bool(_DURATION.match(text.strip()))


def duration_seconds(text: str) -> int:
    """``"24h"`` -> 86400 (seconds, the unit of every ``*_secs_*`` feature)."""
    return parse_duration(text) // 1000
