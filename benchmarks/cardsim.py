"""A card-payment simulator following the published design of Le Borgne, Siblini, Lebichot and
Bontempi, *Reproducible Machine Learning for Credit Card Fraud Detection - Practical Handbook*
(2022), chapter 3: customers with spending profiles, terminals on a 100x100 grid, and three fraud
scenarios. Written from the published description, so pesaguard can be compared with the
handbook's baselines under the same protocol; nothing in pesaguard is tuned to it.

- Customers: location uniform on [0, 100]^2, mean amount U(5, 100), std = mean / 2, transactions
  per day U(0, 4) (Poisson each day); they pay at terminals within radius 5 of home.
- Transaction time: seconds into the day ~ N(43200, 20000), kept if inside the day.
- Scenario 1: every amount > 220 is fraud.
- Scenario 2: each day 2 random terminals are compromised: all their transactions in the next
  28 days are fraud.
- Scenario 3: each day 3 random customers are compromised: in the next 14 days a third of their
  transactions have their amount multiplied by 5 and are fraud.

Output in pesaguard's canonical columns (payer = customer, payee = terminal, minor units = cents);
labels become known 7 days after the transaction, the delay the handbook's features assume.

    .venv/bin/python benchmarks/cardsim.py --out /tmp/cardsim   # writes transactions/labels .parquet
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DAY_MS = 86_400_000
START_MS = 1_522_540_800_000  # 2018-04-01T00:00:00Z, the handbook's start date


def generate(customers: int = 5000, terminals: int = 10000, days: int = 70, radius: float = 5.0,
             seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(transactions with is_fraud and typology, label events)."""
    rng = np.random.default_rng(seed)
    cxy = rng.uniform(0, 100, (customers, 2))
    mean_amt = rng.uniform(5, 100, customers)
    std_amt = mean_amt / 2
    per_day = rng.uniform(0, 4, customers)
    txy = rng.uniform(0, 100, (terminals, 2))
    # Terminals within the radius of each customer (chunked to bound memory).
    near: list[np.ndarray] = []
    for i in range(0, customers, 500):
        d = np.sqrt(((cxy[i:i + 500, None, :] - txy[None, :, :]) ** 2).sum(-1))
        near.extend(np.nonzero(row < radius)[0] for row in d)
    rows_c, rows_t, rows_ts, rows_amt = [], [], [], []
    for c in range(customers):
        if len(near[c]) == 0:
            continue
        n_day = rng.poisson(per_day[c], days)
        total = int(n_day.sum())
        if total == 0:
            continue
        day = np.repeat(np.arange(days), n_day)
        secs = rng.normal(43_200, 20_000, total)
        keep = (secs > 0) & (secs < 86_400)
        amt = rng.normal(mean_amt[c], std_amt[c], total)
        neg = amt < 0
        amt[neg] = rng.uniform(0, mean_amt[c] * 2, int(neg.sum()))
        term = near[c][rng.integers(0, len(near[c]), total)]
        rows_c.append(np.full(int(keep.sum()), c))
        rows_t.append(term[keep])
        rows_ts.append(START_MS + day[keep] * DAY_MS + (secs[keep] * 1000).astype(np.int64))
        rows_amt.append(np.round(amt[keep], 2))
    tx = pd.DataFrame({"customer": np.concatenate(rows_c), "terminal": np.concatenate(rows_t),
                       "ts_ms": np.concatenate(rows_ts), "amount": np.concatenate(rows_amt)})
    tx = tx.sort_values("ts_ms", kind="stable").reset_index(drop=True)
    tx["typology"] = None
    day = ((tx["ts_ms"] - START_MS) // DAY_MS).to_numpy()
    # Scenario 1: large amounts.
    tx.loc[tx["amount"] > 220, "typology"] = "amount_over_220"
    # Scenario 2: compromised terminals, 28 days.
    for d in range(days):
        bad = rng.choice(terminals, 2, replace=False)
        m = tx["terminal"].isin(bad).to_numpy() & (day >= d) & (day < d + 28) & tx["typology"].isna().to_numpy()
        tx.loc[m, "typology"] = "compromised_terminal"
    # Scenario 3: compromised customers, 14 days, a third of transactions x5.
    for d in range(days):
        bad = rng.choice(customers, 3, replace=False)
        idx = np.nonzero(tx["customer"].isin(bad).to_numpy() & (day >= d) & (day < d + 14)
                         & tx["typology"].isna().to_numpy())[0]
        pick = idx[rng.random(len(idx)) < 1 / 3]
        tx.loc[pick, "amount"] = tx.loc[pick, "amount"] * 5
        tx.loc[pick, "typology"] = "compromised_customer"
    tx["is_fraud"] = tx["typology"].notna().astype(int)
    out = pd.DataFrame({
        "txn_id": [f"K{i:08d}" for i in range(len(tx))], "ts_ms": tx["ts_ms"].to_numpy(),
        "payer": "C" + tx["customer"].astype(str), "payee": "T" + tx["terminal"].astype(str),
        "amount_minor": np.maximum(1, np.round(tx["amount"].to_numpy() * 100)).astype(np.int64),
        "currency": "EUR", "is_fraud": tx["is_fraud"].to_numpy(), "typology": tx["typology"].to_numpy(),
    })
    fraud = out[out["is_fraud"] == 1]
    labels = pd.DataFrame({"txn_id": fraud["txn_id"].to_numpy(), "is_fraud": 1,
                           "known_at_ms": fraud["ts_ms"].to_numpy() + 7 * DAY_MS, "source": "cardsim",
                           "typology": fraud["typology"].to_numpy()})
    return out, labels


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--days", type=int, default=70)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args()
    tx, labels = generate(days=args.days, seed=args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    tx.to_parquet(args.out / "transactions.parquet", index=False)
    labels.to_parquet(args.out / "labels.parquet", index=False)
    print(f"{len(tx):,} transactions, fraud rate {tx['is_fraud'].mean():.4f} -> {args.out}")


if __name__ == "__main__":
    main()
