"""The mobile-money world simulator: determinism, ledger invariants, labels, SMS, scenario, CLI."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError
from typer.testing import CliRunner

from pesaguard.schema import TRANSACTION_COLUMNS, TRANSACTION_TYPES
from pesaguard.simulate import TYPOLOGY_NAMES, SimConfig, TypologySet, simulate
from pesaguard.simulate.batch import Keys
from pesaguard.simulate.codes import CASH_OUT, CUSTOMER, DRAIN, P2P
from pesaguard.simulate.ledger import Ledger
from pesaguard.simulate.text import templates_en, templates_sw
from pesaguard.store.core import ACCOUNT_COLUMNS, EVENT_COLUMNS

FILES = ("transactions", "labels", "accounts", "account_events", "sms")
START_DAY_MS = 1_704_056_400_000  # 2024-01-01 00:00 EAT


def boosted(k: float = 40.0) -> TypologySet:
    """Every typology much more frequent, so small worlds (with few agents) hold every kind of fraud."""
    return TypologySet(**{name: cfg.model_copy(update={"intensity": k * (4 if name == "compromised_agent" else 1)})
                          for name, cfg in TypologySet()})


def config(**kw: object) -> SimConfig:
    base: dict[str, object] = {"accounts": 1500, "days": 6, "seed": 8, "typologies": boosted(),
                               "new_typology_from_day": 3, "operator_sender_id": "MPESA", "msisdn_salt": "test-salt"}
    base.update(kw)
    return SimConfig(**base)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> dict[str, pd.DataFrame]:
    out = tmp_path_factory.mktemp("sim")
    summary = simulate(config(), out)
    tables = {name: pq.read_table(out / f"{name}.parquet").to_pandas() for name in FILES}
    tables["summary"] = pd.DataFrame([summary.model_dump()])
    return tables


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_same_seed_gives_byte_identical_files_and_another_seed_does_not(tmp_path: Path) -> None:
    cfg = config(accounts=400, days=3)
    simulate(cfg, tmp_path / "a")
    simulate(cfg, tmp_path / "b")
    simulate(cfg.model_copy(update={"seed": 9}), tmp_path / "c")
    for name in FILES:
        assert _digest(tmp_path / "a" / f"{name}.parquet") == _digest(tmp_path / "b" / f"{name}.parquet"), name
    assert _digest(tmp_path / "a" / "transactions.parquet") != _digest(tmp_path / "c" / "transactions.parquet")
    ids_a = set(pq.read_table(tmp_path / "a" / "transactions.parquet").column("txn_id").to_pylist())
    ids_c = set(pq.read_table(tmp_path / "c" / "transactions.parquet").column("txn_id").to_pylist())
    assert not ids_a & ids_c  # different seeds: different id spaces, so two runs can share a store


def test_transactions_follow_the_contract(run: dict[str, pd.DataFrame]) -> None:
    t = run["transactions"]
    assert list(t.columns) == [*TRANSACTION_COLUMNS, "is_fraud", "typology"]
    assert t["txn_id"].is_unique and t["txn_id"].str.fullmatch(r"[A-Z]{2}[0-9A-Z]{8}").all()
    assert (np.diff(t["ts_ms"].to_numpy()) >= 0).all()
    assert set(t["type"]) <= set(TRANSACTION_TYPES) and set(t["type"]) >= {"cash_in", "cash_out", "p2p", "merchant"}
    assert set(t["currency"]) == {"KES"} and set(t["source"]) == {"simulator"}
    assert set(t["channel"]) <= {"app", "ussd", "agent", "till", "bank"}
    assert (t["amount_minor"] > 0).all() and (t["fee_minor"] >= 0).all()
    assert (t["payer"] != t["payee"]).all()
    pattern = {"C": r"C\d{7}", "A": r"AG\d{5}", "M": r"M\d{5}", "B": r"BK\d{2}|B\d{4}"}
    for col in ("payer", "payee"):
        for ident in t[col].unique():
            assert re.fullmatch(pattern[ident[0]], ident), ident


def test_balances_are_consistent_continuous_and_never_negative(run: dict[str, pd.DataFrame]) -> None:
    t = run["transactions"]
    assert (t.payer_balance_before - t.amount_minor - t.fee_minor == t.payer_balance_after).all()
    assert (t.payee_balance_before + t.amount_minor == t.payee_balance_after).all()
    assert (t[["payer_balance_after", "payee_balance_before"]] >= 0).all().all()
    # each account's balance before a transaction is its balance after the previous one
    n = len(t)
    legs = pd.concat([
        pd.DataFrame({"acct": t.payer, "before": t.payer_balance_before, "after": t.payer_balance_after,
                      "order": np.arange(n) * 2}),
        pd.DataFrame({"acct": t.payee, "before": t.payee_balance_before, "after": t.payee_balance_after,
                      "order": np.arange(n) * 2 + 1}),
    ]).sort_values(["acct", "order"])
    same = legs["acct"].to_numpy()[1:] == legs["acct"].to_numpy()[:-1]
    assert (legs["before"].to_numpy()[1:][same] == legs["after"].to_numpy()[:-1][same]).all()


def test_fees_follow_the_tiers(run: dict[str, pd.DataFrame]) -> None:
    t = run["transactions"]
    cust = t["payer"].str.startswith("C")
    assert (t.loc[t.type.isin(["cash_in", "merchant", "airtime"]), "fee_minor"] == 0).all()
    p2p = t[(t.type == "p2p") & cust]
    assert (p2p.loc[p2p.amount_minor <= 100_00, "fee_minor"] == 0).all()
    assert (p2p.loc[(p2p.amount_minor > 1_000_00) & (p2p.amount_minor <= 1_500_00), "fee_minor"] == 23_00).all()
    out = t[(t.type == "cash_out") & cust].sort_values("amount_minor")
    assert (np.diff(out["fee_minor"].to_numpy()) >= 0).all()  # tiers never fall as amounts rise


def test_every_typology_appears_and_every_fraud_row_names_one(run: dict[str, pd.DataFrame]) -> None:
    t = run["transactions"]
    assert t.loc[t.is_fraud, "typology"].notna().all()
    assert t.loc[~t.is_fraud, "typology"].isna().all()
    assert set(t.loc[t.is_fraud, "typology"]) == set(TYPOLOGY_NAMES)
    # fraud is hard: its amounts overlap legitimate ones, and some of it is small
    fraud, legit = t.loc[t.is_fraud, "amount_minor"], t.loc[~t.is_fraud, "amount_minor"]
    assert legit.quantile(0.1) < fraud.median() < legit.quantile(0.99)
    assert (fraud < 1_000_00).sum() > 0


def test_new_typology_switches_on_at_its_day(run: dict[str, pd.DataFrame]) -> None:
    t = run["transactions"]
    swap_days = (t.loc[t.typology == "till_swap", "ts_ms"] - START_DAY_MS) // 86_400_000
    assert len(swap_days) and swap_days.min() >= 3


def test_default_world_has_a_realistic_fraud_rate(tmp_path: Path) -> None:
    s = simulate(SimConfig(accounts=8000, days=10, seed=3, operator_sender_id="MPESA", msisdn_salt="s"), tmp_path)
    assert 0.0005 <= s.fraud_rate <= 0.006
    assert s.per_typology["till_swap"] == 0  # the new typology is off unless a scenario asks for it
    assert 0.3 < s.label_coverage < 1.0  # some victims never report


def test_labels_arrive_late_and_only_for_fraud(run: dict[str, pd.DataFrame]) -> None:
    t, lab = run["transactions"].set_index("txn_id"), run["labels"]
    assert list(lab.columns) == ["txn_id", "is_fraud", "known_at_ms", "source", "typology"]
    assert lab["is_fraud"].all() and lab["txn_id"].is_unique
    assert set(lab["source"]) <= {"victim_report", "chargeback", "investigation"}
    rows = t.loc[lab["txn_id"]]
    assert rows["is_fraud"].all()
    assert (lab["known_at_ms"].to_numpy() >= rows["ts_ms"].to_numpy()).all()
    assert (lab["typology"].to_numpy() == rows["typology"].to_numpy()).all()
    delay_days = (lab["known_at_ms"].to_numpy() - rows["ts_ms"].to_numpy()) / 86_400_000
    assert np.median(delay_days) > 0.5  # reports come days later, not at once
    assert len(lab) < t["is_fraud"].sum()  # some fraud is never reported


def test_sim_swap_fraud_follows_a_sim_swap_on_the_victims_account(run: dict[str, pd.DataFrame]) -> None:
    t, ev, acc = run["transactions"], run["account_events"], run["accounts"].set_index("account_id")
    assert list(ev.columns) == list(EVENT_COLUMNS) and ev["event_id"].is_unique
    drains = t[(t.typology == "sim_swap_ato") & t.type.isin(["p2p", "airtime"])]
    assert len(drains)
    swaps = ev[ev.kind == "sim_swap"].groupby("account_id")["ts_ms"].apply(list)
    for payer, ts, dev in zip(drains.payer, drains.ts_ms, drains.device_id, strict=True):
        assert any(s <= ts for s in swaps.get(payer, [])), payer
        assert dev != acc.loc[payer, "device_id"]  # the fraudster's phone, not the victim's
    # legit look-alikes: SIM swaps on accounts that never see SIM-swap fraud
    assert set(ev.loc[ev.kind == "sim_swap", "account_id"]) - set(drains.payer)


def test_accounts_table(run: dict[str, pd.DataFrame]) -> None:
    acc, t = run["accounts"], run["transactions"]
    opened = acc.set_index("account_id")["opened_ms"]
    assert (t["ts_ms"].to_numpy() >= opened.reindex(t["payer"]).to_numpy()).all()
    assert (t["ts_ms"].to_numpy() >= opened.reindex(t["payee"]).to_numpy()).all()
    assert (opened > START_DAY_MS).any()  # some accounts open during the run
    assert list(acc.columns) == list(ACCOUNT_COLUMNS)
    assert acc["account_id"].is_unique
    assert set(acc["kind"]) == {"customer", "agent", "merchant", "biller", "bank"}
    cust = acc[acc.kind == "customer"]
    assert (cust["account_id"].str.fullmatch(r"C\d{7}")).all() and cust["income_band"].notna().all()
    assert cust["msisdn_hash"].str.fullmatch(r"[0-9a-f]{32}").all() and cust["msisdn_hash"].is_unique
    assert acc.loc[acc.kind != "customer", "income_band"].isna().all()


def test_notifications_describe_real_transactions(run: dict[str, pd.DataFrame]) -> None:
    t, sms = run["transactions"].set_index("txn_id"), run["sms"]
    note = sms[(sms.kind == "notification") & sms.txn_id.notna()]
    assert len(note) > 100 and set(note["sender"]) == {"MPESA"}
    rows = t.loc[note["txn_id"]]
    for text, txn, amount, payer, payee, who in zip(note.text, note.txn_id, rows.amount_minor, rows.payer, rows.payee,
                                                    note.recipient, strict=True):
        assert text.startswith(txn)
        assert f"Ksh{amount / 100:,.2f}" in text
        assert who in (payer, payee)


def test_scam_messages_lead_to_the_fraud_they_describe(run: dict[str, pd.DataFrame]) -> None:
    t, sms = run["transactions"].set_index("txn_id"), run["sms"]
    scam = sms[sms.kind == "scam"]
    assert (scam["label"] == "scam").all() and scam["scam_type"].notna().all()
    assert set(scam["scam_type"]) == {"reversal", "prize", "impersonation", "phishing", "job_loan", "other"}
    genuine = sms[sms.kind != "scam"]
    assert (genuine["label"] == "genuine").all() and genuine["scam_type"].isna().all()
    led = scam[scam.txn_id.notna()]
    assert len(led) and t.loc[led["txn_id"], "is_fraud"].all()
    assert (t.loc[led["txn_id"], "payer"].to_numpy() == led["recipient"].to_numpy()).all()
    # a fake "you have received" message is not backed by any payment to its recipient at that time
    fake = scam[scam.text.str.contains("received|Umepokea|umepokea", regex=True)]
    assert len(fake)


def test_sms_stream_is_bilingual_and_varied(run: dict[str, pd.DataFrame]) -> None:
    sms = run["sms"]
    assert sms["msg_id"].is_unique
    for kind in ("notification", "personal", "scam"):
        assert set(sms.loc[sms.kind == kind, "lang"]) == {"en", "sw"}, kind
    for kind in ("personal", "scam"):
        texts = sms.loc[sms.kind == kind, "text"]
        assert texts.nunique() > 0.8 * len(texts), kind  # slot variation, not a handful of strings
    # genuine messages carry phone numbers too, so "has a number" is no scam detector
    personal = sms.loc[sms.kind == "personal", "text"]
    assert personal.str.contains(r"(?:\+?254|0)[17]\d{2}[ -]?\d{3}[ -]?\d{3}").any()


def test_enough_templates_per_language() -> None:
    for mod in (templates_en, templates_sw):
        scam = sum(len(v) for v in mod.SCAM.values())
        genuine = sum(len(v) for v in mod.NOTIFY.values()) + len(mod.SERVICE) + len(mod.PERSONAL) + len(mod.MISTAKEN)
        assert scam >= 25 and genuine >= 25, mod.__name__
        assert len(mod.PERSONAL) >= 25


def test_summary_matches_the_files(run: dict[str, pd.DataFrame]) -> None:
    s, t = run["summary"].iloc[0], run["transactions"]
    assert s["transactions"] == len(t)
    assert s["fraud_transactions"] == t["is_fraud"].sum()
    assert s["per_type"] == {k: int(v) for k, v in t["type"].value_counts().items()} | {
        k: 0 for k in s["per_type"] if k not in set(t["type"])}
    assert s["labels"] == len(run["labels"]) and s["sms"]["total"] == len(run["sms"])
    for name, q in s["amount_quantiles_kes"].items():
        kes = t.loc[t.type == name, "amount_minor"] / 100
        assert q == {f"p{p}": float(np.quantile(kes, p / 100, method="inverted_cdf")) for p in (10, 50, 90, 99)}


def test_ledger_rejects_overdrafts_and_settles_drains() -> None:
    balance = np.array([1_000_00, 0, 500_00], dtype=np.int64)
    kind = np.array([CUSTOMER, CUSTOMER, CUSTOMER], dtype=np.int8)
    ledger = Ledger(balance, kind, slot_ms=20 * 60_000, max_amount=250_000_00)
    keys = Keys()
    t0 = 1_704_056_400_000
    batch = keys.make(ts=np.array([t0, t0 + 1, t0 + 2, t0 + 3_600_000]), payer=np.array([1, 0, 2, 2]),
                      payee=np.array([0, 1, 1, 1]), amount=np.array([50_00, 600_00, 0, 0]), type=P2P, channel=0,
                      mode=np.array([0, 0, DRAIN, DRAIN]), frac=np.array([0, 0, 0.5, 0.5]))
    day = ledger.run_day(batch)
    assert day.rows.key.tolist() == [1, 2, 3]  # payer 1 had nothing: rejected
    assert day.rows.amount.tolist() == [600_00, 250_00, 120_00]  # half, then half of what was left less fees
    assert (balance >= 0).all() and balance.sum() == 1_500_00 - day.fee.sum()
    assert ledger.run_day(keys.make(ts=np.array([t0]), payer=0, payee=1, amount=10**9, type=CASH_OUT,
                                    channel=2)).rejected == 1


def test_config_is_strict() -> None:
    with pytest.raises(ValidationError):
        SimConfig(accounts=100, colour="red")  # type: ignore[call-arg]
    with pytest.raises(ValidationError):
        SimConfig(accounts=10)
    cfg = SimConfig(new_typology_from_day=40)
    assert not cfg.typologies.till_swap.enabled
    eff = cfg.effective_typologies().till_swap
    assert eff.enabled and eff.start_day == 40 and not eff.active(39) and eff.active(40)
    with pytest.raises(ValidationError):
        cfg.typologies.sim_swap_ato.rate = 3  # type: ignore[misc]  # frozen


def test_cli_help_and_small_run_with_idempotent_ingest(env_home: Path, tmp_path: Path) -> None:
    from pesaguard.cli.main import app
    from pesaguard.config import get_settings
    from pesaguard.store import open_store
    from pesaguard.store.core import count

    runner = CliRunner()
    res = runner.invoke(app, ["simulate", "--help"])
    assert res.exit_code == 0 and "--accounts" in res.output and "--ingest" in res.output
    args = ["simulate", "--accounts", "300", "--days", "3", "--seed", "5", "--out", str(tmp_path / "run"), "--ingest"]
    first = runner.invoke(app, [*args, "--quiet"])
    assert first.exit_code == 0, first.output
    assert first.output.strip() == str(tmp_path / "run")
    assert (tmp_path / "run" / "overview.png").stat().st_size > 10_000
    with open_store(get_settings()) as store:
        counts = {tab: count(store, tab) for tab in ("transactions", "accounts", "account_events", "labels")}
    n_txn = pq.read_metadata(tmp_path / "run" / "transactions.parquet").num_rows
    assert counts["transactions"] == n_txn > 0 and counts["accounts"] > 300
    second = runner.invoke(app, [*args, "--no-plot"])
    assert second.exit_code == 0, second.output
    assert f"0 new of {n_txn:,}" in second.output
    with open_store(get_settings()) as store:
        assert {tab: count(store, tab) for tab in counts} == counts


def test_cli_rejects_a_bad_start_date(env_home: Path, tmp_path: Path) -> None:
    from pesaguard.cli.main import app

    res = CliRunner().invoke(app, ["simulate", "--out", str(tmp_path), "--start", "1st of May"])
    assert res.exit_code == 64
    assert "--start" in res.output
