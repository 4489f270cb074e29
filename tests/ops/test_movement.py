"""Movement ops: reshape, transpose / .T, indexing (basic slices and integer arrays,
whose backward is a scatter-add), cat, stack and casts."""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, check_op, joinable_arrays, op_settings, reshape_target, shapes

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor


@st.composite
def reshape_args(draw):
    x = draw(arrays(shapes()))
    return x, draw(reshape_target(x.shape))


@op_settings
@given(args=reshape_args(), splat=st.booleans())
def test_reshape(device: str, args, splat) -> None:
    x, target = args
    op = (lambda a: a.reshape(*target)) if splat else (lambda a: a.reshape(target))
    check_op(op, x, device=device, oracle=lambda a: a.reshape(target))


@st.composite
def transpose_args(draw):
    x = draw(arrays(shapes()))
    return x, tuple(draw(st.permutations(range(x.ndim))))


@op_settings
@given(args=transpose_args(), negative=st.booleans())
def test_transpose(device: str, args, negative) -> None:
    """A tuple of all axes permutes them (NumPy), as do separate axes other than two."""
    x, axes = args
    axes = tuple(a - x.ndim for a in axes) if negative else axes
    check_op(lambda a: a.transpose(axes), x, device=device, oracle=lambda a: a.transpose(axes))
    if len(axes) != 2:
        check_op(lambda a: a.transpose(*axes), x, device=device, oracle=lambda a: a.transpose(axes))


@op_settings
@given(x=arrays(shapes(min_dims=1)), data=st.data())
def test_transpose_of_two_axes_swaps_them(device: str, x, data) -> None:
    """transpose(dim0, dim1) is PyTorch's: the two axes trade places, whatever the tensor's ndim."""
    dim0, dim1 = (data.draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
    check_op(lambda a: a.transpose(dim0, dim1), x, device=device, oracle=lambda a: np.swapaxes(a, dim0, dim1))


@op_settings
@given(x=arrays(shapes()))
def test_T_and_transpose_without_axes_reverse_the_axes(device: str, x) -> None:
    check_op(lambda a: a.T, x, device=device, oracle=lambda a: a.T)
    check_op(lambda a: a.transpose(), x, device=device, oracle=lambda a: a.transpose())


# ------------------------------------------------------------------------ indexing
@st.composite
def basic_index_args(draw):
    x = draw(arrays(shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)))
    return x, draw(hnp.basic_indices(x.shape, allow_newaxis=True, allow_ellipsis=True))


@op_settings
@given(args=basic_index_args())
def test_getitem_basic_slicing(device: str, args) -> None:
    x, index = args
    check_op(lambda a: a[index], x, device=device, oracle=lambda a: a[index])


@st.composite
def integer_array_index_args(draw):
    x = draw(arrays(shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    # Small result shapes with few distinct positions: repeated indices are common.
    index = draw(hnp.integer_array_indices(x.shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)))
    return x, index


@op_settings
@given(args=integer_array_index_args(), as_tensor=st.booleans())
def test_getitem_integer_arrays(device: str, args, as_tensor) -> None:
    x, index = args
    idx = tuple(Tensor(i, device=device) for i in index) if as_tensor else index
    check_op(lambda a: a[idx], x, device=device, oracle=lambda a: a[index])


@st.composite
def mixed_index_args(draw):
    x = draw(arrays(shapes(min_dims=2, max_dims=3, min_side=1, max_side=3)))
    rows = draw(st.lists(st.integers(-x.shape[0], x.shape[0] - 1), min_size=0, max_size=5))
    return x, (rows, slice(None, None, draw(st.sampled_from([1, -1, 2]))))


@op_settings
@given(args=mixed_index_args())
def test_getitem_index_list_with_a_slice(device: str, args) -> None:
    x, index = args
    check_op(lambda a: a[index], x, device=device, oracle=lambda a: a[(np.array(index[0], dtype=np.int64), index[1])])


def test_repeated_indices_accumulate_their_gradients(device: str) -> None:
    x = Tensor([10.0, 20.0, 30.0], requires_grad=True, device=device, dtype="float64")
    x[[0, 2, 0, 0]].sum().backward()
    assert x.grad.tolist() == [3.0, 0.0, 1.0]
    w = Tensor.zeros(4, 2, requires_grad=True, device=device, dtype="float64")  # an embedding table
    w[Tensor([[1, 1], [3, 1]], device=device)].sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), [[0, 0], [3, 3], [0, 0], [1, 1]])


@op_settings
@given(x=arrays(shapes(min_dims=1, max_side=3)), data=st.data())
def test_getitem_boolean_mask(device: str, x, data) -> None:
    mask = data.draw(hnp.arrays(bool, x.shape))
    check_op(lambda a: a[mask], x, device=device, oracle=lambda a: a[mask])


def test_index_out_of_range_names_the_shape(device: str) -> None:
    x = Tensor.zeros(2, 3, device=device)
    with pytest.raises(IndexError, match=r"shape \(2, 3\)"):
        x[5]
    with pytest.raises(IndexError, match="index lists must hold integers"):
        x[[0.5]]


# ------------------------------------------------------------------- cat, stack
@op_settings
@given(args=joinable_arrays())
def test_cat(device: str, args) -> None:
    axis, xs = args
    check_op(lambda *ts: tr.cat(ts, axis=axis), *xs, device=device, oracle=lambda *a: np.concatenate(a, axis))


@op_settings
@given(args=joinable_arrays(stack=True))
def test_stack(device: str, args) -> None:
    axis, xs = args
    check_op(lambda *ts: tr.stack(list(ts), axis), *xs, device=device, oracle=lambda *a: np.stack(a, axis))


def test_cat_and_stack_refuse_mismatched_shapes(device: str) -> None:
    a, b = Tensor.zeros(2, 3, device=device), Tensor.zeros(2, 4, device=device)
    assert tr.cat([a, b], axis=1).shape == (2, 7)
    with pytest.raises(ValueError, match=r"cat: tensor 0 has shape \(2, 3\) but tensor 1 has shape \(2, 4\)"):
        tr.cat([a, b], axis=0)
    with pytest.raises(ValueError, match=r"stack: tensor 0 has shape \(2, 3\) but tensor 1 has shape \(2, 4\)"):
        tr.stack([a, b])
    with pytest.raises(TypeError, match="non-empty list"):
        tr.cat([])


# ------------------------------------------------------------------------ casts
def test_cast_between_float_dtypes_is_differentiable(device: str) -> None:
    x = Tensor([0.5, -1.5], requires_grad=True, device=device, dtype="float64")
    y = x.float()
    assert y.dtype == np.float32
    (y * y).sum().backward()
    assert x.grad.dtype == np.float64 and x.grad.tolist() == [1.0, -3.0]
    with pytest.raises(TypeError, match="non-float dtype"):
        x.astype("int64")
