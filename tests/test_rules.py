"""Operator rules: parsing with located errors, deterministic explained evaluation, backtest."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from pesaguard.cli.main import app as cli
from pesaguard.decisions.backtest import condition_mask, report
from pesaguard.decisions.history import backtest_store
from pesaguard.decisions.policy import Policy
from pesaguard.decisions.rules import Condition, load_rules, parse_rules
from pesaguard.errors import InputError
from pesaguard.store import Store, core

GOOD = """
thresholds: {review: 0.6, block: 0.9}
lists:
  blocked_accounts: [C9, 12345]
  trusted: [C1]
rules:
  - name: trusted_payer
    when: payer in_list trusted
    action: allow
    reason: payer is trusted
  - name: sim_swap_cash_out
    when: ["amount_minor > 5000000", "features.sim_swap_age_h < 24", "type in [cash_out]"]
    action: block
    reason: large cash-out within a day of a SIM swap
  - name: blocked
    when: ["payer in_list blocked_accounts"]
    action: block
    reason: payer is blocked
  - name: night_p2p
    when: ["features.hour < 5", "type == p2p"]
    action: review
    reason: night-time transfer
"""


def _write(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "rules.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def test_a_good_file_parses_with_typed_values(tmp_path: Path) -> None:
    rules = load_rules(_write(tmp_path, GOOD))
    assert [r.name for r in rules.rules] == ["trusted_payer", "sim_swap_cash_out", "blocked", "night_p2p"]
    assert rules.rules[1].when[0] == Condition(text="amount_minor > 5000000", field="amount_minor", op=">",
                                               value=5_000_000)
    assert rules.rules[1].when[2].value == ["cash_out"]
    assert rules.lists["blocked_accounts"] == frozenset({"C9", "12345"})  # YAML numbers become ids


@pytest.mark.parametrize(("change", "field", "words"), [
    (("amount_minor > 5000000", "amount > 5000000"), "rules.1.when", ["rule 2", "sim_swap_cash_out", "amount"]),
    (("action: review", "action: escalate"), "rules.3.action", ["rule 4", "night_p2p"]),
    (("reason: payer is blocked", "reason: payer is blocked\n    colour: red"), "rules.2.colour",
     ["rule 3", "blocked", "Extra inputs"]),
    (("payer in_list blocked_accounts", "payer in_list blocklist"), "rules", ["blocklist", "not defined"]),
    (("features.hour < 5", "features.hour < five"), "rules.3.when", ["needs a number"]),
    (("features.hour < 5", "features.hour ~ 5"), "rules.3.when", ["cannot read condition"]),
    (("name: night_p2p", "name: blocked"), "rules", ["unique", "blocked"]),
    (("block: 0.9", "block: 0.1"), "thresholds", ["block threshold"]),
])
def test_bad_files_name_file_rule_and_field(tmp_path: Path, change: tuple[str, str], field: str,
                                            words: list[str]) -> None:
    path = _write(tmp_path, GOOD.replace(*change))
    with pytest.raises(InputError) as info:
        load_rules(path)
    err = info.value
    assert err.file == str(path) and err.field is not None and err.field.startswith(field)
    for w in words:
        assert w in str(err)


def test_unreadable_and_invalid_yaml_are_input_errors(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read"):
        load_rules(tmp_path / "missing.yaml")
    with pytest.raises(InputError, match="not valid YAML"):
        load_rules(_write(tmp_path, "rules: [unclosed"))
    with pytest.raises(InputError, match="Extra inputs"):
        parse_rules({"rule": []})


def test_policy_precedence_and_explanations(tmp_path: Path) -> None:
    policy = Policy(load_rules(_write(tmp_path, GOOD)))
    base = {"txn_id": "t", "payer": "C5", "amount_minor": 6_000_000, "type": "cash_out"}
    out = policy.decide(base, 0.1, [], {"sim_swap_age_h": 3.0, "hour": 12})
    assert out.action == "block" and out.reasons == ["large cash-out within a day of a SIM swap"]
    assert out.rule_hits[0]["matched"] == [
        {"condition": "amount_minor > 5000000", "value": 6_000_000},
        {"condition": "features.sim_swap_age_h < 24", "value": 3.0},
        {"condition": "type in [cash_out]", "value": "cash_out"}]
    # a missing feature never hits
    assert policy.decide(base, 0.1, [], {"hour": 12}).action == "allow"
    # the score alone: review between thresholds, with the model's reasons
    mid = policy.decide({**base, "type": "p2p"}, 0.7, ["new payee"], {"hour": 12})
    assert mid.action == "review" and mid.reasons == ["new payee", "model score 70% is above the review threshold (60%)"]
    assert mid.score == 0.7  # no weighted rule hit: the decision's risk is the model's probability
    # an allow rule wins over a block rule and a high score
    trusted = policy.decide({**base, "payer": "C1"}, 0.99, [], {"sim_swap_age_h": 3.0})
    assert trusted.action == "allow" and [h["rule"] for h in trusted.rule_hits] == ["trusted_payer",
                                                                                   "sim_swap_cash_out"]
    # deterministic: the same input gives the same outcome
    assert policy.decide(base, 0.5, [], {"sim_swap_age_h": 3.0}) == policy.decide(base, 0.5, [], {"sim_swap_age_h": 3.0})


_values = st.one_of(st.none(), st.integers(-5, 5), st.floats(-5, 5), st.just(float("nan")), st.sampled_from(["a", "b", "3"]))


@settings(max_examples=150, deadline=None)
@given(values=st.lists(_values, min_size=1, max_size=20),
       cond=st.sampled_from(["x == 3", "x != a", "x < 1", "x >= 0", "x in [a, 3]", "x not_in [b]",
                             "x in_list L", "x not_in_list L"]))
def test_vectorised_backtest_agrees_with_live_evaluation(values: list[object], cond: str) -> None:
    c = Condition.parse(cond.replace("x", "features.x"))
    lists = {"L": frozenset({"a", "3"})}
    frame = pd.DataFrame({"features.x": pd.Series(values, dtype=object)})
    live = [c.test({}, {"x": v}, lists)[0] for v in values]
    assert condition_mask(c, frame, lists).tolist() == live


def test_report_counts_precision_and_recall() -> None:
    rules = parse_rules({"rules": [{"name": "big", "when": ["amount_minor > 100"], "action": "review",
                                    "reason": "big"}]})
    frame = pd.DataFrame({"amount_minor": [50, 150, 200, 300]})
    rows = report(rules, frame, np.array([1, 1, 0, 0]))
    assert rows[0] == {"rule": "big", "action": "review", "hits": 3, "fraud_hits": 1, "precision": 1 / 3,
                       "recall": 0.5}
    assert rows[1]["rule"] == "(any rule)"


def _history(store: Store) -> None:
    t0 = 1_717_200_000_000
    n = 40
    core.insert_transactions(store, pd.DataFrame({
        "txn_id": [f"t{i}" for i in range(n)], "ts_ms": [t0 + i * 60_000 for i in range(n)],
        "payer": ["C9" if i % 10 == 0 else f"C{i % 4}" for i in range(n)], "payee": ["M1"] * n,
        "amount_minor": [10_000_000 if i % 5 == 0 else 1_000 for i in range(n)], "currency": ["KES"] * n,
        "type": ["cash_out" if i % 2 == 0 else "p2p" for i in range(n)]}))
    core.insert_labels(store, pd.DataFrame({"txn_id": ["t0", "t10", "t5", "t3"], "is_fraud": [1, 1, 0, 1],
                                            "known_at_ms": [t0 + 10**8] * 4, "source": ["test"] * 4}))


def test_backtest_replays_the_store(store: Store) -> None:
    _history(store)
    rules = parse_rules({"lists": {"bad": ["C9"]}, "rules": [
        {"name": "bad_payer", "when": ["payer in_list bad"], "action": "block", "reason": "bad"},
        {"name": "big_cash_out", "when": ["amount_minor > 5000000", "type in [cash_out]"], "action": "review",
         "reason": "big"},
        {"name": "repeat", "when": ["features.payer_count_24h >= 1"], "action": "review", "reason": "again"}]})
    t0 = 1_717_200_000_000
    res = backtest_store(store, rules, t0, t0 + 20 * 60_000)  # t0..t19
    assert (res["transactions"], res["fraud"], res["labelled"]) == (20, 3, 4)
    by = {r["rule"]: r for r in res["rules"]}
    assert by["bad_payer"]["hits"] == 2 and by["bad_payer"]["precision"] == 1.0  # t0, t10
    assert by["big_cash_out"]["hits"] == 2 and by["big_cash_out"]["fraud_hits"] == 2  # t0, t10 (t5, t15 are p2p)
    assert by["repeat"]["hits"] == 20 - 5  # every payer's first transaction has no history
    assert by["bad_payer"]["recall"] == pytest.approx(2 / 3)


def test_cli_backtest_and_check(tmp_path: Path, env_home: Path) -> None:
    from pesaguard.config import get_settings
    from pesaguard.store import open_store

    with open_store(get_settings()) as store:
        _history(store)
    path = _write(tmp_path, GOOD)
    runner = CliRunner()
    ok = runner.invoke(cli, ["rules", "check", str(path)])
    assert ok.exit_code == 0, ok.output
    out = runner.invoke(cli, ["rules", "backtest", str(path), "--from", "2024-06-01", "--to", "2024-06-02",
                              "--json", str(tmp_path / "bt.json")])
    assert out.exit_code == 0, out.output
    assert "blocked" in out.output and (tmp_path / "bt.json").exists()
    bad = runner.invoke(cli, ["rules", "check", str(_write(tmp_path, GOOD.replace("type ==", "kind ==")))])
    assert bad.exit_code == 65 and "night_p2p" in bad.output


def test_quiet_prints_results_before_or_after_the_command(tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    runner = CliRunner()
    for args in (["-q", "rules", "check", str(path)], ["rules", "check", str(path), "-q"],
                 ["rules", "check", "--quiet", str(path)]):
        out = runner.invoke(cli, args)
        assert out.exit_code == 0, out.output
        assert out.output.rstrip().endswith(": OK") and "rules, 2 lists" in " ".join(out.output.split())
    from pesaguard.cli.common import state

    state.quiet = False
