"""Collate functions: default_collate and default_convert against PyTorch's, and pad_collate
for ragged batches (against torch's pad_sequence, and its gradients)."""

from __future__ import annotations

import collections

import numpy as np
import pytest
from torch_compare import plain

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.utils.data import default_collate, default_convert, pad_collate

Point = collections.namedtuple("Point", ["x", "y"])


def samples(lib: str) -> dict[str, list]:
    """The same samples, with tinygrad_rnn or torch tensors."""
    if lib == "torch":
        import torch

        def T(data, dtype=None):
            return torch.tensor(data, dtype=getattr(torch, dtype) if dtype else None)
    else:
        def T(data, dtype=None):
            return Tensor(data, dtype=dtype)
    return {
        "tensors": [T([1.0, 2.0]), T([3.0, 4.0]), T([5.0, 6.0])],
        "float64 tensors": [T([[1.0]], "float64"), T([[2.0]], "float64")],
        "int tensors": [T([1, 2]), T([3, 4])],
        "0-d tensors": [T(1.5), T(2.5)],
        "floats": [1.5, 2.0, -3.25],
        "ints": [1, 2, 3],
        "bools": [True, False],
        "bools and ints": [True, 2],
        "ints then a float": [1, 2.5],
        "floats then an int": [2.5, 1],
        "float32 arrays": [np.ones((2, 3), np.float32), np.zeros((2, 3), np.float32)],
        "int64 arrays": [np.arange(3), np.arange(3, 6)],
        "bool arrays": [np.array([True, False]), np.array([False, False])],
        "numpy scalars": [np.float64(1.5), np.float64(2.5)],
        "numpy int32 scalars": [np.int32(1), np.int32(7)],
        "strings": ["ab", "cd"],
        "pairs": [(T([1.0, 2.0]), 0), (T([3.0, 4.0]), 1)],
        "lists": [[1.0, 2, "a"], [3.0, 4, "b"]],
        "dicts": [{"x": T([1.0]), "y": 1, "name": "a"}, {"x": T([2.0]), "y": 0, "name": "b"}],
        "ordered dicts": [collections.OrderedDict(a=1, b=2.0), collections.OrderedDict(a=3, b=4.0)],
        "nested": [({"a": (1, [2.0, 3.0])}, np.ones(2)), ({"a": (4, [5.0, 6.0])}, np.zeros(2))],
        "namedtuples": [Point(1, 2.0), Point(3, 4.0)],
    }


@pytest.mark.parametrize("case", list(samples("tr")))
def test_default_collate_matches_pytorch(case: str) -> None:
    torch = pytest.importorskip("torch")
    from torch.utils.data import default_collate as torch_collate

    ours, theirs = default_collate(samples("tr")[case]), torch_collate(samples("torch")[case])
    assert plain(ours) == plain(theirs)
    if isinstance(theirs, collections.OrderedDict):
        assert type(ours) is collections.OrderedDict
    assert torch.is_tensor(theirs) == isinstance(ours, Tensor)


@pytest.mark.parametrize("case", ["tensors", "float32 arrays", "numpy scalars", "pairs", "dicts", "nested",
                                  "namedtuples", "strings", "ints"])
def test_default_convert_matches_pytorch(case: str) -> None:
    pytest.importorskip("torch")
    from torch.utils.data import default_convert as torch_convert

    for ours_sample, torch_sample in zip(samples("tr")[case], samples("torch")[case], strict=True):
        assert plain(default_convert(ours_sample)) == plain(torch_convert(torch_sample))


def test_default_convert_shares_numpy_memory_like_as_tensor() -> None:
    array = np.zeros(3, np.float32)
    t = default_convert(array)
    array[0] = 5.0
    assert isinstance(t, Tensor) and t.tolist() == [5.0, 0.0, 0.0]


def test_default_collate_stacks_on_the_tape() -> None:
    a = Tensor([1.0, 2.0], requires_grad=True, dtype="float64")
    b = Tensor([3.0, 4.0], requires_grad=True, dtype="float64")
    batch = default_collate([a, b])
    (batch * Tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64")).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [3.0, 4.0]


@pytest.mark.parametrize(("batch", "error", "message"), [
    ([Tensor([1.0, 2.0]), Tensor([1.0])], ValueError, r"shape \(2,\) and sample 1 one of shape \(1,\).*pad_collate"),
    ([np.ones(2), np.ones(3)], ValueError, "expected equal shapes to stack"),
    ([Tensor([1.0]), 2.0], TypeError, "sample 0 holds a Tensor but sample 1 a float"),
    ([(1, 2), (3,)], ValueError, "sample 0 has 2 fields and sample 1 has 1"),
    ([{"a": 1}, {"b": 1}], ValueError, r"sample 0 has keys \['a'\] and sample 1 has \['b'\]"),
    ([1, "a"], TypeError, "sample 0 holds a number"),
    ([None, None], TypeError, "a sample holds a NoneType; expected Tensors"),
    ([np.array(["a", "b"])], TypeError, "a sample holds a ndarray"),
    ([], TypeError, "expected a non-empty list of samples"),
    (Tensor([1.0]), TypeError, "expected a non-empty list of samples"),
])
def test_default_collate_errors_name_the_samples(batch, error, message) -> None:
    with pytest.raises(error, match=message):
        default_collate(batch)


# ------------------------------------------------------------------ pad_collate
def ragged(dtype: str = "float64") -> list[tuple[Tensor, int]]:
    return [(Tensor.randn(t, 3, dtype=dtype), label) for t, label in ((4, 0), (2, 1), (5, 1))]


@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_collate_pads_like_pytorch_and_returns_lengths(batch_first: bool) -> None:
    torch = pytest.importorskip("torch")
    batch = ragged()
    x, lengths, labels = pad_collate(batch, padding_value=-1.5, batch_first=batch_first)
    expected = torch.nn.utils.rnn.pad_sequence([torch.tensor(s.numpy()) for s, _ in batch], batch_first=batch_first,
                                               padding_value=-1.5)
    assert x.shape == tuple(expected.shape) == ((3, 5, 3) if batch_first else (5, 3, 3))
    np.testing.assert_array_equal(x.numpy(), expected.numpy())
    assert lengths == [4, 2, 5] and all(type(n) is int for n in lengths)
    assert labels.tolist() == [0, 1, 1] and labels.dtype == np.int64


def test_pad_collate_of_bare_sequences_and_token_lists() -> None:
    x, lengths = pad_collate([Tensor([1.0, 2.0]), Tensor([3.0])])
    assert x.tolist() == [[1.0, 3.0], [2.0, 0.0]] and lengths == [2, 1]
    ids, lengths, label = pad_collate([([3, 5, 2], 1.0), (np.array([7]), 0.0)])  # lists and arrays of ids
    assert ids.tolist() == [[3, 7], [5, 0], [2, 0]] and ids.dtype == np.int64 and lengths == [3, 1]
    assert label.dtype == np.float64  # Python floats collate to float64, as in PyTorch


def test_pad_collate_pads_per_step_targets_when_asked() -> None:
    batch = [(Tensor([[1.0], [2.0], [3.0]]), Tensor([0, 1, 2]), "a"), (Tensor([[4.0]]), Tensor([1]), "b")]
    x, lengths, y, names = pad_collate(batch, padding_value=(0.0, -100, None))
    assert x.shape == (3, 2, 1) and lengths == [3, 1] and names == ["a", "b"]
    assert y.tolist() == [[0, 1], [1, -100], [2, -100]]


def test_pad_collate_gradients_reach_each_sequence() -> None:
    a = Tensor([[1.0], [2.0]], requires_grad=True, dtype="float64")
    b = Tensor([[3.0]], requires_grad=True, dtype="float64")
    x, lengths = pad_collate([a, b])
    assert tr.gradcheck(lambda a, b: pad_collate([a, b])[0] * 2.0, a, b)
    (x * x).sum().backward()
    assert a.grad.tolist() == [[2.0], [4.0]] and b.grad.tolist() == [[6.0]]


@pytest.mark.parametrize(("batch", "kwargs", "error", "message"), [
    ([(Tensor([1.0]), 0), Tensor([1.0])], {}, ValueError, "sample 0 has 2 fields and sample 1 is a Tensor"),
    ([(Tensor([1.0]), 0), (Tensor([1.0]),)], {}, ValueError, "sample 1 is a tuple of 1 fields"),
    ([(Tensor([1.0]), 0)], {"padding_value": (0, 0, 0)}, ValueError, r"padding_value=\(0, 0, 0\) for samples of 2"),
    ([(Tensor([1.0]), 0)], {"padding_value": (None, 0)}, ValueError, "with a number first"),
    ([("abc", 0)], {}, TypeError, "sample 0, field 0 is a str; expected a sequence"),
    ([([1.0, [2.0]], 0)], {}, TypeError, "sample 0, field 0 cannot be a sequence"),
    ([Tensor([[1.0, 2.0]]), Tensor([[1.0]])], {}, ValueError, "expected shapes \\(T_b, \\*rest\\) with the same rest"),
    ([], {}, TypeError, "expected a non-empty list of samples"),
])
def test_pad_collate_errors(batch, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        pad_collate(batch, **kwargs)
