"""Measure a typology pack on simulated worlds: what ``pesaguard rules backtest --pack`` reports and
``docs/typologies.md`` shows.

Each world is simulated (cached on disk by its parameters), replayed through the feature engine as
the live scorer would have seen it (labels only once known, account events at their times), and
the pack's rules are evaluated on the days after a warm-up long enough to fill the longest feature
window. Truth is the simulator's: every fraudulent row, reported or not.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd

from pesaguard.decisions.backtest import build_frame, typology_report
from pesaguard.decisions.rules import RuleSet

DAY_MS = 86_400_000
#: Days replayed before measuring: the 30-day windows fill, and the network's labels accumulate.
WARMUP_DAYS = 30


def simulate_world(cache: Path, accounts: int, days: int, seed: int) -> Path:
    """A simulated world's directory under ``cache`` (simulated once per parameter set)."""
    from pesaguard.simulate import SimConfig, simulate

    out = cache / f"world-a{accounts}-d{days}-s{seed}"
    if not (out / "summary.json").exists():
        simulate(SimConfig(accounts=accounts, days=days, seed=seed, operator_sender_id="MPESA",
                           msisdn_salt="pesaguard-backtest"), out)
    return out


def world_frame(world: Path, warmup_days: int = WARMUP_DAYS) -> tuple[pd.DataFrame, float]:
    """Transactions with their ``features.*`` after the warm-up, and the number of days measured."""
    from pesaguard.features import FeatureEngine

    txns = pd.read_parquet(world / "transactions.parquet")
    labels = pd.read_parquet(world / "labels.parquet")
    events = pd.read_parquet(world / "account_events.parquet")
    feats = FeatureEngine().replay(txns, labels=labels[["txn_id", "is_fraud", "known_at_ms"]] if len(labels) else None,
                                   account_events=events if len(events) else None)
    summary = json.loads((world / "summary.json").read_text(encoding="utf-8"))  # the world's days (local midnights)
    start = int(summary["start_ms"]) + warmup_days * DAY_MS
    keep = (txns["ts_ms"] >= start).to_numpy()
    frame = build_frame(txns[keep].reset_index(drop=True), feats[keep].reset_index(drop=True))
    days = (int(summary["end_ms"]) - start) / DAY_MS
    return frame, days


def measure(covers: dict[str, list[str]], rules: RuleSet, worlds: list[Path], warmup_days: int = WARMUP_DAYS,
            say: Callable[[str], None] | None = None) -> list[dict[str, Any]]:
    """One :func:`typology_report` per world (``covers``: each typology's simulator typologies)."""
    out = []
    for world in worlds:
        if say:
            say(f"replaying {world.name}")
        frame, days = world_frame(world, warmup_days)
        truth = frame["typology"].fillna("").astype(str).to_numpy()
        rep = typology_report(rules, frame, frame["is_fraud"].to_numpy(dtype=bool), days, covers, truth)
        rep["world"] = world.name
        out.append(rep)
    return out


__all__ = ["WARMUP_DAYS", "measure", "simulate_world", "world_frame"]
