"""softmax and log_softmax: values, gradients, and stability on huge logits; gelu against PyTorch."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, check_op, op_settings, shapes, smooth

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.ops import gelu


def np_log_softmax(x, axis):
    shifted = x - x.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


@st.composite
def softmax_args(draw):
    x = draw(arrays(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), smooth(5.0)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@op_settings
@given(args=softmax_args())
def test_softmax(device: str, args) -> None:
    x, axis = args
    check_op(lambda a: a.softmax(axis), x, device=device, oracle=lambda a: np.exp(np_log_softmax(a, axis)))


@op_settings
@given(args=softmax_args())
def test_log_softmax(device: str, args) -> None:
    x, axis = args
    check_op(lambda a: a.log_softmax(axis=axis), x, device=device, oracle=lambda a: np_log_softmax(a, axis))


def test_softmax_default_axis_is_the_last(device: str) -> None:
    x = Tensor([[0.0, np.log(3.0)], [0.0, 0.0]], device=device, dtype="float64")
    np.testing.assert_allclose(x.softmax().numpy(), [[0.25, 0.75], [0.5, 0.5]])
    np.testing.assert_allclose(x.log_softmax().numpy(), np.log([[0.25, 0.75], [0.5, 0.5]]))


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
def test_softmax_needs_one_int_axis_of_a_non_0d_tensor(device: str, name) -> None:
    with pytest.raises(ValueError, match=f"{name}: needs a tensor with at least 1 dimension"):
        getattr(Tensor(1.0, device=device), name)()
    with pytest.raises(ValueError, match=f"{name}: axis must be a single int"):
        getattr(Tensor.ones(2, 2, device=device), name)(axis=(0, 1))


# ------------------------------------------------------------------------------ gelu
@op_settings
@pytest.mark.parametrize("approximate", ["none", "tanh"])
@given(x=arrays(shapes(max_dims=2), smooth(4.0)))
def test_gelu(device: str, approximate, x) -> None:
    torch = pytest.importorskip("torch")
    check_op(lambda a: gelu(a, approximate), x, device=device,
             torch_op=lambda t: torch.nn.functional.gelu(t, approximate=approximate))


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_third_derivative_by_finite_differences(approximate) -> None:
    """gelu's backward is an op whose own backward uses Tensor ops: any order is differentiable."""
    x = Tensor(np.linspace(-3.0, 3.0, 9), requires_grad=True)
    (slope,) = tr.grad(gelu(x, approximate).sum(), [x], create_graph=True)
    assert tr.gradgradcheck(lambda a: tr.grad(gelu(a, approximate).sum(), [a], create_graph=True)[0], x)
    assert slope.requires_grad


def test_gelu_far_tails(device: str) -> None:
    x = Tensor([-40.0, -1e200, 40.0, 1e200, 0.0], device=device, dtype="float64")
    np.testing.assert_array_equal(gelu(x).numpy(), [-0.0, -0.0, 40.0, 1e200, 0.0])
    # 1 + erf(x / sqrt 2) cancels far left: accurate in absolute terms only (as PyTorch's), documented
    exact = -8.0 * 6.220960574271819e-16  # x * erfc(-x / sqrt 2) / 2
    assert abs(gelu(Tensor([-8.0], dtype="float64")).item() - exact) < 1e-15


def test_gelu_refuses_an_unknown_approximation() -> None:
    with pytest.raises(ValueError, match="approximate='fast'; expected 'none' or 'tanh'"):
        gelu(Tensor([1.0]), "fast")
