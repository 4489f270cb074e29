"""nn.init: values, in place without a tape, device and dtype kept, seeded draws."""

from __future__ import annotations

import doctest
import math

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn
from tinygrad_rnn.nn import init


def param(*shape: int, device: str = "cpu", dtype: str = "float32") -> nn.Parameter:
    return nn.Parameter(Tensor.randn(*shape, device=device, dtype=dtype))


def assert_in_place_untaped(t: Tensor, out: Tensor, device: str, dtype: object) -> None:
    assert out is t
    assert t.is_leaf and t._ctx is None and t.requires_grad
    assert t.device == device and t.dtype == dtype


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_identity_is_the_identity_matrix(device: str, dtype: str) -> None:
    w = param(4, 4, device=device, dtype=dtype)
    assert_in_place_untaped(w, init.identity_(w), device, np.dtype(dtype))
    np.testing.assert_array_equal(w.numpy(), np.eye(4))
    s = Tensor.randn(3, 4, dtype=dtype, device=device)
    np.testing.assert_array_equal((s @ w.T).numpy(), s.numpy())  # W^ss s_{t-1} = s_{t-1}


def test_identity_rectangular_and_gain() -> None:
    np.testing.assert_array_equal(init.identity_(param(2, 3)).numpy(), np.eye(2, 3))
    np.testing.assert_array_equal(init.identity_(param(3, 2), gain=0.5).numpy(), 0.5 * np.eye(3, 2))
    with pytest.raises(ValueError, match=r"shape \(4,\); expected a 2-D"):
        init.identity_(param(4))


def test_zeros(device: str) -> None:
    b = param(2, 3, device=device)
    assert_in_place_untaped(b, init.zeros_(b), device, np.float32)
    assert not b.numpy().any()


def test_uniform_bounds_and_seed(device: str) -> None:
    t = param(50, 40, device=device)
    tr.manual_seed(2)
    assert_in_place_untaped(t, init.uniform_(t, -0.3, 0.7), device, np.float32)
    values = t.numpy()
    assert values.min() >= -0.3 and values.max() <= 0.7
    assert values.min() < -0.29 and values.max() > 0.69
    again = param(50, 40)
    tr.manual_seed(2)
    np.testing.assert_array_equal(init.uniform_(again, -0.3, 0.7).numpy(), values)
    with pytest.raises(ValueError, match="a=1.0, b=0.0; expected a <= b"):
        init.uniform_(t, 1.0, 0.0)


def test_normal_mean_and_std() -> None:
    t = init.normal_(param(100, 100, dtype="float64"), mean=2.0, std=0.5)
    assert abs(t.numpy().mean() - 2.0) < 0.02 and abs(t.numpy().std() - 0.5) < 0.02
    with pytest.raises(ValueError, match="std=-1"):
        init.normal_(t, std=-1)


@pytest.mark.parametrize("shape", [(30, 10), (10, 30), (6, 4, 5)])
def test_xavier_uniform_bound(shape: tuple[int, ...]) -> None:
    t = init.xavier_uniform_(param(*shape), gain=2.0)
    receptive = int(np.prod(shape[2:]))
    bound = 2.0 * math.sqrt(6.0 / (shape[0] * receptive + shape[1] * receptive))
    assert np.abs(t.numpy()).max() <= bound
    assert np.abs(t.numpy()).max() > 0.9 * bound
    with pytest.raises(ValueError, match="at least 2 dimensions"):
        init.xavier_uniform_(param(5))


@pytest.mark.parametrize("shape", [(5, 5), (7, 3), (3, 7), (4, 2, 3)])
def test_orthogonal_has_orthonormal_rows_or_columns(device: str, shape: tuple[int, ...]) -> None:
    t = param(*shape, device=device, dtype="float64")
    assert_in_place_untaped(t, init.orthogonal_(t), device, np.float64)
    q = t.numpy().reshape(shape[0], -1)
    small = min(q.shape)
    gram = q.T @ q if q.shape[0] >= q.shape[1] else q @ q.T
    np.testing.assert_allclose(gram, np.eye(small), atol=1e-12)


def test_orthogonal_float32_gain_and_seed() -> None:
    first = param(6, 6)
    tr.manual_seed(4)
    q = init.orthogonal_(first, gain=3.0).numpy()
    assert q.dtype == np.float32
    np.testing.assert_allclose(q.T @ q, 9.0 * np.eye(6), atol=1e-4)
    again = param(6, 6)
    tr.manual_seed(4)
    np.testing.assert_array_equal(init.orthogonal_(again, gain=3.0).numpy(), q)


def test_orthogonal_singular_values_are_one_so_repeated_products_keep_norms() -> None:
    w = init.orthogonal_(param(8, 8, dtype="float64")).numpy()
    s = np.random.default_rng(0).normal(size=8)
    np.testing.assert_allclose(np.linalg.norm(np.linalg.matrix_power(w, 50) @ s), np.linalg.norm(s), rtol=1e-10)


def test_init_records_no_tape_even_with_grad_enabled() -> None:
    w = param(3, 3)
    y = (w * 2.0).sum()  # a tape that uses w
    init.identity_(w)
    assert w._ctx is None and y._ctx is not None
    with pytest.raises(ValueError, match="expected a leaf tensor"):
        init.zeros_(w * 2.0)
    with pytest.raises(TypeError, match="expected a Tensor"):
        init.zeros_(np.zeros(3))


def test_init_on_a_layer_parameter_is_seen_by_the_layer() -> None:
    layer = nn.Linear(3, 3)
    init.identity_(layer.weight)
    init.zeros_(layer.bias)
    x = Tensor.randn(2, 3)
    np.testing.assert_array_equal(layer(x).numpy(), x.numpy())


def test_docstring_example_runs() -> None:
    assert doctest.testmod(init).failed == 0
