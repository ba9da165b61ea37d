"""Dashboard charts rendered on the server as inline SVG (matplotlib, Agg backend).

Each function takes plain figures from :mod:`pesaguard.store.cases` and returns an ``<svg>``
string; an empty input gives a chart that says there is no data yet rather than an error.
"""

from __future__ import annotations

import io
from collections import Counter
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

import matplotlib

matplotlib.use("Agg")  # no display on servers; must precede pyplot
import matplotlib.pyplot as plt
from matplotlib.ticker import MaxNLocator

COLORS = {"review": "#e0a100", "block": "#c0392b", "allow": "#2e86c1", "fraud": "#c0392b",
          "legitimate": "#27ae60"}


def _figure(width: float = 5.6, height: float = 2.8) -> tuple[Any, Any]:
    fig, ax = plt.subplots(figsize=(width, height), dpi=100)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)
    return fig, ax


def _svg(fig: Any) -> str:
    buf = io.StringIO()
    fig.tight_layout()
    fig.savefig(buf, format="svg", metadata={"Date": None})
    plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


def _empty(ax: Any, message: str = "no data yet") -> None:
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes, color="#888")
    ax.set_xticks([])
    ax.set_yticks([])


def alerts_per_day(rows: Sequence[tuple[int, str, int]], days: int = 14) -> str:
    """Stacked review/block bars for the last ``days`` days that have data (at least a fortnight)."""
    fig, ax = _figure()
    if not rows:
        _empty(ax)
        return _svg(fig)
    last = max(d for d, _, _ in rows)
    span = [last - i * 86_400_000 for i in range(days - 1, -1, -1)]
    labels = [datetime.fromtimestamp(d / 1000, tz=UTC).strftime("%d %b") for d in span]
    bottom = [0] * len(span)
    for action in ("review", "block"):
        counts = {d: n for d, a, n in rows if a == action}
        values = [counts.get(d, 0) for d in span]
        ax.bar(labels, values, bottom=bottom, color=COLORS[action], label=action, width=0.7)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    ax.set_ylabel("alerts", fontsize=8)
    ax.yaxis.set_major_locator(MaxNLocator(integer=True))
    ax.tick_params(axis="x", labelrotation=45)
    ax.legend(fontsize=8, frameon=False, loc="upper left", ncols=2)
    ax.set_ylim(0, max(bottom) * 1.25)
    return _svg(fig)


def review_precision(outcomes: dict[str, int]) -> str:
    """Resolved cases split into fraud and legitimate: the share of reviews that were worth it."""
    fig, ax = _figure(height=2.2)
    fraud, legit = outcomes.get("fraud", 0), outcomes.get("legitimate", 0)
    if fraud + legit == 0:
        _empty(ax, "no resolved cases yet")
        return _svg(fig)
    ax.barh([""], [fraud], color=COLORS["fraud"], label=f"fraud ({fraud})", height=0.5)
    ax.barh([""], [legit], left=[fraud], color=COLORS["legitimate"], label=f"legitimate ({legit})", height=0.5)
    ax.set_title(f"{fraud / (fraud + legit):.0%} of resolved cases were fraud", fontsize=10)
    ax.set_xlabel("resolved cases", fontsize=8)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.legend(fontsize=8, frameon=False, loc="upper center", bbox_to_anchor=(0.5, -0.45), ncols=2)
    return _svg(fig)


def score_distribution(scores: Sequence[tuple[float, str]]) -> str:
    fig, ax = _figure()
    if not scores:
        _empty(ax)
        return _svg(fig)
    bins = [i / 40 for i in range(41)]
    for action in ("allow", "review", "block"):
        values = [s for s, a in scores if a == action]
        if values:
            ax.hist(values, bins=bins, color=COLORS[action], label=f"{action} ({len(values)})", alpha=0.85)
    ax.set_yscale("log")
    ax.set_xlabel("model score", fontsize=8)
    ax.set_ylabel("decisions (log)", fontsize=8)
    ax.legend(fontsize=8, frameon=False)
    return _svg(fig)


def top_reasons(reasons: Sequence[Sequence[str]], n: int = 8) -> str:
    fig, ax = _figure(height=3.2)
    counts = Counter(r for rs in reasons for r in rs[:1])  # the leading reason of each alert
    if not counts:
        _empty(ax)
        return _svg(fig)
    top = counts.most_common(n)[::-1]
    ax.barh([_short(r) for r, _ in top], [c for _, c in top], color="#5d6d7e", height=0.6)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("alerts (leading reason)", fontsize=8)
    return _svg(fig)


def _short(text: str, width: int = 38) -> str:
    return text if len(text) <= width else text[: width - 1] + "…"
