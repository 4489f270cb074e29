"""sort, argsort, topk, kthvalue (ops/sort.py) and max/min along a dim (ops/reduce.py):
values, indices and gradients against PyTorch; ties resolved to the lower index."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, check_op, grid, op_settings, shapes

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")


def distinct(min_dims=1):
    """Arrays without ties (PyTorch orders ties its own way on some paths; here the lower index wins)."""
    return arrays(shapes(min_dims=min_dims, max_dims=3, min_side=1, max_side=4), grid(), unique=True)


@op_settings
@given(x=distinct(), data=st.data())
def test_topk_sort_argsort_kthvalue(device: str, x, data) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    k = data.draw(st.integers(0, x.shape[dim]))
    largest = data.draw(st.booleans())
    check_op(lambda a: a.topk(k, dim, largest=largest).values, x, device=device,
             torch_op=lambda a: a.topk(k, dim, largest=largest).values)
    ours, theirs = Tensor(x, device=device).topk(k, dim, largest), torch.tensor(x).topk(k, dim, largest)
    np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
    descending = data.draw(st.booleans())
    check_op(lambda a: a.sort(dim, descending=descending)[0], x, device=device,
             torch_op=lambda a: a.sort(dim, descending=descending)[0])
    np.testing.assert_array_equal(Tensor(x, device=device).argsort(dim, descending).numpy(),
                                  torch.tensor(x).argsort(dim, descending).numpy())
    if k:
        keep = data.draw(st.booleans())
        check_op(lambda a: a.kthvalue(k, dim, keep).values, x, device=device,
                 torch_op=lambda a: a.kthvalue(k, dim, keep).values)


@op_settings
@given(x=distinct(min_dims=0), data=st.data())
def test_max_min_along_a_dim_return_values_and_indices(device: str, x, data) -> None:
    dim = data.draw(st.integers(-max(x.ndim, 1), max(x.ndim, 1) - 1))
    keep = data.draw(st.booleans())
    for name in ("max", "min"):
        check_op(lambda a, n=name: getattr(a, n)(dim, keep).values, x, device=device,
                 torch_op=lambda a, n=name: getattr(a, n)(dim, keep).values)
        ours, theirs = getattr(Tensor(x, device=device), name)(dim=dim, keepdim=keep), getattr(torch.tensor(x), name)(
            dim=dim, keepdim=keep)
        assert ours.indices.dtype == tr.int64
        np.testing.assert_array_equal(ours.indices.numpy(), theirs.indices.numpy())
        np.testing.assert_array_equal(getattr(Tensor(x, device=device), "arg" + name)(dim, keep).numpy(),
                                      getattr(torch.tensor(x), "arg" + name)(dim, keep).numpy())


def test_ties_go_to_the_first_index_and_nan_counts_as_largest(device: str) -> None:
    x = Tensor([[2.0, 5.0, 5.0, 1.0], [float("nan"), 0.0, 3.0, 3.0]], device=device)
    values, indices = x.topk(2)
    assert indices.tolist() == [[1, 2], [0, 2]] and np.isnan(values.numpy()[1, 0])
    assert x[0].sort(descending=True).indices.tolist() == [1, 2, 0, 3]
    assert x[0].max(0).indices.item() == 1 and x[0].min(dim=0).indices.item() == 3
    assert x[0].argmax().item() == 1


def test_max_forms_and_errors(device: str) -> None:
    x = Tensor([[1.0, 4.0], [3.0, 2.0]], device=device)
    result = x.max(1)
    assert isinstance(result, tuple) and result._fields == ("values", "indices")
    values, indices = x.max(1)
    assert values.tolist() == [4.0, 3.0] and indices.tolist() == [1, 0]
    assert x.max().item() == 4.0 and x.max(Tensor([[5.0, 0.0]], device=device)).tolist() == [[5.0, 4.0], [5.0, 2.0]]
    assert tr.max(x, dim=0).values.tolist() == [3.0, 4.0] and tr.min(x).item() == 1.0
    assert x.max(dim=(0, 1)).item() == 4.0 and x.min(axis=(1,)).tolist() == [1.0, 2.0]  # a tuple: as amax/amin
    with pytest.raises(TypeError, match=r"max: got dim=0 and axis=1; expected one of them"):
        x.max(0, axis=1)
    with pytest.raises(ValueError, match=r"topk: k=3 for dimension -1 of size 2"):
        x.topk(3)
    with pytest.raises(ValueError, match=r"kthvalue: k=0 for a dimension of size 2"):
        x.kthvalue(0)


def test_topk_gradient_goes_to_the_chosen_places() -> None:
    x = Tensor([[0.1, 0.9, 0.5], [0.7, 0.2, 0.3]], requires_grad=True)
    x.topk(2, dim=1).values.sum().backward()
    assert x.grad.tolist() == [[0.0, 1.0, 1.0], [1.0, 0.0, 1.0]]
