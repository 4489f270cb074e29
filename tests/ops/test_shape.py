"""PyTorch's shape methods (ops/shape.py): values and gradients against PyTorch, finite
differences in float64, and the errors for shapes that do not fit."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, check_op, op_settings, shapes

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor


def same_as_torch(op, *inputs, device, torch_op=None):
    """``op`` on our tensors against ``torch_op`` (default: ``op`` itself) on PyTorch's, plus
    finite differences; without PyTorch, NumPy's oracle is skipped and only the
    differences and shapes are checked."""
    try:
        import torch  # noqa: F401
    except ImportError:
        check_op(op, *inputs, device=device, oracle=lambda *a: op(*[Tensor(x) for x in a]).numpy())
        return
    check_op(op, *inputs, device=device, torch_op=torch_op or op)


@op_settings
@given(x=arrays(shapes(max_dims=3)), data=st.data())
def test_unsqueeze_squeeze_flatten(device: str, x, data) -> None:
    d = data.draw(st.integers(-x.ndim - 1, x.ndim))
    same_as_torch(lambda a: a.unsqueeze(d) * 2.0, x, device=device)
    same_as_torch(lambda a: a.squeeze(), x, device=device)
    if x.ndim:
        s = data.draw(st.integers(-x.ndim, x.ndim - 1))
        same_as_torch(lambda a: a.squeeze(s), x, device=device)  # a dim of size > 1 stays
        start = data.draw(st.integers(0, x.ndim - 1))
        end = data.draw(st.integers(start, x.ndim - 1))
        same_as_torch(lambda a: a.flatten(start, end), x, device=device)
    same_as_torch(lambda a: a.flatten(), x, device=device)


@op_settings
@given(x=arrays(shapes(min_dims=2, max_dims=4, min_side=1)), data=st.data())
def test_permute_swap_movedim_and_t(device: str, x, data) -> None:
    perm = tuple(data.draw(st.permutations(range(x.ndim))))
    same_as_torch(lambda a: a.permute(*perm), x, device=device)
    same_as_torch(lambda a: a.permute(perm), x, device=device)
    d0, d1 = (data.draw(st.integers(-x.ndim, x.ndim - 1)) for _ in range(2))
    same_as_torch(lambda a: a.transpose(d0, d1), x, device=device)
    same_as_torch(lambda a: a.swapaxes(d0, d1), x, device=device)
    same_as_torch(lambda a: a.movedim(d0, d1), x, device=device)
    same_as_torch(lambda a: a.mT, x, device=device)
    if x.ndim == 2:
        same_as_torch(lambda a: a.t(), x, device=device)


@op_settings
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=1)), data=st.data())
def test_narrow_expand_repeat(device: str, x, data) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    size = x.shape[dim]
    start = data.draw(st.integers(0, size))
    length = data.draw(st.integers(0, size - start))
    same_as_torch(lambda a: a.narrow(dim, start, length), x, device=device)
    # expand: size-1 axes grow, -1 keeps, a new leading axis is added
    ones = x[(slice(None),) * (x.ndim - 1) + (slice(0, 1),)]
    sizes = (2, *ones.shape[:-1], 3)
    same_as_torch(lambda a: a.expand(*sizes), ones, device=device)
    same_as_torch(lambda a: a.expand(2, *([-1] * a.ndim)), x, device=device)
    reps = tuple(data.draw(st.integers(0, 2)) for _ in range(x.ndim + data.draw(st.integers(0, 1))))
    same_as_torch(lambda a: a.repeat(*reps), x, device=device)


@op_settings
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=1)), data=st.data())
def test_view_flavours_are_reshapes(device: str, x, data) -> None:
    same_as_torch(lambda a: a.view(-1), x, device=device)
    same_as_torch(lambda a: a.view(*reversed(a.shape)), x, device=device)
    split = data.draw(st.sampled_from([d for d in range(1, x.shape[0] + 1) if x.shape[0] % d == 0]))
    same_as_torch(lambda a: a.unflatten(0, (split, -1)), x, device=device)
    same_as_torch(lambda a: a.contiguous() * 1.0, x, device=device)


def test_size_dim_numel_are_pytorchs(device: str) -> None:
    x = Tensor.zeros(2, 3, 4, device=device)
    assert x.size() == (2, 3, 4) and x.size(1) == 3 and x.size(-1) == 4
    assert (x.dim(), x.numel(), x.nelement(), x.ndimension()) == (3, 24, 24, 3)
    with pytest.raises(IndexError, match=r"size\(3\): a tensor of shape \(2, 3, 4\) has 3 dimensions"):
        x.size(3)


def test_transpose_keyword_and_permutation_forms(device: str) -> None:
    x = Tensor(np.arange(24.0).reshape(2, 3, 4), device=device)
    assert x.transpose(dim0=0, dim1=2).shape == (4, 3, 2)
    assert x.transpose(2, 0, 1).shape == (4, 2, 3)  # all axes: NumPy's permutation
    assert x.transpose((1, 0, 2)).shape == (3, 2, 4)
    assert x.transpose(1, 1) is x and x.T.shape == (4, 3, 2)


@pytest.mark.parametrize(("call", "message"), [
    (lambda x: x.expand(3), r"expand\(3,\): fewer sizes than the 2 dimensions"),
    (lambda x: x.expand(3, 5), r"expand\(3, 5\): a tensor of shape \(2, 3\) cannot grow to \(3, 5\)"),
    (lambda x: x.expand(-1, -1, 3), r"-1 only keeps an existing dimension"),
    (lambda x: x.repeat(2), r"repeat\(2,\): expected at least 2 non-negative counts"),
    (lambda x: x.narrow(1, 2, 2), r"narrow: start 2 and length 2 on dimension 1 of size 3"),
    (lambda x: x.flatten(1, 0), r"flatten: start_dim 1 comes after end_dim 0"),
    (lambda x: x.view(tr.float64), r"view\(tr.float64\): reinterpreting the bytes as another dtype is not supported"),
    (lambda x: x.t().t().unsqueeze(3), r"unsqueeze: axis 3 is out of range"),
    (lambda x: x.reshape(1, 2, 3).t(), r"t\(\): a tensor of shape \(1, 2, 3\) has 3 dimensions"),
    (lambda x: x.permute(0), r"transpose: axes \(0,\) are not a permutation"),
    (lambda x: x.movedim((0, 1), 0), r"movedim: source \(0, 1\) and destination 0"),
], ids=lambda v: v if isinstance(v, str) else "")
def test_bad_shapes_are_named(call, message) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        call(Tensor.zeros(2, 3))


def test_expand_writes_nothing_and_its_gradient_sums_the_copies() -> None:
    x = Tensor([[1.0], [2.0]], requires_grad=True)
    y = x.expand(2, 3)
    (y * Tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert x.grad.tolist() == [[6.0], [15.0]]
