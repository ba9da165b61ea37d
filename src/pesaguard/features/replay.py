"""Replay: columns in, one compiled loop over the merged event stream, features out.

Only id mapping happens in Python (vectorised: ``pd.factorize``); every event then goes through the
kernel functions that the online path calls one at a time. Replay is a pure function of the engine's
state and the events given, so a partitioned backfill (e.g. Spark ``mapInPandas`` per group of
accounts) can run it on each partition's sorted events.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from pesaguard.errors import InputError
from pesaguard.features import kernel as K
from pesaguard.features.encoding import PAYEE_PREFIX
from pesaguard.features.order import (
    ACCOUNT_EVENT_COLUMNS,
    LABEL_COLUMNS,
    SMS_COLUMNS,
    TXN,
    event_order,
    require,
)
from pesaguard.features.state import pair_key
from pesaguard.schema import REQUIRED_TRANSACTION_COLUMNS, TRANSACTION_TYPES

if TYPE_CHECKING:
    from pesaguard.features.engine import FeatureEngine

#: Cap on the first arena size (tests lower it to force growth); arenas grow to twice what is live
#: whenever they fill.
INITIAL_ARENA = 1 << 40


def _ids(s: pd.Series) -> np.ndarray:
    """Ids as strings (the online path receives JSON), without converting columns already of strings."""
    if s.isna().any():
        raise InputError(f"{s.isna().sum()} rows have no {s.name}", field=str(s.name), hint="drop or fix them")
    if s.dtype == object and isinstance(s.iloc[0] if len(s) else "", str):
        return s.to_numpy()
    return s.astype(str).to_numpy()


def _type_codes(s: pd.Series | None, n: int) -> np.ndarray:
    """Canonical type index, ``len(TRANSACTION_TYPES)`` for other types, NaN when absent."""
    if s is None:
        return np.full(n, np.nan)
    codes = pd.Series(s).astype("string").str.lower()
    mapping = {t: float(i) for i, t in enumerate(TRANSACTION_TYPES)}
    out = codes.map(mapping).astype(float).to_numpy()
    out[np.isnan(out) & codes.notna().to_numpy()] = float(len(TRANSACTION_TYPES))
    return out


def _check_inputs(
    transactions: pd.DataFrame,
    labels: pd.DataFrame | None,
    account_events: pd.DataFrame | None,
    sms_events: pd.DataFrame | None,
) -> None:
    require(transactions, REQUIRED_TRANSACTION_COLUMNS, "transactions")
    if labels is not None:
        require(labels, LABEL_COLUMNS, "labels")
    if account_events is not None:
        require(account_events, ACCOUNT_EVENT_COLUMNS, "account events")
    if sms_events is not None:
        require(sms_events, SMS_COLUMNS, "SMS events")


def _arena_estimate(ts: np.ndarray, longest: int) -> int:
    """Events likely live at once: the share of the batch inside the longest window, with slack."""
    if not len(ts):
        return 1
    span = int(ts.max() - ts.min()) + 1
    live = len(ts) * min(1.0, longest / span)
    return max(1, min(int(1.25 * live) + 1024, INITIAL_ARENA))


def _int_column(df: pd.DataFrame, col: str, what: str) -> np.ndarray:
    """An integer (epoch milliseconds) column; datetimes are converted, gaps are an error."""
    s = df[col]
    if s.isna().any():
        raise InputError(f"{what} has {int(s.isna().sum())} rows without {col}", field=col)
    if pd.api.types.is_datetime64_any_dtype(s):
        return (s.dt.tz_convert("UTC") if s.dt.tz is not None else s).to_numpy("datetime64[ms]").astype(np.int64)
    try:
        return s.to_numpy(dtype=np.int64)
    except (TypeError, ValueError) as e:
        raise InputError(f"{what}: {col} is not integer epoch milliseconds", field=col) from e


#: String values of ``is_fraud`` that mean fraud (also the Spark backfill's reading).
FRAUD_TRUE = ("1", "true", "t", "yes", "y", "fraud", "1.0")


def _bool_column(s: pd.Series) -> np.ndarray:
    """Labels as booleans: numbers are true when non-zero, strings when they say so ("1", "true", "fraud")."""
    if pd.api.types.is_bool_dtype(s) or pd.api.types.is_numeric_dtype(s):
        return pd.to_numeric(s, errors="coerce").fillna(0).to_numpy() != 0
    return s.astype("string").str.strip().str.lower().isin(FRAUD_TRUE).fillna(False).to_numpy(dtype=bool)


def _float_column(df: pd.DataFrame, col: str) -> np.ndarray:
    if col not in df.columns:
        return np.full(len(df), np.nan)
    return pd.to_numeric(df[col], errors="coerce").to_numpy(dtype=np.float64, na_value=np.nan)


def replay_frames(
    eng: FeatureEngine,
    transactions: pd.DataFrame,
    labels: pd.DataFrame | None,
    account_events: pd.DataFrame | None,
    sms_events: pd.DataFrame | None,
) -> pd.DataFrame:
    _check_inputs(transactions, labels, account_events, sms_events)
    acc = account_events if account_events is not None else pd.DataFrame({"account_id": [], "ts_ms": [], "kind": []})
    sms = sms_events if sms_events is not None else pd.DataFrame({"account_id": [], "ts_ms": [], "score": []})
    txns = _TxnColumns.read(transactions)
    t_a, t_b, t_pr, x_acct, s_acct = _map_ids(eng, transactions, acc, sms)
    x_ts, x_kind, s_ts, s_score, s_counts = _side_events(acc, sms, eng.cfg.sms_min_score)
    lab = _label_targets(eng, labels, txns.ids)
    mem = _Remembered.find(eng, lab, len(txns.ids))
    g = mem.targets(txns.ts, t_a, t_b)

    kind, row = event_order(txns.ts, lab.known, x_ts, s_ts)
    out = np.zeros((len(txns.ids), len(eng.names)), dtype=eng.cfg.dtype)  # every row is written; zeros maps pages fastest
    state = eng.kernel_state
    state.ensure_arenas(_arena_estimate(txns.ts, max(eng.cfg.windows_ms)), min(len(lab.known), INITIAL_ARENA) + 64)
    i = 0
    while True:
        i = K.run(
            state.AI, state.AF, state.PI, state.OE, state.IE, state.FE, state.meta, state.P, eng.column_map,
            kind, row, i,
            txns.ts, t_a, t_b, t_pr, txns.amt, txns.ok, txns.bal, txns.tcode, out,
            g.seen, g.applied, g.labelled, g.pend, g.pend_fraud, g.ts, g.a, g.b,
            lab.target, lab.known, lab.fraud,
            x_acct, x_ts, x_kind,
            s_acct, s_ts, s_score, s_counts,
        )  # fmt: skip
        if i >= len(kind):
            break
        # An arena is full: free what left the windows, then grow to twice what is live.
        eng.sweep_windows()
        live = int(max(state.meta[K.O_LIVE], state.meta[K.I_LIVE]))
        state.ensure_arenas(live + 1024, int(state.meta[K.F_LIVE]) + 64)

    order = row[kind == TXN]  # the batch's transactions in time order
    eng.remember(txns.ids[order], txns.ts[order], t_a[order], t_b[order], g.applied[order], g.labelled[order])
    for tid, r in mem.row.items():
        eng.set_label_flags(mem.hits[tid][5], bool(g.applied[r]), bool(g.labelled[r]))
    for i_lab in np.flatnonzero(lab.target < 0).tolist():
        eng.wait_for_transaction(lab.ids[i_lab], bool(lab.fraud[i_lab]), int(lab.known[i_lab]))
    eng.forget_expired()  # idle entities are evicted by the online path's next sweep (values never depend on it)
    return pd.DataFrame(out, columns=eng.names, index=transactions.index)


@dataclass
class _TxnColumns:
    """The transactions' columns as the kernel reads them."""

    ts: np.ndarray
    amt: np.ndarray
    ok: np.ndarray
    bal: np.ndarray
    tcode: np.ndarray
    ids: np.ndarray

    @classmethod
    def read(cls, transactions: pd.DataFrame) -> _TxnColumns:
        amount = _float_column(transactions, "amount_minor")
        ok = ~np.isnan(amount)
        return cls(
            ts=_int_column(transactions, "ts_ms", "transactions"),
            amt=np.where(ok, np.round(np.nan_to_num(amount)), 0).astype(np.int64),
            ok=ok,
            bal=_float_column(transactions, "payer_balance_before"),
            tcode=_type_codes(transactions["type"] if "type" in transactions.columns else None, len(transactions)),
            ids=_ids(transactions["txn_id"]),
        )


def _map_ids(
    eng: FeatureEngine, transactions: pd.DataFrame, acc: pd.DataFrame, sms: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """State rows of payers, payees, pairs, account-event and SMS accounts (one id space for all streams)."""
    n = len(transactions)
    payees = _ids(transactions["payee"])
    if eng.cfg.payee_id_space == "separate":
        payees = (PAYEE_PREFIX + pd.Series(payees, dtype=object)).to_numpy(dtype=object)
    id_parts = [_ids(transactions["payer"]), payees]
    id_parts += [_ids(acc["account_id"]), _ids(sms["account_id"])] if len(acc) or len(sms) else []
    codes, uniques = pd.factorize(np.concatenate(id_parts) if id_parts else np.array([], object))
    rows = eng.account_rows(list(uniques))[codes] if len(uniques) else np.zeros(0, np.int64)
    t_a, t_b = rows[:n], rows[n : 2 * n]
    x_acct = rows[2 * n : 2 * n + len(acc)] if len(acc) else np.zeros(0, np.int64)
    s_acct = rows[2 * n + len(acc) :] if len(sms) else np.zeros(0, np.int64)
    pcodes, puniques = pd.factorize(pair_key(t_a, t_b))
    t_pr = eng.pair_rows(puniques.tolist())[pcodes] if n else np.zeros(0, np.int64)
    return t_a, t_b, t_pr, x_acct, s_acct


def _side_events(
    acc: pd.DataFrame, sms: pd.DataFrame, sms_min_score: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Account events' times and kinds, SMS events' times, scores and whether each counts."""
    x_ts = _int_column(acc, "ts_ms", "account events") if len(acc) else np.zeros(0, np.int64)
    x_kind = acc["kind"].map(K.KIND_CODES).fillna(-1).to_numpy(np.int64) if len(acc) else np.zeros(0, np.int64)
    s_ts = _int_column(sms, "ts_ms", "SMS events") if len(sms) else np.zeros(0, np.int64)
    s_score = _float_column(sms, "score")
    s_counts = np.isnan(s_score) | (s_score >= sms_min_score)
    return x_ts, x_kind, s_ts, s_score, s_counts


@dataclass
class _Labels:
    """Labels in replay order; ``target`` is the batch row each is for, then remembered rows, else -1."""

    ids: list[str]
    known: np.ndarray
    fraud: np.ndarray
    target: np.ndarray


def _label_targets(eng: FeatureEngine, labels: pd.DataFrame | None, txn_ids: np.ndarray) -> _Labels:
    """The batch's labels, preceded by labels waiting from before for a transaction of this batch."""
    n = len(txn_ids)
    lab_ids: list[str] = []
    known: list[int] = []
    fraud: list[bool] = []
    if labels is not None and len(labels):
        lab_ids = list(_ids(labels["txn_id"]))
        known = _int_column(labels, "known_at_ms", "labels").tolist()
        fraud = _bool_column(labels["is_fraud"]).tolist()
    target = np.zeros(0, np.int64)
    if lab_ids or eng.has_waiting_labels:
        index = pd.Index(txn_ids)
        if not index.is_unique:
            keep = ~index.duplicated(keep="last")
            pos, index = np.flatnonzero(keep), index[keep]
        else:
            pos = np.arange(n)
        for tid, f, k in eng.take_waiting_labels(index):
            lab_ids.insert(0, tid)
            known.insert(0, k)
            fraud.insert(0, f)
        j = index.get_indexer(pd.Index(lab_ids))
        target = np.where(j >= 0, pos[np.maximum(j, 0)], -1).astype(np.int64)
    return _Labels(lab_ids, np.array(known, np.int64), np.array(fraud, np.bool_), target)


@dataclass
class _Targets:
    """Per label target (the batch's rows, then remembered transactions): the kernel's g_* arrays."""

    seen: np.ndarray
    applied: np.ndarray
    labelled: np.ndarray
    ts: np.ndarray
    a: np.ndarray
    b: np.ndarray
    pend: np.ndarray
    pend_fraud: np.ndarray


@dataclass
class _Remembered:
    """Transactions from before this batch that a label is for, each given a target row after the batch's."""

    hits: dict[str, tuple[int, int, int, bool, bool, object]]
    row: dict[str, int]

    @classmethod
    def find(cls, eng: FeatureEngine, lab: _Labels, n: int) -> _Remembered:
        hits: dict[str, tuple[int, int, int, bool, bool, object]] = {}
        for i_lab in np.flatnonzero(lab.target < 0).tolist():
            tid = lab.ids[i_lab]
            if tid not in hits and (hit := eng.remembered(tid)) is not None:
                hits[tid] = hit
        row = {tid: n + k for k, tid in enumerate(hits)}
        for i_lab in np.flatnonzero(lab.target < 0).tolist():
            lab.target[i_lab] = row.get(lab.ids[i_lab], -1)
        return cls(hits, row)

    def targets(self, ts: np.ndarray, t_a: np.ndarray, t_b: np.ndarray) -> _Targets:
        n, ids = len(ts), list(self.hits)
        m = len(ids)

        def col(k: int, dtype: Any) -> np.ndarray:
            return np.array([self.hits[t][k] for t in ids], dtype)

        return _Targets(
            seen=np.concatenate([np.zeros(n, np.bool_), np.ones(m, np.bool_)]),
            applied=np.concatenate([np.zeros(n, np.bool_), col(3, np.bool_)]),
            labelled=np.concatenate([np.zeros(n, np.bool_), col(4, np.bool_)]),
            ts=np.concatenate([ts, col(0, np.int64)]),
            a=np.concatenate([t_a, col(1, np.int64)]),
            b=np.concatenate([t_b, col(2, np.int64)]),
            pend=np.full(n + m, K.NONE, np.int64),
            pend_fraud=np.zeros(n + m, np.bool_),
        )
