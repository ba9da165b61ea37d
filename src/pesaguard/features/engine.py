"""``FeatureEngine``: one feature definition for offline replay (training) and online scoring.

Contract: ``replay`` over a history returns, for each transaction, the values ``score_and_update``
would have returned had the same events arrived one by one in replay order (see
``pesaguard.features.order``). Features of a transaction use only events before it plus its own
fields; then it is added to the state.
"""

from __future__ import annotations

import math
import pickle
from typing import Any

import numpy as np
import pandas as pd

from pesaguard.features.config import FeatureConfig, feature_names
from pesaguard.features.order import (
    ACCOUNT_EVENT,
    ACCOUNT_EVENT_COLUMNS,
    LABEL,
    LABEL_COLUMNS,
    SMS,
    SMS_COLUMNS,
    event_order,
    require,
    transactions_required,
)
from pesaguard.features.reference import ReferenceEngine

SNAPSHOT_FORMAT = 1


def _none_if_nan(v: Any) -> Any:
    if v is None or (isinstance(v, float) and math.isnan(v)) or v is pd.NA or v is pd.NaT:
        return None
    return v


class FeatureEngine:
    """Streaming feature state plus the two ways to drive it (replay and one-at-a-time)."""

    def __init__(self, cfg: FeatureConfig | None = None) -> None:
        self.cfg = cfg or FeatureConfig()
        self.names = feature_names(self.cfg)
        self._impl = ReferenceEngine(self.cfg)

    # -- online ----------------------------------------------------------------------------------------
    def score_and_update(self, txn: dict[str, Any]) -> dict[str, float]:
        """Features of ``txn`` from the state before it, then ``txn`` is added to the state."""
        return self._impl.score_and_update(txn)

    def peek(self, txn: dict[str, Any]) -> dict[str, float]:
        """Features of ``txn`` without changing the state (for idempotent retries)."""
        return self._impl.peek(txn)

    def add_label(self, txn_id: str, is_fraud: bool, known_at_ms: int) -> None:
        self._impl.add_label(txn_id, bool(is_fraud), int(known_at_ms))

    def add_account_event(self, account_id: str, ts_ms: int, kind: str) -> None:
        self._impl.add_account_event(account_id, int(ts_ms), kind)

    def add_sms_event(self, account_id: str, ts_ms: int, scam_type: str | None, score: float | None) -> None:
        self._impl.add_sms_event(account_id, int(ts_ms), scam_type, score)

    # -- state -----------------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """The whole state as a pickle-able dict (for service restarts)."""
        return {"format": SNAPSHOT_FORMAT, "config": self.cfg.model_dump(), "state": pickle.dumps(self._impl)}

    @classmethod
    def restore(cls, state: dict[str, Any]) -> FeatureEngine:
        eng = cls(FeatureConfig(**state["config"]))
        eng._impl = pickle.loads(state["state"])
        return eng

    # -- offline ---------------------------------------------------------------------------------------
    def replay(
        self,
        transactions: pd.DataFrame,
        labels: pd.DataFrame | None = None,
        account_events: pd.DataFrame | None = None,
        sms_events: pd.DataFrame | None = None,
    ) -> pd.DataFrame:
        """Features for every transaction (one row each, input order, columns ``feature_names(cfg)``).

        The engine's state continues from where it was and ends holding the replayed history, so a
        service can warm up by replaying and then score live traffic.
        """
        transactions_required(transactions)
        if labels is not None:
            require(labels, LABEL_COLUMNS, "labels")
        if account_events is not None:
            require(account_events, ACCOUNT_EVENT_COLUMNS, "account events")
        if sms_events is not None:
            require(sms_events, SMS_COLUMNS, "SMS events")
        kind, row = event_order(
            transactions["ts_ms"].to_numpy(),
            None if labels is None else labels["known_at_ms"].to_numpy(),
            None if account_events is None else account_events["ts_ms"].to_numpy(),
            None if sms_events is None else sms_events["ts_ms"].to_numpy(),
        )
        txns = transactions.to_dict("records")
        lab = [] if labels is None else labels.to_dict("records")
        acc = [] if account_events is None else account_events.to_dict("records")
        sms = [] if sms_events is None else sms_events.to_dict("records")
        out = np.full((len(txns), len(self.names)), np.nan)
        impl = self._impl
        for k, r in zip(kind.tolist(), row.tolist(), strict=True):
            if k == LABEL:
                e = lab[r]
                impl.add_label(str(e["txn_id"]), bool(e["is_fraud"]), int(e["known_at_ms"]))
            elif k == ACCOUNT_EVENT:
                e = acc[r]
                impl.add_account_event(e["account_id"], int(e["ts_ms"]), e["kind"])
            elif k == SMS:
                e = sms[r]
                impl.add_sms_event(
                    e["account_id"], int(e["ts_ms"]), e.get("scam_type"), _none_if_nan(e.get("score"))
                )
            else:
                txn = {key: _none_if_nan(v) for key, v in txns[r].items()}
                f = impl.score_and_update(txn)
                out[r] = [f[n] for n in self.names]
        return pd.DataFrame(out, columns=self.names, index=transactions.index).astype(self.cfg.dtype)
