"""nn.LayerNorm: PyTorch as oracle (one and two trailing axes), finite differences, checks."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import normalization as normalization_module


@pytest.mark.parametrize("shape, normalized_shape", [((4, 3, 5), 5), ((4, 3, 5), (5,)), ((2, 3, 4, 5), (4, 5)),
                                                     ((6,), [6])])
@pytest.mark.parametrize("options", [{}, {"elementwise_affine": False}, {"bias": False}, {"eps": 0.1}])
def test_matches_torch_values_and_gradients(shape, normalized_shape, options) -> None:
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    ref = torch.nn.LayerNorm(normalized_shape, dtype=torch.float64, **options)
    with torch.no_grad():
        for p in ref.parameters():
            p.copy_(torch.tensor(rng.normal(size=tuple(p.shape))))
    norm = nn.LayerNorm(normalized_shape, dtype="float64", **options)
    norm.load_state_dict(ref.state_dict())
    x = rng.normal(loc=3.0, scale=2.0, size=shape)
    R = rng.normal(size=shape)
    x_t = torch.tensor(x, requires_grad=True)
    (ref(x_t) * torch.tensor(R)).sum().backward()
    x_o = Tensor(x, requires_grad=True)
    y = norm(x_o)
    (y * Tensor(R)).sum().backward()
    np.testing.assert_allclose(y.numpy(), ref(x_t).detach().numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(x_o.grad.numpy(), x_t.grad.numpy(), rtol=1e-10, atol=1e-12)
    theirs = dict(ref.named_parameters())
    assert [n for n, _ in norm.named_parameters()] == list(theirs)
    for name, p in norm.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), theirs[name].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_statistics_are_per_position_and_biased(device: str) -> None:
    x = np.random.default_rng(1).normal(size=(3, 2, 4, 5))
    y = nn.LayerNorm((4, 5), eps=0.0, dtype="float64", device=device)(Tensor(x, device=device)).numpy()
    mu = x.mean(axis=(-2, -1), keepdims=True)
    var = x.var(axis=(-2, -1), keepdims=True)  # ddof=0: biased, as PyTorch
    np.testing.assert_allclose(y, (x - mu) / np.sqrt(var), rtol=1e-12)


def test_init_and_state_dict() -> None:
    norm = nn.LayerNorm((2, 3))
    assert [(n, p.shape) for n, p in norm.named_parameters()] == [("weight", (2, 3)), ("bias", (2, 3))]
    assert (norm.weight.numpy() == 1).all() and (norm.bias.numpy() == 0).all() and norm.weight.dtype == np.float32
    assert nn.LayerNorm(3, elementwise_affine=False).state_dict() == {}
    assert list(nn.LayerNorm(3, bias=False).state_dict()) == ["weight"]


@pytest.mark.parametrize("normalized_shape", [3, (2, 3)])
def test_gradcheck_and_gradgradcheck(normalized_shape, device: str) -> None:
    rng = np.random.default_rng(2)
    norm = nn.LayerNorm(normalized_shape, dtype="float64", device=device)
    for p in norm.parameters():
        p.data = Tensor(rng.normal(size=p.shape), device=device).data
    x = Tensor(rng.normal(size=(2, 2, 3)), device=device, requires_grad=True)
    assert tr.gradcheck(lambda x, w, b: norm(x), x, norm.weight, norm.bias)
    assert tr.gradgradcheck(lambda x, w, b: norm(x), x, norm.weight, norm.bias)


@pytest.mark.parametrize("args, error, match", [
    ((0,), ValueError, r"normalized_shape=0; expected one or more positive sizes"),
    (((),), ValueError, r"normalized_shape=\(\); expected one or more positive sizes"),
    (("4",), TypeError, r"normalized_shape='4'; expected an int or a tuple of ints"),
    ((4, -1.0), ValueError, r"eps=-1.0; expected a number >= 0"),
])
def test_bad_arguments_are_refused(args, error, match) -> None:
    with pytest.raises(error, match=match):
        nn.LayerNorm(*args)


def test_wrong_input_shape_names_both() -> None:
    with pytest.raises(ValueError, match=r"normalized_shape=\(2, 3\)\): input has shape \(3, 2\); expected its last "
                                         r"2 axes to be \(2, 3\)"):
        nn.LayerNorm((2, 3))(Tensor.zeros(3, 2))
    with pytest.raises(ValueError, match=r"input has shape \(3,\)"):
        nn.LayerNorm((2, 3))(Tensor.zeros(3))
    with pytest.raises(TypeError, match="input is a list; expected a Tensor"):
        nn.LayerNorm(2)([1.0, 2.0])


def test_docstring_example_runs() -> None:
    assert doctest.testmod(normalization_module).failed == 0
