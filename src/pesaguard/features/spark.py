"""Spark feature backfill: ``FeatureEngine.replay`` per bucket of accounts, the same values as in-process.

Every feature of a transaction describes one entity: ``payee_*`` features its payee (incoming history,
labels against the payee, the payee's SIM swaps), every other feature its payer (outgoing history,
the pair, the payer's own inflows, labels, account and SMS events) or the transaction itself. An
entity's state depends only on the events that concern it, so:

* accounts are hashed (``xxhash64`` of the id as the engine sees it, modulo ``partitions``) into
  buckets; a transaction goes to its payer's bucket and to its payee's bucket, once per bucket (when
  both hash to the same bucket it is there once: twice would count it twice);
* a label goes to every bucket its transaction went to (``label_step`` updates the payer's and the
  payee's fraud counts); account and SMS events go to their account's bucket;
* each bucket runs a fresh ``FeatureEngine(config).replay`` over its events in canonical order, and
  keeps the payer-side features of the transactions whose payer is in the bucket and the ``payee_*``
  features of those whose payee is; the two halves are joined on ``txn_id`` (one aggregation: each
  column takes the value of the one bucket authoritative for it).

Nothing in the kernel is global except the clock, and with time-sorted events the clock at an event
is that event's time in every bucket (features read ``t - last``, never the clock). The result equals
``FeatureEngine(config).replay`` over the same inputs sorted by ``(ts_ms, txn_id)`` (transactions),
``(known_at_ms, txn_id, is_fraud)`` (labels), ``(ts_ms, account_id, kind)`` (account events) and
``(ts_ms, account_id, score)`` (SMS events): see ``tests/test_features_spark.py``. ``txn_id`` must be
unique (checked: one Spark job). pyspark is optional (``pip install 'pesaguard[spark]'``) and imported
only here, never on the scoring path.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pesaguard.errors import InputError, UsageError
from pesaguard.features.config import FeatureConfig, feature_names
from pesaguard.features.encoding import PAYEE_PREFIX
from pesaguard.features.engine import FeatureEngine
from pesaguard.features.order import ACCOUNT_EVENT, LABEL, SMS, TXN
from pesaguard.features.replay import FRAUD_TRUE
from pesaguard.schema import REQUIRED_TRANSACTION_COLUMNS

if TYPE_CHECKING:
    from pyspark.sql import DataFrame

#: Default number of account buckets (one ``applyInPandas`` group, i.e. one replay, each).
DEFAULT_PARTITIONS = 64



def payee_side(names: list[str]) -> list[str]:
    """The features taken from the payee's bucket: those that describe the payee."""
    return [n for n in names if n.startswith("payee_")]


def _pyspark() -> Any:
    try:
        import pyspark.sql.functions as F
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise UsageError(
            "the Spark backfill needs pyspark", hint="pip install 'pesaguard[spark]' (and a Java runtime)"
        ) from e
    return F


def _sorted(df: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    return df.sort_values(by, kind="stable", na_position="last").reset_index(drop=True)


def replay_bucket(events: pd.DataFrame, cfg: FeatureConfig) -> pd.DataFrame:
    """One bucket: replay its events, keep what it is authoritative for.

    ``events`` has the backfill's internal layout (an ``_ev`` kind per row). Returns ``txn_id``,
    ``_payer_here``, ``_payee_here`` and every feature; cells the bucket is not authoritative for are
    NaN and are never read.
    """
    names = feature_names(cfg)
    kind = events["_ev"].to_numpy()
    tx = _sorted(events[kind == TXN], ["ts_ms", "txn_id"])
    if tx["txn_id"].duplicated().any():
        raise InputError("transactions have duplicate txn_id values", field="txn_id", hint="make txn_id unique")
    lab = events[kind == LABEL]
    lab = _sorted(lab.assign(known_at_ms=lab["ts_ms"]), ["known_at_ms", "txn_id", "is_fraud"])
    acc = _sorted(events[kind == ACCOUNT_EVENT], ["ts_ms", "account_id", "kind"])
    sms = _sorted(events[kind == SMS], ["ts_ms", "account_id", "score"])
    X = FeatureEngine(cfg).replay(
        tx[["txn_id", "ts_ms", "payer", "payee", "amount_minor", "payer_balance_before", "type"]],
        labels=lab[["txn_id", "is_fraud", "known_at_ms"]] if len(lab) else None,
        account_events=acc[["account_id", "ts_ms", "kind"]] if len(acc) else None,
        sms_events=sms[["account_id", "ts_ms", "scam_type", "score"]] if len(sms) else None,
    ).astype(np.float64)
    payer_here = tx["_payer_here"].to_numpy(dtype=bool)
    payee_here = tx["_payee_here"].to_numpy(dtype=bool)
    payee_cols = set(payee_side(names))
    for c in names:
        X.loc[~(payee_here if c in payee_cols else payer_here), c] = np.nan
    out = pd.DataFrame({"txn_id": tx["txn_id"], "_payer_here": payer_here, "_payee_here": payee_here})
    return pd.concat([out, X], axis=1)


def backfill(
    transactions: DataFrame,
    labels: DataFrame | None = None,
    account_events: DataFrame | None = None,
    sms_events: DataFrame | None = None,
    *,
    config: FeatureConfig | None = None,
    partitions: int = DEFAULT_PARTITIONS,
) -> DataFrame:
    """Features of every transaction of a Spark DataFrame: ``txn_id`` plus ``feature_names(config)``.

    Inputs have the columns ``FeatureEngine.replay`` takes (transactions: ``txn_id``, ``ts_ms`` (epoch
    ms), ``payer``, ``payee``, ``amount_minor``, optional ``payer_balance_before`` and ``type``;
    labels ``txn_id``, ``is_fraud``, ``known_at_ms``; account events ``account_id``, ``ts_ms``,
    ``kind``; SMS events ``account_id``, ``ts_ms``, optional ``scam_type``, ``score``). Lazy except
    for the ``txn_id`` uniqueness check; one row per transaction, in no particular order.
    """
    F = _pyspark()
    from pyspark.sql import types as T

    cfg = config or FeatureConfig()
    if partitions < 1:
        raise UsageError(f"partitions must be at least 1, not {partitions}", field="partitions")
    names = feature_names(cfg)
    payee_cols = set(payee_side(names))
    for what, df, cols in (
        ("transactions", transactions, REQUIRED_TRANSACTION_COLUMNS),
        ("labels", labels, ("txn_id", "is_fraud", "known_at_ms")),
        ("account events", account_events, ("account_id", "ts_ms", "kind")),
        ("SMS events", sms_events, ("account_id", "ts_ms")),
    ):
        missing = [c for c in cols if df is not None and c not in df.columns]
        if missing:
            raise InputError(f"{what} has no column {missing[0]!r}", field=missing[0], hint=f"{what} needs {list(cols)}")

    def bucket(key: Any) -> Any:
        return F.pmod(F.xxhash64(key), F.lit(partitions)).cast("int")

    def ms(df: DataFrame, col: str) -> Any:
        c = F.col(col)
        return F.unix_millis(c) if isinstance(df.schema[col].dataType, T.TimestampType) else c.cast("long")

    def opt(df: DataFrame, col: str, typ: str) -> Any:
        return F.col(col).cast(typ) if col in df.columns else F.lit(None).cast(typ)

    null = {
        "txn_id": "string", "ts_ms": "long", "payer": "string", "payee": "string", "amount_minor": "double",
        "payer_balance_before": "double", "type": "string", "_payer_here": "boolean", "_payee_here": "boolean",
        "is_fraud": "boolean", "account_id": "string", "kind": "string", "score": "double", "scam_type": "string",
    }  # fmt: skip

    def layout(df: DataFrame, ev: int, **given: Any) -> DataFrame:
        cols = [F.col("_bucket"), F.lit(ev).cast("int").alias("_ev")]
        cols += [(given[c] if c in given else F.lit(None)).cast(t).alias(c) for c, t in null.items()]
        return df.select(*cols)

    payer_key = F.col("payer").cast("string")
    payee_key = F.col("payee").cast("string")
    if cfg.payee_id_space == "separate":
        payee_key = F.concat(F.lit(PAYEE_PREFIX), payee_key)
    tx = transactions.select(
        F.col("txn_id").cast("string").alias("txn_id"),
        ms(transactions, "ts_ms").alias("ts_ms"),
        F.col("payer").cast("string").alias("payer"),
        F.col("payee").cast("string").alias("payee"),
        opt(transactions, "amount_minor", "double").alias("amount_minor"),
        opt(transactions, "payer_balance_before", "double").alias("payer_balance_before"),
        opt(transactions, "type", "string").alias("type"),
        bucket(payer_key).alias("_pb"),
        bucket(payee_key).alias("_qb"),
    )
    dup = tx.groupBy("txn_id").count().where(F.col("count") > 1).limit(1).collect()
    if dup:
        raise InputError(f"transactions have duplicate txn_id {dup[0]['txn_id']!r}", field="txn_id",
                         hint="the backfill joins on txn_id: make it unique")  # fmt: skip
    # Once per distinct bucket: a transaction whose payer and payee share a bucket is there once.
    routed = tx.withColumn("_bucket", F.explode(F.array_distinct(F.array("_pb", "_qb"))))
    parts = [
        layout(
            routed, TXN, **{c: F.col(c) for c in ("txn_id", "ts_ms", "payer", "payee", "amount_minor",
                                                 "payer_balance_before", "type")},
            _payer_here=F.col("_pb") == F.col("_bucket"), _payee_here=F.col("_qb") == F.col("_bucket"),
        )
    ]  # fmt: skip
    if labels is not None:
        fraud = F.col("is_fraud")
        dtype = labels.schema["is_fraud"].dataType
        if isinstance(dtype, T.StringType):
            flag = F.coalesce(F.lower(F.trim(fraud)).isin(*FRAUD_TRUE), F.lit(False))
        else:
            flag = F.coalesce(fraud.cast("double") != 0, F.lit(False))
        lab = labels.select(
            F.col("txn_id").cast("string").alias("txn_id"), flag.alias("is_fraud"),
            ms(labels, "known_at_ms").alias("known_at_ms"),
        )  # fmt: skip
        # A label reaches every bucket its transaction is in (it updates the payer's and the payee's
        # fraud counts); labels of unknown transactions never apply in a replay and are dropped.
        lab = lab.join(routed.select("txn_id", "_bucket"), on="txn_id", how="inner")
        parts.append(layout(lab, LABEL, txn_id=F.col("txn_id"), ts_ms=F.col("known_at_ms"), is_fraud=F.col("is_fraud")))
    for ev, df in ((ACCOUNT_EVENT, account_events), (SMS, sms_events)):
        if df is None:
            continue
        acct = F.col("account_id").cast("string")
        given = {"account_id": acct, "ts_ms": ms(df, "ts_ms")}
        if ev == ACCOUNT_EVENT:
            given["kind"] = F.col("kind").cast("string")
        else:
            given["score"] = opt(df, "score", "double")
            given["scam_type"] = opt(df, "scam_type", "string")
        parts.append(layout(df.withColumn("_bucket", bucket(acct)), ev, **given))
    events = parts[0]
    for p in parts[1:]:
        events = events.unionByName(p)

    schema = T.StructType(
        [T.StructField("txn_id", T.StringType()), T.StructField("_payer_here", T.BooleanType()),
         T.StructField("_payee_here", T.BooleanType())]
        + [T.StructField(n, T.DoubleType()) for n in names]
    )  # fmt: skip
    cfg_json = cfg.model_dump_json()

    def run(pdf: pd.DataFrame) -> pd.DataFrame:
        return replay_bucket(_restore(pdf), FeatureConfig.model_validate_json(cfg_json))

    halves = events.groupBy("_bucket").applyInPandas(run, schema=schema)
    # The join of the payer half and the payee half: per column, the one authoritative row's value
    # (NaN comes back from Arrow as null; both are turned into NaN at the end).
    merged = halves.groupBy("txn_id").agg(
        *[
            F.first(F.when(F.col("_payee_here" if n in payee_cols else "_payer_here"), F.col(n)), ignorenulls=True)
            .alias(n)
            for n in names
        ]
    )
    return merged.select("txn_id", *[F.coalesce(F.col(n), F.lit(float("nan"))).alias(n) for n in names])


def _restore(pdf: pd.DataFrame) -> pd.DataFrame:
    """Arrow hands the nullable boolean ``is_fraud`` over as objects (None on rows that are not labels)."""
    return pdf.assign(is_fraud=pdf["is_fraud"].eq(True).to_numpy(dtype=bool))


__all__ = ["DEFAULT_PARTITIONS", "backfill", "payee_side", "replay_bucket"]
