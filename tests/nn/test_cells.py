"""RNNCell, LSTMCell, GRUCell: parameters, init, gradchecks, PyTorch, one step of the layer."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

CELLS = {"rnn_tanh": (nn.RNNCell, {}), "rnn_relu": (nn.RNNCell, {"nonlinearity": "relu"}),
         "lstm": (nn.LSTMCell, {}), "gru": (nn.GRUCell, {})}
GATES = {"rnn_tanh": 1, "rnn_relu": 1, "lstm": 4, "gru": 3}
LAYERS = {"rnn_tanh": (nn.RNN, {}), "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
          "lstm": (nn.LSTM, {}), "gru": (nn.GRU, {})}


def make_cell(kind: str, input_size: int, hidden_size: int, **kwargs) -> nn.Module:
    cls, extra = CELLS[kind]
    return cls(input_size, hidden_size, **extra, **kwargs)


def state_of(kind: str, rng: np.random.Generator, shape: tuple, device: str = "cpu", grad: bool = False):
    """A random initial state: h, or (h, c) for the LSTM."""
    def one():
        return Tensor(rng.standard_normal(shape), device=device, requires_grad=grad)
    return (one(), one()) if kind == "lstm" else one()


def flat(out) -> tuple:
    return tuple(out) if isinstance(out, tuple) else (out,)


# ---------------------------------------------------------------- parameters, init
@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("bias", [True, False])
def test_parameter_names_shapes_and_init_range(kind: str, bias: bool) -> None:
    cell = make_cell(kind, 3, 5, bias=bias)
    G = GATES[kind] * 5
    expected = {"weight_ih": (G, 3), "weight_hh": (G, 5)}
    if bias:
        expected |= {"bias_ih": (G,), "bias_hh": (G,)}
    assert {name: p.shape for name, p in cell.named_parameters()} == expected
    bound = 1 / np.sqrt(5)
    assert all(p.dtype == np.float32 and p.requires_grad for p in cell.parameters())
    values = np.concatenate([p.numpy().ravel() for p in cell.parameters()])  # U(-bound, bound), as PyTorch
    assert np.abs(values).max() <= bound and np.abs(values).max() > 0.8 * bound and values.min() < 0 < values.max()


def test_init_is_reproducible_and_dtype_device_are_kept() -> None:
    tr.manual_seed(7)
    a = nn.LSTMCell(3, 4).state_dict()
    tr.manual_seed(7)
    b = nn.LSTMCell(3, 4, device="strict", dtype="float64")
    assert all(p.dtype == np.float64 and p.device == "strict" for p in b.parameters())
    for name, value in b.state_dict().items():
        np.testing.assert_allclose(value, a[name], rtol=1e-6)
    assert not np.allclose(nn.LSTMCell(3, 4).state_dict()["weight_ih"], a["weight_ih"])


# ------------------------------------------------------------------- gradients
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_gradcheck(kind: str, device: str) -> None:
    cell = make_cell(kind, 3, 2, device=device, dtype="float64")
    rng = np.random.default_rng(1)
    x = Tensor(rng.standard_normal((2, 3)), device=device, requires_grad=True)
    state = state_of(kind, rng, (2, 2), device, grad=True)
    params = list(cell.parameters())  # a generator: listed once, used twice
    assert tr.gradcheck(lambda x, *args: flat(cell(x, state)), x, *flat(state), *params)
    assert tr.gradcheck(lambda x, *args: flat(cell(x)), x, *params)  # no state: zeros


@pytest.mark.parametrize("kind", ["rnn_tanh", "lstm", "gru"])
def test_cell_gradgradcheck(kind: str) -> None:
    cell = make_cell(kind, 2, 2, dtype="float64")
    rng = np.random.default_rng(2)
    x = Tensor(rng.standard_normal((1, 2)), requires_grad=True)
    state = state_of(kind, rng, (1, 2))
    assert tr.gradgradcheck(lambda x, *ps: flat(cell(x, state)), x, *cell.parameters())


def test_unbatched_input_matches_a_batch_of_one() -> None:
    for kind in CELLS:
        cell = make_cell(kind, 3, 4)
        x, state = Tensor.randn(3), state_of(kind, np.random.default_rng(0), (4,))
        single = flat(cell(x, state))
        batched_state = tuple(s.reshape(1, 4) for s in flat(state))
        batched = flat(cell(x.reshape(1, 3), batched_state if kind == "lstm" else batched_state[0]))
        for s, b in zip(single, batched, strict=True):
            assert s.shape == (4,)
            np.testing.assert_allclose(s.numpy(), b.numpy()[0], rtol=1e-6)


# ------------------------------------------------------------------------ PyTorch
@pytest.mark.parametrize("kind", list(CELLS))
@pytest.mark.parametrize("with_state", [True, False])
def test_cells_match_pytorch(kind: str, with_state: bool) -> None:
    torch = pytest.importorskip("torch")
    torch_cls = {"rnn_tanh": torch.nn.RNNCell, "rnn_relu": torch.nn.RNNCell,
                 "lstm": torch.nn.LSTMCell, "gru": torch.nn.GRUCell}[kind]
    theirs = torch_cls(3, 4, **CELLS[kind][1], dtype=torch.float64)
    ours = make_cell(kind, 3, 4, dtype="float64")
    ours.load_state_dict(theirs.state_dict())
    rng = np.random.default_rng(3)
    x_np = rng.standard_normal((3, 3))
    states_np = [rng.standard_normal((3, 4)) for _ in range(2 if kind == "lstm" else 1)]
    x = Tensor(x_np, requires_grad=True)
    x_t = torch.tensor(x_np, requires_grad=True)
    states = [Tensor(s, requires_grad=True) for s in states_np]
    states_t = [torch.tensor(s, requires_grad=True) for s in states_np]
    pack = (lambda s: tuple(s)) if kind == "lstm" else (lambda s: s[0])
    out = flat(ours(x, pack(states)) if with_state else ours(x))
    out_t = flat(theirs(x_t, pack(states_t)) if with_state else theirs(x_t))
    weights = [rng.standard_normal((3, 4)) for _ in out]
    sum(((o * Tensor(w)).sum() for o, w in zip(out, weights, strict=True)), Tensor(0.0)).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(out_t, weights, strict=True)).backward()
    for o, o_t in zip(out, out_t, strict=True):
        np.testing.assert_allclose(o.numpy(), o_t.detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    if with_state:
        for s, s_t in zip(states, states_t, strict=True):
            np.testing.assert_allclose(s.grad.numpy(), s_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), dict(theirs.named_parameters())[name].grad.numpy(),
                                   rtol=1e-10, atol=1e-12, err_msg=name)


# --------------------------------------------------------------- one step of a layer
@pytest.mark.parametrize("kind", list(CELLS))
def test_cell_is_one_step_of_the_layer(kind: str) -> None:
    cls, extra = LAYERS[kind]
    layer = cls(3, 4, **extra, dtype="float64")
    cell = make_cell(kind, 3, 4, dtype="float64")
    cell.load_state_dict({name[: -len("_l0")]: value for name, value in layer.state_dict().items()})
    rng = np.random.default_rng(4)
    x = Tensor(rng.standard_normal((1, 2, 3)))
    state = state_of(kind, rng, (2, 4))
    output, final = layer(x, tuple(s.reshape(1, 2, 4) for s in state) if kind == "lstm" else state.reshape(1, 2, 4))
    stepped = flat(cell(x[0], state))
    np.testing.assert_allclose(output.numpy()[0], stepped[0].numpy(), rtol=1e-12)
    for f, s in zip(flat(final), stepped, strict=True):
        np.testing.assert_allclose(f.numpy()[0], s.numpy(), rtol=1e-12)


# ----------------------------------------------------------------------- errors
def test_cell_errors_name_what_was_given_and_expected() -> None:
    cell = nn.GRUCell(3, 4)
    with pytest.raises(ValueError, match=r"GRUCell: input x has shape \(2, 5\); expected \(B, 3\) or \(3,\)"):
        cell(Tensor.randn(2, 5))
    with pytest.raises(ValueError, match=r"GRUCell: input x has shape \(1, 2, 3\)"):
        cell(Tensor.randn(1, 2, 3))
    with pytest.raises(ValueError, match=r"GRUCell: hx has shape \(2, 3\); expected \(2, 4\)"):
        cell(Tensor.randn(2, 3), Tensor.randn(2, 3))
    lstm = nn.LSTMCell(3, 4)
    with pytest.raises(ValueError, match=r"LSTMCell: hx is a Tensor; expected a pair \(h, c\)"):
        lstm(Tensor.randn(2, 3), Tensor.randn(2, 4))
    with pytest.raises(ValueError, match=r"LSTMCell: c has shape \(4,\); expected \(2, 4\)"):
        lstm(Tensor.randn(2, 3), (Tensor.randn(2, 4), Tensor.randn(4)))
    with pytest.raises(ValueError, match=r"RNNCell: nonlinearity='sigmoid'; expected 'tanh' or 'relu'"):
        nn.RNNCell(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"LSTMCell: hidden_size=0; expected a positive int"):
        nn.LSTMCell(3, 0)
