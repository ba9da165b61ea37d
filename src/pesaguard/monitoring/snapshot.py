"""One monitoring pass over the prediction log: drift, alert rate, matured performance, segments, alarms.

Contract: :func:`compute` reads decisions with transaction time in ``[since, until)`` and labels
known before ``until`` (the "as of" time), compares the last ``window_days`` of that period with
the training reference, and returns a JSON-ready dict. :func:`save` stores the summary the
service's gauges and ``monitor check`` read, so a scrape never recomputes anything.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import binomtest

from pesaguard.errors import NotFoundError
from pesaguard.monitoring import drift, performance
from pesaguard.monitoring.config import MonitorConfig
from pesaguard.monitoring.drift_reference import SCORE, Reference
from pesaguard.schema import from_ms
from pesaguard.store import Store
from pesaguard.store import monitoring as repo
from pesaguard.store.core import load_labels

DAY_MS = 86_400_000
LEVELS = ("ok", "warn", "alarm")


def _iso(ms: int) -> str:
    return from_ms(ms).isoformat().replace("+00:00", "Z")


def daily_scores(log: pd.DataFrame) -> list[dict[str, Any]]:
    """Per UTC day: decisions, alert rate and score quantiles (p50, p90, p99)."""
    if log.empty:
        return []
    day = (log["ts_ms"].to_numpy(dtype=np.int64) // DAY_MS) * DAY_MS
    alerted = log["action"].isin(("review", "block")).to_numpy()
    out = []
    for d in np.unique(day):
        m = day == d
        s = log.loc[m, "score"].to_numpy(dtype=float)
        q50, q90, q99 = np.quantile(s, [0.5, 0.9, 0.99])
        out.append({"day_ms": int(d), "day": _iso(int(d))[:10], "decisions": int(m.sum()),
                    "alert_rate": float(alerted[m].mean()), "block_rate": float((log.loc[m, "action"] == "block").mean()),
                    "p50": float(q50), "p90": float(q90), "p99": float(q99)})
    return out


def alarms(table: list[dict[str, Any]], alert_rate: float | None, ref: Reference, n: int,
           cfg: MonitorConfig, span_hours: float | None = None) -> list[dict[str, Any]]:
    """Alarms and warnings from the drift table and the alert-rate change (none below ``min_samples``
    decisions or ``min_window_hours`` of event time in the window)."""
    out: list[dict[str, Any]] = []
    if n < cfg.min_samples or (span_hours is not None and span_hours < cfg.min_window_hours):
        return out
    feature_alarms = [r for r in table if r["level"] == "alarm" and r["column"] != SCORE and not r.get("ignored")]
    for r in table:
        if r["level"] in ("warn", "alarm") and not r.get("ignored"):
            lvl = r["level"]
            if r["column"] != SCORE and lvl == "alarm" and len(feature_alarms) < cfg.alarm_features:
                lvl = "warn"
            out.append({"kind": "drift", "name": r["column"], "level": lvl, "psi": r["psi"], "ks": r["ks"],
                        "threshold": cfg.psi_alarm if lvl == "alarm" else cfg.psi_warn})
    if alert_rate is not None and ref.alert_rate > 0:
        ratio = alert_rate / ref.alert_rate
        # a ratio alone is noise at a 1% alert rate and a few thousand decisions: also require that a
        # binomial test rejects "the reference rate still holds"
        p = binomtest(round(alert_rate * n), n, min(ref.alert_rate, 1.0)).pvalue
        if (ratio > cfg.alert_rate_change or ratio < 1 / cfg.alert_rate_change) and p < cfg.alert_rate_pvalue:
            out.append({"kind": "alert_rate", "name": "alert_rate", "level": "alarm", "value": alert_rate,
                        "reference": ref.alert_rate, "ratio": ratio, "pvalue": float(p),
                        "threshold": cfg.alert_rate_change})
    return out


def load(store: Store, since_ms: int | None = None, until_ms: int | None = None
         ) -> tuple[pd.DataFrame, pd.DataFrame, int, int]:
    """The prediction log of ``[since, until)`` (default: all of it), labels known before ``until``, and
    the resolved bounds."""
    lo, hi = repo.decision_time_range(store)
    if lo is None or hi is None:
        raise NotFoundError("the prediction log is empty: no decisions to monitor",
                            hint="score transactions through the service (or the time-travel run) first")
    since = lo if since_ms is None else since_ms
    until = hi + 1 if until_ms is None else until_ms
    return repo.load_prediction_log(store, since, until), load_labels(store, known_before_ms=until), since, until


def compute(store: Store, ref: Reference, cfg: MonitorConfig, since_ms: int | None = None,
            until_ms: int | None = None) -> dict[str, Any]:
    """Everything the report shows and the alarms that follow from it (see the module contract)."""
    log, labels, since, until = load(store, since_ms, until_ms)
    return analyse(log, labels, ref, cfg, since, until)


def analyse(log: pd.DataFrame, labels: pd.DataFrame, ref: Reference, cfg: MonitorConfig, since: int,
            until: int, features: pd.DataFrame | None = None, light: bool = False) -> dict[str, Any]:
    """:func:`compute` on frames already loaded: decisions in ``[since, until)``, labels known by ``until``.

    ``features`` may hold :func:`drift.feature_frame` of ``log`` (same index) computed once for many
    calls; ``light=True`` computes only what the alarms need (no daily series, no segments).
    """
    keep = ((log["ts_ms"] >= since) & (log["ts_ms"] < until)).to_numpy()
    log = log[keep]
    feats = features[keep] if features is not None else drift.feature_frame(log, list(ref.columns))
    labels = labels[labels["known_at_ms"] < until] if len(labels) else labels
    window_start = max(since, until - cfg.window_days * DAY_MS)
    in_window = (log["ts_ms"] >= window_start).to_numpy()
    cur_log = log[in_window]
    n = len(cur_log)
    span_hours = float(cur_log["ts_ms"].max() - cur_log["ts_ms"].min()) / 3_600_000 if n else 0.0
    table = drift.drift_table(ref, feats[in_window], cfg, span_hours)
    alert_rate = float(cur_log["action"].isin(("review", "block")).mean()) if n else None
    mat = performance.matured(log, labels, until, cfg.maturity_days)
    recent = mat[mat["ts_ms"] >= until - (cfg.maturity_days + cfg.window_days) * DAY_MS]
    recent_perf = performance.metrics(recent, cfg.k) if len(recent) else {}
    found = alarms(table, alert_rate, ref, n, cfg, span_hours) + performance_alarms(recent_perf, ref, cfg)
    level = max((a["level"] for a in found), key=LEVELS.index, default="ok")
    models = log["model_version"].value_counts().to_dict() if len(log) else {}
    out: dict[str, Any] = {
        "period": {"since_ms": since, "until_ms": until, "since": _iso(since), "until": _iso(until)},
        "window": {"start_ms": window_start, "end_ms": until, "decisions": n, "days": cfg.window_days,
                   "span_hours": span_hours, "enough": n >= cfg.min_samples and span_hours >= cfg.min_window_hours,
                   "needs": {"decisions": cfg.min_samples, "hours": cfg.min_window_hours}},
        "decisions": len(log), "alert_rate": alert_rate, "drift": table, "alarms": found, "level": level,
        "performance": {"as_of_ms": until, "maturity_days": cfg.maturity_days, "recent": recent_perf},
        "model_versions": {str(k): int(v) for k, v in models.items()},
        "reference": {"rows": ref.rows, "alert_rate": ref.alert_rate, "review_threshold": ref.review_threshold,
                      **{k: v for k, v in ref.meta.items() if isinstance(v, str | int | float)}},
    }
    if light:
        return out
    overall = performance.metrics(mat, cfg.k, labels)
    top = [r["column"] for r in table if r["column"] != SCORE and not r.get("ignored")][:5]
    out.update({
        "daily": daily_scores(log), "daily_psi": drift.daily_psi(ref, log, feats, [SCORE, *top], cfg),
        "segments": performance.segment_table(mat, overall, cfg.disparity_ratio, cfg.min_segment_support),
        "config": cfg.model_dump(),
    })
    out["performance"].update({**overall, "weekly": performance.over_time(mat)})
    return out


def performance_alarms(recent: dict[str, Any], ref: Reference, cfg: MonitorConfig) -> list[dict[str, Any]]:
    """An alarm when the latest matured window's average precision fell below ``performance_drop`` of
    the reference's (the champion's out-of-time validation AP), given enough matured frauds."""
    base = ref.meta.get("average_precision")
    ap = recent.get("average_precision")
    if base is None or ap is None or recent.get("frauds", 0) < cfg.min_performance_frauds:
        return []
    if ap < cfg.performance_drop * float(base):
        return [{"kind": "performance", "name": "average_precision", "level": "alarm", "value": ap,
                 "reference": float(base), "threshold": cfg.performance_drop * float(base)}]
    return []


def save(store: Store, result: dict[str, Any], now_ms: int | None = None) -> str:
    """Store the snapshot (without the bulky daily series); returns its id."""
    created = int(time.time() * 1000) if now_ms is None else now_ms
    w = result["window"]
    versions = result["model_versions"]
    model = max(versions, key=versions.get) if versions else None
    summary = {"drift": [{k: r[k] for k in ("column", "psi", "ks", "level")} for r in result["drift"]],
               "alarms": result["alarms"], "performance": {k: v for k, v in result["performance"].items()
                                                           if k != "weekly"},
               "reference_alert_rate": result["reference"]["alert_rate"]}
    sid = hashlib.blake2b(f"{created}:{w['start_ms']}:{w['end_ms']}".encode(), digest_size=8).hexdigest()
    repo.insert_snapshot(store, {"snapshot_id": sid, "created_ms": created, "start_ms": w["start_ms"],
                                 "end_ms": w["end_ms"], "model_version": model, "level": result["level"],
                                 "n_decisions": w["decisions"], "alert_rate": result["alert_rate"],
                                 "summary": finite(summary)})
    return sid


def finite(value: Any) -> Any:
    """NaN and infinities become ``None`` (they are not JSON)."""
    if isinstance(value, dict):
        return {k: finite(v) for k, v in value.items()}
    if isinstance(value, list):
        return [finite(v) for v in value]
    if isinstance(value, float) and not np.isfinite(value):
        return None
    return value
