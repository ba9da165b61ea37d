"""The compiled feature kernel: every feature of ``reference.py``, per event, in numba.

Both drivers call the same functions: ``run`` (replay, a loop over a merged event stream) and
``txn_score`` / ``txn_features`` / ``label_step`` / ``account_step`` / ``sms_step`` (online, one
event per call). That, and not a second implementation, is what makes replay equal to live scoring.
Array layouts are in ``layout.py``; the per-account window streams in ``streams.py``.
"""

from __future__ import annotations

import numba
import numpy as np

from pesaguard.features.layout import (
    CLOCK,
    DEV,
    EV_ACCOUNT,
    EV_LABEL,
    EV_TXN,
    F_LIVE,
    I_FIRST,
    I_LAST,
    I_LIVE,
    K_DEVICE_CHANGE,
    K_SIM_SWAP,
    LAST_ANY,
    N_ROLES,
    NAN,
    NONE,
    O_LAST,
    O_LIVE,
    P_IN_EV,
    P_LAST,
    P_OUT_EV,
    P_RUN,
    PR_HIST,
    PR_HORIZON,
    PR_NIGHT_E,
    PR_NIGHT_S,
    PR_NL,
    PR_NW,
    PR_OFFSET,
    PR_RECENT,
    PR_W0,
    ROLE_FRAUD_PAYEE,
    ROLE_FRAUD_PAYER,
    ROLE_LABELLED_PAYEE,
    SIM,
    SMS_SCORE,
    SMS_SCORE_TS,
    SMS_TS,
)
from pesaguard.features.streams import (
    _fraud_add,
    _fraud_expire,
    _fraud_read,
    _in_add,
    _in_expire,
    _in_read,
    _out_add,
    _out_expire,
    _out_read,
)


@numba.njit(cache=True, inline="always")
def _secs_since(t, last, horizon):
    if last == NONE or t - last >= horizon:
        return NAN
    return (t - last) / 1000.0


@numba.njit(cache=True, inline="always")
def _ratio(a, b):
    if np.isnan(a) or np.isnan(b) or b <= 0:
        return NAN
    return a / b


# -- one transaction ---------------------------------------------------------------------------------------
@numba.njit(cache=True)
def txn_features(AI, AF, PI, OE, IE, FE, P, t, a, bb, pr, amt, amt_ok, bal, tcode, colmap, out, row, scratch):
    """Write the features of a transaction into out[row, colmap[k]], without changing the state.

    ``scratch`` is a float64 work array of at least ``len(colmap) + nw + 5``.
    """
    nw, nl, horizon = P[PR_NW], P[PR_NL], P[PR_HORIZON]
    ncol = colmap.shape[0]
    vals = scratch[:ncol]
    in_counts = scratch[ncol : ncol + nw]
    res = scratch[ncol + nw : ncol + nw + 5]
    amount = float(amt) if amt_ok else NAN
    k = 0
    vals[k] = amount
    vals[k + 1] = tcode
    local = t + P[PR_OFFSET]
    hour = (local // 3_600_000) % 24
    dow = (local // 86_400_000 + 3) % 7
    s, e = P[PR_NIGHT_S], P[PR_NIGHT_E]
    night = (hour >= s or hour < e) if s > e else (s <= hour and hour < e)
    vals[k + 2] = hour
    vals[k + 3] = dow
    vals[k + 4] = 1.0 if night else 0.0
    vals[k + 5] = 1.0 if dow >= 5 else 0.0
    k += 6
    hist_mean, hist_std, hist_max = NAN, NAN, NAN
    for w in range(nw):
        _out_read(AI, AF, PI, OE, P, a, t, w, res)
        cnt = res[0]
        mean = res[1] / cnt if cnt > 0 else NAN
        std = np.sqrt(res[2]) if cnt > 0 else NAN
        vals[k] = cnt
        vals[k + 1] = res[1]
        vals[k + 2] = mean
        vals[k + 3] = std
        vals[k + 4] = res[4]
        vals[k + 5] = res[3]
        k += 6
        if w == P[PR_HIST]:
            hist_mean, hist_std, hist_max = mean, std, res[4]
    vals[k] = _secs_since(t, AI[a, O_LAST], horizon)
    vals[k + 1] = _ratio(amount, hist_mean)
    if np.isnan(amount) or np.isnan(hist_mean):
        vals[k + 2] = NAN
    else:
        vals[k + 2] = (amount - hist_mean) / max(hist_std, 1.0, 0.01 * abs(hist_mean))
    vals[k + 3] = _ratio(amount, hist_max)
    k += 4
    for w in range(nw):
        _in_read(AI, PI, IE, P, bb, t, w, res)
        cnt = res[0]
        in_counts[w] = cnt
        vals[k] = cnt
        vals[k + 1] = res[1]
        vals[k + 2] = res[1] / cnt if cnt > 0 else NAN
        vals[k + 3] = res[2]
        k += 4
    vals[k] = _secs_since(t, AI[bb, I_LAST], horizon)
    first = AI[bb, I_FIRST]
    vals[k + 1] = NAN if (first == NONE or t - AI[bb, I_LAST] >= horizon) else (t - first) / 1000.0
    k += 2
    plast = PI[pr, P_LAST]
    fresh = plast == NONE or t - plast >= horizon
    vals[k] = 0.0 if fresh else PI[pr, P_RUN]
    vals[k + 1] = 1.0 if fresh else 0.0
    vals[k + 2] = _secs_since(t, plast, horizon)
    k += 3
    for ll in range(nl):
        nq = float(_fraud_read(AI, FE, P, bb, t, ROLE_FRAUD_PAYEE, ll))
        vals[k] = nq
        vals[k + 1] = _ratio(nq, in_counts[P[PR_W0 + nw + ll]])
        vals[k + 2] = _ratio(nq, float(_fraud_read(AI, FE, P, bb, t, ROLE_LABELLED_PAYEE, ll)))
        vals[k + 3] = float(_fraud_read(AI, FE, P, a, t, ROLE_FRAUD_PAYER, ll))
        k += 4
    vals[k] = _secs_since(t, AI[a, SIM], horizon)
    vals[k + 1] = _secs_since(t, AI[a, DEV], horizon)
    vals[k + 2] = _secs_since(t, AI[bb, SIM], horizon)
    k += 3
    vals[k] = _ratio(amount, bal)
    vals[k + 1] = _secs_since(t, AI[a, I_LAST], horizon)
    _in_read(AI, PI, IE, P, a, t, P[PR_RECENT], res)
    vals[k + 2] = _ratio(amount, res[1])
    k += 3
    since_sms = _secs_since(t, AI[a, SMS_TS], horizon)
    vals[k] = since_sms
    sts = AI[a, SMS_SCORE_TS]
    vals[k + 1] = AF[a, SMS_SCORE] if (sts != NONE and t - sts < horizon) else NAN
    recent = (not np.isnan(since_sms)) and since_sms * 1000.0 < P[PR_W0 + P[PR_RECENT]]
    vals[k + 2] = 1.0 if (recent and fresh) else 0.0
    k += 3
    for j in range(colmap.shape[0]):
        c = colmap[j]
        if c >= 0:
            out[row, c] = vals[j]


@numba.njit(cache=True)
def txn_expire(AI, AF, PI, OE, IE, meta, P, t, a, bb):
    """Drop from the windows of ``a`` (outgoing) and ``bb`` (incoming) what left them by ``t``.

    Invisible to values (reads skip expired events anyway); done before reading so that reads on the
    scoring path have nothing to skip.
    """
    _out_expire(AI, AF, PI, OE, meta, P, a, t)
    _in_expire(AI, PI, IE, meta, P, bb, t)


@numba.njit(cache=True)
def txn_score(AI, AF, PI, OE, IE, FE, meta, P, t, a, bb, pr, amt, amt_ok, bal, tcode, colmap, out, row, scratch):
    """Features of a transaction from the state before it, then the transaction is added."""
    txn_expire(AI, AF, PI, OE, IE, meta, P, t, a, bb)
    txn_features(AI, AF, PI, OE, IE, FE, P, t, a, bb, pr, amt, amt_ok, bal, tcode, colmap, out, row, scratch)
    txn_update(AI, AF, PI, OE, IE, FE, meta, P, t, a, bb, pr, amt, amt_ok)


@numba.njit(cache=True)
def txn_update(AI, AF, PI, OE, IE, FE, meta, P, t, a, bb, pr, amt, amt_ok):
    """Add a transaction to the state, after ``txn_expire`` at ``t`` (and reading its features)."""
    horizon = P[PR_HORIZON]
    if t > meta[CLOCK]:
        meta[CLOCK] = t
    if amt_ok:
        _out_add(AI, AF, PI, OE, meta, P, a, pr, t, amt)
        _in_add(AI, PI, IE, meta, P, bb, pr, t, amt)
    AI[a, O_LAST] = t
    if AI[bb, I_LAST] == NONE or t - AI[bb, I_LAST] >= horizon:
        AI[bb, I_FIRST] = t
    AI[bb, I_LAST] = t
    AI[a, LAST_ANY] = max(AI[a, LAST_ANY], t)
    AI[bb, LAST_ANY] = max(AI[bb, LAST_ANY], t)
    if PI[pr, P_LAST] == NONE or t - PI[pr, P_LAST] >= horizon:
        PI[pr, P_RUN] = 0
    PI[pr, P_RUN] += 1
    PI[pr, P_LAST] = t


@numba.njit(cache=True)
def label_step(AI, FE, meta, P, a, bb, is_fraud, applied, labelled):
    """Apply a label of a transaction from payer ``a`` to payee ``bb`` at the current clock.

    ``applied``/``labelled`` say what earlier labels of the same transaction already counted; returns
    the new pair (each transaction counts once as labelled and once as fraud).
    """
    t = meta[CLOCK]
    if not labelled:
        _fraud_add(AI, FE, meta, P, bb, t, ROLE_LABELLED_PAYEE)
        labelled = True
    if is_fraud and not applied:
        _fraud_add(AI, FE, meta, P, a, t, ROLE_FRAUD_PAYER)
        _fraud_add(AI, FE, meta, P, bb, t, ROLE_FRAUD_PAYEE)
        applied = True
    AI[a, LAST_ANY] = max(AI[a, LAST_ANY], t)
    AI[bb, LAST_ANY] = max(AI[bb, LAST_ANY], t)
    return applied, labelled


@numba.njit(cache=True)
def account_step(AI, meta, a, t, kind):
    if t > meta[CLOCK]:
        meta[CLOCK] = t
    if kind == K_SIM_SWAP:
        AI[a, SIM] = t
    elif kind == K_DEVICE_CHANGE:
        AI[a, DEV] = t
    else:
        return
    AI[a, LAST_ANY] = max(AI[a, LAST_ANY], t)


@numba.njit(cache=True)
def sms_step(AI, AF, meta, a, t, score, counts):
    """A scam SMS for ``a`` (``counts`` False: below the score threshold, only the clock moves)."""
    if t > meta[CLOCK]:
        meta[CLOCK] = t
    if not counts:
        return
    AI[a, SMS_TS] = t
    if not np.isnan(score):
        AI[a, SMS_SCORE_TS] = t
        AF[a, SMS_SCORE] = score
    AI[a, LAST_ANY] = max(AI[a, LAST_ANY], t)


# -- replay ----------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def run(
    AI, AF, PI, OE, IE, FE, meta, P, colmap,
    ev_kind, ev_row, start,
    t_ts, t_a, t_b, t_pr, t_amt, t_ok, t_bal, t_type, out,
    g_seen, g_applied, g_labelled, g_pend, g_pend_fraud, g_ts, g_a, g_b,
    l_target, l_known, l_fraud,
    x_acct, x_ts, x_kind,
    s_acct, s_ts, s_score, s_counts,
):
    """Process events ev[start:] in order; return the index reached (short of the end when an arena is full).

    Label targets ``g_*`` are indexed by ``l_target``: the first ``len(t_ts)`` are this batch's
    transactions, any further ones are remembered transactions from before the batch.
    """
    horizon = P[PR_HORIZON]
    n = ev_kind.shape[0]
    o_cap, i_cap, f_cap = OE.shape[0], IE.shape[0], FE.shape[0]
    scratch = np.empty(colmap.shape[0] + P[PR_NW] + 5, np.float64)
    i = start
    while i < n:
        if meta[O_LIVE] >= o_cap or meta[I_LIVE] >= i_cap or meta[F_LIVE] + N_ROLES > f_cap:
            return i
        k, r = ev_kind[i], ev_row[i]
        if k == EV_TXN:
            t = t_ts[r]
            txn_score(AI, AF, PI, OE, IE, FE, meta, P, t, t_a[r], t_b[r], t_pr[r], t_amt[r], t_ok[r],
                      t_bal[r], t_type[r], colmap, out, r, scratch)
            g_seen[r] = True
            if g_pend[r] != NONE:
                if t - g_pend[r] < horizon:
                    g_applied[r], g_labelled[r] = label_step(
                        AI, FE, meta, P, g_a[r], g_b[r], g_pend_fraud[r], g_applied[r], g_labelled[r]
                    )
                g_pend[r] = NONE
        elif k == EV_LABEL:
            tk = l_known[r]
            if tk > meta[CLOCK]:
                meta[CLOCK] = tk
            g = l_target[r]
            if g >= 0:
                if not g_seen[g]:
                    g_pend[g] = tk
                    g_pend_fraud[g] = l_fraud[r]
                elif g_ts[g] > meta[CLOCK] - horizon:
                    g_applied[g], g_labelled[g] = label_step(
                        AI, FE, meta, P, g_a[g], g_b[g], l_fraud[r], g_applied[g], g_labelled[g]
                    )
        elif k == EV_ACCOUNT:
            account_step(AI, meta, x_acct[r], x_ts[r], x_kind[r])
        else:
            sms_step(AI, AF, meta, s_acct[r], s_ts[r], s_score[r], s_counts[r])
        i += 1
    return i


# -- memory ----------------------------------------------------------------------------------------------
@numba.njit(cache=True)
def sweep(AI, AF, PI, OE, IE, FE, meta, P, n_acct, n_pair, ai_default, af_default, acct_evicted, pair_evicted, evict):
    """Expire every account's windows to the clock and reset entities idle for ``horizon``.

    Values never change (nothing older than ``horizon`` reaches a feature); memory is returned.
    Row 0 of accounts and pairs is the permanently empty entity and is never touched.
    """
    t = meta[CLOCK]
    horizon = P[PR_HORIZON]
    for a in range(1, n_acct):
        _out_expire(AI, AF, PI, OE, meta, P, a, t)
        _in_expire(AI, PI, IE, meta, P, a, t)
        for role in range(N_ROLES):
            _fraud_expire(AI, FE, meta, P, a, t, role)
    if not evict:
        return
    for a in range(1, n_acct):
        last = AI[a, LAST_ANY]
        acct_evicted[a] = last != NONE and t - last >= horizon
        if acct_evicted[a]:
            AI[a, :] = ai_default
            AF[a, :] = af_default
    for p in range(1, n_pair):
        last = PI[p, P_LAST]
        pair_evicted[p] = last != NONE and t - last >= horizon
        if pair_evicted[p]:
            PI[p, P_LAST] = NONE
            PI[p, P_RUN] = 0
            PI[p, P_OUT_EV] = -1
            PI[p, P_IN_EV] = -1
