"""Per-feature contributions of one row by path attribution (Saabas), for online reason codes.

Each tree's output is split along the row's decision path: every split the row passes adds
``value(child) - value(node)`` to its feature, where a node's value is LightGBM's ``internal_value``
(the mean output of the training rows reaching it). The terms plus the bias (the sum of the roots'
values) add up exactly to the raw margin, like TreeSHAP's, and it is the method XGBoost offers as
``pred_contribs(approx_contribs=True)`` and ``treeinterpreter`` implements for scikit-learn forests.
It is not TreeSHAP: a feature's credit depends on where on the path it is split, so the top
reasons can differ from TreeSHAP's ranking on some rows (``docs/architecture.md`` gives the
measured agreement). Batch explanations (:meth:`Scorer.explain_frame`, ``pesaguard score``) use
the scorer's attribution too, so a transaction gets the same reasons online and in batch.

Why hand-written: LightGBM offers only TreeSHAP (``pred_contrib``), which measured 286 µs per row on
the 200-tree champion through the prepared single-row C API, about a quarter of the decision
service's CPU per decision when most decisions need reasons; this walk takes a few microseconds.
The split rule is LightGBM's ``NumericalDecision`` (tree.h); models with categorical splits are
not supported here (:func:`compile_paths` returns None and the caller keeps TreeSHAP).
"""

from __future__ import annotations

from typing import Any

import numba
import numpy as np

_MISSING_NONE, _MISSING_ZERO, _MISSING_NAN = 0, 1, 2
_ZERO = 1e-35  # LightGBM's kZeroThreshold
_MISSING = {"None": _MISSING_NONE, "Zero": _MISSING_ZERO, "NaN": _MISSING_NAN}


class PathTrees:
    """A booster's trees as flat node arrays (leaves have feature -1)."""

    def __init__(self, roots: np.ndarray, feature: np.ndarray, threshold: np.ndarray, default_left: np.ndarray,
                 missing: np.ndarray, left: np.ndarray, right: np.ndarray, value: np.ndarray, ncol: int) -> None:
        self.roots, self.feature, self.threshold = roots, feature, threshold
        self.default_left, self.missing, self.left, self.right, self.value = default_left, missing, left, right, value
        self.ncol = ncol
        self.out = np.zeros(ncol + 1, dtype=np.float64)

    def contributions(self, row: np.ndarray) -> np.ndarray:
        """Per-feature contributions plus the bias (last), summing to the raw margin (a new array)."""
        out = np.zeros(self.ncol + 1, dtype=np.float64)
        _walk(row, self.roots, self.feature, self.threshold, self.default_left, self.missing, self.left,
              self.right, self.value, out)
        return out


def compile_paths(booster: Any) -> PathTrees | None:
    """Flatten ``booster`` (a ``lightgbm.Booster``); None if it has categorical splits."""
    dump = booster.dump_model()
    feature: list[int] = []
    threshold: list[float] = []
    default_left: list[bool] = []
    missing: list[int] = []
    left: list[int] = []
    right: list[int] = []
    value: list[float] = []
    roots: list[int] = []

    def add(node: dict[str, Any]) -> int | None:
        i = len(feature)
        feature.append(-1)
        threshold.append(0.0)
        default_left.append(False)
        missing.append(0)
        left.append(-1)
        right.append(-1)
        if "split_index" not in node:
            value.append(float(node["leaf_value"]))
            return i
        if node["decision_type"] != "<=":
            return None
        value.append(float(node["internal_value"]))
        feature[i] = int(node["split_feature"])
        threshold[i] = float(node["threshold"])
        default_left[i] = bool(node["default_left"])
        missing[i] = _MISSING[node["missing_type"]]
        lc = add(node["left_child"])
        rc = add(node["right_child"])
        if lc is None or rc is None:
            return None
        left[i], right[i] = lc, rc
        return i

    for tree in dump["tree_info"]:
        root = add(tree["tree_structure"])
        if root is None:
            return None
        roots.append(root)
    return PathTrees(np.asarray(roots, np.int64), np.asarray(feature, np.int64), np.asarray(threshold, np.float64),
                     np.asarray(default_left, np.bool_), np.asarray(missing, np.int64), np.asarray(left, np.int64),
                     np.asarray(right, np.int64), np.asarray(value, np.float64), int(booster.num_feature()))


@numba.njit(cache=True, nogil=True)
def _walk(row: np.ndarray, roots: np.ndarray, feature: np.ndarray, threshold: np.ndarray,  # pragma: no cover
          default_left: np.ndarray, missing: np.ndarray, left: np.ndarray, right: np.ndarray,
          value: np.ndarray, out: np.ndarray) -> None:
    bias = 0.0
    for t in range(roots.shape[0]):
        node = roots[t]
        bias += value[node]
        while feature[node] >= 0:
            f = feature[node]
            x = row[f]
            m = missing[node]
            if np.isnan(x) and m != _MISSING_NAN:
                x = 0.0
            if (m == _MISSING_ZERO and -_ZERO <= x <= _ZERO) or (m == _MISSING_NAN and np.isnan(x)):
                child = left[node] if default_left[node] else right[node]
            elif x <= threshold[node]:
                child = left[node]
            else:
                child = right[node]
            out[f] += value[child] - value[node]
            node = child
    out[out.shape[0] - 1] = bias
