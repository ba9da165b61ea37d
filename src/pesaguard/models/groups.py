"""Optional feature groups earn their place in the prequential folds.

Contract: :func:`choose_groups` takes a feature matrix computed with the configuration's groups plus
the optional groups to try (``lagged``, ``profile``: :data:`pesaguard.features.config.OPTIONAL_GROUPS`)
and returns the groups to use: the configuration's own, plus each optional group that raised the
mean validation AP of one fixed LightGBM setting by at least ``GAIN`` (relative) and on most folds.
Groups are tried one at a time, each added to what was kept before. The folds are the model choice's
own (wholly before the test period, labels known at their cutoff); with fewer than
``MIN_VALIDATION_FRAUDS`` validation frauds nothing optional is added, because AP on a handful of
frauds is noise. A column's value does not depend on which other groups are on, so the chosen
columns of the wider matrix are what the chosen configuration computes (tested).

Why by validation rather than a fixed default: the same group helps one kind of data and hurts
another. On the card-payment proxy the payee's lagged fraud rate raises validation AP on every
seed (``benchmarks/bench_handbook.py --ablation``); on the mobile-money simulator's month it costs
test AP (0.186 to 0.128, ``benchmarks/bench_models.py --compare-features lagged``), and there the
folds hold too few frauds to add anything, so the default groups stay.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from pesaguard.features import FeatureConfig
from pesaguard.features.config import OPTIONAL_GROUPS, feature_names
from pesaguard.models.estimators import Candidate, fit_candidate
from pesaguard.models.metrics import ranking_metrics
from pesaguard.models.protocol import Window

#: Relative gain in mean validation AP an optional group must bring to be kept.
GAIN = 0.005
#: The fixed setting that judges groups: the grid's lgbm_31 with 200 trees (a search per group would
#: cost the whole search's budget again).
JUDGE = Candidate("group_judge", "lightgbm", {
    "objective": "binary", "learning_rate": 0.05, "n_estimators": 200, "num_leaves": 31, "min_child_samples": 50,
    "subsample": 0.8, "subsample_freq": 1, "colsample_bytree": 0.8, "reg_lambda": 1.0})


def with_groups(cfg: FeatureConfig, groups: tuple[str, ...]) -> FeatureConfig:
    """``cfg`` computing ``groups`` (validated, in canonical order)."""
    return FeatureConfig(**{**cfg.model_dump(), "groups": groups})


def wider(cfg: FeatureConfig, optional: tuple[str, ...] = OPTIONAL_GROUPS) -> FeatureConfig:
    """``cfg`` with every group of ``optional`` added: the matrix :func:`choose_groups` selects from."""
    return with_groups(cfg, (*cfg.groups, *(g for g in optional if g not in cfg.groups)))


def columns_of(names: list[str], cfg: FeatureConfig) -> np.ndarray:
    """Indices in ``names`` of the columns ``cfg`` computes, in its order."""
    pos = {n: i for i, n in enumerate(names)}
    return np.asarray([pos[n] for n in feature_names(cfg)], dtype=np.intp)


def choose_groups(m: Any, cfg: FeatureConfig, window: Window, n_folds: int, cutoff: int | None,
                  optional: tuple[str, ...] = OPTIONAL_GROUPS,
                  say: Callable[[str], None] | None = None) -> tuple[FeatureConfig, dict[str, Any]]:
    """The configuration to use and what the choice rests on (for the model card).

    ``m`` is a :class:`pesaguard.models.train.Matrix` computed with :func:`wider` ``(cfg, optional)``.
    """
    from pesaguard.models.train import MIN_VALIDATION_FRAUDS, usable_folds

    tried = tuple(g for g in optional if g not in cfg.groups)
    if not tried:
        return cfg, {"groups": list(cfg.groups), "note": "no optional group left to try"}
    folds = usable_folds(m, window, n_folds, cutoff)
    frauds = int(sum(f.y_test.sum() for f in folds))
    if frauds < MIN_VALIDATION_FRAUDS:
        note = f"{frauds} validation frauds (< {MIN_VALIDATION_FRAUDS}): optional groups {list(tried)} left out"
        return cfg, {"groups": list(cfg.groups), "tried": list(tried), "note": note}

    def fold_aps(c: FeatureConfig) -> np.ndarray:
        cols = columns_of(m.feature_names, c)
        names = [m.feature_names[i] for i in cols]
        aps = []
        for f in folds:
            model = fit_candidate(m.x[np.ix_(f.train, cols)], f.y_train, names, JUDGE)
            aps.append(ranking_metrics(f.y_test, model.margin(m.x[np.ix_(np.flatnonzero(f.test), cols)]))
                       ["average_precision"] or 0.0)
        return np.asarray(aps)

    if say:
        say(f"feature groups: trying {', '.join(tried)} in {len(folds)} folds")
    chosen = cfg
    best = fold_aps(chosen)
    table = {"configured groups": _row(best)}
    for g in tried:
        trial = with_groups(chosen, (*chosen.groups, g))
        aps = fold_aps(trial)
        kept = aps.mean() >= (1 + GAIN) * best.mean() and int((aps > best).sum()) * 2 > len(folds)
        table[f"+ {g}"] = {**_row(aps), "kept": bool(kept)}
        if kept:
            chosen, best = trial, aps
    added = [g for g in chosen.groups if g not in cfg.groups]
    return chosen, {"groups": list(chosen.groups), "tried": list(tried), "added": added, "folds": len(folds),
                    "validation_frauds": frauds, "gain_needed": GAIN, "judge": JUDGE.params,
                    "mean_validation_ap": table}


def _row(aps: np.ndarray) -> dict[str, Any]:
    return {"mean": float(aps.mean()), "by_fold": [round(float(a), 4) for a in aps]}
