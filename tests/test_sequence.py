"""The account-sequence GRU: numpy serving equals PyTorch, replay equals the live path, training learns,
and the serving module never imports torch."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from pesaguard.models.sequence import INPUTS, SequenceState, SequenceWeights, raw_inputs, replay_states


def _need_torch() -> None:
    try:
        import torch  # noqa: F401
    except ImportError:
        from ci_support import missing

        missing("torch", "pip install -e '.[deep]' (the CPU wheel torch==2.13.0)")


NAMES = [*sorted({feat for _, feat, _ in INPUTS}), "unrelated_feature"]


def _matrix(n: int, rng: np.random.Generator) -> np.ndarray:
    x = rng.normal(size=(n, len(NAMES)))
    pos = {name: i for i, name in enumerate(NAMES)}
    x[:, pos["amount"]] = rng.lognormal(4, 1, n)
    x[:, pos["hour_local"]] = rng.integers(0, 24, n)
    gaps = rng.exponential(3600, n)
    gaps[rng.random(n) < 0.1] = np.nan  # a payer's first transaction has no gap
    x[:, pos["payer_secs_since_last"]] = gaps
    x[:, pos["pair_prior_count"]] = rng.integers(0, 20, n)
    x[:, pos["payer_count_24h"]] = rng.integers(0, 30, n)
    x[:, pos["payee_count_24h"]] = rng.integers(0, 300, n)
    return x


def _weights(hidden: int, rng: np.random.Generator) -> SequenceWeights:
    raw, inputs = raw_inputs(_matrix(500, rng), NAMES)
    d = len(inputs)
    return SequenceWeights(inputs, raw.mean(axis=0), raw.std(axis=0) + 1e-3,
                           rng.normal(scale=0.5, size=(3 * hidden, d)), rng.normal(scale=0.5, size=(3 * hidden, hidden)),
                           rng.normal(scale=0.1, size=3 * hidden), rng.normal(scale=0.1, size=3 * hidden),
                           rng.normal(size=hidden), 0.3)


def test_replay_equals_the_live_path_on_an_interleaved_stream() -> None:
    rng = np.random.default_rng(1)
    w = _weights(8, rng)
    x = _matrix(2_000, rng)
    payers = rng.choice(np.array(["a", "b", "c", "hub"]), p=[0.1, 0.2, 0.2, 0.5], size=len(x))
    replay = replay_states(w, x, NAMES, payers)
    live = SequenceState(w, NAMES)
    streamed = np.vstack([live.update(p, row) for p, row in zip(payers, x, strict=True)])
    assert replay.shape == (len(x), 9)
    np.testing.assert_allclose(replay, streamed, rtol=0, atol=1e-12)


def test_numpy_gru_equals_pytorch() -> None:
    _need_torch()
    from pesaguard.models.sequence_train import torch_states

    rng = np.random.default_rng(2)
    w = _weights(16, rng)
    x = _matrix(300, rng)
    payers = np.where(rng.random(len(x)) < 0.5, 1, 2)
    ours = replay_states(w, x, NAMES, payers)
    for p in (1, 2):
        rows = payers == p
        np.testing.assert_allclose(ours[rows], torch_states(w, x[rows], NAMES), rtol=1e-9, atol=1e-9)


def test_weights_round_trip(tmp_path) -> None:  # type: ignore[no-untyped-def]
    rng = np.random.default_rng(3)
    w = _weights(4, rng)
    w.save(tmp_path / "seq.npz")
    back = SequenceWeights.load(tmp_path / "seq.npz")
    x = _matrix(50, rng)
    payers = np.zeros(len(x), dtype=int)
    np.testing.assert_array_equal(replay_states(w, x, NAMES, payers), replay_states(back, x, NAMES, payers))
    assert back.feature_names() == ["seq_h0", "seq_h1", "seq_h2", "seq_h3", "seq_score"]


def test_a_matrix_without_the_models_inputs_is_refused() -> None:
    rng = np.random.default_rng(4)
    w = _weights(4, rng)
    x = _matrix(10, rng)
    with pytest.raises(ValueError, match="lacks"):
        replay_states(w, x[:, 1:], NAMES[1:], np.zeros(10))


def test_training_learns_a_pattern_that_needs_the_payers_history() -> None:
    """Fraud here is any transaction of a payer after its first large-amount night transaction: no single
    row shows it, the sequence does. The trained GRU must rank those rows above the rest."""
    _need_torch()
    from pesaguard.models.metrics import ranking_metrics
    from pesaguard.models.sequence_train import SequenceSettings, train_sequence_model

    rng = np.random.default_rng(5)
    n_payers, per = 300, 30
    x = _matrix(n_payers * per, rng)
    pos = {name: i for i, name in enumerate(NAMES)}
    payers = np.repeat(np.arange(n_payers), per)
    y = np.zeros(len(x))
    x[:, pos["is_night"]] = 0.0
    for p in rng.choice(n_payers, size=n_payers // 3, replace=False):
        start = p * per + int(rng.integers(5, per - 10))
        x[start, pos["is_night"]] = 1.0
        x[start, pos["amount"]] = 50_000.0
        y[start + 1:(p + 1) * per] = 1.0
    order = np.argsort(np.tile(np.arange(per), n_payers), kind="stable")  # interleave payers in time
    x, payers, y = x[order], payers[order], y[order]
    half = payers < n_payers // 2
    w = train_sequence_model(x[half], NAMES, payers[half], y[half], SequenceSettings(hidden=8, epochs=15, window=32, batch_payers=16, lr=1e-2))
    score = replay_states(w, x, NAMES, payers)[:, -1]
    held = ~half
    ap = ranking_metrics(y[held].astype(int), score[held])["average_precision"]
    assert ap > 0.9, ap


def test_the_serving_module_does_not_import_torch() -> None:
    code = "import sys, pesaguard.models.sequence; sys.exit('torch' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
