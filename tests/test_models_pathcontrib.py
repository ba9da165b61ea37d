"""Path attribution (Saabas) for online reason codes: exact additivity and LightGBM's split rule."""

from __future__ import annotations

import lightgbm as lgb
import numpy as np

from pesaguard.models.pathcontrib import compile_paths


def _booster(seed: int = 0) -> tuple[lgb.Booster, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(2000, 6))
    x[rng.random(x.shape) < 0.15] = np.nan  # missing values: NaN-aware splits
    x[:, 5] = np.where(rng.random(2000) < 0.3, 0.0, x[:, 5])  # many exact zeros
    y = ((np.nan_to_num(x[:, 0]) + np.nan_to_num(x[:, 1]) * np.isnan(x[:, 2]) + rng.normal(size=2000) * 0.3) > 0.5)
    params = {"objective": "binary", "num_leaves": 15, "verbose": -1, "min_data_in_leaf": 5}
    booster = lgb.train(params, lgb.Dataset(x, y.astype(float)), num_boost_round=40)
    return booster, x


def test_path_contributions_add_up_to_the_margin() -> None:
    booster, x = _booster()
    paths = compile_paths(booster)
    assert paths is not None
    margin = booster.predict(x[:300], raw_score=True)
    for row, m in zip(x[:300], margin, strict=True):
        c = paths.contributions(np.ascontiguousarray(row))
        assert c.shape == (x.shape[1] + 1,)
        np.testing.assert_allclose(c.sum(), m, rtol=0, atol=1e-9)  # same leaves as LightGBM


def test_path_contributions_mostly_agree_with_treeshap_on_the_top_feature() -> None:
    booster, x = _booster(1)
    paths = compile_paths(booster)
    assert paths is not None
    shap = booster.predict(x[:300], pred_contrib=True)
    top = [int(np.argmax(paths.contributions(np.ascontiguousarray(r))[:-1])) for r in x[:300]]
    agree = np.array(top) == np.asarray(shap)[:, :-1].argmax(axis=1)
    assert float(agree.mean()) > 0.6
