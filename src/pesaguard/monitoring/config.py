"""Monitoring and retraining-gate settings: thresholds that decide when an alarm fires or a model ships.

Read from a YAML file (``--config monitoring.yaml``, sections ``monitor:`` and ``gate:``) or built
in code; unknown keys are rejected so a typo never silently leaves a default in force.

>>> MonitorConfig(psi_alarm=0.3).psi_warn
0.1
>>> try:
...     MonitorConfig(psi_warn=0.5, psi_alarm=0.2)
... except ValueError as exc:
...     print("psi_warn (0.5) must not exceed psi_alarm (0.2)" in str(exc))
True
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pesaguard.errors import ConfigError, NotFoundError


class MonitorConfig(BaseModel):
    """Drift and performance thresholds (PSI: population stability index; KS: two-sample statistic)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    window_days: int = Field(7, ge=1, description="the current window compared with the reference")
    psi_bins: int = Field(10, ge=2, le=100, description="quantile bins taken from the reference")
    psi_epsilon: float = Field(1e-4, gt=0, le=0.01, description="floor for empty bins' shares")
    psi_warn: float = Field(0.1, gt=0)
    psi_alarm: float = Field(0.25, gt=0)
    ks_alarm: float = Field(0.2, gt=0, le=1, description="KS statistic at or above which a column alarms")
    ks_pvalue: float = Field(0.001, gt=0, le=1, description="...and only if its p-value is below this")
    psi_min_ks: float = Field(0.15, ge=0, le=1, description="a PSI alarm also needs a KS statistic of at least "
                              "this: PSI depends on where the reference's quantile edges fall, and when one "
                              "account carries a tenth of the rows (a biller's airtime sales), a few percent "
                              "change in it alone moves a whole bin across an edge")
    alert_rate_change: float = Field(2.0, gt=1, description="alarm when the alert rate moves beyond this "
                                     "ratio of the reference rate (either direction)")
    alert_rate_pvalue: float = Field(0.001, gt=0, le=1, description="...and only if a binomial test of the "
                                     "window's alerts against the reference rate gives a p-value below this")
    min_samples: int = Field(500, ge=10, description="fewer decisions in the window: no drift verdict")
    min_window_hours: float = Field(24.0, ge=0, description="a window spanning less event time: no drift or "
                                    "alert-rate verdict (traffic changes through the day: an hour of night-time "
                                    "decisions is not a shifted week)")
    max_ks_sample: int = Field(20_000, ge=100, description="subsample the current window for KS beyond this")
    alarm_features: int = Field(3, ge=1, description="how many features at alarm level make a drift "
                                "alarm (fewer: warnings; with dozens of features one alone is often noise)")
    ignore_features: list[str] = Field(
        default_factory=lambda: ["*_secs_since_*", "hour_local", "day_of_week_local", "is_weekend", "is_night"],
        description="glob patterns of features reported but never alarmed on; the default are recency "
                    "features, censored by the length of history, so they drift by construction while "
                    "history accumulates (up to the feature horizon), and the calendar (hour, weekday), "
                    "whose mix in any window shorter than a week is the calendar's, not the traffic's")
    performance_drop: float = Field(0.5, gt=0, le=1, description="alarm when the latest matured window's "
                                    "average precision falls below this share of the reference AP")
    min_performance_frauds: int = Field(10, ge=1, description="matured frauds needed for a performance verdict")
    maturity_days: int = Field(14, ge=0, description="labels of decisions older than this count as mature")
    k: int = Field(100, ge=1, description="accounts investigated per day for account precision@k")
    disparity_ratio: float = Field(1.5, gt=1, description="flag a segment whose recall or false-positive "
                                   "rate differs from the overall one by more than this ratio")
    min_segment_support: int = Field(20, ge=1, description="frauds (for recall) or alerts (for FPR) a "
                                     "segment needs before it can be flagged")

    @model_validator(mode="after")
    def _ordered(self) -> MonitorConfig:
        if self.psi_warn > self.psi_alarm:
            raise ValueError(f"psi_warn ({self.psi_warn}) must not exceed psi_alarm ({self.psi_alarm})")
        return self


class GateConfig(BaseModel):
    """When a challenger may replace the champion."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    train_days: int = Field(30, ge=1, description="training period of the challenger")
    holdout_days: int = Field(7, ge=1, description="recent matured period both models are measured on")
    maturity_days: int = Field(14, ge=0, description="labels of transactions older than this are mature")
    margin_ap: float = Field(0.0, ge=0, description="challenger AP must exceed champion AP by this")
    margin_precision_at_k: float = Field(0.0, ge=0, description="same for account precision@k")
    k: int = Field(100, ge=1)
    segment_tolerance: float = Field(0.05, ge=0, description="largest AP drop allowed in any segment")
    min_segment_frauds: int = Field(30, ge=1, description="segments with fewer holdout frauds are not judged "
                                    "(below ~30 frauds a segment's AP moves by 0.1 on noise alone)")
    candidates: list[str] | None = Field(None, description="names from the model grid to consider "
                                         "(default: the whole grid, chosen by prequential validation)")
    promote: bool = Field(True, description="promote a challenger that passes the gate (False: report only)")


class MonitoringSettings(BaseModel):
    """The file layout: ``monitor:`` and ``gate:`` sections."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    monitor: MonitorConfig = MonitorConfig()
    gate: GateConfig = GateConfig()


def load_monitoring_settings(path: Path | None) -> MonitoringSettings:
    """Defaults, or the YAML file at ``path``; errors name the file and the setting."""
    if path is None:
        return MonitoringSettings()
    import yaml

    if not path.exists():
        raise NotFoundError(f"no monitoring config at {path}", file=path,
                            hint="pass an existing YAML file with `monitor:` and `gate:` sections")
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        return MonitoringSettings.model_validate(data)
    except yaml.YAMLError as exc:
        raise ConfigError(f"not valid YAML: {exc}", file=path, hint="fix the YAML syntax") from exc
    except ValidationError as exc:
        first = exc.errors()[0]
        name = ".".join(str(p) for p in first["loc"])
        raise ConfigError(f"{first['msg']} (got {first.get('input')!r})", file=path, setting=name,
                          hint=f"fix `{name}` in {path.name}") from exc
