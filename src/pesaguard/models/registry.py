"""The model registry: MLflow tracking + registered models, with a local cache for serving.

Contract: every trained model becomes a run (parameters, metrics, feature-set version, training
range, model card) and a version of the registered model ``pesaguard-scoring``; the ``champion``
alias is what serving loads. Promotions are recorded in a registered-model tag
(``pesaguard.champion_history``) so ``rollback`` restores the previous champion. Bundles are
cached under ``settings.models_dir/<version>`` and ``champion.json`` points at the current one, so a
scorer can start without a reachable tracking server. MLflow is imported only here (it takes
seconds), and nothing in it may reach the network: telemetry is disabled before import.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from pesaguard.config import Settings, get_settings
from pesaguard.errors import ConfigError, ModelNotReadyError, NotFoundError
from pesaguard.models.bundle import BUNDLE_FILE, CARD_FILE, ModelBundle, load_bundle

if TYPE_CHECKING:
    from pesaguard.models.scorer import Scorer

log = logging.getLogger(__name__)

MODEL_NAME = "pesaguard-scoring"
EXPERIMENT = "pesaguard"
ALIAS = "champion"
HISTORY_TAG = "pesaguard.champion_history"
POINTER = "champion.json"


def _client(settings: Settings) -> Any:
    """An ``MlflowClient`` for the configured URI (local SQLite under the home by default)."""
    os.environ.setdefault("MLFLOW_DISABLE_TELEMETRY", "true")
    os.environ.setdefault("DO_NOT_TRACK", "true")
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    import mlflow
    from mlflow.tracking import MlflowClient

    if settings.mlflow_tracking_uri is None:
        settings.ensure_home()
    uri = settings.resolved_mlflow_uri
    mlflow.set_tracking_uri(uri)
    mlflow.set_registry_uri(uri)
    try:
        return MlflowClient(tracking_uri=uri, registry_uri=uri)
    except Exception as exc:  # a bad URI surfaces here
        raise ConfigError(f"cannot open the MLflow tracking store {uri}: {exc}",
                          setting="PESAGUARD_MLFLOW_TRACKING_URI",
                          hint="unset it for the local default, or give a reachable tracking URI") from exc


def _experiment_id(client: Any, settings: Settings) -> str:
    exp = client.get_experiment_by_name(EXPERIMENT)
    if exp is not None:
        return str(exp.experiment_id)
    location = None
    if settings.mlflow_tracking_uri is None:  # keep artifacts under the home, not the working directory
        location = (settings.home / "mlflow" / "artifacts").resolve().as_uri()
    return str(client.create_experiment(EXPERIMENT, artifact_location=location))


def _flat(prefix: str, d: dict[str, Any]) -> dict[str, float]:
    out: dict[str, float] = {}
    for k, v in d.items():
        if isinstance(v, bool):
            continue
        if isinstance(v, int | float) and v is not None:
            out[f"{prefix}{k}"] = float(v)
    return out


def register(bundle: ModelBundle, settings: Settings | None = None, promote: bool | None = None) -> str:
    """Log ``bundle`` as a run and a new registered version; returns the version.

    ``promote=None`` makes it champion only if there is none yet.
    """
    settings = settings or get_settings()
    client = _client(settings)
    import mlflow
    from mlflow.models import ModelSignature
    from mlflow.types import ColSpec, Schema

    from pesaguard.models import pyfunc

    exp_id = _experiment_id(client, settings)
    meta = bundle.meta
    with tempfile.TemporaryDirectory() as tmp, mlflow.start_run(experiment_id=exp_id) as run:
        bdir = bundle.save(Path(tmp) / "bundle")
        params = {"candidate": meta.get("candidate"), "model_kind": bundle.model.kind,
                  "feature_version": bundle.feature_version, "train_start": meta.get("train_start"),
                  "train_end": meta.get("train_end"), "labels_known_before": meta.get("labels_known_before"),
                  "n_features": len(bundle.feature_names), **{f"p_{k}": v for k, v in meta.get("params", {}).items()}}
        mlflow.log_params({k: v for k, v in params.items() if v is not None})
        mlflow.log_metrics(_flat("", meta.get("metrics", {})) | _flat("calibration_", meta.get("calibration", {})))
        mlflow.set_tags({"feature_version": bundle.feature_version, "pesaguard.kind": "scoring"})
        mlflow.log_artifact(str(bdir / CARD_FILE))
        signature = ModelSignature(inputs=Schema([ColSpec("double", n) for n in bundle.feature_names]),
                                   outputs=Schema([ColSpec("double", "score")]))
        info = mlflow.pyfunc.log_model(
            name="model", python_model=pyfunc.__file__, artifacts={"bundle": str(bdir)}, signature=signature,
            input_example=pd.DataFrame([[0.0] * len(bundle.feature_names)], columns=bundle.feature_names),
            pip_requirements=["pesaguard", "lightgbm", "scikit-learn", "pandas", "numpy"],
            registered_model_name=MODEL_NAME,
        )
        version = str(info.registered_model_version)
        client.set_model_version_tag(MODEL_NAME, version, "feature_version", bundle.feature_version)
        client.set_model_version_tag(MODEL_NAME, version, "run_id", run.info.run_id)
    bundle.version = version
    bundle.save(_cache(settings, version))
    _precompile(bundle, settings)
    if promote or (promote is None and _current(client) is None):
        set_champion(version, settings, client=client)
    return version


def _precompile(bundle: ModelBundle, settings: Settings) -> None:
    """Compile a LightGBM model's trees to native code into the forest cache now (seconds, once per
    model and machine), so that the first scorer of a registered or promoted model loads them in
    milliseconds; a failure is logged and scoring falls back to LightGBM's predict."""
    from pesaguard.models.compiled import forest_cache_dir
    from pesaguard.models.estimators import LightGBMModel

    if isinstance(bundle.model, LightGBMModel):
        bundle.model.use_compiled(forest_cache_dir(settings))


def _cache(settings: Settings, version: str) -> Path:
    return settings.models_dir / MODEL_NAME / f"v{version}"


def _current(client: Any) -> str | None:
    try:
        return str(client.get_model_version_by_alias(MODEL_NAME, ALIAS).version)
    except Exception:  # MLflow raises a generic RestException when the alias is unset
        return None


def _history(client: Any) -> list[str]:
    try:
        tags = client.get_registered_model(MODEL_NAME).tags
    except Exception as exc:
        raise NotFoundError("no model has been registered yet", hint="run `pesaguard train` first") from exc
    return list(json.loads(tags.get(HISTORY_TAG, "[]")))


def _fetch(client: Any, settings: Settings, version: str) -> Path:
    """The cached bundle directory of ``version``, downloading it from MLflow if needed."""
    target = _cache(settings, version)
    if (target / BUNDLE_FILE).exists():
        return target
    import mlflow.artifacts

    with tempfile.TemporaryDirectory() as tmp:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=f"models:/{MODEL_NAME}/{version}", dst_path=tmp))
        b = load_bundle(local / "artifacts" / "bundle")
        b.version = version
        b.save(target)
    return target


def set_champion(version: str, settings: Settings | None = None, client: Any = None,
                 record: bool = True) -> Path:
    """Point the ``champion`` alias at ``version`` (and the local pointer); returns its bundle dir."""
    settings = settings or get_settings()
    client = client or _client(settings)
    try:
        client.get_model_version(MODEL_NAME, version)
    except Exception as exc:
        raise NotFoundError(f"model version {version} does not exist", field="VERSION",
                            hint="see `pesaguard models list` for the registered versions") from exc
    directory = _fetch(client, settings, version)
    _precompile(load_bundle(directory), settings)  # a cache hit if this machine registered it
    history = _history(client)
    client.set_registered_model_alias(MODEL_NAME, ALIAS, version)
    if record:
        history.append(version)
        client.set_registered_model_tag(MODEL_NAME, HISTORY_TAG, json.dumps(history))
    pointer = settings.models_dir / POINTER
    pointer.parent.mkdir(parents=True, exist_ok=True)
    pointer.write_text(json.dumps({"model": MODEL_NAME, "version": version, "path": str(directory)}),
                       encoding="utf-8")
    return directory


def rollback(settings: Settings | None = None) -> str:
    """Restore the champion before the current one; returns the restored version."""
    settings = settings or get_settings()
    client = _client(settings)
    history = _history(client)
    if len(history) < 2:
        raise NotFoundError("there is no earlier champion to roll back to",
                            hint="promote a version with `pesaguard models promote VERSION`")
    history.pop()
    previous = history[-1]
    client.set_registered_model_tag(MODEL_NAME, HISTORY_TAG, json.dumps(history))
    set_champion(previous, settings, client=client, record=False)
    return previous


def list_versions(settings: Settings | None = None) -> list[dict[str, Any]]:
    """Registered versions, newest first, with their key metrics and whether they are champion."""
    settings = settings or get_settings()
    client = _client(settings)
    champion = _current(client)
    out = []
    for mv in client.search_model_versions(f"name='{MODEL_NAME}'"):
        run = client.get_run(mv.run_id) if mv.run_id else None
        m = run.data.metrics if run else {}
        p = run.data.params if run else {}
        out.append({
            "version": str(mv.version), "champion": str(mv.version) == champion,
            "created_ms": int(mv.creation_timestamp), "candidate": p.get("candidate"),
            "feature_version": mv.tags.get("feature_version"), "train_start": p.get("train_start"),
            "train_end": p.get("train_end"), "average_precision": m.get("average_precision"),
            "validation_average_precision": m.get("validation_average_precision"),
            "account_precision_at_100": m.get("account_precision_at_100"),
        })
    return sorted(out, key=lambda r: -int(r["version"]))


def champion_dir(settings: Settings | None = None) -> Path:
    """The cached bundle of the current champion; asks MLflow, falls back to the local pointer."""
    settings = settings or get_settings()
    try:
        client = _client(settings)
        version = _current(client)
        if version is not None:
            return _fetch(client, settings, version)
    except (ConfigError, OSError) as exc:
        log.warning("MLflow unavailable (%s); using the locally cached champion", exc)
    pointer = settings.models_dir / POINTER
    if pointer.exists():
        return Path(json.loads(pointer.read_text(encoding="utf-8"))["path"])
    raise ModelNotReadyError("no champion model is registered",
                             hint="run `pesaguard train` (the first model becomes champion) "
                                  "or `pesaguard models promote VERSION`")


def champion_scorer(settings: Settings | None = None, **kwargs: Any) -> Scorer:
    """A :class:`~pesaguard.models.scorer.Scorer` of the current champion (its compiled trees cached
    under ``settings.models_dir``); ``kwargs`` go to the scorer."""
    from pesaguard.models.compiled import forest_cache_dir
    from pesaguard.models.scorer import Scorer  # the feature engine (numba) loads only when scoring

    kwargs.setdefault("cache_dir", forest_cache_dir(settings))
    return Scorer.from_dir(champion_dir(settings), **kwargs)


def clear_cache(settings: Settings, version: str) -> None:
    """Remove one cached bundle (it is downloaded again when needed)."""
    shutil.rmtree(_cache(settings, version), ignore_errors=True)
