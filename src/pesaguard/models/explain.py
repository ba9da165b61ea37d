"""Reason codes: the features that pushed a score up, in words a person understands.

Contract: contributions are per-feature additive terms of the model's margin (LightGBM TreeSHAP
via ``pred_contrib``, or path attribution for a scorer built with ``attribution="path"`` as the
decision service does; for the logistic baseline, coefficient times standardised value), with the
bias last. Only features that raised the risk are reasons, largest first.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

# sentence() caches each name's template: describe() tries each pattern with re.fullmatch, measured
# ~10% of the decision service's CPU when most decisions carry reasons
from pesaguard.features.describe import sentence


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
    """The feature and its value as a sentence a person would write (``features.describe.sentence``:
    durations in hours, shares in percent, and what a missing value means, e.g. "first payment from
    this payer to this payee"); a plain fallback if there is none."""
    try:
        return sentence(name, value)
    except (KeyError, ValueError, IndexError):
        return f"{name.replace('_', ' ')} is {value:.4g}" if value is not None else name.replace("_", " ")


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
