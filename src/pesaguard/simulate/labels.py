"""Delayed ground-truth labels: who reports each fraudulent transaction, and when it becomes known.

A victim reports all their payments of one event at once, a lognormal delay after the event began;
mule moves and cash-outs (and unreported victim payments) surface only through an investigation,
later, if at all. Draws are hashes of (seed, event, payer), so they do not depend on processing order.
"""

from __future__ import annotations

import numpy as np

from pesaguard.simulate.codes import VICTIM
from pesaguard.simulate.ids import unit_hash
from pesaguard.simulate.ledger import Day
from pesaguard.simulate.typologies import TypologySet

DAY_MS = 86_400_000


def _normal(seed: int, salt: int, *keys: np.ndarray) -> np.ndarray:
    u1 = 1.0 - unit_hash(seed, salt, *keys)
    u2 = unit_hash(seed, salt + 1, *keys)
    return np.sqrt(-2 * np.log(u1)) * np.cos(2 * np.pi * u2)


def label_day(day: Day, typologies: TypologySet, event_t0: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    """Labels for the fraudulent rows of a day: row index, known_at_ms, source code (0 victim, 1 chargeback,
    2 investigation). Unlabelled fraud is simply absent."""
    rows = day.rows
    idx = np.flatnonzero(rows.typology > 0)
    configs = typologies.all()
    out_idx, out_known, out_src = [], [], []
    for code in np.unique(rows.typology[idx]).tolist():
        pol = configs[code - 1].labels
        i = idx[rows.typology[idx] == code]
        ev, payer, ts = rows.event[i], rows.payer[i], rows.ts[i]
        t0 = event_t0[ev]
        victim = rows.role[i] == VICTIM
        reported = victim & (unit_hash(seed, 11, ev, payer) < pol.victim_report_prob)
        v_delay = pol.victim_delay_median_days * np.exp(pol.victim_delay_sigma * _normal(seed, 12, ev, payer))
        v_known = np.maximum(ts + 60_000, t0 + (v_delay * DAY_MS).astype(np.int64))
        investigated = ~reported & (unit_hash(seed, 14, ev) < pol.investigation_prob)
        i_delay = pol.investigation_delay_median_days * np.exp(pol.investigation_delay_sigma * _normal(seed, 15, ev))
        i_known = np.maximum(ts + 3_600_000, t0 + (i_delay * DAY_MS).astype(np.int64))
        keep = reported | investigated
        out_idx.append(i[keep])
        out_known.append(np.where(reported, v_known, i_known)[keep])
        out_src.append(np.where(reported, 0 if pol.victim_source == "victim_report" else 1, 2)[keep])
    if not out_idx:
        return {"row": np.zeros(0, np.int64), "known_at_ms": np.zeros(0, np.int64), "source": np.zeros(0, np.int8)}
    return {"row": np.concatenate(out_idx), "known_at_ms": np.concatenate(out_known),
            "source": np.concatenate(out_src).astype(np.int8)}


SOURCES: tuple[str, ...] = ("victim_report", "chargeback", "investigation")
