"""Package-level functions (tinygrad_rnn/functions.py): the same call on ``tr`` and on
``torch`` gives the same values, dtype kind and gradients."""

from __future__ import annotations

import numpy as np
import pytest

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor

torch = pytest.importorskip("torch")

X = np.array([[0.5, -1.25, 2.0], [3.0, 0.75, -0.5]])
Y = np.array([[1.5, 0.25, -2.0], [0.5, 0.5, 1.0]])


def dtype_name(t) -> str:
    return str(t.dtype).removeprefix("torch.")


@pytest.mark.parametrize("make", [
    lambda lib: lib.tensor(1.5), lambda lib: lib.tensor([1, 2]), lambda lib: lib.tensor([True]),
    lambda lib: lib.tensor([[1, 2.5]]), lambda lib: lib.tensor(np.array([1, 2], np.int32)),
    lambda lib: lib.tensor([1, 2], dtype=lib.float64), lambda lib: lib.zeros(2, 3), lambda lib: lib.ones((2, 3)),
    lambda lib: lib.zeros([2], dtype=lib.long), lambda lib: lib.full((2,), 7), lambda lib: lib.full((2,), 7.5),
    lambda lib: lib.full((1,), True), lambda lib: lib.empty(2, 2) * 0, lambda lib: lib.arange(4),
    lambda lib: lib.arange(0, 1, 0.25), lambda lib: lib.linspace(0, 1, 5), lambda lib: lib.eye(3),
    lambda lib: lib.eye(2, 3), lambda lib: lib.zeros_like(lib.tensor([1, 2])),
    lambda lib: lib.ones_like(lib.tensor([1.0]), dtype=lib.float64), lambda lib: lib.full_like(lib.tensor([1, 2]), 3),
    lambda lib: lib.tensor([1.0, 2.0]).new_tensor([3, 4]), lambda lib: lib.tensor([1]).new_ones(2),
    lambda lib: lib.LongTensor([3, 4]), lambda lib: lib.FloatTensor([[1, 2]]), lambda lib: lib.BoolTensor([1, 0]),
    lambda lib: lib.DoubleTensor(2, 3) * 0, lambda lib: lib.ByteTensor([255]),
])
def test_constructors_give_pytorchs_values_and_dtypes(make) -> None:
    ours, theirs = make(tr), make(torch)
    assert dtype_name(ours) == dtype_name(theirs) and ours.shape == tuple(theirs.shape)
    np.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6)


def test_random_constructors_have_pytorchs_shapes_and_dtypes(device: str) -> None:
    for name in ("rand", "randn"):
        ours, theirs = getattr(tr, name)(2, 3, device=device), getattr(torch, name)(2, 3)
        assert ours.shape == tuple(theirs.shape) and dtype_name(ours) == dtype_name(theirs)
        assert getattr(tr, name)((4,), dtype=tr.float64, requires_grad=True).requires_grad
        x = tr.zeros(3, dtype=tr.float64, device=device)
        assert getattr(tr, name + "_like")(x).dtype == tr.float64 and getattr(tr, name + "_like")(x).device == device
    tr.manual_seed(2)
    a = tr.randn(5)
    tr.manual_seed(2)
    assert tr.randn(5).tolist() == a.tolist()


CALLS = [
    ("tanh", lambda lib, a, b: lib.tanh(a)), ("sigmoid", lambda lib, a, b: lib.sigmoid(a)),
    ("exp", lambda lib, a, b: lib.exp(a)), ("log", lambda lib, a, b: lib.log(a.abs() + 1.0)),
    ("relu", lambda lib, a, b: lib.relu(a)), ("abs", lambda lib, a, b: lib.abs(a) + lib.sqrt(b.abs() + 1.0)),
    ("softmax", lambda lib, a, b: lib.softmax(a, dim=1)), ("log_softmax", lambda lib, a, b: lib.log_softmax(a, 0)),
    ("matmul", lambda lib, a, b: lib.matmul(a, b.T)), ("cat", lambda lib, a, b: lib.cat([a, b], dim=1)),
    ("stack", lambda lib, a, b: lib.stack((a, b), dim=2)), ("where", lambda lib, a, b: lib.where(a > b, a, b)),
    ("sum", lambda lib, a, b: lib.sum(a, dim=1, keepdim=True)), ("mean", lambda lib, a, b: lib.mean(a, 0)),
    ("max", lambda lib, a, b: lib.max(a, dim=1).values + lib.max(a)), ("min", lambda lib, a, b: lib.min(a, b)),
    ("clamp", lambda lib, a, b: lib.clamp(a, -1.0, 1.0)), ("transpose", lambda lib, a, b: lib.transpose(a, 0, 1)),
    ("flatten", lambda lib, a, b: lib.flatten(a)), ("unsqueeze", lambda lib, a, b: lib.unsqueeze(a, 1)),
    ("squeeze", lambda lib, a, b: lib.squeeze(a[:1])), ("t", lambda lib, a, b: lib.t(a)),
    ("var", lambda lib, a, b: lib.var(a, 1)), ("std", lambda lib, a, b: lib.std(a)),
    ("logsumexp", lambda lib, a, b: lib.logsumexp(a, 1)), ("gather", lambda lib, a, b: lib.gather(
        a, 1, lib.tensor([[2, 0], [1, 1]]))), ("masked_fill", lambda lib, a, b: lib.masked_fill(a, a > 1.0, 0.0)),
    ("outer", lambda lib, a, b: lib.outer(a[0], b[1])), ("concatenate", lambda lib, a, b: lib.concatenate([a, b])),
    ("tril", lambda lib, a, b: lib.tril(a) + lib.triu(b, 1)), ("cumsum", lambda lib, a, b: lib.cumsum(a, 1)),
    ("split", lambda lib, a, b: lib.split(a, 2, 1)[1]), ("chunk", lambda lib, a, b: lib.chunk(a, 2)[0]),
    ("square", lambda lib, a, b: lib.square(a) + lib.neg(b) + lib.pow(a, 2)),
]


@pytest.mark.parametrize(("name", "call"), CALLS, ids=[n for n, _ in CALLS])
def test_functions_match_pytorch_values_and_gradients(name, call) -> None:
    ours = [Tensor(v, requires_grad=True) for v in (X, Y)]
    theirs = [torch.tensor(v, requires_grad=True) for v in (X, Y)]
    out, ref = call(tr, *ours), call(torch, *theirs)
    np.testing.assert_allclose(out.numpy(), ref.detach().numpy(), rtol=1e-12, atol=1e-12)
    weights = np.cos(np.arange(out.numel())).reshape(out.shape)
    (out * Tensor(weights)).sum().backward()
    (ref * torch.tensor(weights)).sum().backward()
    for a, b in zip(ours, theirs, strict=True):
        expected = np.zeros_like(X) if b.grad is None else b.grad.numpy()
        got = np.zeros_like(X) if a.grad is None else a.grad.numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)


def test_argmax_argmin_sort_topk_functions(device: str) -> None:
    x = Tensor(X, device=device)
    t = torch.tensor(X)
    for ours, theirs in [(tr.argmax(x), torch.argmax(t)), (tr.argmax(x, dim=1, keepdim=True), torch.argmax(t, 1, True)),
                         (tr.argmin(x, 0), torch.argmin(t, 0)), (tr.argsort(x, 1), torch.argsort(t, 1)),
                         (tr.topk(x, 2).indices, torch.topk(t, 2).indices), (tr.sort(x, 0)[1], torch.sort(t, 0)[1])]:
        assert ours.dtype == tr.int64 and ours.tolist() == theirs.tolist()


def test_cat_and_stack_take_dim_or_axis_but_not_both() -> None:
    a = Tensor([[1.0, 2.0]])
    assert tr.cat([a, a], dim=1).shape == (1, 4) and tr.cat([a, a], axis=1).shape == (1, 4)
    assert tr.stack([a, a], 1).shape == (1, 2, 2) and tr.stack([a, a], axis=-1).shape == (1, 2, 2)
    with pytest.raises(TypeError, match="cat: got dim=1 and axis=0; expected one of them"):
        tr.cat([a, a], 1, axis=0)
    with pytest.raises(ValueError, match="stack: axis None is out of range"):
        tr.stack([a], axis=None)


def test_functions_say_what_they_expected() -> None:
    with pytest.raises(TypeError, match=r"tr.tanh: input is a list; expected a Tensor \(make one with tr.tensor"):
        tr.tanh([1.0])
    with pytest.raises(TypeError, match=r"tr.where\(condition\) with one argument .* is not supported"):
        tr.where(Tensor([True]))
    with pytest.raises(AttributeError, match=r"tinygrad_rnn.einsum \(a PyTorch idiom\) is not supported: write the"):
        tr.einsum("ij->ji", Tensor(X))
    with tr.inference_mode():
        assert not (Tensor([1.0], requires_grad=True) * 2.0).requires_grad
    assert tr.is_tensor(Tensor(1.0)) and not tr.is_tensor(1.0) and tr.numel(Tensor(X)) == 6
    a = Tensor([1.0])
    assert tr.as_tensor(a) is a and tr.as_tensor([1, 2]).dtype == tr.int64
