"""Learned account embeddings: a small GRU over each payer's transactions, served in numpy.

The recurrent model reads a payer's transactions in time order, one step per transaction, and keeps a
hidden state per payer. After a transaction the state is a learned summary of the payer's behaviour
so far (this transaction included); it is exposed as ``seq_h0 .. seq_h{H-1}`` and, through a linear
head trained on fraud labels, as one score ``seq_score`` (a logit).

Streaming by construction: one update per transaction, like every other aggregator, so a replay over
a file (:func:`replay_states`) and the live path (:class:`SequenceState`) give the same numbers (tested
against each other and against PyTorch's own ``nn.GRU``). Training needs PyTorch
(:mod:`pesaguard.models.sequence_train`); serving does not: this module imports only numpy, and the
weights travel as an ``.npz`` file.

The inputs are the existing streaming features of the same transaction (amount, time of day, time
since the payer's last transaction, counterparty novelty, the payee's delayed fraud rate...), each
transformed (logs, clipping) and standardised with the training window's mean and spread. A feature
the matrix lacks is left out of the input and recorded in the weights, so one trained model scores
only matrices that carry its inputs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Each input: the feature it reads and the transform applied before standardisation. Logs tame the
# heavy tails of amounts, counts and gaps; missing values (a first transaction has no gap) become -1
# before the log so that "never" stays distinct from "just now".
_log = np.log1p


def _signed_log(v: np.ndarray) -> np.ndarray:
    return np.sign(v) * np.log1p(np.abs(v))


def _gap(v: np.ndarray) -> np.ndarray:
    return np.where(np.isnan(v), -1.0, np.log1p(np.maximum(v, 0.0) / 60.0))


def _clip5(v: np.ndarray) -> np.ndarray:
    return np.clip(v, -5.0, 5.0)


def _hour_sin(v: np.ndarray) -> np.ndarray:
    return np.sin(2 * np.pi * v / 24.0)


def _hour_cos(v: np.ndarray) -> np.ndarray:
    return np.cos(2 * np.pi * v / 24.0)


def _same(v: np.ndarray) -> np.ndarray:
    return v


INPUTS: tuple[tuple[str, str, Callable[[np.ndarray], np.ndarray]], ...] = (
    ("log_amount", "amount", _log),
    ("hour_sin", "hour_local", _hour_sin),
    ("hour_cos", "hour_local", _hour_cos),
    ("is_night", "is_night", _same),
    ("is_weekend", "is_weekend", _same),
    ("txn_type", "txn_type_code", _same),
    ("log_gap", "payer_secs_since_last", _gap),
    ("pair_is_new", "pair_is_new", _same),
    ("log_pair_prior", "pair_prior_count", _log),
    ("log_amount_ratio_30d", "amount_ratio_30d", _signed_log),
    ("amount_zscore_30d", "amount_zscore_30d", _clip5),
    ("log_payer_count_24h", "payer_count_24h", _log),
    ("log_payee_count_24h", "payee_count_24h", _log),
    ("payee_new_payer_share_24h", "payee_new_payer_share_24h", _same),
    ("payee_fraud_rate_7d", "payee_fraud_rate_7d", _same),
    ("payee_fraud_rate_30d_lag7d", "payee_fraud_rate_30d_lag7d", _same),
    ("payee_fraud_rate_7d_lag7d", "payee_fraud_rate_7d_lag7d", _same),
)


def _columns(names: list[str], inputs: list[str] | None) -> list[tuple[str, int, Callable[[np.ndarray], np.ndarray]]]:
    """(input name, matrix column, transform) of each input: the named ``inputs`` (a trained model's own
    list), or by default every input of :data:`INPUTS` whose feature the matrix carries."""
    pos = {n: i for i, n in enumerate(names)}
    chosen = [i for i in INPUTS if (inputs is None and i[1] in pos) or (inputs is not None and i[0] in inputs)]
    if inputs is not None and len(chosen) != len(inputs):
        missing = sorted(set(inputs) - {c[0] for c in chosen})
        raise ValueError(f"the sequence model reads inputs {missing} that pesaguard does not define")
    lacking = [c[1] for c in chosen if c[1] not in pos]
    if lacking:
        raise ValueError(f"the feature matrix lacks {lacking}, which the sequence model reads; "
                         "compute the feature groups the model was trained with")
    return [(name, pos[feat], fn) for name, feat, fn in chosen]


def raw_inputs(x: np.ndarray, names: list[str], inputs: list[str] | None = None) -> tuple[np.ndarray, list[str]]:
    """The GRU's inputs (before standardisation) from feature matrix ``x`` with columns ``names``
    (which inputs: :func:`_columns`)."""
    cols = _columns(names, inputs)
    out = np.column_stack([fn(x[:, i].astype(np.float64)) for _, i, fn in cols]) if cols else np.zeros((len(x), 0))
    return np.nan_to_num(out, nan=0.0, posinf=0.0, neginf=0.0), [c[0] for c in cols]


def by_payer(payers: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(inverse, order, counts)``: each row's payer code, the rows grouped by payer (time order kept
    within a payer) and each payer's row count."""
    _, inverse = np.unique(np.asarray(payers), return_inverse=True)
    return inverse, np.argsort(inverse, kind="stable"), np.bincount(inverse)


@dataclass
class SequenceWeights:
    """A trained GRU (PyTorch's gate layout: reset, update, new) with its head and input scaling."""

    inputs: list[str]
    mean: np.ndarray      # (D,)
    scale: np.ndarray     # (D,)
    w_ih: np.ndarray      # (3H, D)
    w_hh: np.ndarray      # (3H, H)
    b_ih: np.ndarray      # (3H,)
    b_hh: np.ndarray      # (3H,)
    head_w: np.ndarray    # (H,)
    head_b: float

    @property
    def hidden(self) -> int:
        return int(self.w_hh.shape[1])

    def feature_names(self) -> list[str]:
        return [f"seq_h{i}" for i in range(self.hidden)] + ["seq_score"]

    def standardise(self, raw: np.ndarray) -> np.ndarray:
        return (raw - self.mean) / self.scale

    def save(self, path: Path) -> None:
        np.savez(path, inputs=np.asarray(self.inputs), mean=self.mean, scale=self.scale, w_ih=self.w_ih,
                 w_hh=self.w_hh, b_ih=self.b_ih, b_hh=self.b_hh, head_w=self.head_w,
                 head_b=np.asarray([self.head_b]))

    @classmethod
    def load(cls, path: Path) -> SequenceWeights:
        with np.load(path, allow_pickle=False) as z:
            return cls([str(s) for s in z["inputs"]], z["mean"], z["scale"], z["w_ih"], z["w_hh"], z["b_ih"],
                       z["b_hh"], z["head_w"], float(z["head_b"][0]))


def _sigmoid(v: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-v))


def gru_step(w: SequenceWeights, x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """One GRU update for a batch: ``x`` (B, D) standardised inputs, ``h`` (B, H) states before."""
    hid = w.hidden
    gi = x @ w.w_ih.T + w.b_ih
    gh = h @ w.w_hh.T + w.b_hh
    r = _sigmoid(gi[:, :hid] + gh[:, :hid])
    z = _sigmoid(gi[:, hid:2 * hid] + gh[:, hid:2 * hid])
    n = np.tanh(gi[:, 2 * hid:] + r * gh[:, 2 * hid:])
    out: np.ndarray = (1.0 - z) * n + z * h
    return out


def replay_states(w: SequenceWeights, x: np.ndarray, names: list[str], payers: np.ndarray) -> np.ndarray:
    """Embedding features (``w.feature_names()``) for every row of a time-ordered feature matrix.

    Rows are processed in step order: all payers' first transactions as one batch, then all second
    transactions, and so on, so the loop runs as many times as the busiest payer has transactions
    rather than once per row (each payer's own order is the file's order)."""
    z = w.standardise(raw_inputs(x, names, w.inputs)[0])
    inverse, order, counts = by_payer(payers)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    step = np.empty(len(inverse), dtype=np.int64)
    step[order] = np.arange(len(inverse)) - starts
    by_step = np.argsort(step, kind="stable")
    bounds = np.searchsorted(step[by_step], np.arange(int(step.max(initial=-1)) + 2))
    h_table = np.zeros((len(counts), w.hidden))
    hidden = np.zeros((len(x), w.hidden))
    for k in range(len(bounds) - 1):
        rows = by_step[bounds[k]:bounds[k + 1]]
        who = inverse[rows]
        h_new = gru_step(w, z[rows], h_table[who])
        h_table[who] = h_new
        hidden[rows] = h_new
    return np.column_stack([hidden, hidden @ w.head_w + w.head_b])


class SequenceState:
    """The live path: one hidden state per payer, updated once per transaction."""

    def __init__(self, weights: SequenceWeights, names: list[str]) -> None:
        self.w = weights
        self.names = names
        self.states: dict[object, np.ndarray] = {}
        self._zero = np.zeros((1, weights.hidden))
        # The columns the inputs read, looked up once: the batch path's lookup and column stacking,
        # run for one row, cost more than the GRU step itself.
        cols = _columns(names, weights.inputs)
        self._cols = np.asarray([i for _, i, _ in cols], dtype=np.intp)
        self._fns = [fn for _, _, fn in cols]

    def update(self, payer: object, features: np.ndarray) -> np.ndarray:
        """Fold one transaction's feature row into its payer's state; return ``seq_h*`` and ``seq_score``."""
        v = features[self._cols].astype(np.float64)
        raw = np.fromiter((fn(a) for fn, a in zip(self._fns, v, strict=True)), dtype=np.float64, count=len(v))
        z = self.w.standardise(np.nan_to_num(raw, nan=0.0, posinf=0.0, neginf=0.0)).reshape(1, -1)
        h = gru_step(self.w, z, self.states.get(payer, self._zero))
        self.states[payer] = h
        return np.concatenate([h[0], [float(h[0] @ self.w.head_w + self.w.head_b)]])
