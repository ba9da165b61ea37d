"""Label timing: no label reaches a feature before it could have been known.

Two guards, whatever the stored ``known_at_ms`` says: a label never counts before its transaction is
``min_label_delay`` old, and a label stamped known at (or before) its own transaction's time carries no
timing and counts only once the transaction is ``label_delay`` old. The lagged features read frauds by
transaction time, ``label_delay`` back. Checked on a world whose labels arrive late and on one whose
file gives no timing, by removing every label that could not be known yet and asking for the same values.
"""

from __future__ import annotations

import random

import numpy as np
import pandas as pd
import pytest

from pesaguard.features import GROUPS, FeatureConfig, FeatureEngine, feature_names

H = 3_600_000
D = 24 * H
CFG = FeatureConfig(windows=("1h", "24h", "7d"), label_windows=("24h", "7d"), history_window="7d",
                    recent_window="24h", horizon="30d", label_delay="3d", lagged_windows=("24h", "7d"),
                    min_label_delay="12h", groups=GROUPS)
LABEL_FEATURES = [n for n in feature_names(CFG) if "fraud" in n]


def world(seed: int, timing: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Payments among a few customers and terminals over 20 days; a third are fraud, labelled with
    ``timing`` "late" (1 hour to 6 days after the payment), "none" (known at the payment's own time)
    or "early" (known before the payment)."""
    rng = random.Random(seed)
    ts = sorted(rng.randrange(0, 20 * D, 60_000) for _ in range(400))
    tx = pd.DataFrame({"txn_id": [f"t{i}" for i in range(len(ts))], "ts_ms": ts,
                       "payer": [f"C{rng.randrange(8)}" for _ in ts], "payee": [f"T{rng.randrange(4)}" for _ in ts],
                       "amount_minor": [rng.randrange(100, 10_000) for _ in ts]})
    fraud = tx.sample(frac=1 / 3, random_state=seed)
    delay = {"late": lambda: rng.randrange(H, 6 * D), "none": lambda: 0, "early": lambda: -rng.randrange(1, D)}[timing]
    labels = pd.DataFrame({"txn_id": fraud["txn_id"].to_numpy(), "is_fraud": True,
                           "known_at_ms": [int(t) + delay() for t in fraud["ts_ms"]]})
    return tx, labels


def usable_from(tx: pd.DataFrame, labels: pd.DataFrame, cfg: FeatureConfig) -> np.ndarray:
    """When each label may first reach a feature, by the documented rule."""
    made = labels["txn_id"].map(tx.set_index("txn_id")["ts_ms"]).to_numpy()
    known = labels["known_at_ms"].to_numpy()
    untimed = known <= made
    return np.where(untimed, made + cfg.label_delay_ms, np.maximum(known, made + cfg.min_label_delay_ms))


@pytest.mark.parametrize("timing", ["late", "none", "early"])
@pytest.mark.parametrize("seed", [0, 1])
def test_no_label_reaches_a_feature_before_it_may(timing: str, seed: int) -> None:
    tx, labels = world(seed, timing)
    full = FeatureEngine(CFG).replay(tx, labels=labels)[LABEL_FEATURES]
    usable = usable_from(tx, labels, CFG)
    assert full.fillna(0).to_numpy().sum() > 0  # the labels do reach features
    probes = tx.sample(25, random_state=seed).index
    for i in probes:
        t = int(tx.at[i, "ts_ms"])
        # Only the labels that may count by t: a label counted earlier than allowed changes the values.
        allowed = labels[usable <= t]
        got = FeatureEngine(CFG).replay(tx.loc[:i], labels=allowed).loc[i, LABEL_FEATURES]
        pd.testing.assert_series_equal(got, full.loc[i], check_names=False)


def test_labels_known_at_their_transaction_time_act_as_labels_delayed_by_label_delay() -> None:
    tx, labels = world(3, "none")
    as_given = FeatureEngine(CFG).replay(tx, labels=labels)
    delayed = labels.assign(known_at_ms=labels["known_at_ms"] + CFG.label_delay_ms)
    pd.testing.assert_frame_equal(as_given, FeatureEngine(CFG).replay(tx, labels=delayed))


def test_labels_known_sooner_than_the_floor_count_from_the_floor() -> None:
    tx, labels = world(4, "late")
    quick = labels.assign(known_at_ms=labels["txn_id"].map(tx.set_index("txn_id")["ts_ms"]) + 60_000)
    floor = quick.assign(known_at_ms=quick["known_at_ms"] - 60_000 + CFG.min_label_delay_ms)
    pd.testing.assert_frame_equal(FeatureEngine(CFG).replay(tx, labels=quick),
                                  FeatureEngine(CFG).replay(tx, labels=floor))


def test_lagged_rate_counts_frauds_among_the_payments_of_the_lagged_window() -> None:
    eng = FeatureEngine(CFG)  # label_delay 3 days
    for i in range(4):  # four payments to T1 on day 0, the first two fraud
        eng.score_and_update({"txn_id": f"t{i}", "ts_ms": i * H, "payer": f"C{i}", "payee": "T1", "amount_minor": 500})
    for i in (0, 1):
        eng.add_label(f"t{i}", True, D)
    probe = {"txn_id": "p", "payer": "C9", "payee": "T1", "amount_minor": 500}
    before = eng.peek({**probe, "ts_ms": 3 * D - 1})  # no payment is 3 days old yet
    assert before["payee_count_24h_lag3d"] == 0.0 and np.isnan(before["payee_fraud_rate_24h_lag3d"])
    assert before["payee_fraud_count_7d"] == 2.0 and before["payee_fraud_count_24h"] == 0.0  # known on day 1
    f = eng.peek({**probe, "ts_ms": 3 * D + H + H // 2})  # t0 and t1 are now 3 days old, t2 and t3 not yet
    assert f["payee_count_24h_lag3d"] == 2.0 and f["payee_fraud_rate_24h_lag3d"] == 1.0
    g = eng.peek({**probe, "ts_ms": 3 * D + 4 * H})
    assert g["payee_count_24h_lag3d"] == 4.0 and g["payee_fraud_rate_24h_lag3d"] == 0.5
    assert g["payee_secs_since_first_fraud"] == (3 * D + 4 * H) / 1000
    assert g["payee_secs_since_last_fraud"] == (3 * D + 3 * H) / 1000
