"""Constructors and conversions (ops/creation.py, ops/movement.py's casts): arange,
randint, randperm, multinomial, new_*, *_like, clone, to(...) and type(...), with
PyTorch's dtype rules."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("args", [(5,), (2, 7), (1, 2, 0.25), (0.5, 3), (5, 0, -1), (3, 3), (0, 1, 0.1), (-2.5, 2.5, 0.5)])
def test_arange_matches_pytorch_values_and_dtype(device: str, args) -> None:
    ours, theirs = Tensor.arange(*args, device=device), torch.arange(*args)
    assert str(ours.dtype) == str(theirs.dtype).removeprefix("torch.")
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)
    assert tr.arange(*args, dtype=tr.float64, device=device).dtype == tr.float64


def test_arange_refuses_a_zero_step_and_bools() -> None:
    with pytest.raises(ValueError, match="arange: start=0, end=3, step=0; expected a nonzero step"):
        Tensor.arange(0, 3, 0)
    with pytest.raises(ValueError, match="arange: start=3, end=1, step=1: the step points away from end"):
        Tensor.arange(3, 1)
    with pytest.raises(TypeError, match="arange: dtype bool"):
        Tensor.arange(3, dtype=tr.bool)


def test_randint_randperm_are_seeded_and_in_range(device: str) -> None:
    tr.manual_seed(1)
    a = tr.randint(3, 7, (1000,), device=device)
    assert a.dtype == tr.int64 and set(a.tolist()) == {3, 4, 5, 6}
    tr.manual_seed(1)
    assert tr.randint(3, 7, (1000,), device=device).tolist() == a.tolist()
    assert tr.randint(4, (2, 3), device=device).shape == (2, 3) and tr.randint(-2, 0, (50,)).min().item() == -2
    p = tr.randperm(50, device=device)
    assert sorted(p.tolist()) == list(range(50)) and p.tolist() != list(range(50))


def test_multinomial_draws_follow_the_weights(device: str) -> None:
    tr.manual_seed(0)
    weights = Tensor([[1.0, 0.0, 3.0], [0.0, 2.0, 2.0]], device=device)
    draws = weights.multinomial(4000, replacement=True)
    assert draws.shape == (2, 4000) and draws.dtype == tr.int64
    counts = [np.bincount(row, minlength=3) / 4000 for row in draws.numpy()]
    np.testing.assert_allclose(counts, [[0.25, 0.0, 0.75], [0.0, 0.5, 0.5]], atol=0.03)
    once = tr.multinomial(Tensor([0.1, 0.2, 0.3, 0.4], device=device), 4)
    assert sorted(once.tolist()) == [0, 1, 2, 3]  # without replacement: each index once


@pytest.mark.parametrize(("weights", "n", "replacement", "message"), [
    ([1.0, -1.0], 1, True, "negative, infinite or NaN"),
    ([0.0, 0.0], 1, True, "adds up to 0"),
    ([[[1.0]]], 1, True, r"weights of shape \(1, 1, 1\)"),
    ([1.0], 0, True, "num_samples=0; expected a positive int"),
])
def test_multinomial_refuses_what_pytorch_refuses(weights, n, replacement, message) -> None:
    with pytest.raises(ValueError, match=message):
        Tensor(weights).multinomial(n, replacement)
    with pytest.raises(RuntimeError):
        torch.tensor(weights).multinomial(n, replacement)


def test_multinomial_without_replacement_draws_only_weighted_categories() -> None:
    """PyTorch's documented rule (its CPU kernel goes on to draw zero-weight categories instead)."""
    with pytest.raises(ValueError, match="2 draws without replacement from 1 categories of nonzero weight"):
        Tensor([1.0, 0.0, 0.0]).multinomial(2)


def test_new_and_like_constructors_inherit_dtype_and_device(device: str) -> None:
    x = Tensor([1.0, 2.0], dtype="float64", device=device)
    for made in (x.new_zeros(2, 3), x.new_ones((2, 3)), x.new_full((2, 3), 7.0), x.new_empty(2, 3),
                 x.zeros_like(), x.ones_like(), tr.zeros_like(x), tr.full_like(x, 2.0), tr.randn_like(x),
                 tr.rand_like(x), tr.empty_like(x)):
        assert made.dtype == tr.float64 and made.device == device and not made.requires_grad
    assert x.new_tensor([1, 2]).dtype == tr.float64  # PyTorch: new_tensor takes self's dtype
    assert x.new_zeros(2, dtype=tr.int64).dtype == tr.int64 and x.zeros_like(requires_grad=True).requires_grad
    assert x.new_full((2,), 7.0).tolist() == [7.0, 7.0] and tr.ones_like(x, dtype=tr.int32).dtype == tr.int32


def test_clone_is_on_the_tape_and_owns_its_array() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    y = x.clone()
    assert y.grad_fn is not None
    (y * Tensor([3.0, 4.0])).sum().backward()
    assert x.grad.tolist() == [3.0, 4.0]
    z = Tensor([1, 2])
    c = z.clone()
    c[0] = 9
    assert z.tolist() == [1, 2] and c.tolist() == [9, 2]


def test_to_in_all_of_pytorchs_forms(device: str) -> None:
    x = Tensor([1.5, -2.5], requires_grad=True, device=device)
    assert x.to(tr.float64).dtype == tr.float64 and x.to("float64").dtype == tr.float64
    assert x.to(dtype=tr.float16).dtype == tr.float16 and x.half().dtype == tr.float16
    assert x.to(device) is x and x.to(tr.device(device)) is x and x.to(device, tr.float32) is x
    assert x.to(x) is x and x.to(Tensor([1], device=device)).dtype == tr.int64
    assert x.to(device, copy=True) is not x
    ints = x.long()
    assert ints.dtype == tr.int64 and not ints.requires_grad and ints.tolist() == [1, -2]
    assert x.int().dtype == tr.int32 and x.bool().tolist() == [True, True] and x.short().dtype == tr.int16
    assert x.to(tr.int64).tolist() == [1, -2] and not x.to(tr.long).requires_grad  # integers: off the tape
    assert x.double().requires_grad and x.type_as(Tensor([1.0], dtype="float64")).dtype == tr.float64
    assert x.type() == ("torch.cuda.FloatTensor" if device == "cuda" else "torch.FloatTensor")
    assert x.type(tr.float64).dtype == tr.float64 and x.type("torch.LongTensor").dtype == tr.int64
    with pytest.raises(NotImplementedError, match=r"to\(memory_format="):
        x.to(memory_format="channels_last")
    with pytest.raises(TypeError, match="dtype 'bfloat16' is not supported: NumPy and CuPy have no bfloat16"):
        x.to("bfloat16")


def test_to_float_keeps_the_gradient_flowing() -> None:
    x = Tensor([1.0, 2.0], requires_grad=True)
    (x.to(tr.float64) * 2.0).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0] and x.grad.dtype == tr.float32
