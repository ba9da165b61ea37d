"""A small, fast synthetic payment stream with two learnable fraud patterns, for the model tests.

Genuine payers pay a few favourite payees amounts near their own typical amount. Fraud: (1) a
"mule" payee receives first-time payments from many payers; (2) a taken-over account pays a new
payee many times its usual amount. Labels become known 1-3 days later; some frauds never do.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

DAY_MS = 86_400_000
T0 = 1_704_067_200_000  # 2024-01-01T00:00:00Z


def synth(accounts: int = 300, days: int = 30, per_day: float = 1.6, seed: int = 0,
          minimal: bool = False) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(transactions with is_fraud and typology, label events)."""
    rng = np.random.default_rng(seed)
    typical = rng.lognormal(7.5, 0.8, accounts)
    favourites = rng.integers(0, 60, (accounts, 3))
    rows = []
    n = rng.poisson(per_day * days, accounts)
    for a in range(accounts):
        ts = np.sort(rng.integers(0, days * DAY_MS, n[a])) + T0
        for t in ts:
            rows.append((int(t), f"C{a}", f"M{favourites[a, rng.integers(0, 3)]}",
                         max(1, int(typical[a] * rng.lognormal(0, 0.3))), 0, None))
    for d in range(days):  # mules: a new mule each day receives from 6 random payers
        mule = f"X{d}"
        for a in rng.choice(accounts, 6, replace=False):
            t = T0 + d * DAY_MS + int(rng.integers(0, DAY_MS))
            rows.append((t, f"C{a}", mule, int(typical[a] * rng.uniform(1.5, 3)), 1, "mule_payee"))
        for a in rng.choice(accounts, 2, replace=False):  # account takeover: a drain to a new payee
            t = T0 + d * DAY_MS + int(rng.integers(0, DAY_MS))
            rows.append((t, f"C{a}", f"Z{d}_{a}", int(typical[a] * rng.uniform(8, 20)), 1, "takeover"))
    tx = pd.DataFrame(rows, columns=["ts_ms", "payer", "payee", "amount_minor", "is_fraud", "typology"])
    tx = tx.sort_values("ts_ms", kind="stable").reset_index(drop=True)
    tx.insert(0, "txn_id", [f"T{i:06d}" for i in range(len(tx))])
    fraud = tx[tx["is_fraud"] == 1]
    known = rng.random(len(fraud)) < 0.85
    lab = pd.DataFrame({
        "txn_id": fraud["txn_id"].to_numpy()[known], "is_fraud": 1,
        "known_at_ms": fraud["ts_ms"].to_numpy()[known] + rng.integers(DAY_MS, 3 * DAY_MS, int(known.sum())),
        "source": "victim_report", "typology": fraud["typology"].to_numpy()[known],
    })
    if minimal:
        tx = tx[["txn_id", "ts_ms", "payer", "payee", "amount_minor"]]
    else:
        tx["currency"] = "KES"
    return tx, lab


def small_bundle(kind: str = "lgbm_15_shallow") -> Any:
    """A model bundle fitted on a small synthetic world (200 accounts, 16 days; trained on days 5-15,
    labels known at once): what the service and batch tests score with."""
    from pesaguard.features import FeatureConfig
    from pesaguard.models.data import Dataset, build_matrix
    from pesaguard.models.estimators import pick
    from pesaguard.models.pipeline import make_bundle
    from pesaguard.models.protocol import Window
    from pesaguard.models.train import fit_final

    tx, lab = synth(accounts=200, seed=5, days=16)
    window = Window(T0 + 5 * DAY_MS, T0 + 15 * DAY_MS, T0 + 15 * DAY_MS, T0 + 16 * DAY_MS)
    (cand,) = pick(kind)
    return make_bundle(fit_final(build_matrix(Dataset(tx, lab)), window, cand, labels_cutoff=None), FeatureConfig())
