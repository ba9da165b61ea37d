"""Monitoring on a synthetic prediction log: drift statistics, alarms, matured performance, segments,
the stored snapshot and the report files (both store dialects where the store is involved)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pesaguard.monitoring import drift, performance, snapshot
from pesaguard.monitoring.config import MonitorConfig, load_monitoring_settings
from pesaguard.monitoring.drift_reference import Reference, build_reference, summarise
from pesaguard.monitoring.report import write_report
from pesaguard.store import Store, core
from pesaguard.store import decision_log as decisions_repo
from pesaguard.store import monitoring as repo

DAY = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01
NAMES = ["amount_z", "velocity"]
CFG = MonitorConfig(window_days=3, min_samples=300, maturity_days=3, k=5, min_segment_support=5, alarm_features=2)


def _world(rng: np.random.Generator, n: int, shift: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    x = np.column_stack([rng.normal(shift, 1, n), rng.exponential(1 + shift, n)])
    p = 1 / (1 + np.exp(-(2.5 * x[:, 0] - 6)))
    y = (rng.random(n) < p).astype(int)
    score = np.clip(p + rng.normal(0, 0.02, n), 0, 1)
    return x, y, score


def reference(seed: int = 1) -> Reference:
    x, _, s = _world(np.random.default_rng(seed), 5000, 0.0)
    return build_reference(x, NAMES, s, review_threshold=0.3, bins=10)


def fill_log(store: Store, days: int, shift_from: int | None, per_day: int = 400, seed: int = 0) -> None:
    """Decisions for ``days`` days through the decision area's own writer; labels known 2 days later."""
    rng = np.random.default_rng(seed)
    regions = np.array(["coast", "nairobi", "rift"])
    accounts = pd.DataFrame({"account_id": [f"A{i}" for i in range(200)], "kind": "customer",
                             "region": regions[np.arange(200) % 3], "opened_ms": T0 - (np.arange(200) % 4) * 100 * DAY})
    core.insert_accounts(store, accounts)
    labels = []
    for d in range(days):
        x, y, s = _world(rng, per_day, 1.2 if shift_from is not None and d >= shift_from else 0.0)
        rows, txns = [], []
        for i in range(per_day):
            tid = f"t{d}_{i}"
            ts = T0 + d * DAY + i * (DAY // per_day)
            acc = f"A{rng.integers(200)}"
            action = "block" if s[i] >= 0.8 else "review" if s[i] >= 0.3 else "allow"
            rows.append({"decision_id": "d_" + tid, "txn_id": tid, "request_hash": "h", "ts_ms": ts,
                         "account_id": acc, "amount_minor": 1000 + i, "action": action, "score": float(s[i]),
                         "reasons": [], "rule_hits": [],
                         "features": {"amount_z": float(x[i, 0]), "velocity": float(x[i, 1])},
                         "model_version": "7", "policy_version": "p1", "created_ms": ts})
            txns.append((tid, ts, acc, "M1", 1000 + i, "KES", "p2p" if i % 2 else "cash_out") + (None,) * 8)
            labels.append({"txn_id": tid, "is_fraud": int(y[i]), "known_at_ms": ts + 2 * DAY, "source": "test"})
        decisions_repo.write_decisions(store, rows, txns)
    core.insert_labels(store, pd.DataFrame(labels))


def test_psi_and_ks_are_zero_on_the_reference_and_large_under_a_shift() -> None:
    ref = summarise(np.random.default_rng(0).normal(0, 1, 20_000))
    same = np.random.default_rng(1).normal(0, 1, 5000)
    moved = np.random.default_rng(2).normal(0.8, 1, 5000)
    assert drift.psi(ref, same) < 0.02 < 0.25 < drift.psi(ref, moved)
    assert drift.ks(ref, same)[0] < 0.05 and drift.ks(ref, moved)[0] > 0.25
    with_nan = np.where(np.arange(5000) % 2 == 0, np.nan, same)
    assert drift.psi(ref, with_nan) > 0.25  # half missing where the reference had none is drift


def test_prediction_log_holds_features_score_model_version_and_action(store: Store) -> None:
    fill_log(store, 1, None, per_day=20)
    log = repo.load_prediction_log(store)
    assert len(log) == 20
    row = log.iloc[0]
    assert set(row["features"]) == set(NAMES) and row["model_version"] == "7"
    assert row["action"] in ("allow", "review", "block") and 0 <= row["score"] <= 1
    assert row["region"] in ("coast", "nairobi", "rift") and row["type"] in ("p2p", "cash_out")


def test_stable_period_raises_no_alarm_and_shift_does(store: Store) -> None:
    fill_log(store, 12, shift_from=8)
    ref = reference()
    stable = snapshot.compute(store, ref, CFG, T0, T0 + 7 * DAY)
    assert stable["level"] == "ok" and stable["alarms"] == [], stable["alarms"]
    shifted = snapshot.compute(store, ref, CFG, T0, T0 + 12 * DAY)
    assert shifted["level"] == "alarm"
    kinds = {(a["kind"], a["name"]) for a in shifted["alarms"] if a["level"] == "alarm"}
    assert ("drift", "amount_z") in kinds and ("drift", "score") in kinds and ("alert_rate", "alert_rate") in kinds
    assert ("drift", "velocity") in kinds  # the exponential moved too
    strict = snapshot.compute(store, ref, CFG.model_copy(update={"alarm_features": 3}), T0, T0 + 12 * DAY)
    levels = {a["name"]: a["level"] for a in strict["alarms"]}
    assert levels["amount_z"] == levels["velocity"] == "warn" and levels["score"] == "alarm"
    sid = snapshot.save(store, shifted)
    latest = repo.latest_snapshot(store)
    assert latest is not None and latest["snapshot_id"] == sid and latest["level"] == "alarm"
    assert latest["summary"]["alarms"] and latest["n_decisions"] == 3 * 400


def test_too_few_samples_give_no_verdict(store: Store) -> None:
    fill_log(store, 2, shift_from=0, per_day=50)
    out = snapshot.compute(store, reference(), CFG)
    assert out["alarms"] == [] and {r["level"] for r in out["drift"]} == {"insufficient"}


def test_matured_performance_uses_only_old_decisions_and_known_labels() -> None:
    log = pd.DataFrame({"txn_id": ["a", "b", "c", "d"], "ts_ms": [0, DAY, 5 * DAY, 9 * DAY],
                        "account_id": ["x", "y", "x", "z"], "action": ["block", "allow", "review", "allow"],
                        "score": [0.9, 0.1, 0.5, 0.2]})
    labels = pd.DataFrame({"txn_id": ["a", "b", "c"], "is_fraud": [1, 1, 0],
                           "known_at_ms": [DAY, 11 * DAY, DAY * 6]})
    m = performance.matured(log, labels, as_of_ms=10 * DAY, maturity_days=3)
    assert list(m["txn_id"]) == ["a", "b", "c"]  # d is too young
    assert list(m["is_fraud"]) == [1, 0, 0]  # b's label is not known yet at the as-of time
    met = performance.metrics(m, k=1)
    assert met["recall"] == 1.0 and met["false_positive_rate"] == 0.5 and met["average_precision"] == 1.0


def test_segment_disparity_is_flagged_with_support() -> None:
    n = 400
    df = pd.DataFrame({"txn_id": [str(i) for i in range(n)], "ts_ms": np.arange(n) * 1000,
                       "account_id": [f"a{i % 50}" for i in range(n)], "score": np.linspace(0, 1, n),
                       "region": np.where((np.arange(n) // 10) % 2 == 0, "coast", "rift"), "type": "p2p",
                       "opened_ms": None})
    df["is_fraud"] = (np.arange(n) % 10 == 0).astype(int)  # 20 frauds per region
    # coast frauds are all caught, rift frauds mostly missed
    df["alerted"] = ((df["is_fraud"] == 1) & ((df["region"] == "coast") | (np.arange(n) % 80 == 10))).astype(int)
    overall = performance.metrics(df.assign(payer=df["account_id"]), k=5)
    rows = performance.segment_table(df, overall, disparity_ratio=2.0, min_support=10)
    by = {(r["segment"], r["value"]): r for r in rows}
    assert "recall" in by[("region", "rift")]["flags"] and by[("region", "rift")]["recall"] == 0.25
    assert by[("region", "coast")]["flags"] == []
    assert by[("account_age", "unknown")]["decisions"] == n  # no opening dates: degrades to one segment
    strict = performance.segment_table(df, overall, disparity_ratio=2.0, min_support=50)
    assert all(not r["flags"] for r in strict)  # below the support nothing is flagged


def test_report_writes_html_png_and_the_same_figures_as_json(store: Store, tmp_path: Path) -> None:
    fill_log(store, 10, shift_from=7)
    result = snapshot.compute(store, reference(), CFG)
    paths = write_report(result, tmp_path / "rep")
    html = paths["html"].read_text()
    for name in ("score_over_time", "alert_rate", "drift_psi", "drift_daily", "performance", "segments"):
        assert (tmp_path / "rep" / f"{name}.png").stat().st_size > 5000
        assert f'src="{name}.png"' in html
    daily = json.loads((tmp_path / "rep" / "score_over_time.json").read_text())
    assert [d["decisions"] for d in daily] == [400] * 10
    whole = json.loads(paths["json"].read_text())
    assert whole["level"] == "alarm" and whole["performance"]["decisions"] == 7 * 400


def test_config_file_errors_name_the_setting(tmp_path: Path) -> None:
    from pesaguard.errors import ConfigError

    p = tmp_path / "m.yaml"
    p.write_text("monitor:\n  psi_alarm: -1\n")
    with pytest.raises(ConfigError) as exc:
        load_monitoring_settings(p)
    assert exc.value.setting == "monitor.psi_alarm" and exc.value.file == str(p)
    p.write_text("monitor:\n  window_days: 3\ngate:\n  margin_ap: 0.01\n")
    s = load_monitoring_settings(p)
    assert s.monitor.window_days == 3 and s.gate.margin_ap == 0.01
