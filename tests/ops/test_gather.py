"""gather, index_select, take_along_dim, scatter, scatter_add, index_add and the IndexPut
op (ops/gather.py): values and gradients against PyTorch, finite differences, and errors."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, check_op, op_settings, shapes

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")


@st.composite
def gather_args(draw):
    """(x, dim, index): index with x's ndim, no larger on the other dims, values in range."""
    x = draw(arrays(shapes(min_dims=1, max_dims=3, min_side=1)))
    dim = draw(st.integers(-x.ndim, x.ndim - 1))
    shape = tuple(draw(st.integers(0, x.shape[d] + 2 if d == dim % x.ndim else x.shape[d])) for d in range(x.ndim))
    index = np.asarray(draw(st.lists(st.integers(0, x.shape[dim] - 1), min_size=int(np.prod(shape)),
                                     max_size=int(np.prod(shape))))).reshape(shape).astype(np.int64)
    return x, dim, index


@op_settings
@given(args=gather_args())
def test_gather_and_its_scatter_add_adjoint(device: str, args) -> None:
    x, dim, index = args
    ours, theirs = Tensor(index, device=device), torch.tensor(index)
    check_op(lambda a: a.gather(dim, ours), x, device=device, torch_op=lambda a: a.gather(dim, theirs))
    check_op(lambda a: tr.gather(a, dim, ours), x, device=device, torch_op=lambda a: torch.gather(a, dim, theirs),
             finite_differences=False)
    src = np.linspace(-1.0, 1.0, max(index.size, 1))[: index.size].reshape(index.shape)
    check_op(lambda a, s: a.scatter_add(dim, ours, s), x, src, device=device,
             torch_op=lambda a, s: a.scatter_add(dim, theirs, s))


@op_settings
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=1)), data=st.data())
def test_index_select_and_index_add(device: str, x, data) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    picks = data.draw(st.lists(st.integers(0, x.shape[dim] - 1), max_size=4))
    ours, theirs = Tensor(picks, dtype="int64", device=device), torch.tensor(picks, dtype=torch.int64)
    check_op(lambda a: a.index_select(dim, ours), x, device=device, torch_op=lambda a: a.index_select(dim, theirs))
    source_shape = list(x.shape)
    source_shape[dim] = len(picks)
    source = np.cos(np.arange(int(np.prod(source_shape)), dtype=float)).reshape(source_shape)
    check_op(lambda a, s: a.index_add(dim, ours, s, alpha=0.5), x, source, device=device,
             torch_op=lambda a, s: a.index_add(dim, theirs, s, alpha=0.5))


def test_take_along_dim_broadcasts_the_index(device: str) -> None:
    x = np.arange(12.0).reshape(3, 4)
    idx = np.array([[3], [0], [2]])
    check_op(lambda a: a.take_along_dim(Tensor(idx, device=device), 1), x, device=device,
             torch_op=lambda a: torch.take_along_dim(a, torch.tensor(idx), 1))
    check_op(lambda a: a.take_along_dim(Tensor([[1, 2, 0, 1]], device=device), 0), x, device=device,
             torch_op=lambda a: torch.take_along_dim(a, torch.tensor([[1, 2, 0, 1]]), 0))


def test_scatter_writes_and_its_gradient_skips_the_written_places(device: str) -> None:
    index = np.array([[0, 2], [1, 0]])
    ours, theirs = Tensor(index, device=device), torch.tensor(index)
    x, src = np.arange(6.0).reshape(2, 3) + 1.0, np.array([[10.0, 20.0], [30.0, 40.0]])
    check_op(lambda a, s: a.scatter(1, ours, s), x, src, device=device,
             torch_op=lambda a, s: a.scatter(1, theirs, s))
    check_op(lambda a: a.scatter(1, ours, value=-1.0), x, device=device,
             torch_op=lambda a: a.scatter(1, theirs, -1.0))


@pytest.mark.parametrize(("call", "error", "message"), [
    (lambda x: x.gather(1, Tensor([[0.0]])), TypeError, r"gather: index has dtype float32; expected an integer"),
    (lambda x: x.gather(1, [[0]]), TypeError, r"gather: index is a list; expected an integer Tensor"),
    (lambda x: x.gather(1, Tensor([0])), ValueError, r"gather: index has 1 dimensions and the tensor 2"),
    (lambda x: x.gather(1, Tensor([[0], [1], [2]])), ValueError, r"larger than the tensor's \(2, 3\) on dimension 0"),
    (lambda x: x.gather(1, Tensor([[5]])), IndexError, r"gather: an index is out of range for dimension 1 of size 3"),
    (lambda x: x.index_select(0, Tensor([[0]])), ValueError, r"index_select: index has shape \(1, 1\)"),
    (lambda x: x.scatter_add(0, Tensor([[0, 1]]), Tensor([[1.0]])), ValueError, r"src of shape \(1, 1\) is smaller"),
])
def test_bad_indices_are_named(call, error, message) -> None:
    with pytest.raises(error, match=message):
        call(Tensor.zeros(2, 3))


def test_gather_gradient_accumulates_repeated_picks() -> None:
    x = Tensor([[1.0, 2.0], [3.0, 4.0]], requires_grad=True)
    x.gather(1, Tensor([[0, 0, 1], [1, 1, 1]])).sum().backward()
    assert x.grad.tolist() == [[2.0, 1.0], [0.0, 3.0]]
