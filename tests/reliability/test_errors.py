"""Bad input gets a clear error, never a wrong answer: one test per kind of mistake the
issue lists. Each error must say what was given and what was expected."""

from __future__ import annotations

import re

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn, optim
from tinygrad_rnn.nn import functional as F


def raises(kind: type[Exception], *fragments: str) -> pytest.RaisesContext:
    """``pytest.raises`` that also requires every fragment (plain text) in the message."""
    return pytest.raises(kind, match="(?s)" + "".join(f"(?=.*{re.escape(f)})" for f in fragments))


# ---------------------------------------------------------------------- shapes
@pytest.mark.parametrize("name, op", [
    ("add", lambda a, b: a + b), ("sub", lambda a, b: a - b), ("mul", lambda a, b: a * b),
    ("div", lambda a, b: a / b), ("pow", lambda a, b: a**b), ("where", lambda a, b: tr.where(a > 0, a, b)),
])
def test_shapes_that_do_not_broadcast_name_the_op_and_both_shapes(device: str, name: str, op) -> None:
    a, b = Tensor.ones(2, 3, device=device), Tensor.ones(4, 3, device=device)
    with raises(ValueError, name, "(2, 3)", "(4, 3)", "do not broadcast", "expected"):
        op(a, b)
    with raises(ValueError, "comparison", "(2, 3)", "(4, 3)"):
        a.__lt__(b)


def test_shapes_that_do_not_multiply_name_matmul_and_both_shapes(device: str) -> None:
    a, b = Tensor.ones(2, 3, device=device), Tensor.ones(4, 5, device=device)
    with raises(ValueError, "matmul", "(2, 3)", "(4, 5)", "expected"):
        a @ b
    with raises(ValueError, "matmul", "(2, 2, 3)", "(3, 3, 4)"):
        Tensor.ones(2, 2, 3, device=device) @ Tensor.ones(3, 3, 4, device=device)  # batch axes 2 vs 3
    with raises(ValueError, "reshape", "(2, 3)", "(4,)"):
        a.reshape(4)


# ----------------------------------------------------------------- layer inputs
LAYERS = {
    "RNN": lambda: nn.RNN(3, 4), "LSTM": lambda: nn.LSTM(3, 4), "GRU": lambda: nn.GRU(3, 4),
    "ElmanRNN": lambda: nn.ElmanRNN(3, 4, 2), "GatedRNN": lambda: nn.GatedRNN(3, 4, 2),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("shape", [(5, 2, 7), (5, 2, 3, 1), (3,)])
def test_recurrent_input_of_wrong_rank_or_size_names_layer_and_shapes(name: str, shape: tuple) -> None:
    layer = LAYERS[name]()
    given = "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
    with raises(ValueError, f"{name}:", given, "expected (T, B, 3)"):
        layer(Tensor.ones(*shape))


@pytest.mark.parametrize("cls", [nn.RNNCell, nn.LSTMCell, nn.GRUCell])
def test_cell_input_of_wrong_size_names_cell_and_shapes(cls: type) -> None:
    with raises(ValueError, cls.__name__, "(2, 5)", "expected (B, 3)"):
        cls(3, 4)(Tensor.ones(2, 5))
    with raises(TypeError, cls.__name__, "list", "expected a Tensor"):
        cls(3, 4)([[1.0, 2.0, 3.0]])


def test_initial_state_of_wrong_shape_is_refused() -> None:
    with raises(ValueError, "LSTM", "h0", "(1, 3, 4)", "expected (1, 2, 4)"):
        nn.LSTM(3, 4)(Tensor.ones(5, 2, 3), (Tensor.zeros(1, 3, 4), Tensor.zeros(1, 2, 4)))
    with raises(ValueError, "ElmanRNN", "s0", "(2, 5)", "expected (B, m) = (2, 4)"):
        nn.ElmanRNN(3, 4, 2)(Tensor.ones(5, 2, 3), Tensor.zeros(2, 5))


# ---------------------------------------------------------------------- lengths
def _run(layer, x: np.ndarray, lengths: list[int]):
    out = layer(Tensor(x, dtype="float64"), lengths=lengths)
    first, final = out
    if isinstance(final, tuple):
        final = final[0]
    return first.numpy(), final.numpy()


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "ElmanRNN", "GatedRNN"])
def test_unsorted_lengths_equal_the_sorted_run_permuted(name: str) -> None:
    tr.manual_seed(3)
    if name in ("RNN", "LSTM", "GRU"):
        layer = getattr(nn, name)(3, 4, num_layers=2, bidirectional=True, dtype="float64")
    else:
        layer = getattr(nn, name)(3, 4, 2, dtype="float64")
    x = np.random.default_rng(1).standard_normal((6, 4, 3))
    lengths = [2, 6, 1, 4]  # unsorted
    order = np.argsort(lengths)[::-1]  # decreasing, as "packed" APIs want
    out, final = _run(layer, x, lengths)
    out_sorted, final_sorted = _run(layer, x[:, order], [lengths[i] for i in order])
    np.testing.assert_array_equal(out[:, order], out_sorted)
    batch_axis = 1 if final.ndim == 3 else 0  # (L*D, B, H) for nn.RNN..., s is (T, B, m) for ElmanRNN
    np.testing.assert_array_equal(np.take(final, order, axis=batch_axis), final_sorted)
    for b, n in enumerate(lengths):  # and each sequence alone gives the same
        alone, _ = _run(layer, x[:n, b : b + 1], [n])
        np.testing.assert_allclose(out[:n, b : b + 1], alone, rtol=1e-12, atol=1e-12)
        assert not out[n:, b].any()  # zeros past the end


@pytest.mark.parametrize("name", ["RNN", "LSTM", "GRU", "ElmanRNN"])
@pytest.mark.parametrize("lengths, why", [
    ([3, 0], "include [0]"), ([3, -1], "include [-1]"), ([3, 6], "include [6]"), ([3], "1 lengths"),
])
def test_lengths_zero_negative_or_longer_than_t_are_refused(name: str, lengths: list, why: str) -> None:
    layer = getattr(nn, name)(3, 4) if name != "ElmanRNN" else nn.ElmanRNN(3, 4, 2)
    with raises(ValueError, name, why):
        layer(Tensor.ones(5, 2, 3), lengths=lengths)
    with raises(TypeError, name, "2.5"):
        layer(Tensor.ones(5, 2, 3), lengths=[2.5, 3])


# ---------------------------------------------------------------------- classes
def test_class_indices_out_of_range_are_refused_naming_the_index(device: str) -> None:
    logits = Tensor.randn(4, 3, device=device)
    for bad in (3, -1, 7):
        target = Tensor([0, 1, bad, 2], device=device)
        with raises(IndexError, "cross_entropy", f"class index {bad}", "n_classes=3", "expected indices in [0, 2]"):
            F.cross_entropy(logits, target)
        with raises(IndexError, "nll_loss", f"class index {bad}"):
            F.nll_loss(logits.log_softmax(), target)
    assert np.isfinite(F.cross_entropy(logits, Tensor([0, 1, -100, 2], device=device), ignore_index=-100).item())
    with raises(TypeError, "cross_entropy", "float32", "expected integer class indices"):
        F.cross_entropy(logits, Tensor([0.0, 1.0, 2.0, 1.0], device=device))
    with raises(IndexError, "Embedding", "id 10", "[0, 9]"):
        nn.Embedding(10, 2, device=device)(Tensor([[1, 10]], device=device))


# -------------------------------------------------------------- requires_grad
def test_integer_and_bool_tensors_cannot_require_grad(device: str) -> None:
    for make in (lambda: Tensor([1, 2], requires_grad=True, device=device),
                 lambda: Tensor([True], requires_grad=True, device=device),
                 lambda: Tensor([1, 2], device=device).requires_grad_(),
                 lambda: Tensor.arange(3, requires_grad=True, device=device),
                 lambda: Tensor.zeros(2, dtype="int64", requires_grad=True, device=device),
                 lambda: nn.Parameter(Tensor([1, 2], device=device))):
        with raises(TypeError, "requires_grad", "expected float32 or float64"):
            make()


def test_backward_twice_works_and_accumulates(device: str) -> None:
    """Gradients of a graph walked twice add up: the tape is kept, not released."""
    x = Tensor([1.0, 2.0], requires_grad=True, device=device)
    loss = (x * x).sum()
    loss.backward()
    loss.backward()
    assert x.grad.tolist() == [4.0, 8.0]  # 2 * (2x)

    lstm = nn.LSTM(2, 3, device=device, dtype="float64")
    loss = lstm(Tensor.randn(4, 1, 2, device=device, dtype="float64"))[0].sum()
    loss.backward()
    once = {name: p.grad.numpy().copy() for name, p in lstm.named_parameters()}
    loss.backward()
    for name, p in lstm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), 2 * once[name], rtol=1e-12, err_msg=name)
    doc = " ".join(Tensor.backward.__doc__.split())
    assert "tape is kept after backward" in doc and "adds the same gradients once more" in doc


def test_backward_without_grad_on_a_non_scalar_is_refused(device: str) -> None:
    y = Tensor.ones(2, 3, requires_grad=True, device=device) * 2.0
    with raises(RuntimeError, "shape (2, 3)", "expected a one-element tensor"):
        y.backward()
    with raises(ValueError, "grad has shape (3,)", "expected the tensor's shape (2, 3)"):
        y.backward(Tensor.ones(3, device=device))
    with raises(RuntimeError, "does not require grad"):
        Tensor.ones(1, device=device).backward()


# ---------------------------------------------------------------------- devices
def test_mixing_devices_names_both() -> None:
    s, c = Tensor.ones(2, 2, device="strict"), Tensor.ones(2, 2, device="cpu")
    for op in (lambda: s + c, lambda: c * s, lambda: s @ c, lambda: tr.cat([s, c]), lambda: tr.stack([c, s]),
               lambda: tr.where(s > 0, s, c)):
        with raises(RuntimeError, "strict", "cpu", "expected"):
            op()
    with raises(RuntimeError, "strict", "cpu"):
        s.__lt__(c)
    with raises(RuntimeError, "device", "strict", "cpu"):
        c[Tensor([0], device="strict")]
    with raises(RuntimeError, "strict", "cpu"):
        nn.LSTM(2, 3, device="strict")(Tensor.ones(4, 1, 2, device="cpu"))
    with raises(RuntimeError, "strict", "cpu"):
        F.cross_entropy(Tensor.ones(2, 3, device="strict"), Tensor([0, 1], device="cpu"))
    with raises(RuntimeError, "strict", "cpu"):
        (s * 2.0).requires_grad_().sum().backward(Tensor(1.0, device="cpu"))
    with raises(ValueError, "unknown device 'tpu'", "expected one of"):
        Tensor.ones(2, device="tpu")
    if not tr.cuda_available():
        with raises(RuntimeError, "device='cuda'", "cpu"):
            Tensor.ones(2, device="cuda")


# ----------------------------------------------------------------- state dicts
def test_load_state_dict_names_missing_unexpected_and_misshaped_keys() -> None:
    model = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
    state = model.state_dict()
    before = {k: v.copy() for k, v in state.items()}
    missing = dict(state)
    del missing["1.bias"]
    with raises(KeyError, "missing keys ['1.bias']"):
        model.load_state_dict(missing)
    unexpected = dict(state, **{"2.weight": np.zeros((2, 2))})
    with raises(KeyError, "unexpected keys ['2.weight']"):
        model.load_state_dict(unexpected)
    misshaped = {k: (np.zeros((4, 4)) if k == "0.weight" else v + 1) for k, v in state.items()}
    with raises(ValueError, "'0.weight'", "(4, 4)", "(4, 3)"):
        model.load_state_dict(misshaped)
    for k, v in model.state_dict().items():  # every refusal left the model untouched
        np.testing.assert_array_equal(v, before[k])
    assert model.load_state_dict(missing, strict=False) == (["1.bias"], [])


def test_optimizer_load_state_dict_names_bad_keys_and_shapes() -> None:
    w = Tensor.ones(3, requires_grad=True)
    opt = optim.Adam([w], lr=0.1)
    w.grad = Tensor.ones(3)
    opt.step()
    state = opt.state_dict()
    with raises(KeyError, "unexpected keys ['state.5.exp_avg']"):
        opt.load_state_dict(dict(state, **{"state.5.exp_avg": np.zeros(3)}))
    with raises(ValueError, "'exp_avg' of parameter 0", "(4,)", "(3,)"):
        opt.load_state_dict(dict(state, state={0: {**state["state"][0], "exp_avg": np.zeros(4)}}))
    group = {k: v for k, v in state["param_groups"][0].items() if k != "lr"}
    with raises(KeyError, "missing keys ['lr']"):
        opt.load_state_dict(dict(state, param_groups=[group]))


# ------------------------------------------------------------------ activations
def test_unknown_activation_names_are_refused_listing_the_known_ones() -> None:
    with raises(ValueError, "ElmanRNN f_s", "'softplus'", "expected one of", "'tanh'", "or a callable"):
        nn.ElmanRNN(3, 4, 2, f_s="softplus")
    with raises(ValueError, "GatedRNN f_o", "'swish'", "'softmax'"):
        nn.GatedRNN(3, 4, 2, f_o="swish")
    with raises(ValueError, "ElmanRNN f_s", "'softmax'"):  # a state activation cannot be softmax
        nn.ElmanRNN(3, 4, 2, f_s="softmax")
    with raises(ValueError, "RNN", "nonlinearity='sigmoid'", "expected 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with raises(ValueError, "RNNCell", "nonlinearity='gelu'"):
        nn.RNNCell(3, 4, nonlinearity="gelu")
