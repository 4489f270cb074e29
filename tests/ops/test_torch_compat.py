"""The rest of PyTorch's Tensor vocabulary (ops/torch_compat.py, ops/select.py's maximum,
minimum and masked_fill): against PyTorch, and the errors that name missing idioms."""

from __future__ import annotations

import math

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, broadcasting_arrays, check_op, grid, op_settings, positive, shapes, smooth

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")


@op_settings
@given(xy=broadcasting_arrays(grid(), grid()))
def test_maximum_minimum_split_ties_as_pytorch(device: str, xy) -> None:
    """Values on a grid, so ties happen: PyTorch gives each side half the gradient there."""
    check_op(lambda a, b: a.maximum(b) * 2.0 + a.minimum(b), *xy, device=device,
             torch_op=lambda a, b: torch.maximum(a, b) * 2.0 + torch.minimum(a, b), finite_differences=False)
    check_op(lambda a, b: tr.max(a, b) - tr.min(a, b), *xy, device=device,
             torch_op=lambda a, b: torch.max(a, b) - torch.min(a, b), finite_differences=False)


@op_settings
@given(xy=broadcasting_arrays(smooth(), positive()))
def test_method_forms_of_the_operators(device: str, xy) -> None:
    x, y = xy
    check_op(lambda a, b: a.add(b, alpha=2.0).sub(b, alpha=0.5).mul(b).div(b).pow(2.0).neg(), x, y, device=device,
             torch_op=lambda a, b: a.add(b, alpha=2.0).sub(b, alpha=0.5).mul(b).div(b).pow(2.0).neg())
    check_op(lambda b: b.rsqrt() + b.reciprocal() + b.square() + b.log1p() + b.expm1() + b.clamp(0.5, 1.5), y,
             device=device, torch_op=lambda b: b.rsqrt() + b.reciprocal() + b.square() + b.log1p() + b.expm1()
             + b.clamp(0.5, 1.5), rtol=1e-9, finite_differences=False)


@op_settings
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=1)), data=st.data())
def test_split_chunk_unbind_flip_roll(device: str, x, data) -> None:
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    size = data.draw(st.integers(1, x.shape[dim] + 1))
    chunks = data.draw(st.integers(1, 4))
    shift = data.draw(st.integers(-5, 5))
    for op in (lambda a, lib=None: (lib or tr).cat(a.split(size, dim), dim) * 2.0,
               lambda a, lib=None: (lib or tr).stack([p.sum() for p in a.chunk(chunks, dim)]),
               lambda a, lib=None: (lib or tr).stack(a.unbind(dim)) * 3.0,
               lambda a, lib=None: a.flip(dim) * a,
               lambda a, lib=None: a.roll(shift, dim) * a + a.roll(shift) * 2.0,
               lambda a, lib=None: a.repeat_interleave(2, dim) + 1.0):
        check_op(op, x, device=device, torch_op=lambda a, op=op: op(a, torch), finite_differences=False)
    pieces = Tensor(x, device=device).chunk(chunks, dim)
    assert [p.shape for p in pieces] == [tuple(p.shape) for p in torch.tensor(x).chunk(chunks, dim)]


@op_settings
@given(x=arrays(shapes(min_dims=2, max_dims=3, min_side=1)), diagonal=st.integers(-2, 2), data=st.data())
def test_tril_triu_cumsum(device: str, x, diagonal, data) -> None:
    check_op(lambda a: a.tril(diagonal) * 2.0 + a.triu(diagonal), x, device=device,
             torch_op=lambda a: a.tril(diagonal) * 2.0 + a.triu(diagonal))
    dim = data.draw(st.integers(-x.ndim, x.ndim - 1))
    check_op(lambda a: a.cumsum(dim), x, device=device, torch_op=lambda a: a.cumsum(dim), rtol=1e-9, atol=1e-12)


def test_masked_fill_and_its_value_gradient(device: str) -> None:
    mask = np.array([[True, False, True]])
    check_op(lambda a, v: a.masked_fill(Tensor(mask, device=device), v), np.arange(6.0).reshape(2, 3), np.array(2.5),
             device=device, torch_op=lambda a, v: a.masked_fill(torch.tensor(mask), v))
    with pytest.raises(TypeError, match=r"masked_fill: mask has dtype int64; expected a bool Tensor"):
        Tensor.zeros(2).masked_fill(Tensor([1, 0]), 1.0)
    with pytest.raises(ValueError, match=r"masked_fill: value has shape \(2,\); expected a number or a 0-d tensor"):
        Tensor.zeros(2).masked_fill(Tensor([True, False]), Tensor([1.0, 2.0]))


def test_integer_and_boolean_operators(device: str) -> None:
    i = Tensor([7, -7, 4], device=device)
    assert (i // 2).tolist() == [3, -4, 2] and (i % 3).tolist() == [1, 2, 1] and (10 // i).tolist() == [1, -2, 2]
    a, b = Tensor([True, False, True], device=device), Tensor([True, True, False], device=device)
    assert (a & b).tolist() == [True, False, False] and (a | b).tolist() == [True, True, True]
    assert (a ^ b).tolist() == [False, True, True] and (~a).tolist() == [False, True, False]
    assert a.logical_and(b).tolist() == (a & b).tolist() and a.logical_not().tolist() == [False, True, False]
    with pytest.raises(TypeError, match=r"~: not defined for tensors of dtype float32"):
        ~Tensor([1.0], device=device)


def test_python_numbers_and_formatting() -> None:
    loss = Tensor(0.123456, dtype="float64")
    assert f"{loss:.3f}" == "0.123" and float(loss) == 0.123456 and int(Tensor(3.9)) == 3
    assert [10, 20, 30][Tensor(1)] == 20 and f"{Tensor([1.0, 2.0])}".startswith("tensor(")
    with pytest.raises(TypeError, match="used as an index; expected an integer tensor"):
        [1, 2][Tensor(1.0)]


def test_matrix_product_spellings(device: str) -> None:
    a, b = np.arange(6.0).reshape(2, 3), np.arange(12.0).reshape(3, 4)
    check_op(lambda x, y: x.mm(y), a, b, device=device, torch_op=lambda x, y: x.mm(y))
    check_op(lambda x, y: x.bmm(y), a[None], b[None], device=device, torch_op=lambda x, y: x.bmm(y))
    check_op(lambda x, y: x.mv(y), a, b[:, 0], device=device, torch_op=lambda x, y: x.mv(y))
    check_op(lambda x, y: x.dot(y) + tr.outer(x, y).sum(), b[0], b[1], device=device,
             torch_op=lambda x, y: x.dot(y) + torch.outer(x, y).sum())
    with pytest.raises(ValueError, match=r"mm: shapes \(3,\) and \(3, 4\); expected two 2-D tensors"):
        Tensor(b[:, 0]).mm(Tensor(b))


def test_attributes_scripts_read(device: str) -> None:
    w = Tensor([[1.0, 2.0]], requires_grad=True, device=device)
    y = (w * 2.0).sum()
    assert w.grad_fn is None and y.grad_fn is not None and not y.is_leaf and not w.is_cuda
    assert w.get_device() == -1 and w.is_floating_point() and not Tensor([1]).is_floating_point()
    assert w.element_size() == 4 and w.nbytes == 8 and w.itemsize == 4 and w.pin_memory() is w
    assert Tensor(np.zeros((2, 3))).stride() == (3, 1) and Tensor(np.zeros((2, 3))).t().stride(0) == 1
    y.retain_grad()
    assert y.retains_grad
    h = w * 3.0
    h.detach_()
    assert h.is_leaf and not h.requires_grad
    assert w.isnan().tolist() == [[False, False]] and Tensor([math.inf, 1.0]).isinf().tolist() == [True, False]
    assert Tensor([math.nan, 1.0]).isfinite().tolist() == [False, True]
    assert w.allclose(w + 1e-9) and w.equal(w * 1.0) and not w.equal(w[0])


@pytest.mark.parametrize(("name", "message"), [
    ("unfold", r"Tensor.unfold \(a PyTorch idiom\) is not supported: slice the windows"),
    ("nonzero", r"Tensor.nonzero .* index with the mask itself"),
    ("bfloat16", r"NumPy and CuPy have no bfloat16"),
    ("data_ptr", r"raw addresses are not exposed"),
    ("index_put_", r"write with t\[index\] = v"),
    ("sin", r"no backend primitive"),
    ("transpos", r"Tensor has no attribute 'transpos'"),
])
def test_missing_idioms_name_the_alternative(name, message) -> None:
    with pytest.raises(AttributeError, match=message):
        getattr(Tensor([1.0]), name)
    assert not hasattr(Tensor([1.0]), "__array__")  # NumPy's probes still see a plain AttributeError


def test_cuda_without_a_gpu_says_how_to_get_one() -> None:
    if tr.cuda.is_available():
        pytest.skip("a GPU is present")
    with pytest.raises(RuntimeError, match=r"device='cuda' needs (CuPy|an NVIDIA GPU)"):
        Tensor([1.0]).cuda()
