"""Compile the feature kernel into numba's on-disk cache while the image is built, so no container
pays the first-use compilation (replay, then the online path: a score, a label, an account event,
an SMS event). Run by the Dockerfile; writes only under NUMBA_CACHE_DIR."""

import pandas as pd

from pesaguard.features import FeatureEngine

engine = FeatureEngine()
engine.replay(pd.DataFrame({"txn_id": ["a", "b"], "ts_ms": [1_000, 2_000], "payer": ["p", "q"],
                            "payee": ["q", "p"], "amount_minor": [100, 200]}))
engine.score_and_update({"txn_id": "c", "ts_ms": 3_000, "payer": "p", "payee": "r", "amount_minor": 300})
engine.add_label("a", True, 4_000)
engine.add_account_event("p", 5_000, "sim_swap")
engine.add_sms_event("p", 6_000, "reversal", 0.9)
print("numba cache warmed")
