"""Feature configuration and the ordered list of feature names it produces.

Contract: durations are strings such as ``"90s"``, ``"15m"``, ``"1h"``, ``"7d"``; the feature set is a
pure function of the configuration, and ``FeatureConfig.version`` (a hash of it) names it in the model
registry.

>>> cfg = FeatureConfig()
>>> names = feature_names(cfg)
>>> names[:3]
['amount', 'txn_type_code', 'hour_local']
>>> 'payee_fraud_rate_30d' in names and 'amount_ratio_30d' in names
True
>>> parse_duration("7d")
604800000
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

#: Feature groups, in output order. Each can be switched off in ``FeatureConfig.groups``.
GROUPS: tuple[str, ...] = (
    "amount",  # the transaction's own fields
    "time",  # local hour, weekday, night, weekend
    "payer",  # the payer's outgoing history per window, amount against it
    "payee",  # the payee's incoming history per window, fan-in
    "pair",  # payer -> payee history: first time, count, recency
    "labels",  # fraud labels known at decision time, per payer and payee
    "account_events",  # recency of SIM swaps and device changes
    "mobile",  # balance drained, cash-out after receiving
    "sms",  # scam-SMS recency and its interaction with a new payee
    "lagged",  # optional: the payee's payments, known frauds and fraud rate in windows label_delay back
    "profile",  # optional: payer's age, amount against the mean of every window, payee's new-payer share
    "spree",  # optional: amount against every shorter window (z-score, over max), recent peak over usual amount
    "recovery",  # optional: how long the payee's latest payment made label_delay ago follows its latest known fraud
)
#: Groups not in the default configuration; ``pesaguard evaluate``/``train`` try each in the validation folds
#: and keep it if it helps there (pesaguard.models.groups). Measured (docs/benchmarks.md): "lagged" adds AP on
#: card data (compromised terminals) and costs AP on the mobile-money simulator's month, whose few training
#: frauds the extra columns let a model overfit; "profile" helped neither; "spree" and "recovery" add under
#: 0.5% validation AP each on card data (+0.4% together, 8 of 8 folds) and nothing to card precision@100.
OPTIONAL_GROUPS: tuple[str, ...] = ("lagged", "profile", "spree", "recovery")
DEFAULT_GROUPS: tuple[str, ...] = tuple(g for g in GROUPS if g not in OPTIONAL_GROUPS)

_UNITS_MS = {"ms": 1, "s": 1000, "m": 60_000, "h": 3_600_000, "d": 86_400_000}
_DURATION = re.compile(r"^(\d+)(ms|s|m|h|d)$")


def parse_duration(text: str) -> int:
    """``"24h"`` -> milliseconds. Raises ``ValueError`` on anything else."""
    m = _DURATION.match(text.strip())
    if not m or int(m.group(1)) <= 0:
        raise ValueError(f"not a duration: {text!r} (use e.g. '90s', '15m', '1h', '7d')")
    return int(m.group(1)) * _UNITS_MS[m.group(2)]


class FeatureConfig(BaseModel):
    """What the feature engine computes. Immutable; unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    windows: tuple[str, ...] = Field(
        default=("1h", "24h", "7d", "30d"), description="sliding time windows for payer/payee aggregates"
    )
    label_windows: tuple[str, ...] = Field(
        default=("24h", "7d", "30d"),
        description="windows (by the time a label became known) for fraud counts and rates; each must be in windows",
    )
    label_delay: str = Field(
        default="7d",
        description="the lag D of the lagged label features: they count the frauds among the payee's payments "
        "made between D + w and D ago (as known now); also when a label stamped known at its own transaction's "
        "time (no timing given) starts to count",
    )
    lagged_windows: tuple[str, ...] = Field(
        default=("24h", "7d", "30d"), description="windows w of the lagged label features (any durations)"
    )
    min_label_delay: str = Field(
        default="1d",
        description="no label reaches a feature before its transaction is this old, whatever its known-at "
        "says; at most label_delay",
    )
    history_window: str = Field(default="30d", description="window the amount is compared with; one of windows")
    recent_window: str = Field(
        default="24h", description="window for inflow share and scam-SMS interaction; one of windows"
    )
    utc_offset_hours: float = Field(default=3.0, ge=-12, le=14, description="local time for night/weekend")
    night_start_hour: int = Field(default=22, ge=0, le=23)
    night_end_hour: int = Field(default=6, ge=0, le=23)
    horizon: str = Field(
        default="90d",
        description="nothing older than this affects a feature; idle entities are evicted after it",
    )
    groups: tuple[str, ...] = Field(default=DEFAULT_GROUPS,
                                    description="feature groups to compute, any of GROUPS (default: all but "
                                    "the optional 'lagged' and 'profile')")
    sms_min_score: float = Field(
        default=0.5, ge=0.0, le=1.0,
        description="an SMS event counts as a scam SMS if its score is at least this (or has no score)",
    )
    payee_id_space: Literal["shared", "separate"] = Field(
        default="shared",
        description="'shared': payer and payee ids name the same accounts (mobile money: who received money "
        "later sends it); 'separate': payee ids are their own namespace (card data: customer ids and "
        "terminal ids that may coincide as numbers). Account and SMS events refer to payer-side ids.",
    )
    dtype: Literal["float64", "float32"] = "float64"

    @field_validator("windows", "label_windows", "lagged_windows")
    @classmethod
    def _durations(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        ms = [parse_duration(w) for w in v]
        if len(set(ms)) != len(ms):
            raise ValueError(f"duplicate windows in {v}")
        return tuple(w for _, w in sorted(zip(ms, v, strict=True)))

    @field_validator("history_window", "recent_window", "horizon", "label_delay", "min_label_delay")
    @classmethod
    def _duration(cls, v: str) -> str:
        parse_duration(v)
        return v

    @field_validator("groups")
    @classmethod
    def _groups(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(v) - set(GROUPS))
        if unknown:
            raise ValueError(f"unknown feature groups {unknown}; known: {list(GROUPS)}")
        return tuple(g for g in GROUPS if g in v)

    @model_validator(mode="after")
    def _consistent(self) -> FeatureConfig:
        if not self.windows:
            raise ValueError("windows must not be empty")
        for name in ("history_window", "recent_window"):
            if getattr(self, name) not in self.windows:
                raise ValueError(f"{name}={getattr(self, name)!r} must be one of windows {self.windows}")
        missing = [w for w in self.label_windows if w not in self.windows]
        if missing:
            raise ValueError(f"label_windows {missing} must also be in windows {self.windows}")
        longest = max(parse_duration(w) for w in self.windows)
        if parse_duration(self.horizon) < longest:
            raise ValueError(f"horizon {self.horizon!r} is shorter than the longest window")
        lag = parse_duration(self.label_delay)
        if parse_duration(self.min_label_delay) > lag:
            raise ValueError(f"min_label_delay {self.min_label_delay!r} is longer than label_delay {self.label_delay!r}")
        spans = [parse_duration(w) for w in (*self.label_windows, *self.lagged_windows)]
        if spans and parse_duration(self.horizon) < lag + max(spans):
            raise ValueError(f"horizon {self.horizon!r} is shorter than label_delay plus the longest label or "
                             "lagged window (labels must be forgotten no earlier than they stop counting)")
        return self

    # Derived values (milliseconds) used by the engines.
    @property
    def windows_ms(self) -> tuple[int, ...]:
        return tuple(parse_duration(w) for w in self.windows)

    @property
    def horizon_ms(self) -> int:
        return parse_duration(self.horizon)

    @property
    def label_delay_ms(self) -> int:
        return parse_duration(self.label_delay)

    @property
    def min_label_delay_ms(self) -> int:
        return parse_duration(self.min_label_delay)

    @property
    def fraud_span_ms(self) -> int:
        """How far back (by transaction time) the fraud-recency features look: D plus the longest lagged
        window, or the longest label window when there are no lagged windows."""
        if self.lagged_windows:
            return self.label_delay_ms + max(parse_duration(w) for w in self.lagged_windows)
        return max((parse_duration(w) for w in self.label_windows), default=0)

    @property
    def version(self) -> str:
        """A short stable hash of the configuration (and the feature code's semantics version)."""
        payload = json.dumps({"semantics": SEMANTICS_VERSION, **self.model_dump()}, sort_keys=True)
        return hashlib.sha256(payload.encode()).hexdigest()[:12]


#: Bump when a feature's meaning changes without a config change, so model registries notice.
SEMANTICS_VERSION = 3


def feature_names(cfg: FeatureConfig | None = None) -> list[str]:
    """The engine's output columns, in order, for ``cfg`` (default config if None)."""
    cfg = cfg or FeatureConfig()
    g = set(cfg.groups)
    out: list[str] = []
    if "amount" in g:
        out += ["amount", "txn_type_code"]
    if "time" in g:
        out += ["hour_local", "day_of_week_local", "is_night", "is_weekend"]
    if "payer" in g:
        for w in cfg.windows:
            out += [f"payer_count_{w}", f"payer_sum_{w}", f"payer_mean_{w}", f"payer_std_{w}", f"payer_max_{w}"]
            out += [f"payer_distinct_payees_{w}"]
        h = cfg.history_window
        out += ["payer_secs_since_last"] + (["payer_secs_since_first"] if "profile" in g else [])
        out += [f"amount_ratio_{w}" for w in cfg.windows if w == h or "profile" in g]
        out += [f"amount_zscore_{h}", f"amount_over_max_{h}"]
    if "payee" in g:
        for w in cfg.windows:
            out += [f"payee_count_{w}", f"payee_sum_{w}", f"payee_mean_{w}", f"payee_distinct_payers_{w}"]
            out += [f"payee_new_payer_share_{w}"] if "profile" in g else []
        out += ["payee_secs_since_last", "payee_secs_since_first"]
    if "pair" in g:
        out += ["pair_prior_count", "pair_is_new", "pair_secs_since_last"]
    if "labels" in g:
        for w in cfg.label_windows:
            out += [f"payee_fraud_count_{w}", f"payee_fraud_rate_{w}", f"payer_fraud_count_{w}"]
    if "lagged" in g:
        lag = cfg.label_delay
        for w in cfg.lagged_windows:
            out += [f"payee_count_{w}_lag{lag}", f"payee_fraud_count_{w}_lag{lag}", f"payee_fraud_rate_{w}_lag{lag}"]
    if "labels" in g:
        out += ["payee_secs_since_first_fraud", "payee_secs_since_last_fraud", "payer_secs_since_last_fraud"]
    if "account_events" in g:
        out += ["payer_secs_since_sim_swap", "payer_secs_since_device_change", "payee_secs_since_sim_swap"]
    if "mobile" in g:
        r = cfg.recent_window
        out += ["balance_drain", "payer_secs_since_last_in", f"inflow_cashout_share_{r}"]
    if "sms" in g:
        out += ["payer_secs_since_scam_sms", "payer_scam_sms_score", f"scam_sms_new_payee_{cfg.recent_window}"]
    if "spree" in g:
        h = cfg.history_window
        for w in cfg.windows:
            if w != h:
                out += [f"amount_zscore_{w}", f"amount_over_max_{w}", f"payer_peak_{w}_over_mean_{h}"]
    if "recovery" in g:
        out += [f"payee_clean_secs_after_fraud_lag{cfg.label_delay}"]
    return out
