"""The SMS scam shield end to end: the trained model's quality floors, behaviour on minimal pairs,
the CLI (check, evaluate) and ``POST /v1/sms/check`` on the real app.

The model is trained once per session (``sms_support``); floors sit a little below what
``benchmarks/bench_sms.py`` measures (docs/benchmarks.md)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from pesaguard.cli.main import app as cli
from pesaguard.config import Settings
from pesaguard.errors import ModelNotReadyError
from pesaguard.service.app import create_app
from pesaguard.service.auth import create_key
from pesaguard.sms.data import dedupe, load_swahili, template_groups
from pesaguard.sms.metrics import scam_metrics
from pesaguard.sms.model import (
    RECIPES,
    Recipe,
    TextModel,
    count_corpus,
    fit_platt,
    fit_recipe,
    oof_scores,
    splits,
)
from pesaguard.sms.normalize import normalize
from pesaguard.sms.shield import Shield, get_shield
from pesaguard.sms.train import CARD_FILE, load_text_model
from sms_support import SMS_DATA, install_model, sms_model_dir  # noqa: F401  (fixture)

runner = CliRunner()

# Written for these tests, never seen in training.
GENUINE = [
    "Hi, I'll be home by 7. Buy bread on your way please",
    "Meeting moved to Thursday 10am, same room",
    "Mama amesema tutaonana Jumapili kanisani",
    "Nimefika salama Dodoma, asante kwa kunisindikiza",
    "Your order has been delivered. Thank you for shopping with us",
    "Tafadhali niletee chaja yangu ukija jioni",
    "Happy birthday bro! Have a great day",
    "Kikao cha wazazi kitafanyika shuleni Ijumaa saa nne asubuhi",
    "Can you pick the kids from school today? I'm stuck at work",
    "Asante kwa chakula cha jana, kilikuwa kitamu sana",
]
SCAMS = [
    "Hello, I have mistakenly sent you Ksh 3,500. Kindly send it back to 0722334455. God bless you",
    "Samahani nimekosea kutuma pesa kwenye namba yako, tafadhali nirudishie Tsh 20,000 kwa 0754123456",
    "Hongera! Namba yako imeshinda Ksh 250,000 kwenye promosheni ya SAFARICOM. Piga 0799887766 kupokea zawadi",
    "Congratulations! You have won 50,000 in the M-PESA lucky draw. Call 0711000111 to claim your prize",
    "Mimi ni wakala wa M-PESA. Laini yako itafungwa leo, tuma namba yako ya siri kwa 0788123456",
    "Dear customer, your M-PESA account will be suspended. Send your PIN to 0700111222 to verify",
    "Mkopo wa haraka bila dhamana! Tuma ada ya usajili Tsh 10,000 kwa 0655443322 upate mkopo wa milioni 2",
    "We are hiring! Earn Ksh 5,000 per day from home. Pay registration fee of Ksh 500 to 0733221100",
]


@pytest.fixture(scope="module")
def model(sms_model_dir: Path) -> TextModel:  # noqa: F811
    settings = Settings(home=sms_model_dir.parent / "sms-home")
    install_model(sms_model_dir, settings)
    return load_text_model(settings)


def _verdicts(model: TextModel, texts: list[str]) -> np.ndarray:
    return model.score([normalize(t) for t in texts]) >= model.scam_threshold


def test_model_card_records_data_protocol_and_floors(sms_model_dir: Path) -> None:  # noqa: F811
    card = json.loads((sms_model_dir / CARD_FILE).read_text())
    assert set(card["data"]["files_sha256"]) >= {"uci_sms_spam_collection.tsv", "swahili_bongo_scam.csv"}
    assert "template-disjoint" in card["protocol"]
    m = card["metrics_oof"]
    # Measured with seed 0: UCI F1 0.954 MCC 0.948, Swahili F1 0.964 (template-disjoint, out of fold;
    # the Swahili figure moves between 0.96 and 0.99 with the seed: whole template families are held out).
    assert m["uci"]["f1"] >= 0.93 and m["uci"]["mcc"] >= 0.92
    assert m["swahili"]["f1"] >= 0.95
    assert m["uci"]["recall_at_1pct_fpr"] >= 0.90 and m["swahili"]["pr_auc"] >= 0.99
    chosen = card["params"]["recipe_selection"]["out_of_fold"]
    assert set(chosen) == {r.label for r in RECIPES}
    picked = f"augmentation={card['params']['augmentation']} C={card['params']['C']:g}"
    assert chosen[picked]["f1"] == max(v["f1"] for v in chosen.values())


def test_swahili_template_disjoint_cross_validation_alone() -> None:
    """The protocol itself, Swahili only: de-duplicate, cluster templates, 5 template-disjoint folds."""
    df = dedupe(load_swahili(SMS_DATA))
    y = df["label"].to_numpy()
    groups = template_groups(list(df["norm"]))
    folds = splits(y, groups)
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
    oof = oof_scores(count_corpus(list(df["norm"]), y), folds)
    p = fit_platt(oof, y).predict_proba(oof.reshape(-1, 1))[:, 1]
    assert scam_metrics(y, p)["f1"] >= 0.95  # measured 0.98 without the other corpora


def test_recipe_is_chosen_by_inner_folds_of_the_rows_given() -> None:
    """fit_recipe scores every candidate on inner folds of the rows it is given and keeps the best F1."""
    df = dedupe(load_swahili(SMS_DATA))
    y, norm = df["label"].to_numpy(), list(df["norm"])
    groups = template_groups(norm)
    corpora = {a: count_corpus(norm, y, augmentation=a) for a in ("genuine", "both")}
    rows = np.flatnonzero(groups % 3 != 0)  # a training side
    recipes = (Recipe("genuine", 0.5), Recipe("both", 0.5))
    fitted = fit_recipe(corpora, y, groups, rows, recipes=recipes)
    assert set(fitted.scores) == {r.label for r in recipes} and len(fitted.oof) == len(rows)
    assert fitted.scores[fitted.recipe.label]["f1"] == max(v["f1"] for v in fitted.scores.values())
    assert scam_metrics(y[rows], fitted.oof)["f1"] == pytest.approx(fitted.scores[fitted.recipe.label]["f1"])


def test_single_message_path_matches_the_pipeline(model: TextModel) -> None:
    norm = [normalize(t) for t in GENUINE + SCAMS]
    batch = model.score(norm)  # the sklearn pipeline
    one_by_one = np.array([model.score([t])[0] for t in norm])  # the hand-rolled single-message path
    # Sparse dot products sum in a different order on the two paths (seen: 1.4e-8 apart in CI);
    # verdict thresholds sit two decimals apart, so 1e-6 still proves the paths are the same model.
    np.testing.assert_allclose(one_by_one, batch, rtol=0, atol=1e-6)


def test_unseen_messages(model: TextModel) -> None:
    assert not _verdicts(model, GENUINE).any()
    assert _verdicts(model, SCAMS).mean() >= 0.85


@pytest.mark.parametrize("add", [" 0712345678", " +255 754 123 456", " call me on 0733000111",
                                 " https://example.co.ke/photos", " www.shule.ac.tz"])
def test_genuine_with_a_number_or_link_added_stays_genuine(model: TextModel, add: str) -> None:
    swahili = load_swahili(SMS_DATA)
    real = list(swahili.loc[swahili["label"] == 0, "text"].sample(100, random_state=1))
    base = GENUINE + real
    keep = ~_verdicts(model, base)
    changed = _verdicts(model, [t + add for t in base])[keep]
    assert changed.mean() <= 0.01, [t for t, c in zip(np.array(base)[keep], changed, strict=True) if c]


def test_scam_with_its_number_removed_stays_scam(model: TextModel) -> None:
    import re

    flagged = [t for t, v in zip(SCAMS, _verdicts(model, SCAMS), strict=True) if v]
    stripped = [re.sub(r"\+?\d[\d ]{8,}\d", "", t) for t in flagged]
    assert _verdicts(model, stripped).all()


@pytest.mark.parametrize("variant", [
    str.upper, str.lower,
    lambda t: "  ".join(t.split()),
    lambda t: t.replace("o", "0").replace("O", "0"),
    lambda t: t.translate(str.maketrans({"a": "а", "e": "е", "o": "о", "p": "р", "c": "с"})),  # Cyrillic
])
def test_case_spacing_and_lookalikes_do_not_change_the_verdict(model: TextModel, variant) -> None:  # type: ignore[no-untyped-def]
    texts = GENUINE + SCAMS
    assert (_verdicts(model, [variant(t) for t in texts]) == _verdicts(model, texts)).all()


def test_missing_model_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ModelNotReadyError, match="pesaguard sms train"):
        get_shield(Settings(home=tmp_path / "empty"))


def test_shield_reasons_and_types(model: TextModel, settings: Settings) -> None:
    shield = Shield(model, settings)
    r = shield.check(SCAMS[4], sender="0788123456")
    assert r.verdict == "scam" and r.scam_type == "pin_phishing" and 0.5 <= r.score <= 1
    assert "asks for your PIN, password or one-time code" in r.reasons
    assert any(x.startswith("wording resembles known scam messages") for x in r.reasons)
    ok = shield.check(GENUINE[0])
    assert ok.verdict == "genuine" and ok.scam_type is None and ok.claim_check.status == "not_a_claim"


@pytest.fixture
def home(env_home: Path, sms_model_dir: Path) -> Path:  # noqa: F811
    install_model(sms_model_dir, Settings(home=env_home))
    return env_home


def test_cli_check_and_evaluate(home: Path, tmp_path: Path) -> None:
    r = runner.invoke(cli, ["sms", "check", SCAMS[0], "--sender", "0722334455", "--to", "C1", "--json"])
    assert r.exit_code == 0, r.output
    out = json.loads(r.output)
    assert out["verdict"] == "scam" and out["scam_type"] == "reversal"
    assert set(out) >= {"verdict", "score", "scam_type", "reasons", "claim_check"}
    r = runner.invoke(cli, ["sms", "check", GENUINE[2]])
    assert r.exit_code == 0 and r.output.startswith("genuine")
    f = tmp_path / "mine.csv"
    f.write_text("message,kind\n" + "".join(f'"{t}",ok\n' for t in GENUINE) + "".join(f'"{t}",fraud\n' for t in SCAMS))
    r = runner.invoke(cli, ["sms", "evaluate", str(f), "--text-col", "message", "--label-col", "kind",
                            "--positive", "fraud,scam", "--json", str(tmp_path / "m.json")])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "m.json").read_text())
    assert m["n"] == 18 and m["positives"] == 8 and m["precision"] == 1.0
    assert set(m) >= {"precision", "recall", "f1", "mcc", "pr_auc", "recall_at_1pct_fpr"}
    r = runner.invoke(cli, ["sms", "evaluate", str(f), "--text-col", "text", "--label-col", "kind", "--positive", "x"])
    assert r.exit_code == 65 and "mine.csv" in r.output and "message, kind" in r.output
    only = tmp_path / "scams_only.csv"
    only.write_text("text,label\n" + "".join(f'"{t}",scam\n' for t in SCAMS))
    r = runner.invoke(cli, ["sms", "evaluate", str(only), "--text-col", "text", "--label-col", "label",
                            "--positive", "scam", "--json", str(tmp_path / "only.json")])
    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "only.json").read_text())  # strict JSON: no NaN
    assert m["recall"] >= 0.85 and m["mcc"] is None and m["pr_auc"] is None
    tsv = tmp_path / "uci_like.tsv"
    tsv.write_text("".join(f"ham\t{t}\n" for t in GENUINE) + "".join(f"spam\t{t}\n" for t in SCAMS))
    r = runner.invoke(cli, ["sms", "evaluate", str(tsv), "--text-col", "1", "--label-col", "0", "--positive", "spam"])
    assert r.exit_code == 0, r.output


def test_cli_check_without_a_model(env_home: Path) -> None:
    r = runner.invoke(cli, ["sms", "check", "hello"])
    assert r.exit_code == 69 and "pesaguard sms train" in r.output


def test_api_check(settings: Settings, sms_model_dir: Path) -> None:  # noqa: F811
    with TestClient(create_app(settings)) as client:  # one app: its start-up costs seconds
        key = {"Authorization": f"Bearer {create_key(client.app.state.store, 'scorer')}"}  # type: ignore[attr-defined]
        r = client.post("/v1/sms/check", json={"text": "hello"}, headers=key)
        assert r.status_code == 503 and r.json()["error"]["code"] == "model_not_ready"
        assert "pesaguard sms train" in r.json()["error"]["hint"]
        install_model(sms_model_dir, settings)
        body = {"text": SCAMS[2], "sender": "+255799887766", "to": "C42", "received_at": "2024-01-03T14:15:00+03:00"}
        r = client.post("/v1/sms/check", json=body, headers=key)
        assert r.status_code == 200, r.text
        out = r.json()
        assert out["verdict"] == "scam" and out["scam_type"] == "prize"
        assert set(out) == {"msg_id", "verdict", "score", "scam_type", "reasons", "claim_check", "model_version"}
        again = client.post("/v1/sms/check", json=body, headers=key).json()
        assert again["msg_id"] == out["msg_id"]
        store = client.app.state.store  # type: ignore[attr-defined]
        assert store.scalar("SELECT COUNT(*) FROM sms_messages WHERE recipient = 'C42'") == 1
        assert client.post("/v1/sms/check", json={"text": "hi"}).status_code == 401
        r = client.post("/v1/sms/check", json={"text": "", "extra": 1}, headers=key)
        assert r.status_code == 422 and r.json()["error"]["code"] == "invalid_input"


def test_scan_stores_a_run_idempotently(model: TextModel, settings: Settings, store, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from pesaguard.sms.scan import scan_file
    from pesaguard.store.sms import load_sms, scam_sms_events

    texts = GENUINE + SCAMS
    frame = pd.DataFrame({"msg_id": [f"m{i}" for i in range(len(texts))], "ts_ms": [1000 + i for i in range(len(texts))],
                          "sender": ["+254700000001"] * len(texts), "recipient": [f"C{i % 3}" for i in range(len(texts))],
                          "text": texts, "label": ["genuine"] * len(GENUINE) + ["scam"] * len(SCAMS)})
    frame.to_parquet(tmp_path / "sms.parquet")
    shield = Shield(model, settings)
    counts = scan_file(shield, store, tmp_path, chunk_rows=7)
    assert counts["messages"] == counts["new"] == len(texts)
    assert counts["scam"] + counts["suspicious"] + counts["genuine"] == len(texts)
    assert scan_file(shield, store, tmp_path / "sms.parquet")["new"] == 0
    saved = load_sms(store)
    assert not saved["text_redacted"].str.contains("0722334455").any()
    assert (saved["label"] == frame["label"]).all()
    assert (saved.loc[saved["label"] == "genuine", "verdict"] != "scam").all()
    events = scam_sms_events(store, 0, 10_000)
    assert len(events) == counts["scam"] >= 7 and set(events["account_id"]) <= {"C0", "C1", "C2"}
