"""Test support for the cluster suites: a scorer on the real streaming feature engine (the numba
kernel and its arenas, the state the replicas must agree on), a random stream of transactions,
repeats and labels, and the single-process replay the replicas are held to."""

from __future__ import annotations

import math
import random
from typing import Any

import orjson

from pesaguard.features.config import FeatureConfig
from pesaguard.features.engine import FeatureEngine
from service_support import DAY_MS, Result

TX, LB = "pesaguard.transactions", "pesaguard.labels"
#: the default feature set: payer, payee, pair, label and calendar state
CONFIG = FeatureConfig()


class EngineScorer:
    """The real :class:`FeatureEngine` with a fixed logistic of two features as the model."""

    model_version = "engine-test"

    def __init__(self) -> None:
        self.engine = FeatureEngine(CONFIG)

    def score(self, txn: dict[str, Any]) -> Result:
        feats = self.engine.score_and_update(txn)
        z = sum(v for v in feats.values() if not math.isnan(v)) % 7.0 - 5.0
        return Result(1.0 / (1.0 + math.exp(-z)), [], self.model_version, feats)

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        self.engine.add_label(txn_id, is_fraud, known_at_ms)


def random_stream(seed: int, n: int, accounts: int = 12, label_share: float = 0.15,
                  repeat_share: float = 0.05) -> list[tuple[str, bytes]]:
    """``n`` transactions among a few accounts (so payer, payee and pair state is shared and busy),
    in a random order of event times, with labels for earlier transactions and repeats of earlier
    transactions interleaved at random."""
    rng = random.Random(seed)
    out: list[tuple[str, bytes]] = []
    sent: list[dict[str, Any]] = []
    t = DAY_MS
    for i in range(n):
        t += rng.randint(0, 600_000)
        ts = t - rng.randint(0, 300_000)  # a little out of order, as a switch's stream is
        a, b = rng.sample(range(accounts), 2)
        tx = {"txn_id": f"S{seed}-{i:05d}", "ts_ms": ts, "payer": f"A{a}", "payee": f"A{b}",
              "amount_minor": rng.choice([500, 5_000, 50_000, 250_000]) + rng.randint(0, 99), "currency": "KES"}
        out.append((TX, orjson.dumps(tx)))
        sent.append(tx)
        if rng.random() < label_share:
            old = rng.choice(sent)
            out.append((LB, orjson.dumps({"txn_id": old["txn_id"], "is_fraud": rng.random() < 0.5,
                                          "known_at_ms": t + rng.randint(0, 60_000), "source": "test"})))
        if rng.random() < repeat_share:
            out.append((TX, orjson.dumps(rng.choice(sent))))
    return out


def replay(messages: list[tuple[str, bytes]]) -> dict[str, dict[str, float]]:
    """Features of each transaction as one process applying ``messages`` in order computes them
    (the first occurrence of each ``txn_id``; labels applied once each)."""
    scorer = EngineScorer()
    feats: dict[str, dict[str, float]] = {}
    labels: set[tuple[str, bool, int, str]] = set()
    for subject, data in messages:
        body = orjson.loads(data)
        if subject == LB:
            key = (body["txn_id"], body["is_fraud"], body["known_at_ms"], body.get("source", "unknown"))
            if key not in labels:
                labels.add(key)
                scorer.add_label(body["txn_id"], body["is_fraud"], body["known_at_ms"])
        elif body["txn_id"] not in feats:
            feats[body["txn_id"]] = scorer.score(body).features
    return feats


def same_features(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Equal key sets and values, NaN equal to NaN (a missing feature)."""
    if a.keys() != b.keys():
        return False
    return all((math.isnan(x) and math.isnan(b[k])) if isinstance(x, float) and math.isnan(x) else x == b[k]
               for k, x in a.items())
