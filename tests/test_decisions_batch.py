"""Batch and live agree: ``pesaguard score`` gives every transaction of a stream the action, risk,
reasons and rule hits the decision service gives the same stream, under the same policy file."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from models_synth import small_bundle, synth
from pesaguard.config import Settings
from pesaguard.models.bundle import ModelBundle
from pesaguard.models.scorer import Scorer
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key


@pytest.fixture(scope="module")
def bundle() -> ModelBundle:
    return small_bundle()


def _policy_file(path: Path, scores: list[float], amounts: pd.Series) -> Path:
    """Thresholds inside the stream's scores (both model verdicts occur), the typology pack, and
    rules of every action, one weighted and one on a window aggregate."""
    ranked = sorted(scores, reverse=True)
    path.write_text(yaml.safe_dump({
        "thresholds": {"review": ranked[30], "block": ranked[5]},
        "packs": ["mobile-money"],
        "lists": {"trusted": ["C3"]},
        "rules": [
            {"name": "large", "when": [f"amount_minor >= {int(amounts.quantile(0.9))}"], "action": "review",
             "weight": 0.4, "reason": "a large payment: {amount_minor}"},
            {"name": "busy_payer", "when": ["count(payer, 24h) >= 2"], "action": "review", "weight": 0.2,
             "reason": "the payer's {count(payer, 24h)} payment today"},
            {"name": "trusted_payer", "when": ["payer in_list trusted"], "action": "allow",
             "reason": "the payer is trusted"},
        ],
    }))
    return path


def test_score_and_the_service_decide_a_shared_stream_alike(bundle: ModelBundle, tmp_path: Path,
                                                            env_home: Path) -> None:
    from pesaguard.cli.main import app as cli

    tx, _ = synth(accounts=40, days=2, seed=9, minimal=True)
    tx = tx.sort_values("ts_ms", kind="stable").reset_index(drop=True)
    reference = Scorer(bundle)
    scores = [reference.score({k: (int(v) if isinstance(v, np.integer) else v) for k, v in r.items()}).score
              for r in tx.to_dict("records")]
    rules = _policy_file(tmp_path / "rules.yaml", scores, tx["amount_minor"])
    bundle_dir = bundle.save(tmp_path / "bundle")
    tx.to_csv(tmp_path / "stream.csv", index=False)

    res = CliRunner().invoke(cli, ["score", str(tmp_path / "stream.csv"), "--out", str(tmp_path / "batch.csv"),
                                   "--model-dir", str(bundle_dir), "--rules", str(rules)])
    assert res.exit_code == 0, res.output
    batch = pd.read_csv(tmp_path / "batch.csv", keep_default_na=False).set_index("txn_id")

    app = create_app(Settings(home=tmp_path / "service"), scorer=Scorer(bundle), rules_path=rules)
    with TestClient(app) as client:
        key = {"X-API-Key": create_key(app.state.store, "scorer")}
        live = []
        for r in tx.to_dict("records"):
            body = {k: (int(v) if isinstance(v, np.integer) else v) for k, v in r.items()}
            answer = client.post("/v1/transactions", json=body, headers=key)
            assert answer.status_code == 200, answer.text
            live.append(answer.json())

    assert len(batch) == len(live) == len(tx)
    for d in live:
        row = batch.loc[d["txn_id"]]
        assert row["action"] == d["action"], d["txn_id"]
        assert row["score"] == pytest.approx(d["score"], rel=1e-9, abs=1e-12), d["txn_id"]
        assert row["reasons"] == "; ".join(d["reasons"]), d["txn_id"]
        assert row["rules"] == ";".join(h["rule"] for h in d["rule_hits"]), d["txn_id"]
        assert (str(row["model_version"]), row["policy_version"]) == (d["model_version"], d["policy_version"])
    # every kind of verdict occurred, so the agreement covers each path through the policy
    actions = {d["action"] for d in live}
    hit = {h["rule"] for d in live for h in d["rule_hits"]}
    assert actions == {"allow", "review", "block"}
    assert {"large", "busy_payer", "trusted_payer"} <= hit
    assert any("above the review threshold" in r for d in live for r in d["reasons"])
