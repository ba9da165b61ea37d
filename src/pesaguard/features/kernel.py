"""The compiled feature kernel: every feature of ``oracle.py``, per event, in numba.

Both drivers call the same functions: ``run`` (replay, a loop over a merged event stream) and
``txn_score`` / ``txn_features`` / ``label_step`` / ``account_step`` / ``sms_step`` (online, one
event per call). That, and not a second implementation, is what makes replay equal to live scoring.

One file on purpose: numba's on-disk cache (``cache=True``) is invalidated per source file, and a
caller's cached machine code embeds its callees and the layout constants below. Split across modules,
editing one of them would leave stale compiled code running against new layouts.

State is a handful of numpy arrays (so it pickles and grows from Python):

* ``AI``/``AF`` one row per account (int64 / float64): role streams' heads, first and last times, and
  per window count, sum, exact sum of squares, pointer into the arena, distinct count and the monotone
  deque for the maximum (the payer's fields together, then the payee's, who also counts payments that
  were their pair's first); then the payee's counts over the lag spans (the label lag ``D`` and ``D``
  plus each lagged window) with the time of the latest payment each span's pointer passed; ``AF`` holds
  the last scam-SMS score.
* ``PI`` one row per (payer, payee) pair: last time, run count, latest event in each arena.
* ``OE``/``IE`` arenas of payment events (outgoing, incoming), linked per account, freed once older
  than the longest window (incoming: or the longest lag span). ``FE`` holds fraud label events (when
  each counts from, its transaction's time), linked per account and role and scanned when read: an
  account has few. ``META`` holds the clock and the arenas' free lists.

Amounts are integer minor units, so window sums are exact int64 and do not depend on when events
expire. The variance uses the exact integer sum of squares (two int64 limbs), recentred on the window's
integer mean when read, so only the last division rounds: a constant history gives exactly 0.
"""

from __future__ import annotations

import numba
import numpy as np

NONE = -(2**62)  # "no timestamp"
NAN = np.nan

# -- layouts ---------------------------------------------------------------------------------------------
# AI fixed columns
O_HEAD, O_TAIL, O_LAST, I_HEAD, I_TAIL, I_LAST, I_FIRST, LAST_ANY = 0, 1, 2, 3, 4, 5, 6, 7
SIM, DEV, SMS_TS, SMS_SCORE_TS, FP_HEAD, FP_TAIL, FQ_HEAD, FQ_TAIL = 8, 9, 10, 11, 12, 13, 14, 15
O_FIRST = 16
AI_W0 = 17
# per window, outgoing block (the payer's fields together, then the payee's):
OB = 8  # O_CNT, O_SUM, O_PTR, O_DIST, O_MF (max deque front), O_MB (back), O_SQ_HI, O_SQ_LO
IB = 5  # I_CNT, I_SUM, I_PTR, I_DIST, I_NEW (payments that were their pair's first)
WB = OB + IB
# after the windows, per lag span (the label lag D, then D + each lagged window): the payee's incoming
# payments made after t - span (count, pointer), so a lagged window's count is a difference of two; and
# the time of the latest payment the pointer has passed (used for span D: the latest settled payment).
GB = 3
# label event lists (each account's frauds as payer and as payee), scanned when read
ROLE_FRAUD_PAYER, ROLE_FRAUD_PAYEE = 0, 1
N_ROLES = 2
# AF columns
SMS_SCORE = 0
AF_COLS = 1
LIMB = 1 << 62  # sums of squares are exact integers hi * LIMB + lo, 0 <= lo < LIMB
# PI columns
P_LAST, P_RUN, P_OUT_EV, P_IN_EV = 0, 1, 2, 3
PI_COLS = 4
# arenas: OE = TS, AMT, NEXT, PAIR, MPREV[w]..., MNEXT[w]...; IE = TS, AMT, NEXT, PAIR, NEW;
# FE = TS (when the label counts from), NEXT, TX (its transaction's time).
# PAIR is the pair's row while the event is its pair's latest, -row-1 once a newer one exists: distinct
# counts then expire without touching the pair table.
E_TS, E_AMT, E_NEXT, E_PAIR, E_M0 = 0, 1, 2, 3, 4
E_NEW = 4  # IE only
IE_COLS = 5
F_TS, F_NEXT, F_TX = 0, 1, 2
FE_COLS = 3
# META
CLOCK, O_FREE, O_USED, O_LIVE, I_FREE, I_USED, I_LIVE, F_FREE, F_USED, F_LIVE = range(10)
META_COLS = 10
# params (int64 vector): head, then windows (ms), label windows (indices into windows), lagged windows (ms)
PR_NW, PR_NL, PR_HORIZON, PR_HIST, PR_RECENT, PR_OFFSET, PR_NIGHT_S, PR_NIGHT_E = range(8)
PR_ND, PR_LAG, PR_FLOOR, PR_FSPAN, PR_W0 = 8, 9, 10, 11, 12

# account event kinds (others only advance the clock)
K_SIM_SWAP, K_DEVICE_CHANGE = 0, 1
KIND_CODES = {"sim_swap": K_SIM_SWAP, "device_change": K_DEVICE_CHANGE}
# replay event kinds (same codes as pesaguard.features.order)
EV_LABEL, EV_ACCOUNT, EV_SMS, EV_TXN = 0, 1, 2, 3


def ai_cols(nw: int, nd: int) -> int:
    return AI_W0 + nw * WB + (nd + 1) * GB


def ai_default_row(nw: int, nd: int) -> np.ndarray:
    """An account row with no history: pointers -1, times NONE, counts 0."""
    row = np.zeros(ai_cols(nw, nd), np.int64)
    row[[O_HEAD, O_TAIL, I_HEAD, I_TAIL, FP_HEAD, FP_TAIL, FQ_HEAD, FQ_TAIL]] = -1
    row[[O_LAST, O_FIRST, I_LAST, I_FIRST, LAST_ANY, SIM, DEV, SMS_TS, SMS_SCORE_TS]] = NONE
    for w in range(nw):
        b = AI_W0 + w * OB
        row[[b + 2, b + 4, b + 5]] = -1
        row[AI_W0 + nw * OB + w * IB + 2] = -1
    for g in range(nd + 1):
        row[AI_W0 + nw * WB + g * GB + 1] = -1
        row[AI_W0 + nw * WB + g * GB + 2] = NONE
    return row


@numba.njit(cache=True)
def scratch_len(ncol: int, nw: int, nl: int, nd: int) -> int:
    """Work space ``txn_features`` needs: values, incoming counts, window results, label results, and
    per window the payer's mean, std and max."""
    return ncol + nw + 5 + nl + nd + 2 + 3 * nw


def af_default_row(nw: int) -> np.ndarray:
    row = np.zeros(AF_COLS, np.float64)
    row[SMS_SCORE] = np.nan
    return row


def pi_default_row() -> np.ndarray:
    return np.array([NONE, 0, -1, -1], np.int64)


def oe_cols(nw: int) -> int:
    return E_M0 + 2 * nw


def meta_new() -> np.ndarray:
    m = np.zeros(META_COLS, np.int64)
    m[CLOCK] = NONE
    m[O_FREE] = m[I_FREE] = m[F_FREE] = -1
    return m


# -- arena helpers -------------------------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _alloc(arena, meta, free, used, live, next_col):
    e = meta[free]
    if e != -1:
        meta[free] = arena[e, next_col]
    else:
        e = meta[used]
        meta[used] += 1
    meta[live] += 1
    return e


@numba.njit(cache=True, inline="always")
def _release(arena, meta, free, live, next_col, e):
    arena[e, next_col] = meta[free]
    meta[free] = e
    meta[live] -= 1


@numba.njit(cache=True, inline="always")
def _drop_expired(AI, PI, E, meta, a, cutoff, head, tail, pair_ev, free, live):
    """Release account ``a``'s queued events (out or in) at or before ``cutoff``, oldest first,
    unlinking each from its payer-payee pair; empties the queue's tail when nothing is left."""
    h = AI[a, head]
    while h != -1 and E[h, E_TS] <= cutoff:
        nxt = E[h, E_NEXT]
        pr = E[h, E_PAIR]
        if pr >= 0:
            PI[pr, pair_ev] = -1
        _release(E, meta, free, live, E_NEXT, h)
        h = nxt
    AI[a, head] = h
    if h == -1:
        AI[a, tail] = -1


@numba.njit(cache=True, inline="always")
def _sq_step(hi, lo, d, sign):
    """(hi, lo) +/- d*d exactly, for |d| < 2**53 (amount differences up to 9e15 minor units)."""
    if d < 0:
        d = -d
    dh = d >> 31
    dl = d & ((1 << 31) - 1)
    mid = 2 * dh * dl  # < 2**54
    part_lo = dl * dl + ((mid & ((1 << 31) - 1)) << 31)  # < 2**63
    part_hi = dh * dh + (mid >> 31) + (part_lo >> 62)
    part_lo &= LIMB - 1
    if sign > 0:
        lo += part_lo
        hi += part_hi
        if lo >= LIMB:
            lo -= LIMB
            hi += 1
    else:
        lo -= part_lo
        hi -= part_hi
        if lo < 0:
            lo += LIMB
            hi -= 1
    return hi, lo


@numba.njit(cache=True, inline="always")
def _mul(x, y):
    """x * y exactly as (hi, lo), for |x|, |y| < 2**62."""
    neg = (x < 0) != (y < 0)
    x, y = abs(x), abs(y)
    m31 = (1 << 31) - 1
    xh, xl, yh, yl = x >> 31, x & m31, y >> 31, y & m31
    cross = xh * yl + xl * yh  # < 2**63
    lo = xl * yl + ((cross & m31) << 31)
    hi = xh * yh + (cross >> 31) + (lo >> 62)
    lo &= LIMB - 1
    if neg:
        if lo > 0:
            return -hi - 1, LIMB - lo
        return -hi, 0
    return hi, lo


@numba.njit(cache=True, inline="always")
def _add(h1, l1, h2, l2):
    lo = l1 + l2
    hi = h1 + h2
    if lo >= LIMB:
        lo -= LIMB
        hi += 1
    return hi, lo


@numba.njit(cache=True)
def _variance(n, s, hi, lo):
    """Population variance from n, the exact sum s and the exact sum of squares (hi, lo).

    Recentred on m = floor(s / n) in exact integers (sum (x-m)^2 = sum x^2 - 2 m s + n m^2), so only
    the last division rounds.
    """
    if n <= 0:
        return NAN
    m = s // n
    ah, al = _mul(-2 * m, s)
    bh, bl = _mul(n * m, m)
    hi, lo = _add(hi, lo, ah, al)
    hi, lo = _add(hi, lo, bh, bl)
    d = (s - n * m) / n
    var = (float(hi) * LIMB + float(lo)) / n - d * d
    return var if var > 0 else 0.0


# -- outgoing stream (payer role) ---------------------------------------------------------------------------
@numba.njit(cache=True)
def _out_expire(AI, AF, PI, OE, meta, P, a, t):
    nw = P[PR_NW]
    for w in range(nw):
        b = AI_W0 + w * OB
        cutoff = t - P[PR_W0 + w]
        p = AI[a, b + 2]
        if p != -1 and OE[p, E_TS] <= cutoff:
            cnt, s, dist = AI[a, b], AI[a, b + 1], AI[a, b + 3]
            hi, lo = AI[a, b + 6], AI[a, b + 7]
            while p != -1 and OE[p, E_TS] <= cutoff:
                x = OE[p, E_AMT]
                cnt -= 1
                s -= x
                hi, lo = _sq_step(hi, lo, x, -1)
                if OE[p, E_PAIR] >= 0:  # still its pair's latest event
                    dist -= 1
                p = OE[p, E_NEXT]
            AI[a, b], AI[a, b + 1], AI[a, b + 3], AI[a, b + 2] = cnt, s, dist, p
            AI[a, b + 6], AI[a, b + 7] = hi, lo
        f = AI[a, b + 4]
        mnext = E_M0 + nw + w
        while f != -1 and OE[f, E_TS] <= cutoff:
            f = OE[f, mnext]
        AI[a, b + 4] = f
        if f == -1:
            AI[a, b + 5] = -1
        else:  # the front has nothing before it: a pop from the back must stop here
            OE[f, E_M0 + w] = -1
    _drop_expired(AI, PI, OE, meta, a, t - P[PR_W0 + nw - 1], O_HEAD, O_TAIL, P_OUT_EV, O_FREE, O_LIVE)


@numba.njit(cache=True)
def _out_read(AI, AF, PI, OE, P, a, t, w, res):
    """res <- (count, sum, variance, distinct, max) of window w as seen at t, without mutating."""
    nw = P[PR_NW]
    b = AI_W0 + w * OB
    cutoff = t - P[PR_W0 + w]
    cnt, s, dist = AI[a, b], AI[a, b + 1], AI[a, b + 3]
    hi, lo = AI[a, b + 6], AI[a, b + 7]
    p = AI[a, b + 2]
    while p != -1 and OE[p, E_TS] <= cutoff:
        x = OE[p, E_AMT]
        cnt -= 1
        s -= x
        hi, lo = _sq_step(hi, lo, x, -1)
        if OE[p, E_PAIR] >= 0:
            dist -= 1
        p = OE[p, E_NEXT]
    f = AI[a, b + 4]
    mnext = E_M0 + nw + w
    while f != -1 and OE[f, E_TS] <= cutoff:
        f = OE[f, mnext]
    res[0] = cnt
    res[1] = s
    res[2] = _variance(cnt, s, hi, lo)
    res[3] = dist
    res[4] = OE[f, E_AMT] if f != -1 else NAN


@numba.njit(cache=True)
def _out_add(AI, AF, PI, OE, meta, P, a, pr, t, x):
    nw = P[PR_NW]
    e = _alloc(OE, meta, O_FREE, O_USED, O_LIVE, E_NEXT)
    OE[e, E_TS] = t
    OE[e, E_AMT] = x
    OE[e, E_NEXT] = -1
    OE[e, E_PAIR] = pr
    tail = AI[a, O_TAIL]
    if tail == -1:
        AI[a, O_HEAD] = e
    else:
        OE[tail, E_NEXT] = e
    AI[a, O_TAIL] = e
    prev = PI[pr, P_OUT_EV]
    for w in range(nw):
        b = AI_W0 + w * OB
        AI[a, b] += 1
        AI[a, b + 1] += x
        AI[a, b + 6], AI[a, b + 7] = _sq_step(AI[a, b + 6], AI[a, b + 7], x, 1)
        if prev != -1 and OE[prev, E_TS] > t - P[PR_W0 + w]:
            AI[a, b + 3] -= 1
        AI[a, b + 3] += 1
        if AI[a, b + 2] == -1:
            AI[a, b + 2] = e
        mprev, mnext = E_M0 + w, E_M0 + nw + w
        k = AI[a, b + 5]
        while k != -1 and OE[k, E_AMT] <= x:
            k = OE[k, mprev]
        if k == -1:
            AI[a, b + 4] = e
        else:
            OE[k, mnext] = e
        OE[e, mprev] = k
        OE[e, mnext] = -1
        AI[a, b + 5] = e
    if prev != -1:
        OE[prev, E_PAIR] = -pr - 1  # superseded: no longer its pair's latest event
    PI[pr, P_OUT_EV] = e


# -- incoming stream (payee role) ---------------------------------------------------------------------------
@numba.njit(cache=True, inline="always")
def _in_keep(P):
    """How long incoming events stay: the longest window, or the longest lag span if longer."""
    nw, nd = P[PR_NW], P[PR_ND]
    keep = P[PR_W0 + nw - 1]
    if nd > 0:
        keep = max(keep, P[PR_LAG] + P[PR_W0 + nw + P[PR_NL] + nd - 1])
    return keep


@numba.njit(cache=True, inline="always")
def _lag_span(P, g):
    """Span g of the lag blocks: the lag D itself (g = 0), then D + lagged window g - 1."""
    if g == 0:
        return P[PR_LAG]
    return P[PR_LAG] + P[PR_W0 + P[PR_NW] + P[PR_NL] + g - 1]


@numba.njit(cache=True)
def _in_expire(AI, PI, IE, meta, P, a, t):
    nw, nd = P[PR_NW], P[PR_ND]
    for w in range(nw):
        b = AI_W0 + nw * OB + w * IB
        cutoff = t - P[PR_W0 + w]
        p = AI[a, b + 2]
        if p != -1 and IE[p, E_TS] <= cutoff:
            cnt, s, dist, new = AI[a, b], AI[a, b + 1], AI[a, b + 3], AI[a, b + 4]
            while p != -1 and IE[p, E_TS] <= cutoff:
                cnt -= 1
                s -= IE[p, E_AMT]
                new -= IE[p, E_NEW]
                if IE[p, E_PAIR] >= 0:
                    dist -= 1
                p = IE[p, E_NEXT]
            AI[a, b], AI[a, b + 1], AI[a, b + 3], AI[a, b + 2], AI[a, b + 4] = cnt, s, dist, p, new
    if nd > 0:
        for g in range(nd + 1):
            b = AI_W0 + nw * WB + g * GB
            cutoff = t - _lag_span(P, g)
            p = AI[a, b + 1]
            cnt = AI[a, b]
            passed = AI[a, b + 2]
            while p != -1 and IE[p, E_TS] <= cutoff:
                cnt -= 1
                passed = IE[p, E_TS]
                p = IE[p, E_NEXT]
            AI[a, b], AI[a, b + 1], AI[a, b + 2] = cnt, p, passed
    _drop_expired(AI, PI, IE, meta, a, t - _in_keep(P), I_HEAD, I_TAIL, P_IN_EV, I_FREE, I_LIVE)


@numba.njit(cache=True)
def _in_read(AI, PI, IE, P, a, t, w, res):
    """res <- (count, sum, distinct, first-of-pair count) of window w as seen at t, without mutating."""
    b = AI_W0 + P[PR_NW] * OB + w * IB
    cutoff = t - P[PR_W0 + w]
    cnt, s, dist, new = AI[a, b], AI[a, b + 1], AI[a, b + 3], AI[a, b + 4]
    p = AI[a, b + 2]
    while p != -1 and IE[p, E_TS] <= cutoff:
        cnt -= 1
        s -= IE[p, E_AMT]
        new -= IE[p, E_NEW]
        if IE[p, E_PAIR] >= 0:
            dist -= 1
        p = IE[p, E_NEXT]
    res[0] = cnt
    res[1] = s
    res[2] = dist
    res[3] = new


@numba.njit(cache=True)
def _lag_read(AI, IE, P, a, t, g):
    """Incoming payments of ``a`` made after ``t - span g``, as seen at t, without mutating."""
    b = AI_W0 + P[PR_NW] * WB + g * GB
    cutoff = t - _lag_span(P, g)
    cnt = AI[a, b]
    p = AI[a, b + 1]
    while p != -1 and IE[p, E_TS] <= cutoff:
        cnt -= 1
        p = IE[p, E_NEXT]
    return cnt


@numba.njit(cache=True)
def _lag_settled(AI, IE, P, a, t):
    """Time of the latest incoming payment of ``a`` made at or before ``t - D`` (NONE if none), without
    mutating."""
    b = AI_W0 + P[PR_NW] * WB
    cutoff = t - P[PR_LAG]
    last = AI[a, b + 2]
    p = AI[a, b + 1]
    while p != -1 and IE[p, E_TS] <= cutoff:
        last = IE[p, E_TS]
        p = IE[p, E_NEXT]
    return last


@numba.njit(cache=True)
def _in_add(AI, PI, IE, meta, P, a, pr, t, x, new):
    e = _alloc(IE, meta, I_FREE, I_USED, I_LIVE, E_NEXT)
    IE[e, E_TS] = t
    IE[e, E_AMT] = x
    IE[e, E_NEXT] = -1
    IE[e, E_PAIR] = pr
    IE[e, E_NEW] = new
    tail = AI[a, I_TAIL]
    if tail == -1:
        AI[a, I_HEAD] = e
    else:
        IE[tail, E_NEXT] = e
    AI[a, I_TAIL] = e
    prev = PI[pr, P_IN_EV]
    nw, nd = P[PR_NW], P[PR_ND]
    for w in range(nw):
        b = AI_W0 + nw * OB + w * IB
        AI[a, b] += 1
        AI[a, b + 1] += x
        AI[a, b + 4] += new
        if prev != -1 and IE[prev, E_TS] > t - P[PR_W0 + w]:
            AI[a, b + 3] -= 1
        AI[a, b + 3] += 1
        if AI[a, b + 2] == -1:
            AI[a, b + 2] = e
    if nd > 0:
        for g in range(nd + 1):
            b = AI_W0 + nw * WB + g * GB
            AI[a, b] += 1
            if AI[a, b + 1] == -1:
                AI[a, b + 1] = e
    if prev != -1:
        IE[prev, E_PAIR] = -pr - 1
    PI[pr, P_IN_EV] = e


# -- label events (each account's frauds as payer and as payee) ----------------------------------------------
# A fraud event holds when its label counts from (F_TS: when it became known, never before its transaction
# is ``min_label_delay`` old, or ``label_delay`` old when it carries no timing) and its transaction's time
# (F_TX). Lists are short (an account's frauds within the longest label span) and scanned when read.
@numba.njit(cache=True, inline="always")
def _fraud_keep(P):
    """(known-time span, transaction-time span) an event must have left before it is dropped."""
    nw, nl = P[PR_NW], P[PR_NL]
    known = 0
    for ll in range(nl):
        known = max(known, P[PR_W0 + P[PR_W0 + nw + ll]])
    return known, P[PR_FSPAN]


@numba.njit(cache=True)
def _fraud_expire(AI, FE, meta, P, a, t, role):
    """Drop the oldest events of a list while they can no longer reach any feature."""
    known, span = _fraud_keep(P)
    head_col = FP_HEAD + 2 * role
    h = AI[a, head_col]
    while h != -1 and FE[h, F_TS] <= t - known and FE[h, F_TX] <= t - span:
        nxt = FE[h, F_NEXT]
        _release(FE, meta, F_FREE, F_LIVE, F_NEXT, h)
        h = nxt
    AI[a, head_col] = h
    if h == -1:
        AI[a, head_col + 1] = -1


@numba.njit(cache=True)
def _fraud_scan(AI, FE, P, a, t, role, res):
    """res <- per label window, frauds known in it; per lagged window, known frauds whose transaction lies
    in it; then the earliest and latest such transaction time within the span (NONE if none)."""
    nw, nl, nd = P[PR_NW], P[PR_NL], P[PR_ND]
    lag, span = P[PR_LAG], P[PR_FSPAN]
    for j in range(nl + nd):
        res[j] = 0.0
    first, last = NONE, NONE
    e = AI[a, FP_HEAD + 2 * role]
    while e != -1:
        k, tx = FE[e, F_TS], FE[e, F_TX]
        if k <= t:
            for ll in range(nl):
                if k > t - P[PR_W0 + P[PR_W0 + nw + ll]]:
                    res[ll] += 1.0
            if tx <= t - lag:
                for j in range(nd):
                    if tx > t - lag - P[PR_W0 + nw + nl + j]:
                        res[nl + j] += 1.0
            if tx > t - span:
                if first == NONE or tx < first:
                    first = tx
                if last == NONE or tx > last:
                    last = tx
        e = FE[e, F_NEXT]
    res[nl + nd] = first
    res[nl + nd + 1] = last


@numba.njit(cache=True)
def _fraud_add(AI, FE, meta, P, a, t, role, k, tx):
    if P[PR_NL] == 0 and P[PR_ND] == 0:
        return
    _fraud_expire(AI, FE, meta, P, a, t, role)
    e = _alloc(FE, meta, F_FREE, F_USED, F_LIVE, F_NEXT)
    FE[e, F_TS] = k
    FE[e, F_NEXT] = -1
    FE[e, F_TX] = tx
    head_col = FP_HEAD + 2 * role
    tail = AI[a, head_col + 1]
    if tail == -1:
        AI[a, head_col] = e
    else:
        FE[tail, F_NEXT] = e
    AI[a, head_col + 1] = e


@numba.njit(cache=True, inline="always")
def _secs_since(t, last, horizon):
    if last == NONE or t - last >= horizon:
        return NAN
    return (t - last) / 1000.0


@numba.njit(cache=True, inline="always")
def _zscore(amount, mean, std):
    """(amount - mean) / std, std floored at max(1 minor unit, 1% of |mean|)."""
    if np.isnan(amount) or np.isnan(mean):
        return NAN
    return (amount - mean) / max(std, 1.0, 0.01 * abs(mean))


@numba.njit(cache=True, inline="always")
def _ratio(a, b):
    if np.isnan(a) or np.isnan(b) or b <= 0:
        return NAN
    return a / b


# -- one transaction ---------------------------------------------------------------------------------------
@numba.njit(cache=True)
def txn_features(AI, AF, PI, OE, IE, FE, P, t, a, bb, pr, amt, amt_ok, bal, tcode, colmap, out, row, scratch):
    """Write the features of a transaction into out[row, colmap[k]], without changing the state.

    ``scratch`` is a float64 work array of at least ``scratch_len(len(colmap), nw, nl, nd)``.
    """
    nw, nl, nd, horizon = P[PR_NW], P[PR_NL], P[PR_ND], P[PR_HORIZON]
    ncol = colmap.shape[0]
    vals = scratch[:ncol]
    in_counts = scratch[ncol : ncol + nw]
    res = scratch[ncol + nw : ncol + nw + 5]
    fres = scratch[ncol + nw + 5 : ncol + nw + 5 + nl + nd + 2]
    wstats = scratch[ncol + nw + 5 + nl + nd + 2 : ncol + nw + 5 + nl + nd + 2 + 3 * nw]
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
    ratios = k + 6 * nw + 2  # amount / mean of each window, written with the windows
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
        vals[ratios + w] = _ratio(amount, mean)
        wstats[3 * w], wstats[3 * w + 1], wstats[3 * w + 2] = mean, std, res[4]
        k += 6
        if w == P[PR_HIST]:
            hist_mean, hist_std, hist_max = mean, std, res[4]
    vals[k] = _secs_since(t, AI[a, O_LAST], horizon)
    first = AI[a, O_FIRST]
    vals[k + 1] = NAN if (first == NONE or t - AI[a, O_LAST] >= horizon) else (t - first) / 1000.0
    k += 2 + nw
    vals[k] = _zscore(amount, hist_mean, hist_std)
    vals[k + 1] = _ratio(amount, hist_max)
    k += 2
    for w in range(nw):
        _in_read(AI, PI, IE, P, bb, t, w, res)
        cnt = res[0]
        in_counts[w] = cnt
        vals[k] = cnt
        vals[k + 1] = res[1]
        vals[k + 2] = res[1] / cnt if cnt > 0 else NAN
        vals[k + 3] = res[2]
        vals[k + 4] = res[3] / cnt if cnt > 0 else NAN
        k += 5
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
    _fraud_scan(AI, FE, P, a, t, ROLE_FRAUD_PAYER, fres)
    payer_last = fres[nl + nd + 1]
    for ll in range(nl):
        vals[k + 2 + 3 * ll] = fres[ll]
    _fraud_scan(AI, FE, P, bb, t, ROLE_FRAUD_PAYEE, fres)
    payee_last = fres[nl + nd + 1]
    for ll in range(nl):
        vals[k] = fres[ll]
        vals[k + 1] = _ratio(fres[ll], in_counts[P[PR_W0 + nw + ll]])
        k += 3
    if nd > 0:
        base = float(_lag_read(AI, IE, P, bb, t, 0))
        for j in range(nd):
            cnt = float(_lag_read(AI, IE, P, bb, t, j + 1)) - base
            vals[k] = cnt
            vals[k + 1] = fres[nl + j]
            vals[k + 2] = _ratio(fres[nl + j], cnt)
            k += 3
    vals[k] = NAN if fres[nl + nd] == NONE else (t - fres[nl + nd]) / 1000.0
    vals[k + 1] = NAN if fres[nl + nd + 1] == NONE else (t - fres[nl + nd + 1]) / 1000.0
    vals[k + 2] = NAN if payer_last == NONE else (t - payer_last) / 1000.0
    k += 3
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
    for w in range(nw):
        if w != P[PR_HIST]:
            vals[k] = _zscore(amount, wstats[3 * w], wstats[3 * w + 1])
            vals[k + 1] = _ratio(amount, wstats[3 * w + 2])
            vals[k + 2] = _ratio(wstats[3 * w + 2], hist_mean)
            k += 3
    vals[k] = NAN
    if nd > 0 and payee_last != NONE:
        settled = _lag_settled(AI, IE, P, bb, t)
        if settled != NONE and t - settled < horizon:
            vals[k] = (settled - payee_last) / 1000.0
    k += 1
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
    fresh = PI[pr, P_LAST] == NONE or t - PI[pr, P_LAST] >= horizon
    if amt_ok:
        _out_add(AI, AF, PI, OE, meta, P, a, pr, t, amt)
        _in_add(AI, PI, IE, meta, P, bb, pr, t, amt, 1 if fresh else 0)
    if AI[a, O_LAST] == NONE or t - AI[a, O_LAST] >= horizon:
        AI[a, O_FIRST] = t
    AI[a, O_LAST] = t
    if AI[bb, I_LAST] == NONE or t - AI[bb, I_LAST] >= horizon:
        AI[bb, I_FIRST] = t
    AI[bb, I_LAST] = t
    AI[a, LAST_ANY] = max(AI[a, LAST_ANY], t)
    AI[bb, LAST_ANY] = max(AI[bb, LAST_ANY], t)
    if fresh:
        PI[pr, P_RUN] = 0
    PI[pr, P_RUN] += 1
    PI[pr, P_LAST] = t


@numba.njit(cache=True)
def label_step(AI, FE, meta, P, a, bb, is_fraud, applied, labelled, tx_ts, known_at):
    """Apply a label of a transaction made at ``tx_ts`` from payer ``a`` to payee ``bb``, at the clock.

    The label counts from the clock, but never before its transaction is ``min_label_delay`` old; a
    label stamped known at or before its own transaction's time carries no timing, and counts from
    when the transaction is ``label_delay`` old. ``applied``/``labelled`` say what earlier labels of the
    same transaction already did; returns the new pair (each transaction counts once as fraud).
    """
    t = meta[CLOCK]
    labelled = True
    if is_fraud and not applied:
        delay = P[PR_LAG] if known_at <= tx_ts else P[PR_FLOOR]
        k = max(t, tx_ts + delay)
        _fraud_add(AI, FE, meta, P, a, t, ROLE_FRAUD_PAYER, k, tx_ts)
        _fraud_add(AI, FE, meta, P, bb, t, ROLE_FRAUD_PAYEE, k, tx_ts)
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
    scratch = np.empty(scratch_len(colmap.shape[0], P[PR_NW], P[PR_NL], P[PR_ND]), np.float64)
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
                        AI, FE, meta, P, g_a[r], g_b[r], g_pend_fraud[r], g_applied[r], g_labelled[r],
                        g_ts[r], g_pend[r],
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
                        AI, FE, meta, P, g_a[g], g_b[g], l_fraud[r], g_applied[g], g_labelled[g], g_ts[g], tk
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
