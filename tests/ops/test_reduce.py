"""Reductions (sum, mean, amax, amin) over axis None / int / tuple, with and without keepdims,
and their adjoint broadcast_to / unbroadcast."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, axis_arg, check_op, grid, op_settings, shapes

from tinygrad_rnn import Tensor
from tinygrad_rnn.ops import broadcast_to, unbroadcast


@st.composite
def reduction_args(draw, min_side=0, elements=None, unique=False):
    x = draw(arrays(shapes(min_side=min_side), elements, unique=unique))
    return x, draw(axis_arg(x.ndim)), draw(st.booleans())


@op_settings
@given(args=reduction_args())
def test_sum(device: str, args) -> None:
    x, axis, keepdims = args
    check_op(lambda a: a.sum(axis, keepdims), x, device=device, oracle=lambda a: np.sum(a, axis, keepdims=keepdims))


@op_settings
@given(args=reduction_args(min_side=1))
def test_mean(device: str, args) -> None:
    x, axis, keepdims = args
    check_op(
        lambda a: a.mean(axis=axis, keepdims=keepdims), x, device=device,
        oracle=lambda a: np.mean(a, axis, keepdims=keepdims),
    )


@op_settings
@given(args=reduction_args(min_side=1, elements=grid(), unique=True))
def test_amax(device: str, args) -> None:
    x, axis, keepdims = args
    check_op(
        lambda a: a.amax(axis=axis, keepdims=keepdims), x, device=device,
        oracle=lambda a: np.max(a, axis, keepdims=keepdims),
    )


@op_settings
@given(args=reduction_args(min_side=1, elements=grid(), unique=True))
def test_amin(device: str, args) -> None:
    x, axis, keepdims = args
    check_op(lambda a: a.amin(axis, keepdims), x, device=device, oracle=lambda a: np.min(a, axis, keepdims=keepdims))


@st.composite
def broadcast_args(draw):
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=2, max_dims=3, min_side=0, max_side=3))
    return drawn.input_shapes[0], drawn.result_shape


def np_unbroadcast(grad, shape):
    """NumPy reference: sum the new leading axes away, then the axes that were size 1."""
    grad = grad.sum(axis=tuple(range(grad.ndim - len(shape))))
    return grad.sum(axis=tuple(i for i, d in enumerate(shape) if d == 1), keepdims=True)


@op_settings
@given(shapes_=broadcast_args(), data=st.data())
def test_broadcast_to(device: str, shapes_, data) -> None:
    shape, target = shapes_
    check_op(lambda a: broadcast_to(a, target), data.draw(arrays(shape)), device=device,
             oracle=lambda a: np.broadcast_to(a, target))


@op_settings
@given(shapes_=broadcast_args(), data=st.data())
def test_unbroadcast(device: str, shapes_, data) -> None:
    shape, source = shapes_
    check_op(lambda g: unbroadcast(g, shape), data.draw(arrays(source)), device=device,
             oracle=lambda g: np_unbroadcast(g, shape))


# ----------------------------------------------------- examples worth spelling out
def test_amax_splits_the_gradient_between_ties_and_max_dim_gives_it_to_the_first(device: str) -> None:
    """PyTorch's two rules: amax (and max() of everything) shares a tie; max(dim) picks the first."""
    x = Tensor([[1.0, 3.0, 3.0], [2.0, 0.0, 2.0]], requires_grad=True, device=device, dtype="float64")
    x.amax(axis=1).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.5, 0.5], [0.5, 0.0, 0.5]])
    x.grad = None
    x.max(dim=1).values.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    x.grad = None
    x.max().backward()
    np.testing.assert_array_equal(x.grad.numpy(), [[0.0, 0.5, 0.5], [0.0, 0.0, 0.0]])


def test_reductions_of_a_0d_tensor_are_the_identity(device: str) -> None:
    x = Tensor(2.5, requires_grad=True, device=device, dtype="float64")
    for y in (x.sum(), x.mean(), x.max(), x.sum(axis=()), x.sum(keepdims=True)):
        assert y.shape == () and y.item() == 2.5


@pytest.mark.parametrize("reduce", ["sum", "mean", "amax"])
def test_axis_out_of_range_names_the_axis_and_ndim(device: str, reduce) -> None:
    x = Tensor.ones(2, 3, device=device)
    with pytest.raises(ValueError, match=rf"{reduce}: axis 2 is out of range for a tensor with 2 dimensions"):
        getattr(x, reduce)(axis=2)
    with pytest.raises(ValueError, match="repeats an axis"):
        getattr(x, reduce)(axis=(0, -2))


def test_max_and_mean_of_nothing_are_refused(device: str) -> None:
    x = Tensor.zeros(2, 0, device=device)
    with pytest.raises(ValueError, match=r"max: axis 1 of a tensor of shape \(2, 0\) is empty"):
        x.max(axis=1)
    with pytest.raises(ValueError, match="averages 0 elements"):
        x.mean()
    assert x.sum(axis=1).tolist() == [0.0, 0.0]
