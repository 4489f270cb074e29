"""RNN, LSTM, GRU: gradchecks, PyTorch as oracle, ragged lengths, dropout, checks, truncated BPTT."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

MODES = ["rnn_tanh", "rnn_relu", "lstm", "gru"]
LAYERS = {"rnn_tanh": (nn.RNN, {}), "rnn_relu": (nn.RNN, {"nonlinearity": "relu"}),
          "lstm": (nn.LSTM, {}), "gru": (nn.GRU, {})}
TORCH_NAMES = {"rnn_tanh": "RNN", "rnn_relu": "RNN", "lstm": "LSTM", "gru": "GRU"}


def make(mode: str, input_size: int, hidden_size: int, **kwargs) -> nn.Module:
    cls, extra = LAYERS[mode]
    return cls(input_size, hidden_size, **extra, **kwargs)


def states(out) -> tuple:
    """(output, h_n) or (output, (h_n, c_n)) -> (output, h_n[, c_n])."""
    output, final = out
    return (output, *final) if isinstance(final, tuple) else (output, final)


def weighted_sum(tensors, weights) -> Tensor:
    """sum_k <tensor_k, weight_k>: a scalar loss that reaches every entry of every output."""
    total = None
    for t, w in zip(tensors, weights, strict=True):
        term = (t * Tensor(w, device=t.device)).sum()
        total = term if total is None else total + term
    return total


# ----------------------------------------------------------------------- gradcheck
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("T", [1, 3])
def test_layer_gradcheck(mode: str, T: int, device: str) -> None:
    layer = make(mode, 2, 2, num_layers=2, bidirectional=True, dtype="float64", device=device)
    rng = np.random.default_rng(0)
    x = Tensor(rng.standard_normal((T, 2, 2)), device=device, requires_grad=True)
    n_states = 2 if mode == "lstm" else 1
    hx = [Tensor(rng.standard_normal((4, 2, 2)), device=device, requires_grad=True) for _ in range(n_states)]
    hx_arg = tuple(hx) if mode == "lstm" else hx[0]
    assert tr.gradcheck(lambda x, *args: states(layer(x, hx_arg)), x, *hx, *layer.parameters())
    if T > 1:  # ragged lengths: the masked steps must pass exactly the right (zero) gradients
        one_layer = make(mode, 2, 2, bidirectional=True, dtype="float64", device=device)
        assert tr.gradcheck(lambda x, *args: states(one_layer(x, lengths=[1, T])), x, *one_layer.parameters())


def test_layer_gradgradcheck() -> None:
    """create_graph=True works through the unrolled loop (second derivatives)."""
    lstm = nn.LSTM(2, 2, dtype="float64")
    x = Tensor(np.random.default_rng(1).standard_normal((2, 1, 2)), requires_grad=True)
    assert tr.gradgradcheck(lambda x, *ps: states(lstm(x)), x, *lstm.parameters())


# ------------------------------------------------------------------ the plain loop
def plain_loop(mode: str, params: dict, x: np.ndarray) -> np.ndarray:
    """The per-step loop of the docstrings, in NumPy, one layer, one direction, h_0 = 0."""
    W_ih, W_hh, b_ih, b_hh = (params[k] for k in ("weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0"))
    H = W_hh.shape[1]
    h = c = np.zeros((x.shape[1], H))
    sigmoid = lambda z: 1 / (1 + np.exp(-z))
    output = []
    for x_t in x:
        if mode.startswith("rnn"):
            z = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
            h = np.tanh(z) if mode == "rnn_tanh" else np.maximum(z, 0)
        elif mode == "lstm":
            gates = x_t @ W_ih.T + b_ih + h @ W_hh.T + b_hh
            i, f, g, o = sigmoid(gates[:, :H]), sigmoid(gates[:, H:2 * H]), np.tanh(gates[:, 2 * H:3 * H]), \
                sigmoid(gates[:, 3 * H:])
            c = f * c + i * g
            h = o * np.tanh(c)
        else:
            xw, hw = x_t @ W_ih.T + b_ih, h @ W_hh.T + b_hh
            r, z = sigmoid(xw[:, :H] + hw[:, :H]), sigmoid(xw[:, H:2 * H] + hw[:, H:2 * H])
            n = np.tanh(xw[:, 2 * H:] + r * hw[:, 2 * H:])
            h = (1 - z) * n + z * h
        output.append(h)
    return np.stack(output)


@pytest.mark.parametrize("mode", MODES)
def test_layer_is_the_documented_loop(mode: str) -> None:
    layer = make(mode, 3, 4, dtype="float64")
    x = np.random.default_rng(2).standard_normal((5, 2, 3))
    output, *_ = states(layer(Tensor(x)))
    np.testing.assert_allclose(output.numpy(), plain_loop(mode, layer.state_dict(), x), rtol=1e-12, atol=1e-14)


# ------------------------------------------------------------------------ PyTorch
def run_both(torch, mode: str, num_layers: int, bidirectional: bool, batch_first: bool, B: int,
             lengths: list[int] | None, with_hx: bool, T: int = 4, input_size: int = 3, hidden_size: int = 2):
    """Run ours and PyTorch's layer (same weights) on the same data; return both results."""
    kwargs = dict(num_layers=num_layers, bidirectional=bidirectional, batch_first=batch_first)
    ours = make(mode, input_size, hidden_size, dtype="float64", **kwargs)
    theirs = getattr(torch.nn, TORCH_NAMES[mode])(input_size, hidden_size, **LAYERS[mode][1], **kwargs,
                                                  dtype=torch.float64)
    theirs.load_state_dict({name: torch.from_numpy(v) for name, v in ours.state_dict().items()})
    rng = np.random.default_rng(B * 100 + T)
    x_np = rng.standard_normal((B, T, input_size) if batch_first else (T, B, input_size))
    D, n_states = 2 if bidirectional else 1, (2 if mode == "lstm" else 1)
    hx_np = [rng.standard_normal((num_layers * D, B, hidden_size)) for _ in range(n_states)] if with_hx else []

    x = Tensor(x_np, requires_grad=True)
    hx = [Tensor(h, requires_grad=True) for h in hx_np]
    out = states(ours(x, (tuple(hx) if mode == "lstm" else hx[0]) if hx else None, lengths=lengths))

    x_t = torch.tensor(x_np, requires_grad=True)
    hx_t = [torch.tensor(h, requires_grad=True) for h in hx_np]
    packed = x_t
    if lengths is not None:
        packed = torch.nn.utils.rnn.pack_padded_sequence(x_t, lengths, batch_first=batch_first, enforce_sorted=False)
    out_t = states(theirs(packed, (tuple(hx_t) if mode == "lstm" else hx_t[0]) if hx_t else None))
    if lengths is not None:
        padded, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t[0], batch_first=batch_first, total_length=T)
        out_t = (padded, *out_t[1:])

    weights = [rng.standard_normal(o.shape) for o in out]
    weighted_sum(out, weights).backward()
    sum((o * torch.tensor(w)).sum() for o, w in zip(out_t, weights, strict=True)).backward()
    return (ours, out, x, hx), (theirs, out_t, x_t, hx_t)


def assert_same(ours_run, theirs_run) -> None:
    (ours, out, x, hx), (theirs, out_t, x_t, hx_t) = ours_run, theirs_run
    for o, o_t in zip(out, out_t, strict=True):
        np.testing.assert_allclose(o.numpy(), o_t.detach().numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    for h, h_t in zip(hx, hx_t, strict=True):
        np.testing.assert_allclose(h.grad.numpy(), h_t.grad.numpy(), rtol=1e-9, atol=1e-12)
    their_params = dict(theirs.named_parameters())
    assert [name for name, _ in ours.named_parameters()] == list(their_params)
    for name, p in ours.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), their_params[name].grad.numpy(), rtol=1e-9, atol=1e-12,
                                   err_msg=name)


# mode x (layers, bidirectional) x batch_first x batch x ragged x initial state, all combinations
GRID = list(itertools.product(MODES, [(1, False), (1, True), (2, False), (2, True)], [False, True], [1, 3],
                              [False, True], [False, True]))


@pytest.mark.parametrize(("mode", "stack", "batch_first", "B", "ragged", "with_hx"), GRID)
def test_matches_pytorch(mode: str, stack: tuple, batch_first: bool, B: int, ragged: bool, with_hx: bool) -> None:
    torch = pytest.importorskip("torch")
    lengths = ([3] if B == 1 else [2, 4, 1]) if ragged else None  # unsorted; B == 1: shorter than T
    num_layers, bidirectional = stack
    assert_same(*run_both(torch, mode, num_layers, bidirectional, batch_first, B, lengths, with_hx,
                          input_size=3, hidden_size=2))


@pytest.mark.parametrize("mode", MODES)
def test_matches_pytorch_when_every_sequence_is_shorter_than_T(mode: str) -> None:
    torch = pytest.importorskip("torch")
    ours_run, theirs_run = run_both(torch, mode, 2, True, False, 3, [3, 1, 2], True, T=5)
    assert_same(ours_run, theirs_run)
    assert np.all(ours_run[1][0].numpy()[3:] == 0)


def test_bias_false_and_lengths_as_tensors_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    ours = nn.GRU(3, 2, bias=False, bidirectional=True, dtype="float64")
    theirs = torch.nn.GRU(3, 2, bias=False, bidirectional=True, dtype=torch.float64)
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(5).standard_normal((4, 3, 3))
    packed = torch.nn.utils.rnn.pack_padded_sequence(torch.tensor(x), [4, 2, 3], enforce_sorted=False)
    out_t, h_t = theirs(packed)
    out_t, _ = torch.nn.utils.rnn.pad_packed_sequence(out_t)
    for lengths in ([4, 2, 3], Tensor([4, 2, 3]), np.array([4, 2, 3]), torch.tensor([4, 2, 3])):
        out, h_n = ours(Tensor(x), lengths=lengths)
        np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(h_n.numpy(), h_t.detach().numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("mode", MODES)
def test_state_dict_round_trip_ours_torch_ours(mode: str) -> None:
    torch = pytest.importorskip("torch")
    ours = make(mode, 3, 4, num_layers=2, bidirectional=True)
    theirs = getattr(torch.nn, TORCH_NAMES[mode])(3, 4, **LAYERS[mode][1], num_layers=2, bidirectional=True)
    theirs.load_state_dict({k: torch.from_numpy(v) for k, v in ours.state_dict().items()})
    x = np.random.default_rng(6).standard_normal((5, 2, 3)).astype(np.float32)
    out, *_ = states(ours(Tensor(x)))
    out_t, *_ = states(theirs(torch.tensor(x)))
    np.testing.assert_allclose(out.numpy(), out_t.detach().numpy(), rtol=1e-5, atol=1e-6)
    again = make(mode, 3, 4, num_layers=2, bidirectional=True)
    again.load_state_dict(theirs.state_dict())  # torch tensors load as they are
    for name, value in ours.state_dict().items():
        np.testing.assert_array_equal(again.state_dict()[name], value)


# ------------------------------------------------------ ragged batch == one by one
@given(mode=st.sampled_from(MODES), bidirectional=st.booleans(), num_layers=st.integers(1, 2),
       lengths=st.lists(st.integers(1, 4), min_size=1, max_size=3), extra=st.integers(0, 1),
       seed=st.integers(0, 2**16))
def test_padded_batch_with_lengths_equals_each_sequence_alone(mode, bidirectional, num_layers, lengths, extra,
                                                              seed) -> None:
    tr.manual_seed(seed)
    layer = make(mode, 2, 3, num_layers=num_layers, bidirectional=bidirectional, dtype="float64")
    rng = np.random.default_rng(seed)
    T, B = max(lengths) + extra, len(lengths)
    x = rng.standard_normal((T, B, 2))
    out = states(layer(Tensor(x), lengths=lengths))
    weights = [rng.standard_normal(o.shape) for o in out]  # for output (T, B, D*H), h_n (L*D, B, H)[, c_n]
    weighted_sum(out, weights).backward()
    batch_grads = {name: p.grad.numpy() for name, p in layer.named_parameters()}
    layer.zero_grad()
    loss = None
    for b, n in enumerate(lengths):
        out_b = states(layer(Tensor(x[:n, b : b + 1])))
        np.testing.assert_allclose(out[0].numpy()[:n, b], out_b[0].numpy()[:, 0], rtol=1e-10, atol=1e-12)
        assert np.all(out[0].numpy()[n:, b] == 0)
        for final, final_b in zip(out[1:], out_b[1:], strict=True):
            np.testing.assert_allclose(final.numpy()[:, b], final_b.numpy()[:, 0], rtol=1e-10, atol=1e-12)
        term = weighted_sum(out_b, [weights[0][:n, b : b + 1], *(w[:, b : b + 1] for w in weights[1:])])
        loss = term if loss is None else loss + term
    loss.backward()
    for name, p in layer.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), batch_grads[name], rtol=1e-9, atol=1e-11, err_msg=name)


# --------------------------------------------------------------------- behaviour
def test_dropout_only_between_layers_and_only_in_training() -> None:
    rnn = nn.GRU(3, 8, num_layers=2, dropout=0.5)
    x = Tensor.randn(4, 2, 3)
    train_1, train_2 = rnn(x)[0].numpy(), rnn(x)[0].numpy()
    assert not np.allclose(train_1, train_2)  # a fresh mask every call
    rnn.eval()
    eval_1, eval_2 = rnn(x)[0].numpy(), rnn(x)[0].numpy()
    np.testing.assert_array_equal(eval_1, eval_2)
    plain = nn.GRU(3, 8, num_layers=2)
    plain.load_state_dict(rnn.state_dict())
    np.testing.assert_allclose(plain(x)[0].numpy(), eval_1, rtol=1e-6)
    single = nn.GRU(3, 8, dropout=0.5)  # one layer: nothing in between to drop
    np.testing.assert_array_equal(single(x)[0].numpy(), single.eval()(x)[0].numpy())


def test_no_state_is_kept_between_calls_and_shapes() -> None:
    lstm = nn.LSTM(3, 4, num_layers=2, bidirectional=True, batch_first=True)
    x = Tensor.randn(2, 5, 3)
    out, (h_n, c_n) = lstm(x)
    assert out.shape == (2, 5, 8) and h_n.shape == c_n.shape == (4, 2, 4)
    np.testing.assert_array_equal(lstm(x)[0].numpy(), out.numpy())
    time_major = nn.LSTM(3, 4, num_layers=2, bidirectional=True)
    time_major.load_state_dict(lstm.state_dict())
    np.testing.assert_allclose(time_major(x.transpose(1, 0, 2))[0].numpy(), out.numpy().transpose(1, 0, 2), rtol=1e-6)
    single, (h_1, _) = lstm(x[0])  # unbatched (T, I), as in PyTorch
    assert single.shape == (5, 8) and h_1.shape == (4, 4)
    np.testing.assert_allclose(single.numpy(), out.numpy()[0], rtol=1e-5, atol=1e-6)


def test_truncated_bptt_detached_state_stops_the_gradient() -> None:
    lstm = nn.LSTM(2, 3, dtype="float64")
    rng = np.random.default_rng(8)
    x1, x2 = (Tensor(rng.standard_normal((4, 2, 2)), requires_grad=True) for _ in range(2))
    _, (h, c) = lstm(x1)
    out2, _ = lstm(x2, (h, c))
    out2.sum().backward()
    assert x1.grad is not None and np.abs(x1.grad.numpy()).max() > 0  # attached: it flows back
    x1.grad = x2.grad = None
    lstm.zero_grad()
    _, (h, c) = lstm(x1)
    out2, _ = lstm(x2, (h.detach(), c.detach()))
    out2.sum().backward()
    assert x1.grad is None  # detached: nothing reaches the earlier chunk
    chunk_grads = {name: p.grad.numpy() for name, p in lstm.named_parameters()}
    lstm.zero_grad()
    lstm(Tensor(x2.numpy()), (Tensor(h.numpy()), Tensor(c.numpy())))[0].sum().backward()
    for name, p in lstm.named_parameters():  # the same as the second chunk alone from constants
        np.testing.assert_allclose(chunk_grads[name], p.grad.numpy(), rtol=1e-12, err_msg=name)


def test_anomaly_mode_names_the_layer_and_time_step() -> None:
    lstm = nn.LSTM(2, 3, bidirectional=True, dtype="float64")
    lstm.weight_hh_l0_reverse.data = np.ones((12, 3))
    h0 = np.zeros((2, 1, 3))
    h0[1] = 1e308  # h0 @ W_hh^T overflows in the reverse direction's first step: the last time step
    with tr.detect_anomaly(), np.errstate(over="ignore"), \
            pytest.raises(FloatingPointError, match="LSTM layer 0 reverse, time step 3"):
        lstm(Tensor.randn(4, 1, 2, dtype="float64"), (Tensor(h0), Tensor(np.zeros((2, 1, 3)))))
    with pytest.raises(FloatingPointError, match="RNN layer 1, input projection"), tr.detect_anomaly():
        rnn = nn.RNN(2, 3, num_layers=2, dtype="float64")
        rnn.weight_ih_l1.data = rnn.weight_ih_l1.data * np.inf
        rnn(Tensor.randn(4, 1, 2, dtype="float64"))


# ------------------------------------------------------------------------ errors
def test_input_errors_name_the_layer_and_both_shapes() -> None:
    gru = nn.GRU(3, 4, num_layers=2, bidirectional=True)
    with pytest.raises(ValueError, match=r"GRU: input x has shape \(5, 2, 4\); expected \(T, B, 3\)"):
        gru(Tensor.randn(5, 2, 4))
    with pytest.raises(ValueError, match=r"GRU: input x has shape \(3,\); expected \(T, B, 3\)"):
        gru(Tensor.randn(3))
    with pytest.raises(ValueError, match=r"RNN: input x has shape \(1, 5, 2, 3\); expected \(B, T, 3\)"):
        nn.RNN(3, 4, batch_first=True)(Tensor.randn(1, 5, 2, 3))
    with pytest.raises(ValueError, match=r"GRU: hx has shape \(2, 2, 4\); expected \(4, 2, 4\)"):
        gru(Tensor.randn(5, 2, 3), Tensor.randn(2, 2, 4))
    lstm = nn.LSTM(3, 4)
    with pytest.raises(ValueError, match=r"LSTM: hx is a Tensor; expected a pair \(h0, c0\)"):
        lstm(Tensor.randn(5, 2, 3), Tensor.randn(1, 2, 4))
    with pytest.raises(ValueError, match=r"LSTM: c0 has shape \(1, 3, 4\); expected \(1, 2, 4\)"):
        lstm(Tensor.randn(5, 2, 3), (Tensor.randn(1, 2, 4), Tensor.randn(1, 3, 4)))
    with pytest.raises(ValueError, match=r"LSTM: input x has 0 time steps"):
        lstm(Tensor.randn(0, 2, 3))


def test_lengths_errors() -> None:
    rnn = nn.RNN(3, 4)
    x = Tensor.randn(5, 3, 3)
    with pytest.raises(ValueError, match=r"RNN: got 2 lengths for a batch of 3 sequences; expected 3"):
        rnn(x, lengths=[5, 2])
    for bad in ([5, 0, 2], [5, -1, 2], [5, 6, 2]):
        with pytest.raises(ValueError, match=r"RNN: lengths .* include .*; expected every length in 1\.\.T = 1\.\.5"):
            rnn(x, lengths=bad)
    with pytest.raises(TypeError, match=r"RNN: lengths holds 2\.5 \(float\); expected ints"):
        rnn(x, lengths=[5, 2.5, 1])


def test_constructor_errors() -> None:
    with pytest.raises(ValueError, match=r"RNN: nonlinearity='sigmoid'; expected 'tanh' or 'relu'"):
        nn.RNN(3, 4, nonlinearity="sigmoid")
    with pytest.raises(ValueError, match=r"LSTM: dropout=1\.5; expected a probability in \[0, 1\)"):
        nn.LSTM(3, 4, dropout=1.5)
    with pytest.raises(ValueError, match=r"GRU: num_layers=0; expected a positive int"):
        nn.GRU(3, 4, num_layers=0)


def test_docstring_examples_run() -> None:
    import doctest

    from tinygrad_rnn.nn import cells, elman, recurrent

    for module in (cells, recurrent, elman):
        assert doctest.testmod(module).failed == 0, module.__name__
