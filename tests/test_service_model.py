"""The decision service with the real champion-model scorer (``pesaguard.models.scorer.Scorer``, a
LightGBM bundle fitted here on synthetic data): feature values and reasons are logged, a retry
does not count twice, and a restart rebuilds the live feature state from the store."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient

from models_synth import small_bundle, synth
from pesaguard.config import Settings
from pesaguard.models.bundle import ModelBundle
from pesaguard.models.scorer import Scorer
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return small_bundle()


def _stream() -> list[dict[str, object]]:
    tx, _ = synth(accounts=40, days=2, seed=9, minimal=True)
    recs = tx.sort_values("ts_ms").to_dict("records")
    return [{k: (int(v) if isinstance(v, np.integer) else v) for k, v in r.items() if not pd.isna(v)} for r in recs]


def test_real_scorer_decisions_survive_a_restart_with_the_same_feature_state(bundle: ModelBundle,
                                                                              tmp_path: Path) -> None:
    stream = _stream()
    head, tail = stream[:-10], stream[-10:]
    settings = Settings(home=tmp_path / "home")

    # reference: one uninterrupted scorer sees the whole stream
    reference = Scorer(bundle)
    expected = {t["txn_id"]: reference.score(dict(t)).features for t in stream}

    app = create_app(settings, scorer=Scorer(bundle))
    with TestClient(app) as client:
        key = {"X-API-Key": create_key(app.state.store, "scorer")}
        analyst = {"X-API-Key": create_key(app.state.store, "analyst")}
        first = client.post("/v1/transactions", json=head[0], headers=key).json()
        assert first["model_version"] == bundle.version and 0 <= first["score"] <= 1
        for t in head[1:]:
            assert client.post("/v1/transactions", json=t, headers=key).status_code == 200
        assert client.post("/v1/transactions", json=head[-1], headers=key).status_code == 200  # a retry
        logged = client.get(f"/v1/decisions/{first['decision_id']}", headers=analyst).json()
        assert set(logged["features"]) == set(bundle.feature_names)

    # a new process: a fresh scorer whose state comes only from the store (warm-up replay)
    app = create_app(settings, scorer=Scorer(bundle))
    with TestClient(app) as client:
        for t in tail:
            d = client.post("/v1/transactions", json=t, headers=key).json()
            got = client.get(f"/v1/decisions/{d['decision_id']}", headers=analyst).json()["features"]
            want = {k: (None if v != v else v) for k, v in expected[t["txn_id"]].items()}
            assert got == pytest.approx(want, nan_ok=True), t["txn_id"]


def test_the_service_explains_exactly_the_scores_its_policy_will_show(bundle: ModelBundle, tmp_path: Path) -> None:
    """Model reasons appear in a decision only at or above the policy's review threshold, so the
    scorer computes them only there, against the policy's threshold, not the model's own."""
    from pesaguard.decisions.policy import Policy
    from pesaguard.decisions.rules import RuleSet, Thresholds

    stream = _stream()[:200]
    reference = Scorer(bundle)
    scores = sorted(reference.score(dict(t)).score for t in stream)
    # The policy's threshold sits inside the scores the model alone would not flag, so some flagged
    # scores need reasons the model's own threshold would not have asked for; both sides are exercised.
    below = [s for s in scores if s < bundle.thresholds.review]
    assert len(below) >= 20
    review = below[len(below) // 2]
    scorer = Scorer(bundle)
    app = create_app(Settings(home=tmp_path / "home"), scorer=scorer,
                     policy=Policy(RuleSet(thresholds=Thresholds(review=review, block=1.0))))
    with TestClient(app) as client:
        assert (scorer.explain, scorer.reasons_at) == ("auto", review)
        key = {"X-API-Key": create_key(app.state.store, "scorer")}
        answers = [client.post("/v1/transactions", json=t, headers=key).json() for t in stream]
    flagged = [a for a in answers if a["action"] == "review"]
    allowed = [a for a in answers if a["action"] == "allow"]
    assert flagged and allowed
    assert all(a["score"] >= review and len(a["reasons"]) >= 2 for a in flagged)  # model reasons + threshold
    assert all(a["score"] < review and a["reasons"] == [] for a in allowed)
