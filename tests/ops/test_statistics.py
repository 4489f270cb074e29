"""var, std, logsumexp, norm, all, any, count_nonzero (ops/statistics.py) and the
dim=/keepdim= spelling of every reduction, against PyTorch."""

from __future__ import annotations

import hypothesis.strategies as st
import numpy as np
import pytest
from hypothesis import given
from op_oracle import arrays, away_from_zero, check_op, op_settings, shapes

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")


def dims(data, ndim):
    """None, one dim or a tuple of distinct dims."""
    if ndim == 0:
        return None
    return data.draw(st.one_of(st.none(), st.integers(-ndim, ndim - 1),
                               st.lists(st.integers(0, ndim - 1), min_size=1, max_size=ndim, unique=True).map(tuple)))


@op_settings
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=2)), data=st.data())
def test_var_std_match_pytorch(device: str, x, data) -> None:
    dim, keep = dims(data, x.ndim), data.draw(st.booleans())
    correction = data.draw(st.sampled_from([0, 1]))
    check_op(lambda a: a.var(dim, keepdim=keep, correction=correction), x, device=device,
             torch_op=lambda a: a.var(dim, keepdim=keep, correction=correction), rtol=1e-9, atol=1e-10)
    unbiased = bool(correction)
    check_op(lambda a: a.std(dim, unbiased, keep) + 1.0, x + np.arange(x.size).reshape(x.shape) * 0.1,
             device=device, torch_op=lambda a: a.std(dim, unbiased, keep) + 1.0, rtol=1e-9, atol=1e-10,
             finite_differences=False)


@op_settings
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=1)), data=st.data())
def test_logsumexp_and_dim_spelling_of_reductions(device: str, x, data) -> None:
    dim, keep = dims(data, x.ndim), data.draw(st.booleans())
    if dim is not None:
        check_op(lambda a: a.logsumexp(dim, keep), x, device=device, torch_op=lambda a: a.logsumexp(dim, keep))
    every = tuple(range(x.ndim)) if dim is None else dim  # PyTorch spells "all dims" as all of them here
    for name in ("sum", "mean", "amax", "amin"):
        check_op(lambda a, n=name: getattr(a, n)(dim=dim, keepdim=keep), x, device=device,
                 torch_op=lambda a, n=name: getattr(a, n)(dim=every, keepdim=keep), finite_differences=False)
    check_op(lambda a: tr.sum(a, dim, keep), x, device=device, torch_op=lambda a: torch.sum(a, every, keep),
             finite_differences=False)


@op_settings
@given(x=arrays(shapes(min_dims=1, max_dims=3, min_side=1), away_from_zero()), data=st.data())
def test_norm_matches_pytorch(device: str, x, data) -> None:
    dim, keep = dims(data, x.ndim), data.draw(st.booleans())
    p = data.draw(st.sampled_from([2, "fro", 1, 3, float("inf")]))
    if p == "fro" and dim is not None and not (isinstance(dim, tuple) and len(dim) == 2):
        p = 2  # torch takes "fro" only over two dims or all
    if p == float("inf") and x.size > 1 and np.diff(np.sort(np.abs(x), axis=None)).min() < 1e-4:
        p = 1  # a tie (or a near tie, closer than the finite-difference step) of |x| is a kink there
    check_op(lambda a: a.norm(p, dim, keep), x, device=device, torch_op=lambda a: a.norm(p, dim, keep),
             rtol=1e-9, atol=1e-10, second_order=p != float("inf"))


def test_norm_gradient_at_zero_is_zero_as_in_pytorch() -> None:
    x = Tensor([[0.0, 0.0], [3.0, 4.0]], requires_grad=True, dtype="float64")
    x.norm(dim=1).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), [[0.0, 0.0], [0.6, 0.8]])


@pytest.mark.filterwarnings("ignore:divide by zero encountered in log")  # log(0) = -inf: the right answer
def test_logsumexp_of_huge_and_of_minus_infinite_inputs(device: str) -> None:
    x = Tensor([[1e4, 1e4], [-np.inf, -np.inf], [0.0, -np.inf]], device=device, dtype="float64")
    got = x.logsumexp(1).numpy()
    np.testing.assert_allclose(got, [1e4 + np.log(2.0), -np.inf, 0.0])


def test_var_of_one_element_is_nan_as_in_pytorch() -> None:
    assert np.isnan(Tensor([2.0]).var().item()) and Tensor([2.0]).var(correction=0).item() == 0.0
    with pytest.raises(TypeError, match="var: got unbiased=True and correction=1; expected one of them"):
        Tensor([1.0, 2.0]).var(unbiased=True, correction=1)


def test_all_any_count_nonzero(device: str) -> None:
    x = Tensor([[0.0, 1.0, np.nan], [2.0, 3.0, 4.0]], device=device)
    assert x.all().item() is False and x.any().item() is True
    assert x.all(dim=1).tolist() == [False, True] and x.any(0, keepdim=True).tolist() == [[True, True, True]]
    assert x.count_nonzero().item() == 5 and x.count_nonzero(1).tolist() == [2, 3]
    assert (x > 0).all(1).dtype == tr.bool and tr.all(x[1]).item()
