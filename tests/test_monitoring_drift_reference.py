"""The monitoring reference and drift on a simulated world: quiet when nothing changed, an alarm when
something did. Windowed features are compared only where their windows had filled."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pesaguard.features import FeatureEngine
from pesaguard.monitoring.config import MonitorConfig
from pesaguard.monitoring.drift import drift_table
from pesaguard.monitoring.drift_reference import SCORE, build_reference, feature_span_ms
from pesaguard.monitoring.snapshot import alarms

DAY = 86_400_000
DAYS = 45


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[np.ndarray, np.ndarray, list[str], np.ndarray]:
    """A simulated world's features (times, days, names, values): 1,500 customers for 45 days."""
    from pesaguard.simulate import SimConfig, simulate

    out = tmp_path_factory.mktemp("world")
    simulate(SimConfig(accounts=1_500, days=DAYS, seed=3, operator_sender_id="MPESA", msisdn_salt="t"), out)
    tx = pd.read_parquet(out / "transactions.parquet")
    labels = pd.read_parquet(out / "labels.parquet")[["txn_id", "is_fraud", "known_at_ms"]]
    x = FeatureEngine().replay(tx, labels=labels, account_events=pd.read_parquet(out / "account_events.parquet"))
    ts = tx["ts_ms"].to_numpy()
    return ts, (ts - ts.min() // DAY * DAY) // DAY, list(x.columns), x.to_numpy(dtype=float)


def _score(x: np.ndarray, names: list[str]) -> np.ndarray:
    """A fixed stand-in for a model's score: rises with the amount against the payer's history."""
    ratio = np.nan_to_num(x[:, names.index("amount_ratio_30d")], nan=1.0)
    return 1 / (1 + np.exp(-(np.log1p(ratio) - 3)))


def _alarms(ref_rows: np.ndarray, cur: np.ndarray, world: tuple, mature: bool) -> list[dict]:
    ts, _, names, x = world
    ref = build_reference(x[ref_rows], names, _score(x[ref_rows], names), 0.5,
                          **({"ts_ms": ts[ref_rows], "data_start_ms": int(ts.min())} if mature else {}))
    frame = pd.DataFrame(cur, columns=names)
    frame[SCORE] = _score(cur, names)
    return [a for a in alarms(drift_table(ref, frame, MonitorConfig()), None, ref, len(cur), MonitorConfig())
            if a["level"] == "alarm"]


def test_a_stationary_world_raises_no_drift_alarm_and_a_shift_raises_one(world: tuple) -> None:
    _ts, day, names, x = world
    train = (day >= 7) & (day < DAYS - 7)  # a model's training days after a week of warm-up
    current = x[day >= DAYS - 7]
    # the reference's 30-day windows filled only from day 30: comparing them all is what alarms
    assert _alarms(train, current, world, mature=False)
    assert not _alarms(train, current, world, mature=True)
    shifted = current.copy()
    for i, n in enumerate(names):  # every amount three times larger: what an inflation or a new product does
        if n == "amount" or n.startswith(("payer_sum_", "payer_mean_", "payer_max_", "payer_std_")):
            shifted[:, i] *= 3
    found = _alarms(train, shifted, world, mature=True)
    assert {"payer_sum_30d", "amount"} <= {a["name"] for a in found}


def test_features_whose_window_never_filled_are_reported_not_alarmed(world: tuple) -> None:
    ts, day, names, x = world
    early = day < 10  # no 30-day window (and no 7-day window before day 7) had filled yet
    ref = build_reference(x[early], names, _score(x[early], names), 0.5, ts_ms=ts[early], data_start_ms=int(ts.min()))
    immature = set(ref.meta["immature_columns"])
    assert {"payer_sum_30d", "payee_count_30d", "pair_is_new", "payer_secs_since_sim_swap"} <= immature
    assert "amount" not in immature and "payer_sum_24h" not in immature
    frame = pd.DataFrame(x[day >= DAYS - 7], columns=names)
    frame[SCORE] = 0.1
    table = {r["column"]: r for r in drift_table(ref, frame, MonitorConfig())}
    assert table["payer_sum_30d"]["ignored"] and not table["payer_sum_24h"]["ignored"]
    assert feature_span_ms("payee_distinct_payers_7d") == 7 * DAY


def test_reference_round_trips_with_its_maturity(world: tuple, tmp_path: Path) -> None:
    from pesaguard.monitoring.drift_reference import Reference

    ts, day, names, x = world
    rows = day < 10
    ref = build_reference(x[rows], names, _score(x[rows], names), 0.5, ts_ms=ts[rows], data_start_ms=int(ts.min()),
                          alert_rate=0.02)
    back = Reference.load(ref.save(tmp_path))
    assert back.alert_rate == 0.02 and back.meta["immature_columns"] == ref.meta["immature_columns"]


def test_a_window_of_a_few_hours_gets_no_verdict(world: tuple) -> None:
    """Traffic changes through the day: an hour of night-time decisions is not a shifted week."""
    ts, day, names, x = world
    train = (day >= 7) & (day < DAYS - 7)
    ref = build_reference(x[train], names, _score(x[train], names), 0.5, ts_ms=ts[train], data_start_ms=int(ts.min()))
    hour = (ts - ts.min()) // 3_600_000 % 24
    night = x[(day >= DAYS - 7) & (hour < 4)]  # the small hours of the last week
    frame = pd.DataFrame(night, columns=names)
    frame[SCORE] = _score(night, names)
    cfg = MonitorConfig(min_samples=min(500, len(night)))
    assert alarms(drift_table(ref, frame, cfg), None, ref, len(night), cfg)  # judged as a week, it "drifted"
    short = drift_table(ref, frame, cfg, span_hours=4.0)
    assert {r["level"] for r in short} == {"insufficient"}
    assert not alarms(short, 0.0, ref, len(night), cfg, span_hours=4.0)
