"""nn.functional.gelu and nn.functional.layer_norm: PyTorch's values and gradients, finite
differences, and the argument checks."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.nn import functional as F
from tinygrad_rnn.nn import transformer_functional

LAYER_NORM_CASES = {  # input shape, normalized_shape, affine
    "one_dim": ((2, 3, 5), 5, True),
    "two_dims": ((2, 3, 4), (3, 4), True),
    "list_no_affine": ((4, 3), [3], False),
    "whole_input": ((3, 2), (3, 2), True),
}


@pytest.mark.parametrize("case", sorted(LAYER_NORM_CASES))
def test_layer_norm_equals_pytorch(case) -> None:
    torch = pytest.importorskip("torch")
    shape, normalized, affine = LAYER_NORM_CASES[case]
    rng = np.random.default_rng(0)
    trailing = (normalized,) if isinstance(normalized, int) else tuple(normalized)
    arrays = [rng.standard_normal(shape) * 3 + 1] + ([rng.standard_normal(trailing) for _ in range(2)] if affine else [])
    ours = [Tensor(a, requires_grad=True) for a in arrays]
    theirs = [torch.tensor(a, requires_grad=True) for a in arrays]
    out = F.layer_norm(ours[0], normalized, *ours[1:], eps=1e-3)
    want = torch.nn.functional.layer_norm(theirs[0], trailing, *theirs[1:], eps=1e-3)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-12, atol=1e-13)
    grad_out = rng.standard_normal(shape)
    got = tr.grad(out, ours, Tensor(grad_out))
    expected = torch.autograd.grad(want, theirs, torch.tensor(grad_out))
    for g, e in zip(got, expected, strict=True):
        np.testing.assert_allclose(g.numpy(), e.numpy(), rtol=1e-10, atol=1e-12)


def test_layer_norm_normalises_each_sample(device: str) -> None:
    x = Tensor(np.random.default_rng(1).standard_normal((3, 2, 4)) * 5 + 2, device=device)
    y = F.layer_norm(x, (2, 4), eps=0.0).numpy()
    np.testing.assert_allclose(y.mean(axis=(1, 2)), 0.0, atol=1e-13)
    np.testing.assert_allclose(y.var(axis=(1, 2)), 1.0, rtol=1e-12)  # biased variance, as PyTorch


@pytest.mark.parametrize("affine", [True, False])
def test_layer_norm_gradcheck_and_gradgradcheck(device: str, affine) -> None:
    rng = np.random.default_rng(2)
    inputs = [Tensor(rng.standard_normal((2, 3)), requires_grad=True, device=device)]
    if affine:
        inputs += [Tensor(rng.standard_normal(3), requires_grad=True, device=device) for _ in range(2)]
    fn = lambda x, *wb: F.layer_norm(x, 3, *wb, eps=0.1)
    assert tr.gradcheck(fn, *inputs)
    assert tr.gradgradcheck(fn, *inputs)


def test_layer_norm_bad_arguments() -> None:
    x = Tensor.ones(2, 3, 4)
    with pytest.raises(ValueError, match=r"expected one ending in normalized_shape \(4, 3\)"):
        F.layer_norm(x, (4, 3))
    with pytest.raises(ValueError, match=r"expected one ending in normalized_shape \(1, 2, 3, 4\)"):
        F.layer_norm(x, (1, 2, 3, 4))
    with pytest.raises(ValueError, match="normalized_shape=0"):
        F.layer_norm(x, 0)
    with pytest.raises(ValueError, match=r"normalized_shape=\(\)"):
        F.layer_norm(x, ())
    with pytest.raises(ValueError, match=r"weight is \(3,\); expected None or a Tensor of shape \(4,\)"):
        F.layer_norm(x, 4, weight=Tensor.ones(3))
    with pytest.raises(ValueError, match="bias is list"):
        F.layer_norm(x, 4, bias=[0.0] * 4)
    with pytest.raises(ValueError, match="eps=-1"):
        F.layer_norm(x, 4, eps=-1)
    with pytest.raises(ValueError, match="eps=nan"):
        F.layer_norm(x, 4, eps=float("nan"))  # as nn.LayerNorm: NaN would make every output NaN
    with pytest.raises(TypeError, match="layer_norm: input is a Tensor of dtype int64"):
        F.layer_norm(Tensor([[1, 2]]), 2)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_equals_pytorch(device: str, approximate) -> None:
    torch = pytest.importorskip("torch")
    x = np.concatenate([np.linspace(-10.0, 10.0, 201), [0.0, -0.0, 1e-300, 30.0, -30.0]])
    ours = Tensor(x, requires_grad=True, device=device)
    theirs = torch.tensor(x, requires_grad=True)
    out = F.gelu(ours, approximate=approximate)
    want = torch.nn.functional.gelu(theirs, approximate=approximate)
    np.testing.assert_allclose(out.numpy(), want.detach().numpy(), rtol=1e-13, atol=1e-15)
    (got,) = tr.grad(out.sum(), [ours])
    (expected,) = torch.autograd.grad(want.sum(), [theirs])
    np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=1e-12, atol=1e-14)
    f32 = F.gelu(Tensor(x, dtype="float32", device=device), approximate=approximate)
    assert f32.dtype == np.float32
    np.testing.assert_allclose(f32.numpy(), want.detach().numpy(), rtol=2e-6, atol=1e-6)


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_gradcheck_and_gradgradcheck(device: str, approximate) -> None:
    x = Tensor(np.linspace(-4.0, 4.0, 11), requires_grad=True, device=device)
    assert tr.gradcheck(lambda a: F.gelu(a, approximate), x)
    assert tr.gradgradcheck(lambda a: F.gelu(a, approximate), x)


def test_gelu_bad_arguments() -> None:
    with pytest.raises(ValueError, match="approximate='exact'"):
        F.gelu(Tensor([1.0]), approximate="exact")
    with pytest.raises(TypeError, match="gelu: input is a Tensor of dtype int64"):
        F.gelu(Tensor([1, 2]))
    with pytest.raises(TypeError, match="gelu: input is a list"):
        F.gelu([1.0])


def test_docstring_examples_run() -> None:
    assert doctest.testmod(transformer_functional).failed == 0
