"""``DistributedSampler``: each process reads its own share of a dataset (PyTorch's semantics).

The indices 0..n-1 (shuffled with a seed, the same on every process) are dealt out like
cards: rank r gets positions r, r + R, r + 2R, ... of the list, R the number of
processes. So the shares are disjoint and, together, the whole dataset. Every share has
the same length (processes must run the same number of steps, or the collectives of
the longer ones would wait forever): with ``drop_last=False`` the list is padded by
repeating its first indices until R divides it (a few samples are seen twice per
epoch); with ``drop_last=True`` the tail that does not divide is dropped instead.

``set_epoch(e)`` before each epoch gives that epoch its own order (the seed is
``seed + e``); without it every epoch repeats the first one's order.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

from .group import current


class DistributedSampler:
    """The indices of ``dataset`` this process reads, one epoch per ``iter()``.

    Args:
        dataset: anything with ``len()``.
        num_replicas: the number of processes R (default: the world size of
            ``tr.distributed``, which must then be initialized).
        rank: this process's rank (default: ``tr.distributed.get_rank()``).
        shuffle: shuffle the indices each epoch (the same order on every process).
        seed: the shuffle's seed; epoch e uses ``seed + e``.
        drop_last: drop the tail that R does not divide instead of padding with repeats.

    Raises:
        TypeError: ``dataset`` has no ``len()``, or an argument is not an int.
        ValueError: ``num_replicas`` < 1 or ``rank`` not in [0, num_replicas).
        RuntimeError: ``num_replicas`` or ``rank`` is omitted before ``init_process_group``.

    Example:
        >>> sampler = DistributedSampler(range(10), num_replicas=4, rank=1, shuffle=False)
        >>> list(sampler), len(sampler)
        ([1, 5, 9], 3)
    """

    def __init__(self, dataset: Any, num_replicas: int | None = None, rank: int | None = None, shuffle: bool = True,
                 seed: int = 0, drop_last: bool = False) -> None:
        try:
            self.n = len(dataset)
        except TypeError:
            raise TypeError(f"DistributedSampler: dataset is a {type(dataset).__name__} without len(); expected a "
                            "sized dataset") from None
        if num_replicas is None or rank is None:
            g = current()
            num_replicas = g.size if num_replicas is None else num_replicas
            rank = g.rank if rank is None else rank
        for name, value in (("num_replicas", num_replicas), ("rank", rank), ("seed", seed)):
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"DistributedSampler: {name}={value!r}; expected an int")
        if num_replicas < 1:
            raise ValueError(f"DistributedSampler: num_replicas={num_replicas}; expected at least 1")
        if not 0 <= rank < num_replicas:
            raise ValueError(f"DistributedSampler: rank={rank}; expected an int in [0, {num_replicas - 1}]")
        self.dataset, self.num_replicas, self.rank = dataset, num_replicas, rank
        self.shuffle, self.seed, self.drop_last = bool(shuffle), seed, bool(drop_last)
        self.epoch = 0
        if drop_last:
            self.num_samples = self.n // num_replicas
        else:
            self.num_samples = math.ceil(self.n / num_replicas)
        self.total_size = self.num_samples * num_replicas

    def __iter__(self) -> Iterator[int]:
        indices = list(range(self.n))
        if self.shuffle:
            random.Random(self.seed + self.epoch).shuffle(indices)
        if self.total_size > self.n:  # pad with repeats from the front (again and again for a tiny dataset)
            repeats = math.ceil((self.total_size - self.n) / max(self.n, 1))
            indices += (indices * repeats)[: self.total_size - self.n]
        indices = indices[: self.total_size]
        return iter(indices[self.rank::self.num_replicas])

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Use epoch ``epoch``'s order from the next ``iter()`` on (call it on every process)."""
        if isinstance(epoch, bool) or not isinstance(epoch, int):
            raise TypeError(f"DistributedSampler.set_epoch: epoch={epoch!r}; expected an int")
        self.epoch = epoch
