"""PyTorch as the oracle: forward values and every input gradient of every op of the
Tensor table equal PyTorch's on random float64 inputs.

Skipped as a whole where PyTorch is not installed; finite differences (the other
modules of tests/ops) need nothing but NumPy.
"""

from __future__ import annotations

import hypothesis.extra.numpy as hnp
import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import (
    arrays,
    away_from_zero,
    axis_arg,
    broadcasting_arrays,
    check_op,
    grid,
    joinable_arrays,
    matmul_pair,
    positive,
    shapes,
    smooth,
    torch_settings,
)

import tinygrad_rnn as tr

torch = pytest.importorskip("torch")

pairs = broadcasting_arrays(smooth(), smooth())
scalars = st.floats(-3, 3).filter(lambda c: abs(c) > 0.1)


def same(op, *inputs, device):
    """The op's own lambda works on torch tensors too: compare with it, no finite differences."""
    check_op(op, *inputs, device=device, torch_op=op, finite_differences=False)


def vs_torch(op, torch_op, *inputs, device):
    check_op(op, *inputs, device=device, torch_op=torch_op, finite_differences=False)


def torch_axis(axis, ndim):
    """Our ``axis`` as a torch ``dim`` list (torch reads an empty list as "all axes")."""
    return list(range(ndim)) if axis is None else [axis] if isinstance(axis, int) else list(axis)


def torch_reduce(name, axis, keepdims):
    def reduce(t):
        dims = torch_axis(axis, t.ndim)
        if not dims:
            return t * 1.0
        return getattr(torch, name)(t, dim=dims, keepdim=keepdims)

    return reduce


# --------------------------------------------------------------------- elementwise
@torch_settings
@given(xy=pairs)
def test_add_sub_mul(device: str, xy) -> None:
    same(lambda a, b: (a + b) * (a - b) * a, *xy, device=device)


@torch_settings
@given(xy=broadcasting_arrays(smooth(), away_from_zero(0.5)))
def test_div(device: str, xy) -> None:
    same(lambda a, b: a / b, *xy, device=device)


@torch_settings
@given(xy=broadcasting_arrays(positive(0.5, 2.0), smooth()))
def test_pow(device: str, xy) -> None:
    same(lambda a, b: a**b, *xy, device=device)


@torch_settings
@given(x=arrays(shapes(), away_from_zero(0.5)), c=scalars)
def test_scalar_either_side(device: str, x, c) -> None:
    same(lambda a: (a + c) * (c - a) + (c * a) / c + c / a - a * c - (c + a) / (a - c * 3.5), x, device=device)


@torch_settings
@given(x=arrays(shapes(), positive()), p=st.sampled_from([0, 1, 2, 3, -1.0, 0.5, 2.5]), c=positive(0.3, 3.0))
def test_pow_scalar_either_side(device: str, x, p, c) -> None:
    same(lambda a: a**p + c**a, x, device=device)


@torch_settings
@given(x=arrays(shapes(), smooth(3.0)))
def test_neg_exp_tanh_sigmoid(device: str, x) -> None:
    same(lambda a: (-a).exp() + a.tanh() * a.sigmoid(), x, device=device)


@torch_settings
@given(x=arrays(shapes(), positive()))
def test_log_sqrt(device: str, x) -> None:
    same(lambda a: a.log() * a.sqrt(), x, device=device)


@torch_settings
@given(x=arrays(shapes(), away_from_zero()))
def test_relu_abs(device: str, x) -> None:
    same(lambda a: a.relu() + a.abs() * a, x, device=device)


@torch_settings
@given(x=arrays(shapes(), st.one_of(st.floats(-2.0, -0.6), st.floats(-0.4, 0.9), st.floats(1.1, 2.0))))
def test_clip(device: str, x) -> None:
    vs_torch(lambda a: a.clip(-0.5, 1.0) + a.clip(None, 1.0) * a.clip(-0.5), lambda t: t.clamp(-0.5, 1.0) + t.clamp(None, 1.0) * t.clamp(-0.5), x, device=device)


@st.composite
def where_args(draw):
    drawn = draw(hnp.mutually_broadcastable_shapes(num_shapes=3, min_dims=0, max_dims=3, min_side=0, max_side=3))
    cond_shape, a_shape, b_shape = drawn.input_shapes
    return draw(hnp.arrays(bool, cond_shape)), draw(arrays(a_shape)), draw(arrays(b_shape))


@torch_settings
@given(args=where_args())
def test_where(device: str, args) -> None:
    cond, a, b = args
    vs_torch(lambda x, y: tr.where(cond, x, y), lambda x, y: torch.where(torch.tensor(cond), x, y), a, b, device=device)


# ---------------------------------------------------------------------- reductions
@st.composite
def reduction_args(draw, min_side=0, elements=None, unique=False):
    x = draw(arrays(shapes(min_side=min_side), elements, unique=unique))
    return x, draw(axis_arg(x.ndim)), draw(st.booleans())


@torch_settings
@given(args=reduction_args())
def test_sum(device: str, args) -> None:
    x, axis, keepdims = args
    vs_torch(lambda a: a.sum(axis, keepdims), torch_reduce("sum", axis, keepdims), x, device=device)


@torch_settings
@given(args=reduction_args(min_side=1))
def test_mean(device: str, args) -> None:
    x, axis, keepdims = args
    vs_torch(lambda a: a.mean(axis, keepdims), torch_reduce("mean", axis, keepdims), x, device=device)


@torch_settings
@given(args=reduction_args(min_side=1, elements=grid(), unique=True))
def test_amax(device: str, args) -> None:
    x, axis, keepdims = args
    vs_torch(lambda a: a.amax(axis, keepdims), torch_reduce("amax", axis, keepdims), x, device=device)


# ------------------------------------------------------------------------ movement
@torch_settings
@given(x=arrays(shapes()), data=st.data())
def test_reshape_transpose_T(device: str, x, data) -> None:
    target = data.draw(st.sampled_from([(-1,), (1, x.size), tuple(reversed(x.shape))]))  # x: a NumPy array
    axes = tuple(data.draw(st.permutations(range(x.ndim))))
    reverse = tuple(reversed(range(x.ndim)))
    vs_torch(
        lambda a: a.reshape(target) * 2.0 + a.permute(*axes).reshape(target) + a.T.reshape(target),
        lambda t: t.reshape(target) * 2.0 + t.permute(axes).reshape(target) + t.permute(reverse).reshape(target),
        x, device=device,
    )


def positive_steps(index):
    parts = index if isinstance(index, tuple) else (index,)
    return all(not isinstance(p, slice) or p.step is None or p.step > 0 for p in parts)


@st.composite
def basic_index_args(draw):
    x = draw(arrays(shapes(min_dims=1, max_dims=3, min_side=0, max_side=4)))
    index = draw(hnp.basic_indices(x.shape, allow_newaxis=True).filter(positive_steps))  # torch has no step < 0
    return x, index


@torch_settings
@given(args=basic_index_args())
def test_getitem_basic(device: str, args) -> None:
    x, index = args
    same(lambda a: a[index], x, device=device)


@st.composite
def integer_array_index_args(draw):
    x = draw(arrays(shapes(min_dims=1, max_dims=3, min_side=1, max_side=3)))
    index = draw(hnp.integer_array_indices(x.shape, result_shape=hnp.array_shapes(min_dims=0, max_dims=2, max_side=4)))
    return x, index


@torch_settings
@given(args=integer_array_index_args())
def test_getitem_integer_arrays(device: str, args) -> None:
    x, index = args
    t_index = tuple(torch.tensor(i) for i in index)
    vs_torch(lambda a: a[index], lambda t: t[t_index], x, device=device)


@torch_settings
@given(args=joinable_arrays())
def test_cat(device: str, args) -> None:
    axis, xs = args
    vs_torch(lambda *ts: tr.cat(list(ts), axis), lambda *ts: torch.cat(ts, axis), *xs, device=device)


@torch_settings
@given(args=joinable_arrays(stack=True))
def test_stack(device: str, args) -> None:
    axis, xs = args
    vs_torch(lambda *ts: tr.stack(list(ts), axis), lambda *ts: torch.stack(ts, axis), *xs, device=device)


# ------------------------------------------------------------------ linalg, softmax
@torch_settings
@given(ab=matmul_pair())
def test_matmul(device: str, ab) -> None:
    same(lambda a, b: a @ b, *ab, device=device)


@st.composite
def softmax_args(draw):
    x = draw(arrays(shapes(min_dims=1, max_dims=3, min_side=1, max_side=4), smooth(5.0)))
    return x, draw(st.integers(-x.ndim, x.ndim - 1))


@torch_settings
@given(args=softmax_args())
def test_softmax(device: str, args) -> None:
    x, axis = args
    vs_torch(lambda a: a.softmax(axis), lambda t: torch.softmax(t, axis), x, device=device)


@torch_settings
@given(args=softmax_args())
def test_log_softmax(device: str, args) -> None:
    x, axis = args
    vs_torch(lambda a: a.log_softmax(axis), lambda t: torch.log_softmax(t, axis), x, device=device)


def test_oracle_would_notice_a_difference() -> None:
    """The comparison is not vacuous: a wrong op fails it."""
    with pytest.raises(AssertionError, match="vs PyTorch"):
        vs_torch(lambda a: a.tanh(), lambda t: t.sigmoid(), np.array([0.5, -1.0]), device="cpu")
