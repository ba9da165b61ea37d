"""Human phrases for features, for reason codes: ``sentence(name, value)``.

A reason is read by an analyst, so it is a sentence with the value in words: durations as hours or
days, shares as percentages, amounts in shillings, and a missing value says what it means ("first
payment to this payee") rather than that a number is absent.

>>> describe("amount_ratio_30d").format(value=4.2)
"amount is 4x this account's 30-day average"
>>> sentence("payer_secs_since_sim_swap", 7_380)
"payer's SIM was swapped 2 h 3 min earlier"
>>> sentence("pair_secs_since_last", None)
'first payment from this payer to this payee'
>>> humanize("balance_drain", 0.853), humanize("payer_sum_24h", 1_250_000)
('85%', 'KES 12,500')
"""

from __future__ import annotations

import functools
import re

from pesaguard.features.config import OPTIONAL_GROUPS, FeatureConfig, feature_names

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
    "payer_secs_since_first": "payer first sent money {value:,.0f} seconds ago",
    "payee_secs_since_first_fraud": "the payee's earliest recent known fraud was made {value:,.0f} seconds ago",
    "payee_secs_since_last_fraud": "the payee's latest known fraud was made {value:,.0f} seconds ago",
    "payer_secs_since_last_fraud": "the payer's latest known fraud was made {value:,.0f} seconds ago",
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
    (r"payee_count_(\w+?)_lag(\w+)", "payee received {value:.0f} payments in the {span} ending {lag} ago"),
    (r"payee_fraud_count_(\w+?)_lag(\w+)", "{value:.0f} known frauds among the payee's payments of the {span} "
     "ending {lag} ago"),
    (r"payee_fraud_rate_(\w+?)_lag(\w+)", "{value:.1%} of the payee's payments of the {span} ending {lag} ago "
     "are known frauds"),
    (r"payee_new_payer_share_(\w+)", "{value:.0%} of the payee's payments in the last {span} came from new payers"),
    (r"payer_peak_(\w+?)_over_mean_(\w+)", "payer's largest payment in the last {span} is {value:.1f}x its average "
     "over {lag}"),
    (r"payee_clean_secs_after_fraud_lag(\w+)", "the payee's latest payment made {span} or more ago followed its "
     "latest known fraud by {value:,.0f} seconds"),
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
            text = text.replace("{lag}", _span(m.group(2))) if m.re.groups > 1 else text
            return text.replace("{span}", _span(w)).replace("{adj}", _span(w, adjective=True))
    raise KeyError(f"no description for feature {name!r}")


def catalog(cfg: FeatureConfig | None = None) -> str:
    """The feature set as a Markdown table (``docs/features.md`` is this for the default config)."""
    cfg = cfg or FeatureConfig()
    rows = [
        "# Features",
        "",
        "Generated by `pesaguard.features.describe.catalog()` for the default `FeatureConfig` "
        f"(version `{cfg.version}`); `tests/test_features.py` keeps it current. Semantics: "
        "`docs/architecture.md`, \"Features: one compiled kernel drives replay and live scoring\". A "
        "feature whose input field is absent is NaN; counts over an empty history are 0; *x* is the value.",
        "",
        "Use: `FeatureEngine(cfg).replay(transactions, labels=, account_events=, sms_events=)` for training "
        "and batch scoring (one row per transaction, input order); live, `score_and_update(txn)`, `peek(txn)`, "
        "`add_label(txn_id, is_fraud, known_at_ms)`, `add_account_event(account_id, ts_ms, kind)`, "
        "`add_sms_event(account_id, ts_ms, scam_type, score)`; `snapshot()` / `FeatureEngine.restore(state)` "
        "across restarts; `describe(name)` for reason codes.",
        "",
        "| feature | group | reads as |",
        "|---|---|---|",
    ]
    for group in cfg.groups:
        for name in feature_names(cfg.model_copy(update={"groups": (group,)})):
            phrase = re.sub(r"\{value[^}]*\}", "*x*", describe(name))
            rows.append(f"| `{name}` | {group} | {phrase} |")
    optional = [g for g in OPTIONAL_GROUPS if g not in cfg.groups]
    if optional:
        rows += [
            "",
            "## Optional groups",
            "",
            f"Not in the default configuration: {', '.join(f'`{g}`' for g in optional)}. `pesaguard evaluate` and "
            "`pesaguard train` try each in the prequential validation folds (one fixed LightGBM setting, each "
            "group added to what was kept before) and keep it only if it raises the mean validation average "
            "precision by at least 0.5% and on most folds; with fewer than 30 validation frauds none is added "
            "(`pesaguard.models.groups`). `--extra-features` adds a group whatever the folds say. The model card "
            "records what was tried and kept. The ablation behind this (card-payment proxy and the mobile-money "
            "simulator): `docs/benchmarks.md`, \"Scoring models\".",
            "",
            "| feature | group | reads as |",
            "|---|---|---|",
        ]
        base = set(feature_names(cfg))
        for group in optional:
            for name in feature_names(cfg.model_copy(update={"groups": (*cfg.groups, group)})):
                if name not in base:
                    phrase = re.sub(r"\{value[^}]*\}", "*x*", describe(name))
                    rows.append(f"| `{name}` | {group} | {phrase} |")
    return "\n".join(rows) + "\n"


# -- sentences for reasons -----------------------------------------------------------------------------

#: What a missing value means, per feature (NaN: nothing of the kind within the feature horizon).
_MISSING = {
    "pair_secs_since_last": "first payment from this payer to this payee",
    "payer_secs_since_last": "payer's first payment in at least 90 days",
    "payee_secs_since_last": "payee has received nothing in at least 90 days",
    "payee_secs_since_first": "payee has received nothing in at least 90 days",
    "payer_secs_since_last_in": "payer has received nothing in at least 90 days",
    "payer_secs_since_sim_swap": "no SIM swap on the payer's account",
    "payer_secs_since_device_change": "no change of phone on the payer's account",
    "payee_secs_since_sim_swap": "no SIM swap on the payee's account",
    "payer_secs_since_scam_sms": "no scam SMS reported for the payer",
    "payer_scam_sms_score": "no scam SMS reported for the payer",
    "payer_secs_since_first": "payer's first payment in at least 90 days",
    "payee_secs_since_first_fraud": "no known fraud among this payee's recent payments",
    "payee_secs_since_last_fraud": "no known fraud among this payee's recent payments",
    "payer_secs_since_last_fraud": "no known fraud among this payer's recent payments",
    "balance_drain": "payer's balance is not known",
    "amount": "amount is not known",
}
_MISSING_PATTERNS: list[tuple[str, str]] = [
    (r"payer_(mean|std|max)_(\w+)", "payer made no payments in the last {span}"),
    (r"amount_(ratio|zscore|over_max)_(\w+)", "payer made no payments in the last {span} to compare with"),
    (r"payee_mean_(\w+)", "payee received nothing in the last {span}"),
    (r"payee_fraud_rate_(\w+?)_lag\w+", "payee received nothing in the {span} before the label delay"),
    (r"payee_new_payer_share_(\w+)", "payee received nothing in the last {span}"),
    (r"payer_peak_(\w+?)_over_mean_\w+", "payer made no payments in the last {span} to compare with"),
    (r"payee_clean_secs_after_fraud_lag(\w+)", "no known fraud among this payee's recent payments"),
    (r"payee_fraud_(rate|share)_(\w+)", "nothing paid to this payee was labelled in the last {span}"),
    (r"inflow_cashout_share_(\w+)", "payer received nothing in the last {span}"),
]

#: Sentences with the value in words ({v}: the value as :func:`humanize` writes it).
_SENTENCES = {
    "payer_secs_since_last": "payer's previous payment was {v} earlier",
    "payee_secs_since_last": "payee last received money {v} earlier",
    "payee_secs_since_first": "payee first received money {v} ago",
    "pair_secs_since_last": "payer last paid this payee {v} earlier",
    "payer_secs_since_sim_swap": "payer's SIM was swapped {v} earlier",
    "payer_secs_since_device_change": "payer changed phone {v} earlier",
    "payee_secs_since_sim_swap": "payee's SIM was swapped {v} earlier",
    "payer_secs_since_last_in": "payer received money {v} earlier",
    "payer_secs_since_scam_sms": "payer got a scam SMS {v} earlier",
    "payer_secs_since_first": "payer first sent money {v} ago",
    "payee_secs_since_first_fraud": "the payee's earliest recent known fraud was made {v} ago",
    "payee_secs_since_last_fraud": "the payee's latest known fraud was made {v} ago",
    "payer_secs_since_last_fraud": "the payer's latest known fraud was made {v} ago",
    "balance_drain": "sends {v} of the payer's balance",
    "amount": "amount is {v}",
    "pair_prior_count": "payer has paid this payee {v} times before",
    "hour_local": "made at {v}:00 local time",
}


def _duration(seconds: float) -> str:
    s = max(float(seconds), 0.0)
    if s < 90:
        return f"{s:.0f} s"
    if s < 3_600:
        return f"{s / 60:.0f} min"
    if s < 86_400:
        h, m = divmod(round(s / 60), 60)
        return f"{h} h" if m == 0 else f"{h} h {m} min"
    d = s / 86_400
    return f"{d:.0f} days" if d >= 2 else f"{d:.1f} days"


def humanize(name: str, value: float) -> str:
    """A feature's value in words: durations, percentages, shillings (minor units / 100), counts."""
    v = float(value)
    if "_secs_" in name:
        return _duration(v)
    if name in ("balance_drain",) or re.match(r"(inflow_cashout_share|payee_fraud_(rate|share)|payee_new_payer_share)_",
                                              name):
        return f"{v:.0%}"
    if re.match(r"amount_(ratio|over_max)_|payer_peak_", name):
        return f"{v:.1f}x"
    if name == "amount" or re.match(r"(payer|payee)_(sum|mean|std|max)_", name):
        return f"KES {v / 100:,.0f}"
    if "score" in name:
        return f"{v:.2f}"
    return f"{v:,.0f}" if v == int(v) else f"{v:,.2f}"


@functools.lru_cache(maxsize=4096)
def _describe(name: str) -> str:
    # describe() tries each pattern in turn; reasons are on the decision path, and a name's template never changes
    return describe(name)


def sentence(name: str, value: float | None) -> str:
    """A reason sentence for a feature and its value (missing: what that means)."""
    if value is None or value != value:  # None or NaN
        if name in _MISSING:
            return _MISSING[name]
        for pattern, text in _MISSING_PATTERNS:
            m = re.fullmatch(pattern, name)
            if m:
                return text.replace("{span}", _span(m.group(m.lastindex or 1)))
        return f"no {name.replace('_', ' ')} on record"
    if name in _SENTENCES:
        return _SENTENCES[name].format(v=humanize(name, value))
    try:
        text = _describe(name)
    except KeyError:
        return f"{name.replace('_', ' ')} is {humanize(name, value)}"
    if re.match(r"(payer|payee)_(sum|mean|std|max)_", name):
        return re.sub(r"\{value[^}]*\}", humanize(name, value), text)
    return text.format(value=value)
