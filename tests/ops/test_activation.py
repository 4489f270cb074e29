"""softmax and log_softmax: values, gradients, and stability on huge logits."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, check_op, op_settings, shapes, smooth

from tinygrad_rnn import Tensor


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
