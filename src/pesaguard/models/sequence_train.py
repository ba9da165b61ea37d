"""Training of the account-sequence GRU (:mod:`pesaguard.models.sequence`) with PyTorch, on the CPU.

Needs the optional dependency ``torch`` (``pip install 'pesaguard[deep]'``); nothing on the scoring path
imports this module. The trained weights are exported to numpy (:class:`SequenceWeights`).

Delay-aware like every other fit: the caller passes the rows the GRU may learn from (transactions
before its cut-off) and their targets as known at that cut-off; transactions after it never reach
training. Each payer's rows form one sequence; long sequences are cut to their last ``max_len``
transactions and trained with truncated back-propagation through time over ``window`` steps, the
state carried (detached) from one window to the next, so the GRU learns from the same carried
state it keeps when serving.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from pesaguard.models.sequence import SequenceWeights, by_payer, raw_inputs


@dataclass
class SequenceSettings:
    hidden: int = 16
    epochs: int = 8
    batch_payers: int = 256
    window: int = 64
    max_len: int = 512
    lr: float = 5e-3
    max_pos_weight: float = 20.0
    seed: int = 0
    threads: int = 1  # a GRU this small gains nothing from a second thread, and OpenMP spins when cores are busy
    max_seconds: float = 300.0


def _sequences(z: np.ndarray, y: np.ndarray, payers: np.ndarray, max_len: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Padded (P, L, D) inputs, (P, L) targets and (P, L) mask, one row per payer, time order kept."""
    _, order, counts = by_payer(payers)
    length = int(min(counts.max(initial=1), max_len))
    xs = np.zeros((len(counts), length, z.shape[1]), dtype=np.float32)
    ys = np.zeros((len(counts), length), dtype=np.float32)
    mask = np.zeros((len(counts), length), dtype=np.float32)
    ends = np.cumsum(counts)
    for p in range(len(counts)):
        rows = order[max(ends[p] - max_len, ends[p] - counts[p]):ends[p]]
        xs[p, :len(rows)] = z[rows]
        ys[p, :len(rows)] = y[rows]
        mask[p, :len(rows)] = 1.0
    return xs, ys, mask


def train_sequence_model(x: np.ndarray, names: list[str], payers: np.ndarray, y: np.ndarray,
                         settings: SequenceSettings | None = None,
                         say: Callable[[str], None] | None = None) -> SequenceWeights:
    """Fit the GRU and its fraud head on time-ordered rows ``x`` (feature matrix, columns ``names``) of
    ``payers`` with 0/1 targets ``y`` as known at the training cut-off; return numpy weights."""
    import torch

    s = settings or SequenceSettings()
    torch.manual_seed(s.seed)
    torch.set_num_threads(s.threads)
    raw, inputs = raw_inputs(x, names)
    mean = raw.mean(axis=0)
    scale = raw.std(axis=0)
    scale[scale < 1e-6] = 1.0
    z = (raw - mean) / scale
    xs, ys, mask = _sequences(z, y.astype(np.float32), payers, s.max_len)
    pos = float((ys * mask).sum())
    neg = float(mask.sum()) - pos
    pos_weight = torch.tensor(min(s.max_pos_weight, neg / max(pos, 1.0)))

    gru = torch.nn.GRU(xs.shape[2], s.hidden, batch_first=True)
    head = torch.nn.Linear(s.hidden, 1)
    opt = torch.optim.Adam([*gru.parameters(), *head.parameters()], lr=s.lr)
    loss_fn = torch.nn.BCEWithLogitsLoss(pos_weight=pos_weight, reduction="none")
    tx, ty, tm = torch.from_numpy(xs), torch.from_numpy(ys), torch.from_numpy(mask)
    rng = np.random.default_rng(s.seed)
    t0 = time.perf_counter()
    for epoch in range(s.epochs):
        total, n = 0.0, 0.0
        for batch in np.array_split(rng.permutation(len(xs)), max(1, len(xs) // s.batch_payers)):
            b = torch.from_numpy(batch)
            h = torch.zeros(1, len(batch), s.hidden)
            for start in range(0, xs.shape[1], s.window):
                m = tm[b, start:start + s.window]
                if float(m.sum()) == 0.0:
                    break
                out, h = gru(tx[b, start:start + s.window], h)
                logit = head(out).squeeze(-1)
                loss = (loss_fn(logit, ty[b, start:start + s.window]) * m).sum() / m.sum()
                opt.zero_grad()
                loss.backward()
                opt.step()
                h = h.detach()
                total += float(loss.detach()) * float(m.sum())
                n += float(m.sum())
        if say:
            say(f"sequence model epoch {epoch + 1}/{s.epochs}: loss {total / max(n, 1.0):.4f}")
        if time.perf_counter() - t0 > s.max_seconds:
            if say:
                say(f"sequence model: time budget of {s.max_seconds:.0f} s reached after {epoch + 1} epochs")
            break

    sd = {k: v.detach().numpy().astype(np.float64) for k, v in gru.state_dict().items()}
    return SequenceWeights(inputs, mean, scale, sd["weight_ih_l0"], sd["weight_hh_l0"], sd["bias_ih_l0"],
                           sd["bias_hh_l0"], head.weight.detach().numpy()[0].astype(np.float64),
                           float(head.bias.detach().numpy()[0]))


def torch_states(w: SequenceWeights, x: np.ndarray, names: list[str]) -> np.ndarray:
    """The same model run by PyTorch over one payer's rows ``x`` (time order): ``seq_h*`` and
    ``seq_score`` after each row. The reference the numpy path is tested against."""
    import torch

    gru = torch.nn.GRU(len(w.inputs), w.hidden, batch_first=True).double()
    gru.load_state_dict({"weight_ih_l0": torch.from_numpy(w.w_ih), "weight_hh_l0": torch.from_numpy(w.w_hh),
                         "bias_ih_l0": torch.from_numpy(w.b_ih), "bias_hh_l0": torch.from_numpy(w.b_hh)})
    z = w.standardise(raw_inputs(x, names, w.inputs)[0])
    with torch.no_grad():
        out, _ = gru(torch.from_numpy(z)[None])
    hidden = out[0].numpy()
    return np.column_stack([hidden, hidden @ w.head_w + w.head_b])
