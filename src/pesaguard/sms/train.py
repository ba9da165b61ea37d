"""Train, save and load the SMS text model, with a JSON model card (data hashes, protocol, metrics).

A trained model ships in the package (``pesaguard/sms/shipped``): ``pesaguard sms check`` works
right after ``pip install``. ``pesaguard sms train`` rebuilds it from what the package holds (the two
public corpora in ``pesaguard/sms/corpora`` and the generated messages, family ``a``, seed 0) and
writes it to ``settings.models_dir / "sms"``, which :func:`load_text_model` prefers to the shipped
copy. The card records the sha256 of every input, so a retrained model can be compared with the
shipped one. A simulator run (``--sim``) can be added; the shipped model does not use one, so it
depends on nothing outside the package.
"""

from __future__ import annotations

import hashlib
import json
import logging
import platform
import time
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import sklearn

from pesaguard.config import Settings
from pesaguard.errors import ModelNotReadyError
from pesaguard.sms.cues import CUES
from pesaguard.sms.data import CATEGORY_INDEX, assign_groups, dedupe, load_corpus
from pesaguard.sms.metrics import category_metrics
from pesaguard.sms.model import DEFAULT_C, MODEL_FORMAT, TextModel, fit_text_model

log = logging.getLogger(__name__)

MODEL_FILE = "model.npz"
CARD_FILE = "model_card.json"
SIM_CAP = 2500  # simulated messages kept when a run is added, so its templates do not swamp real texts


def model_dir(settings: Settings) -> Path:
    return settings.models_dir / "sms"


def shipped_dir() -> Path:
    """The folder of the model shipped in the package."""
    return Path(str(resources.files("pesaguard.sms").joinpath("shipped")))


def corpus_sha256(df: pd.DataFrame) -> str:
    """A digest of the texts and categories trained on, in order."""
    h = hashlib.sha256()
    for text, cat, src in zip(df["text"], df["category"], df["source"], strict=True):
        h.update(f"{src}\x1f{cat}\x1f{text}\x1e".encode())
    return h.hexdigest()


def training_corpus(data_dir: Path | None = None, sim: Path | None = None, seed: int = 0) -> tuple[pd.DataFrame,
                                                                                                    dict[str, str]]:
    """The de-duplicated training corpus and the sha256 of each input (``training_corpus``: of the texts used)."""
    raw, hashes = load_corpus(data_dir, sim, seed=seed)
    if sim is not None:
        is_sim = raw["source"] == "sim"
        kept = raw[is_sim].sample(n=min(SIM_CAP * 2, int(is_sim.sum())), random_state=seed)
        raw = pd.concat([raw[~is_sim], kept]).sort_index()
    df = dedupe(raw)
    if sim is not None:
        is_sim = df["source"] == "sim"
        df = pd.concat([df[~is_sim], df[is_sim].head(SIM_CAP)]).reset_index(drop=True)
    hashes["training_corpus"] = corpus_sha256(df)
    return df, hashes


def training_frame(data_dir: Path | None = None, sim: Path | None = None, seed: int = 0) -> tuple[pd.DataFrame,
                                                                                                   dict[str, str]]:
    """:func:`training_corpus` with template groups (column ``tgroup``) and the category index ``y``."""
    df, hashes = training_corpus(data_dir, sim, seed)
    df["tgroup"] = assign_groups(df)
    df["y"] = df["category"].map(CATEGORY_INDEX).astype(int)
    return df, hashes


def train_model(data_dir: Path | None = None, sim: Path | None = None, *, folds: int = 5, seed: int = 0,
                c: float = DEFAULT_C, step: Callable[[str], None] | None = None) -> TextModel:
    """Fit the text model on the training corpus (see :func:`training_frame`) and fill its card."""
    started = time.time()
    say = step or (lambda _msg: None)
    say("reading, generating and de-duplicating")
    df, hashes = training_frame(data_dir, sim, seed)
    say("counting n-grams, calibrating on template-disjoint folds, fitting")
    y = df["y"].to_numpy()
    trained = fit_text_model(list(df["norm"]), y, df["tgroup"].to_numpy(), df["source"].to_numpy(), c=c, k=folds,
                             seed=seed)
    model, oof = trained.model, trained.oof
    metrics: dict[str, Any] = {"all": category_metrics(y, oof, model.scam_threshold)}
    for source, part in df.groupby("source"):
        idx = part.index.to_numpy()
        metrics[str(source)] = category_metrics(y[idx], oof[idx], model.scam_threshold)
    key = [hashes, folds, seed, c, MODEL_FORMAT, [cue.source for cue in CUES], trained.cue_weight]  # the cues are features
    model.version = "sms-" + hashlib.blake2b(json.dumps(key, sort_keys=True).encode(), digest_size=6).hexdigest()
    model.card = {
        "model": ("char_wb 2-5 + word 1-2 TF-IDF and one feature per cue -> two linear SVM heads (scam; "
                  "promotion | not scam), Platt-calibrated"),
        "version": model.version,
        "format": MODEL_FORMAT,
        "trained_at": pd.Timestamp.now(tz="UTC").isoformat(),
        "train_seconds": round(time.time() - started, 1),
        "data": {"sha256": hashes, "rows_used": len(df), "features": [len(v) for v in model.vocabularies],
                 "per_source": {str(k): {c: int((v == c).sum()) for c in ("genuine", "promotion", "scam")}
                                for k, v in df.groupby("source")["category"]}},
        "params": {"C": c, "folds": folds, "seed": seed, "augmentation": "each genuine text also with a phone or link",
                   "cue_weight": {"scam": trained.cue_weight[0], "promotion": trained.cue_weight[1]},
                   "scam_threshold": model.scam_threshold, "suspicious_threshold": model.suspicious_threshold},
        "protocol": "template-disjoint StratifiedGroupKFold out-of-fold probabilities (char 5-gram cosine > 0.8 "
                    "components and generator templates), after de-duplication of normalised texts; in-source: "
                    "benchmarks/bench_sms.py reports the leave-one-source-out figures",
        "metrics_oof": metrics,
        "versions": {"python": platform.python_version(), "sklearn": sklearn.__version__, "numpy": np.__version__},
    }
    return model


def save_model(model: TextModel, directory: Path) -> Path:
    """Write ``model.npz`` and ``model_card.json`` into ``directory``."""
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / MODEL_FILE
    model.save(path)
    (directory / CARD_FILE).write_text(json.dumps(model.card, indent=2, sort_keys=True, default=str) + "\n",
                                       encoding="utf-8")
    _CACHE.clear()
    return path


_CACHE: dict[tuple[str, float], TextModel] = {}


def model_path(settings: Settings) -> Path:
    """The model a check uses: one trained into HOME, else the one shipped in the package."""
    trained = model_dir(settings) / MODEL_FILE
    return trained if trained.is_file() else shipped_dir() / MODEL_FILE


def load_text_model(settings: Settings) -> TextModel:
    """The model of :func:`model_path` (cached per file and modification time)."""
    path = model_path(settings)
    if not path.is_file():
        raise ModelNotReadyError(f"no SMS model at {path}", file=path,
                                 hint="reinstall pesaguard (the package ships one) or run `pesaguard sms train`")
    key = (str(path.resolve()), path.stat().st_mtime)
    model = _CACHE.get(key)
    if model is None:
        card_file = path.with_name(CARD_FILE)
        try:
            card = json.loads(card_file.read_text(encoding="utf-8")) if card_file.is_file() else {}
            model = TextModel.load(path, card)
        except (ValueError, OSError, KeyError) as exc:  # another format, a truncated file
            raise ModelNotReadyError(f"cannot load the SMS model at {path}: {exc}", file=path,
                                     hint="retrain it with `pesaguard sms train`, or delete it to use the shipped "
                                          "model") from exc
        _CACHE.clear()
        _CACHE[key] = model
    return model
