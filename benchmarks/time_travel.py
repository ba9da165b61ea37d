"""The documented time-travel run behind ``docs/monitoring.md`` (a demonstration, not a speed benchmark).

A simulated world in which a new fraud typology (till swap) appears on day 40: the champion is
trained on days 0-30, scores days 30-60 one transaction at a time through the decision service into
the prediction log, is monitored every day, and is challenged on day 60 by a model trained on the
latest matured labels; the gate's winner then scores days 60-74. Writes the figures and JSON into
``docs/img/monitoring/`` (``--out``)::

    .venv/bin/python benchmarks/time_travel.py --accounts 3000 --seed 7
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from pesaguard.monitoring.report import write_report
from pesaguard.monitoring.snapshot import finite
from pesaguard.store import Store
from timetravel_harness import Outcome, TimeTravel, run

ROOT = Path(__file__).resolve().parents[1]


def timeline(out: Outcome, tt: TimeTravel, path: Path) -> None:
    """Daily checks: drift (PSI), alert rate and matured AP, with the typology and the retrain marked."""
    days = [c["day"] for c in out.checks]
    fig, axes = plt.subplots(3, 1, figsize=(9, 7.5), sharex=True)
    feat = [max((v for v, _ in c["top_psi"]), default=0.0) for c in out.checks]
    n_alarm = [sum(a.startswith("drift:") for a in c["alarms"]) for c in out.checks]
    axes[0].plot(days, feat, "o-", label="largest feature PSI (recency features excluded)")
    axes[0].plot(days, [c["score_psi"] for c in out.checks], "s-", label="score PSI")
    axes[0].axhline(tt.monitor.psi_alarm, color="#c33", ls="--", lw=1, label="PSI alarm threshold")
    for d, k in zip(days, n_alarm, strict=True):
        if k:
            axes[0].annotate(str(k), (d, 0.02), ha="center", fontsize=7, color="#c33")
    axes[0].set_ylabel("PSI vs training")
    axes[0].set_title("drift (red numbers: features at alarm level that day)", fontsize=9)
    axes[0].legend(fontsize=7)
    axes[1].plot(days, [c["alert_rate"] for c in out.checks], "o-", label="alert rate, last 7 days")
    axes[1].axhline(out.reference.alert_rate, color="green", ls="--", lw=1, label="reference")
    axes[1].axhline(out.reference.alert_rate * tt.monitor.alert_rate_change, color="#c33", ls=":", lw=1,
                    label="alarm ratio")
    axes[1].legend(fontsize=7)
    axes[2].plot(days, [c["recent_ap"] for c in out.checks], "o-",
                 label=f"AP, decisions {tt.monitor.maturity_days}-{tt.monitor.maturity_days + 7} days old")
    axes[2].set_ylim(0, 1)
    axes[2].set_xlabel("day")
    axes[2].legend(fontsize=7)
    for ax in axes:
        ax.axvline(tt.shift_day, color="black", lw=1, ls="-.")
        ax.axvline(tt.retrain_day, color="purple", lw=1, ls="-.")
        for i, c in enumerate(out.checks):
            if c["level"] == "alarm":
                ax.axvspan(c["day"] - 0.5, c["day"] + 0.5, color="#c33", alpha=0.06, lw=0)
                del i
    axes[0].text(tt.shift_day + 0.3, axes[0].get_ylim()[1] * 0.9, "new typology", fontsize=8)
    axes[0].text(tt.retrain_day + 0.3, axes[0].get_ylim()[1] * 0.75, "retrain + gate", fontsize=8, color="purple")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def gate_plot(gate: dict[str, Any], path: Path) -> None:
    keys = ("average_precision", "precision_at_k", "roc_auc")
    fig, ax = plt.subplots(figsize=(6, 3))
    x = range(len(keys))
    ax.bar([i - 0.2 for i in x], [gate["champion"][k] for k in keys], 0.4, label=f"champion {gate['champion']['version']}")
    ax.bar([i + 0.2 for i in x], [gate["challenger"][k] for k in keys], 0.4,
           label=f"challenger {gate['challenger']['version']}")
    ax.set_xticks(list(x), [k.replace("_", " ") for k in keys])
    ax.set_ylim(0, 1)
    ax.set_title(f"gate on the holdout {gate['periods']['holdout_start'][:10]} .. {gate['periods']['holdout_end'][:10]}: "
                 f"{'PASSED' if gate['passed'] else 'FAILED'}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--accounts", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--after-days", type=int, default=14)
    ap.add_argument("--report-prob", type=float, default=0.3, help="new typology: victim report probability")
    ap.add_argument("--report-delay", type=float, default=6.0, help="new typology: median report delay, days")
    ap.add_argument("--candidate", default="lgbm_15_shallow", help="model grid point for champion and challenger")
    ap.add_argument("--out", type=Path, default=ROOT / "docs" / "img" / "monitoring")
    args = ap.parse_args()
    tt = TimeTravel(accounts=args.accounts, seed=args.seed, after_days=args.after_days, candidate=args.candidate,
                    new_report_prob=args.report_prob, new_report_delay_days=args.report_delay)
    args.out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'tt.db'}")
        store.migrate()
        out = run(tt, store, Path(tmp), say=lambda m: print(f"{time.perf_counter() - t0:7.1f}s  {m}", flush=True))
        store.close()
    timeline(out, tt, args.out / "time_travel.png")
    gate_plot(out.gate, args.out / "gate.png")
    report_dir = args.out / "report"
    shutil.rmtree(report_dir, ignore_errors=True)
    write_report(out.report, report_dir)
    summary = {"scenario": {k: v for k, v in tt.__dict__.items() if k not in ("monitor", "gate")},
               "monitor": tt.monitor.model_dump(), "gate_config": tt.gate.model_dump(),
               "simulation": {k: out.sim[k] for k in ("transactions", "fraud_transactions", "per_typology")},
               "reference": {"alert_rate": out.reference.alert_rate,
                             "average_precision": out.reference.meta.get("average_precision")},
               "champion_train_frauds": out.champion.meta["train_frauds"],
               "challenger_train_frauds": out.challenger.meta["train_frauds"],
               "checks": out.checks, "gate": out.gate, "promoted": out.promoted,
               "weekly": out.report["performance"]["weekly"],
               "wall_seconds": round(time.perf_counter() - t0, 1)}
    (args.out / "time_travel.json").write_text(json.dumps(finite(summary), indent=1, default=str), encoding="utf-8")
    print(json.dumps({k: summary[k] for k in ("simulation", "promoted", "wall_seconds")}, default=str))


if __name__ == "__main__":
    main()
