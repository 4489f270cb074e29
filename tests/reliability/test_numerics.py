"""Numerical stability: the ops whose naive formulas overflow stay finite (values and
gradients) for logits of +-1e4 in float32, and saturated tanh/sigmoid still give
finite (zero) gradients. Checked against float64 references computed stably here."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings

from tinygrad_rnn import Tensor
from tinygrad_rnn.nn import functional as F

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")  # no overflow anywhere, not even hidden

HUGE = np.array([[1e4, -1e4, 0.0], [-1e4, -1e4, -1e4], [1e4, 1e4, -1e4], [0.0, 1.0, -1e4]], dtype=np.float32)


def ref_log_softmax(x: np.ndarray) -> np.ndarray:
    x = x.astype(np.float64)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def ref_sigmoid(x: np.ndarray) -> np.ndarray:
    return 0.5 * (1.0 + np.tanh(x.astype(np.float64) / 2))  # exp(1e4) would overflow even in float64


def leaf(x: np.ndarray, device: str) -> Tensor:
    return Tensor(x.astype(np.float32), requires_grad=True, device=device)


def finite_float32(t: Tensor) -> np.ndarray:
    out = t.numpy()
    assert out.dtype == np.float32, out.dtype
    assert np.isfinite(out).all(), out
    return out


def test_log_softmax_and_softmax_of_huge_logits(device: str) -> None:
    for name in ("log_softmax", "softmax"):
        x = leaf(HUGE, device)
        y = getattr(x, name)(axis=-1)
        expected = ref_log_softmax(HUGE)
        expected = expected if name == "log_softmax" else np.exp(expected)
        np.testing.assert_allclose(finite_float32(y), expected, rtol=1e-6, atol=1e-6)
        (y * Tensor(np.arange(12.0).reshape(4, 3), device=device, dtype="float32")).sum().backward()
        finite_float32(x.grad)


def test_cross_entropy_of_huge_logits(device: str) -> None:
    target = np.array([1, 0, 2, 2])  # mostly the wrong class: losses of 2e4
    x = leaf(HUGE, device)
    loss = F.cross_entropy(x, Tensor(target, device=device), reduction="none")
    expected = -ref_log_softmax(HUGE)[np.arange(4), target]
    np.testing.assert_allclose(finite_float32(loss), expected, rtol=1e-6)
    assert loss.numpy()[0] == pytest.approx(2e4)
    loss.sum().backward()
    probs = np.exp(ref_log_softmax(HUGE))
    np.testing.assert_allclose(finite_float32(x.grad), probs - np.eye(3)[target], atol=1e-6)  # softmax - onehot


def test_sigmoid_and_bce_with_logits_of_huge_logits(device: str) -> None:
    logits = np.array([1e4, -1e4, 0.0, 30.0, -30.0, 1e4, -1e4], dtype=np.float32)
    target = np.array([1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0], dtype=np.float32)
    x = leaf(logits, device)
    y = x.sigmoid()
    # Absolute accuracy: sigmoid is computed as (1 + tanh(x/2)) / 2, so values below float32's
    # spacing near 1 (~6e-8) round to multiples of it, e.g. sigmoid(-30) comes out 0.
    np.testing.assert_allclose(finite_float32(y), ref_sigmoid(logits), rtol=1e-6, atol=1e-7)
    y.sum().backward()
    assert finite_float32(x.grad)[[0, 1]].tolist() == [0.0, 0.0]  # saturated: gradient 0, not NaN

    x = leaf(logits, device)
    loss = F.binary_cross_entropy_with_logits(x, Tensor(target, device=device), reduction="none")
    z = logits.astype(np.float64)
    expected = np.maximum(z, 0) - z * target + np.log1p(np.exp(-np.abs(z)))
    np.testing.assert_allclose(finite_float32(loss), expected, rtol=1e-6)
    assert loss.numpy()[5] == pytest.approx(1e4) and loss.numpy()[0] == 0.0
    loss.sum().backward()
    np.testing.assert_allclose(finite_float32(x.grad), ref_sigmoid(z) - target, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_tanh_and_sigmoid_gradients_at_saturation(device: str, dtype: str) -> None:
    values = np.array([-1e4, -100.0, -30.0, 30.0, 100.0, 1e4])
    for name in ("tanh", "sigmoid"):
        x = Tensor(values, requires_grad=True, device=device, dtype=dtype)
        y = getattr(x, name)()
        y.backward(Tensor.ones(6, device=device, dtype=dtype))
        grad = x.grad.numpy()
        assert np.isfinite(y.numpy()).all() and np.isfinite(grad).all()
        assert (grad >= 0).all() and grad.max() < 1e-12  # vanishingly small, never NaN


def test_lstm_with_saturated_gates_has_finite_gradients(device: str) -> None:
    from tinygrad_rnn import nn

    lstm = nn.LSTM(3, 4, device=device)
    for p in lstm.parameters():
        p.data = p.data * 1e4  # every gate pinned at 0 or 1
    x = Tensor.randn(6, 2, 3, device=device) * 100.0
    x.requires_grad_(True)
    output, (h, c) = lstm(x)
    (output.sum() + c.sum()).backward()
    assert np.isfinite(output.numpy()).all() and np.isfinite(x.grad.numpy()).all()
    for name, p in lstm.named_parameters():
        assert np.isfinite(p.grad.numpy()).all(), name


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(logits=hnp.arrays(np.float32, hnp.array_shapes(min_dims=2, max_dims=2, min_side=1, max_side=5),
                         elements=st.floats(-1e4, 1e4, width=32)),
       data=st.data())
def test_cross_entropy_is_finite_and_right_for_any_logits_up_to_1e4(logits: np.ndarray, data: st.DataObject) -> None:
    target = np.array(data.draw(st.lists(st.integers(0, logits.shape[1] - 1), min_size=logits.shape[0],
                                         max_size=logits.shape[0])))
    x = Tensor(logits, requires_grad=True)
    loss = F.cross_entropy(x, Tensor(target), reduction="sum")
    expected = -ref_log_softmax(logits)[np.arange(len(target)), target].sum()
    assert np.isfinite(loss.item())
    np.testing.assert_allclose(loss.item(), expected, rtol=1e-5, atol=1e-3)
    loss.backward()
    grad = finite_float32(x.grad)
    np.testing.assert_allclose(grad, np.exp(ref_log_softmax(logits)) - np.eye(logits.shape[1])[target], atol=1e-5)
