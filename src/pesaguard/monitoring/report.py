"""The monitoring report: PNG figures (matplotlib, Agg), the same figures' data as JSON, and an HTML page.

Contract: :func:`write_report` writes ``report.json`` (the whole snapshot), one ``<figure>.json``
per plot holding exactly the series drawn, ``<figure>.png`` and ``report.html`` into ``out``,
and returns the paths. Nothing here reads the store.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: reports are written by cron and Airflow workers
import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from jinja2 import Environment

from pesaguard.monitoring.snapshot import finite

_HTML = """<!doctype html><html><head><meta charset="utf-8"><title>pesaguard monitoring {{ p.since }} - {{ p.until }}</title>
<style>body{font-family:sans-serif;max-width:1100px;margin:2em auto}table{border-collapse:collapse}
td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}.alarm{color:#b00;font-weight:bold}.warn{color:#a60}</style></head>
<body><h1>pesaguard monitoring</h1>
<p>Decisions {{ p.since }} to {{ p.until }}: {{ r.decisions }}; current window {{ r.window.days }} days,
{{ r.window.decisions }} decisions; alert rate {{ fmt(r.alert_rate) }} (reference {{ fmt(r.reference.alert_rate) }}).
Overall level: <span class="{{ r.level }}">{{ r.level }}</span>.</p>
<h2>Alarms</h2>{% if r.alarms %}<ul>{% for a in r.alarms %}<li class="{{ a.level }}">{{ a.level }}: {{ a.kind }}
{{ a.name }} {% for k in ("psi", "ks", "value", "ratio") if a[k] is defined %}{{ k }}={{ fmt(a[k]) }} {% endfor %}</li>{% endfor %}</ul>
{% else %}<p>none</p>{% endif %}
{% for f in figures %}<h2>{{ f.title }}</h2><img src="{{ f.png }}" width="900"><p><a href="{{ f.json }}">data</a></p>{% endfor %}
<h2>Matured performance (labels known at {{ p.until }}, maturity {{ r.performance.maturity_days }} days)</h2>
<table>{% for k in ("decisions", "frauds", "average_precision", "precision_at_k", "recall", "false_positive_rate", "alert_precision") %}
<tr><th>{{ k }}</th><td>{{ fmt(r.performance[k]) }}</td></tr>{% endfor %}</table>
<h2>Segments</h2><table><tr><th>segment</th><th>value</th><th>decisions</th><th>frauds</th><th>recall</th><th>FPR</th><th>AP</th><th>flags</th></tr>
{% for s in r.segments %}<tr><td>{{ s.segment }}</td><td>{{ s.value }}</td><td>{{ s.decisions }}</td><td>{{ s.frauds }}</td>
<td>{{ fmt(s.recall) }}</td><td>{{ fmt(s.false_positive_rate) }}</td><td>{{ fmt(s.average_precision) }}</td>
<td class="{{ 'alarm' if s.flags else '' }}">{{ ", ".join(s.flags) }}</td></tr>{% endfor %}</table>
<h2>Drift (current window against the training reference)</h2><table><tr><th>column</th><th>PSI</th><th>KS</th><th>p</th><th>level</th></tr>
{% for d in r.drift %}<tr><td>{{ d.column }}</td><td>{{ fmt(d.psi) }}</td><td>{{ fmt(d.ks) }}</td><td>{{ fmt(d.ks_pvalue) }}</td>
<td class="{{ d.level }}">{{ d.level }}</td></tr>{% endfor %}</table></body></html>"""


def _fmt(v: Any) -> str:
    if v is None:
        return "-"
    return f"{v:.4g}" if isinstance(v, float) else str(v)


def _days(ms: list[int]) -> Any:
    """Matplotlib date numbers (floats) for epoch milliseconds."""
    return mdates.date2num([datetime.fromtimestamp(m / 1000, tz=UTC) for m in ms])


def _timeaxis(ax: Any) -> None:
    locator = mdates.AutoDateLocator(maxticks=10)
    ax.xaxis.set_major_locator(locator)
    ax.xaxis.set_major_formatter(mdates.ConciseDateFormatter(locator))


def _save(fig: Any, out: Path, name: str, data: Any) -> dict[str, str]:
    fig.tight_layout()
    fig.savefig(out / f"{name}.png", dpi=100)
    plt.close(fig)
    (out / f"{name}.json").write_text(json.dumps(finite(data), indent=1, default=str), encoding="utf-8")
    return {"png": f"{name}.png", "json": f"{name}.json"}


def figures(r: dict[str, Any], out: Path) -> list[dict[str, str]]:
    """Draw every figure into ``out``; returns ``{title, png, json}`` per figure."""
    made = []
    daily, w0 = r["daily"], _days([r["window"]["start_ms"]])[0]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    for q in ("p50", "p90", "p99"):
        ax.plot(_days([d["day_ms"] for d in daily]), [d[q] for d in daily], label=q)
    ax.set_yscale("log")
    ax.axvline(w0, color="grey", ls=":", label="current window")
    ax.set_ylabel("score")
    ax.legend(fontsize=8)
    _timeaxis(ax)
    made.append({"title": "Score distribution per day", **_save(fig, out, "score_over_time", daily)})

    fig, ax = plt.subplots(figsize=(9, 3.2))
    ax.plot(_days([d["day_ms"] for d in daily]), [d["alert_rate"] for d in daily], label="alert rate (review+block)")
    ref = r["reference"]["alert_rate"]
    change = r["config"]["alert_rate_change"]
    ax.axhline(ref, color="green", ls="--", label="reference")
    ax.axhspan(ref / change, ref * change, color="green", alpha=0.08, label="no-alarm band")
    ax.axvline(w0, color="grey", ls=":")
    ax.legend(fontsize=8)
    _timeaxis(ax)
    made.append({"title": "Alert rate per day", **_save(fig, out, "alert_rate", {"daily": daily, "reference": ref})})

    table = r["drift"][:20]
    fig, ax = plt.subplots(figsize=(9, 0.25 * len(table) + 1.2))
    colours = {"alarm": "#c33", "warn": "#e90", "ok": "#5a5", "insufficient": "#999"}
    ax.barh([d["column"] for d in table][::-1], [d["psi"] for d in table][::-1],
            color=[colours[d["level"]] for d in table][::-1])
    ax.axvline(r["config"]["psi_warn"], color="#e90", ls="--")
    ax.axvline(r["config"]["psi_alarm"], color="#c33", ls="--")
    ax.set_xlabel("PSI, current window vs training reference")
    made.append({"title": "Drift per feature and score (PSI)", **_save(fig, out, "drift_psi", table)})

    fig, ax = plt.subplots(figsize=(9, 3.2))
    for col, series in r["daily_psi"].items():
        ax.plot(_days([s["day_ms"] for s in series]), [s["psi"] for s in series], label=col,
                lw=2.5 if col == "score" else 1)
    ax.axhline(r["config"]["psi_alarm"], color="#c33", ls="--", label="alarm")
    ax.set_ylabel("daily PSI")
    ax.legend(fontsize=7)
    _timeaxis(ax)
    made.append({"title": "Daily PSI: score and the most drifted features",
                 **_save(fig, out, "drift_daily", r["daily_psi"])})

    weekly = r["performance"]["weekly"]
    fig, ax = plt.subplots(figsize=(9, 3.2))
    x = _days([w["start_ms"] for w in weekly])
    ax.plot(x, [w["average_precision"] for w in weekly], "o-", label="average precision")
    ax.plot(x, [w["recall"] for w in weekly], "s-", label="recall (review+block)")
    ax.set_ylim(0, 1)
    ax.set_title(f"matured decisions (labels known at the end, maturity {r['performance']['maturity_days']} days)",
                 fontsize=9)
    ax.legend(fontsize=8)
    _timeaxis(ax)
    made.append({"title": "Delayed-label performance per week", **_save(fig, out, "performance", weekly)})

    segs = [s for s in r["segments"] if s["recall"] is not None]
    fig, ax = plt.subplots(figsize=(9, 0.25 * max(len(segs), 1) + 1.2))
    ax.barh([f"{s['segment']}={s['value']}" for s in segs][::-1], [s["recall"] for s in segs][::-1],
            color=["#c33" if s["flags"] else "#58a" for s in segs][::-1])
    if r["performance"]["recall"] is not None:
        ax.axvline(r["performance"]["recall"], color="black", ls="--", label="overall")
        ax.legend(fontsize=8)
    ax.set_xlabel("recall per segment (red: flagged disparity)")
    made.append({"title": "Recall per segment", **_save(fig, out, "segments", r["segments"])})
    return made


def write_report(result: dict[str, Any], out: Path) -> dict[str, Path]:
    """Write the JSON, figures and HTML page into ``out``; returns ``{"html", "json"}`` paths."""
    out.mkdir(parents=True, exist_ok=True)
    figs = figures(result, out)
    (out / "report.json").write_text(json.dumps(finite(result), indent=1, sort_keys=True, default=str),
                                     encoding="utf-8")
    html = Environment(autoescape=True).from_string(_HTML).render(r=result, p=result["period"], figures=figs,
                                                                   fmt=_fmt)
    (out / "report.html").write_text(html, encoding="utf-8")
    return {"html": out / "report.html", "json": out / "report.json"}
