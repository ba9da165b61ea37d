"""Reason codes: the features that pushed a score up, in words a person understands.

Contract: contributions are per-feature additive terms of the model's margin (LightGBM TreeSHAP
via ``pred_contrib``, or path attribution for a scorer built with ``attribution="path"`` as the
decision service does; for the logistic baseline, coefficient times standardised value), with the
bias last. Only features that raised the risk are reasons, largest first.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from pesaguard.features import describe

# describe() tries each pattern with re.fullmatch: measured ~10% of the decision service's CPU when
# most decisions carry reasons; the template for a name never changes, so it is computed once.
_template = functools.lru_cache(maxsize=4096)(describe)


@dataclass(frozen=True)
class Reason:
    """One reason: the feature, its value, how much it raised the margin, and a sentence."""

    feature: str
    value: float | None
    contribution: float
    text: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def phrase(name: str, value: float | None) -> str:
    """The feature's description filled with its value (a plain fallback if there is none)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return f"no history yet for {name.replace('_', ' ')}"
    try:
        return _template(name).format(value=value)
    except (KeyError, ValueError, IndexError):
        return f"{name.replace('_', ' ')} is {value:.4g}"


def top_reasons(names: Sequence[str], values: np.ndarray, contributions: np.ndarray, k: int = 3) -> list[Reason]:
    """The ``k`` features with the largest positive contributions (bias column ignored)."""
    contrib = np.asarray(contributions, dtype=float)[: len(names)]
    order = np.argsort(-contrib, kind="stable")[:k]
    out = []
    for i in order:
        c = float(contrib[i])
        if c <= 0:
            break
        v = float(values[i])
        val = None if math.isnan(v) else v
        out.append(Reason(names[i], val, c, phrase(names[i], val)))
    return out
