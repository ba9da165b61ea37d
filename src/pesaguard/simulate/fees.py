"""Tiered customer fees, modelled on the shape of M-PESA's public tariff (not a copy of it).

Amounts and fees are integer minor units (cents). A tier applies to amounts ``>= lower`` bound; the fee
is charged to the payer on top of the amount and leaves the system (it goes to the operator).

>>> import numpy as np
>>> fee_minor(np.array([P2P, CASH_OUT, MERCHANT]), np.array([50_000, 50_000, 50_000]), np.array([True, True, True]))
array([ 700, 2900,    0])
"""

from __future__ import annotations

import numpy as np

from pesaguard.simulate.codes import AIRTIME, BANK_TRANSFER, BILL, CASH_IN, CASH_OUT, MERCHANT, P2P

__all__ = ["AIRTIME", "BANK_TRANSFER", "BILL", "CASH_IN", "CASH_OUT", "MERCHANT", "P2P", "fee_minor"]

_KES = 100  # minor units per shilling

# (lower bound of the tier in KES, fee in KES). Below the first bound the fee is zero.
P2P_TIERS: tuple[tuple[int, int], ...] = (
    (101, 7), (501, 13), (1_001, 23), (1_501, 33), (2_501, 53), (3_501, 57), (5_001, 78),
    (7_501, 90), (10_001, 100), (15_001, 105), (20_001, 108),
)
CASH_OUT_TIERS: tuple[tuple[int, int], ...] = (
    (50, 11), (101, 29), (2_501, 52), (3_501, 69), (5_001, 87), (7_501, 115), (10_001, 167),
    (15_001, 185), (20_001, 197), (35_001, 278), (50_001, 309),
)
BILL_TIERS: tuple[tuple[int, int], ...] = ((1_001, 5), (5_001, 15), (20_001, 30))


def _table(tiers: tuple[tuple[int, int], ...]) -> tuple[np.ndarray, np.ndarray]:
    bounds = np.array([lo * _KES for lo, _ in tiers], dtype=np.int64)
    fees = np.array([0] + [f * _KES for _, f in tiers], dtype=np.int64)
    return bounds, fees


_TABLES = {P2P: _table(P2P_TIERS), CASH_OUT: _table(CASH_OUT_TIERS), BILL: _table(BILL_TIERS)}


def fee_minor(types: np.ndarray, amounts: np.ndarray, customer_payer: np.ndarray) -> np.ndarray:
    """Fee in minor units for each transaction; only customers pay fees.

    p2p and customer-to-bank transfers use the p2p tiers, cash-out the withdrawal tiers, bills a small
    paybill tier; cash-in, merchant (Buy Goods) and airtime are free to the customer.
    """
    out = np.zeros(len(amounts), dtype=np.int64)
    for code, (bounds, fees) in _TABLES.items():
        sel = types == code
        if code == P2P:
            sel |= types == BANK_TRANSFER
        sel &= customer_payer
        if sel.any():
            out[sel] = fees[np.searchsorted(bounds, amounts[sel], side="right")]
    return out
