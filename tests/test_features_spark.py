"""The Spark backfill (account buckets, pyspark local mode) equals the in-process replay, feature by feature."""

from __future__ import annotations

import os
import random
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from pesaguard.features import GROUPS, FeatureConfig, FeatureEngine, feature_names
from pesaguard.simulate.config import SimConfig
from pesaguard.simulate.engine import simulate

try:
    import pyspark  # noqa: F401
except ImportError:
    from ci_support import missing

    missing("pyspark", "pip install -e '.[spark]' (and a Java 17 runtime)")

from pyspark.sql import SparkSession

from pesaguard.features.spark import backfill, payee_side

H = 3_600_000
D = 24 * H
SMALL = FeatureConfig(
    windows=("1h", "24h", "7d"), label_windows=("24h", "7d"), history_window="7d", recent_window="24h", horizon="10d",
    label_delay="2d", lagged_windows=("1h", "7d"), min_label_delay="10s", groups=GROUPS,
)


@pytest.fixture(scope="module")
def spark() -> Iterator[SparkSession]:
    # Python workers must import pesaguard from this environment, also when it is not on PATH (make).
    saved = os.environ.get("PYSPARK_PYTHON")
    os.environ["PYSPARK_PYTHON"] = sys.executable
    s = (
        SparkSession.builder.master("local[2]")
        .appName("pesaguard-test")
        .config("spark.sql.shuffle.partitions", "4")
        .config("spark.default.parallelism", "2")
        .config("spark.ui.enabled", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .getOrCreate()
    )
    s.sparkContext.setLogLevel("ERROR")
    yield s
    s.stop()
    if saved is None:
        os.environ.pop("PYSPARK_PYTHON", None)
    else:
        os.environ["PYSPARK_PYTHON"] = saved


def canonical(w: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The order the backfill replays each bucket in (ties broken by id, then value)."""
    keys = {
        "transactions": ["ts_ms", "txn_id"],
        "labels": ["known_at_ms", "txn_id", "is_fraud"],
        "account_events": ["ts_ms", "account_id", "kind"],
        "sms_events": ["ts_ms", "account_id", "score"],
    }
    return {k: w[k].sort_values(by, kind="stable", na_position="last").reset_index(drop=True) for k, by in keys.items()}


def in_process(w: dict[str, pd.DataFrame], cfg: FeatureConfig) -> pd.DataFrame:
    c = canonical(w)
    X = FeatureEngine(cfg).replay(c["transactions"], c["labels"], c["account_events"], c["sms_events"])
    return X.set_index(c["transactions"]["txn_id"].to_numpy()).astype(np.float64)


def on_spark(spark: SparkSession, w: dict[str, pd.DataFrame], cfg: FeatureConfig, partitions: int) -> pd.DataFrame:
    def sdf(df: pd.DataFrame) -> Any:
        obj = df.astype(object).where(df.notna(), None)  # missing values as nulls, not NaN
        for c in df.columns:
            if pd.api.types.is_datetime64_any_dtype(df[c]):
                obj[c] = pd.Series(df[c].dt.to_pydatetime(), index=df.index, dtype=object)
        return spark.createDataFrame(obj)

    out = backfill(
        sdf(w["transactions"]), sdf(w["labels"]), sdf(w["account_events"]), sdf(w["sms_events"]),
        config=cfg, partitions=partitions,
    ).toPandas()  # fmt: skip
    assert list(out.columns) == ["txn_id", *feature_names(cfg)]
    return out.set_index("txn_id")


def assert_same(expected: pd.DataFrame, got: pd.DataFrame) -> None:
    assert not got.index.duplicated().any()
    assert sorted(got.index) == sorted(expected.index)
    got = got.loc[expected.index, list(expected.columns)]
    for c in expected.columns:
        e, g = expected[c].to_numpy(), got[c].to_numpy(dtype=np.float64)
        ok = np.isclose(e, g, rtol=1e-12, atol=0.0, equal_nan=True)
        assert ok.all(), f"{c}: {int((~ok).sum())} rows differ, e.g. {e[~ok][:3]} != {g[~ok][:3]}"


@pytest.fixture(scope="module")
def sim_world(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    """A simulated week (~2,000 transactions) with labels on a third of them, account events and scam SMS."""
    out: Path = tmp_path_factory.mktemp("sim")
    simulate(SimConfig(accounts=400, days=8, seed=5, operator_sender_id="MPESA", msisdn_salt="s"), out)
    txns = pq.read_table(out / "transactions.parquet").to_pandas()
    rng = np.random.default_rng(1)
    # The simulator's own labels are few in a small world: add delayed ones (some known before the
    # transaction, some twice) from its ground truth so the label features are exercised.
    pick = txns.sample(frac=0.3, random_state=2)
    delay = rng.choice([-H, 0, 60_000, 3 * D, 12 * D], size=len(pick))
    extra = pd.DataFrame({"txn_id": pick["txn_id"], "is_fraud": pick["is_fraud"] | (rng.random(len(pick)) < 0.2),
                          "known_at_ms": pick["ts_ms"].to_numpy() + delay})  # fmt: skip
    labels = pd.concat(
        [pq.read_table(out / "labels.parquet").to_pandas()[["txn_id", "is_fraud", "known_at_ms"]], extra,
         extra.head(20), pd.DataFrame({"txn_id": ["ghost"], "is_fraud": [True], "known_at_ms": [txns["ts_ms"].iloc[9]]})],
        ignore_index=True,
    )  # fmt: skip
    accounts = pd.unique(pd.concat([txns["payer"], txns["payee"]]))
    ev = pq.read_table(out / "account_events.parquet").to_pandas()[["account_id", "ts_ms", "kind"]]
    t0, t1 = int(txns["ts_ms"].min()), int(txns["ts_ms"].max())
    more = pd.DataFrame({"account_id": rng.choice(accounts, 120), "ts_ms": rng.integers(t0, t1, 120),
                         "kind": rng.choice(["sim_swap", "device_change", "pin_reset"], 120)})  # fmt: skip
    sms = pq.read_table(out / "sms.parquet").to_pandas()
    sms = pd.DataFrame({"account_id": sms["recipient"], "ts_ms": sms["ts_ms"], "scam_type": sms["scam_type"],
                        "score": np.where(rng.random(len(sms)) < 0.2, np.nan, rng.random(len(sms)).round(3))})  # fmt: skip
    tx = txns[["txn_id", "ts_ms", "payer", "payee", "amount_minor", "type", "payer_balance_before"]].copy()
    assert 1_000 <= len(tx) <= 5_000
    return {"transactions": tx, "labels": labels, "account_events": pd.concat([ev, more], ignore_index=True),
            "sms_events": sms}  # fmt: skip


def test_simulated_world_backfill_equals_in_process_replay(spark: SparkSession, sim_world: dict[str, pd.DataFrame]) -> None:
    expected = in_process(sim_world, FeatureConfig())
    # The world must exercise both halves: labels, events and SMS reach features on both sides.
    assert expected["payee_fraud_count_30d"].sum() > 0 and expected["payer_fraud_count_30d"].sum() > 0
    assert expected["payer_secs_since_sim_swap"].notna().any() and expected["payee_secs_since_sim_swap"].notna().any()
    assert expected["payer_secs_since_scam_sms"].notna().any() and expected["payer_secs_since_last_in"].notna().any()
    assert_same(expected, on_spark(spark, sim_world, FeatureConfig(), partitions=3))


def edge_world(seed: int, n_txn: int = 400, n_acct: int = 12) -> dict[str, pd.DataFrame]:
    """Minute ties, self-transfers, missing amounts/types/balances, labels before their transaction,
    duplicate and ghost labels, account events of all kinds, SMS with and without scores."""
    rng = random.Random(seed)
    accts = [f"A{i}" for i in range(n_acct)]
    ts = sorted(int(rng.random() * 30 * D) // 60_000 * 60_000 for _ in range(n_txn))
    rows = []
    for i, t in enumerate(ts):
        payer = rng.choice(accts)
        payee = payer if rng.random() < 0.05 else rng.choice(accts)
        rows.append({"txn_id": f"t{i:04d}", "ts_ms": t, "payer": payer, "payee": payee,
                     "amount_minor": None if rng.random() < 0.03 else rng.choice([100, 5_000, rng.randint(1, 10**7)]),
                     "type": rng.choice([None, "cash_out", "p2p", "merchant", "Lottery"]),
                     "payer_balance_before": rng.choice([None, 0, rng.randint(0, 10**8)])})  # fmt: skip
    labels = [{"txn_id": r["txn_id"], "is_fraud": rng.random() < 0.6,
               "known_at_ms": max(0, r["ts_ms"] + rng.choice([0, -H, 60_000, rng.randint(0, 12 * D)]))}
              for r in rng.sample(rows, k=n_txn // 3)]  # fmt: skip
    labels += [dict(labels[0], is_fraud=not labels[0]["is_fraud"]), {"txn_id": "ghost", "is_fraud": True, "known_at_ms": D}]
    events = [{"account_id": rng.choice(accts), "ts_ms": rng.choice(ts) if rng.random() < 0.3 else int(rng.random() * 30 * D),
               "kind": rng.choice(["sim_swap", "device_change", "pin_reset"])} for _ in range(n_txn // 8)]  # fmt: skip
    sms = [{"account_id": rng.choice(accts), "ts_ms": int(rng.random() * 30 * D), "scam_type": rng.choice(["reversal", None]),
            "score": rng.choice([None, round(rng.random(), 3)])} for _ in range(n_txn // 8)]  # fmt: skip
    return {"transactions": pd.DataFrame(rows), "labels": pd.DataFrame(labels),
            "account_events": pd.DataFrame(events), "sms_events": pd.DataFrame(sms)}  # fmt: skip


@pytest.mark.parametrize(
    ("cfg", "partitions"),
    [(SMALL, 1), (SMALL, 3), (SMALL.model_copy(update={"payee_id_space": "separate", "sms_min_score": 0.3}), 5)],
    ids=["one-bucket", "three-buckets", "separate-ids"],
)
def test_edge_world_backfill_equals_in_process_replay(spark: SparkSession, cfg: FeatureConfig, partitions: int) -> None:
    w = edge_world(seed=partitions)
    assert_same(in_process(w, cfg), on_spark(spark, w, cfg, partitions))


def test_transaction_in_one_bucket_for_payer_and_payee_is_counted_once(spark: SparkSession) -> None:
    # partitions=1: every payer and payee share the bucket. A transaction routed there twice would
    # count twice in the payer's and the payee's windows (and a label would apply twice).
    w = {
        "transactions": pd.DataFrame({"txn_id": ["a", "b", "c"], "ts_ms": [0, 60_000, 120_000],
                                      "payer": ["P", "P", "Q"], "payee": ["Q", "Q", "P"],
                                      "amount_minor": [1_000, 3_000, 500]}),
        "labels": pd.DataFrame({"txn_id": ["a"], "is_fraud": [True], "known_at_ms": [30_000]}),
        "account_events": pd.DataFrame({"account_id": ["Q"], "ts_ms": [10_000], "kind": ["sim_swap"]}),
        "sms_events": pd.DataFrame({"account_id": ["P"], "ts_ms": [5_000], "scam_type": ["reversal"], "score": [0.9]}),
    }
    got = on_spark(spark, w, SMALL, partitions=1)
    assert_same(in_process(w, SMALL), got)
    assert got.loc["b", "payer_count_1h"] == 1 and got.loc["b", "payer_sum_1h"] == 1_000
    assert got.loc["b", "payee_count_1h"] == 1 and got.loc["b", "payee_distinct_payers_1h"] == 1
    assert got.loc["b", "pair_prior_count"] == 1 and got.loc["b", "payer_fraud_count_24h"] == 1
    assert got.loc["b", "payee_fraud_count_24h"] == 1 and got.loc["b", "payee_secs_since_sim_swap"] == 50
    assert got.loc["c", "payer_secs_since_last_in"] == 60 and got.loc["c", "payee_fraud_count_24h"] == 0


def test_payee_side_is_exactly_the_payee_prefixed_features() -> None:
    names = feature_names(FeatureConfig())
    side = payee_side(names)
    assert "payee_fraud_rate_30d" in side and "payee_secs_since_sim_swap" in side
    assert not {"pair_is_new", "payer_secs_since_last_in", "amount", "payer_fraud_count_30d"} & set(side)


def test_duplicate_txn_id_is_refused(spark: SparkSession) -> None:
    from pesaguard.errors import InputError

    df = spark.createDataFrame(pd.DataFrame({"txn_id": ["x", "x"], "ts_ms": [0, 1], "payer": ["P", "R"],
                                             "payee": ["Q", "Q"], "amount_minor": [1, 2]}))  # fmt: skip
    with pytest.raises(InputError, match="duplicate txn_id"):
        backfill(df, partitions=2)


def test_timestamp_columns_are_read_as_epoch_milliseconds(spark: SparkSession) -> None:
    w = edge_world(seed=7, n_txn=120, n_acct=6)
    as_time = {k: df.assign(**{c: pd.to_datetime(df[c], unit="ms", utc=True) for c in ("ts_ms", "known_at_ms") if c in df})
               for k, df in w.items()}  # fmt: skip
    assert_same(in_process(w, SMALL), on_spark(spark, as_time, SMALL, partitions=2))
