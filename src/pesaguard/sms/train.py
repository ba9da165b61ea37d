"""Train, save and load the SMS text model, with a JSON model card (data hashes, protocol, metrics).

The model lives in ``settings.models_dir / "sms"``: ``model.joblib`` (sklearn objects) and
``model_card.json``. No model is shipped inside the package (a pickle is tied to one scikit-learn
version), and none is trained on first use: training takes about half a minute on two cores (the
simulator run, de-duplication, five template-disjoint folds for each candidate recipe and the final
fit), more than the ~20 s a first request or command could hide, so :func:`load_text_model` raises
:class:`ModelNotReadyError` naming ``pesaguard sms train`` instead.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import pandas as pd
import sklearn

from pesaguard.config import Settings
from pesaguard.errors import ModelNotReadyError
from pesaguard.sms.data import dedupe, load_corpus, template_groups
from pesaguard.sms.metrics import scam_metrics
from pesaguard.sms.model import MODEL_FORMAT, RECIPES, TextModel, fit_text_model

log = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
CARD_FILE = "model_card.json"


def model_dir(settings: Settings) -> Path:
    return settings.models_dir / "sms"


#: The simulated SMS run added when no ``--sim`` is given: a small world with a busy scam stream
#: (about 1.5 s). Its genuine messages are mostly operator notifications, which the public corpora lack.
SIM_RUN = {"accounts": 1000, "days": 20, "seed": 7, "spam_rate": 0.6, "panel_share": 0.3}
SIM_CAPS = {0: 1500, 1: 1000}  # simulated messages kept per class, so templates do not swamp real texts


def simulate_sms(out_dir: Path) -> Path:
    """Run the simulator (:data:`SIM_RUN`) into ``out_dir``; returns its ``sms.parquet``."""
    from pesaguard.simulate import SimConfig, SmsConfig, simulate

    run = SIM_RUN
    cfg = SimConfig(accounts=run["accounts"], days=run["days"], seed=run["seed"],
                    sms=SmsConfig(spam_rate=run["spam_rate"], panel_share=run["panel_share"]))
    simulate(cfg, out_dir)
    return out_dir / "sms.parquet"


def _cap_simulated(df: pd.DataFrame, seed: int, factor: float = 1.0) -> pd.DataFrame:
    """At most ``factor * SIM_CAPS[label]`` simulated messages per class, sampled at random."""
    sim = df["source"] == "sim"
    keep = [df[~sim]]
    for label, cap in SIM_CAPS.items():
        part = df[sim & (df["label"] == label)]
        keep.append(part.sample(n=min(int(cap * factor), len(part)), random_state=seed))
    return pd.concat(keep).sort_index().reset_index(drop=True)


def train_model(data_dir: Path, sim: Path | None = None, *, simulate: bool = True, folds: int = 5, seed: int = 0,
                step: Callable[[str], None] | None = None) -> TextModel:
    """Fit the text model on the shared corpora plus simulated SMS and fill its card.

    ``sim`` is a simulator run (its ``sms.parquet`` or ``--out`` folder); without one and with
    ``simulate`` the simulator is run here (:data:`SIM_RUN`, deterministic).
    """
    started = time.time()
    say = step or (lambda _msg: None)
    say("reading and de-duplicating")
    with tempfile.TemporaryDirectory(prefix="pesaguard-sms-") as tmp:
        sim_info: dict[str, Any] | None = {"path": str(sim)} if sim is not None else None
        if sim is None and simulate:
            sim = simulate_sms(Path(tmp))
            sim_info = {"generated": SIM_RUN}
        raw, hashes = load_corpus(Path(data_dir), sim)
    # Sample before de-duplicating (normalising 10k simulated texts costs seconds), then cap exactly.
    df = _cap_simulated(dedupe(_cap_simulated(raw, seed, factor=1.5)), seed)
    say("clustering templates")
    groups = np.zeros(len(df), dtype=np.int64)
    offset = 0
    for source in sorted(df["source"].unique()):  # clusters never span sources
        idx = np.flatnonzero(df["source"].to_numpy() == source)
        g = template_groups(list(df["norm"].iloc[idx]))
        groups[idx] = g + offset
        offset += int(g.max()) + 1
    say("choosing the recipe, fitting and calibrating")
    y = df["label"].to_numpy()
    model, fitted = fit_text_model(list(df["norm"]), y, groups, k=folds, seed=seed)
    oof = fitted.oof
    metrics: dict[str, Any] = {"all": scam_metrics(y, oof, model.scam_threshold)}
    for source, part in df.groupby("source"):
        idx = part.index.to_numpy()
        metrics[str(source)] = scam_metrics(y[idx], oof[idx], model.scam_threshold)
    recipe_key = [hashes, [r.label for r in RECIPES], folds, seed, MODEL_FORMAT, SIM_CAPS]
    version = hashlib.blake2b(json.dumps(recipe_key, sort_keys=True).encode(), digest_size=6).hexdigest()
    model.version = f"sms-{version}"
    model.card = {
        "model": "char_wb 2-5 + word 1-2 TF-IDF -> linear SVM, Platt-calibrated",
        "version": model.version,
        "format": MODEL_FORMAT,
        "trained_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "train_seconds": round(time.time() - started, 1),
        "data": {"files_sha256": hashes, "simulated": sim_info, "rows_read": len(raw), "rows_used": len(df),
                 "per_source": {str(k): {"genuine": int((v == 0).sum()), "scam": int((v == 1).sum())}
                                for k, v in df.groupby("source")["label"]}},
        "params": {"C": fitted.recipe.c, "augmentation": fitted.recipe.augmentation, "folds": folds, "seed": seed,
                   "recipe_selection": {"rule": "highest template-disjoint out-of-fold F1 (all corpora)",
                                        "out_of_fold": fitted.scores},
                   "sim_caps": SIM_CAPS,
                   "scam_threshold": model.scam_threshold, "suspicious_threshold": model.suspicious_threshold},
        "protocol": "template-disjoint StratifiedGroupKFold out-of-fold scores (char 5-gram cosine > 0.8 "
                    "components), after de-duplication of normalised texts; the metrics are the chosen recipe's "
                    "on the folds that chose it (benchmarks/bench_sms.py reports the nested figures)",
        "metrics_oof": metrics,
        "versions": {"python": platform.python_version(), "sklearn": sklearn.__version__},
    }
    return model


def save_model(model: TextModel, directory: Path) -> Path:
    """Write ``model.joblib`` and ``model_card.json`` atomically into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    tmp = directory / (MODEL_FILE + ".tmp")
    joblib.dump(model, tmp, compress=3)
    tmp.replace(directory / MODEL_FILE)
    (directory / CARD_FILE).write_text(json.dumps(model.card, indent=2, sort_keys=True, default=str) + "\n",
                                       encoding="utf-8")
    _CACHE.clear()
    return directory / MODEL_FILE


_CACHE: dict[tuple[str, float], TextModel] = {}


def load_text_model(settings: Settings) -> TextModel:
    """The trained model (cached per file and modification time)."""
    path = model_dir(settings) / MODEL_FILE
    if not path.is_file():
        raise ModelNotReadyError(f"no SMS model at {path}", file=path,
                                 hint="run `pesaguard sms train` first (about half a minute)")
    key = (str(path.resolve()), path.stat().st_mtime)
    model = _CACHE.get(key)
    if model is None:
        try:
            model = joblib.load(path)
        except Exception as exc:  # a pickle from another sklearn version, a truncated file
            raise ModelNotReadyError(f"cannot load the SMS model at {path}: {exc}", file=path,
                                     hint="retrain it with `pesaguard sms train`") from exc
        if not isinstance(model, TextModel) or model.format != MODEL_FORMAT:
            raise ModelNotReadyError(f"the SMS model at {path} is from an incompatible version", file=path,
                                     hint="retrain it with `pesaguard sms train`")
        _CACHE.clear()
        _CACHE[key] = model
    return model
