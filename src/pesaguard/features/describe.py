"""Human phrases for features, for reason codes: ``describe(name).format(value=v)``.

>>> describe("amount_ratio_30d").format(value=4.2)
"amount is 4x this account's 30-day average"
>>> describe("payee_distinct_payers_24h").format(value=37)
'payee received money from 37 different payers in the last 24 hours'
"""

from __future__ import annotations

import re

_SPAN = {"m": "minute", "h": "hour", "d": "day", "s": "second", "ms": "millisecond"}


def _span(w: str, adjective: bool = False) -> str:
    m = re.match(r"^(\d+)(ms|s|m|h|d)$", w)
    if not m:
        return w
    n, unit = int(m.group(1)), _SPAN[m.group(2)]
    if adjective:
        return f"{n}-{unit}"
    return unit if n == 1 else f"{n} {unit}s"


_FIXED = {
    "amount": "amount is {value:,.0f} (minor units)",
    "txn_type_code": "transaction type code {value:.0f}",
    "hour_local": "made at {value:.0f}h local time",
    "day_of_week_local": "made on weekday {value:.0f} (Monday=0)",
    "is_night": "made at night (local time)",
    "is_weekend": "made at the weekend (local time)",
    "payer_secs_since_last": "payer's previous payment was {value:,.0f} seconds earlier",
    "payee_secs_since_last": "payee's previous receipt was {value:,.0f} seconds earlier",
    "payee_secs_since_first": "payee first received money {value:,.0f} seconds ago",
    "pair_prior_count": "payer has paid this payee {value:.0f} times before",
    "pair_is_new": "first payment from this payer to this payee",
    "pair_secs_since_last": "payer last paid this payee {value:,.0f} seconds ago",
    "payer_secs_since_sim_swap": "payer's SIM was swapped {value:,.0f} seconds ago",
    "payer_secs_since_device_change": "payer changed device {value:,.0f} seconds ago",
    "payee_secs_since_sim_swap": "payee's SIM was swapped {value:,.0f} seconds ago",
    "balance_drain": "sends {value:.0%} of the payer's balance",
    "payer_secs_since_last_in": "payer received money {value:,.0f} seconds earlier",
    "payer_secs_since_scam_sms": "payer got a scam SMS {value:,.0f} seconds earlier",
    "payer_scam_sms_score": "payer's last scam SMS scored {value:.2f}",
}

_PATTERNS: list[tuple[str, str]] = [
    (r"payer_count_(\w+)", "payer made {value:.0f} payments in the last {span}"),
    (r"payer_sum_(\w+)", "payer sent {value:,.0f} in the last {span}"),
    (r"payer_mean_(\w+)", "payer's average payment over the last {span} is {value:,.0f}"),
    (r"payer_std_(\w+)", "payer's payments over the last {span} vary by {value:,.0f}"),
    (r"payer_max_(\w+)", "payer's largest payment in the last {span} is {value:,.0f}"),
    (r"payer_distinct_payees_(\w+)", "payer paid {value:.0f} different payees in the last {span}"),
    (r"amount_ratio_(\w+)", "amount is {value:.0f}x this account's {adj} average"),
    (r"amount_zscore_(\w+)", "amount is {value:.1f} standard deviations from this account's {adj} average"),
    (r"amount_over_max_(\w+)", "amount is {value:.1f}x this account's {adj} largest payment"),
    (r"payee_count_(\w+)", "payee received {value:.0f} payments in the last {span}"),
    (r"payee_sum_(\w+)", "payee received {value:,.0f} in the last {span}"),
    (r"payee_mean_(\w+)", "payee's average receipt over the last {span} is {value:,.0f}"),
    (r"payee_distinct_payers_(\w+)", "payee received money from {value:.0f} different payers in the last {span}"),
    (r"payee_fraud_count_(\w+)", "{value:.0f} frauds involving this payee became known in the last {span}"),
    (r"payee_fraud_rate_(\w+)", "known frauds per payment to this payee over the last {span}: {value:.1%}"),
    (r"payee_fraud_share_(\w+)", "{value:.0%} of this payee's payments labelled in the last {span} were fraud"),
    (r"payer_fraud_count_(\w+)", "{value:.0f} frauds involving this payer became known in the last {span}"),
    (r"inflow_cashout_share_(\w+)", "moves out {value:.0%} of what the payer received in the last {span}"),
    (r"scam_sms_new_payee_(\w+)", "a new payee within {span} of a scam SMS"),
]


def describe(name: str) -> str:
    """A phrase template with a ``{value}`` placeholder for feature ``name``; KeyError if unknown."""
    if name in _FIXED:
        return _FIXED[name]
    for pattern, text in _PATTERNS:
        m = re.fullmatch(pattern, name)
        if m:
            w = m.group(1)
            return text.replace("{span}", _span(w)).replace("{adj}", _span(w, adjective=True))
    raise KeyError(f"no description for feature {name!r}")
