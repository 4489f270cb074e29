"""examples/bptt_numpy.py: the closed-form BPTT written by hand in NumPy.

The LSTM and GRU derivatives live in two places, the library's fused cell ops
(tinygrad_rnn/ops/fused.py, reached through nn.LSTM and nn.GRU) and this example; these
tests hold each against the other in float64 on the same weights (and against PyTorch
where installed), for the tanh RNN, the GRU and the LSTM.
"""

from __future__ import annotations

import numpy as np
import pytest
from example_runner import load

import tinygrad_rnn as tr

bptt = load("bptt_numpy")
CELLS = ["rnn", "gru", "lstm"]
I, H, O, B = 3, 4, 5, 2  # noqa: E741 - input size != state size != classes


def _problem(cell: str, T: int, seed: int = 1) -> tuple[dict, np.ndarray, np.ndarray]:
    P = bptt.init_params(cell, I, H, O, seed)
    rng = np.random.default_rng(seed + 1)
    return P, rng.standard_normal((T, B, I)), rng.integers(0, O, (T, B))


def _max_rel_err(got: np.ndarray, want: np.ndarray) -> float:
    return float(np.max(np.abs(got - want)) / max(float(np.max(np.abs(want))), 1e-300))


def _tape(cell: str, P: dict, x: np.ndarray, y: np.ndarray) -> dict[str, np.ndarray]:
    """Loss and gradients of the same model from the tape (nn.RNN/GRU/LSTM + nn.Linear)."""
    model = tr.nn.Module()
    layer = {"rnn": tr.nn.RNN, "gru": tr.nn.GRU, "lstm": tr.nn.LSTM}[cell]
    model.rnn = layer(I, H, dtype="float64")
    model.head = tr.nn.Linear(H, O, dtype="float64")
    model.load_state_dict(P)
    out, _ = model.rnn(tr.Tensor(x, dtype="float64"))
    loss = tr.nn.functional.cross_entropy(model.head(out).reshape(-1, O), tr.Tensor(y.reshape(-1)))
    loss.backward()
    grads = {name: p.grad.numpy() for name, p in model.named_parameters()}
    grads["loss"] = loss.numpy()
    return grads


@pytest.mark.parametrize("T", [1, 6])
@pytest.mark.parametrize("cell", CELLS)
def test_numpy_bptt_equals_the_tape(cell: str, T: int) -> None:
    P, x, y = _problem(cell, T)
    before = {k: v.copy() for k, v in P.items()}
    loss, grads = bptt.loss_and_grads(cell, P, x, y)
    want = _tape(cell, P, x, y)
    assert set(grads) | {"loss"} == set(want)
    assert _max_rel_err(np.asarray(loss), want["loss"]) < 1e-12
    for name, grad in grads.items():
        assert grad.shape == P[name].shape, name
        assert _max_rel_err(grad, want[name]) < 1e-10, name
        np.testing.assert_array_equal(P[name], before[name])  # the parameters are not touched


@pytest.mark.parametrize("cell", CELLS)
def test_numpy_bptt_equals_torch(cell: str) -> None:
    torch = pytest.importorskip("torch")
    P, x, y = _problem(cell, 5)
    loss, grads = bptt.loss_and_grads(cell, P, x, y)
    layer = {"rnn": torch.nn.RNN, "gru": torch.nn.GRU, "lstm": torch.nn.LSTM}[cell](I, H).double()
    head = torch.nn.Linear(H, O).double()
    layer.load_state_dict({k[4:]: torch.from_numpy(v) for k, v in P.items() if k.startswith("rnn.")})
    head.load_state_dict({k[5:]: torch.from_numpy(v) for k, v in P.items() if k.startswith("head.")})
    out, _ = layer(torch.from_numpy(x))
    torch_loss = torch.nn.functional.cross_entropy(head(out).reshape(-1, O), torch.from_numpy(y.ravel()))
    torch_loss.backward()
    assert loss == pytest.approx(torch_loss.item(), rel=1e-12)
    for prefix, module in (("rnn.", layer), ("head.", head)):
        for name, p in module.named_parameters():
            assert _max_rel_err(grads[prefix + name], p.grad.numpy()) < 1e-10, prefix + name


@pytest.mark.parametrize("cell", CELLS)
def test_sgd_step_moves_every_parameter_against_its_gradient(cell: str) -> None:
    P, x, y = _problem(cell, 4)
    _, grads = bptt.loss_and_grads(cell, P, x, y)
    updated = {k: v.copy() for k, v in P.items()}
    bptt.sgd_step(cell, updated, x, y, lr=0.5)
    for name in P:
        np.testing.assert_allclose(updated[name], P[name] - 0.5 * grads[name], rtol=1e-12, atol=1e-15)


def test_a_wrong_gate_derivative_is_caught() -> None:
    """The comparison is sharp enough to see a 1 % error in one LSTM gate."""
    P, x, y = _problem("lstm", 5)
    forward, backward = bptt.CELLS["lstm"]

    def wrong_backward(*args):
        dG, _ = backward(*args)
        dG[..., 3 * H:] *= 1.01  # the output gate
        return dG, dG

    bptt.CELLS["lstm"] = (forward, wrong_backward)
    try:
        _, grads = bptt.loss_and_grads("lstm", P, x, y)
    finally:
        bptt.CELLS["lstm"] = (forward, backward)
    assert _max_rel_err(grads["rnn.weight_hh_l0"], _tape("lstm", P, x, y)["rnn.weight_hh_l0"]) > 1e-4
