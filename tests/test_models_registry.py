"""The registry round trip: train -> list -> promote -> rollback -> the Scorer loads the right version."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models_synth import DAY_MS, T0, synth
from pesaguard.config import Settings
from pesaguard.errors import NotFoundError
from pesaguard.models import registry
from pesaguard.models.data import Dataset
from pesaguard.models.estimators import pick
from pesaguard.models.pipeline import train_for_deployment

# MLflow's own deprecation and "input example" notices are not ours to fix.
pytestmark = [pytest.mark.filterwarnings("ignore::UserWarning"),
              pytest.mark.filterwarnings("ignore::DeprecationWarning")]


@pytest.fixture(scope="module")
def ds() -> Dataset:
    tx, lab = synth(accounts=200, days=14, seed=11)
    return Dataset(tx, lab)


def test_round_trip_train_list_promote_rollback(ds: Dataset, tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    grid = pick("lgbm_15_shallow")
    v1 = train_for_deployment(ds, settings, T0, T0 + 10 * DAY_MS, grid=grid).version
    v2 = train_for_deployment(ds, settings, T0 + 3 * DAY_MS, T0 + 13 * DAY_MS, grid=pick("logreg")).version
    assert (v1, v2) == ("1", "2")
    rows = registry.list_versions(settings)
    assert [r["version"] for r in rows] == ["2", "1"]
    assert [r["champion"] for r in rows] == [False, True]  # the first model became champion; v2 waits
    assert rows[0]["train_start"].startswith("2024-01-04") and rows[0]["candidate"] == "logreg"
    assert registry.champion_scorer(settings).model_version == "1"

    registry.set_champion("2", settings)
    scorer = registry.champion_scorer(settings)
    assert scorer.model_version == "2" and scorer.bundle.model.kind == "logreg"

    assert registry.rollback(settings) == "1"
    assert registry.champion_scorer(settings).model_version == "1"
    with pytest.raises(NotFoundError, match="no earlier champion"):
        registry.rollback(settings)
    with pytest.raises(NotFoundError, match="does not exist"):
        registry.set_champion("99", settings)

    # The local cache can be rebuilt from MLflow, and the pyfunc flavour scores like the scorer.
    registry.clear_cache(settings, "1")
    scorer = registry.champion_scorer(settings)
    assert scorer.model_version == "1"
    import mlflow.pyfunc

    pyf = mlflow.pyfunc.load_model(f"models:/{registry.MODEL_NAME}@{registry.ALIAS}")
    feats = pd.DataFrame(np.random.default_rng(0).normal(size=(5, len(scorer.names))) * 100, columns=scorer.names)
    from pesaguard.models.bundle import predict_matrix

    np.testing.assert_allclose(pyf.predict(feats)["score"].to_numpy(),
                               predict_matrix(scorer.bundle, feats.to_numpy()), rtol=1e-9)


def test_cli_models_commands(ds: Dataset, env_home: Path, tmp_path: Path) -> None:
    from pesaguard.cli.main import app

    sim = tmp_path / "sim"
    sim.mkdir()
    ds.transactions.to_parquet(sim / "transactions.parquet")
    ds.labels.to_parquet(sim / "labels.parquet")
    runner = CliRunner()
    res = runner.invoke(app, ["models", "list"])
    assert res.exit_code == 0 and "pesaguard train" in res.output  # nothing registered yet
    for _ in range(2):
        res = runner.invoke(app, ["train", "--data", str(sim), "--candidates", "lgbm_15_shallow"])
        assert res.exit_code == 0, res.output
    res = runner.invoke(app, ["models", "list"])
    assert res.exit_code == 0
    # version 1 (the first) is champion, marked "*"; version 2 is not
    assert re.search(r"^2\s+\w", res.output, re.M) and re.search(r"^1 \*\s", res.output, re.M)
    assert runner.invoke(app, ["models", "promote", "2"]).exit_code == 0
    res = runner.invoke(app, ["models", "rollback"])
    assert res.exit_code == 0 and "version 1" in res.output
    assert runner.invoke(app, ["models", "promote", "7"]).exit_code == 66
    # Batch scoring with the champion writes a decision per transaction.
    src = tmp_path / "in.csv"
    ds.transactions.drop(columns=["is_fraud", "typology"]).iloc[:2000].to_csv(src, index=False)
    res = runner.invoke(app, ["score", str(src), "--out", str(tmp_path / "out.parquet")])
    assert res.exit_code == 0, res.output
    out = pd.read_parquet(tmp_path / "out.parquet")
    assert len(out) == 2000 and set(out["action"]) <= {"allow", "review", "block"}
    assert (out["model_version"] == "1").all()
    flagged = out[out["action"] != "allow"]
    assert len(flagged) and (flagged["reasons"].str.len() > 0).all()
    # Without a file, the store's transactions are scored.
    from pesaguard.config import get_settings
    from pesaguard.store import open_store
    from pesaguard.store.core import insert_transactions

    with open_store(get_settings()) as store:
        insert_transactions(store, ds.transactions.iloc[:500])
    res = runner.invoke(app, ["score", "--out", str(tmp_path / "store.csv")])
    assert res.exit_code == 0, res.output
    assert len(pd.read_csv(tmp_path / "store.csv")) == 500
