"""Monitoring inside the service: shadow scoring next to the champion (never changing the decision,
never breaking idempotency) and the drift/alert-rate gauges on /metrics (both store dialects)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from pesaguard.config import Settings
from pesaguard.decisions.policy import Policy
from pesaguard.decisions.rules import parse_rules
from pesaguard.monitoring.shadow import ShadowRecorder, summarise_shadow
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from pesaguard.store import Store
from pesaguard.store import monitoring as repo
from service_support import Result, TinyScorer, settle, txn

RULES = {"thresholds": {"review": 0.5, "block": 0.97}, "rules": []}


class AlarmistShadow:
    """A shadow model that calls everything fraud; counts its calls."""

    model_version = "shadow-v2"

    def __init__(self, fail: bool = False) -> None:
        self.calls = 0
        self.fail = fail
        self.labels: list[str] = []

    def score(self, data: dict[str, Any]) -> Result:
        self.calls += 1
        data["amount_minor"] = -1  # a misbehaving model mutating its input must not reach the decision
        if self.fail:
            raise RuntimeError("shadow model crashed")
        return Result(0.999, [], self.model_version, {})

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        self.labels.append(txn_id)


def _app(store_url: str, tmp_path: Path, shadow: ShadowRecorder | None) -> TestClient:
    # /metrics needs credentials: the scraper's token by default on every request of these tests
    settings = Settings(home=tmp_path / "home", database_url=store_url, metrics_token="scraper-token-for-tests")
    app = create_app(settings, scorer=TinyScorer(), policy=Policy(parse_rules(RULES)), shadow=shadow,
                     warm_up=False)
    return TestClient(app, headers={"Authorization": "Bearer scraper-token-for-tests"})


@pytest.fixture
def shadow_env(store_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, AlarmistShadow, ShadowRecorder, dict]]:
    side = Store(store_url)
    side.migrate()
    model = AlarmistShadow()
    recorder = ShadowRecorder(side, model)
    with _app(store_url, tmp_path, recorder) as client:
        key = {"Authorization": f"Bearer {create_key(client.app.state.store, 'scorer')}"}  # type: ignore[attr-defined]
        yield client, model, recorder, key
    side.close()


def test_shadow_scores_are_logged_without_changing_the_decision(shadow_env) -> None:
    client, model, recorder, key = shadow_env
    first = client.post("/v1/transactions", json=txn("t1"), headers=key).json()
    assert first["action"] == "allow" and first["score"] < 0.5  # the champion's call, not the shadow's 0.999
    again = client.post("/v1/transactions", json=txn("t1"), headers=key).json()
    assert again == first and model.calls == 1  # an idempotent replay is not shadow-scored again
    client.post("/v1/transactions", json=txn("t2"), headers=key)
    settle(client)  # the champion's side of the comparison is read from the stored decisions
    recorder.flush()
    rows = repo.load_shadow_scores(recorder.store)
    assert list(rows["txn_id"]) == ["t1", "t2"] and set(rows["model_version"]) == {"shadow-v2"}
    assert rows["score"].tolist() == [0.999, 0.999]
    assert rows.loc[0, "champion_score"] == pytest.approx(first["score"]) and rows.loc[0, "action"] == "allow"
    stored = client.get(f"/v1/decisions/{first['decision_id']}",
                        headers={"Authorization": f"Bearer {create_key(client.app.state.store, 'analyst')}"}).json()
    assert stored["model_version"] == "tiny-lgbm-test"
    summary = summarise_shadow(recorder.store)
    assert summary[0]["scored"] == 2 and summary[0]["mean_abs_diff"] > 0.4


def test_a_failing_shadow_model_costs_nothing_but_its_own_log_line(store_url: str, tmp_path: Path) -> None:
    side = Store(store_url)
    side.migrate()
    recorder = ShadowRecorder(side, AlarmistShadow(fail=True))
    with _app(store_url, tmp_path, recorder) as client:
        key = {"Authorization": f"Bearer {create_key(client.app.state.store, 'scorer')}"}  # type: ignore[attr-defined]
        r = client.post("/v1/transactions", json=txn("t1"), headers=key)
        assert r.status_code == 200 and r.json()["action"] == "allow"
    assert recorder.failures == 1 and repo.load_shadow_scores(side).empty
    side.close()


def test_metrics_export_drift_and_alert_rate_from_the_latest_snapshot(store_url: str, tmp_path: Path) -> None:
    with _app(store_url, tmp_path, None) as client:
        store = client.app.state.store  # type: ignore[attr-defined]
        text = client.get("/metrics").text
        assert "pesaguard_monitoring_level" in text and "pesaguard_drift_psi{" not in text  # no snapshot yet
        summary = {"drift": [{"column": "score", "psi": 0.31, "ks": 0.2, "level": "alarm"},
                             {"column": "amount", "psi": 0.02, "ks": 0.01, "level": "ok"}],
                   "alarms": [{"kind": "drift", "name": "score", "level": "alarm"}],
                   "performance": {"average_precision": 0.42}, "reference_alert_rate": 0.01}
        repo.insert_snapshot(store, {"snapshot_id": "s1", "created_ms": 1_700_000_000_000, "start_ms": 0,
                                     "end_ms": 1, "model_version": "7", "level": "alarm", "n_decisions": 900,
                                     "alert_rate": 0.034, "summary": summary})
        assert 'pesaguard_drift_psi{column="score"}' not in client.get("/metrics").text  # cached for ttl_s
        client.app.state.monitoring_gauges.ttl_s = 0  # type: ignore[attr-defined]
        text = client.get("/metrics").text
    assert 'pesaguard_drift_psi{column="score"} 0.31' in text
    assert 'pesaguard_drift_ks{column="amount"} 0.01' in text
    assert "pesaguard_alert_rate 0.034" in text and "pesaguard_alert_rate_reference 0.01" in text
    assert "pesaguard_monitoring_level 2.0" in text and 'pesaguard_monitoring_alarms{kind="drift"} 1.0' in text
    assert "pesaguard_matured_average_precision 0.42" in text
