"""Streaming aggregators: one small protocol, ``update(x)`` / ``get(x)``, on plain event dicts.

Contract: an event ``x`` is a mapping with ``ts_ms`` (UTC epoch milliseconds, non-decreasing across
updates) and whatever field the aggregator reads. ``update`` folds the event in; ``get`` returns the
value *as seen by* an event at ``x["ts_ms"]`` and never changes state. A window ``W`` covers the events
with ``ts_ms > t - W`` (and, by construction, only events already folded in). A missing, ``None`` or
NaN field is skipped by value aggregators; an aggregator with no data answers NaN (counts answer 0).
State is bounded: after an update only events inside the window are kept.

These classes are the executable specification of the feature engine: the compiled kernel in
``pesaguard.features.kernel`` is tested to produce the same values as engines built from them.

>>> agg = Mean("amount", window="1h")
>>> agg.update({"ts_ms": 0, "amount": 100})
>>> agg.update({"ts_ms": 1_000, "amount": 300})
>>> agg.get({"ts_ms": 2_000})
200.0
>>> agg.get({"ts_ms": 3_600_500})   # the first event has left the window
300.0
>>> by_payer = Keyed(Count(window="24h"), by="payer")
>>> by_payer.update({"ts_ms": 0, "payer": "C1"})
>>> by_payer.get({"ts_ms": 5, "payer": "C1"}), by_payer.get({"ts_ms": 5, "payer": "C2"})
(1.0, 0.0)
"""

from __future__ import annotations

import math
from collections import OrderedDict, deque
from collections.abc import Hashable, Mapping
from typing import Any, Protocol, runtime_checkable

from pesaguard.features.config import parse_duration

NAN = float("nan")
Event = Mapping[str, Any]


@runtime_checkable
class Aggregator(Protocol):
    """The protocol every streaming piece speaks."""

    def update(self, x: Event) -> None: ...

    def get(self, x: Event) -> float: ...

    def clone(self) -> Aggregator: ...

    def state_size(self) -> int: ...


def _value(x: Event, field: str | None) -> float | None:
    """The numeric field of ``x``, or None when absent, null or NaN."""
    if field is None:
        return None
    v = x.get(field)
    if v is None:
        return None
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(f) else f


def _ms(window: str | int) -> int:
    return parse_duration(window) if isinstance(window, str) else int(window)


class _Windowed:
    """Keeps ``(ts_ms, value)`` pairs inside a sliding time window."""

    def __init__(self, field: str | None = None, window: str | int = "24h") -> None:
        self.field = field
        self.window = window
        self._w = _ms(window)
        self._items: deque[tuple[int, float]] = deque()

    def clone(self) -> _Windowed:
        return type(self)(field=self.field, window=self.window)

    def update(self, x: Event) -> None:
        t = int(x["ts_ms"])
        v = 1.0 if self.field is None else _value(x, self.field)
        if v is not None:
            self._items.append((t, v))
        items, cutoff = self._items, t - self._w
        while items and items[0][0] <= cutoff:
            items.popleft()

    def _live(self, x: Event) -> list[float]:
        cutoff = int(x["ts_ms"]) - self._w
        return [v for ts, v in self._items if ts > cutoff]

    def state_size(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(field={self.field!r}, window={self.window!r})"


class Count(_Windowed):
    """Number of events in the window (with ``field`` present, if a field is given)."""

    def get(self, x: Event) -> float:
        return float(len(self._live(x)))


class Sum(_Windowed):
    def get(self, x: Event) -> float:
        return float(math.fsum(self._live(x)))


class Mean(_Windowed):
    def get(self, x: Event) -> float:
        vals = self._live(x)
        return math.fsum(vals) / len(vals) if vals else NAN


class Std(_Windowed):
    """Population standard deviation (ddof=0): one event gives 0.0, none gives NaN."""

    def get(self, x: Event) -> float:
        vals = self._live(x)
        if not vals:
            return NAN
        mean = math.fsum(vals) / len(vals)
        return math.sqrt(math.fsum((v - mean) ** 2 for v in vals) / len(vals))


class Max(_Windowed):
    def get(self, x: Event) -> float:
        vals = self._live(x)
        return max(vals) if vals else NAN


class DistinctCount:
    """Number of distinct values of ``field`` among the events in the window."""

    def __init__(self, field: str, window: str | int = "24h") -> None:
        self.field = field
        self.window = window
        self._w = _ms(window)
        self._last: OrderedDict[Hashable, int] = OrderedDict()

    def clone(self) -> DistinctCount:
        return DistinctCount(self.field, self.window)

    def update(self, x: Event) -> None:
        t = int(x["ts_ms"])
        k = x.get(self.field)
        if k is not None and not (isinstance(k, float) and math.isnan(k)):
            self._last.pop(k, None)
            self._last[k] = t
        cutoff = t - self._w
        while self._last:
            k0, t0 = next(iter(self._last.items()))
            if t0 > cutoff:
                break
            del self._last[k0]

    def get(self, x: Event) -> float:
        cutoff = int(x["ts_ms"]) - self._w
        return float(sum(1 for t in self._last.values() if t > cutoff))

    def state_size(self) -> int:
        return len(self._last)


class TimeSinceLast:
    """Seconds since the last event (with ``field`` present, if given); NaN if none within ``horizon``."""

    def __init__(self, field: str | None = None, horizon: str | int = "90d") -> None:
        self.field = field
        self.horizon = horizon
        self._h = _ms(horizon)
        self._last: int | None = None

    def clone(self) -> TimeSinceLast:
        return TimeSinceLast(self.field, self.horizon)

    def update(self, x: Event) -> None:
        if self.field is None or x.get(self.field) is not None:
            self._last = int(x["ts_ms"])

    def get(self, x: Event) -> float:
        if self._last is None:
            return NAN
        dt = int(x["ts_ms"]) - self._last
        return dt / 1000.0 if dt < self._h else NAN

    def state_size(self) -> int:
        return 0 if self._last is None else 1


class Last:
    """The last value of ``field`` seen within ``horizon``; NaN if none."""

    def __init__(self, field: str, horizon: str | int = "90d") -> None:
        self.field = field
        self.horizon = horizon
        self._h = _ms(horizon)
        self._last: tuple[int, float] | None = None

    def clone(self) -> Last:
        return Last(self.field, self.horizon)

    def update(self, x: Event) -> None:
        v = _value(x, self.field)
        if v is not None:
            self._last = (int(x["ts_ms"]), v)

    def get(self, x: Event) -> float:
        if self._last is None or int(x["ts_ms"]) - self._last[0] >= self._h:
            return NAN
        return self._last[1]

    def state_size(self) -> int:
        return 0 if self._last is None else 1


class DelayedLast:
    """Seconds since the latest event made at or before ``t - lag`` (NaN if none within ``horizon``).

    What is known ``lag`` after the fact, e.g. the latest payment whose label, due ``lag`` after it,
    should be in. State: the events of the last ``lag`` and the latest one before them.
    """

    def __init__(self, lag: str | int, field: str | None = None, horizon: str | int = "90d") -> None:
        self.lag = lag
        self.field = field
        self.horizon = horizon
        self._lag = _ms(lag)
        self._h = _ms(horizon)
        self._recent: deque[int] = deque()
        self._settled: int | None = None

    def clone(self) -> DelayedLast:
        return DelayedLast(self.lag, self.field, self.horizon)

    def _settle(self, t: int) -> int | None:
        """The latest event time at or before ``t - lag`` (read-only)."""
        last = self._settled
        for ts in self._recent:
            if ts > t - self._lag:
                break
            last = ts
        return last

    def update(self, x: Event) -> None:
        t = int(x["ts_ms"])
        if self.field is None or _value(x, self.field) is not None:
            self._recent.append(t)
        while self._recent and self._recent[0] <= t - self._lag:
            self._settled = self._recent.popleft()

    def get(self, x: Event) -> float:
        t = int(x["ts_ms"])
        last = self._settle(t)
        if last is None or t - last >= self._h:
            return NAN
        return (t - last) / 1000.0

    def state_size(self) -> int:
        return len(self._recent) + (self._settled is not None)


class SinceFirst:
    """Seconds since the first event of the current run, a run being broken by a gap of ``horizon``."""

    def __init__(self, horizon: str | int = "90d") -> None:
        self.horizon = horizon
        self._h = _ms(horizon)
        self._first: int | None = None
        self._last: int | None = None

    def clone(self) -> SinceFirst:
        return SinceFirst(self.horizon)

    def update(self, x: Event) -> None:
        t = int(x["ts_ms"])
        if self._last is None or t - self._last >= self._h:
            self._first = t
        self._last = t

    def get(self, x: Event) -> float:
        if self._first is None or self._last is None or int(x["ts_ms"]) - self._last >= self._h:
            return NAN
        return (int(x["ts_ms"]) - self._first) / 1000.0

    def state_size(self) -> int:
        return 0 if self._first is None else 2


class RunCount:
    """Number of events in the current run, a run being broken by a gap of ``horizon``.

    Equivalent to "events since the last idle gap", so it needs O(1) state where a count over the whole
    horizon would need every event of it; zero exactly when there was no event within ``horizon``.
    """

    def __init__(self, horizon: str | int = "90d") -> None:
        self.horizon = horizon
        self._h = _ms(horizon)
        self._n = 0
        self._last: int | None = None

    def clone(self) -> RunCount:
        return RunCount(self.horizon)

    def update(self, x: Event) -> None:
        t = int(x["ts_ms"])
        if self._last is None or t - self._last >= self._h:
            self._n = 0
        self._n += 1
        self._last = t

    def get(self, x: Event) -> float:
        if self._last is None or int(x["ts_ms"]) - self._last >= self._h:
            return 0.0
        return float(self._n)

    def state_size(self) -> int:
        return 0 if self._last is None else 2


class FirstSeen:
    """1.0 if the value of ``field`` has not been seen within ``horizon`` (a first-seen counterparty)."""

    def __init__(self, field: str, horizon: str | int = "90d") -> None:
        self.field = field
        self.horizon = horizon
        self._seen = DistinctCount(field, horizon)

    def clone(self) -> FirstSeen:
        return FirstSeen(self.field, self.horizon)

    def update(self, x: Event) -> None:
        self._seen.update(x)

    def get(self, x: Event) -> float:
        k = x.get(self.field)
        if k is None:
            return NAN
        t = self._seen._last.get(k)
        return 0.0 if t is not None and t > int(x["ts_ms"]) - self._seen._w else 1.0

    def state_size(self) -> int:
        return self._seen.state_size()


class Keyed:
    """One aggregator per entity key (a field, or a tuple of fields for pairs).

    Entities idle for ``horizon`` are evicted (their aggregators would answer as empty anyway if every
    aggregator's reach is within ``horizon``); an unseen or evicted key answers like a fresh aggregator.
    """

    def __init__(self, template: Any, by: str | tuple[str, ...], horizon: str | int = "90d") -> None:
        self.template = template
        self.by = by
        self.horizon = horizon
        self._h = _ms(horizon)
        self._aggs: OrderedDict[Hashable, tuple[int, Any]] = OrderedDict()

    def clone(self) -> Keyed:
        return Keyed(self.template.clone(), self.by, self.horizon)

    def _key(self, x: Event) -> Hashable | None:
        if isinstance(self.by, tuple):
            parts = tuple(x.get(f) for f in self.by)
            return None if any(p is None for p in parts) else parts
        return x.get(self.by)

    def update(self, x: Event) -> None:
        k = self._key(x)
        t = int(x["ts_ms"])
        if k is not None:
            entry = self._aggs.pop(k, None)
            agg = entry[1] if entry is not None else self.template.clone()
            agg.update(x)
            self._aggs[k] = (t, agg)  # most recently active last: eviction pops from the front
        while self._aggs:
            k0, (t0, _) = next(iter(self._aggs.items()))
            if t - t0 < self._h:
                break
            del self._aggs[k0]

    def get(self, x: Event) -> float:
        k = self._key(x)
        entry = self._aggs.get(k) if k is not None else None
        agg = entry[1] if entry is not None else self.template
        return float(agg.get(x))

    def state_size(self) -> int:
        return sum(1 + a.state_size() for _, a in self._aggs.values())

    def __len__(self) -> int:
        return len(self._aggs)
