"""The main job on the embedded defaults: one function per stage, each reusing the areas' public API.

``make demo`` runs :func:`simulate_and_ingest` (a month of a modest network into the store), then
the later stages (training and evaluation, serving with live traffic) where those areas exist.
Every stage is idempotent: running the demo twice reuses the same simulated world and adds nothing
twice to the store.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pesaguard.config import Settings
from pesaguard.store import Store
from pesaguard.store.core import count

Advance = Callable[[float], None]


@dataclass(frozen=True)
class DemoWorld:
    """What the demo simulated and stored."""

    sim_dir: Path
    summary: Any  # pesaguard.simulate.SimSummary
    stored: dict[str, dict[str, int]]
    totals: dict[str, int]


def simulate_and_ingest(settings: Settings, store: Store, *, accounts: int, days: int, seed: int,
                        advance: Advance | None = None) -> DemoWorld:
    """Simulate ``days`` of a network of ``accounts`` customers under HOME/demo and load it into the store."""
    from pesaguard.simulate import SimConfig, simulate
    from pesaguard.simulate.ingest import ingest_run

    sim_dir = settings.home / "demo" / f"sim-a{accounts}-d{days}-s{seed}"
    cfg = SimConfig(accounts=accounts, days=days, seed=seed,
                    operator_sender_id=settings.operator_sender_ids[0], msisdn_salt=settings.redaction_salt)
    summary = simulate(cfg, sim_dir, progress=advance)
    stored = ingest_run(sim_dir, store)
    totals = {t: count(store, t) for t in ("accounts", "account_events", "transactions", "labels")}
    return DemoWorld(sim_dir=sim_dir, summary=summary, stored=stored, totals=totals)
