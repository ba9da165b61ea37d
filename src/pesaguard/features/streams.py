"""Per-account event streams inside the kernel: arenas, sliding windows, exact sums of squares.

Each role keeps a linked list of its events in an arena and, per window, a pointer to the oldest event
inside it with running aggregates; ``*_expire`` moves the pointers (mutating), ``*_read`` computes the
same values without mutating, ``*_add`` appends. Amounts are integer minor units, so window sums are
exact int64 and do not depend on when events expire; the variance uses the exact integer sum of
squares (two int64 limbs), recentred on the window's integer mean when read, so only the last division
rounds.
"""

from __future__ import annotations

import numba

from pesaguard.features.layout import (
    AI_W0,
    E_AMT,
    E_M0,
    E_NEXT,
    E_PAIR,
    E_TS,
    F_FREE,
    F_LIVE,
    F_NEXT,
    F_TS,
    F_USED,
    FP_HEAD,
    I_FREE,
    I_HEAD,
    I_LIVE,
    I_TAIL,
    I_USED,
    IB,
    LB,
    LIMB,
    NAN,
    O_FREE,
    O_HEAD,
    O_LIVE,
    O_TAIL,
    O_USED,
    OB,
    P_IN_EV,
    P_OUT_EV,
    PR_NL,
    PR_NW,
    PR_W0,
    WB,
)


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
    cutoff = t - P[PR_W0 + nw - 1]
    h = AI[a, O_HEAD]
    while h != -1 and OE[h, E_TS] <= cutoff:
        nxt = OE[h, E_NEXT]
        pr = OE[h, E_PAIR]
        if pr >= 0:
            PI[pr, P_OUT_EV] = -1
        _release(OE, meta, O_FREE, O_LIVE, E_NEXT, h)
        h = nxt
    AI[a, O_HEAD] = h
    if h == -1:
        AI[a, O_TAIL] = -1


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
@numba.njit(cache=True)
def _in_expire(AI, PI, IE, meta, P, a, t):
    nw = P[PR_NW]
    for w in range(nw):
        b = AI_W0 + nw * OB + w * IB
        cutoff = t - P[PR_W0 + w]
        p = AI[a, b + 2]
        if p != -1 and IE[p, E_TS] <= cutoff:
            cnt, s, dist = AI[a, b], AI[a, b + 1], AI[a, b + 3]
            while p != -1 and IE[p, E_TS] <= cutoff:
                cnt -= 1
                s -= IE[p, E_AMT]
                if IE[p, E_PAIR] >= 0:
                    dist -= 1
                p = IE[p, E_NEXT]
            AI[a, b], AI[a, b + 1], AI[a, b + 3], AI[a, b + 2] = cnt, s, dist, p
    cutoff = t - P[PR_W0 + nw - 1]
    h = AI[a, I_HEAD]
    while h != -1 and IE[h, E_TS] <= cutoff:
        nxt = IE[h, E_NEXT]
        pr = IE[h, E_PAIR]
        if pr >= 0:
            PI[pr, P_IN_EV] = -1
        _release(IE, meta, I_FREE, I_LIVE, E_NEXT, h)
        h = nxt
    AI[a, I_HEAD] = h
    if h == -1:
        AI[a, I_TAIL] = -1


@numba.njit(cache=True)
def _in_read(AI, PI, IE, P, a, t, w, res):
    """res <- (count, sum, distinct) of window w as seen at t, without mutating."""
    b = AI_W0 + P[PR_NW] * OB + w * IB
    cutoff = t - P[PR_W0 + w]
    cnt, s, dist = AI[a, b], AI[a, b + 1], AI[a, b + 3]
    p = AI[a, b + 2]
    while p != -1 and IE[p, E_TS] <= cutoff:
        cnt -= 1
        s -= IE[p, E_AMT]
        if IE[p, E_PAIR] >= 0:
            dist -= 1
        p = IE[p, E_NEXT]
    res[0] = cnt
    res[1] = s
    res[2] = dist


@numba.njit(cache=True)
def _in_add(AI, PI, IE, meta, P, a, pr, t, x):
    e = _alloc(IE, meta, I_FREE, I_USED, I_LIVE, E_NEXT)
    IE[e, E_TS] = t
    IE[e, E_AMT] = x
    IE[e, E_NEXT] = -1
    IE[e, E_PAIR] = pr
    tail = AI[a, I_TAIL]
    if tail == -1:
        AI[a, I_HEAD] = e
    else:
        IE[tail, E_NEXT] = e
    AI[a, I_TAIL] = e
    prev = PI[pr, P_IN_EV]
    nw = P[PR_NW]
    for w in range(nw):
        b = AI_W0 + nw * OB + w * IB
        AI[a, b] += 1
        AI[a, b + 1] += x
        if prev != -1 and IE[prev, E_TS] > t - P[PR_W0 + w]:
            AI[a, b + 3] -= 1
        AI[a, b + 3] += 1
        if AI[a, b + 2] == -1:
            AI[a, b + 2] = e
    if prev != -1:
        IE[prev, E_PAIR] = -pr - 1
    PI[pr, P_IN_EV] = e


# -- label streams (count only; see ROLE_*) ------------------------------------------------------------------
@numba.njit(cache=True)
def _fraud_expire(AI, FE, meta, P, a, t, role):
    nw, nl = P[PR_NW], P[PR_NL]
    longest = 0
    for ll in range(nl):
        b = AI_W0 + nw * WB + ll * LB + 2 * role
        win = P[PR_W0 + P[PR_W0 + nw + ll]]
        longest = max(longest, win)
        cutoff = t - win
        p = AI[a, b + 1]
        while p != -1 and FE[p, F_TS] <= cutoff:
            AI[a, b] -= 1
            p = FE[p, F_NEXT]
        AI[a, b + 1] = p
    head_col = FP_HEAD + 2 * role
    cutoff = t - longest
    h = AI[a, head_col]
    while h != -1 and FE[h, F_TS] <= cutoff:
        nxt = FE[h, F_NEXT]
        _release(FE, meta, F_FREE, F_LIVE, F_NEXT, h)
        h = nxt
    AI[a, head_col] = h
    if h == -1:
        AI[a, head_col + 1] = -1


@numba.njit(cache=True)
def _fraud_read(AI, FE, P, a, t, role, ll):
    nw = P[PR_NW]
    b = AI_W0 + nw * WB + ll * LB + 2 * role
    cutoff = t - P[PR_W0 + P[PR_W0 + nw + ll]]
    cnt = AI[a, b]
    p = AI[a, b + 1]
    while p != -1 and FE[p, F_TS] <= cutoff:
        cnt -= 1
        p = FE[p, F_NEXT]
    return cnt


@numba.njit(cache=True)
def _fraud_add(AI, FE, meta, P, a, t, role):
    nw = P[PR_NW]
    if P[PR_NL] == 0:
        return
    _fraud_expire(AI, FE, meta, P, a, t, role)
    e = _alloc(FE, meta, F_FREE, F_USED, F_LIVE, F_NEXT)
    FE[e, F_TS] = t
    FE[e, F_NEXT] = -1
    head_col = FP_HEAD + 2 * role
    tail = AI[a, head_col + 1]
    if tail == -1:
        AI[a, head_col] = e
    else:
        FE[tail, F_NEXT] = e
    AI[a, head_col + 1] = e
    for ll in range(P[PR_NL]):
        b = AI_W0 + nw * WB + ll * LB + 2 * role
        AI[a, b] += 1
        if AI[a, b + 1] == -1:
            AI[a, b + 1] = e
