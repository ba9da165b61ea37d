"""Prometheus gauges for drift and alert rate, read from the latest stored monitoring snapshot.

A scrape never recomputes drift: ``monitor check``/``report`` (cron or Airflow) store a snapshot,
and this collector reads the newest one, at most once per ``ttl_s`` seconds. The service's app
factory calls :func:`install` with its registry and store.

Gauges: ``pesaguard_drift_psi{column}``, ``pesaguard_drift_ks{column}``, ``pesaguard_alert_rate``,
``pesaguard_alert_rate_reference``, ``pesaguard_monitoring_level`` (0 ok, 1 warn, 2 alarm),
``pesaguard_monitoring_alarms``, ``pesaguard_matured_average_precision`` and
``pesaguard_monitoring_snapshot_timestamp_seconds``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterator
from typing import Any

from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pesaguard.store import Store
from pesaguard.store import monitoring as repo

log = logging.getLogger("pesaguard.monitoring")

LEVEL = {"ok": 0, "warn": 1, "alarm": 2}


class MonitoringCollector(Collector):
    """Yields the monitoring gauges from a cached copy of the newest snapshot."""

    def __init__(self, store: Store, ttl_s: float = 30.0) -> None:
        self.store = store
        self.ttl_s = ttl_s
        self._lock = threading.Lock()
        self._cached: dict[str, Any] | None = None
        self._read_at = float("-inf")

    def snapshot(self) -> dict[str, Any] | None:
        with self._lock:
            if time.monotonic() - self._read_at >= self.ttl_s:
                try:
                    self._cached = repo.latest_snapshot(self.store)
                except Exception as exc:  # a scrape must answer even if the store hiccups
                    log.warning("monitoring snapshot unavailable: %s", exc)
                self._read_at = time.monotonic()
            return self._cached

    def collect(self) -> Iterator[Metric]:
        snap = self.snapshot()
        psi = GaugeMetricFamily("pesaguard_drift_psi", "PSI against the training reference, latest monitoring "
                                "snapshot", labels=["column"])
        ks = GaugeMetricFamily("pesaguard_drift_ks", "KS statistic against the training reference, latest "
                               "monitoring snapshot", labels=["column"])
        rate = GaugeMetricFamily("pesaguard_alert_rate", "Share of decisions reviewed or blocked in the "
                                 "monitoring window")
        ref = GaugeMetricFamily("pesaguard_alert_rate_reference", "Alert rate the model had on its training "
                                "reference")
        level = GaugeMetricFamily("pesaguard_monitoring_level", "Monitoring level: 0 ok, 1 warn, 2 alarm")
        alarms = GaugeMetricFamily("pesaguard_monitoring_alarms", "Alarms in the latest snapshot", labels=["kind"])
        ap = GaugeMetricFamily("pesaguard_matured_average_precision", "Average precision on matured labels")
        ts = GaugeMetricFamily("pesaguard_monitoring_snapshot_timestamp_seconds", "When the snapshot was taken")
        if snap is not None:
            summary = snap["summary"]
            for row in summary.get("drift", []):
                if row.get("psi") is not None:
                    psi.add_metric([row["column"]], float(row["psi"]))
                if row.get("ks") is not None:
                    ks.add_metric([row["column"]], float(row["ks"]))
            if snap.get("alert_rate") is not None:
                rate.add_metric([], float(snap["alert_rate"]))
            if summary.get("reference_alert_rate") is not None:
                ref.add_metric([], float(summary["reference_alert_rate"]))
            level.add_metric([], LEVEL.get(str(snap["level"]), 0))
            counts: dict[str, int] = {}
            for a in summary.get("alarms", []):
                if a.get("level") == "alarm":
                    counts[a["kind"]] = counts.get(a["kind"], 0) + 1
            for kind in ("drift", "alert_rate", "performance"):
                alarms.add_metric([kind], counts.get(kind, 0))
            perf = summary.get("performance") or {}
            # a report stores the whole matured period's AP, a check only the latest matured window's
            value = perf.get("average_precision", (perf.get("recent") or {}).get("average_precision"))
            if value is not None:
                ap.add_metric([], float(value))
            ts.add_metric([], int(snap["created_ms"]) / 1000)
        yield from (psi, ks, rate, ref, level, alarms, ap, ts)


def install(registry: CollectorRegistry, store: Store, ttl_s: float = 30.0) -> MonitoringCollector:
    """Register the monitoring gauges on the service's registry; returns the collector."""
    collector = MonitoringCollector(store, ttl_s)
    registry.register(collector)
    return collector
