"""A one-page overview plot of a run (matplotlib, Agg backend): volume by day and type, amount
distributions per type, fraud per typology, and how late labels arrive."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq

from pesaguard.simulate.codes import TYPES

DAY_MS = 86_400_000


def plot_overview(out_dir: Path, png: Path | None = None) -> Path:
    """Draw ``overview.png`` (or ``png``) from the run in ``out_dir``; returns the path written."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out_dir = Path(out_dir)
    png = Path(png) if png is not None else out_dir / "overview.png"
    t = pq.read_table(out_dir / "transactions.parquet", columns=["ts_ms", "type", "amount_minor", "typology"])
    labels = pq.read_table(out_dir / "labels.parquet").to_pandas()
    ts = t.column("ts_ms").to_numpy()
    typ = t.column("type").to_numpy(zero_copy_only=False)
    kes = t.column("amount_minor").to_numpy() / 100
    typology = t.column("typology").to_numpy(zero_copy_only=False)
    start_ms = json.loads((out_dir / "summary.json").read_text())["start_ms"]
    day = (ts - start_ms) // DAY_MS

    fig, ax = plt.subplots(2, 2, figsize=(13, 8.5))
    bottom = np.zeros(int(day.max()) + 1 if len(day) else 1)
    for name in TYPES:
        counts = np.bincount(day[typ == name], minlength=len(bottom))
        ax[0, 0].bar(np.arange(len(bottom)), counts, bottom=bottom, label=name, width=0.9)
        bottom += counts
    ax[0, 0].set(title="Transactions per day by type (weekends, month-end paydays)", xlabel="day", ylabel="count")
    ax[0, 0].legend(fontsize=7, ncol=2)

    grid = np.logspace(0, 5.6, 400)
    for name in TYPES:
        vals = np.sort(kes[typ == name])
        if len(vals):
            ax[0, 1].plot(grid, np.searchsorted(vals, grid, side="right") / len(vals), label=name, linewidth=1.4)
    fraud = typology != None  # noqa: E711 - numpy object array: elementwise test for missing
    if fraud.any():
        vals = np.sort(kes[fraud])
        ax[0, 1].plot(grid, np.searchsorted(vals, grid, side="right") / len(vals), "k--", label="all fraud", linewidth=2)
    ax[0, 1].set(xscale="log", title="Amounts per type: share of transactions <= x (KES)", xlabel="amount (KES)",
                 ylabel="cumulative share")
    ax[0, 1].grid(alpha=0.3)
    ax[0, 1].legend(fontsize=7, ncol=2)

    names, counts = np.unique(typology[fraud].astype(str), return_counts=True)
    order = np.argsort(counts)
    ax[1, 0].barh(names[order], counts[order], color="tab:red")
    rate = fraud.mean() if len(fraud) else 0.0
    ax[1, 0].set(title=f"Fraudulent transactions per typology (fraud rate {rate:.3%})", xlabel="transactions")

    if len(labels):
        lab_ts = labels.merge(pq.read_table(out_dir / "transactions.parquet", columns=["txn_id", "ts_ms"]).to_pandas(),
                              on="txn_id")
        delay = (lab_ts["known_at_ms"] - lab_ts["ts_ms"]) / DAY_MS
        for src, grp in delay.groupby(lab_ts["source"]):
            ax[1, 1].hist(grp, bins=np.logspace(-2, 2.3, 40), histtype="step", linewidth=1.5, label=src)
        ax[1, 1].set(xscale="log", title="Label delay: known_at - ts (days)", xlabel="days", ylabel="labels")
        ax[1, 1].legend(fontsize=8)
    fig.tight_layout()
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=90)
    plt.close(fig)
    return png
