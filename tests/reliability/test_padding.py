"""Padding cannot poison a batch: whatever the steps past ``lengths`` hold (NaN, Inf,
stale data) changes no output and no gradient of any recurrent layer, and anomaly mode
does not fire on it. The padded batch must give what the same batch padded with zeros
gives, and x's gradient at padded positions is exactly 0."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

T, B, IN, H = 5, 3, 2, 4
LENGTHS = [5, 2, 3]

LAYERS = {
    "RNN": lambda d: nn.RNN(IN, H, num_layers=2, bidirectional=True, device=d, dtype="float64"),
    "RNN-relu": lambda d: nn.RNN(IN, H, nonlinearity="relu", device=d, dtype="float64"),
    "LSTM": lambda d: nn.LSTM(IN, H, num_layers=2, bidirectional=True, device=d, dtype="float64"),
    "GRU": lambda d: nn.GRU(IN, H, num_layers=2, bidirectional=True, device=d, dtype="float64"),
    "GRU-batch-first": lambda d: nn.GRU(IN, H, batch_first=True, bidirectional=True, device=d, dtype="float64"),
    "LSTM-no-bias": lambda d: nn.LSTM(IN, H, bias=False, device=d, dtype="float64"),
    "ElmanRNN": lambda d: nn.ElmanRNN(IN, H, 3, device=d, dtype="float64"),
    "GatedRNN": lambda d: nn.GatedRNN(IN, H, 3, device=d, dtype="float64"),
}


def padded_input(fill: float, batch_first: bool = False) -> np.ndarray:
    """x (T, B, I) whose steps past LENGTHS hold ``fill``; (B, T, I) with ``batch_first``."""
    x = np.random.default_rng(0).standard_normal((T, B, IN))
    for b, n in enumerate(LENGTHS):
        x[n:, b] = fill
    return x.transpose(1, 0, 2) if batch_first else x


def loss_and_grads(name: str, fill: float, device: str) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """(outputs, dx, {parameter: gradient}) of a fixed weighted sum of every output."""
    tr.manual_seed(3)
    layer = LAYERS[name](device)
    batch_first = getattr(layer, "batch_first", False)
    x = Tensor(padded_input(fill, batch_first), requires_grad=True, device=device)
    out, final = layer(x, lengths=LENGTHS)
    finals = list(final) if isinstance(final, tuple) else [final]
    weights = np.random.default_rng(1).standard_normal(out.shape)
    loss = (out * Tensor(weights, device=device)).sum() + sum(f.sum() for f in finals)
    loss.backward()
    grads = {k: p.grad.numpy() for k, p in layer.named_parameters()}
    return out.numpy(), x.grad.numpy(), grads


@pytest.mark.parametrize("fill", [np.nan, np.inf, -np.inf, 1e300])
@pytest.mark.parametrize("name", list(LAYERS))
def test_padding_changes_no_output_and_no_gradient(name: str, fill: float, device: str) -> None:
    out0, dx0, grads0 = loss_and_grads(name, 0.0, device)
    out, dx, grads = loss_and_grads(name, fill, device)
    assert np.isfinite(out).all() and np.isfinite(dx).all()
    np.testing.assert_array_equal(out, out0)
    np.testing.assert_array_equal(dx, dx0)
    for key, grad in grads.items():
        assert np.isfinite(grad).all(), key
        np.testing.assert_allclose(grad, grads0[key], rtol=0, atol=1e-12, err_msg=key)
    time_major_dx = dx.transpose(1, 0, 2) if "batch-first" in name else dx
    for b, n in enumerate(LENGTHS):
        assert (time_major_dx[n:, b] == 0).all()  # exactly 0, not merely small


@pytest.mark.parametrize("name", list(LAYERS))
def test_anomaly_mode_does_not_fire_on_padding(name: str, device: str) -> None:
    with tr.detect_anomaly():
        out, dx, grads = loss_and_grads(name, np.nan, device)
    assert np.isfinite(dx).all() and all(np.isfinite(g).all() for g in grads.values())


def test_unbatched_input_with_a_length_ignores_its_padding(device: str) -> None:
    tr.manual_seed(0)
    lstm = nn.LSTM(IN, H, device=device, dtype="float64")
    x_np = padded_input(np.nan)[:, 1]  # (T, I): sequence 1 of length 2, NaN after
    x = Tensor(x_np, requires_grad=True, device=device)
    with tr.detect_anomaly():
        out, (h_n, _) = lstm(x, lengths=2)
        (out.sum() + h_n.sum()).backward()
    assert np.isfinite(out.numpy()).all() and (out.numpy()[2:] == 0).all()
    assert (x.grad.numpy()[2:] == 0).all() and np.isfinite(x.grad.numpy()).all()
    alone, (h_alone, _) = lstm(Tensor(x_np[:2], device=device))
    np.testing.assert_allclose(out.numpy()[:2], alone.numpy(), rtol=0, atol=1e-12)
    np.testing.assert_allclose(h_n.numpy(), h_alone.numpy(), rtol=0, atol=1e-12)


def test_nan_inside_a_sequence_still_poisons_it(device: str) -> None:
    """Only padding is masked: a NaN within a sequence's length is real data and shows."""
    tr.manual_seed(0)
    rnn = nn.RNN(IN, H, device=device, dtype="float64")
    x = padded_input(0.0)
    x[1, 0, 0] = np.nan  # step 2 of sequence 0 (length 5)
    out, _ = rnn(Tensor(x, device=device), lengths=LENGTHS)
    assert np.isnan(out.numpy()[1:, 0]).all() and np.isfinite(out.numpy()[:, 1:]).all()


@pytest.mark.parametrize("model", ["elman", "gated", "gru", "lstm"])
def test_char_model_state_of_a_ragged_batch_is_each_sequences_own(model: str) -> None:
    """examples/char_model.py: the state it returns for a padded batch is, for every
    sentence, the state after its own last character (what running it alone returns)."""
    import importlib
    import sys
    from pathlib import Path

    examples = str(Path(__file__).resolve().parents[2] / "examples")
    if examples not in sys.path:
        sys.path.insert(0, examples)
    char_model = importlib.import_module("char_model")
    tr.manual_seed(2)
    net = char_model.CharLM(vocab_size=9, model=model, hidden=5, layers=2, embed=3, device="cpu").to(dtype="float64")
    sentences, lengths = [[2, 3, 4, 5], [6, 7], [8, 2, 3]], [4, 2, 3]
    tokens = Tensor([[s[t] if t < len(s) else 0 for s in sentences] for t in range(4)])
    _, state = net(tokens, lengths=lengths)
    for b, sentence in enumerate(sentences):
        _, alone = net(Tensor([[c] for c in sentence]))
        ours = state if model in ("elman", "gated") else state if isinstance(state, tuple) else [state]
        theirs = alone if model in ("elman", "gated") else alone if isinstance(alone, tuple) else [alone]
        for a, s in zip(ours, theirs, strict=True):
            picked = a.numpy()[b] if model in ("elman", "gated") else a.numpy()[:, b]
            expected = s.numpy()[0] if model in ("elman", "gated") else s.numpy()[:, 0]
            np.testing.assert_allclose(picked, expected, rtol=0, atol=1e-12)
