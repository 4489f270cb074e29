"""nn.Linear: shapes, PyTorch's initialisation, any leading shape, gradients, PyTorch oracle."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import linear as linear_module


def test_parameter_shapes_names_and_dtype(device: str) -> None:
    layer = nn.Linear(4, 3, device=device)
    assert [(n, p.shape) for n, p in layer.named_parameters()] == [("weight", (3, 4)), ("bias", (3,))]
    assert layer.weight.dtype == np.float32 and layer.weight.device == device
    assert nn.Linear(4, 3, dtype="float64").bias.dtype == np.float64
    assert [n for n, _ in nn.Linear(4, 3, bias=False).named_parameters()] == ["weight"]


def test_init_is_uniform_within_one_over_sqrt_in_features() -> None:
    layer = nn.Linear(25, 400)
    bound = 1 / math.sqrt(25)
    w, b = layer.weight.numpy(), layer.bias.numpy()
    assert np.abs(w).max() <= bound and np.abs(b).max() <= bound
    assert np.abs(w).max() > 0.95 * bound  # fills the interval
    assert abs(w.mean()) < 0.01 and abs(w.std() - bound / math.sqrt(3)) < 0.01


def test_init_is_reproducible_and_the_same_on_every_device(device: str) -> None:
    tr.manual_seed(3)
    a = nn.Linear(3, 2).state_dict()
    tr.manual_seed(3)
    b = nn.Linear(3, 2, device=device).state_dict()
    for name in a:
        np.testing.assert_array_equal(a[name], b[name])


@pytest.mark.parametrize("lead", [(), (5,), (4, 3), (2, 3, 2)])
def test_forward_on_any_leading_shape_is_x_w_transpose_plus_b(device: str, lead: tuple[int, ...]) -> None:
    layer = nn.Linear(3, 2, device=device, dtype="float64")
    x = np.random.default_rng(0).normal(size=lead + (3,))
    y = layer(Tensor(x, device=device))
    assert y.shape == lead + (2,) and y.device == device
    expected = x @ layer.weight.numpy().T + layer.bias.numpy()
    np.testing.assert_allclose(y.numpy(), expected, rtol=1e-12)


def test_forward_without_bias(device: str) -> None:
    layer = nn.Linear(3, 2, bias=False, device=device)
    x = Tensor.randn(4, 3, device=device)
    np.testing.assert_allclose(layer(x).numpy(), x.numpy() @ layer.weight.numpy().T, rtol=1e-6)


def test_wrong_input_size_names_both_sizes() -> None:
    with pytest.raises(ValueError, match=r"shape \(2, 5\).*size 3"):
        nn.Linear(3, 2)(Tensor.zeros(2, 5))
    with pytest.raises(TypeError, match="expected a Tensor"):
        nn.Linear(3, 2)([1.0, 2.0, 3.0])


@pytest.mark.parametrize("args", [(0, 2), (3, -1), (2.5, 2), (True, 2)])
def test_bad_sizes_are_refused(args: tuple) -> None:
    with pytest.raises(ValueError, match="expected a positive int"):
        nn.Linear(*args)


def test_gradcheck_input_weight_and_bias(device: str) -> None:
    layer = nn.Linear(3, 2, device=device, dtype="float64")
    x = Tensor.randn(2, 4, 3, device=device, dtype="float64", requires_grad=True)
    assert tr.gradcheck(lambda x, w, b: layer(x).tanh(), x, layer.weight, layer.bias)


def test_weight_gradient_sums_over_every_leading_position() -> None:
    # y_t = W x_t + b at every t: dL/dW = sum_t grad_t x_t^T (a weight shared across steps).
    layer = nn.Linear(3, 2, dtype="float64")
    x = np.random.default_rng(1).normal(size=(5, 3))
    layer(Tensor(x)).sum().backward()
    np.testing.assert_allclose(layer.weight.grad.numpy(), np.ones((2, 5)) @ x, rtol=1e-12)
    np.testing.assert_allclose(layer.bias.grad.numpy(), [5.0, 5.0])


def test_matches_torch_after_loading_its_state_dict() -> None:
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    ref = torch.nn.Linear(4, 3).double()
    layer = nn.Linear(4, 3, dtype="float64")
    layer.load_state_dict(ref.state_dict())
    x_np = np.random.default_rng(2).normal(size=(2, 5, 4))
    x_t = torch.tensor(x_np, requires_grad=True)
    y_t = ref(x_t)
    (y_t**2).sum().backward()
    x = Tensor(x_np, requires_grad=True)
    y = layer(x)
    (y**2).sum().backward()
    np.testing.assert_allclose(y.numpy(), y_t.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(x.grad.numpy(), x_t.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.weight.grad.numpy(), ref.weight.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.bias.grad.numpy(), ref.bias.grad.numpy(), rtol=1e-10)


def test_docstring_example_runs() -> None:
    assert doctest.testmod(linear_module).failed == 0
