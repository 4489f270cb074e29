"""``DataLoader``: batches from a dataset, in order or shuffled, as PyTorch's.

Everything runs in the calling process: there are no worker processes, so
``num_workers`` > 0 is accepted (a ported script runs unchanged) but loads in the main
process and says so with a warning; the batches are the same either way.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from typing import Any

from ...nn.checks import as_int
from ...random import Generator, host_rng
from .collate import default_collate, default_convert
from .dataset import IterableDataset
from .sampler import BatchSampler, RandomSampler, SequentialSampler, check_bool


def _fetch(dataset: Any, indices: list[int]) -> list[Any]:
    getitems = getattr(dataset, "__getitems__", None)  # a dataset that reads a whole batch at once
    return list(getitems(indices)) if getitems is not None else [dataset[i] for i in indices]


class DataLoader:
    """Iterate over a dataset in batches: ``for x, y in DataLoader(ds, batch_size=32, shuffle=True)``.

    A map-style dataset is visited in the order of ``sampler`` (sequential, or a
    fresh random permutation each epoch with ``shuffle=True``), grouped by
    ``batch_sampler`` into lists of ``batch_size`` indices; each list of samples goes
    through ``collate_fn`` (:func:`default_collate` stacks them). An iterable dataset
    is batched in the order it yields. ``batch_size=None`` turns batching off: each
    sample goes through ``collate_fn`` (default :func:`default_convert`) on its own.

    Args:
        dataset: a map-style dataset (``__getitem__`` and ``__len__``; a list works) or
            an :class:`IterableDataset`.
        batch_size: samples per batch, or None for no batching.
        shuffle: reshuffle at every epoch (map-style datasets only).
        sampler: an iterable of indices, instead of ``shuffle``.
        batch_sampler: an iterable of lists of indices, instead of ``batch_size``,
            ``shuffle``, ``sampler`` and ``drop_last``.
        num_workers: accepted for PyTorch scripts; loading always happens in the calling
            process (a warning says so when > 0), so the batches are the same.
        collate_fn: list of samples -> batch (default :func:`default_collate`); e.g.
            :func:`pad_collate` for sequences of different lengths.
        pin_memory: accepted and ignored (there is no pinned host memory here; move a
            batch with ``.to("cuda")``).
        drop_last: drop the last batch when it is shorter than ``batch_size``.
        timeout, worker_init_fn, multiprocessing_context, prefetch_factor,
            persistent_workers, pin_memory_device, in_order: PyTorch's worker options;
            checked as PyTorch checks them, otherwise without effect.
        generator: the :class:`tinygrad_rnn.Generator` that ``shuffle`` draws from (the
            global generator, ``tr.manual_seed``, when None). The same seed gives the same
            epochs, though not PyTorch's order.

    Raises:
        ValueError: options that PyTorch also refuses together (``sampler`` with
            ``shuffle``, ``batch_sampler`` with ``batch_size``/``shuffle``/``sampler``/
            ``drop_last``, ``shuffle`` or a sampler for an iterable dataset, ``drop_last``
            with ``batch_size=None``, ``prefetch_factor`` or ``persistent_workers``
            without workers), or a batch size or worker count out of range.
        TypeError: ``collate_fn`` is not callable, ``generator`` is not a Generator, or a
            flag is not a bool.

    Example:
        >>> import tinygrad_rnn as tr
        >>> ds = tr.utils.data.TensorDataset(tr.Tensor.arange(10).reshape(5, 2), tr.Tensor([0, 1, 0, 1, 1]))
        >>> loader = tr.utils.data.DataLoader(ds, batch_size=2, shuffle=True, generator=tr.Generator().manual_seed(0))
        >>> [(x.shape, y.shape) for x, y in loader], len(loader)
        ([((2, 2), (2,)), ((2, 2), (2,)), ((1, 2), (1,))], 3)
    """

    def __init__(self, dataset: Any, batch_size: int | None = 1, shuffle: bool | None = None, sampler: Any = None,
                 batch_sampler: Any = None, num_workers: int = 0, collate_fn: Callable[[list[Any]], Any] | None = None,
                 pin_memory: bool = False, drop_last: bool = False, timeout: float = 0,
                 worker_init_fn: Callable[[int], None] | None = None, multiprocessing_context: Any = None,
                 generator: Generator | None = None, *, prefetch_factor: int | None = None,
                 persistent_workers: bool = False, pin_memory_device: str = "", in_order: bool = True) -> None:
        self._check_workers(num_workers, timeout, prefetch_factor, persistent_workers)
        for name, flag in (("drop_last", drop_last), ("pin_memory", pin_memory), ("in_order", in_order)):
            check_bool("DataLoader", name, flag)
        if shuffle is not None and not isinstance(shuffle, bool):
            raise TypeError(f"DataLoader: shuffle={shuffle!r} is a {type(shuffle).__name__}; expected True, False or None")
        if collate_fn is not None and not callable(collate_fn):
            raise TypeError(f"DataLoader: collate_fn is a {type(collate_fn).__name__}; expected a function of a list "
                            "of samples, or None for default_collate")
        host_rng(generator, "DataLoader")  # a wrong generator is refused now, not at the first epoch
        if batch_size is not None:
            batch_size = _batch_size(batch_size)
        self.dataset, self.batch_size, self.drop_last, self.generator = dataset, batch_size, drop_last, generator
        self.num_workers, self.pin_memory, self.timeout = num_workers, pin_memory, timeout
        self.worker_init_fn, self.prefetch_factor, self.persistent_workers = worker_init_fn, prefetch_factor, persistent_workers
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle:
                raise ValueError("DataLoader: shuffle=True for an IterableDataset; expected shuffle unset or False "
                                 "(an iterable dataset yields its samples in its own order: shuffle inside it)")
            if sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: a sampler or batch_sampler for an IterableDataset; expected none "
                                 "(an iterable dataset has no indices to sample)")
        if sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler= and shuffle=True; expected one of them (the sampler sets the order)")
        if batch_sampler is not None and (batch_size != 1 or shuffle or sampler is not None or drop_last):
            raise ValueError("DataLoader: batch_sampler= with batch_size, shuffle, sampler or drop_last; expected "
                             "batch_sampler alone (it makes the batches)")
        if batch_size is None and drop_last:
            raise ValueError("DataLoader: batch_size=None (no batching) with drop_last=True; expected drop_last=False")
        if batch_sampler is not None:
            self.batch_size, self.drop_last = None, False  # as PyTorch reports them
        if sampler is None and not self._iterable:
            sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
        if batch_sampler is None and batch_size is not None and not self._iterable:
            batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_convert if batch_size is None and batch_sampler is None else default_collate)

    @staticmethod
    def _check_workers(num_workers: Any, timeout: Any, prefetch_factor: Any, persistent_workers: Any) -> None:
        workers = as_int(num_workers)
        if workers is None or workers < 0:
            raise ValueError(f"DataLoader: num_workers={num_workers!r}; expected an int >= 0")
        if not isinstance(timeout, (int, float)) or timeout < 0:
            raise ValueError(f"DataLoader: timeout={timeout!r}; expected a number >= 0")
        if workers == 0 and prefetch_factor is not None:
            raise ValueError("DataLoader: prefetch_factor with num_workers=0; expected prefetch_factor=None "
                             "(it only applies to worker processes)")
        if workers == 0 and persistent_workers:
            raise ValueError("DataLoader: persistent_workers=True with num_workers=0; expected False "
                             "(it only applies to worker processes)")
        if workers > 0:
            warnings.warn(f"DataLoader: num_workers={workers}, but tinygrad_rnn has no worker processes; the data "
                          "is loaded in this process (the batches are the same)", stacklevel=3)

    def __iter__(self) -> Iterator[Any]:
        collate = self.collate_fn
        if self._iterable:
            samples = iter(self.dataset)
            if self.batch_size is None:
                return (collate(sample) for sample in samples)
            return (collate(batch) for batch in BatchSampler(samples, self.batch_size, self.drop_last))
        if self.batch_sampler is None:
            return (collate(self.dataset[i]) for i in self.sampler)
        return (collate(_fetch(self.dataset, list(indices))) for indices in self.batch_sampler)

    def __len__(self) -> int:
        """Batches per epoch; for an iterable dataset, from ``len(dataset)`` (if it has one)."""
        if not self._iterable:
            return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)
        n = len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)


def _batch_size(value: Any) -> int:
    size = as_int(value)
    if size is None or size < 1:
        raise ValueError(f"DataLoader: batch_size={value!r}; expected a positive int, or None for no batching")
    return size
