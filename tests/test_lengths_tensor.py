"""Lengths given as an integer Tensor: the same values as a list, with no Python branch on them.

A list of lengths lets a layer skip the steps where every sequence has ended; a Tensor is
never read in Python after its range check, so every batch of one padded shape runs the
same Python, and ``tr.jit`` records it once. These tests pin both halves: Tensor lengths
give what list lengths give (to float64 rounding: a longer hoisted matmul may sum in
another order), and a jitted step with Tensor lengths is recorded once, replays bit for
bit, and still refuses lengths out of range.
"""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn.nn import functional as F

T, B, N_IN, H, C = 7, 3, 4, 5, 3
LENGTHS = [7, 2, 5]


def _layer(kind: str):
    tr.manual_seed(3)
    if kind == "elman":
        return tr.nn.ElmanRNN(N_IN, H, C, dtype="float64")
    if kind == "gated":
        return tr.nn.GatedRNN(N_IN, H, C, dtype="float64")
    cls = {"rnn": tr.nn.RNN, "lstm": tr.nn.LSTM, "gru": tr.nn.GRU}[kind]
    return cls(N_IN, H, num_layers=2, bidirectional=kind != "rnn", batch_first=kind == "gru", dtype="float64")


def _forward_backward(kind: str, lengths, x: np.ndarray):
    layer = _layer(kind)
    xt = tr.Tensor(x, requires_grad=True)
    out, state = layer(xt, lengths=lengths)
    states = state if isinstance(state, tuple) else (state,)
    loss = (out * out).sum() + sum((s * s * 0.5).sum() for s in states)
    loss.backward()
    grads = [p.grad.numpy() for p in layer.parameters()] + [xt.grad.numpy()]
    return [out.numpy(), *(s.numpy() for s in states)], grads


@pytest.mark.parametrize("kind", ["rnn", "lstm", "gru", "elman", "gated"])
@pytest.mark.parametrize("dtype", ["int64", "int32", "uint8"])
def test_tensor_lengths_give_what_list_lengths_give(kind, dtype):
    x = np.random.default_rng(0).standard_normal((B, T, N_IN) if kind == "gru" else (T, B, N_IN))
    want_values, want_grads = _forward_backward(kind, LENGTHS, x)
    got_values, got_grads = _forward_backward(kind, tr.Tensor(np.array(LENGTHS, dtype=dtype)), x)
    for got, want in zip(got_values + got_grads, want_values + want_grads, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-14)


def test_tensor_lengths_pick_last_steps():
    out = tr.Tensor(np.arange(T * B * 2, dtype="float64").reshape(T, B, 2))
    want = tr.nn.utils.last_step(out, LENGTHS).numpy()
    np.testing.assert_array_equal(tr.nn.utils.last_step(out, tr.Tensor(np.array(LENGTHS, "int32"))).numpy(), want)


def test_tensor_lengths_in_attention_and_the_encoder():
    tr.manual_seed(0)
    x = tr.Tensor(np.random.default_rng(1).standard_normal((T, B, 8)))
    mha = tr.nn.MultiheadAttention(8, 2, dtype="float64")
    enc = tr.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0, dtype="float64")
    lengths = tr.Tensor(np.array(LENGTHS))
    for a, b in zip(mha(x, x, x, lengths=LENGTHS), mha(x, x, x, lengths=lengths), strict=True):
        np.testing.assert_allclose(b.numpy(), a.numpy(), rtol=1e-12, atol=1e-15)
    np.testing.assert_allclose(enc(x, lengths=lengths).numpy(), enc(x, lengths=LENGTHS).numpy(), rtol=1e-12, atol=1e-15)
    mask = F.lengths_to_padding_mask(tr.Tensor(np.array([0, 3], "int16")), max_len=4).tolist()
    assert mask == [[True] * 4, [False, False, False, True]]


@pytest.mark.parametrize("lengths, error, says", [
    (np.array([7.0, 2.0, 5.0]), TypeError, "lengths is a float64 Tensor; expected an integer Tensor of 3 lengths"),
    (np.array([[7, 2, 5]]), ValueError, "lengths is a Tensor of shape (1, 3) for a batch of 3 sequences"),
    (np.array([7, 2]), ValueError, "expected shape (3,), one length per sequence"),
    (np.array([7, 0, 5]), ValueError, "lengths (a Tensor) include 0; expected every length in 1..T = 1..7"),
    (np.array([7, 8, 5], "uint8"), ValueError, "lengths (a Tensor) include 8; expected every length in 1..T = 1..7"),
    (np.array([7, -128, 5], "int8"), ValueError, "include -128"),
])
def test_bad_tensor_lengths_are_named(lengths, error, says):
    with pytest.raises(error) as info:
        tr.nn.LSTM(N_IN, H)(tr.Tensor.randn(T, B, N_IN), lengths=tr.Tensor(lengths))
    assert says in str(info.value)


def _setup(kind: str):
    tr.manual_seed(5)
    layer = tr.nn.GRU(N_IN, H, bidirectional=True) if kind == "gru" else tr.nn.ElmanRNN(N_IN, H, C)
    head = tr.nn.Linear(2 * H, C) if kind == "gru" else None
    params = list(layer.parameters()) + (list(head.parameters()) if head else [])
    opt = tr.optim.Adam(params, lr=0.01)

    def step(x, y, lengths):
        opt.zero_grad()
        out, _ = layer(x, lengths=lengths)
        loss = F.cross_entropy(out if head is None else head(out), y, ignore_index=-100)
        loss.backward()
        opt.step()
        return loss
    return params, step


def _batch(seed: int):
    rng = np.random.default_rng(seed)
    lengths = rng.integers(1, T + 1, size=B)
    y = rng.integers(0, C, size=(T, B))
    y[np.arange(T)[:, None] >= lengths[None, :]] = -100  # padded targets
    return rng.standard_normal((T, B, N_IN)).astype("float32"), y, lengths


@pytest.mark.parametrize("kind", ["gru", "elman"])
def test_jit_records_once_for_every_lengths_of_one_shape(kind):
    eager, jitted = _setup(kind), _setup(kind)
    fn = tr.jit(jitted[1])
    for i in range(6):
        x, y, lengths = _batch(i)
        want = eager[1](tr.Tensor(x), tr.Tensor(y), tr.Tensor(lengths))
        got = fn(tr.Tensor(x), tr.Tensor(y), tr.Tensor(lengths))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    for p, q in zip(eager[0], jitted[0], strict=True):
        np.testing.assert_array_equal(p.numpy(), q.numpy())
    assert (fn.records, fn.replays) == (1, 5)


def test_jit_checks_tensor_lengths_at_every_replay():
    _, step = _setup("elman")
    fn = tr.jit(step)
    x, y, lengths = _batch(0)
    fn(tr.Tensor(x), tr.Tensor(y), tr.Tensor(lengths))
    fn(tr.Tensor(x), tr.Tensor(y), tr.Tensor(np.full(B, T)))  # other values, in range: a replay
    assert (fn.records, fn.replays) == (1, 1)
    with pytest.raises(ValueError, match="include 8; expected every length in 1..T = 1..7"):
        fn(tr.Tensor(x), tr.Tensor(y), tr.Tensor(np.array([1, 8, 3])))
    with pytest.raises(ValueError, match="include 0"):
        fn(tr.Tensor(x), tr.Tensor(y), tr.Tensor(np.array([1, 0, 3])))


def test_jit_cache_size_is_an_argument():
    _, step = _setup("elman")
    fn = tr.jit(step, max_cache=2)
    for t in (3, 4, 5, 3):
        x, y, lengths = _batch(0)
        fn(tr.Tensor(x[:t]), tr.Tensor(np.clip(y[:t], 0, None)), tr.Tensor(np.minimum(lengths, t)))
    assert len(fn.cache) == 2 and fn.records == 4  # T=3 was dropped when T=5 came in
    for bad in (0, -1, 2.5, True):
        with pytest.raises(ValueError, match="max_cache"):
            tr.jit(step, max_cache=bad)


@pytest.mark.parametrize("layer", ["attention", "encoder", "mask"])
def test_jit_records_attention_with_tensor_lengths_once(layer):
    """Every range check of Tensor lengths, lengths_to_padding_mask's too, is the replayed one
    (a check imported by name would escape the patch and read the values: refused)."""
    tr.manual_seed(0)
    mha = tr.nn.MultiheadAttention(8, 2)
    enc = tr.nn.TransformerEncoder(tr.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, dropout=0.0), 2)

    def step(x, lengths):
        if layer == "mask":
            return x.sum(axis=2).transpose(1, 0) * F.lengths_to_padding_mask(lengths, max_len=T).float()
        return mha(x, x, x, lengths=lengths)[0] if layer == "attention" else enc(x, lengths=lengths, is_causal=True)

    fn = tr.jit(step)
    for seed in range(3):
        rng = np.random.default_rng(seed)
        x, lengths = tr.Tensor(rng.standard_normal((T, B, 8)).astype("float32")), tr.Tensor(rng.integers(1, T + 1, B))
        np.testing.assert_array_equal(fn(x, lengths).numpy(), step(x, lengths).numpy())
    assert (fn.records, fn.replays) == (1, 2)


@pytest.mark.parametrize("x_device, lengths_device", [("strict", "cpu"), ("cpu", "strict")])
def test_jit_replays_lengths_from_another_device(x_device, lengths_device):
    """Lengths on the CPU with x elsewhere (PyTorch's habit) are moved by the layers; the
    move is a replayed call, so the step records once (a .to() would read them to the host,
    which recording refuses)."""
    def setup():
        tr.manual_seed(0)
        gru = tr.nn.GRU(N_IN, H, bidirectional=True, device=x_device)
        mha = tr.nn.MultiheadAttention(2 * H, 2, device=x_device)
        opt = tr.optim.Adam([*gru.parameters(), *mha.parameters()], lr=0.01)

        def step(x, lengths):
            opt.zero_grad()
            out, _ = gru(x, lengths=lengths)
            out = mha(out, out, out, lengths=lengths)[0]
            loss = (tr.nn.utils.last_step(out, lengths) ** 2).sum()
            loss.backward()
            opt.step()
            return loss
        return gru, step
    (eager, step), (jitted, fn) = setup(), setup()
    fn = tr.jit(fn)
    for seed in range(3):
        x, _, lengths = _batch(seed)
        want = step(tr.Tensor(x, device=x_device), tr.Tensor(lengths, device=lengths_device))
        got = fn(tr.Tensor(x, device=x_device), tr.Tensor(lengths, device=lengths_device))
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    for p, q in zip(eager.parameters(), jitted.parameters(), strict=True):
        np.testing.assert_array_equal(q.numpy(), p.numpy())
    assert (fn.records, fn.replays) == (1, 2)
