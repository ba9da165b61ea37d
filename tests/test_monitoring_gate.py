"""The retraining gate: the verdict's rules, and `retrain` against the real MLflow registry together
with `models rollback` (promotions by the gate are ordinary promotions, so rollback undoes them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pesaguard.config import Settings
from pesaguard.features import FeatureConfig
from pesaguard.models import registry
from pesaguard.models.bundle import load_bundle
from pesaguard.models.data import build_matrix, from_store
from pesaguard.models.train import Matrix
from pesaguard.monitoring import gate as gate_mod
from pesaguard.monitoring.config import GateConfig
from pesaguard.monitoring.drift_reference import Reference
from pesaguard.monitoring.retrain import promote_latest, reference_dir, retrain
from pesaguard.store import Store, core
from pesaguard.store import monitoring as repo
from timetravel_harness import TimeTravel, simulate_world

DAY = 86_400_000
GATE = GateConfig(train_days=20, holdout_days=5, maturity_days=5, k=10, min_segment_frauds=8,
                  candidates=["lgbm_15_shallow"])


def test_verdict_needs_both_margins_and_no_segment_regression() -> None:
    champ = {"average_precision": 0.30, "precision_at_k": 0.20}
    good = {"average_precision": 0.40, "precision_at_k": 0.30}
    seg_ok = [{"segment": "region", "value": "coast", "champion_ap": 0.3, "challenger_ap": 0.28, "regressed": False}]
    assert gate_mod.verdict(champ, good, seg_ok, GateConfig(margin_ap=0.05))[0] is True
    ok, reasons = gate_mod.verdict(champ, good, seg_ok, GateConfig(margin_ap=0.15))
    assert ok is False and "does not beat" in reasons[0]
    assert gate_mod.verdict(champ, {**good, "precision_at_k": 0.2}, seg_ok, GateConfig())[0] is False
    seg_bad = [{**seg_ok[0], "challenger_ap": 0.1, "regressed": True}]
    ok, reasons = gate_mod.verdict(champ, good, seg_bad, GateConfig())
    assert ok is False and any("segment region=coast" in r for r in reasons)


def test_segment_comparison_marks_regressions_beyond_tolerance() -> None:
    rng = np.random.default_rng(0)
    n = 600
    df = pd.DataFrame({"region": np.where(np.arange(n) < 300, "coast", "rift"), "type": "p2p",
                       "account_age": "1y+", "is_fraud": (rng.random(n) < 0.1).astype(int)})
    y = df["is_fraud"].to_numpy()
    champ = y + rng.normal(0, 0.3, n)
    chall = np.where(df["region"] == "rift", rng.random(n), y + rng.normal(0, 0.3, n))  # blind in rift
    cfg = GateConfig(min_segment_frauds=10)
    rows = {(r["segment"], r["value"]): r for r in gate_mod.segment_comparison(df, champ, chall, cfg)}
    assert rows[("region", "rift")]["regressed"] and not rows[("region", "coast")]["regressed"]
    assert rows[("type", "p2p")]["frauds"] == int(y.sum())


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> tuple[Store, Settings, int]:
    """A small simulated world in a store; returns it, isolated settings and the day-0 time."""
    work = tmp_path_factory.mktemp("gate")
    settings = Settings(home=work / "home", database_url=f"sqlite:///{work / 'db.sqlite'}")
    store = Store(settings.resolved_database_url)
    store.migrate()
    tt = TimeTravel(accounts=600, days=45, shift_day=20, burn_in_days=20, seed=3)
    summary = simulate_world(tt, work / "sim")
    for name, insert in (("accounts", core.insert_accounts), ("account_events", core.insert_account_events),
                         ("labels", core.insert_labels), ("transactions", core.insert_transactions)):
        insert(store, pd.read_parquet(work / "sim" / f"{name}.parquet"))
    return store, settings, int(summary["start_ms"]) + 20 * DAY


def _useless_champion(m: Matrix, day0: int, settings: Settings) -> str:
    """Register a champion trained on shuffled labels (AP near the base rate): any honest challenger wins."""
    labels = m.labels.copy()
    labels["is_fraud"] = np.random.default_rng(1).permutation(labels["is_fraud"].to_numpy())
    shuffled = Matrix(m.txns, m.x, m.feature_names, labels)
    periods = gate_mod.Periods(day0, day0 + 15 * DAY, day0 + 15 * DAY, day0 + 15 * DAY)
    fitted = gate_mod.train_challenger(shuffled, periods, GATE)
    bundle = gate_mod.bundle_from_fit(fitted, FeatureConfig(), periods, "useless")
    return registry.register(bundle, settings)  # the first version becomes champion


def test_retrain_promotes_through_the_registry_and_rollback_undoes_it(world) -> None:
    store, settings, day0 = world
    m = build_matrix(from_store(store), FeatureConfig())
    first = _useless_champion(m, day0, settings)
    assert load_bundle(registry.champion_dir(settings)).version == first

    run = retrain(store, settings, GATE)
    comp = run["comparison"]
    assert comp["passed"] and run["promoted"], comp["reasons"]
    second = run["challenger_version"]
    assert comp["challenger"]["average_precision"] > comp["champion"]["average_precision"]
    assert load_bundle(registry.champion_dir(settings)).version == second
    card = (registry.champion_dir(settings) / "model_card.md").read_text()
    assert "Challenger gate: PASSED" in card and f"`{first}`" in card  # the comparison is in the card
    ref = Reference.load(reference_dir(settings, second))
    assert ref.meta["model_version"] == second and "score" in ref.columns
    assert repo.list_retrain_runs(store)[0]["challenger_version"] == second

    assert registry.rollback(settings) == first  # the models engineer's rollback
    assert load_bundle(registry.champion_dir(settings)).version == first
    assert promote_latest(store, settings)["action"] == "none"  # an already promoted run is not re-promoted
    assert load_bundle(registry.champion_dir(settings)).version == first

    strict = retrain(store, settings, GATE.model_copy(update={"margin_ap": 1.0}))  # AP can never beat by 1
    assert not strict["comparison"]["passed"] and not strict["promoted"]
    assert strict["champion_version"] == first  # compared with the rolled-back champion
    assert load_bundle(registry.champion_dir(settings)).version == first
    versions = {v["version"]: v["champion"] for v in registry.list_versions(settings)}
    assert versions == {first: True, second: False, strict["challenger_version"]: False}


def test_a_passing_run_without_promotion_is_promoted_later(world, tmp_path: Path) -> None:
    store, settings, _ = world
    before = load_bundle(registry.champion_dir(settings)).version
    run = retrain(store, settings, GATE.model_copy(update={"promote": False}))
    assert not run["promoted"] and load_bundle(registry.champion_dir(settings)).version == before
    out = promote_latest(store, settings)
    if run["comparison"]["passed"]:
        assert out["action"] == "promoted"
        assert load_bundle(registry.champion_dir(settings)).version == run["challenger_version"]
        assert repo.list_retrain_runs(store)[0]["promoted"] is True
    else:
        assert out["action"] == "none" and load_bundle(registry.champion_dir(settings)).version == before


def test_shadow_mode_loads_the_newest_challenger_from_the_registry(world) -> None:
    from pesaguard.monitoring.shadow import load_shadow, resolve_version

    store, settings, _ = world
    versions = registry.list_versions(settings)
    newest_other = next(v["version"] for v in versions if not v["champion"])
    assert resolve_version("challenger", settings) == newest_other
    recorder = load_shadow(store, settings, "challenger")
    assert recorder is not None and recorder.model_version == newest_other
    recorder.close()
    assert load_shadow(store, settings, None) is None


def test_retrain_and_promote_from_the_cli(world, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from typer.testing import CliRunner

    from pesaguard.cli.main import app
    from pesaguard.config import get_settings

    _, settings, _ = world
    monkeypatch.setenv("PESAGUARD_HOME", str(settings.home))
    monkeypatch.setenv("PESAGUARD_DATABASE_URL", settings.resolved_database_url)
    get_settings.cache_clear()
    cfg = tmp_path / "m.yaml"
    cfg.write_text("gate:\n  train_days: 20\n  holdout_days: 5\n  maturity_days: 5\n  k: 10\n"
                   "  min_segment_frauds: 8\n  candidates: [lgbm_15_shallow]\n")
    try:
        before = load_bundle(registry.champion_dir(settings)).version
        r = CliRunner().invoke(app, ["retrain", "--config", str(cfg), "--no-promote", "--json", str(tmp_path / "r.json")])
        assert r.exit_code == 0, r.output
        run = json.loads((tmp_path / "r.json").read_text())
        assert run["promoted"] is False and "gate" in r.output
        assert load_bundle(registry.champion_dir(settings)).version == before
        r = CliRunner().invoke(app, ["monitor", "promote"])
        assert r.exit_code == 0, r.output
        expected = run["challenger_version"] if run["comparison"]["passed"] else before
        assert load_bundle(registry.champion_dir(settings)).version == expected
    finally:
        get_settings.cache_clear()


def test_champion_reference_is_loaded_or_recomputed_from_the_training_window(world) -> None:
    import shutil

    from pesaguard.monitoring.retrain import champion_reference

    store, settings, _ = world
    bundle = load_bundle(registry.champion_dir(settings))
    shutil.rmtree(reference_dir(settings, bundle.version), ignore_errors=True)
    ref = champion_reference(store, settings)  # recomputed by replaying the recorded training window
    assert ref.meta["model_version"] == bundle.version
    assert ref.meta["start_ms"] == bundle.meta["train_start_ms"] and ref.rows > 1000
    assert set(bundle.feature_names) | {"score"} == set(ref.columns)
    again = champion_reference(store, settings)  # now saved with the model
    assert (reference_dir(settings, bundle.version) / "reference.json").exists()
    assert again.columns["score"].counts == ref.columns["score"].counts
