"""A card-payment simulator following the published generator of Le Borgne, Siblini, Lebichot and
Bontempi, *Reproducible Machine Learning for Credit Card Fraud Detection - Practical Handbook*
(2022), chapter 3 (``generate_dataset`` and ``add_frauds``), rewritten with numpy: the same design
and the same rules, other random draws. It is pesaguard's development proxy for the handbook's
published dataset (183 days from 2018-04-01, 5,000 customers, 10,000 terminals), which pesaguard
is never tuned on.

- Customers: home uniform on [0, 100]^2, mean amount U(5, 100), std = mean / 2, transactions per
  day U(0, 4) (Poisson each day); they pay at a random terminal within radius 5 of home.
- Transaction time: seconds into the day ~ N(43200, 20000), kept if inside the day; amount
  ~ N(mean, std), a negative draw replaced by U(0, 2 mean), rounded to cents.
- Scenario 1: every amount > 220 is fraud.
- Scenario 2: on each day d, 2 random terminals are compromised: all their transactions on days
  d .. d+27 are fraud (overriding scenario 1).
- Scenario 3: on each day d, 3 random customers are compromised: of their transactions on days
  d .. d+13, a random third (``int(n / 3)``, any of them, fraud or not) have their amount
  multiplied by 5 and are fraud. Scenario 1 is not re-applied afterwards, as in the book.

Output in pesaguard's canonical columns (payer = customer, payee = terminal, minor units = cents)
and label events known 7 days after each transaction (the delay of the book's protocol): frauds
only by default, every transaction with ``labels="all"``. ``--handbook-csv`` also writes the file in
the handbook's own columns (``TRANSACTION_ID, TX_DATETIME, CUSTOMER_ID, TERMINAL_ID, TX_AMOUNT,
TX_TIME_SECONDS, TX_TIME_DAYS, TX_FRAUD, TX_FRAUD_SCENARIO``), so the ingest command that reads the
published data can be tried on it.

    .venv/bin/python benchmarks/cardsim.py --out /tmp/cardsim [--days 183] [--seed 0] [--handbook-csv]
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np
import pandas as pd

DAY_MS = 86_400_000
START_MS = 1_522_540_800_000  # 2018-04-01T00:00:00Z, the handbook's start date
LABEL_DELAY_DAYS = 7
SCENARIOS = {1: "amount_over_220", 2: "compromised_terminal", 3: "compromised_customer"}


def _transactions(rng: np.random.Generator, customers: int, terminals: int, days: int,
                  radius: float) -> pd.DataFrame:
    cxy = rng.uniform(0, 100, (customers, 2))
    mean_amt = rng.uniform(5, 100, customers)
    std_amt = mean_amt / 2
    per_day = rng.uniform(0, 4, customers)
    txy = rng.uniform(0, 100, (terminals, 2))
    parts = []
    for lo in range(0, customers, 500):  # terminals within the radius, chunked to bound memory
        d2 = ((cxy[lo:lo + 500, None, :] - txy[None, :, :]) ** 2).sum(-1)
        for i, row in enumerate(d2):
            c = lo + i
            near = np.flatnonzero(row < radius * radius)
            n_day = rng.poisson(per_day[c], days)
            total = int(n_day.sum())
            if total == 0 or len(near) == 0:
                continue
            day = np.repeat(np.arange(days), n_day)
            secs = np.round(rng.normal(43_200, 20_000, total)).astype(np.int64)
            keep = (secs > 0) & (secs < 86_400)
            n = int(keep.sum())
            amt = rng.normal(mean_amt[c], std_amt[c], n)
            neg = amt < 0
            amt[neg] = rng.uniform(0, 2 * mean_amt[c], int(neg.sum()))
            parts.append(pd.DataFrame({"customer": c, "terminal": near[rng.integers(0, len(near), n)],
                                       "secs": day[keep] * 86_400 + secs[keep], "amount": np.round(amt, 2)}))
    tx = pd.concat(parts, ignore_index=True).sort_values(["secs", "customer"], kind="stable").reset_index(drop=True)
    tx["day"] = tx["secs"] // 86_400
    return tx


def _add_frauds(rng: np.random.Generator, tx: pd.DataFrame, customers: int, terminals: int) -> None:
    scenario = np.zeros(len(tx), np.int8)
    amount = tx["amount"].to_numpy().copy()
    scenario[amount > 220] = 1
    day = tx["day"].to_numpy()
    last_day = int(day.max())
    term = tx["terminal"].to_numpy()
    by_terminal = pd.Series(np.arange(len(tx))).groupby(term).apply(np.asarray).to_dict()
    for d in range(last_day):
        for t in rng.choice(terminals, 2, replace=False):
            idx = by_terminal.get(int(t), np.zeros(0, np.int64))
            scenario[idx[(day[idx] >= d) & (day[idx] < d + 28)]] = 2
    cust = tx["customer"].to_numpy()
    by_customer = pd.Series(np.arange(len(tx))).groupby(cust).apply(np.asarray).to_dict()
    for d in range(last_day):
        chosen = rng.choice(customers, 3, replace=False)
        idx = np.concatenate([by_customer.get(int(c), np.zeros(0, np.int64)) for c in chosen])
        idx = np.sort(idx[(day[idx] >= d) & (day[idx] < d + 14)])
        pick = rng.choice(idx, len(idx) // 3, replace=False) if len(idx) >= 3 else idx[:0]
        amount[pick] = np.round(amount[pick] * 5, 2)
        scenario[pick] = 3
    tx["amount"] = amount
    tx["scenario"] = scenario


def generate(customers: int = 5000, terminals: int = 10000, days: int = 183, radius: float = 5.0,
             seed: int = 0, labels: str = "fraud") -> tuple[pd.DataFrame, pd.DataFrame]:
    """(transactions with is_fraud and typology, label events known 7 days after each transaction)."""
    if labels not in ("fraud", "all"):
        raise ValueError(f"labels must be 'fraud' or 'all', not {labels!r}")
    rng = np.random.default_rng(seed)
    tx = _transactions(rng, customers, terminals, days, radius)
    _add_frauds(rng, tx, customers, terminals)
    ts = START_MS + tx["secs"].to_numpy(np.int64) * 1000
    fraud = (tx["scenario"].to_numpy() > 0).astype(int)
    out = pd.DataFrame({
        "txn_id": [f"K{i:08d}" for i in range(len(tx))], "ts_ms": ts,
        "payer": "C" + tx["customer"].astype(str), "payee": "T" + tx["terminal"].astype(str),
        "amount_minor": np.maximum(1, np.round(tx["amount"].to_numpy() * 100)).astype(np.int64),
        "currency": "EUR", "is_fraud": fraud,
        "typology": tx["scenario"].map(SCENARIOS).to_numpy(dtype=object),
    })
    lab = out if labels == "all" else out[out["is_fraud"] == 1]
    label_events = pd.DataFrame({"txn_id": lab["txn_id"].to_numpy(), "is_fraud": lab["is_fraud"].to_numpy(),
                                 "known_at_ms": lab["ts_ms"].to_numpy() + LABEL_DELAY_DAYS * DAY_MS,
                                 "source": "cardsim", "typology": lab["typology"].to_numpy()})
    return out, label_events


def handbook_frame(tx: pd.DataFrame) -> pd.DataFrame:
    """The transactions in the handbook's own columns (its ``simulated-data-raw`` layout)."""
    secs = (tx["ts_ms"].to_numpy(np.int64) - START_MS) // 1000
    scenario = tx["typology"].map({v: k for k, v in SCENARIOS.items()}).fillna(0).astype(int)
    return pd.DataFrame({
        "TRANSACTION_ID": np.arange(len(tx)),
        "TX_DATETIME": pd.to_datetime(tx["ts_ms"], unit="ms").dt.strftime("%Y-%m-%d %H:%M:%S"),
        "CUSTOMER_ID": tx["payer"].str[1:].astype(int), "TERMINAL_ID": tx["payee"].str[1:].astype(int),
        "TX_AMOUNT": tx["amount_minor"] / 100, "TX_TIME_SECONDS": secs, "TX_TIME_DAYS": secs // 86_400,
        "TX_FRAUD": tx["is_fraud"], "TX_FRAUD_SCENARIO": scenario,
    })


def main() -> None:
    ap = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--days", type=int, default=183)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--labels", choices=("fraud", "all"), default="fraud")
    ap.add_argument("--handbook-csv", action="store_true", help="Also write handbook.csv in the book's columns.")
    args = ap.parse_args()
    tx, labels = generate(days=args.days, seed=args.seed, labels=args.labels)
    args.out.mkdir(parents=True, exist_ok=True)
    tx.to_parquet(args.out / "transactions.parquet", index=False)
    labels.to_parquet(args.out / "labels.parquet", index=False)
    if args.handbook_csv:
        handbook_frame(tx).to_csv(args.out / "handbook.csv", index=False)
    print(f"{len(tx):,} transactions, {int(tx['is_fraud'].sum()):,} frauds "
          f"({tx['is_fraud'].mean():.4%}) -> {args.out}")


if __name__ == "__main__":
    main()
