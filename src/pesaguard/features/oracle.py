"""The feature set written plainly with the streaming aggregators: the specification of every feature.

It is slow (pure Python, windows rescanned on read) and exists to be read and to be the oracle the
compiled kernel is tested against. ``ReferenceEngine`` has the online half of ``FeatureEngine``'s
interface (``score_and_update``, ``peek``, ``add_label``, ``add_account_event``, ``add_sms_event``).

Definitions shared by both engines (see ``docs/architecture.md``, "Feature semantics"):

* A transaction's features use only events processed before it, then it is added to the state.
* Nothing older than ``horizon`` affects a value, so evicting idle entities never changes one.
* A fraud label for transaction X (made at ``tx``) counts for X's payer and payee, once per transaction,
  if X was seen less than ``horizon`` before, from ``max(clock, tx + min_label_delay)`` on, the clock
  being ``known_at_ms`` or later; a label stamped known at or before ``tx`` carries no timing and counts
  from ``max(clock, tx + label_delay)``. A label for a transaction not seen yet waits (bounded by
  ``horizon``) and is applied right after X is added.
* Label windows are by the time a label counts from; lagged windows by its transaction's time: they
  count the frauds among transactions made in ``(t - label_delay - w, t - label_delay]``, as known at t.
* ``payee_clean_secs_after_fraud_lag{D}``: the time from the payee's latest known fraud (by transaction
  time, within the fraud span) to its latest payment made at or before ``t - D``, whose label should be
  in; 0 when that payment is the fraud itself, negative when the fraud is more recent than ``t - D``,
  NaN without a known fraud, such a payment within ``horizon``, or lagged windows.
* An SMS event counts as a scam SMS unless its score is below ``sms_min_score``.
* With ``payee_id_space="separate"`` payee ids are a namespace of their own.
* ``pair_prior_count`` counts the pair's transactions since its last idle gap of ``horizon``.
* A transaction without an amount stays out of the amount windows (counts, sums, distinct counts).
"""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import Any

from pesaguard.features.aggregators import (
    Count,
    DelayedLast,
    DistinctCount,
    Keyed,
    Last,
    Max,
    Mean,
    RunCount,
    SinceFirst,
    Std,
    Sum,
    TimeSinceLast,
)
from pesaguard.features.config import FeatureConfig, feature_names, parse_duration
from pesaguard.features.encoding import NAN, PAYEE_PREFIX, num, type_code


def local_time(ts_ms: int, cfg: FeatureConfig) -> tuple[float, float, float, float]:
    """(hour, day of week with Monday=0, is_night, is_weekend) in the configured UTC offset."""
    local = ts_ms + round(cfg.utc_offset_hours * 3_600_000)
    hour = (local // 3_600_000) % 24
    dow = (local // 86_400_000 + 3) % 7  # 1970-01-01 was a Thursday
    s, e = cfg.night_start_hour, cfg.night_end_hour
    night = (s <= hour or hour < e) if s > e else (s <= hour < e)
    return float(hour), float(dow), float(night), float(dow >= 5)


def zscore(amount: float, mean: float, std: float) -> float:
    """(amount - mean) / std, with std floored at max(1 minor unit, 1% of |mean|) so constant histories stay finite."""
    if math.isnan(amount) or math.isnan(mean):
        return NAN
    return (amount - mean) / max(std, 1.0, 0.01 * abs(mean))


def ratio(a: float, b: float) -> float:
    """a / b; NaN when either is NaN or b is not positive."""
    if math.isnan(a) or math.isnan(b) or b <= 0:
        return NAN
    return a / b


class ReferenceEngine:
    """Feature set from aggregators. Feed events in time order (ties: side events first, see replay)."""

    def __init__(self, cfg: FeatureConfig | None = None) -> None:
        self.cfg = cfg = cfg or FeatureConfig()
        h = cfg.horizon_ms
        self.names = feature_names(cfg)
        self.clock = -(2**62)

        def keyed(template: Any, by: Any) -> Keyed:
            return Keyed(template, by=by, horizon=h)

        self.out = {
            w: {
                "count": keyed(Count("amount", w), "payer"),
                "sum": keyed(Sum("amount", w), "payer"),
                "mean": keyed(Mean("amount", w), "payer"),
                "std": keyed(Std("amount", w), "payer"),
                "max": keyed(Max("amount", w), "payer"),
                "distinct": keyed(DistinctCount("payee", w), "payer"),
            }
            for w in cfg.windows
        }
        self.out_last = keyed(TimeSinceLast(horizon=h), "payer")
        self.inn = {
            w: {
                "count": keyed(Count("amount", w), "payee"),
                "sum": keyed(Sum("amount", w), "payee"),
                "mean": keyed(Mean("amount", w), "payee"),
                "distinct": keyed(DistinctCount("payer", w), "payee"),
            }
            for w in cfg.windows
        }
        self.out_first = keyed(SinceFirst(horizon=h), "payer")
        for w in cfg.windows:
            self.inn[w]["new"] = keyed(Count("new_payer", w), "payee")
        lag = cfg.label_delay_ms
        self.lag_count = {w: keyed(Count("amount", lag + parse_duration(w)), "payee") for w in cfg.lagged_windows}
        self.lag_base = keyed(Count("amount", lag), "payee")
        self.lag_last = keyed(DelayedLast(lag, "amount", horizon=h), "payee")
        self.in_last = keyed(TimeSinceLast(horizon=h), "payee")
        self.in_first = keyed(SinceFirst(horizon=h), "payee")
        self.pair_count = keyed(RunCount(horizon=h), ("payer", "payee"))
        self.pair_last = keyed(TimeSinceLast(horizon=h), ("payer", "payee"))
        # account -> [(counts from, transaction time)] of its frauds as payer and as payee
        self.frauds: dict[str, dict[Any, list[tuple[int, int]]]] = {"payer": {}, "payee": {}}
        self.sim_swap = keyed(TimeSinceLast(horizon=h), "account")
        self.device_change = keyed(TimeSinceLast(horizon=h), "account")
        self.sms_last = keyed(TimeSinceLast(horizon=h), "account")
        self.sms_score = keyed(Last("score", horizon=h), "account")
        # txn_id -> [ts_ms, payer, payee, fraud applied, labelled]; pending: txn_id -> (is_fraud, known_at_ms)
        self.txns: OrderedDict[str, list[Any]] = OrderedDict()
        self.pending: OrderedDict[str, tuple[bool, int]] = OrderedDict()

    # -- reading -------------------------------------------------------------------------------------
    def peek(self, txn: dict[str, Any]) -> dict[str, float]:
        cfg, t = self.cfg, int(txn["ts_ms"])
        payer, payee = self._ids(txn)
        amount = num(txn.get("amount_minor"))
        xo = {"ts_ms": t, "payer": payer, "payee": payee}
        acct_payer, acct_payee = {"ts_ms": t, "account": payer}, {"ts_ms": t, "account": payee}
        f: dict[str, float] = {"amount": amount, "txn_type_code": type_code(txn.get("type"))}
        f["hour_local"], f["day_of_week_local"], f["is_night"], f["is_weekend"] = local_time(t, cfg)
        for w, aggs in self.out.items():
            f[f"payer_count_{w}"] = aggs["count"].get(xo)
            f[f"payer_sum_{w}"] = aggs["sum"].get(xo)
            f[f"payer_mean_{w}"] = aggs["mean"].get(xo)
            f[f"payer_std_{w}"] = aggs["std"].get(xo)
            f[f"payer_max_{w}"] = aggs["max"].get(xo)
            f[f"payer_distinct_payees_{w}"] = aggs["distinct"].get(xo)
        f["payer_secs_since_last"] = self.out_last.get(xo)
        f["payer_secs_since_first"] = self.out_first.get(xo)
        for w in cfg.windows:
            f[f"amount_ratio_{w}"] = ratio(amount, f[f"payer_mean_{w}"])
        hw = cfg.history_window
        f[f"amount_zscore_{hw}"] = zscore(amount, f[f"payer_mean_{hw}"], f[f"payer_std_{hw}"])
        f[f"amount_over_max_{hw}"] = ratio(amount, f[f"payer_max_{hw}"])
        for w, aggs in self.inn.items():
            f[f"payee_count_{w}"] = aggs["count"].get(xo)
            f[f"payee_sum_{w}"] = aggs["sum"].get(xo)
            f[f"payee_mean_{w}"] = aggs["mean"].get(xo)
            f[f"payee_distinct_payers_{w}"] = aggs["distinct"].get(xo)
            f[f"payee_new_payer_share_{w}"] = ratio(aggs["new"].get(xo), f[f"payee_count_{w}"])
        f["payee_secs_since_last"] = self.in_last.get(xo)
        f["payee_secs_since_first"] = self.in_first.get(xo)
        f["pair_prior_count"] = self.pair_count.get(xo)
        f["pair_is_new"] = float(f["pair_prior_count"] == 0.0)
        f["pair_secs_since_last"] = self.pair_last.get(xo)
        known_payee, lagged_payee, first_payee, last_payee = self._frauds("payee", payee, t)
        known_payer, _, _, last_payer = self._frauds("payer", payer, t)
        for w in cfg.label_windows:
            f[f"payee_fraud_count_{w}"] = known_payee[w]
            f[f"payee_fraud_rate_{w}"] = ratio(known_payee[w], self.inn[w]["count"].get(xo))
            f[f"payer_fraud_count_{w}"] = known_payer[w]
        base = self.lag_base.get(xo)
        for w in cfg.lagged_windows:
            n = self.lag_count[w].get(xo) - base
            f[f"payee_count_{w}_lag{cfg.label_delay}"] = n
            f[f"payee_fraud_count_{w}_lag{cfg.label_delay}"] = lagged_payee[w]
            f[f"payee_fraud_rate_{w}_lag{cfg.label_delay}"] = ratio(lagged_payee[w], n)
        f["payee_secs_since_first_fraud"] = NAN if first_payee is None else (t - first_payee) / 1000
        f["payee_secs_since_last_fraud"] = NAN if last_payee is None else (t - last_payee) / 1000
        f["payer_secs_since_last_fraud"] = NAN if last_payer is None else (t - last_payer) / 1000
        f["payer_secs_since_sim_swap"] = self.sim_swap.get(acct_payer)
        f["payer_secs_since_device_change"] = self.device_change.get(acct_payer)
        f["payee_secs_since_sim_swap"] = self.sim_swap.get(acct_payee)
        f["balance_drain"] = ratio(amount, num(txn.get("payer_balance_before")))
        as_payee = {"ts_ms": t, "payee": payer}
        f["payer_secs_since_last_in"] = self.in_last.get(as_payee)
        rw = cfg.recent_window
        f[f"inflow_cashout_share_{rw}"] = ratio(amount, self.inn[rw]["sum"].get(as_payee))
        since_sms = self.sms_last.get(acct_payer)
        f["payer_secs_since_scam_sms"] = since_sms
        f["payer_scam_sms_score"] = self.sms_score.get(acct_payer)
        recent = not math.isnan(since_sms) and since_sms * 1000 < parse_duration(rw)
        f[f"scam_sms_new_payee_{rw}"] = float(recent and f["pair_is_new"] == 1.0)
        for w in cfg.windows:
            if w != hw:
                f[f"amount_zscore_{w}"] = zscore(amount, f[f"payer_mean_{w}"], f[f"payer_std_{w}"])
                f[f"amount_over_max_{w}"] = ratio(amount, f[f"payer_max_{w}"])
                f[f"payer_peak_{w}_over_mean_{hw}"] = ratio(f[f"payer_max_{w}"], f[f"payer_mean_{hw}"])
        settled = self.lag_last.get(xo)
        f[f"payee_clean_secs_after_fraud_lag{cfg.label_delay}"] = (
            NAN if last_payee is None or math.isnan(settled) or not cfg.lagged_windows
            else (t - round(settled * 1000) - last_payee) / 1000)
        return {k: f[k] for k in self.names}

    def _frauds(self, role: str, account: Any, t: int) -> tuple[dict[str, float], dict[str, float], int | None,
                                                                  int | None]:
        """Frauds of ``account`` in ``role`` as seen at t: per label window (by when they count from), per
        lagged window (by transaction time, lagged), and the earliest and latest transaction time within
        the span."""
        cfg = self.cfg
        lag, span = cfg.label_delay_ms, cfg.fraud_span_ms
        known = dict.fromkeys(cfg.label_windows, 0.0)
        lagged = dict.fromkeys(cfg.lagged_windows, 0.0)
        times = []
        for k, tx in self.frauds[role].get(account, []):
            if k > t:
                continue  # not counting yet
            for w in cfg.label_windows:
                known[w] += k > t - parse_duration(w)
            for w in cfg.lagged_windows:
                lagged[w] += t - lag - parse_duration(w) < tx <= t - lag
            if tx > t - span:
                times.append(tx)
        return known, lagged, min(times, default=None), max(times, default=None)

    def _ids(self, txn: dict[str, Any]) -> tuple[Any, Any]:
        payer, payee = txn.get("payer"), txn.get("payee")
        if self.cfg.payee_id_space == "separate" and payee is not None:
            payee = PAYEE_PREFIX + str(payee)
        return payer, payee

    # -- writing -------------------------------------------------------------------------------------
    def _tick(self, t: int) -> None:
        self.clock = max(self.clock, t)
        cutoff = self.clock - self.cfg.horizon_ms
        while self.txns and next(iter(self.txns.values()))[0] <= cutoff:
            self.txns.popitem(last=False)
        while self.pending and next(iter(self.pending.values()))[1] <= cutoff:
            self.pending.popitem(last=False)

    def update(self, txn: dict[str, Any]) -> None:
        t = int(txn["ts_ms"])
        self._tick(t)
        payer, payee = self._ids(txn)
        x = {"ts_ms": t, "payer": payer, "payee": payee}
        x["new_payer"] = 1.0 if self.pair_count.get(x) == 0.0 else None
        amount = num(txn.get("amount_minor"))
        if not math.isnan(amount):  # a transaction without an amount stays out of the amount windows
            x["amount"] = amount
            for aggs in (*self.out.values(), *self.inn.values()):
                for a in aggs.values():
                    a.update(x)
            for a in (*self.lag_count.values(), self.lag_base, self.lag_last):
                a.update(x)
        for a in (self.out_last, self.out_first, self.in_last, self.in_first, self.pair_count, self.pair_last):
            a.update(x)
        tid = txn.get("txn_id")
        if tid is not None:
            tid = str(tid)
            self.txns.pop(tid, None)
            self.txns[tid] = [t, x["payer"], x["payee"], False, False]
            waiting = self.pending.pop(tid, None)
            if waiting is not None:
                self.add_label(tid, *waiting)

    def score_and_update(self, txn: dict[str, Any]) -> dict[str, float]:
        feats = self.peek(txn)
        self.update(txn)
        return feats

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        txn_id = str(txn_id)
        self._tick(int(known_at_ms))
        mem = self.txns.get(txn_id)
        if mem is None:
            self.pending.pop(txn_id, None)
            self.pending[txn_id] = (bool(is_fraud), int(known_at_ms))
            return
        mem[4] = True
        if is_fraud and not mem[3]:
            mem[3] = True
            tx = mem[0]
            untimed = int(known_at_ms) <= tx  # stamped known at its own transaction: no timing given
            delay = self.cfg.label_delay_ms if untimed else self.cfg.min_label_delay_ms
            event = (max(self.clock, tx + delay), tx)
            self.frauds["payer"].setdefault(mem[1], []).append(event)
            self.frauds["payee"].setdefault(mem[2], []).append(event)

    def add_account_event(self, account_id: str, ts_ms: int, kind: str) -> None:
        self._tick(int(ts_ms))
        x = {"ts_ms": int(ts_ms), "account": account_id}
        if kind == "sim_swap":
            self.sim_swap.update(x)
        elif kind == "device_change":
            self.device_change.update(x)

    def add_sms_event(self, account_id: str, ts_ms: int, scam_type: str | None, score: float | None) -> None:
        self._tick(int(ts_ms))
        if score is not None and not math.isnan(score) and score < self.cfg.sms_min_score:
            return  # not a scam SMS
        x = {"ts_ms": int(ts_ms), "account": account_id, "score": score}
        self.sms_last.update(x)
        self.sms_score.update(x)
