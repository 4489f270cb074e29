"""nn.ElmanRNN and nn.GatedRNN: the per-step loops, gradients, variable lengths, checks.

The closed-form BPTT comparison is in test_bptt_closed_form.py, the notes' worked
examples in test_notes_examples.py.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

ELMAN_NAMES = ["W_sx", "W_ss", "W_ss0", "W_o", "W_o0"]
GATE_NAMES = ["W_gx", "W_gs", "W_g0"]


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-z))


def numpy_gated_loop(W: dict, x: np.ndarray, s0: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """C.48-C.49 and C.6 with f_s = tanh, f_o = identity, one step at a time (batch rows)."""
    s_prev, gs, ss = s0, [], []
    for x_t in x:
        gate_t = _sigmoid(x_t @ W["W_gx"].T + s_prev @ W["W_gs"].T + W["W_g0"])  # C.48
        s_t = (1 - gate_t) * s_prev + gate_t * np.tanh(x_t @ W["W_sx"].T + s_prev @ W["W_ss"].T + W["W_ss0"])
        gs.append(s_t @ W["W_o"].T + W["W_o0"])  # C.6
        ss.append(s_t)
        s_prev = s_t
    return np.stack(gs), np.stack(ss)


# --------------------------------------------------------------------- forward
def test_gated_rnn_is_the_notes_per_step_loop(device: str) -> None:
    model = nn.GatedRNN(3, 4, 2, device=device, dtype="float64")
    W = model.state_dict()
    rng = np.random.default_rng(1)
    x, s0 = rng.normal(size=(6, 2, 3)), rng.normal(size=(2, 4))
    g, s = model(Tensor(x, device=device), Tensor(s0, device=device))
    expected_g, expected_s = numpy_gated_loop(W, x, s0)
    np.testing.assert_allclose(g.numpy(), expected_g, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(s.numpy(), expected_s, rtol=1e-12, atol=1e-14)


def test_gate_shut_keeps_the_state_and_gate_open_is_the_elman_rnn() -> None:
    gated = nn.GatedRNN(2, 3, 2, dtype="float64")
    elman = nn.ElmanRNN(2, 3, 2, dtype="float64")
    elman.load_state_dict({k: v for k, v in gated.state_dict().items() if k in ELMAN_NAMES})
    x = Tensor.randn(5, 2, 2, dtype="float64")
    s0 = Tensor.randn(2, 3, dtype="float64")
    gated.W_gx.data = gated.W_gx.data * 0.0
    gated.W_gs.data = gated.W_gs.data * 0.0
    gated.W_g0.data = gated.W_g0.data * 0.0 - 40.0  # gate_t = sigmoid(-40) ~ 0: nothing is written
    _, s = gated(x, s0)
    np.testing.assert_allclose(s.numpy(), np.broadcast_to(s0.numpy(), (5, 2, 3)), atol=1e-15)
    gated.W_g0.data = gated.W_g0.data * 0.0 + 40.0  # gate_t = 1: s_t = f_s(z^1_t), the ElmanRNN
    g_gated, s_gated = gated(x, s0)
    g_elman, s_elman = elman(x, s0)
    np.testing.assert_allclose(s_gated.numpy(), s_elman.numpy(), rtol=1e-14)
    np.testing.assert_allclose(g_gated.numpy(), g_elman.numpy(), rtol=1e-14)


def test_callable_activations_are_used() -> None:
    model = nn.ElmanRNN(2, 3, 2, f_s=lambda z: z.tanh() * 0.5, f_o=lambda z: z * z, dtype="float64")
    W = model.state_dict()
    x = np.random.default_rng(2).normal(size=(4, 1, 2))
    g, s = model(Tensor(x))
    s_prev = np.zeros((1, 3))
    for t in range(4):
        s_prev = 0.5 * np.tanh(x[t] @ W["W_sx"].T + s_prev @ W["W_ss"].T + W["W_ss0"])
        np.testing.assert_allclose(s.numpy()[t], s_prev, rtol=1e-13)
        np.testing.assert_allclose(g.numpy()[t], (s_prev @ W["W_o"].T + W["W_o0"]) ** 2, rtol=1e-13)
    assert "f_s=" in repr(model)


@pytest.mark.parametrize("f_s", ["tanh", "relu", "sigmoid", "identity"])
@pytest.mark.parametrize("f_o", ["tanh", "relu", "sigmoid", "identity", "softmax"])
def test_every_named_activation_is_accepted(f_s: str, f_o: str) -> None:
    g, s = nn.GatedRNN(2, 3, 4, f_s=f_s, f_o=f_o)(Tensor.randn(2, 1, 2))
    assert g.shape == (2, 1, 4) and s.shape == (2, 1, 3)
    if f_o == "softmax":
        np.testing.assert_allclose(g.numpy().sum(axis=-1), 1.0, rtol=1e-6)


def test_matches_torch_rnn_plus_linear() -> None:
    torch = pytest.importorskip("torch")
    model = nn.ElmanRNN(3, 4, 2, dtype="float64")
    W = {k: torch.tensor(v) for k, v in model.state_dict().items()}
    x = np.random.default_rng(3).normal(size=(5, 2, 3))
    rnn = torch.nn.RNN(3, 4, dtype=torch.float64)
    with torch.no_grad():
        rnn.weight_ih_l0.copy_(W["W_sx"])
        rnn.weight_hh_l0.copy_(W["W_ss"])
        rnn.bias_ih_l0.copy_(W["W_ss0"])
        rnn.bias_hh_l0.zero_()
    states, _ = rnn(torch.tensor(x))
    g, s = model(Tensor(x))
    np.testing.assert_allclose(s.numpy(), states.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(g.numpy(), (states @ W["W_o"].T + W["W_o0"]).detach().numpy(), rtol=1e-12)


# ----------------------------------------------------------------- gradients
MODELS = [
    (nn.ElmanRNN, "tanh", "identity", True),
    (nn.ElmanRNN, "sigmoid", "softmax", False),
    (nn.GatedRNN, "tanh", "identity", True),
    (nn.GatedRNN, "tanh", "softmax", False),
]


@pytest.mark.parametrize(("T", "lengths"), [(1, None), (3, None), (1, [1, 1]), (3, [3, 1])])
@pytest.mark.parametrize(("cls", "f_s", "f_o", "bias"), MODELS)
def test_gradcheck(device: str, cls: type, f_s: str, f_o: str, bias: bool, T: int, lengths: list | None) -> None:
    model = cls(3, 2, 2, f_s=f_s, f_o=f_o, bias=bias, device=device, dtype="float64")
    x = Tensor.randn(T, 2, 3, device=device, dtype="float64", requires_grad=True)
    s0 = Tensor.randn(2, 2, device=device, dtype="float64", requires_grad=True)
    assert tr.gradcheck(lambda x, s0, *params: model(x, s0, lengths=lengths), x, s0, *model.parameters())


def test_gradcheck_catches_a_wrong_gate() -> None:
    # Cut the gate out of the tape (same forward values, no gradient through gate_t): the
    # tape then misses the terms of C.48 that the finite differences still see.
    model = nn.GatedRNN(2, 2, 1, dtype="float64")
    original = model._step

    def step_without_gate_gradient(inputs_t: tuple, s_prev: Tensor, W_T: tuple) -> Tensor:
        (input_term_t, gate_input_t), (W_ss_T, W_gs_T) = inputs_t, W_T
        gate_t = (gate_input_t + s_prev @ W_gs_T).sigmoid().detach()  # forward same, gradient cut
        candidate_t = model.f_s(input_term_t + s_prev @ W_ss_T)
        return (1 - gate_t) * s_prev + gate_t * candidate_t

    model._step = step_without_gate_gradient
    x = Tensor.randn(3, 1, 2, dtype="float64")
    with pytest.raises(AssertionError, match="gradcheck"):
        tr.gradcheck(lambda *params: model(x)[0], *model.parameters())
    model._step = original
    assert tr.gradcheck(lambda *params: model(x)[0], *model.parameters())


# ------------------------------------------------------------ variable lengths
def _run_loss(model: nn.Module, x: np.ndarray, s0: np.ndarray, y: np.ndarray, lengths: list | None) -> tuple:
    x_t, s0_t = Tensor(x, requires_grad=True), Tensor(s0, requires_grad=True)
    g, s = model(x_t, s0_t, lengths=lengths)
    (((g - Tensor(y)) ** 2) * 0.5).sum().backward()
    return g.numpy(), s.numpy(), x_t.grad.numpy(), s0_t.grad.numpy()


@settings(max_examples=25, deadline=None)
@given(
    gated=st.booleans(),
    lengths=st.lists(st.integers(1, 5), min_size=1, max_size=4),
    extra_steps=st.integers(0, 2),
    seed=st.integers(0, 2**16),
)
def test_padded_batch_equals_each_sequence_alone(gated: bool, lengths: list, extra_steps: int, seed: int) -> None:
    T, B = max(lengths) + extra_steps, len(lengths)
    tr.manual_seed(seed)
    model = (nn.GatedRNN if gated else nn.ElmanRNN)(2, 3, 2, dtype="float64")
    rng = np.random.default_rng(seed)
    x, s0, y = rng.normal(size=(T, B, 2)), rng.normal(size=(B, 3)), rng.normal(size=(T, B, 2))
    for i, n_i in enumerate(lengths):
        x[n_i:, i] = 1e3  # padding: must not matter
        y[n_i:, i] = 0.0  # no targets past the end (the outputs there are 0)

    g, s, grad_x, grad_s0 = _run_loss(model, x, s0, y, lengths)
    batched = {name: p.grad.numpy() for name, p in model.named_parameters()}
    model.zero_grad()
    for i, n_i in enumerate(lengths):  # each sequence alone; parameter gradients sum over them
        g_i, s_i, grad_x_i, grad_s0_i = _run_loss(model, x[:n_i, i:i + 1], s0[i:i + 1], y[:n_i, i:i + 1], None)
        close = dict(rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(g[:n_i, i], g_i[:, 0], **close)
        np.testing.assert_allclose(s[:n_i, i], s_i[:, 0], **close)
        np.testing.assert_allclose(s[n_i - 1, i], s_i[-1, 0], **close)  # the final state
        np.testing.assert_array_equal(g[n_i:, i], 0.0)
        np.testing.assert_array_equal(s[n_i:, i], 0.0)
        np.testing.assert_allclose(grad_x[:n_i, i], grad_x_i[:, 0], **close)
        np.testing.assert_array_equal(grad_x[n_i:, i], 0.0)
        np.testing.assert_allclose(grad_s0[i], grad_s0_i[0], **close)
    for name, p in model.named_parameters():
        np.testing.assert_allclose(batched[name], p.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_lengths_may_be_a_tuple_or_a_tensor(device: str) -> None:
    model = nn.ElmanRNN(2, 3, 1, device=device)
    x = Tensor.randn(4, 3, 2, device=device)
    g_list, _ = model(x, lengths=[4, 2, 1])
    g_tuple, _ = model(x, lengths=(4, 2, 1))
    g_tensor, _ = model(x, lengths=Tensor([4, 2, 1]))
    np.testing.assert_array_equal(g_list.numpy(), g_tuple.numpy())
    np.testing.assert_array_equal(g_list.numpy(), g_tensor.numpy())


# ------------------------------------------------------------------ parameters
@pytest.mark.parametrize("cls", [nn.ElmanRNN, nn.GatedRNN])
def test_state_dict_names_and_shapes(cls: type) -> None:
    n_in, m, n = 3, 4, 5  # l, m, n
    model = cls(n_in, m, n)
    expected = {"W_sx": (m, n_in), "W_ss": (m, m), "W_ss0": (m,), "W_o": (n, m), "W_o0": (n,)}
    if cls is nn.GatedRNN:
        expected.update({"W_gx": (m, n_in), "W_gs": (m, m), "W_g0": (m,)})
    state = model.state_dict()
    assert list(state) == list(expected)
    assert {k: v.shape for k, v in state.items()} == expected
    no_bias = cls(n_in, m, n, bias=False).state_dict()
    assert list(no_bias) == [k for k in expected if not k.endswith("0")]
    assert all(v.dtype == np.float32 for v in state.values())


@pytest.mark.parametrize("cls", [nn.ElmanRNN, nn.GatedRNN])
def test_init_is_uniform_within_one_over_sqrt_m_and_reproducible(cls: type, device: str) -> None:
    tr.manual_seed(5)
    a = cls(3, 16, 2, device=device, dtype="float64")
    tr.manual_seed(5)
    b = cls(3, 16, 2, device=device, dtype="float64")
    c = cls(3, 16, 2, device=device, dtype="float64")
    for name, p in a.named_parameters():
        assert p.device == device and p.dtype == np.float64 and p.requires_grad
        values = p.numpy()
        assert np.all(np.abs(values) <= 0.25), name  # 1/sqrt(16)
        np.testing.assert_array_equal(values, b.state_dict()[name])
        assert not np.array_equal(values, c.state_dict()[name])


# ------------------------------------------------------------------ validation
def _raises(exc: type, *fragments: str) -> Any:
    return pytest.raises(exc, match=".*".join(re.escape(f) for f in fragments))


@pytest.mark.parametrize("cls", [nn.ElmanRNN, nn.GatedRNN])
def test_bad_inputs_are_refused_with_clear_messages(cls: type) -> None:
    name = cls.__name__
    model = cls(3, 4, 2)
    with _raises(ValueError, name, "x has shape (5, 3)", "expected (T, B, 3)"):
        model(Tensor.randn(5, 3))
    with _raises(ValueError, name, "x has shape (5, 2, 4)", "expected (T, B, 3)"):
        model(Tensor.randn(5, 2, 4))
    with _raises(ValueError, name, "x has shape (0, 2, 3)", "expected T >= 1"):
        model(Tensor.zeros(0, 2, 3))
    with _raises(TypeError, name, "x is a list"):
        model([[[1.0, 2.0, 3.0]]])
    x = Tensor.randn(5, 2, 3)
    with _raises(ValueError, name, "s0 has shape (2, 3)", "expected (B, m) = (2, 4)"):
        model(x, Tensor.zeros(2, 3))
    with _raises(ValueError, name, "s0 has shape (1, 2, 4)", "expected (B, m) = (2, 4)"):
        model(x, Tensor.zeros(1, 2, 4))
    for bad in ([5, 0], [5, -1], [6, 2]):
        with _raises(ValueError, name, f"lengths {bad}", "expected every length in 1..T = 1..5"):
            model(x, lengths=bad)
    with _raises(ValueError, name, "got 3 lengths for a batch of 2 sequences"):
        model(x, lengths=[5, 4, 3])
    with _raises(TypeError, name, "expected ints"):
        model(x, lengths=[5, 2.5])
    with _raises(TypeError, name, "expected a list of 2 ints, got int"):
        model(x, lengths=5)


@pytest.mark.parametrize("cls", [nn.ElmanRNN, nn.GatedRNN])
def test_bad_constructor_arguments(cls: type) -> None:
    name = cls.__name__
    with _raises(ValueError, f"{name} f_s: unknown activation 'softmax'", "'tanh'"):
        cls(2, 3, 1, f_s="softmax")  # softmax is an output activation only
    with _raises(ValueError, f"{name} f_o: unknown activation 'gelu'", "'softmax'"):
        cls(2, 3, 1, f_o="gelu")
    with _raises(ValueError, name, "state_size=0", "expected a positive int"):
        cls(2, 0, 1)
    with _raises(ValueError, name, "input_size=2.0"):
        cls(2.0, 3, 1)
    with _raises(TypeError, "int64", "expected float32 or float64"):
        cls(2, 3, 1, dtype="int64")


@pytest.mark.filterwarnings("ignore:overflow encountered:RuntimeWarning")
def test_anomaly_mode_names_the_time_step() -> None:
    # W^ss = 1e200: s_1 = 1, s_2 = 1e200, s_3 overflows to inf inside step 3.
    model = nn.ElmanRNN(1, 1, 1, f_s="identity", bias=False, dtype="float64")
    model.load_state_dict({"W_sx": np.ones((1, 1)), "W_ss": np.full((1, 1), 1e200), "W_o": np.ones((1, 1))})
    x = Tensor(np.ones((4, 1, 1)))
    with tr.detect_anomaly(), pytest.raises(FloatingPointError, match="ElmanRNN time step 3"):
        model(x)
    g, _ = model(x)  # outside anomaly mode: no check, the infs come out
    assert not np.isfinite(g.numpy()[2:]).any()
