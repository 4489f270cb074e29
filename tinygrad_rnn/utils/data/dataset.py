"""Datasets: what a :class:`~tinygrad_rnn.utils.data.DataLoader` draws samples from.

PyTorch's ``torch.utils.data`` datasets, with its semantics. A *map-style* dataset is
anything with ``__getitem__(i)`` and ``__len__()`` (a plain list of samples is one);
an *iterable-style* dataset only yields samples (``__iter__``), e.g. a stream.
"""

from __future__ import annotations

import bisect
import itertools
import math
import operator
import warnings
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from ...random import Generator, permutation_list
from ...tensor import Tensor


class Dataset:
    """A map-style dataset: sample ``i`` is ``dataset[i]`` for ``i`` in ``range(len(dataset))``.

    Subclass it and define ``__getitem__`` and ``__len__``. ``a + b`` chains two
    datasets into a :class:`ConcatDataset`.
    """

    def __getitem__(self, index: Any) -> Any:
        raise NotImplementedError(f"{type(self).__name__} is a Dataset without __getitem__; define "
                                  "__getitem__(self, index) (and __len__) in the subclass")

    def __add__(self, other: Dataset) -> ConcatDataset:
        return ConcatDataset([self, other])


class IterableDataset(Dataset):
    """An iterable-style dataset: ``iter(dataset)`` yields the samples, in its own order.

    For streams and generated data. A DataLoader batches them as they come (no sampler,
    no ``shuffle``). ``a + b`` chains two of them into a :class:`ChainDataset`.
    """

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} is an IterableDataset without __iter__; define "
                                  "__iter__(self) in the subclass")

    def __add__(self, other: IterableDataset) -> ChainDataset:  # type: ignore[override]
        return ChainDataset([self, other])


def _first_dim(t: Tensor) -> int | None:
    return t.shape[0] if t.ndim else None


class TensorDataset(Dataset):
    """Sample ``i`` is ``(t[i] for t in tensors)``: rows of tensors that share their first axis.

    Shapes:
        tensors: each (N, ...), the same N for all.  sample: a tuple of (...) tensors.

    Args:
        *tensors: one or more Tensors (inputs, targets, ...).

    Raises:
        TypeError: an argument is not a Tensor.
        ValueError: no tensors, a 0-d tensor, or first axes of different sizes (all named).

    Example:
        >>> import tinygrad_rnn as tr
        >>> ds = tr.utils.data.TensorDataset(tr.Tensor([[1.0, 2.0], [3.0, 4.0]]), tr.Tensor([0, 1]))
        >>> len(ds), [t.tolist() for t in ds[1]]
        (2, [[3.0, 4.0], 1])
    """

    def __init__(self, *tensors: Tensor) -> None:
        if not tensors:
            raise ValueError("TensorDataset: got no tensors; expected at least one Tensor of shape (N, ...)")
        for k, t in enumerate(tensors):
            if not isinstance(t, Tensor):
                raise TypeError(f"TensorDataset: argument {k} is a {type(t).__name__}; expected a Tensor "
                                "(make one with tr.Tensor(data))")
        sizes = [_first_dim(t) for t in tensors]
        if None in sizes or len(set(sizes)) != 1:
            shapes = ", ".join(str(t.shape) for t in tensors)
            raise ValueError(f"TensorDataset: tensors of shapes {shapes}; expected the same first-axis size N "
                             "in every tensor (one row per sample)")
        self.tensors = tuple(tensors)

    def __getitem__(self, index: Any) -> tuple[Tensor, ...]:
        return tuple(t[index] for t in self.tensors)

    def __len__(self) -> int:
        return self.tensors[0].shape[0]


class ConcatDataset(Dataset):
    """Several map-style datasets one after another: ``len`` is the sum of their lengths.

    Args:
        datasets: the map-style datasets, in order.

    Raises:
        ValueError: no datasets.  TypeError: one of them is an :class:`IterableDataset`.
    """

    def __init__(self, datasets: Iterable[Dataset]) -> None:
        self.datasets = list(datasets)
        if not self.datasets:
            raise ValueError("ConcatDataset: got no datasets; expected at least one")
        for k, d in enumerate(self.datasets):
            if isinstance(d, IterableDataset):
                raise TypeError(f"ConcatDataset: dataset {k} is an IterableDataset; expected map-style "
                                "datasets (chain iterable ones with ChainDataset)")
        self.cumulative_sizes = list(itertools.accumulate(len(d) for d in self.datasets))

    def __len__(self) -> int:
        return self.cumulative_sizes[-1]

    def __getitem__(self, index: int) -> Any:
        i = operator.index(index)
        n = len(self)
        if not -n <= i < n:
            raise IndexError(f"ConcatDataset: index {index} is out of range for {n} samples")
        i %= n
        which = bisect.bisect_right(self.cumulative_sizes, i)
        start = self.cumulative_sizes[which - 1] if which else 0
        return self.datasets[which][i - start]


class ChainDataset(IterableDataset):
    """Several iterable datasets one after another (for streams that are read once)."""

    def __init__(self, datasets: Iterable[IterableDataset]) -> None:
        self.datasets = list(datasets)

    def __iter__(self) -> Iterator[Any]:
        for d in self.datasets:
            yield from d

    def __len__(self) -> int:
        return sum(len(d) for d in self.datasets)


class Subset(Dataset):
    """The samples of ``dataset`` at ``indices``, in that order: ``subset[i] = dataset[indices[i]]``."""

    def __init__(self, dataset: Any, indices: Sequence[int]) -> None:
        self.dataset, self.indices = dataset, indices

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self) -> int:
        return len(self.indices)


def _split_sizes(n: int, lengths: Sequence[float]) -> list[int]:
    """Fractions summing to 1 -> sizes (floors, the rest handed out one by one), else ints as given."""
    if not isinstance(lengths, Sequence) or isinstance(lengths, (str, bytes)) or not lengths:
        raise TypeError(f"random_split: lengths is {lengths!r}; expected a non-empty list of ints or of fractions")
    for k, x in enumerate(lengths):
        if isinstance(x, bool) or not isinstance(x, (int, float)) and not hasattr(x, "__index__"):
            raise TypeError(f"random_split: lengths[{k}] is {x!r}; expected an int or a fraction")
    total = sum(float(x) for x in lengths)
    if math.isclose(total, 1) and total <= 1:  # fractions (PyTorch's test)
        for k, x in enumerate(lengths):
            if not 0 <= x <= 1:
                raise ValueError(f"random_split: fraction lengths[{k}] = {x}; expected a fraction in [0, 1]")
        sizes = [math.floor(n * x) for x in lengths]
        for k in range(n - sum(sizes)):
            sizes[k % len(sizes)] += 1
        for k, size in enumerate(sizes):
            if size == 0:
                warnings.warn(f"random_split: length of split at index {k} is 0; this split will be empty",
                              stacklevel=3)
        return sizes
    sizes = []
    for k, x in enumerate(lengths):
        if isinstance(x, float) or operator.index(x) < 0:
            raise ValueError(f"random_split: lengths[{k}] = {x!r} in {list(lengths)}, which do not sum to 1; "
                             f"expected non-negative ints summing to {n}, or fractions summing to 1")
        sizes.append(operator.index(x))
    if sum(sizes) != n:
        raise ValueError(f"random_split: lengths {sizes} sum to {sum(sizes)}, but the dataset has {n} samples; "
                         f"expected ints summing to {n}, or fractions summing to 1")
    return sizes


def random_split(dataset: Any, lengths: Sequence[float], generator: Generator | None = None) -> list[Subset]:
    """Split ``dataset`` into non-overlapping random :class:`Subset` s of the given lengths.

    ``lengths`` are either ints summing to ``len(dataset)``, or fractions summing to 1:
    split k then gets ``floor(len(dataset) * lengths[k])`` samples, and the samples left
    over go one each to splits 0, 1, 2, ... (PyTorch's rule, so the sizes are PyTorch's).
    Which samples go where is drawn from ``generator`` (the global generator when None,
    so ``tr.manual_seed`` fixes it); it differs from PyTorch's draw with the same seed.

    Args:
        dataset: a map-style dataset.
        lengths: the split sizes, as ints or as fractions.
        generator: a :class:`tinygrad_rnn.Generator`, or None.

    Returns:
        One :class:`Subset` per length.

    Raises:
        TypeError: ``lengths`` is not a list of numbers, or ``generator`` is not a Generator.
        ValueError: ints that do not sum to ``len(dataset)``, or a fraction outside [0, 1].

    Example:
        >>> import tinygrad_rnn as tr
        >>> train, val = tr.utils.data.random_split(range(10), [0.8, 0.2], generator=tr.Generator().manual_seed(0))
        >>> len(train), len(val), sorted(list(train) + list(val)) == list(range(10))
        (8, 2, True)
    """
    sizes = _split_sizes(len(dataset), lengths)
    order = permutation_list(sum(sizes), generator, "random_split")
    ends = list(itertools.accumulate(sizes))
    return [Subset(dataset, order[end - size:end]) for size, end in zip(sizes, ends, strict=True)]
