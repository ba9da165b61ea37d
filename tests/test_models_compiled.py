"""Compiled tree prediction: equal to LightGBM's, cached once per model, safe to share, and a
fallback to LightGBM's predict whenever it cannot be used."""

from __future__ import annotations

import logging
import subprocess
import sys
import textwrap
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
import pytest

from models_synth import DAY_MS, T0, synth
from pesaguard.features import FeatureConfig
from pesaguard.models import compiled
from pesaguard.models.bundle import ModelBundle, load_bundle
from pesaguard.models.compiled import compile_forest, probe_rows
from pesaguard.models.data import Dataset, Matrix, build_matrix
from pesaguard.models.estimators import LightGBMModel, pick
from pesaguard.models.pipeline import make_bundle
from pesaguard.models.protocol import Window
from pesaguard.models.scorer import Scorer
from pesaguard.models.train import fit_final

WINDOW = Window(T0 + 5 * DAY_MS, T0 + 15 * DAY_MS, T0 + 15 * DAY_MS, T0 + 16 * DAY_MS)
TOL = {"rtol": 1e-12, "atol": 1e-12}


@pytest.fixture(autouse=True)
def _forget_compiled_forests() -> None:
    """Each test sees the disk cache only, not forests an earlier test left in this process."""
    compiled._RECENT.clear()


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    tx, lab = synth(accounts=200, seed=5, days=16)
    return build_matrix(Dataset(tx, lab))


@pytest.fixture(scope="module")
def bundle(matrix: Matrix) -> ModelBundle:
    return make_bundle(fit_final(matrix, WINDOW, pick("lgbm_15_shallow")[0], labels_cutoff=None), FeatureConfig())


def _fresh(b: ModelBundle, tmp_path: Path) -> ModelBundle:
    """The same model as a new object, not compiled (a Scorer compiles the bundle's model)."""
    return load_bundle(b.save(tmp_path / "fresh"))


def _booster(b: ModelBundle) -> lgb.Booster:
    assert isinstance(b.model, LightGBMModel)
    return b.model.booster


def test_compiled_margins_equal_lightgbm_on_the_real_feature_matrix(bundle: ModelBundle, matrix: Matrix,
                                                                    tmp_path: Path) -> None:
    x = matrix.x
    assert np.isnan(x).any(axis=0).sum() > 5  # missing features are part of what is checked
    assert np.isnan(x).all(axis=0).any()  # and whole columns absent (no SMS or device data here)
    booster = _booster(bundle)
    forest = compile_forest(booster, tmp_path)
    assert forest is not None
    want = booster.predict(x, raw_score=True)
    np.testing.assert_allclose(forest.margin(x), want, **TOL)
    np.testing.assert_allclose(forest.margin(np.vstack([x] * 4), threads=2), np.tile(want, 4), **TOL)
    np.testing.assert_allclose([forest.margin_row(r) for r in x[:200]], want[:200], **TOL)
    with pytest.raises(ValueError, match="feature columns"):
        forest.margin(x[:, 1:])


def test_scorer_probabilities_are_the_same_compiled_or_not(bundle: ModelBundle, tmp_path: Path) -> None:
    """Same calibrator on the same raw margins: batch and online probabilities are unchanged."""
    tx, _ = synth(accounts=60, days=3, seed=9, minimal=True)
    plain = _fresh(bundle, tmp_path)
    fast = Scorer(bundle, cache_dir=tmp_path)
    slow = Scorer(plain, compiled=False)
    assert fast._forest is not None and slow._forest is None
    np.testing.assert_allclose(fast.score_frame(tx), slow.score_frame(tx), **TOL)
    row = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in tx.iloc[0].items()}
    assert fast.peek(row).score == pytest.approx(slow.peek(row).score, rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("params", [
    {"zero_as_missing": True},  # missing_type Zero
    {"use_missing": False},  # missing_type None: NaN is read as zero
    {"max_cat_to_onehot": 4},  # categorical splits, one-vs-rest and bitset
])
def test_missing_value_rules_and_categorical_splits_match_lightgbm(params: dict[str, object], tmp_path: Path) -> None:
    rng = np.random.default_rng(3)
    n = 4000
    x = np.column_stack([rng.normal(size=n), rng.integers(0, 12, n).astype(float), rng.exponential(size=n),
                         np.where(rng.random(n) < 0.3, 0.0, rng.normal(size=n))])
    x[rng.random(x.shape) < 0.15] = np.nan
    y = ((np.nan_to_num(x[:, 0]) + (np.nan_to_num(x[:, 1]) % 3 == 1) + rng.normal(0, 0.5, n)) > 1).astype(int)
    booster = lgb.train({"objective": "binary", "num_leaves": 15, "verbosity": -1, "min_data_per_group": 5,
                         "cat_smooth": 1, **params}, lgb.Dataset(x, y, categorical_feature=[1]), 40)
    forest = compile_forest(booster, tmp_path)
    assert forest is not None
    test = np.vstack([x, probe_rows(booster.model_to_string(), 4, rows=500),
                      [[np.nan, -3.0, 0.0, 0.0], [0.0, 99.0, np.nan, -0.0], [1e300, 7.9, -1e300, np.inf]]])
    np.testing.assert_allclose(forest.margin(test), booster.predict(test, raw_score=True), **TOL)


def test_a_model_with_several_outputs_per_row_keeps_lightgbm(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(300, 3))
    booster = lgb.train({"objective": "multiclass", "num_class": 3, "verbosity": -1},
                        lgb.Dataset(x, rng.integers(0, 3, 300)), 3)
    with caplog.at_level(logging.WARNING, logger="pesaguard.models.compiled"):
        assert compile_forest(booster, tmp_path) is None
    assert "one output per row" in caplog.text and not list(tmp_path.iterdir())


def test_a_model_is_compiled_once_then_loaded_from_the_cache(bundle: ModelBundle, tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    booster = _booster(bundle)
    first = compile_forest(booster, tmp_path)
    assert first is not None
    files = list(tmp_path.iterdir())
    assert [f.suffix for f in files] == [".forest"]

    def no_build(*_: object) -> None:
        raise AssertionError("compiled again although the cache holds this model")

    monkeypatch.setattr(compiled, "_build", no_build)
    compiled._RECENT.clear()  # as in a new process
    again = compile_forest(booster, tmp_path)
    assert again is not None and again.key == first.key
    x = probe_rows(booster.model_to_string(), first.n_features)
    np.testing.assert_array_equal(again.margin(x), first.margin(x))
    assert list(tmp_path.iterdir()) == files
    # Within a process a model is loaded once; another home's cache gets the same file.
    assert compile_forest(booster, tmp_path / "other") is again
    assert (tmp_path / "other" / files[0].name).read_bytes() == files[0].read_bytes()


def test_the_cache_key_changes_with_the_model_text(bundle: ModelBundle) -> None:
    text = _booster(bundle).model_to_string()
    assert compiled.cache_key(text) == compiled.cache_key(text)
    assert compiled.cache_key(text) != compiled.cache_key(text.replace("leaf_value=", "leaf_value=1", 1))
    assert compiled.cache_key(text) != compiled.cache_key(text, ("x86_64-unknown-linux-gnu", "generic", ""))


def test_a_damaged_cache_file_is_rebuilt(bundle: ModelBundle, tmp_path: Path,
                                         caplog: pytest.LogCaptureFixture) -> None:
    booster = _booster(bundle)
    assert compile_forest(booster, tmp_path) is not None
    (path,) = tmp_path.iterdir()
    good = path.read_bytes()
    path.write_bytes(good[: len(good) // 2])  # e.g. a full disk during an old, non-atomic write
    compiled._RECENT.clear()  # as in a new process
    with caplog.at_level(logging.WARNING, logger="pesaguard.models.compiled"):
        forest = compile_forest(booster, tmp_path)
    assert forest is not None and "damaged" in caplog.text
    assert path.read_bytes() == good


def test_an_unwritable_cache_costs_a_warning_not_the_compiled_trees(bundle: ModelBundle, tmp_path: Path,
                                                                     caplog: pytest.LogCaptureFixture) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the cache directory should be")
    with caplog.at_level(logging.WARNING, logger="pesaguard.models.compiled"):
        forest = compile_forest(_booster(bundle), blocked)
    assert forest is not None and "cannot cache the compiled model" in caplog.text


def test_two_processes_compiling_the_same_model_at_once_share_one_complete_file(bundle: ModelBundle,
                                                                                 tmp_path: Path) -> None:
    """Two scorers start at once on an uncached model, as `pesaguard score` and the service may; each
    compiles, the cache ends with one complete file, and neither imports torch or MLflow."""
    bundle.save(tmp_path / "bundle")
    cache = tmp_path / "cache"
    code = textwrap.dedent(f"""
        import sys
        from pathlib import Path
        import numpy as np
        from pesaguard.models.compiled import probe_rows
        from pesaguard.models.scorer import Scorer
        s = Scorer.from_dir(Path({str(tmp_path / "bundle")!r}), cache_dir=Path({str(cache)!r}))
        assert s._forest is not None
        b = s.bundle.model.booster
        x = probe_rows(b.model_to_string(), b.num_feature())
        assert np.allclose(s.bundle.model.margin(x), b.predict(x, raw_score=True), rtol=1e-12, atol=1e-12)
        bad = [m for m in ("torch", "mlflow") if m in sys.modules]
        assert not bad, bad
    """)
    procs = [subprocess.Popen([sys.executable, "-c", code]) for _ in range(2)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    files = list(cache.iterdir())
    assert len(files) == 1 and files[0].suffix == ".forest"  # no temporary file left behind
    assert compiled._read(files[0]) is not None


def test_without_a_compiler_scoring_falls_back_to_lightgbm_with_a_warning(
        bundle: ModelBundle, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    def unavailable(*_: object) -> None:
        raise ImportError("No module named 'lleaves'")

    monkeypatch.setattr(compiled, "_build", unavailable)
    plain = _fresh(bundle, tmp_path)
    with caplog.at_level(logging.WARNING, logger="pesaguard.models.compiled"):
        scorer = Scorer(plain, cache_dir=tmp_path / "empty")
    assert scorer._forest is None and "using LightGBM's predict" in caplog.text
    assert "lleaves" in caplog.text
    tx, _ = synth(accounts=30, days=2, seed=4, minimal=True)
    np.testing.assert_allclose(scorer.score_frame(tx), Scorer(bundle, cache_dir=tmp_path).score_frame(tx), **TOL)


def test_a_forest_that_disagrees_with_lightgbm_is_not_used(bundle: ModelBundle, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """A miscompilation (here: another model's code) is caught by the probe rows before any score."""
    booster = _booster(bundle)
    text = booster.model_to_string()
    lines = text.splitlines(keepends=True)
    first = next(i for i, line in enumerate(lines) if line.startswith("leaf_value="))
    values = [float(v) + 0.5 for v in lines[first][len("leaf_value="):].split()]  # one tree's leaves moved
    other = "".join([*lines[:first], "leaf_value=" + " ".join(map(repr, values)) + "\n", *lines[first + 1:]])
    build = compiled._build
    monkeypatch.setattr(compiled, "_build", lambda llvm, host, _text: build(llvm, host, other))
    with caplog.at_level(logging.WARNING, logger="pesaguard.models.compiled"):
        assert compile_forest(booster, tmp_path) is None
    assert "disagrees with LightGBM" in caplog.text


def test_score_cli_gives_the_online_reasons_or_tree_shap_on_request(bundle: ModelBundle, tmp_path: Path,
                                                                   env_home: Path) -> None:
    from typer.testing import CliRunner

    from pesaguard.cli.main import app

    bundle.save(tmp_path / "bundle")
    tx, _ = synth(accounts=200, seed=5, days=16, minimal=True)
    tx.to_csv(tmp_path / "in.csv", index=False)
    runner = CliRunner()
    out = {}
    for attribution in ("path", "tree_shap"):
        res = runner.invoke(app, ["score", str(tmp_path / "in.csv"), "--out", str(tmp_path / f"{attribution}.csv"),
                                  "--model-dir", str(tmp_path / "bundle"), "--attribution", attribution])
        assert res.exit_code == 0, res.output
        out[attribution] = pd.read_csv(tmp_path / f"{attribution}.csv", keep_default_na=False)
    np.testing.assert_allclose(out["path"]["score"], out["tree_shap"]["score"], **TOL)
    flagged = out["path"]["action"] != "allow"
    assert flagged.any() and (out["path"]["reasons"][flagged].str.len() > 0).all()
    assert (out["tree_shap"]["reasons"][flagged].str.len() > 0).all()
    # Batch reasons are the ones the scorer gives the same transaction online.
    online = Scorer(_fresh(bundle, tmp_path), cache_dir=env_home / "cache" / "forests")
    first = out["path"][flagged].iloc[0]
    for _, row in tx.iterrows():
        result = online.score({k: (int(v) if isinstance(v, np.integer) else v) for k, v in row.items()})
        if row["txn_id"] == first["txn_id"]:
            assert "; ".join(r.text for r in result.reasons) in first["reasons"]
            break
    res = runner.invoke(app, ["score", str(tmp_path / "in.csv"), "--out", str(tmp_path / "x.csv"),
                              "--model-dir", str(tmp_path / "bundle"), "--attribution", "lime"])
    assert res.exit_code == 64 and "--attribution" in res.output
