"""Where training and evaluation data come from, and the feature matrix built from it.

Contract: a :class:`Dataset` holds transactions in canonical columns (time-ordered), label events
(``txn_id, is_fraud, known_at_ms``, optional ``source, typology``) and, when available, account
events and scam-SMS events. Only id, time, payer, payee, amount and labels are required: every
optional column may be absent, and the pipeline then simply has less to learn from.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pesaguard.errors import InputError, NotFoundError
from pesaguard.features import FeatureConfig, FeatureEngine
from pesaguard.models.protocol import targets
from pesaguard.models.train import Matrix
from pesaguard.schema import REQUIRED_TRANSACTION_COLUMNS
from pesaguard.store.base import Store


@dataclass
class Dataset:
    """Transactions, label events and optional side events for one evaluation or training run."""

    transactions: pd.DataFrame
    labels: pd.DataFrame
    account_events: pd.DataFrame | None = None
    sms_events: pd.DataFrame | None = None

    def __post_init__(self) -> None:
        missing = [c for c in REQUIRED_TRANSACTION_COLUMNS if c not in self.transactions.columns]
        if missing:
            raise InputError(f"transactions lack required columns {missing}", field=missing[0],
                             hint="ingest the file with a column map that names them")
        self.transactions = self.transactions.sort_values(["ts_ms", "txn_id"], kind="stable").reset_index(drop=True)
        if self.labels.empty and "is_fraud" in self.transactions.columns:
            raise InputError("transactions carry is_fraud but there are no label events with known_at_ms",
                             field="known_at_ms",
                             hint="ingest labels (or a label column) so pesaguard knows when each became known")

    def truth(self) -> np.ndarray:
        """Final 0/1 truth per transaction (every label, whenever known; ``is_fraud`` if given)."""
        if "is_fraud" in self.transactions.columns:
            return self.transactions["is_fraud"].fillna(0).to_numpy(dtype=int)
        return targets(self.transactions["txn_id"], self.labels, None)

    def typology(self) -> pd.Series | None:
        """Fraud typology per transaction when the data has one, else ``None``."""
        if "typology" in self.transactions.columns:
            return self.transactions["typology"]
        if "typology" in self.labels.columns and self.labels["typology"].notna().any():
            lab = self.labels.dropna(subset=["typology"]).drop_duplicates("txn_id", keep="last")
            return self.transactions["txn_id"].map(pd.Series(lab["typology"].to_numpy(), index=lab["txn_id"]))
        return None

    def until(self, end_ms: int) -> Dataset:
        """Only transactions before ``end_ms`` (label and side events are filtered by replay time)."""
        keep = self.transactions["ts_ms"].to_numpy() < end_ms
        return Dataset(self.transactions[keep], self.labels, self.account_events, self.sms_events)


def from_store(store: Store) -> Dataset:
    """Everything the store holds, with the SMS shield's scam verdicts (``pesaguard sms scan``) as events."""
    from pesaguard.store.core import load_account_events, load_labels, load_transactions
    from pesaguard.store.sms import scam_sms_events

    txns = load_transactions(store)
    if txns.empty:
        raise NotFoundError("the store holds no transactions",
                            hint="run `pesaguard simulate --ingest` or `pesaguard ingest FILE` first")
    events = load_account_events(store)
    sms = scam_sms_events(store)
    return Dataset(txns, load_labels(store), events if len(events) else None, sms if len(sms) else None)


def _read(path: Path) -> pd.DataFrame:
    if path.suffix == ".parquet":
        return pd.read_parquet(path)
    if path.suffix in (".csv", ".gz"):
        return pd.read_csv(path)
    raise InputError(f"unsupported file type {path.suffix!r}", file=path, hint="use .parquet or .csv")


def from_dir(directory: Path) -> Dataset:
    """A directory written by ``pesaguard simulate`` (transactions, labels and side-event files)."""
    tx = directory / "transactions.parquet"
    if not tx.exists():
        raise NotFoundError(f"no transactions.parquet in {directory}", file=directory,
                            hint="point at the output directory of `pesaguard simulate`")
    txns = _read(tx)
    labels = _read(directory / "labels.parquet") if (directory / "labels.parquet").exists() else pd.DataFrame(
        columns=["txn_id", "is_fraud", "known_at_ms"])
    ev_path = directory / "account_events.parquet"
    events = _read(ev_path) if ev_path.exists() else None
    return Dataset(txns, labels, events, sms_events(directory / "sms.parquet"))


def sms_events(path: Path) -> pd.DataFrame | None:
    """Scam-SMS events (``account_id, ts_ms, scam_type, score``) as the SMS shield scored them.

    Only a file carrying the shield's ``score`` is used. The simulator's ground-truth ``scam_type``
    alone would stand in for a perfect classifier and flatter the evaluation, so it is ignored.
    """
    if not path.exists():
        return None
    sms = pd.read_parquet(path)
    if not {"recipient", "ts_ms", "score"} <= set(sms.columns):
        return None
    return pd.DataFrame({"account_id": sms["recipient"].to_numpy(), "ts_ms": sms["ts_ms"].to_numpy(),
                         "scam_type": sms["scam_type"].to_numpy() if "scam_type" in sms.columns else None,
                         "score": sms["score"].to_numpy(dtype=float)})


def build_matrix(ds: Dataset, cfg: FeatureConfig | None = None) -> Matrix:
    """Replay every transaction through the feature engine (labels honour ``known_at_ms``)."""
    cfg = cfg or FeatureConfig()
    engine = FeatureEngine(cfg)
    labels = ds.labels[["txn_id", "is_fraud", "known_at_ms"]] if len(ds.labels) else None
    x = engine.replay(ds.transactions, labels=labels, account_events=ds.account_events,
                      sms_events=ds.sms_events)
    return Matrix(ds.transactions, x.to_numpy(dtype=np.float64), list(x.columns), ds.labels)
