"""Samplers: the order in which a DataLoader visits a map-style dataset, and its batches.

PyTorch's samplers with their semantics. A sampler yields indices; a batch sampler
yields lists of indices. Random ones draw from a :class:`tinygrad_rnn.Generator` when
given one and from the global generator (``tr.manual_seed``) otherwise, afresh at the
start of every pass: each epoch is a new shuffle, and the same seed repeats the epochs.
The orders are not PyTorch's for the same seed (the generators differ).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sized
from typing import Any

from ...nn.checks import check_size
from ...random import Generator, host_rng, integers_list, permutation_list

_CHUNK = 32  # indices drawn at a time by a sampler with replacement


def check_bool(fn: str, name: str, value: Any) -> bool:
    """A switch must be a real bool (PyTorch's flags are; 0/1 here would hide a swapped argument)."""
    if not isinstance(value, bool):
        raise TypeError(f"{fn}: {name}={value!r} is a {type(value).__name__}; expected True or False")
    return value


class Sampler:
    """Base class: ``iter(sampler)`` yields dataset indices (or lists of them, for batches)."""

    def __iter__(self) -> Iterator[Any]:
        raise NotImplementedError(f"{type(self).__name__} is a Sampler without __iter__; define __iter__(self)")


class SequentialSampler(Sampler):
    """Indices ``0, 1, ..., len(data_source) - 1`` in order."""

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


class RandomSampler(Sampler):
    """Indices in a random order: a fresh permutation every pass (or draws with replacement).

    Args:
        data_source: the dataset (only its length is used).
        replacement: draw ``num_samples`` indices independently (repeats allowed).
        num_samples: how many indices a pass yields (default ``len(data_source)``).
            Without replacement and more than ``len(data_source)``, whole permutations
            follow one another, the last one cut short (PyTorch's rule).
        generator: a :class:`tinygrad_rnn.Generator`, or None for the global generator.

    Raises:
        TypeError: ``replacement`` is not a bool, or ``generator`` is not a Generator.
        ValueError: ``num_samples`` is not a positive int, or ``data_source`` is empty.
    """

    def __init__(self, data_source: Sized, replacement: bool = False, num_samples: int | None = None,
                 generator: Generator | None = None) -> None:
        self.data_source = data_source
        self.replacement = check_bool("RandomSampler", "replacement", replacement)
        self._num_samples = None if num_samples is None else check_size("RandomSampler", "num_samples",
                                                                          num_samples)
        host_rng(generator, "RandomSampler")  # refuse a wrong generator now, not at the first epoch
        self.generator = generator
        if len(data_source) == 0:  # PyTorch refuses it too: there is nothing to draw from
            raise ValueError("RandomSampler: data_source is empty; expected at least one sample to draw")

    @property
    def num_samples(self) -> int:
        """Indices per pass (the dataset's length unless given)."""
        return len(self.data_source) if self._num_samples is None else self._num_samples

    def __iter__(self) -> Iterator[int]:
        n, wanted = len(self.data_source), self.num_samples
        if n == 0:
            raise ValueError("RandomSampler: data_source has become empty; expected at least one sample to draw")
        if self.replacement:
            for start in range(0, wanted, _CHUNK):
                yield from integers_list(n, min(_CHUNK, wanted - start), self.generator, "RandomSampler")
            return
        for _ in range(wanted // n):
            yield from permutation_list(n, self.generator, "RandomSampler")
        if wanted % n:
            yield from permutation_list(n, self.generator, "RandomSampler")[:wanted % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler):
    """The given indices in a random order, a fresh one every pass."""

    def __init__(self, indices: Iterable[int], generator: Generator | None = None) -> None:
        self.indices = list(indices)
        host_rng(generator, "SubsetRandomSampler")
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        for i in permutation_list(len(self.indices), self.generator, "SubsetRandomSampler"):
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class BatchSampler(Sampler):
    """Groups the indices of ``sampler`` into lists of ``batch_size``.

    The last list is shorter when the indices do not divide evenly, unless
    ``drop_last``, which drops it. ``len`` is ``ceil(n / batch_size)``, or
    ``floor(n / batch_size)`` with ``drop_last``.

    Args:
        sampler: a sampler, or any iterable of indices (with ``len`` for ``len(batches)``).
        batch_size: indices per batch (a positive int).
        drop_last: drop the last, short batch.

    Raises:
        ValueError: ``batch_size`` is not a positive int.  TypeError: ``drop_last`` is not a bool.

    Example:
        >>> from tinygrad_rnn.utils.data import BatchSampler, SequentialSampler
        >>> list(BatchSampler(SequentialSampler(range(7)), batch_size=3, drop_last=False))
        [[0, 1, 2], [3, 4, 5], [6]]
    """

    def __init__(self, sampler: Iterable[int], batch_size: int, drop_last: bool) -> None:
        self.sampler = sampler
        self.batch_size = check_size("BatchSampler", "batch_size", batch_size)
        self.drop_last = check_bool("BatchSampler", "drop_last", drop_last)

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for index in self.sampler:
            batch.append(index)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
