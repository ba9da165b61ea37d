"""Model search inside the prequential folds: starts from the grid, stops on its budget, records itself."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_synth import DAY_MS, T0, synth
from pesaguard.models.data import Dataset, build_matrix
from pesaguard.models.estimators import default_grid, pick
from pesaguard.models.protocol import Window
from pesaguard.models.search import TUNED, FoldData, SearchSettings, fit_early_stopped, search_lightgbm
from pesaguard.models.train import Matrix, genuine_sample, select_candidate, usable_folds

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")
WINDOW = Window(T0 + 9 * DAY_MS, T0 + 16 * DAY_MS, T0 + 19 * DAY_MS, T0 + 26 * DAY_MS)
QUICK = SearchSettings(trials=3, seconds=120, max_rounds=60, patience=10)


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    tx, lab = synth(seed=3)
    return build_matrix(Dataset(tx, lab))


def folds_of(m: Matrix) -> list[FoldData]:
    return [FoldData(m.x[f.train], f.y_train, m.x[f.test], f.y_test)
            for f in usable_folds(m, WINDOW, 2, WINDOW.test_start)]


def test_search_starts_from_the_fixed_grid_and_records_every_trial(matrix: Matrix) -> None:
    start = [c for c in default_grid() if c.kind == "lightgbm"]
    result = search_lightgbm(folds_of(matrix), start, QUICK)
    assert len(result.trials) == 3
    first = result.trials[0]["params"]
    assert (first["num_leaves"], first["min_child_samples"], first["imbalance"]) == (31, 50, "none")
    assert result.trials[1]["params"]["imbalance"] == "sqrt"  # lgbm_31_sqrt, the grid's second setting
    done = [t for t in result.trials if t["state"] == "complete"]
    best = max(done, key=lambda t: t["value"])
    assert result.value == best["value"]
    assert result.candidate.name == TUNED and result.candidate.kind == "lightgbm"
    assert result.candidate.params["n_estimators"] == int(np.median(best["rounds"]))
    assert 1 <= result.candidate.params["n_estimators"] <= QUICK.max_rounds


def test_search_stops_when_its_time_is_up(matrix: Matrix) -> None:
    start = [c for c in default_grid() if c.kind == "lightgbm"][:1]
    result = search_lightgbm(folds_of(matrix), start, SearchSettings(trials=10_000, seconds=1.0, max_rounds=40))
    assert result.stopped_by == "time" and 1 <= len(result.trials) < 10_000


def test_early_stopping_keeps_the_best_round(matrix: Matrix) -> None:
    fold = folds_of(matrix)[0]
    ap, rounds = fit_early_stopped(fold, {"objective": "binary", "num_leaves": 7, "learning_rate": 0.3}, "none",
                                   max_rounds=200, patience=5)
    assert 0 < ap <= 1 and 1 <= rounds < 200  # a fast learner on a small set stops well before 200


def test_select_candidate_with_the_search_records_it(matrix: Matrix) -> None:
    chosen, rows = select_candidate(matrix, WINDOW, pick("lgbm_tuned,logreg"), n_folds=2, search=QUICK)
    search = next(r for r in rows if "search" in r)
    assert search["search"]["trials_run"] == 3 and len(search["trials"]) == 3
    table = pd.DataFrame([r for r in rows if "fold" in r])
    assert set(table["candidate"]) == {TUNED, "logreg"}  # the fixed LightGBM settings were trials, not rivals
    assert chosen.name in (TUNED, "logreg")


def test_genuine_rows_are_thinned_by_id_and_frauds_all_kept() -> None:
    y = np.r_[np.zeros(10_000, int), np.ones(50, int)]
    ids = pd.Series([f"t{i}" for i in range(len(y))])
    keep = genuine_sample(y, ids, limit=2_000)
    assert keep[y == 1].all()
    assert 1_800 < keep[y == 0].sum() < 2_200
    shuffled = np.random.default_rng(0).permutation(len(y))
    again = genuine_sample(y[shuffled], ids[shuffled], limit=2_000)
    assert (again == keep[shuffled]).all()  # the same rows, whatever their order
    assert genuine_sample(y, ids, limit=20_000).all()


def test_folds_thin_genuine_training_rows_to_the_limit_given(matrix: Matrix) -> None:
    full = usable_folds(matrix, WINDOW, 2, WINDOW.test_start)
    thin = usable_folds(matrix, WINDOW, 2, WINDOW.test_start, genuine_rows=300)
    assert [f.index for f in thin] == [f.index for f in full]
    for a, b in zip(full, thin, strict=True):
        assert b.y_train.sum() == a.y_train.sum()  # every known fraud stays
        assert (b.y_train == 0).sum() < min(400, (a.y_train == 0).sum())
        assert set(b.train) <= set(a.train) and (b.test == a.test).all()  # validation blocks untouched
