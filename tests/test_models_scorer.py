"""The Scorer: online equals offline, reasons explain the score, threads are safe, no heavy imports."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from models_synth import DAY_MS, T0, synth
from pesaguard.errors import ModelNotReadyError
from pesaguard.features import FeatureConfig
from pesaguard.models.bundle import ModelBundle, load_bundle, predict_matrix
from pesaguard.models.data import Dataset, build_matrix
from pesaguard.models.estimators import pick
from pesaguard.models.pipeline import make_bundle
from pesaguard.models.protocol import Window
from pesaguard.models.scorer import Scorer
from pesaguard.models.train import fit_final

WINDOW = Window(T0 + 5 * DAY_MS, T0 + 15 * DAY_MS, T0 + 15 * DAY_MS, T0 + 16 * DAY_MS)


@pytest.fixture(scope="module")
def trained() -> dict[str, ModelBundle]:
    tx, lab = synth(accounts=200, seed=5, days=16)
    m = build_matrix(Dataset(tx, lab))
    cfg = FeatureConfig()
    return {c.kind: make_bundle(fit_final(m, WINDOW, c, labels_cutoff=None), cfg)
            for c in pick("lgbm_15_shallow,logreg")}


@pytest.fixture(scope="module")
def stream() -> pd.DataFrame:
    tx, _ = synth(accounts=60, days=3, seed=9, minimal=True)
    return tx


def _txn(row: pd.Series) -> dict[str, object]:
    return {k: (int(v) if isinstance(v, np.integer) else v) for k, v in row.items()}


@pytest.mark.parametrize("kind", ["lightgbm", "logreg"])
def test_online_scores_equal_offline_batch_scores(trained: dict[str, ModelBundle], stream: pd.DataFrame,
                                                  kind: str) -> None:
    bundle = trained[kind]
    online = Scorer(bundle)
    got = np.array([online.score(_txn(r)).score for _, r in stream.iterrows()])
    offline = Scorer(bundle).score_frame(stream)
    np.testing.assert_allclose(got, offline, rtol=1e-9, atol=1e-12)
    assert ((got >= 0) & (got <= 1)).all()


def test_reasons_are_the_contributions_that_raised_the_score(trained: dict[str, ModelBundle],
                                                             stream: pd.DataFrame) -> None:
    b = trained["lightgbm"]
    scorer = Scorer(b, explain="always")
    scorer.score_frame(stream)  # warm up: three days of ordinary traffic
    last = stream.iloc[-1]
    t = int(stream["ts_ms"].max()) + 60_000
    usual = scorer.peek({"txn_id": "u", "ts_ms": t, "payer": last["payer"], "payee": last["payee"],
                         "amount_minor": int(last["amount_minor"])})
    drain = scorer.score({"txn_id": "d", "ts_ms": t, "payer": last["payer"], "payee": "NEW",
                          "amount_minor": int(last["amount_minor"]) * 20})
    assert drain.score > 5 * usual.score  # directional: the drain is far riskier
    assert 1 <= len(drain.reasons) <= 3
    contribs = [r.contribution for r in drain.reasons]
    assert contribs == sorted(contribs, reverse=True) and contribs[-1] > 0
    assert all(r.text and "{" not in r.text for r in drain.reasons)
    # Contributions (plus bias) add up to the model's margin.
    row = np.array([drain.features[n] for n in b.feature_names])[None, :]
    full = b.model.contributions(row)[0]
    np.testing.assert_allclose(full.sum(), b.model.margin(row)[0], rtol=1e-6)
    assert drain.model_version == b.version


def test_auto_explains_only_scores_a_person_will_review(trained: dict[str, ModelBundle]) -> None:
    scorer = Scorer(trained["lightgbm"], explain="auto")
    r = scorer.score({"txn_id": "a", "ts_ms": T0, "payer": "Q", "payee": "M1", "amount_minor": 1_000})
    assert (r.score >= trained["lightgbm"].thresholds.review) == bool(r.reasons)


def test_by_default_every_score_carries_reasons_that_add_up_to_its_margin(
        trained: dict[str, ModelBundle], stream: pd.DataFrame) -> None:
    bundle = trained["lightgbm"]
    scorer = Scorer(bundle)  # explain="always", path attribution
    results = [scorer.score(_txn(r)) for _, r in stream.iloc[:300].iterrows()]
    assert any(r.score < bundle.thresholds.review for r in results)  # low scores are explained too
    assert all(r.reasons for r in results)
    row = np.array([results[-1].features[n] for n in scorer.names], dtype=np.float64)
    contrib = scorer._contrib(row)
    assert contrib.sum() == pytest.approx(scorer._margin(row), abs=1e-6)  # exact in sum


def test_scoring_from_many_threads_matches_sequential(trained: dict[str, ModelBundle],
                                                      stream: pd.DataFrame) -> None:
    # Concurrent calls share one feature state and one prediction buffer; the lock must keep every
    # answer identical to a one-thread run. (peek: the answers do not depend on call order.)
    scorer = Scorer(trained["lightgbm"], explain="always")
    scorer.score_frame(stream.iloc[:200])
    probe = [_txn(r) for _, r in stream.iloc[200:].iterrows()]
    expected = [(r.score, [x.feature for x in r.reasons]) for r in map(scorer.peek, probe)]
    got: dict[int, list[tuple[float, list[str]]]] = {}

    def work(i: int) -> None:
        order = probe[i:] + probe[:i]  # each thread in a different order
        res = [scorer.peek(t) for t in order]
        got[i] = [(r.score, [x.feature for x in r.reasons]) for r in res[len(probe) - i:] + res[:len(probe) - i]]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(got[i] == expected for i in range(4))


@pytest.mark.parametrize("kind", ["lightgbm", "logreg"])
def test_bundle_round_trips_through_files(trained: dict[str, ModelBundle], tmp_path: Path, kind: str) -> None:
    b = trained[kind]
    loaded = load_bundle(b.save(tmp_path / kind))
    x = np.random.default_rng(0).normal(size=(50, len(b.feature_names))) * 1000
    x[::7, 3] = np.nan
    np.testing.assert_allclose(predict_matrix(loaded, x), predict_matrix(b, x))
    assert loaded.thresholds == b.thresholds and loaded.feature_version == b.feature_version
    assert "# pesaguard scoring model" in (tmp_path / kind / "model_card.md").read_text()


def test_a_model_for_another_feature_set_is_refused(trained: dict[str, ModelBundle]) -> None:
    b = trained["lightgbm"]
    stale = ModelBundle(b.model, b.calibrator, b.thresholds, b.feature_config, "0" * 12, b.meta)
    with pytest.raises(ModelNotReadyError, match="retrain"):
        Scorer(stale)


def test_missing_bundle_names_the_fix(tmp_path: Path) -> None:
    with pytest.raises(ModelNotReadyError, match="pesaguard train"):
        load_bundle(tmp_path)


def test_the_scoring_path_imports_neither_torch_nor_mlflow() -> None:
    code = ("import sys; import pesaguard.models.scorer; "
            "bad = [m for m in ('torch', 'mlflow') if m in sys.modules]; assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True)


def test_warm_up_from_the_store_gives_the_context_of_a_full_replay(trained: dict[str, ModelBundle],
                                                                   stream: pd.DataFrame, store: object) -> None:
    from pesaguard.store.core import insert_transactions

    insert_transactions(store, stream.assign(currency="KES"))  # type: ignore[arg-type]
    warm = Scorer(trained["lightgbm"])
    assert warm.warm_up(store) == len(stream)
    replayed = Scorer(trained["lightgbm"])
    replayed.score_frame(stream.sort_values(["ts_ms", "txn_id"], kind="stable"))
    last = stream.iloc[-1]
    probe = {"txn_id": "p", "ts_ms": int(stream["ts_ms"].max()) + 1, "payer": last["payer"],
             "payee": last["payee"], "amount_minor": 5_000}
    a, b = warm.peek(probe).features, replayed.peek(probe).features
    assert a.keys() == b.keys()
    np.testing.assert_array_equal(np.array(list(a.values())), np.array([b[k] for k in a]))
    assert warm.peek(probe).features["payer_count_24h"] > 0
