"""Shadow mode: score every decided transaction with a second model too, without touching the decision.

Contract: :meth:`ShadowRecorder.observe` is called by the decision path once per *newly* decided
transaction (never for an idempotent replay, which returns the stored decision before scoring), with
the transaction and the champion's decision row. It scores the transaction with the shadow model's
own scorer and feature state, queues ``(txn_id, decision_id, model_version, score, created_ms)`` and
returns; a background thread writes the queue to ``shadow_scores`` in batches. It never raises and
never changes the row it is given: a failing shadow model costs its own log line, not a decision.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from typing import Any

from pesaguard.config import Settings
from pesaguard.store import Store
from pesaguard.store import monitoring as repo

log = logging.getLogger("pesaguard.monitoring.shadow")

_STOP = object()


class ShadowRecorder:
    """A shadow scorer plus a batching writer for its scores."""

    def __init__(self, store: Store, scorer: Any, max_batch: int = 512) -> None:
        self.store = store
        self.scorer = scorer
        self.model_version = str(getattr(scorer, "model_version", "shadow"))
        self.max_batch = max_batch
        self.failures = 0
        self._queue: queue.SimpleQueue[Any] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name="pesaguard-shadow", daemon=True)
        self._thread.start()

    def observe(self, txn: dict[str, Any], decision: dict[str, Any]) -> None:
        """Score ``txn`` with the shadow model and queue the score (never raises)."""
        try:
            score = float(self.scorer.score(dict(txn)).score)
            self._queue.put((decision["txn_id"], decision["decision_id"], self.model_version, score,
                             int(time.time() * 1000)))
        except Exception:  # the shadow must never break or slow down the decision beyond its own cost
            self.failures += 1
            log.exception("shadow model %s failed on %s", self.model_version, decision.get("txn_id"))

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        """Forward a label to the shadow model's feature state (as the service does for the champion)."""
        try:
            self.scorer.add_label(txn_id, is_fraud, known_at_ms)
        except Exception:
            log.exception("shadow model %s could not take a label", self.model_version)

    def flush(self, timeout: float = 10.0) -> None:
        """Wait until everything queued so far is written."""
        done = threading.Event()
        self._queue.put(done)
        done.wait(timeout)

    def close(self) -> None:
        self._queue.put(_STOP)
        self._thread.join(timeout=30)

    def _run(self) -> None:
        while True:
            item = self._queue.get()
            batch, waiters, stop = [], [], False
            while True:
                if item is _STOP:
                    stop = True
                elif isinstance(item, threading.Event):
                    waiters.append(item)
                else:
                    batch.append(item)
                if stop or len(batch) >= self.max_batch:
                    break
                try:
                    item = self._queue.get_nowait()
                except queue.Empty:
                    break
            if batch:
                try:
                    repo.insert_shadow_scores(self.store, batch)
                except Exception:
                    self.failures += len(batch)
                    log.exception("could not store %d shadow scores", len(batch))
            for w in waiters:
                w.set()
            if stop:
                return


def resolve_version(name: str, settings: Settings) -> str:
    """A registered version number, or for ``challenger`` the newest registered non-champion version."""
    if name != "challenger":
        return name
    from pesaguard.errors import NotFoundError
    from pesaguard.models.registry import list_versions

    others = [v for v in list_versions(settings) if not v["champion"]]
    if not others:
        raise NotFoundError("no challenger is registered to run in shadow mode", setting="PESAGUARD_SHADOW_MODEL",
                            hint="run `pesaguard retrain --no-promote`, or unset PESAGUARD_SHADOW_MODEL")
    return str(others[0]["version"])


def load_shadow(store: Store, settings: Settings, name: str | None) -> ShadowRecorder | None:
    """The shadow recorder for the configured model (``None`` when shadow mode is off)."""
    if not name:
        return None
    from pesaguard.decisions.loader import warm_up
    from pesaguard.models import registry
    from pesaguard.models.scorer import Scorer

    # models.registry has no public "bundle directory of version V" yet; _fetch is that function
    version = resolve_version(name, settings)
    scorer = Scorer.from_dir(registry._fetch(registry._client(settings), settings, version))
    warm_up(scorer, store)
    return ShadowRecorder(store, scorer)


def summarise_shadow(store: Store, model_version: str | None = None) -> list[dict[str, Any]]:
    """Per shadow model: scores logged, mean absolute difference to the champion, and alert overlap:
    of the champion's alerts, the share the shadow also ranks in its own top (at the same alert rate)."""
    df = repo.load_shadow_scores(store, model_version)
    if df.empty:
        return []
    out = []
    for version, g in df.groupby("model_version", sort=True):
        diff = (g["score"] - g["champion_score"]).abs()
        alerts = g["action"].isin(("review", "block")).to_numpy()
        cut = g["score"].quantile(1 - alerts.mean()) if alerts.any() else float("inf")
        overlap = float((alerts & (g["score"] >= cut).to_numpy()).sum() / alerts.sum()) if alerts.any() else None
        out.append({"model_version": str(version), "scored": len(g), "mean_abs_diff": float(diff.mean()),
                    "champion_alerts": int(alerts.sum()), "alert_overlap": overlap})
    return out
