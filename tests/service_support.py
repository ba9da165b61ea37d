"""Test support for the service suites: a tiny *real* LightGBM scorer trained on synthetic data.

It stands in for ``pesaguard.models.Scorer`` in the service tests only (the decision path is built
against the :class:`pesaguard.decisions.policy.Scorer` protocol). It keeps a per-payer count as
live feature state so tests can check that a retried request is not counted twice.
"""

from __future__ import annotations

import math
import zlib
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

FEATURES = ("log_amount", "hour", "payer_txn_count")


@dataclass
class Result:
    score: float
    reasons: list[str]
    model_version: str
    features: dict[str, Any] = field(default_factory=dict)


class TinyScorer:
    """Large night-time amounts are fraud in its synthetic world, so it scores them high."""

    model_version = "tiny-lgbm-test"

    def __init__(self, seed: int = 0) -> None:
        rng = np.random.default_rng(seed)
        n = 3000
        log_amount = rng.uniform(4, 16, n)
        hour = rng.integers(0, 24, n).astype(float)
        count = rng.poisson(3, n).astype(float)
        y = ((log_amount > 12) & (hour < 6)) | (rng.random(n) < 0.01)
        data = lgb.Dataset(np.column_stack([log_amount, hour, count]), label=y.astype(int),
                           feature_name=list(FEATURES))
        params = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.3, "verbose": -1, "seed": seed,
                  "num_threads": 1}
        self.booster = lgb.train(params, data, num_boost_round=25)
        self.counts: Counter[str] = Counter()
        self.calls = 0
        self.labels: list[tuple[str, bool, int]] = []

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        self.labels.append((txn_id, is_fraud, known_at_ms))

    def features(self, txn: dict[str, Any]) -> dict[str, float]:
        return {"log_amount": math.log(txn["amount_minor"]), "hour": float((txn["ts_ms"] // 3_600_000) % 24),
                "payer_txn_count": float(self.counts[txn["payer"]])}

    def score(self, txn: dict[str, Any]) -> Result:
        self.calls += 1
        f = self.features(txn)
        self.counts[txn["payer"]] += 1
        p = float(self.booster.predict(np.array([[f[n] for n in FEATURES]]), num_threads=1)[0])
        reasons = ["large amount at night"] if f["log_amount"] > 12 and f["hour"] < 6 else []
        return Result(p, reasons, self.model_version, f)


NIGHT_MS = 1_717_200_000_000 - (1_717_200_000_000 % 86_400_000) + 2 * 3_600_000  # 02:00 UTC
DAY_MS = NIGHT_MS + 12 * 3_600_000  # 14:00 UTC


def txn(txn_id: str, *, amount: int = 5_000, night: bool = False, payer: str = "C1", **extra: Any) -> dict[str, Any]:
    return {"txn_id": txn_id, "ts_ms": (NIGHT_MS if night else DAY_MS) + zlib.crc32(txn_id.encode()) % 1000,
            "payer": payer, "payee": "M9", "amount_minor": amount, "currency": "KES", **extra}


class ServerThread:
    """A real uvicorn server for ``app`` on 127.0.0.1 and a free port, in a background thread."""

    def __init__(self, app: Any) -> None:
        import socket
        import threading

        import uvicorn

        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = s.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def __enter__(self) -> ServerThread:
        import time

        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the test server did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)


CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run"]


def settle(client: Any) -> None:
    """Wait until the store holds every decision the service has acknowledged (the decision journal
    copies them a few ms later; API reads wait by themselves, direct store reads in a test do not)."""
    decider = client.app.state.decider
    if decider is not None:
        assert client.portal.call(decider.writer.sync), "the journal's ingester did not catch up"
