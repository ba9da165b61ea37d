"""Streaming features for fraud scoring: one definition for training (replay) and live scoring.

>>> import pandas as pd
>>> from pesaguard.features import FeatureEngine, FeatureConfig, feature_names
>>> txns = pd.DataFrame({"txn_id": ["t1", "t2"], "ts_ms": [0, 60_000], "payer": ["C1", "C1"],
...                      "payee": ["M1", "M2"], "amount_minor": [1_000, 5_000]})
>>> X = FeatureEngine(FeatureConfig()).replay(txns)
>>> list(X.columns) == feature_names(FeatureConfig())
True
>>> X["payer_count_24h"].tolist(), X["amount_ratio_30d"].tolist()
([0.0, 1.0], [nan, 5.0])
>>> eng = FeatureEngine()
>>> eng.score_and_update({"txn_id": "t1", "ts_ms": 0, "payer": "C1", "payee": "M1", "amount_minor": 1_000})["pair_is_new"]
1.0
"""

from pesaguard.features.config import GROUPS, FeatureConfig, feature_names, parse_duration
from pesaguard.features.describe import describe
from pesaguard.features.engine import FeatureEngine

__all__ = ["GROUPS", "FeatureConfig", "FeatureEngine", "describe", "feature_names", "parse_duration"]
