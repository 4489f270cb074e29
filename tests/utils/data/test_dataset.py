"""Datasets and random_split: PyTorch's semantics (items, lengths, split sizes), and errors
that say what was given."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import tinygrad_rnn as tr
from tinygrad_rnn import Tensor
from tinygrad_rnn.utils.data import (
    ChainDataset,
    ConcatDataset,
    Dataset,
    IterableDataset,
    Subset,
    TensorDataset,
    random_split,
)


class Squares(Dataset):
    def __init__(self, n: int) -> None:
        self.n = n

    def __getitem__(self, i: int) -> int:
        if not 0 <= i < self.n:
            raise IndexError(i)
        return i * i

    def __len__(self) -> int:
        return self.n


class Count(IterableDataset):
    def __init__(self, start: int, stop: int) -> None:
        self.start, self.stop = start, stop

    def __iter__(self):
        return iter(range(self.start, self.stop))

    def __len__(self) -> int:
        return self.stop - self.start


def test_tensor_dataset_rows_match_pytorch() -> None:
    torch = pytest.importorskip("torch")
    x, y = np.arange(12.0).reshape(4, 3), np.array([1, 0, 1, 1])
    ours, theirs = TensorDataset(Tensor(x), Tensor(y)), torch.utils.data.TensorDataset(torch.tensor(x), torch.tensor(y))
    assert len(ours) == len(theirs) == 4
    for i in (0, 3, -1, slice(1, 3)):
        for a, b in zip(ours[i], theirs[i], strict=True):
            assert a.shape == tuple(b.shape) and a.tolist() == b.tolist()
    assert ours.tensors[0].dtype == np.float64 and ours.tensors[1].dtype == np.int64


@pytest.mark.parametrize(("tensors", "error", "message"), [
    ((Tensor.zeros(3, 2), Tensor.zeros(4)), ValueError, r"shapes \(3, 2\), \(4,\); expected the same first-axis"),
    ((Tensor.zeros(3), Tensor(1.0)), ValueError, r"shapes \(3,\), \(\); expected the same first-axis"),
    ((), ValueError, "got no tensors"),
    ((Tensor.zeros(3), [1, 2, 3]), TypeError, "argument 1 is a list; expected a Tensor"),
])
def test_tensor_dataset_refuses_rows_that_do_not_line_up(tensors, error, message) -> None:
    with pytest.raises(error, match=message):
        TensorDataset(*tensors)


def test_adding_datasets_concatenates_like_pytorch() -> None:
    torch = pytest.importorskip("torch")
    ours = Squares(3) + Squares(2) + Squares(4)
    theirs = torch.utils.data.ConcatDataset([list(Squares(3)), list(Squares(2))]) + list(Squares(4))
    assert isinstance(ours, ConcatDataset) and len(ours) == len(theirs) == 9
    assert [ours[i] for i in range(-9, 9)] == [theirs[i] for i in range(-9, 9)]
    assert ours.cumulative_sizes == theirs.cumulative_sizes
    with pytest.raises(IndexError, match="index 9 is out of range for 9 samples"):
        ours[9]
    with pytest.raises(TypeError, match="dataset 1 is an IterableDataset"):
        ConcatDataset([Squares(2), Count(0, 2)])
    with pytest.raises(ValueError, match="got no datasets"):
        ConcatDataset([])


def test_iterable_datasets_chain() -> None:
    chained = Count(0, 2) + Count(5, 7)
    assert isinstance(chained, ChainDataset) and list(chained) == [0, 1, 5, 6] and len(chained) == 4
    with pytest.raises(NotImplementedError, match="IterableDataset without __iter__"):
        iter(IterableDataset())
    with pytest.raises(NotImplementedError, match="Dataset without __getitem__"):
        Dataset()[0]


def test_subset_maps_indices() -> None:
    sub = Subset(Squares(10), [7, 2, 5])
    assert len(sub) == 3 and [sub[i] for i in range(3)] == [49, 4, 25] and sub[-1] == 25
    assert Subset(list(range(10)), [3, 1])[1] == 1


@given(n=st.integers(0, 60), fractions=st.lists(st.integers(1, 20), min_size=1, max_size=6))
def test_random_split_sizes_match_pytorch(n: int, fractions: list[int]) -> None:
    torch = pytest.importorskip("torch")
    lengths = [f / sum(fractions) for f in fractions]
    if not abs(sum(lengths) - 1) < 1e-9 or sum(lengths) > 1:
        return  # rounding left the fractions off 1: both libraries would read them as counts
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # empty splits warn in both
        ours, theirs = random_split(range(n), lengths), torch.utils.data.random_split(range(n), lengths)
    assert [len(s) for s in ours] == [len(s) for s in theirs]
    assert sorted(i for s in ours for i in s) == list(range(n))  # a partition


def test_random_split_by_counts_is_a_seeded_partition() -> None:
    g = tr.Generator().manual_seed(3)
    parts = random_split(Squares(10), [5, 3, 2], generator=g)
    assert [len(p) for p in parts] == [5, 3, 2]
    indices = [i for p in parts for i in p.indices]
    assert sorted(indices) == list(range(10)) and indices != list(range(10))
    again = random_split(Squares(10), [5, 3, 2], generator=tr.Generator().manual_seed(3))
    assert [p.indices for p in again] == [p.indices for p in parts]
    other = random_split(Squares(10), [5, 3, 2], generator=tr.Generator().manual_seed(4))
    assert [p.indices for p in other] != [p.indices for p in parts]
    assert parts[0][0] == parts[0].indices[0] ** 2


def test_random_split_without_generator_follows_manual_seed() -> None:
    tr.manual_seed(7)
    first = [p.indices for p in random_split(range(20), [0.5, 0.5])]
    tr.manual_seed(7)
    assert [p.indices for p in random_split(range(20), [0.5, 0.5])] == first


def test_random_split_warns_about_an_empty_split_as_pytorch_does() -> None:
    with pytest.warns(UserWarning, match="split at index 1 is 0"):
        parts = random_split(range(3), [0.1, 0.1, 0.8])
    assert [len(p) for p in parts] == [1, 0, 2]


@pytest.mark.parametrize(("lengths", "kwargs", "error", "message"), [
    ([3, 3], {}, ValueError, r"lengths \[3, 3\] sum to 6, but the dataset has 7 samples"),
    ([1.5, -0.5], {}, ValueError, r"fraction lengths\[0\] = 1.5; expected a fraction in \[0, 1\]"),
    ([0.5, 0.2], {}, ValueError, r"lengths\[0\] = 0.5 .* do not sum to 1"),
    ([-1, 8], {}, ValueError, r"lengths\[0\] = -1"),
    (["3", 4], {}, TypeError, r"lengths\[0\] is '3'"),
    (7, {}, TypeError, "lengths is 7; expected a non-empty list"),
    ([], {}, TypeError, "expected a non-empty list"),
    ([3, 4], {"generator": 0}, TypeError, "random_split: generator is a builtins.int; expected a tr.Generator"),
])
def test_random_split_errors(lengths, kwargs, error, message) -> None:
    with pytest.raises(error, match=message):
        random_split(range(7), lengths, **kwargs)


def test_a_torch_generator_is_refused_by_name() -> None:
    torch = pytest.importorskip("torch")
    with pytest.raises(TypeError, match=r"generator is a torch.*Generator; expected a tr.Generator"):
        random_split(range(4), [2, 2], generator=torch.Generator())
