"""Time in the simulated world: the day's context, hour-of-day profiles and day multipliers.

Local time is East Africa Time (UTC+3); every timestamp handed out is UTC epoch milliseconds.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from pesaguard.simulate.batch import Keys
    from pesaguard.simulate.config import SimConfig
    from pesaguard.simulate.world import World

HOUR_MS = 3_600_000
MIN_MS = 60_000
DAY_MS = 86_400_000

# Relative activity by local hour: quiet nights, a lunchtime and an evening peak.
_GENERAL = np.array([0.4, 0.2, 0.15, 0.1, 0.15, 0.5, 1.5, 3.0, 4.5, 5.0, 5.2, 5.4,
                     6.0, 6.0, 5.5, 5.3, 5.5, 6.2, 6.8, 6.5, 5.5, 4.0, 2.5, 1.2])
_AGENT = np.where((np.arange(24) >= 7) & (np.arange(24) <= 20), _GENERAL, 0.0)
_AGENT[6] = _AGENT[21] = 0.8
PROFILES = {"general": _GENERAL / _GENERAL.sum(), "agent": _AGENT / _AGENT.sum()}
DOW_MULT = np.array([1.0, 0.97, 0.97, 1.0, 1.12, 1.15, 0.8])  # Monday .. Sunday


@dataclass
class SmsSpec:
    """An SMS to render later: who gets it, when, which template family, and what it refers to."""

    ts: int
    recipient: int
    family: str
    sender: int | None = None  # account whose phone number sends it (None: an unknown number)
    params: dict[str, Any] = field(default_factory=dict)
    link_key: int | None = None  # candidate row this message led to (resolved to a txn_id later)


@dataclass
class DayCtx:
    """Everything a generator needs for one day; generators append events and SMS to it."""

    cfg: SimConfig
    world: World
    keys: Keys
    day: int
    date: date
    t0: int
    rng: np.random.Generator
    events: list[tuple[int, int, str]] = field(default_factory=list)  # (account, ts, kind)
    sms: list[SmsSpec] = field(default_factory=list)
    blocked_from: dict[int, int] = field(default_factory=dict)  # victim -> ts their SIM is lost

    @property
    def t1(self) -> int:
        return self.t0 + DAY_MS

    @property
    def dom(self) -> int:
        return self.date.day

    @property
    def last_dom(self) -> bool:
        return self.date.day == calendar.monthrange(self.date.year, self.date.month)[1]

    @property
    def multiplier(self) -> float:
        month_end = 1.1 if (self.date.day >= 28 or self.date.day <= 2) else 1.0
        return float(DOW_MULT[self.date.weekday()] * month_end)

    def times(self, k: int, profile: str = "general") -> np.ndarray:
        """``k`` timestamps in this day drawn from an hour-of-day profile."""
        hours = self.rng.choice(24, size=k, p=PROFILES[profile])
        return self.t0 + hours * HOUR_MS + self.rng.integers(0, HOUR_MS, k)

    def between(self, k: int, lo_h: float, hi_h: float) -> np.ndarray:
        """``k`` uniform timestamps between two local hours of this day."""
        return self.t0 + (self.rng.uniform(lo_h, hi_h, k) * HOUR_MS).astype(np.int64)

    def minutes(self, lohi: tuple[float, float], k: int) -> np.ndarray:
        """Random delays in ms, log-uniform between ``lohi`` minutes (short delays are common)."""
        lo, hi = max(lohi[0], 0.05), max(lohi[1], lohi[0], 0.05)
        return (np.exp(self.rng.uniform(np.log(lo), np.log(hi), k)) * MIN_MS).astype(np.int64)

    def active(self) -> np.ndarray:
        """Accounts already open at the end of this day."""
        return self.world.opened_ms < self.t1


def month_day(start: date, day: int) -> date:
    return start + timedelta(days=day)
