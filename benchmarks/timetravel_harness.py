"""Time travel: a simulated world where a new fraud typology appears, run through the real pipeline.

simulate -> ingest -> train the champion on days ``[0, train_end_day)`` -> score every later
transaction one by one through the same :class:`~pesaguard.models.scorer.Scorer` and
:class:`~pesaguard.decisions.decider.DecisionService` code the API uses, into the prediction log
(labels reach the live feature state when they become known) -> monitor -> retrain at
``retrain_day`` through the gate -> (optionally) score the following days with the winner.

Day numbers count from the end of a burn-in: the simulator starts with empty histories, so its
first ``burn_in_days`` only fill the 30-day feature windows and are never used as a reference.
Used by ``tests/test_monitoring_timetravel.py`` (small) and ``benchmarks/time_travel.py`` (larger);
a benchmark harness, so it lives outside the package (nothing in ``pesaguard`` imports it).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.decisions.decider import DecisionService, data_row, request_hash
from pesaguard.decisions.policy import Policy
from pesaguard.decisions.rules import Thresholds
from pesaguard.features import FeatureConfig
from pesaguard.models.bundle import ModelBundle
from pesaguard.models.data import build_matrix, from_store
from pesaguard.models.scorer import Scorer
from pesaguard.monitoring import gate as gate_mod
from pesaguard.monitoring import snapshot
from pesaguard.monitoring.config import GateConfig, MonitorConfig
from pesaguard.monitoring.drift import feature_frame
from pesaguard.monitoring.drift_reference import Reference, build_reference
from pesaguard.schema import TRANSACTION_COLUMNS, Transaction
from pesaguard.store import Store, core
from pesaguard.store import decision_log as decisions_repo

DAY_MS = 86_400_000
Say = Callable[[str], None]


@dataclass(frozen=True)
class TimeTravel:
    """The scenario and the schedule (days after the burn-in)."""

    accounts: int = 800
    days: int = 60
    shift_day: int = 40
    train_end_day: int = 30
    retrain_day: int = 60
    after_days: int = 0
    burn_in_days: int = 30
    seed: int = 7
    base_intensity: float = 10.0
    scaled: tuple[str, ...] = ("sim_swap_ato", "reversal_scam", "prize_scam", "impersonation_scam")
    new_intensity: float = 150.0
    #: the shop owner, not the paying customer, notices a swapped till: reports are likelier and faster
    #: than for scams whose victims stay silent; fake tills live for a few days
    new_report_prob: float = 0.3
    new_report_delay_days: float = 6.0
    new_duration_days: tuple[int, int] = (2, 6)
    customers_per_merchant: int = 15
    monitor: MonitorConfig = field(default_factory=lambda: MonitorConfig(
        window_days=7, maturity_days=7, k=10, min_samples=500))
    gate: GateConfig = field(default_factory=lambda: GateConfig(
        train_days=30, holdout_days=5, maturity_days=5, k=10))
    candidate: str = "lgbm_15_shallow"
    check_every: int = 1


@dataclass
class Outcome:
    """What the run produced: versions, per-day checks, the report and the gate's verdict."""

    day0_ms: int
    champion: ModelBundle
    challenger: ModelBundle
    reference: Reference
    checks: list[dict[str, Any]] = field(default_factory=list)
    report: dict[str, Any] = field(default_factory=dict)
    gate: dict[str, Any] = field(default_factory=dict)
    promoted: bool = False
    sim: dict[str, Any] = field(default_factory=dict)

    def day_ms(self, day: float) -> int:
        return int(self.day0_ms + day * DAY_MS)


def simulate_world(tt: TimeTravel, out: Path) -> dict[str, Any]:
    """Run the simulator for the scenario; returns its summary."""
    from pesaguard.simulate import SimConfig, WorldConfig, simulate

    cfg = SimConfig(accounts=tt.accounts, days=tt.burn_in_days + tt.days + tt.after_days, seed=tt.seed,
                    world=WorldConfig(customers_per_merchant=tt.customers_per_merchant),
                    new_typology_from_day=tt.burn_in_days + tt.shift_day)
    typ = cfg.typologies
    scaled = {name: c.model_copy(update={"intensity": c.intensity * tt.base_intensity})
              for name, c in typ if name in tt.scaled}
    till = typ.till_swap
    scaled["till_swap"] = till.model_copy(update={
        "intensity": tt.new_intensity, "diverted_share": 0.8, "duration_days": tt.new_duration_days,
        "labels": till.labels.model_copy(update={"victim_report_prob": tt.new_report_prob,
                                                 "victim_delay_median_days": tt.new_report_delay_days})})
    cfg = cfg.model_copy(update={"typologies": typ.model_copy(update=scaled)})
    return simulate(cfg, out).model_dump()


def _policy(bundle: ModelBundle) -> Policy:
    th = bundle.thresholds
    return Policy(model_thresholds=Thresholds(review=th.review, block=max(th.block, th.review)))


def score_period(store: Store, scorer: Scorer, txns: pd.DataFrame, labels: pd.DataFrame,
                 events: pd.DataFrame, batch: int = 2000) -> int:
    """Decide ``txns`` in time order through the decision service into the prediction log.

    Labels and account events reach the live feature state at their own times, as the service's
    label endpoint would deliver them. Returns the number of decisions written.
    """
    service = DecisionService(store, scorer, _policy(scorer.bundle))
    side = pd.concat([labels.assign(_k=0, _t=labels["known_at_ms"]), events.assign(_k=1, _t=events["ts_ms"])],
                     ignore_index=True).sort_values("_t", kind="stable")
    side_rows = side.to_dict("records")
    j, rows, trows, written = 0, [], [], 0
    try:
        for rec in txns.to_dict("records"):
            while j < len(side_rows) and side_rows[j]["_t"] <= rec["ts_ms"]:
                e = side_rows[j]
                if e["_k"] == 0:
                    scorer.add_label(str(e["txn_id"]), bool(e["is_fraud"]), int(e["known_at_ms"]))
                else:
                    scorer.add_account_event(str(e["account_id"]), int(e["ts_ms"]), str(e["kind"]))
                j += 1
            txn = Transaction(**{k: (None if isinstance(v, float) and np.isnan(v) else v)
                                 for k, v in rec.items() if k in TRANSACTION_COLUMNS})
            rows.append(service.evaluate(txn, request_hash(txn)))
            trows.append(tuple(data_row(txn)))
            if len(rows) >= batch:
                decisions_repo.write_decisions(store, rows, trows)
                written, rows, trows = written + len(rows), [], []
        decisions_repo.write_decisions(store, rows, trows)
        return written + len(rows)
    finally:
        service.close()


def run(tt: TimeTravel, store: Store, workdir: Path, say: Say | None = None) -> Outcome:
    """The whole scenario (see the module docstring); ``store`` must be migrated and empty."""
    say = say or (lambda _m: None)
    sim_dir = workdir / "sim"
    summary = simulate_world(tt, sim_dir)
    say(f"simulated {summary['transactions']:,} transactions, frauds per typology {summary['per_typology']}")
    txns = pd.read_parquet(sim_dir / "transactions.parquet").sort_values(["ts_ms", "txn_id"], kind="stable")
    labels = pd.read_parquet(sim_dir / "labels.parquet")
    events = pd.read_parquet(sim_dir / "account_events.parquet")
    core.insert_accounts(store, pd.read_parquet(sim_dir / "accounts.parquet"))
    core.insert_account_events(store, events)
    core.insert_labels(store, labels)
    day0 = int(summary["start_ms"]) + tt.burn_in_days * DAY_MS
    t_train, t_retrain = day0 + tt.train_end_day * DAY_MS, day0 + tt.retrain_day * DAY_MS
    core.insert_transactions(store, txns[txns["ts_ms"] < t_train])

    cfg = FeatureConfig()
    m = build_matrix(from_store(store), cfg)
    periods = gate_mod.Periods(day0, t_train, t_train, t_train)
    one = GateConfig(candidates=[tt.candidate])
    fitted0 = gate_mod.train_challenger(m, periods, one)
    champion = gate_mod.bundle_from_fit(fitted0, cfg, periods, "champion-day30")
    rows = m.rows(day0, t_train)
    # no holdout before the first deployment: the score reference is in sample (see docs/monitoring.md)
    ref = build_reference(m.x[rows], m.feature_names, gate_mod.score_bundle(champion, m, rows),
                          champion.thresholds.review, tt.monitor.psi_bins,
                          {"model_version": champion.version, "start_ms": day0, "end_ms": t_train,
                           "average_precision": champion.meta["calibration"].get("average_precision")})
    say(f"champion trained on days 0-{tt.train_end_day}: {champion.meta['train_frauds']} known frauds")

    scorer = _warm_scorer(champion, txns, labels, events, t_train)
    live = txns[(txns["ts_ms"] >= t_train) & (txns["ts_ms"] < t_retrain)]
    n = score_period(store, scorer, live, labels[labels["known_at_ms"] >= t_train],
                     events[events["ts_ms"] >= t_train])
    say(f"scored {n:,} transactions through the decision service")
    out = Outcome(day0, champion, champion, ref, sim=summary)
    log, all_labels, _, _ = snapshot.load(store, t_train, t_retrain)
    feats = feature_frame(log, list(ref.columns))
    for d in range(tt.train_end_day + tt.monitor.window_days, tt.retrain_day + 1, tt.check_every):
        r = snapshot.analyse(log, all_labels, ref, tt.monitor, t_train, day0 + d * DAY_MS, feats, light=True)
        out.checks.append(check_row(d, r))
    out.report = snapshot.analyse(log, all_labels, ref, tt.monitor, t_train, t_retrain, feats)

    m = build_matrix(from_store(store), cfg)
    periods = gate_mod.Periods.for_gate(t_retrain, tt.gate)
    fitted = gate_mod.train_challenger(m, periods, tt.gate.model_copy(update={"candidates": [tt.candidate]}))
    challenger = gate_mod.bundle_from_fit(fitted, cfg, periods, f"challenger-day{tt.retrain_day}")
    result = gate_mod.compare(champion, challenger, m, periods, tt.gate, core.load_accounts(store))
    out.challenger, out.gate, out.promoted = challenger, result.to_dict(), result.passed
    say(f"gate {'passed' if result.passed else 'failed'}: " + "; ".join(result.reasons))
    if tt.after_days > 0:
        hold = m.rows(periods.holdout_start, periods.holdout_end)
        new_ref = build_reference(m.x[m.rows(periods.train_start, periods.holdout_start)], m.feature_names,
                                  result.scores["challenger"], challenger.thresholds.review, tt.monitor.psi_bins,
                                  {"model_version": challenger.version, "holdout_rows": int(hold.sum()),
                                   "average_precision": result.challenger.get("average_precision")})
        winner, winner_ref = (challenger, new_ref) if result.passed else (champion, ref)
        _after(tt, out, store, txns, labels, events, winner, winner_ref, say)
    return out


def _after(tt: TimeTravel, out: Outcome, store: Store, txns: pd.DataFrame, labels: pd.DataFrame,
           events: pd.DataFrame, winner: ModelBundle, winner_ref: Reference, say: Say) -> None:
    """Score the days after the retrain with the gate's winner; monitor those days against the winner's
    reference (checks), and the whole period's matured performance (report)."""
    t_retrain = out.day_ms(tt.retrain_day)
    t_end = out.day_ms(tt.retrain_day + tt.after_days)
    scorer = _warm_scorer(winner, txns, labels, events, t_retrain)
    later = txns[(txns["ts_ms"] >= t_retrain) & (txns["ts_ms"] < t_end)]
    n = score_period(store, scorer, later, labels[labels["known_at_ms"] >= t_retrain],
                     events[events["ts_ms"] >= t_retrain])
    say(f"scored {n:,} more transactions with {winner.version}")
    t_train = out.day_ms(tt.train_end_day)
    log, all_labels, _, _ = snapshot.load(store, t_train, t_end)
    feats = feature_frame(log, list(out.reference.columns))
    new_feats = feature_frame(log, list(winner_ref.columns))
    for d in range(tt.retrain_day + tt.monitor.window_days, tt.retrain_day + tt.after_days + 1, tt.check_every):
        # only the winner's decisions: its window starts at the retrain
        r = snapshot.analyse(log, all_labels, winner_ref, tt.monitor, t_retrain, out.day_ms(d), new_feats, light=True)
        out.checks.append(check_row(d, r))
    out.report = snapshot.analyse(log, all_labels, out.reference, tt.monitor, t_train, t_end, feats)


def check_row(day: int, r: dict[str, Any]) -> dict[str, Any]:
    """The figures of one daily ``monitor check`` the documentation tabulates."""
    psi = {x["column"]: x["psi"] for x in r["drift"]}
    return {"day": day, "level": r["level"], "alert_rate": r["alert_rate"], "score_psi": psi.get("score"),
            "recent_ap": r["performance"]["recent"].get("average_precision"),
            "recent_frauds": r["performance"]["recent"].get("frauds"),
            "alarms": sorted(f"{a['kind']}:{a['name']}" for a in r["alarms"] if a["level"] == "alarm"),
            "top_psi": sorted(((round(v, 3), k) for k, v in psi.items()
                               if not any(x["column"] == k and x.get("ignored") for x in r["drift"])),
                              reverse=True)[:6]}


def _warm_scorer(bundle: ModelBundle, txns: pd.DataFrame, labels: pd.DataFrame, events: pd.DataFrame,
                 until_ms: int) -> Scorer:
    """A scorer whose feature state holds the history before ``until_ms`` and only labels known by then."""
    scorer = Scorer(bundle)
    hist = txns[txns["ts_ms"] < until_ms]
    lab = labels[labels["known_at_ms"] < until_ms][["txn_id", "is_fraud", "known_at_ms"]]
    ev = events[events["ts_ms"] < until_ms]
    scorer.engine.replay(hist[[c for c in TRANSACTION_COLUMNS if c in hist.columns]], labels=lab,
                         account_events=ev if len(ev) else None)
    return scorer


def decision_digest(store: Store) -> str:
    """A digest of the prediction log (actions and scores), to check reruns are reproducible."""
    rows = decisions_repo.decided_actions(store)
    return hashlib.blake2b(repr(rows).encode(), digest_size=8).hexdigest()
