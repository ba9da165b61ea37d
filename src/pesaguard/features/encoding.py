"""How raw event fields become kernel inputs: shared by the engine, replay, Spark and the oracle.

Amounts and other numbers are floats (NaN when absent or not a number), a transaction type is its
index in ``TRANSACTION_TYPES``, and payee ids get a prefix when they are a namespace of their own.
"""

from __future__ import annotations

import math
from typing import Any

from pesaguard.schema import TRANSACTION_TYPES

NAN = float("nan")
#: Internal prefix of payee ids when ``payee_id_space="separate"``.
PAYEE_PREFIX = "\x1f"
_TYPE_CODE = {t: float(i) for i, t in enumerate(TRANSACTION_TYPES)}


def num(v: Any) -> float:
    """A field as float; NaN when absent, null or not a number.

    >>> num("12.5"), num(None) != num(None)
    (12.5, True)
    """
    if v is None:
        return NAN
    try:
        return float(v)
    except (TypeError, ValueError):
        return NAN


def type_code(v: Any) -> float:
    """Index of a canonical type; ``len(TRANSACTION_TYPES)`` for any other; NaN when absent."""
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return NAN
    return _TYPE_CODE.get(str(v).lower(), float(len(TRANSACTION_TYPES)))
