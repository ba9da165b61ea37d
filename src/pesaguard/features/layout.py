"""Layouts of the feature kernel's arrays: column numbers, sentinels and empty rows.

State is a handful of numpy arrays (so it pickles and grows from Python):

* ``AI``/``AF`` one row per account (int64 / float64): role streams' heads, last times, and per window
  count, sum, exact sum of squares, pointer into the arena, distinct count and the monotone deque for
  the maximum (the payer's fields together, then the payee's); ``AF`` holds the last scam-SMS score.
* ``PI`` one row per (payer, payee) pair: last time, run count, latest event in each arena.
* ``OE``/``IE``/``FE`` arenas of events (outgoing, incoming, label events), linked per account, freed
  once older than the longest window. ``META`` holds the clock and the arenas' free lists.
"""

from __future__ import annotations

import numpy as np

NONE = -(2**62)  # "no timestamp"
NAN = np.nan

# -- layouts ---------------------------------------------------------------------------------------------
# AI fixed columns
O_HEAD, O_TAIL, O_LAST, I_HEAD, I_TAIL, I_LAST, I_FIRST, LAST_ANY = 0, 1, 2, 3, 4, 5, 6, 7
SIM, DEV, SMS_TS, SMS_SCORE_TS, FP_HEAD, FP_TAIL, FQ_HEAD, FQ_TAIL = 8, 9, 10, 11, 12, 13, 14, 15
FL_HEAD, FL_TAIL = 16, 17
AI_W0 = 18
# per window, outgoing block (the payer's fields together, then the payee's):
OB = 8  # O_CNT, O_SUM, O_PTR, O_DIST, O_MF (max deque front), O_MB (back), O_SQ_HI, O_SQ_LO
IB = 4  # I_CNT, I_SUM, I_PTR, I_DIST
WB = OB + IB
LB = 6  # per label window: FP_CNT, FP_PTR, FQ_CNT, FQ_PTR, FL_CNT, FL_PTR
# label streams (count only): fraud as payer, fraud as payee, labelled as payee
ROLE_FRAUD_PAYER, ROLE_FRAUD_PAYEE, ROLE_LABELLED_PAYEE = 0, 1, 2
N_ROLES = 3
# AF columns
SMS_SCORE = 0
AF_COLS = 1
LIMB = 1 << 62  # sums of squares are exact integers hi * LIMB + lo, 0 <= lo < LIMB
# PI columns
P_LAST, P_RUN, P_OUT_EV, P_IN_EV = 0, 1, 2, 3
PI_COLS = 4
# arenas: OE = TS, AMT, NEXT, PAIR, MPREV[w]..., MNEXT[w]...; IE = TS, AMT, NEXT, PAIR; FE = TS, NEXT.
# PAIR is the pair's row while the event is its pair's latest, -row-1 once a newer one exists: distinct
# counts then expire without touching the pair table.
E_TS, E_AMT, E_NEXT, E_PAIR, E_M0 = 0, 1, 2, 3, 4
F_TS, F_NEXT = 0, 1
# META
CLOCK, O_FREE, O_USED, O_LIVE, I_FREE, I_USED, I_LIVE, F_FREE, F_USED, F_LIVE = range(10)
META_COLS = 10
# params (int64 vector)
PR_NW, PR_NL, PR_HORIZON, PR_HIST, PR_RECENT, PR_OFFSET, PR_NIGHT_S, PR_NIGHT_E, PR_W0 = range(9)

# account event kinds (others only advance the clock)
K_SIM_SWAP, K_DEVICE_CHANGE = 0, 1
KIND_CODES = {"sim_swap": K_SIM_SWAP, "device_change": K_DEVICE_CHANGE}
# replay event kinds (same codes as pesaguard.features.order)
EV_LABEL, EV_ACCOUNT, EV_SMS, EV_TXN = 0, 1, 2, 3


def ai_cols(nw: int, nl: int) -> int:
    return AI_W0 + nw * WB + nl * LB


def ai_default_row(nw: int, nl: int) -> np.ndarray:
    """An account row with no history: pointers -1, times NONE, counts 0."""
    row = np.zeros(ai_cols(nw, nl), np.int64)
    row[[O_HEAD, O_TAIL, I_HEAD, I_TAIL, FP_HEAD, FP_TAIL, FQ_HEAD, FQ_TAIL, FL_HEAD, FL_TAIL]] = -1
    row[[O_LAST, I_LAST, I_FIRST, LAST_ANY, SIM, DEV, SMS_TS, SMS_SCORE_TS]] = NONE
    for w in range(nw):
        b = AI_W0 + w * OB
        row[[b + 2, b + 4, b + 5]] = -1
        row[AI_W0 + nw * OB + w * IB + 2] = -1
    for ll in range(nl):
        b = AI_W0 + nw * WB + ll * LB
        row[[b + 1, b + 3, b + 5]] = -1
    return row


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
