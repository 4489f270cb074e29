"""The helpers that unroll the sequence layers: splitting along time, lengths, masks."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.backend import numpy_backend
from tinygrad_rnn.nn import functional as F
from tinygrad_rnn.nn.checks import check_lengths
from tinygrad_rnn.nn.unroll import Ragged, unbind_time


@pytest.mark.parametrize("T", [1, 2, 7, 16])
def test_unbind_time_gives_every_step_and_its_gradient(T: int, device: str) -> None:
    xs_np = np.random.default_rng(T).standard_normal((T, 2, 3))
    xs = Tensor(xs_np, device=device, requires_grad=True)
    steps = unbind_time(xs)
    assert len(steps) == T and all(s.shape == (2, 3) for s in steps)
    weights = np.random.default_rng(0).standard_normal((T, 2, 3))
    total = None
    for t, s in enumerate(steps):
        np.testing.assert_array_equal(s.numpy(), xs_np[t])
        term = (s * Tensor(weights[t], device=device)).sum()
        total = term if total is None else total + term
    total.backward()
    np.testing.assert_allclose(xs.grad.numpy(), weights, rtol=1e-12)
    assert [s.numpy().tolist() for s in unbind_time(Tensor(xs_np))] == xs_np.tolist()  # no tape: plain slices


def test_unbind_time_backward_is_linear_in_T(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reading every step of (T, 1) allocates one (T, 1) gradient buffer, not T of them."""
    allocated = []
    original = numpy_backend.NumpyBackend.zeros

    def counting(self, shape, dtype):
        allocated.append(int(np.prod(shape)))
        return original(self, shape, dtype)

    T = 256
    xs = Tensor(np.zeros((T, 1)), requires_grad=True)
    total = None
    for s in unbind_time(xs):
        total = s.sum() if total is None else total + s.sum()
    monkeypatch.setattr(numpy_backend.NumpyBackend, "zeros", counting)
    total.backward()
    np.testing.assert_array_equal(xs.grad.numpy(), np.ones((T, 1)))
    assert sum(allocated) <= 2 * T  # slicing with a zeros-and-scatter backward would allocate T * T


def test_check_lengths_accepts_lists_arrays_and_tensors() -> None:
    for lengths in ([3, 1, 2], (3, 1, 2), np.array([3, 1, 2])):
        assert check_lengths("L", lengths, 3, 3) == [3, 1, 2]
    given = Tensor([3, 3, 3])  # a Tensor stays one (its values are not read in Python), even all full
    assert check_lengths("L", given, 3, 3) is given
    assert check_lengths("L", Tensor(2), 3, 1).shape == (1,)
    assert check_lengths("L", None, 3, 3) is None
    assert check_lengths("L", [3, 3], 3, 2) is None  # all full: nothing to mask
    assert check_lengths("L", 2, 3, 1) == [2]


def test_ragged_masks_trim_and_pad(device: str) -> None:
    x = Tensor.zeros(4, 2, 1, device=device)
    ragged = Ragged(4, 2, [3, 1], device)
    assert (ragged.min_length, ragged.steps) == (1, 3)  # step 4: every sequence has ended
    assert [m.numpy().ravel().tolist() for m in ragged.step] == [[True, True], [True, False], [True, False]]
    assert ragged.valid.numpy().reshape(3, 2).tolist() == [[True, True], [True, False], [True, False]]
    assert ragged.running.numpy().reshape(4, 2).tolist() == [[True, True], [True, False], [True, False], [False, False]]
    assert ragged.trim(x).shape == (3, 2, 1)
    out = ragged.zero_past_ends(Tensor.ones(3, 2, 1, device=device))
    assert ragged.pad(out).numpy().reshape(4, 2).tolist() == [[1, 1], [1, 0], [1, 0], [0, 0]]
    full = Ragged(4, 2, None, device)
    assert (full.min_length, full.steps, full.valid) == (4, 4, None)
    assert full.trim(x) is x


def test_ragged_tensor_lengths_run_and_mask_every_step(device: str) -> None:
    ragged = Ragged(4, 2, Tensor([3, 1], device=device), device)
    assert (ragged.min_length, ragged.steps) == (0, 4)  # no Python reads the values
    assert ragged.valid.numpy().reshape(4, 2).tolist() == [[True, True], [True, False], [True, False], [False, False]]
    out = ragged.zero_past_ends(Tensor.ones(4, 2, 1, device=device))
    assert ragged.pad(out).numpy().reshape(4, 2).tolist() == [[1, 1], [1, 0], [1, 0], [0, 0]]


# ------------------------------------------- one ragged-batch rule for every layer
def _layer(name: str, device: str):
    tr.manual_seed(5)
    if name in ("ElmanRNN", "GatedRNN"):
        return getattr(nn, name)(3, 4, 2, device=device, dtype="float64")
    return getattr(nn, name)(3, 4, num_layers=2, bidirectional=True, device=device, dtype="float64")


def _states_and_final(name: str, layer, x: Tensor, lengths: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """(outputs (T, B, k), final state (B, ...)): ElmanRNN's final state is s at each own last step."""
    out, final = layer(x, lengths=lengths)
    if name in ("ElmanRNN", "GatedRNN"):
        s = final.numpy()
        return np.concatenate([out.numpy(), s], axis=2), s[np.array(lengths) - 1, np.arange(len(lengths))]
    h = final[0] if isinstance(final, tuple) else final
    return out.numpy(), np.moveaxis(h.numpy(), 1, 0)


@pytest.mark.parametrize("name", ["ElmanRNN", "GatedRNN", "RNN", "LSTM", "GRU"])
def test_every_layer_follows_one_ragged_rule(name: str, device: str) -> None:
    """Outputs past a length are exactly 0; the final state is the state at the sequence's own
    last step; both equal running each sequence alone."""
    layer = _layer(name, device)
    lengths = [2, 5, 1]
    x = Tensor(np.random.default_rng(1).standard_normal((5, 3, 3)), device=device)
    out, final = _states_and_final(name, layer, x, lengths)
    for b, n in enumerate(lengths):
        assert not out[n:, b].any()  # exactly 0 past the end
        alone_out, alone_final = _states_and_final(name, layer, x[:n, b : b + 1], [n])
        np.testing.assert_allclose(out[:n, b : b + 1], alone_out, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(final[b], alone_final[0], rtol=1e-12, atol=1e-12)


def test_dropout_mask_is_drawn_on_the_tensor_device(device: str) -> None:
    x = Tensor.ones(50, 40, device=device, requires_grad=True)
    y = F.dropout(x, 0.5)
    assert y.device == x.device
    values = y.numpy()
    assert set(np.unique(values)) <= {0.0, 2.0} and 0.3 < (values == 0).mean() < 0.7
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), values)  # the gradient passes through the same mask
    rnn = nn.LSTM(3, 4, num_layers=2, dropout=0.5, device=device)  # dropout between layers, same device
    assert rnn(Tensor.randn(4, 2, 3, device=device))[0].device == x.device
