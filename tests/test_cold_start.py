"""The cold-start model: an anomaly score with exact per-feature reasons, served like any model, and
the explicit switch from cold start to supervised training."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from typer.testing import CliRunner

from models_synth import synth
from pesaguard.features import FeatureConfig, FeatureEngine, feature_names
from pesaguard.models.anomaly import (
    MIN_LABELS,
    PRIOR,
    AnomalyModel,
    choose_mode,
    fit_cold_start,
    mode_label,
    mode_of,
)
from pesaguard.models.data import Dataset
from pesaguard.models.estimators import model_from_payload

pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def data() -> tuple[Dataset, np.ndarray, list[str]]:
    tx, lab = synth(accounts=200, days=14, seed=5)
    ds = Dataset(tx, lab)
    x = FeatureEngine().replay(ds.transactions)
    return ds, x.to_numpy(dtype=float), list(x.columns)


def test_rarer_in_the_risky_direction_scores_higher_and_reasons_are_exact(data: tuple) -> None:
    _ds, x, names = data
    model = AnomalyModel.fit(x, names)
    typical = np.array([np.nanmedian(c) if np.isfinite(c).any() else np.nan for c in x.T])
    row = typical.copy()
    drained = row.copy()
    drained[names.index("balance_drain")] = 0.99
    drained[names.index("amount_ratio_30d")] = 40.0
    assert model.margin(drained[None])[0] > model.margin(row[None])[0]
    contrib = model.contributions(drained[None])[0]
    assert contrib[:-1].sum() == pytest.approx(model.margin(drained[None])[0])  # additive: the reasons add up
    assert contrib[names.index("amount_ratio_30d")] > 0 and contrib[names.index("hour_local")] == 0
    # a smaller ratio is never riskier than a larger one (one-sided)
    low = row.copy()
    low[names.index("amount_ratio_30d")] = 0.01
    assert model.contributions(low[None])[0][names.index("amount_ratio_30d")] == 0 or \
        model.margin(low[None])[0] <= model.margin(drained[None])[0]
    # a missing value (no such event) is the least risky: it adds nothing
    missing = row.copy()
    missing[names.index("payer_secs_since_sim_swap")] = np.nan
    assert model.contributions(missing[None])[0][names.index("payer_secs_since_sim_swap")] == 0


def test_one_row_path_payload_round_trip_and_unseen_types(data: tuple) -> None:
    _ds, x, names = data
    model = AnomalyModel.fit(x, names)
    sample = x[:300]
    rows = np.vstack([model.contributions(sample[i:i + 1]) for i in range(len(sample))])
    assert np.allclose(rows, model.contributions(sample))
    back = model_from_payload(json.loads(json.dumps(model.to_payload())))
    assert isinstance(back, AnomalyModel) and np.array_equal(back.margin(sample), model.margin(sample))
    unseen = sample[:5].copy()
    unseen[:, names.index("txn_type_code")] = 99  # a type the training data never had: all types' tables
    assert np.isfinite(model.margin(unseen)).all()


def test_cold_start_calibration_and_thresholds(data: tuple) -> None:
    _ds, x, names = data
    _, calibrator, th, calib = fit_cold_start(x, names, np.zeros(len(x), int))
    assert calibrator == PRIOR and "prior" in calib["method"]
    assert th.block == 1.0  # the anomaly score alone never blocks
    p = np.asarray(calibrator(AnomalyModel.fit(x, names).margin(x)))
    assert (p >= th.review).mean() == pytest.approx(0.01, abs=0.005)  # the review budget
    y = np.zeros(len(x), int)
    y[np.argsort(-p)[: MIN_LABELS + 5]] = 1
    _, fitted, _, calib = fit_cold_start(x, names, y)
    assert fitted != PRIOR and "platt" in calib["method"]


def test_auto_mode_follows_the_known_frauds(data: tuple) -> None:
    ds, _, _ = data
    known = int(ds.labels["is_fraud"].sum())
    assert choose_mode(ds, "auto", None, None)[0] == ("cold_start" if known < 100 else "supervised")
    few = Dataset(ds.transactions, ds.labels.head(3))
    mode, why = choose_mode(few, "auto", None, None)
    assert mode == "cold_start" and "fewer than" in why
    assert choose_mode(few, "supervised", None, None)[0] == "supervised"
    assert mode_label("anomaly_ecod") == "cold start" and mode_label("lgbm_31") == "supervised"


@pytest.mark.slow
def test_train_cold_start_registers_serves_and_lists_its_mode(tmp_path: Path, env_home: Path) -> None:
    """`pesaguard train --mode auto` on data with few labels: a cold-start champion, shown as such;
    the scorer serves it with reasons and the service's policy ranks with the pack's weights."""
    from pesaguard.cli.main import app as cli
    from pesaguard.config import Settings
    from pesaguard.decisions.loader import load_policy
    from pesaguard.models.registry import champion_scorer

    tx, lab = synth(accounts=150, days=12, seed=2)
    (tmp_path / "run").mkdir()
    tx.to_parquet(tmp_path / "run" / "transactions.parquet")
    lab.head(4).to_parquet(tmp_path / "run" / "labels.parquet")
    runner = CliRunner()
    out = runner.invoke(cli, ["train", "--data", str(tmp_path / "run"), "--mode", "auto"])
    assert out.exit_code == 0, out.output
    assert "mode: cold start" in out.output
    listed = runner.invoke(cli, ["models", "list"])
    assert "cold start" in listed.output and "anomaly_ecod" in listed.output
    settings = Settings(home=env_home)
    scorer = champion_scorer(settings)
    assert mode_of(scorer.bundle) == "cold_start"
    first = tx.iloc[0].to_dict()
    res = scorer.score({k: v for k, v in first.items() if k not in ("is_fraud", "typology")})
    assert 0 <= res.score < 1
    policy = load_policy(settings, scorer=scorer)
    assert policy.mode == "cold_start" and "cold start" in policy.describe()
    assert [n for n in feature_names(FeatureConfig()) if n in scorer.bundle.feature_names] == scorer.bundle.feature_names
    quiet = runner.invoke(cli, ["models", "list", "-q"])  # -q after the command, as before it
    assert quiet.exit_code == 0 and "cold start" in quiet.output
