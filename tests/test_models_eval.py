"""The honest evaluation end to end: it learns, it never peeks at the future, it runs on bare files."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from models_synth import DAY_MS, T0, synth
from pesaguard.models.data import Dataset, build_matrix
from pesaguard.models.estimators import pick
from pesaguard.models.evaluate import evaluate
from pesaguard.models.protocol import Window
from pesaguard.models.train import fit_final

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")

GRID = "lgbm_15_shallow,logreg"
WINDOW = Window(T0 + 9 * DAY_MS, T0 + 16 * DAY_MS, T0 + 19 * DAY_MS, T0 + 26 * DAY_MS)


@pytest.fixture(scope="module")
def data() -> tuple[pd.DataFrame, pd.DataFrame]:
    return synth(seed=3)


def test_evaluation_learns_and_reports_every_figure(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tx, lab = data
    ev = evaluate(Dataset(tx, lab), WINDOW, grid=pick(GRID))
    s = ev.summary
    rate = s["test_frauds"] / s["test_rows"]
    assert s["average_precision"] > 10 * rate  # far better than chance
    assert s["roc_auc"] > 0.85
    for key in ("account_precision_at_100", "account_recall_at_budget", "transaction_recall_at_budget",
                "missed_fraud_amount_minor", "blocked_fraud_amount_minor", "thresholds", "baseline"):
        assert key in s
    assert set(s["typology_recall_at_review"]) == {"mule_payee", "takeover"}
    assert s["model"] in GRID.split(",") and s["baseline"]["candidate"] in GRID.split(",")
    assert s["baseline"]["candidate"] != s["model"]
    assert ev.test["ts_ms"].min() >= WINDOW.test_start and ev.test["ts_ms"].max() < WINDOW.test_end
    # Money adds up: blocked + reviewed + missed = all fraud money in the test period.
    assert (s["blocked_fraud_amount_minor"] + s["reviewed_fraud_amount_minor"] + s["missed_fraud_amount_minor"]
            == s["fraud_amount_minor"])


def test_labels_known_after_the_test_start_do_not_change_the_model(
        data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    tx, lab = data
    cand = pick("lgbm_15_shallow")[0]
    m = build_matrix(Dataset(tx, lab).until(WINDOW.test_start))
    base = fit_final(m, WINDOW, cand)
    # The future brings news about training transactions: genuine ones reported as fraud.
    train_ids = tx.loc[(tx.ts_ms >= WINDOW.train_start) & (tx.ts_ms < WINDOW.train_end) & (tx.is_fraud == 0), "txn_id"]
    late = pd.DataFrame({"txn_id": train_ids.iloc[:200].to_numpy(), "is_fraud": 1,
                         "known_at_ms": WINDOW.test_start + DAY_MS, "source": "late", "typology": None})
    m_late = build_matrix(Dataset(tx, pd.concat([lab, late], ignore_index=True)).until(WINDOW.test_start))
    again = fit_final(m_late, WINDOW, cand)
    assert np.array_equal(m.x, m_late.x, equal_nan=True)
    assert again.train_frauds == base.train_frauds
    np.testing.assert_allclose(again.predict(m.x), base.predict(m.x))
    # ...while the same news known before the test start does change it (the test can fail).
    early = late.assign(known_at_ms=WINDOW.train_end + DAY_MS)
    m_early = build_matrix(Dataset(tx, pd.concat([lab, early], ignore_index=True)).until(WINDOW.test_start))
    assert fit_final(m_early, WINDOW, cand).train_frauds == base.train_frauds + 200


def test_evaluate_cli_on_a_store_with_only_the_required_columns(
        data: tuple[pd.DataFrame, pd.DataFrame], env_home: Path, tmp_path: Path) -> None:
    from pesaguard.cli.main import app
    from pesaguard.config import get_settings
    from pesaguard.store import open_store
    from pesaguard.store.core import insert_labels, insert_transactions

    tx, lab = data
    bare = tx[["txn_id", "ts_ms", "payer", "payee", "amount_minor"]].assign(currency="KES")
    with open_store(get_settings()) as store:
        insert_transactions(store, bare)
        insert_labels(store, lab[["txn_id", "is_fraud", "known_at_ms"]])
    out = tmp_path / "eval.json"
    report = tmp_path / "report"
    res = CliRunner().invoke(app, ["evaluate", "--train-start", "2024-01-10", "--train-end", "2024-01-16",
                                   "--delay-days", "3", "--test-days", "7", "--candidates", GRID,
                                   "--json", str(out), "--report", str(report)])
    assert res.exit_code == 0, res.output
    s = json.loads(out.read_text())
    assert s["average_precision"] > 0.1 and "typology_recall_at_review" not in s
    assert s["window"]["test_start"].startswith("2024-01-20")
    for png in ("pr_curve.png", "score_by_typology.png", "feature_importance.png", "precision_at_k.png"):
        assert (report / png).stat().st_size > 5_000
    assert "Test metrics" in (report / "index.html").read_text()


def test_evaluate_cli_names_the_problem_when_the_test_period_is_empty(env_home: Path,
                                                                      data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from pesaguard.cli.main import app
    from pesaguard.config import get_settings
    from pesaguard.store import open_store
    from pesaguard.store.core import insert_labels, insert_transactions

    tx, lab = data
    with open_store(get_settings()) as store:
        insert_transactions(store, tx.drop(columns=["is_fraud", "typology"]))
        insert_labels(store, lab)
    res = CliRunner().invoke(app, ["evaluate", "--train-start", "2024-03-01", "--train-end", "2024-03-07"])
    assert res.exit_code == 65
    assert "no transactions in the test period" in res.output


def test_thin_validation_keeps_the_default_candidate(data: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    from pesaguard.models.train import MIN_VALIDATION_FRAUDS, select_candidate

    tx, lab = data
    m = build_matrix(Dataset(tx, lab))
    grid = pick("logreg,lgbm_15_shallow")[::-1]  # logreg first: the first grid point is the default
    one_day = Window(T0 + 9 * DAY_MS, T0 + 16 * DAY_MS, T0 + 16 * DAY_MS, T0 + 17 * DAY_MS)
    chosen, rows = select_candidate(m, one_day, grid)
    frauds = rows[0]["frauds"]
    assert frauds < MIN_VALIDATION_FRAUDS
    assert chosen.name == "logreg" and "default kept" in rows[-1]["note"]
    week = Window(T0 + 9 * DAY_MS, T0 + 16 * DAY_MS, T0 + 16 * DAY_MS, T0 + 23 * DAY_MS)
    chosen, rows = select_candidate(m, week, grid)  # enough frauds: validation decides
    assert rows[0]["frauds"] >= MIN_VALIDATION_FRAUDS and not any("note" in r for r in rows)
    means = pd.DataFrame(rows).groupby("candidate")["average_precision"].mean()
    assert chosen.name == means.idxmax()


def test_evaluate_cli_prints_the_handbook_protocol_writes_predictions_and_warns_on_untimed_labels(
        data: tuple[pd.DataFrame, pd.DataFrame], env_home: Path, tmp_path: Path) -> None:
    from pesaguard.cli.main import app

    tx, lab = data
    sim = tmp_path / "sim"
    sim.mkdir()
    tx.to_parquet(sim / "transactions.parquet")
    untimed = lab.assign(known_at_ms=lab["txn_id"].map(tx.set_index("txn_id")["ts_ms"]))  # no delay given
    untimed.to_parquet(sim / "labels.parquet")
    preds, out = tmp_path / "preds.csv", tmp_path / "eval.json"
    res = CliRunner().invoke(app, ["evaluate", "--train-start", "2024-01-10", "--train-end", "2024-01-16",
                                   "--delay-days", "3", "--data", str(sim), "--candidates", GRID,
                                   "--predictions", str(preds), "--json", str(out)])
    assert res.exit_code == 0, res.output
    assert "handbook: average_precision" in res.output and "handbook: card_precision_at_100" in res.output
    assert "stamped known at their own transaction's time" in " ".join(res.output.split())
    s = json.loads(out.read_text())
    assert s["label_timing"]["untimed"] == s["label_timing"]["fraud_labels"] > 100  # those up to the test end
    p = pd.read_csv(preds)
    assert list(p.columns) == ["txn_id", "time", "ts_ms", "payer", "payee", "amount_minor", "is_fraud", "score",
                               "in_handbook_test"]
    assert len(p) == s["test_rows"] and p["txn_id"].isin(tx["txn_id"]).all()
    assert p["in_handbook_test"].sum() == s["handbook"]["test_rows"]
    from sklearn.metrics import average_precision_score

    kept = p[p["in_handbook_test"]]
    assert average_precision_score(kept["is_fraud"], kept["score"]) == pytest.approx(s["handbook"]["average_precision"])
    bad = CliRunner().invoke(app, ["evaluate", "--train-start", "2024-01-10", "--train-end", "2024-01-16",
                                   "--delay-days", "3", "--data", str(sim), "--candidates", GRID,
                                   "--predictions", str(tmp_path / "preds.txt")])
    assert bad.exit_code != 0 and ".parquet" in bad.output
