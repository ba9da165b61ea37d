"""The policy language's windows, recency and sequences; the shipped typology pack; the combined
evaluation (vectorised policy equals live decisions)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pesaguard.decisions.backtest import build_frame, typology_report
from pesaguard.decisions.evaluation import compare, decide_frame, reviewed_at_budget
from pesaguard.decisions.policy import Policy, combine, pct
from pesaguard.decisions.rules import Condition, Thresholds, parse_rules
from pesaguard.decisions.typologies import load_pack
from pesaguard.errors import InputError, NotFoundError
from pesaguard.features import feature_names

H = 3600


def test_shorthands_name_the_engine_features() -> None:
    assert Condition.parse("count(payer, 1h) >= 3").field == "features.payer_count_1h"
    assert Condition.parse("distinct(payee, 24h) >= 5").field == "features.payee_distinct_payers_24h"
    assert Condition.parse("frauds(payee, 30d) >= 1").field == "features.payee_fraud_count_30d"
    since = Condition.parse("since(sim_swap) <= 24h")
    assert (since.field, since.value) == ("features.payer_secs_since_sim_swap", 86_400)
    order = Condition.parse("since(device_change) <= since(sim_swap)")
    assert (order.field, order.ref) == ("features.payer_secs_since_device_change", "features.payer_secs_since_sim_swap")


@pytest.mark.parametrize(("text", "words"), [
    ("count(payer, 2h) >= 3", ["windows 1h, 24h, 7d, 30d", "'2h'"]),
    ("frauds(payee, 1h) >= 1", ["24h, 7d, 30d"]),
    ("median(payer, 1h) > 3", ["unknown function", "since(EVENT)"]),
    ("distinct(merchant, 1h) > 3", ["payer and payee"]),
    ("since(pin_reset) < 1h", ["since(EVENT)", "sim_swap"]),
    ("amount_minor < 24h", ["a duration compares only with a time since"]),
    ("since(sim_swap) in since(device_change)", ["cannot compare two fields"]),
])
def test_language_errors_say_what_to_write(text: str, words: list[str]) -> None:
    with pytest.raises(InputError) as info:
        parse_rules({"rules": [{"name": "r", "when": [text], "action": "review", "reason": "x"}]}, "p.yaml")
    assert info.value.file == "p.yaml" and info.value.field == "rules.0.when"
    for w in words:
        assert w in str(info.value)


def test_a_sequence_is_events_in_order_within_a_window() -> None:
    rules = parse_rules({"rules": [{
        "name": "takeover", "sequence": ["sim_swap", "device_change"], "within": "24h",
        "when": ["features.pair_is_new == 1", "features.balance_drain > 0.5"], "action": "block", "weight": 0.6,
        "reason": "{features.balance_drain} of the balance to a new payee {since(sim_swap)} after a SIM swap"}]})
    policy = Policy(rules, Thresholds(review=0.5, block=0.9))
    feats = {"payer_secs_since_sim_swap": 2 * H + 300, "payer_secs_since_device_change": 2 * H,
             "pair_is_new": 1.0, "balance_drain": 0.85}
    out = policy.decide({"type": "p2p"}, 0.01, [], feats)
    assert out.action == "block"
    assert out.reasons == ["85% of the balance to a new payee 2 h 5 min after a SIM swap"]
    assert [m["condition"] for m in out.rule_hits[0]["matched"]][:2] == [
        "since(sim_swap) <= 24h", "since(device_change) <= since(sim_swap)"]
    # the phone changed before the SIM swap: not this sequence
    assert policy.decide({}, 0.01, [], {**feats, "payer_secs_since_device_change": 3 * H}).action == "allow"
    # too long ago, or never: not within 24 hours
    assert policy.decide({}, 0.01, [], {**feats, "payer_secs_since_sim_swap": 30 * H}).action == "allow"
    assert policy.decide({}, 0.01, [], {**feats, "payer_secs_since_sim_swap": float("nan")}).action == "allow"
    with pytest.raises(InputError, match="within"):
        parse_rules({"rules": [{"name": "x", "sequence": ["sim_swap"], "action": "review", "reason": "x"}]})


def test_weights_rank_fully_in_cold_start_and_a_tenth_next_to_a_supervised_model() -> None:
    rules = parse_rules({"rules": [
        {"name": "a", "when": ["features.x > 1"], "action": "review", "weight": 0.5, "reason": "a"},
        {"name": "b", "when": ["features.y > 1"], "action": "review", "weight": 0.2, "reason": "b"}]})
    th = Thresholds(review=0.3, block=0.9)
    cold = Policy(rules, th, mode="cold_start").decide({}, 0.1, [], {"x": 2, "y": 2})
    assert cold.score == pytest.approx(combine(0.1, [0.5, 0.2])) == pytest.approx(1 - 0.9 * 0.5 * 0.8)
    sup = Policy(rules, th).decide({}, 0.1, [], {"x": 2, "y": 2})
    # next to a supervised model the rules mostly act as overrides: a tenth of their weight ranks
    assert sup.action == "review" and sup.score == pytest.approx(1 - 0.9 * 0.95 * 0.98)
    assert pct(0.4213) == "42%" and pct(0.0312) == "3.1%" and pct(0.0027) == "0.27%" and pct(0.0000412) == "0.0041%"


def test_the_shipped_pack_is_valid_covers_the_simulator_and_uses_real_features() -> None:
    from pesaguard.simulate import TYPOLOGY_NAMES

    pack = load_pack("mobile-money")
    rules = parse_rules({"packs": ["mobile-money"]})
    names = set(feature_names())
    for rule in rules.rules:
        assert rule.typology and rule.action in ("review", "block") and rule.weight is not None
        for c in rule.conditions:
            for f in (c.field, c.ref):
                if f and f.startswith("features."):
                    assert f[len("features."):] in names, (rule.name, f)
    covered = {s for t in pack.typologies for s in t.covers}
    assert covered == set(TYPOLOGY_NAMES) - {"till_swap"}  # every simulated typology that is on by default
    catalogue = {"agent_split_deposit", "new_account_mule", "dormant_account_takeover", "structuring"}
    assert catalogue <= {t.name for t in pack.typologies}
    for t in pack.typologies:
        assert t.sources and t.description and t.pattern


def test_operators_switch_off_or_change_pack_typologies() -> None:
    rules = parse_rules({"packs": ["mobile-money"], "typologies": {
        "structuring": {"enabled": False}, "mule_fan_in": {"action": "block", "weight": 0.5}}})
    by = {r.name: r for r in rules.rules}
    assert not by["structuring.repeated_near_limit"].enabled
    assert (by["mule_fan_in.many_new_payers"].action, by["mule_fan_in.many_new_payers"].weight) == ("block", 0.5)
    with pytest.raises(InputError, match="not a typology"):
        parse_rules({"packs": ["mobile-money"], "typologies": {"no_such": {"enabled": False}}})
    with pytest.raises(NotFoundError, match="mobile-money"):
        parse_rules({"packs": ["nope"]})


def test_a_pack_from_a_directory_and_its_errors(tmp_path: Path) -> None:
    (tmp_path / "pack.yaml").write_text("name: mine\nversion: '1.0'\ndescription: d\ntypologies: [t.yaml]\n")
    (tmp_path / "t.yaml").write_text(
        "name: t\nversion: '1.0'\ntitle: T\ndescription: d\npattern: p\nsources: [s]\naction: review\n"
        "weight: 0.1\nrules:\n  - name: r\n    when: ['count(payer, 1h) >= 3']\n    reason: busy\n")
    rules = parse_rules({"packs": [str(tmp_path)]})
    assert [r.name for r in rules.rules] == ["t.r"] and rules.rules[0].when[0].field == "features.payer_count_1h"
    (tmp_path / "t.yaml").write_text((tmp_path / "t.yaml").read_text().replace("action: review", "action: maybe"))
    with pytest.raises(InputError) as info:
        load_pack(str(tmp_path))
    assert info.value.file == str(tmp_path / "t.yaml") and info.value.field == "action"


_feat = st.one_of(st.none(), st.floats(0, 200_000), st.just(float("nan")))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(st.tuples(_feat, _feat, st.sampled_from([0.0, 1.0]), st.floats(0, 1),
                               st.sampled_from(["p2p", "cash_out", "merchant"]), st.floats(0, 1)),
                     min_size=1, max_size=25),
       mode=st.sampled_from(["supervised", "cold_start"]))
def test_the_vectorised_policy_decides_as_live(rows: list[tuple], mode: str) -> None:
    rules = parse_rules({"packs": ["mobile-money"], "rules": [
        {"name": "trusted", "when": ["payer in_list ok"], "action": "allow", "reason": "trusted"}],
        "lists": {"ok": ["C1"]}})
    policy = Policy(rules, Thresholds(review=0.3, block=0.8), mode=mode)
    txns = pd.DataFrame({"payer": [f"C{i % 3}" for i in range(len(rows))], "type": [r[4] for r in rows],
                         "amount_minor": [1_000] * len(rows)})
    feats = pd.DataFrame({"payer_secs_since_sim_swap": [r[0] for r in rows],
                          "payer_secs_since_device_change": [r[1] for r in rows], "pair_is_new": [r[2] for r in rows],
                          "balance_drain": [r[3] for r in rows]}, dtype=float)
    p = np.array([r[5] for r in rows])
    risk, action = decide_frame(policy, build_frame(txns, feats), p)
    for i in range(len(rows)):
        live = policy.decide(txns.iloc[i].to_dict(), float(p[i]), [], feats.iloc[i].to_dict())
        assert (action[i], risk[i]) == pytest.approx((live.action, live.score))


def test_budget_reviews_the_top_share_of_each_day_and_never_a_zero() -> None:
    day = 86_400_000
    ts = np.array([0, 1, 2, 3, day, day + 1])
    risk = np.array([0.9, 0.1, 0.5, 0.0, 0.0, 0.0])
    assert reviewed_at_budget(ts, risk, 0.5).tolist() == [True, False, True, False, False, False]


def test_compare_and_typology_report_count_what_they_say() -> None:
    txns = pd.DataFrame({"txn_id": list("abcd"), "ts_ms": [0, 1, 2, 3], "payer": list("wxyz"), "payee": ["P"] * 4,
                         "amount_minor": [100, 200, 300, 400], "type": ["p2p"] * 4, "is_fraud": [1, 0, 1, 0],
                         "typology": ["mule_network", None, "sim_swap_ato", None]})
    feats = pd.DataFrame({"pair_is_new": [1.0, 1.0, 0.0, 0.0], "payee_distinct_payers_24h": [6.0, 7.0, 1.0, 1.0]})
    rules = parse_rules({"packs": ["mobile-money"]})
    rep = typology_report(rules, build_frame(txns, feats), txns["is_fraud"].to_numpy(), 2.0,
                          {"mule_fan_in": ["mule_network"]}, txns["typology"].fillna("").to_numpy())
    fan = next(r for r in rep["typologies"] if r["typology"] == "mule_fan_in")
    assert (fan["alerts"], fan["fraud_hits"], fan["precision"], fan["recall"], fan["alerts_per_day"],
            fan["money_caught_minor"]) == (2, 1, 0.5, 1.0, 1.0, 100)
    assert rep["by_truth"]["sim_swap_ato"]["recall"] == 0.0
    arms = compare(txns.drop(columns=["is_fraud"]).assign(is_fraud=txns["is_fraud"]), feats,
                   Policy(rules, Thresholds(review=0.5, block=0.9)), np.array([0.6, 0.1, 0.7, 0.2]), budget=0.5)
    assert arms["model"]["recall_at_budget"] == 1.0 and arms["model"]["average_precision"] == 1.0
    assert arms["pack"]["recall_at_budget"] == 0.5 and arms["pack"]["money_caught_minor"] == 100
    assert arms["combined"]["alerts_per_day"] == 3.0  # a, c by score; b by the fan-in rule


def test_cli_backtests_a_pack_on_simulated_worlds(tmp_path: Path, env_home: Path) -> None:
    import json

    from typer.testing import CliRunner

    from pesaguard.cli.main import app as cli

    out = CliRunner().invoke(cli, ["rules", "backtest", "--pack", "mobile-money", "--seeds", "4", "--accounts", "400",
                                   "--days", "33", "--json", str(tmp_path / "bt.json")])
    assert out.exit_code == 0, out.output
    assert "sim_swap_takeover" in out.output and "(pack)" in out.output
    report = json.loads((tmp_path / "bt.json").read_text())
    world = report["worlds"][0]
    assert report["packs"]["mobile-money"]["digest"] == load_pack().digest
    assert world["days"] == pytest.approx(3.0, abs=0.05)  # 33 days, the first 30 fill the windows
    rows = {r["typology"]: r for r in world["typologies"]}
    assert set(rows) == {t.name for t in load_pack().typologies} | {"(pack)"}
    assert rows["(pack)"]["alerts"] >= max(r["alerts"] for r in rows.values() if r["typology"] != "(pack)")
    bad = CliRunner().invoke(cli, ["rules", "backtest", "--pack", "mobile-money", "--from", "2024-01-01"])
    assert bad.exit_code == 64 and "both --from and --to" in bad.output


def test_the_pack_digest_follows_what_decides_not_the_wording() -> None:
    """Figures name the pack digest they were measured on: rewording a reason keeps them valid,
    changing a condition, an action or a weight does not."""
    pack = load_pack("mobile-money")
    first = pack.typologies[0]
    rule = first.rules[0]

    def with_typology(t: object) -> str:
        return pack.model_copy(update={"typologies": [t, *pack.typologies[1:]]}).digest

    reworded = first.model_copy(update={"title": "x", "description": "y", "sources": ["z"],
                                        "rules": [rule.model_copy(update={"reason": "other words"}),
                                                  *first.rules[1:]]})
    assert with_typology(reworded) == pack.digest
    for change in ({"weight": round(1 - first.weight, 2)}, {"action": "block" if first.action == "review" else "review"},
                   {"rules": [rule.model_copy(update={"when": [*rule.when, "amount >= 1"]}), *first.rules[1:]]}):
        assert with_typology(first.model_copy(update=change)) != pack.digest, change
