"""Conformance: every streaming aggregator passes the same checks (river-style).

Purity of ``get``, pickling round-trip, missing-field handling, bounded memory (windows expire), and
agreement with a brute-force recomputation over the full history.
"""

from __future__ import annotations

import math
import pickle
import random
import statistics
from typing import Any

import pytest

from pesaguard.features.aggregators import (
    Aggregator,
    Count,
    DelayedLast,
    DistinctCount,
    FirstSeen,
    Keyed,
    Last,
    Max,
    Mean,
    RunCount,
    SinceFirst,
    Std,
    Sum,
    TimeSinceLast,
)

M = 60_000
AGGREGATORS: dict[str, Any] = {
    "count": lambda: Count(window="1h"),
    "count_amount": lambda: Count("amount", "1h"),
    "sum": lambda: Sum("amount", "1h"),
    "mean": lambda: Mean("amount", "1h"),
    "std": lambda: Std("amount", "1h"),
    "max": lambda: Max("amount", "1h"),
    "distinct": lambda: DistinctCount("payee", "1h"),
    "time_since_last": lambda: TimeSinceLast(horizon="2h"),
    "last": lambda: Last("score", horizon="2h"),
    "since_first": lambda: SinceFirst(horizon="2h"),
    "run_count": lambda: RunCount(horizon="2h"),
    "delayed_last": lambda: DelayedLast("30m", "amount", horizon="2h"),
    "first_seen": lambda: FirstSeen("payee", horizon="2h"),
    "keyed_mean": lambda: Keyed(Mean("amount", "1h"), by="payer", horizon="2h"),
    "keyed_pair_count": lambda: Keyed(Count(window="1h"), by=("payer", "payee"), horizon="2h"),
}


def events(n: int, seed: int = 0, gap_ms: int = M) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    out, t = [], 0
    for _ in range(n):
        t += rng.randint(0, 2 * gap_ms)
        x: dict[str, Any] = {"ts_ms": t, "payer": f"C{rng.randint(0, 5)}", "payee": f"M{rng.randint(0, 8)}"}
        r = rng.random()
        if r < 0.8:
            x["amount"] = rng.randint(1, 10_000)
            x["score"] = rng.random()
        elif r < 0.9:
            x["amount"] = None
            x["score"] = float("nan")
        out.append(x)  # else: fields absent altogether
    return out


def same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or a == b


@pytest.fixture(params=list(AGGREGATORS))
def make(request: pytest.FixtureRequest) -> Any:
    return AGGREGATORS[request.param]


def test_speaks_the_protocol(make: Any) -> None:
    agg = make()
    assert isinstance(agg, Aggregator)
    assert isinstance(agg.clone(), type(agg)) and agg.clone().state_size() == 0


def test_get_is_pure(make: Any) -> None:
    agg = make()
    evs = events(300)
    for x in evs:
        agg.update(x)
    probe = {**evs[-1], "ts_ms": evs[-1]["ts_ms"] + 30 * M}
    before = pickle.dumps(agg)
    first = agg.get(probe)
    assert same(agg.get(probe), first)
    assert pickle.dumps(agg) == before


def test_pickle_round_trip_continues_identically(make: Any) -> None:
    agg = make()
    evs = events(400, seed=1)
    for x in evs[:200]:
        agg.update(x)
    twin = pickle.loads(pickle.dumps(agg))
    for x in evs[200:]:
        assert same(agg.get(x), twin.get(x))
        agg.update(x)
        twin.update(x)


def test_missing_fields_never_raise(make: Any) -> None:
    agg = make()
    empty = agg.get({"ts_ms": 0})
    assert isinstance(empty, float)
    for x in ({"ts_ms": 1}, {"ts_ms": 2, "amount": None, "payee": None, "payer": None, "score": None},
              {"ts_ms": 3, "amount": float("nan"), "score": float("nan")}, {"ts_ms": 4, "amount": "n/a"}):
        agg.update(x)
        assert isinstance(agg.get(x), float)


def test_memory_is_bounded(make: Any) -> None:
    agg = make()
    sizes = []
    for x in events(5000, seed=2):
        agg.update(x)
        sizes.append(agg.state_size())
    # 1h windows hold about 60 one-minute-spaced events, horizons 2h about 120; keyed ones 6 payers
    assert max(sizes) < 6 * 130
    assert max(sizes[-1000:]) <= max(sizes[1000:2000]) * 1.5 + 10  # no growth with time


@pytest.mark.parametrize(
    "name, expected",
    [
        ("count_amount", lambda v: float(len(v))),
        ("sum", lambda v: float(sum(v))),
        ("mean", lambda v: statistics.fmean(v) if v else math.nan),
        ("std", lambda v: statistics.pstdev(v) if v else math.nan),
        ("max", lambda v: float(max(v)) if v else math.nan),
    ],
)
def test_windowed_values_match_brute_force(name: str, expected: Any) -> None:
    agg = AGGREGATORS[name]()
    history: list[dict[str, Any]] = []
    for x in events(1500, seed=3):
        window = [
            float(h["amount"]) for h in history
            if h["ts_ms"] > x["ts_ms"] - 60 * M and isinstance(h.get("amount"), int)
        ]
        got, want = agg.get(x), expected(window)
        assert same(got, want) or math.isclose(got, want, rel_tol=1e-12), (name, got, want)
        agg.update(x)
        history.append(x)


def test_distinct_and_first_seen_match_brute_force() -> None:
    distinct, first = DistinctCount("payee", "1h"), FirstSeen("payee", "2h")
    history: list[dict[str, Any]] = []
    for x in events(1500, seed=4):
        t = x["ts_ms"]
        assert distinct.get(x) == len({h["payee"] for h in history if h["ts_ms"] > t - 60 * M})
        seen = {h["payee"] for h in history if h["ts_ms"] > t - 120 * M}
        assert first.get(x) == (0.0 if x["payee"] in seen else 1.0)
        distinct.update(x)
        first.update(x)
        history.append(x)


def test_delayed_last_matches_brute_force() -> None:
    agg = DelayedLast("30m", "amount", horizon="2h")
    history: list[dict[str, Any]] = []
    for x in events(1500, seed=5, gap_ms=10 * M):
        t = x["ts_ms"]
        settled = [h["ts_ms"] for h in history if h["ts_ms"] <= t - 30 * M and isinstance(h.get("amount"), int)]
        want = (t - settled[-1]) / 1000 if settled and t - settled[-1] < 120 * M else math.nan
        assert same(agg.get(x), want), (t, agg.get(x), want)
        agg.update(x)
        history.append(x)
