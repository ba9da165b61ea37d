"""Replay: columns in, one compiled loop over the merged event stream, features out.

Only id mapping happens in Python (vectorised: ``pd.factorize``); every event then goes through the
kernel functions that the online path calls one at a time. Replay is a pure function of the engine's
state and the events given, so a partitioned backfill (e.g. Spark ``mapInPandas`` per group of
accounts) can run it on each partition's sorted events.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

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
    cfg, s = eng.cfg, eng._s
    n = len(transactions)
    ts = _int_column(transactions, "ts_ms", "transactions")
    amount = _float_column(transactions, "amount_minor")
    ok = ~np.isnan(amount)
    amt = np.where(ok, np.round(np.nan_to_num(amount)), 0).astype(np.int64)
    bal = _float_column(transactions, "payer_balance_before")
    tcode = _type_codes(transactions["type"] if "type" in transactions.columns else None, n)
    txn_ids = _ids(transactions["txn_id"])

    # Accounts of every stream share one id space.
    acc = account_events if account_events is not None else pd.DataFrame({"account_id": [], "ts_ms": [], "kind": []})
    sms = sms_events if sms_events is not None else pd.DataFrame({"account_id": [], "ts_ms": [], "score": []})
    payees = _ids(transactions["payee"])
    if cfg.payee_id_space == "separate":
        payees = (PAYEE_PREFIX + pd.Series(payees, dtype=object)).to_numpy(dtype=object)
    id_parts = [_ids(transactions["payer"]), payees]
    id_parts += [_ids(acc["account_id"]), _ids(sms["account_id"])] if len(acc) or len(sms) else []
    codes, uniques = pd.factorize(np.concatenate(id_parts) if id_parts else np.array([], object))
    rows = eng._accts.add_many(list(uniques))[codes] if len(uniques) else np.zeros(0, np.int64)
    t_a, t_b = rows[:n], rows[n : 2 * n]
    x_acct = rows[2 * n : 2 * n + len(acc)] if len(acc) else np.zeros(0, np.int64)
    s_acct = rows[2 * n + len(acc) :] if len(sms) else np.zeros(0, np.int64)
    pcodes, puniques = pd.factorize(pair_key(t_a, t_b))
    t_pr = eng._pairs.add_many(puniques.tolist())[pcodes] if n else np.zeros(0, np.int64)
    s.ensure_rows(len(eng._accts), len(eng._pairs))

    x_ts = _int_column(acc, "ts_ms", "account events") if len(acc) else np.zeros(0, np.int64)
    x_kind = acc["kind"].map(K.KIND_CODES).fillna(-1).to_numpy(np.int64) if len(acc) else np.zeros(0, np.int64)
    s_ts = _int_column(sms, "ts_ms", "SMS events") if len(sms) else np.zeros(0, np.int64)
    s_score = _float_column(sms, "score")
    s_counts = np.isnan(s_score) | (s_score >= cfg.sms_min_score)

    # Labels: targets are this batch's transactions, then remembered ones; labels waiting from before
    # for a transaction of this batch are replayed first.
    lab_ids: list[str] = []
    l_known_l: list[int] = []
    l_fraud_l: list[bool] = []
    if labels is not None and len(labels):
        lab_ids = list(_ids(labels["txn_id"]))
        l_known_l = _int_column(labels, "known_at_ms", "labels").tolist()
        l_fraud_l = _bool_column(labels["is_fraud"]).tolist()
    target = np.zeros(0, np.int64)
    if lab_ids or len(eng._pending):
        index = pd.Index(txn_ids)
        if not index.is_unique:
            keep = ~index.duplicated(keep="last")
            pos, index = np.flatnonzero(keep), index[keep]
        else:
            pos = np.arange(n)
        waiting = list(eng._pending.items)
        found = index.get_indexer(pd.Index(waiting)) if waiting else np.zeros(0, np.int64)
        early = [tid for tid, j in zip(waiting, found, strict=True) if j >= 0]
        for tid in early:
            f, known = eng._pending.items.pop(tid)
            lab_ids.insert(0, tid)
            l_known_l.insert(0, known)
            l_fraud_l.insert(0, f)
        j = index.get_indexer(pd.Index(lab_ids))
        target = np.where(j >= 0, pos[np.maximum(j, 0)], -1).astype(np.int64)
    l_known = np.array(l_known_l, np.int64)
    l_fraud = np.array(l_fraud_l, np.bool_)
    # Labels for transactions remembered from before this batch: extra targets after the batch's rows.
    mem_hits: dict[str, tuple[int, int, int, bool, bool, object]] = {}
    for i_lab in np.flatnonzero(target < 0).tolist():
        tid = lab_ids[i_lab]
        if tid not in mem_hits and (hit := eng._txns.get(tid, -(2**62))) is not None:
            mem_hits[tid] = hit
    mem_ids = list(mem_hits)
    mem_row = {tid: n + k for k, tid in enumerate(mem_ids)}
    for i_lab in np.flatnonzero(target < 0).tolist():
        target[i_lab] = mem_row.get(lab_ids[i_lab], -1)
    l_target = target
    m = len(mem_ids)
    g_seen = np.concatenate([np.zeros(n, np.bool_), np.ones(m, np.bool_)])
    g_applied = np.concatenate([np.zeros(n, np.bool_), np.array([mem_hits[t][3] for t in mem_ids], np.bool_)])
    g_labelled = np.concatenate([np.zeros(n, np.bool_), np.array([mem_hits[t][4] for t in mem_ids], np.bool_)])
    g_ts = np.concatenate([ts, np.array([mem_hits[t][0] for t in mem_ids], np.int64)])
    g_a = np.concatenate([t_a, np.array([mem_hits[t][1] for t in mem_ids], np.int64)])
    g_b = np.concatenate([t_b, np.array([mem_hits[t][2] for t in mem_ids], np.int64)])
    g_pend = np.full(n + m, K.NONE, np.int64)
    g_pend_fraud = np.zeros(n + m, np.bool_)

    kind, row = event_order(ts, l_known, x_ts, s_ts)
    out = np.zeros((n, len(eng.names)), dtype=cfg.dtype)  # every row is written; zeros maps pages fastest
    s.ensure_arenas(_arena_estimate(ts, max(cfg.windows_ms)), min(len(l_known), INITIAL_ARENA) + 64)
    i = 0
    while True:
        i = K.run(
            s.AI, s.AF, s.PI, s.OE, s.IE, s.FE, s.meta, s.P, eng._colmap,
            kind, row, i,
            ts, t_a, t_b, t_pr, amt, ok, bal, tcode, out,
            g_seen, g_applied, g_labelled, g_pend, g_pend_fraud, g_ts, g_a, g_b,
            l_target, l_known, l_fraud,
            x_acct, x_ts, x_kind,
            s_acct, s_ts, s_score, s_counts,
        )  # fmt: skip
        if i >= len(kind):
            break
        # An arena is full: free what left the windows, then grow to twice what is live.
        s.sweep(len(eng._accts), len(eng._pairs), evict=False)
        live = int(max(s.meta[K.O_LIVE], s.meta[K.I_LIVE]))
        s.ensure_arenas(live + 1024, int(s.meta[K.F_LIVE]) + 64)

    _remember(eng, kind, row, ts, txn_ids, t_a, t_b, g_applied, g_labelled)
    for tid, g in mem_row.items():
        eng._txns.set_flags(mem_hits[tid][5], bool(g_applied[g]), bool(g_labelled[g]))
    for i_lab in np.flatnonzero(l_target < 0).tolist():
        eng._pending.put(lab_ids[i_lab], bool(l_fraud[i_lab]), int(l_known[i_lab]))
    eng._tick()  # idle entities are evicted by the online path's next sweep (values never depend on it)
    return pd.DataFrame(out, columns=eng.names, index=transactions.index)


def _remember(
    eng: FeatureEngine,
    kind: np.ndarray,
    row: np.ndarray,
    ts: np.ndarray,
    txn_ids: np.ndarray,
    t_a: np.ndarray,
    t_b: np.ndarray,
    applied: np.ndarray,
    labelled: np.ndarray,
) -> None:
    """Keep the batch's transactions within the horizon for labels that arrive later, in time order."""
    order = row[kind == TXN]
    order = order[ts[order] > eng._s.clock - eng.cfg.horizon_ms]
    eng._txns.add_batch(txn_ids[order], ts[order], t_a[order], t_b[order], applied[order], labelled[order])
