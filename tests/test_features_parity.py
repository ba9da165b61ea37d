"""Replay equals online scoring, and the compiled kernel equals the aggregator specification.

Random worlds: interleaved transactions (ties, missing optional fields, missing amounts), labels with
delays (including labels known before their transaction, duplicates and labels for unknown
transactions), account events of all kinds and scam SMS with and without scores.
"""

from __future__ import annotations

import math
import pickle
import random
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pesaguard.features import GROUPS, FeatureConfig, FeatureEngine, feature_names
from pesaguard.features import replay as replay_mod
from pesaguard.features.oracle import ReferenceEngine

H = 3_600_000
D = 24 * H
SMALL = FeatureConfig(
    windows=("1h", "24h", "7d"), label_windows=("24h", "7d"), history_window="7d", recent_window="24h", horizon="10d",
    label_delay="2d", lagged_windows=("1h", "7d"), min_label_delay="1h", groups=GROUPS,
)
CONFIGS = {
    "default": FeatureConfig(),
    "all_groups": FeatureConfig(groups=GROUPS),
    "small": SMALL,
    "separate_ids": SMALL.model_copy(update={"payee_id_space": "separate", "sms_min_score": 0.3}),
}
# The kernel's std uses running sums of squared deviations (float64); the reference recomputes exactly.
LOOSE = ("_std_", "_zscore_")


def world(rng: random.Random, n_txn: int = 300, n_acct: int = 10, span_days: float = 40) -> dict[str, pd.DataFrame]:
    accts = [f"A{i}" for i in range(n_acct)]
    ts = sorted(int(rng.random() * span_days * D) // 60_000 * 60_000 for _ in range(n_txn))  # minute ties
    rows = []
    for i, t in enumerate(ts):
        payer, payee = rng.choice(accts), rng.choice(accts)
        r: dict[str, Any] = {"txn_id": f"t{i}", "ts_ms": t, "payer": payer, "payee": payee}
        r["amount_minor"] = None if rng.random() < 0.03 else rng.choice([100, 5_000, rng.randint(1, 10**7), 10**9])
        r["type"] = rng.choice([None, "cash_out", "p2p", "merchant", "Lottery"])
        r["payer_balance_before"] = rng.choice([None, 0, rng.randint(0, 10**8)])
        rows.append(r)
    txns = pd.DataFrame(rows)
    labels = []
    for r in rng.sample(rows, k=n_txn // 3):
        delay = rng.choice([0, -H, 60_000, rng.randint(0, 15 * D)])
        labels.append({"txn_id": r["txn_id"], "is_fraud": rng.random() < 0.6, "known_at_ms": max(0, r["ts_ms"] + delay)})
    labels += [dict(labels[0])] if labels else []  # a duplicate
    labels.append({"txn_id": "ghost", "is_fraud": True, "known_at_ms": 5 * D})
    events = [
        {"event_id": f"e{i}", "account_id": rng.choice(accts), "ts_ms": int(rng.random() * span_days * D),
         "kind": rng.choice(["sim_swap", "device_change", "pin_reset"])}
        for i in range(n_txn // 10)
    ]
    sms = [
        {"account_id": rng.choice(accts), "ts_ms": int(rng.random() * span_days * D),
         "scam_type": rng.choice(["reversal", None]), "score": rng.choice([None, round(rng.random(), 3)])}
        for _ in range(n_txn // 10)
    ]
    return {
        "transactions": txns,
        "labels": pd.DataFrame(labels),
        "account_events": pd.DataFrame(events, columns=["event_id", "account_id", "ts_ms", "kind"]),
        "sms_events": pd.DataFrame(sms, columns=["account_id", "ts_ms", "scam_type", "score"]),
    }


def clean(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and math.isnan(v)) else v


def online(eng: Any, w: dict[str, pd.DataFrame]) -> list[dict[str, float]]:
    """Feed the world one event at a time, merged by (time, labels < account events < SMS < txns, input order)."""
    stream: list[tuple[int, int, int, str, dict[str, Any]]] = []
    for rank, (name, tcol) in enumerate(
        [("labels", "known_at_ms"), ("account_events", "ts_ms"), ("sms_events", "ts_ms"), ("transactions", "ts_ms")]
    ):
        for i, rec in enumerate(w[name].to_dict("records")):
            stream.append((int(rec[tcol]), rank, i, name, {k: clean(v) for k, v in rec.items()}))
    stream.sort(key=lambda e: e[:3])
    out: dict[int, dict[str, float]] = {}
    for k, (_, _, i, name, rec) in enumerate(stream):
        if isinstance(eng, FeatureEngine) and k == len(stream) // 2:  # a service restart mid-stream
            eng = FeatureEngine.restore(pickle.loads(pickle.dumps(eng.snapshot())))
        if name == "transactions":
            before = eng.peek(rec) if isinstance(eng, FeatureEngine) else None
            out[i] = eng.score_and_update(rec)
            if before is not None:  # the read-only path and the scoring path agree exactly
                assert before.keys() == out[i].keys()
                assert all(before[f] == out[i][f] or (math.isnan(before[f]) and math.isnan(out[i][f])) for f in before)
        elif name == "labels":
            eng.add_label(rec["txn_id"], rec["is_fraud"], rec["known_at_ms"])
        elif name == "account_events":
            eng.add_account_event(rec["account_id"], rec["ts_ms"], rec["kind"])
        else:
            eng.add_sms_event(rec["account_id"], rec["ts_ms"], rec["scam_type"], rec["score"])
    return [out[i] for i in range(len(out))]


def assert_rows_equal(expected: list[dict[str, float]], got: pd.DataFrame, loose: bool = False) -> None:
    names = list(got.columns)
    exp = np.array([[r[n] for n in names] for r in expected], dtype=np.float64)
    act = got.to_numpy(dtype=np.float64)
    assert exp.shape == act.shape
    for j, n in enumerate(names):
        rel = 1e-4 if loose and any(k in n for k in LOOSE) else 1e-9
        atol: Any = 0.0
        if loose and "_std_" in n:  # float64 cancellation bound: about sqrt(eps) * |mean|
            atol = 1e-7 * np.abs(np.nan_to_num(act[:, names.index(n.replace("_std_", "_mean_"))])) + 1e-6
        a, e = act[:, j], exp[:, j]
        same_nan = np.isnan(a) == np.isnan(e)
        close = np.isclose(a, e, rtol=rel, atol=atol, equal_nan=True)
        bad = np.flatnonzero(~(same_nan & close))
        assert not len(bad), f"{n}: row {bad[0]} expected {e[bad[0]]} got {a[bad[0]]}"


@pytest.mark.parametrize("cfg_name", list(CONFIGS))
@pytest.mark.parametrize("seed", range(6))
def test_replay_equals_online_and_reference(seed: int, cfg_name: str) -> None:
    cfg = CONFIGS[cfg_name]
    w = world(random.Random(seed))
    X = FeatureEngine(cfg).replay(**w)
    assert list(X.columns) == feature_names(cfg) and X.index.equals(w["transactions"].index)
    assert_rows_equal(online(FeatureEngine(cfg), w), X)
    assert_rows_equal(online(ReferenceEngine(cfg), w), X, loose=True)
    assert X["payee_fraud_count_7d"].sum() > 0  # the labels did something
    for name in ("payee_secs_since_first_fraud", "payer_secs_since_last_fraud"):
        assert X[name].fillna(0).sum() > 0, name
    if "lagged" in cfg.groups:
        assert X[f"payee_fraud_count_7d_lag{cfg.label_delay}"].sum() > 0
    if "profile" in cfg.groups:
        assert X["payee_new_payer_share_7d"].between(0, 1).any() and X["payer_secs_since_first"].gt(0).any()
    if "spree" in cfg.groups:
        assert X["amount_over_max_24h"].gt(0).any() and X[f"payer_peak_1h_over_mean_{cfg.history_window}"].gt(0).any()
    if "recovery" in cfg.groups:
        clean = X[f"payee_clean_secs_after_fraud_lag{cfg.label_delay}"]
        assert clean.gt(0).any() and clean.notna().sum() < len(X), cfg_name


@given(rng=st.randoms(use_true_random=False), n=st.integers(1, 80), n_acct=st.integers(1, 6))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_random_streams_replay_equals_online(rng: random.Random, n: int, n_acct: int) -> None:
    w = world(rng, n_txn=n, n_acct=n_acct, span_days=rng.choice([0.01, 2, 30]))
    X = FeatureEngine(SMALL).replay(**w)
    assert_rows_equal(online(FeatureEngine(SMALL), w), X)
    assert_rows_equal(online(ReferenceEngine(SMALL), w), X, loose=True)


def test_replay_processes_in_time_order_and_answers_in_input_order() -> None:
    w = world(random.Random(7))
    tx = w["transactions"]
    tx["ts_ms"] = tx["ts_ms"] + np.arange(len(tx))  # distinct times, so any input order means one stream
    X = FeatureEngine(SMALL).replay(**w)
    shuffled = tx.sample(frac=1.0, random_state=1)
    Y = FeatureEngine(SMALL).replay(**{**w, "transactions": shuffled})
    assert Y.index.equals(shuffled.index)
    assert_rows_equal([dict(zip(X.columns, r, strict=True)) for r in X.loc[Y.index].to_numpy()], Y)


def test_group_subsets_and_float32_give_the_same_values() -> None:
    w = world(random.Random(8))
    full = FeatureEngine(SMALL).replay(**w)
    part_cfg = SMALL.model_copy(update={"groups": ("payee", "labels", "sms")})
    part = FeatureEngine(part_cfg).replay(**w)
    assert list(part.columns) == feature_names(part_cfg)
    assert_rows_equal([dict(zip(part.columns, r, strict=True)) for r in full[part.columns].to_numpy()], part)
    f32 = FeatureEngine(SMALL.model_copy(update={"dtype": "float32"})).replay(**w)
    assert (f32.dtypes == np.float32).all()
    np.testing.assert_allclose(f32.to_numpy(np.float64), full.to_numpy(), rtol=1e-6, equal_nan=True)


def test_replay_in_parts_and_restored_snapshots_continue_exactly() -> None:
    w = world(random.Random(11), n_txn=400)
    full = FeatureEngine(SMALL).replay(**w)
    tx = w["transactions"]
    cut = int(tx["ts_ms"].iloc[len(tx) // 2])
    eng = FeatureEngine(SMALL)
    parts = []
    for lo, hi in ((-1, cut), (cut, 10**15)):
        def part(df: pd.DataFrame, col: str, lo: int = lo, hi: int = hi) -> pd.DataFrame:
            return df[(df[col] > lo) & (df[col] <= hi)]
        parts.append(eng.replay(
            part(tx, "ts_ms"), part(w["labels"], "known_at_ms"),
            part(w["account_events"], "ts_ms"), part(w["sms_events"], "ts_ms"),
        ))
        eng = FeatureEngine.restore(pickle.loads(pickle.dumps(eng.snapshot())))
    got = pd.concat(parts).loc[tx.index]
    assert_rows_equal([dict(zip(full.columns, r, strict=True)) for r in full.to_numpy()], got)


def test_tiny_arenas_and_sweeps_change_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    w = world(random.Random(5), n_txn=600, span_days=60)
    expected = FeatureEngine(SMALL).replay(**w)
    monkeypatch.setattr(replay_mod, "INITIAL_ARENA", 4)
    monkeypatch.setattr("pesaguard.features.engine.SWEEP_EVERY", 7)
    small = FeatureEngine(SMALL).replay(**w)
    assert_rows_equal([dict(zip(expected.columns, r, strict=True)) for r in expected.to_numpy()], small)
    eng = FeatureEngine(SMALL)
    rows = online(eng, w)
    assert_rows_equal(rows, expected)
    assert eng.n_accounts <= 10


def test_idle_entities_are_evicted_and_memory_is_bounded() -> None:
    eng = FeatureEngine(SMALL)
    for i in range(3000):  # a new payer and payee every 6 hours for 750 days
        t = i * 6 * H
        eng.score_and_update({"txn_id": f"t{i}", "ts_ms": t, "payer": f"C{i}", "payee": f"M{i}", "amount_minor": 10})
        eng.add_label(f"t{i}", True, t + H)
    eng.sweep()
    horizon_days = 10
    assert eng.n_accounts <= 2 * 4 * horizon_days + 2
    assert eng.n_pairs <= 4 * horizon_days + 1
    assert len(eng._txns) <= 4 * horizon_days + 1
    snap = eng.snapshot()
    assert len(snap["arrays"]["OE"]) < 200  # arena slots are reused, not appended forever


def test_a_sweep_while_scoring_never_leaks_state_into_reused_rows() -> None:
    eng = FeatureEngine(SMALL)  # horizon 10 days
    eng._s.OE, eng._s.IE = eng._s.OE[:2], eng._s.IE[:2]  # full after two payments: the next one sweeps

    def pay(i: int, t: int, payer: str, payee: str) -> dict[str, float]:
        return eng.score_and_update({"txn_id": f"x{i}", "ts_ms": t, "payer": payer, "payee": payee, "amount_minor": 5})

    pay(1, 0, "A", "B")
    pay(2, 0, "C", "D")
    eng.add_sms_event("Z", 11 * D, "reversal", 0.9)  # the clock moves on: A to D are idle past the horizon
    back = pay(3, 11 * D, "A", "B")  # this call's sweep evicts A to D and their pairs
    assert back["pair_is_new"] == 1.0 and math.isnan(back["payer_secs_since_last"])
    for i, (payer, payee) in enumerate((("E", "F"), ("G", "H"), ("I", "J"))):  # they take every freed row
        fresh = pay(4 + i, 11 * D + 1, payer, payee)
        assert fresh["pair_is_new"] == 1.0 and fresh["pair_prior_count"] == 0.0
        assert math.isnan(fresh["payer_secs_since_last"]) and math.isnan(fresh["payee_secs_since_last"])
    again = pay(9, 12 * D, "A", "B")
    assert again["pair_prior_count"] == 1.0 and again["payer_secs_since_last"] == 86_400.0
