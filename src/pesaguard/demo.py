"""The main job on the embedded defaults: one function per stage, each reusing the areas' public API.

``make demo`` simulates a modest network for a month plus a few more days, loads the month into
the store, trains and evaluates a model on it (registering the champion), then serves the API and
the console while the remaining days stream in as live traffic. Every stage is idempotent:
running the demo twice reuses the same simulated world and adds nothing twice to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from pesaguard.config import Settings
from pesaguard.schema import TRANSACTION_COLUMNS
from pesaguard.store import Store
from pesaguard.store.core import count

Advance = Callable[[float], None]
DAY_MS = 86_400_000


@dataclass(frozen=True)
class DemoWorld:
    """What the demo simulated, what it stored, and the live traffic it kept back."""

    sim_dir: Path
    summary: Any  # pesaguard.simulate.SimSummary
    stored: dict[str, dict[str, int]]
    totals: dict[str, int]
    live: pd.DataFrame  # transactions after the stored history, in time order


def simulate_and_ingest(settings: Settings, store: Store, *, accounts: int, days: int, seed: int,
                        live_days: int = 0, advance: Advance | None = None) -> DemoWorld:
    """Simulate ``days + live_days`` of a network of ``accounts`` customers under HOME/demo, store the
    first ``days`` (labels as known by then) and return the rest as live traffic."""
    import pyarrow.parquet as pq

    from pesaguard.simulate import SimConfig, simulate
    from pesaguard.simulate.ingest import ingest_run

    total_days = days + live_days
    sim_dir = settings.home / "demo" / f"sim-a{accounts}-d{total_days}-s{seed}"
    cfg = SimConfig(accounts=accounts, days=total_days, seed=seed,
                    operator_sender_id=settings.operator_sender_ids[0], msisdn_salt=settings.redaction_salt)
    summary = simulate(cfg, sim_dir, progress=advance)
    txns = pq.read_table(sim_dir / "transactions.parquet", columns=list(TRANSACTION_COLUMNS)).to_pandas()
    cutoff = int(txns["ts_ms"].min()) // DAY_MS * DAY_MS + days * DAY_MS
    stored = ingest_run(sim_dir, store, until_ms=cutoff)
    totals = {t: count(store, t) for t in ("accounts", "account_events", "transactions", "labels")}
    live = txns[txns["ts_ms"] >= cutoff].reset_index(drop=True)
    return DemoWorld(sim_dir=sim_dir, summary=summary, stored=stored, totals=totals, live=live)
