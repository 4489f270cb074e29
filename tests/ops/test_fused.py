"""Fused cell ops: the fused forward and backward equal the composite definition."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.ops.fused import GRUPointwise, LSTMPointwise, gru_pointwise, lstm_pointwise

CASES = [(LSTMPointwise, lstm_pointwise, 4), (GRUPointwise, gru_pointwise, 3)]


def _inputs(k: int, B: int, H: int, device: str, seed: int) -> list[Tensor]:
    """LSTM: (xw, hw, c_prev); GRU: (xw, hw, b_hh, h_prev)."""
    rng = np.random.default_rng(seed)
    shapes = [(B, k * H), (B, k * H), (B, H)] if k == 4 else [(B, k * H), (B, k * H), (k * H,), (B, H)]
    return [Tensor(rng.normal(size=s) * 2, requires_grad=True, device=device) for s in shapes]


def _call(fn, k: int, inputs: list[Tensor]) -> Tensor:
    if k == 4:
        return fn(*inputs)
    xw, hw, b, h = inputs
    return fn(xw, hw, h, b)


@pytest.mark.parametrize("op, fn, k", CASES, ids=["lstm", "gru"])
@given(B=st.integers(1, 4), H=st.integers(1, 5), seed=st.integers(0, 2**16))
def test_fused_forward_and_backward_equal_the_composite(op, fn, k, B, H, seed) -> None:
    inputs = _inputs(k, B, H, "cpu", seed)
    fused = _call(fn, k, inputs)
    reference = op().composite(*inputs)
    np.testing.assert_allclose(fused.numpy(), reference.numpy(), rtol=1e-12, atol=1e-14)
    v = Tensor(np.random.default_rng(seed + 1).normal(size=fused.shape))
    fast = tr.grad((fused * v).sum(), inputs)  # plain backward: backward_arrays
    slow = tr.grad((reference * v).sum(), inputs)  # the composite's own tape
    for a, b in zip(fast, slow, strict=True):
        np.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("op, fn, k", CASES, ids=["lstm", "gru"])
def test_fused_ops_pass_gradcheck_and_gradgradcheck(op, fn, k, device: str) -> None:
    inputs = _inputs(k, 3, 2, device, 0)
    f = lambda *xs: _call(fn, k, list(xs))
    assert tr.gradcheck(f, *inputs)
    assert tr.gradgradcheck(f, *inputs)


@pytest.mark.parametrize("op, fn, k", CASES, ids=["lstm", "gru"])
def test_fused_ops_reject_mismatched_shapes(op, fn, k) -> None:
    xw, hw, state = _inputs(k, 2, 3, "cpu", 0)[:2] + _inputs(k, 2, 3, "cpu", 0)[-1:]
    with pytest.raises(ValueError, match=r"expected \(B, \d+H\)"):
        fn(xw, hw, state[:, :2])
