"""Governed retraining against the MLflow registry: train a challenger, gate it, register, promote.

Composes public functions of the models area (``models.data``, ``models.train`` via
:mod:`pesaguard.monitoring.gate`, ``models.registry``); it adds no trainer of its own. What the
models area lacked, and this module supplies as thin composition: "train a challenger on a time
range with the labels known at a given time, register it *without* promoting, and measure it and
the champion on one holdout" (``gate.train_challenger`` + ``registry.register(promote=False)`` +
``gate.compare``).

Each challenger is registered (whether or not it passes) with the comparison in its model card
and its training reference (``reference.json``) logged next to it; a passing one becomes champion
through ``registry.set_champion``, so ``pesaguard models rollback`` undoes it like any promotion.
Every run is recorded in the store's ``retrain_runs``.
"""

from __future__ import annotations

import hashlib
import time
from pathlib import Path
from typing import Any

from pesaguard.config import Settings
from pesaguard.errors import NotFoundError
from pesaguard.features import FeatureConfig
from pesaguard.models.bundle import ModelBundle, load_bundle
from pesaguard.models.data import build_matrix, from_store
from pesaguard.models.labeltiming import label_timing
from pesaguard.models.train import Matrix, Progress
from pesaguard.monitoring import gate as gate_mod
from pesaguard.monitoring.config import GateConfig
from pesaguard.monitoring.drift_reference import (
    REFERENCE_FILE,
    Reference,
    build_reference,
    reference_from_store,
)
from pesaguard.schema import from_ms
from pesaguard.store import Store, core
from pesaguard.store import monitoring as repo


def reference_dir(settings: Settings, version: str) -> Path:
    """Where the monitoring reference of a registered model version lives."""
    return settings.home / "monitoring" / "references" / f"v{version}"


def champion(settings: Settings) -> ModelBundle:
    """The registry's current champion bundle."""
    from pesaguard.models.registry import champion_dir

    return load_bundle(champion_dir(settings))


def champion_reference(store: Store, settings: Settings, bundle: ModelBundle | None = None) -> Reference:
    """The champion's reference: the saved one, else recomputed from its training window (and saved)."""
    bundle = bundle or champion(settings)
    directory = reference_dir(settings, bundle.version)
    if (directory / REFERENCE_FILE).exists():
        return Reference.load(directory)
    start, end = _training_window(bundle)
    ref = reference_from_store(store, bundle, start, end)
    ref.save(directory)
    return ref


def _training_window(bundle: ModelBundle) -> tuple[int, int]:
    from datetime import datetime

    from pesaguard.schema import to_ms

    m = bundle.meta
    if "train_start_ms" in m and "train_end_ms" in m:
        return int(m["train_start_ms"]), int(m["train_end_ms"])
    try:
        return (to_ms(datetime.fromisoformat(str(m["train_start"]).replace("Z", "+00:00"))),
                to_ms(datetime.fromisoformat(str(m["train_end"]).replace("Z", "+00:00"))))
    except (KeyError, ValueError) as exc:
        raise NotFoundError(f"model {bundle.version} records no training window, so its reference cannot "
                            "be recomputed", hint="retrain it with `pesaguard retrain` or `pesaguard train`") from exc


def _matrix(store: Store, cfg: FeatureConfig, end_ms: int) -> Matrix:
    return build_matrix(from_store(store).until(end_ms), cfg)


def retrain(store: Store, settings: Settings, gate: GateConfig, as_of_ms: int | None = None,
            say: Progress | None = None) -> dict[str, Any]:
    """Train, gate, register and (if it passes and ``gate.promote``) promote a challenger.

    ``as_of_ms`` defaults to just after the newest stored transaction. Returns the run record.
    """
    from pesaguard.models import registry

    say = say or (lambda _m: None)
    if as_of_ms is None:
        latest = core.latest_transaction_ms(store)
        if latest is None:
            raise NotFoundError("the store holds no transactions to retrain on",
                                hint="ingest transactions and labels first")
        as_of_ms = int(latest) + 1
    periods = gate_mod.Periods.for_gate(as_of_ms, gate)
    champ = champion(settings)
    cfg = FeatureConfig()
    say(f"features: replaying history up to {from_ms(periods.holdout_end):%Y-%m-%d}")
    m = _matrix(store, cfg, periods.holdout_end)
    m_champ = m if champ.feature_version == cfg.version else _matrix(
        store, FeatureConfig(**champ.feature_config), periods.holdout_end)
    say("training the challenger on the latest matured labels")
    fitted = gate_mod.train_challenger(m, periods, gate, say)
    challenger = gate_mod.bundle_from_fit(fitted, cfg, periods, "challenger")
    result = gate_mod.compare(champ, challenger, m, periods, gate, core.load_accounts(store), m_champ)
    challenger.meta["metrics"] = {f"holdout_{k}": v for k, v in result.challenger.items()
                                  if isinstance(v, int | float) and not isinstance(v, bool)}
    challenger.meta["gate"] = {"passed": result.passed, "champion_version": champ.version}
    challenger.meta["card_extra"] = gate_mod.card_section(result)
    challenger.meta["label_timing"] = timing = label_timing(m.txns, m.labels, cfg)  # stated in the model card
    if timing["warning"]:
        say(f"WARNING: {timing['warning']}")
    rows = m.rows(periods.train_start, periods.holdout_start)
    # the score reference: the challenger's own out-of-sample scores on the holdout (in-sample scores
    # of a boosted model are sharper than anything it will see in service)
    ts = m.txns["ts_ms"].to_numpy()
    ref = build_reference(m.x[rows], m.feature_names, result.scores["challenger"],
                          challenger.thresholds.review,
                          meta={"start_ms": periods.train_start, "end_ms": periods.holdout_start,
                                "average_precision": result.challenger.get("average_precision")},
                          ts_ms=ts[rows], data_start_ms=int(ts.min()))  # features whose windows had filled
    say("registering the challenger")
    version = registry.register(challenger, settings, promote=False)
    ref.meta["model_version"] = version
    _log_reference(settings, version, ref)
    promoted = bool(result.passed and gate.promote)
    if promoted:
        registry.set_champion(version, settings)
    created = int(time.time() * 1000)
    run = {"run_id": hashlib.blake2b(f"{created}:{version}".encode(), digest_size=8).hexdigest(),
           "created_ms": created, "champion_version": champ.version, "challenger_version": version,
           "promoted": promoted, "comparison": {**result.to_dict(), "challenger": {**result.challenger,
                                                                                   "version": version}}}
    repo.insert_retrain_run(store, run)
    return run


def _log_reference(settings: Settings, version: str, ref: Reference) -> None:
    """Save the reference locally and log it with the version's MLflow run."""
    from mlflow import MlflowClient

    from pesaguard.models import registry

    path = ref.save(reference_dir(settings, version))
    uri = settings.resolved_mlflow_uri
    client = MlflowClient(tracking_uri=uri, registry_uri=uri)  # registry.register has set MLflow up
    run_id = client.get_model_version(registry.MODEL_NAME, version).tags.get("run_id")
    if run_id:
        client.log_artifact(run_id, str(path))


def promote_latest(store: Store, settings: Settings) -> dict[str, Any]:
    """Promote the challenger of the newest retrain run if it passed the gate and is not yet promoted."""
    from pesaguard.models import registry

    runs = repo.list_retrain_runs(store, limit=1)
    if not runs:
        raise NotFoundError("no retraining run is recorded", hint="run `pesaguard retrain` first")
    run = runs[0]
    if run["promoted"] or not run["comparison"].get("passed"):
        return {**run, "action": "none"}
    registry.set_champion(str(run["challenger_version"]), settings)
    repo.mark_promoted(store, run["run_id"])
    return {**run, "promoted": True, "action": "promoted"}
