"""Hyperparameter search for LightGBM inside the prequential folds, with a time budget.

Contract: :func:`search_lightgbm` runs an Optuna study (TPE sampler, seeded) whose every trial fits
one LightGBM setting on each fold's training block and stops adding trees when average precision on
that fold's validation block has not improved for ``patience`` rounds; the trial's value is the mean
validation AP over the folds, and the number of trees it would use is the median of the folds' best
iterations. The fixed settings of the grid are the first trials, so the search never ends worse on
validation than the grid it replaces. Class weighting (none, sqrt(neg/pos), neg/pos) is searched like
any other parameter. A trial that is clearly worse than the median after its first fold is pruned.
The study stops after ``trials`` trials or ``seconds`` of wall-clock time, whichever comes first (a
started trial finishes); the choice and every trial are returned for the model card.

Fold data are given (features, labels known at the fold's own cutoff), so nothing here sees the test
period. Large training blocks keep all frauds and a fixed random share of genuine rows
(:func:`genuine_sample`), the same way the final fit will.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import lightgbm as lgb
import numpy as np

from pesaguard.models.estimators import Candidate, lgb_params, pos_weight

log = logging.getLogger(__name__)

#: The searched LightGBM candidate's name (``--candidates``).
TUNED = "lgbm_tuned"


@dataclass(frozen=True)
class SearchSettings:
    """How much search to spend. ``trials`` and ``seconds`` both bound it; ``seed`` makes it repeatable
    when the trial count, not the clock, ends it."""

    trials: int = 30
    seconds: float = 900.0
    max_rounds: int = 1000
    patience: int = 50
    seed: int = 7


@dataclass
class FoldData:
    """One prequential fold: training block and validation block, labels as known at its cutoff."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_valid: np.ndarray
    y_valid: np.ndarray


@dataclass
class SearchResult:
    """The best setting found and what the search did."""

    candidate: Candidate
    value: float
    trials: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    stopped_by: str = "trials"

    def summary(self) -> dict[str, Any]:
        return {"best_mean_validation_ap": self.value, "params": self.candidate.params,
                "imbalance": self.candidate.imbalance, "trials_run": len(self.trials),
                "seconds": round(self.seconds, 1), "stopped_by": self.stopped_by}


def _suggest(trial: Any) -> tuple[dict[str, Any], str]:
    params = {
        "objective": "binary",
        "num_leaves": trial.suggest_int("num_leaves", 7, 127, log=True),
        "min_child_samples": trial.suggest_int("min_child_samples", 10, 500, log=True),
        "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.2, log=True),
        "colsample_bytree": trial.suggest_float("colsample_bytree", 0.3, 1.0),
        "subsample": trial.suggest_float("subsample", 0.5, 1.0),
        "subsample_freq": 1,
        "reg_lambda": trial.suggest_float("reg_lambda", 1e-3, 30.0, log=True),
    }
    imbalance = trial.suggest_categorical("imbalance", ["none", "sqrt", "balanced"])
    return params, imbalance


def _fixed(c: Candidate) -> dict[str, Any]:
    """A fixed grid point as the values of the search space (to enqueue it as a trial)."""
    p = c.params
    return {"num_leaves": p.get("num_leaves", 31), "min_child_samples": p.get("min_child_samples", 20),
            "learning_rate": p.get("learning_rate", 0.05), "colsample_bytree": p.get("colsample_bytree", 1.0),
            "subsample": p.get("subsample", 1.0), "reg_lambda": max(p.get("reg_lambda", 1e-3), 1e-3),
            "imbalance": c.imbalance}


def fit_early_stopped(fold: FoldData, params: dict[str, Any], imbalance: str, max_rounds: int,
                      patience: int, seed: int = 7) -> tuple[float, int]:
    """(best validation AP, its number of trees) for one fold."""
    p = lgb_params(params, pos_weight(fold.y_train, imbalance), seed)
    p["metric"] = "average_precision"
    train = lgb.Dataset(fold.x_train, label=fold.y_train, free_raw_data=True)
    valid = lgb.Dataset(fold.x_valid, label=fold.y_valid, reference=train, free_raw_data=True)
    booster = lgb.train(p, train, num_boost_round=max_rounds, valid_sets=[valid],
                        callbacks=[lgb.early_stopping(patience, verbose=False)])
    best = int(booster.best_iteration or max_rounds)
    return float(booster.best_score["valid_0"]["average_precision"]), best


def search_lightgbm(folds: list[FoldData], start: list[Candidate], settings: SearchSettings,
                    say: Callable[[str], None] | None = None) -> SearchResult:
    """Search LightGBM settings on ``folds``; ``start`` are fixed settings tried first."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    sampler = optuna.samplers.TPESampler(seed=settings.seed, n_startup_trials=max(5, len(start)))
    pruner = optuna.pruners.MedianPruner(n_startup_trials=max(5, len(start)), n_warmup_steps=0)
    study = optuna.create_study(direction="maximize", sampler=sampler, pruner=pruner)
    for c in start:
        study.enqueue_trial(_fixed(c))
    t0 = time.perf_counter()

    def objective(trial: Any) -> float:
        params, imbalance = _suggest(trial)
        aps, rounds = [], []
        for k, fold in enumerate(folds):
            ap, best = fit_early_stopped(fold, params, imbalance, settings.max_rounds, settings.patience,
                                         settings.seed)
            aps.append(ap)
            rounds.append(best)
            trial.report(float(np.mean(aps)), k)
            if trial.should_prune():
                trial.set_user_attr("rounds", rounds)
                raise optuna.TrialPruned()
        trial.set_user_attr("rounds", rounds)
        trial.set_user_attr("fold_ap", aps)
        if say:
            say(f"search trial {trial.number + 1}: mean validation AP {np.mean(aps):.4f} "
                f"({time.perf_counter() - t0:.0f} s)")
        return float(np.mean(aps))

    study.optimize(objective, n_trials=settings.trials, timeout=settings.seconds, gc_after_trial=True,
                   catch=(lgb.basic.LightGBMError,))
    elapsed = time.perf_counter() - t0
    done = [t for t in study.trials if t.state == optuna.trial.TrialState.COMPLETE]
    if not done:
        raise RuntimeError("the model search completed no trial")
    best = study.best_trial
    params = {k: v for k, v in best.params.items() if k != "imbalance"}
    params.update({"objective": "binary", "subsample_freq": 1,
                   "n_estimators": int(np.median(best.user_attrs["rounds"]))})
    cand = Candidate(TUNED, "lightgbm", params, str(best.params["imbalance"]))
    ran = [t for t in study.trials if t.state.is_finished()]
    trials = [{"number": t.number, "state": t.state.name.lower(), "value": t.value,
               "params": t.params, "rounds": t.user_attrs.get("rounds"), "fold_ap": t.user_attrs.get("fold_ap")}
              for t in ran]
    stopped = "trials" if len(ran) >= settings.trials else "time"
    value = float(best.value) if best.value is not None and math.isfinite(best.value) else float("nan")
    return SearchResult(cand, value, trials, elapsed, stopped)
