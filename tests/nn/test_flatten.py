"""nn.Identity, nn.Flatten, nn.Unflatten: shapes against PyTorch, gradients, errors, repr."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor, nn

SHAPE = (2, 3, 4, 5)


@pytest.mark.parametrize(("start", "end"), [(1, -1), (0, -1), (1, 2), (2, 3), (-3, -2), (3, 3), (0, 0)])
def test_flatten_matches_torch(start: int, end: int) -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(np.prod(SHAPE), dtype=np.float64).reshape(SHAPE)
    ours, theirs = nn.Flatten(start, end), torch.nn.Flatten(start, end)
    np.testing.assert_array_equal(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    assert repr(ours) == repr(theirs)


def test_flatten_default_keeps_the_batch_axis_and_is_differentiable(device: str) -> None:
    x = Tensor(np.random.default_rng(0).normal(size=(2, 3, 2)), device=device, dtype="float64", requires_grad=True)
    assert nn.Flatten()(x).shape == (2, 6)
    assert tr.gradcheck(nn.Flatten(0, 1), x)


def test_flatten_errors_name_the_axes() -> None:
    with pytest.raises(IndexError, match=r"start_dim=4 for a tensor with 2 dims"):
        nn.Flatten(4)(Tensor.ones(2, 3))
    with pytest.raises(ValueError, match=r"start_dim=1 comes after end_dim=0"):
        nn.Flatten(1, 0)(Tensor.ones(2, 3))


@pytest.mark.parametrize(("dim", "sizes"), [(1, (3, 4)), (-1, (5, 1)), (0, (1, 2)), (2, (2, -1))])
def test_unflatten_matches_torch(dim: int, sizes: tuple) -> None:
    torch = pytest.importorskip("torch")
    x = np.arange(2 * 12 * 5, dtype=np.float64).reshape(2, 12, 5) if dim != 2 else np.ones((2, 3, 4))
    ours, theirs = nn.Unflatten(dim, sizes), torch.nn.Unflatten(dim, sizes)
    np.testing.assert_array_equal(ours(Tensor(x)).numpy(), theirs(torch.tensor(x)).numpy())
    assert repr(ours) == repr(theirs)


def test_unflatten_refuses_sizes_that_do_not_split_the_axis() -> None:
    with pytest.raises(ValueError, match=r"does not split axis 1 of size 12"):
        nn.Unflatten(1, (5, 2))(Tensor.ones(2, 12))


def test_identity_returns_its_input_and_ignores_arguments() -> None:
    torch = pytest.importorskip("torch")
    x = Tensor.ones(2)
    assert nn.Identity(3, bias=False)(x) is x
    assert repr(nn.Identity(3)) == repr(torch.nn.Identity(3)) == "Identity()"


def test_docstring_examples_run() -> None:
    import doctest

    from tinygrad_rnn.nn import flatten

    result = doctest.testmod(flatten)
    assert result.failed == 0 and result.attempted > 0
