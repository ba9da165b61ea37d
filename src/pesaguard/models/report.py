"""The evaluation report: JSON plus an HTML page with PNG plots, written next to each other.

Plots: the precision-recall curve (chosen model and baseline), score distributions per fraud
typology, feature importance, and account precision@k over the test days.
"""

from __future__ import annotations

import html
import json
from pathlib import Path
from typing import Any

import numpy as np

from pesaguard.models.evaluate import Evaluation


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg")  # files only: never open a window, never need a display
    import matplotlib.pyplot as plt

    return plt


def _pr_curve(ev: Evaluation, path: Path) -> None:
    from sklearn.metrics import precision_recall_curve

    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4.5))
    y = ev.test["is_fraud"].to_numpy(dtype=int)
    if y.any():
        p, r, _ = precision_recall_curve(y, ev.test["score"])
        ax.plot(r, p, label=f"{ev.summary['model']} (AP {ev.summary['average_precision']:.3f})")
        ax.axhline(y.mean(), color="grey", ls=":", label=f"fraud rate {y.mean():.4f}")
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall on the test period")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1.02)
    ax.legend(loc="upper right", fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _score_dist(ev: Evaluation, path: Path) -> None:
    plt = _plt()
    t = ev.test
    groups: dict[str, np.ndarray] = {"genuine": t.loc[t["is_fraud"] == 0, "score"].to_numpy()}
    fraud = t[t["is_fraud"] == 1]
    if "typology" in t.columns and fraud["typology"].notna().any():
        for name, g in fraud.groupby(fraud["typology"].fillna("unknown")):
            groups[str(name)] = g["score"].to_numpy()
    elif len(fraud):
        groups["fraud"] = fraud["score"].to_numpy()
    fig, ax = plt.subplots(figsize=(7, 0.5 * len(groups) + 2))
    data = [np.clip(v, 1e-6, 1) for v in groups.values()]
    ax.boxplot(data, vert=False, whis=(5, 95), showfliers=False)
    ax.set_yticks(range(1, len(groups) + 1), [f"{k} (n={len(v)})" for k, v in groups.items()], fontsize=8)
    ax.set_xscale("log")
    ax.axvline(ev.summary["thresholds"]["review"], color="orange", ls="--", label="review threshold")
    ax.axvline(ev.summary["thresholds"]["block"], color="red", ls="--", label="block threshold")
    ax.set_xlabel("calibrated fraud probability (log scale; boxes 25-75%, whiskers 5-95%)")
    ax.set_title("Scores per typology, test period")
    ax.legend(fontsize=8, loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _importance(ev: Evaluation, path: Path, top: int = 20) -> None:
    plt = _plt()
    imp = sorted(ev.model.model.importance().items(), key=lambda kv: -kv[1])[:top][::-1]
    fig, ax = plt.subplots(figsize=(7, 0.28 * len(imp) + 1.5))
    ax.barh([k for k, _ in imp], [v for _, v in imp])
    ax.set_xlabel("total gain" if ev.model.model.kind == "lightgbm" else "|coefficient| (standardised)")
    ax.set_title(f"Feature importance ({ev.summary['model']})")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _precision_days(ev: Evaluation, path: Path, k: int) -> None:
    plt = _plt()
    fig, ax = plt.subplots(figsize=(6, 4))
    days = [d["day"] - ev.per_day[0]["day"] + 1 for d in ev.per_day] if ev.per_day else []
    ax.plot(days, [d["precision"] for d in ev.per_day], marker="o", label=f"precision@{k}")
    ax.plot(days, [min(d["fraud_accounts"], k) / k for d in ev.per_day], ls=":", color="grey",
            label="best possible")
    ax.set_xlabel("test day")
    ax.set_ylabel(f"share of top {k} accounts with a fraud")
    top = max([d["precision"] for d in ev.per_day] + [min(d["fraud_accounts"], k) / k for d in ev.per_day] + [0.05])
    ax.set_ylim(0, min(1.02, top * 1.3))
    ax.set_title(f"Account precision@{k} per test day")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _cell(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}"
    return html.escape(str(v))


def write_report(ev: Evaluation, directory: Path, k: int = 100) -> Path:
    """Write ``evaluation.json``, four PNGs and ``index.html`` into ``directory``; returns the HTML."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "evaluation.json").write_text(json.dumps(ev.summary, indent=2, default=str), encoding="utf-8")
    plots = {"pr_curve.png": _pr_curve, "score_by_typology.png": _score_dist,
             "feature_importance.png": _importance}
    for name, fn in plots.items():
        fn(ev, directory / name)
    _precision_days(ev, directory / "precision_at_k.png", k)
    s = ev.summary
    scalar = [(key, v) for key, v in s.items() if not isinstance(v, dict | list) and v is not None]
    rows = "".join(f"<tr><th>{html.escape(key)}</th><td>{_cell(v)}</td></tr>" for key, v in scalar)
    typ = s.get("typology_recall_at_review", {})
    typ_rows = "".join(f"<tr><th>{html.escape(n)}</th><td>{d['count']}</td><td>{d['recall']:.3f}</td>"
                       f"<td>{d['mean_score']:.4f}</td></tr>" for n, d in typ.items())
    base = s.get("baseline") or {}
    base_rows = "".join(f"<tr><th>{html.escape(key)}</th><td>{_cell(v)}</td></tr>" for key, v in base.items())
    w = s["window"]
    page = f"""<!doctype html><html><head><meta charset="utf-8"><title>pesaguard evaluation</title>
<style>body{{font-family:sans-serif;max-width:1000px;margin:2em auto}}table{{border-collapse:collapse}}
th,td{{border:1px solid #ccc;padding:3px 8px;text-align:left}}img{{max-width:100%}}</style></head><body>
<h1>pesaguard model evaluation</h1>
<p>Trained on {w['train_start']} .. {w['train_end']}, {w['delay_days']:g} days of label delay, tested on
{w['test_start']} .. {w['test_end']}. Model chosen by prequential validation before the test period:
<b>{html.escape(str(s['model']))}</b>.</p>
<h2>Test metrics</h2><table>{rows}</table>
<h2>Baseline (best of the other model family)</h2><table>{base_rows}</table>
<h2>Recall per typology at the review threshold</h2>
<table><tr><th>typology</th><th>frauds</th><th>recall</th><th>mean score</th></tr>{typ_rows}</table>
<h2>Plots</h2>
<img src="pr_curve.png" alt="precision-recall curve"><img src="precision_at_k.png" alt="precision at k per day">
<img src="score_by_typology.png" alt="scores per typology"><img src="feature_importance.png" alt="feature importance">
</body></html>"""
    out = directory / "index.html"
    out.write_text(page, encoding="utf-8")
    return out
