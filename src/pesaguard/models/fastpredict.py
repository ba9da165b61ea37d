"""Single-row LightGBM prediction through the C API's "fast" path.

Why hand-written: ``Booster.predict`` on one row spends most of its ~50 µs validating and
converting the input; ``LGBM_BoosterPredictForMatSingleRowFast`` reuses a prepared predictor and
takes ~10-20 µs for a few hundred trees (``benchmarks/bench_models.py`` measures both). It is the
documented C API that ``lightgbm`` itself binds, reached through its loaded library.

Per-feature contributions (TreeSHAP, ``pred_contrib``) cost far more (0.3-2 ms per row depending on
the number of trees and leaves), so they are a separate call made only when a reason is needed.
"""

from __future__ import annotations

import ctypes
import threading

import lightgbm as lgb
import numpy as np
from lightgbm.basic import _LIB, _c_str, _safe_call

_PREDICT_RAW = 1
_PREDICT_CONTRIB = 3
_DTYPE_FLOAT64 = 1


class _FastConfig:
    def __init__(self, booster: lgb.Booster, predict_type: int, ncol: int) -> None:
        self.handle = ctypes.c_void_p()
        self.out = np.zeros(ncol + 1 if predict_type == _PREDICT_CONTRIB else 1, dtype=np.float64)
        self.out_len = ctypes.c_int64()
        self._out_ptr = self.out.ctypes.data_as(ctypes.POINTER(ctypes.c_double))
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFastInit(
            booster._handle, ctypes.c_int(predict_type), ctypes.c_int(0), ctypes.c_int(-1),
            ctypes.c_int(_DTYPE_FLOAT64), ctypes.c_int32(ncol), _c_str("num_threads=1"),
            ctypes.byref(self.handle)))

    def run(self, row: np.ndarray) -> np.ndarray:
        _safe_call(_LIB.LGBM_BoosterPredictForMatSingleRowFast(
            self.handle, row.ctypes.data_as(ctypes.c_void_p), ctypes.byref(self.out_len), self._out_ptr))
        return self.out

    def __del__(self) -> None:
        if getattr(self, "handle", None) is not None and self.handle.value:
            _LIB.LGBM_FastConfigFree(self.handle)


class FastBooster:
    """Raw margin and contributions for one float64 row; thread-safe (one lock per booster).

    The booster must outlive this object (it is kept as an attribute for that reason).
    """

    def __init__(self, booster: lgb.Booster) -> None:
        self.booster = booster
        self.ncol = booster.num_feature()
        self._raw = _FastConfig(booster, _PREDICT_RAW, self.ncol)
        self._contrib: _FastConfig | None = None  # prepared on first use
        self._lock = threading.Lock()

    def margin(self, row: np.ndarray) -> float:
        row = np.ascontiguousarray(row, dtype=np.float64)
        with self._lock:
            return float(self._raw.run(row)[0])

    def contributions(self, row: np.ndarray) -> np.ndarray:
        """Per-feature contributions plus the bias (last), summing to the margin."""
        row = np.ascontiguousarray(row, dtype=np.float64)
        with self._lock:
            if self._contrib is None:
                self._contrib = _FastConfig(self.booster, _PREDICT_CONTRIB, self.ncol)
            return self._contrib.run(row).copy()
