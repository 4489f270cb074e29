"""Layers without parameters that only pass data on or reshape it: ``Identity``,
``Flatten``, ``Unflatten`` (PyTorch's names, arguments and ``repr``)."""

from __future__ import annotations

import math
from typing import Any

from ..tensor import Tensor
from .checks import as_int
from .module import Module


class Identity(Module):
    """y = x. Any constructor arguments are accepted and ignored, as in PyTorch.

    Example:
        >>> from tinygrad_rnn import Tensor, nn
        >>> nn.Identity(54, unused="argument")(Tensor([1.0, 2.0])).tolist()
        [1.0, 2.0]
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__()

    def forward(self, x: Any) -> Any:
        return x


def _dim(name: str, what: str, value: Any, ndim: int) -> int:
    d = as_int(value)
    if d is None or not -ndim <= d < ndim:
        raise IndexError(f"{name}: {what}={value!r} for a tensor with {ndim} dims; expected an int in "
                         f"[{-ndim}, {ndim - 1}]")
    return d + ndim if d < 0 else d


class Flatten(Module):
    """Merge axes ``start_dim`` .. ``end_dim`` (inclusive) into one.

    Shapes:
        x: (d_0, ..., d_s, ..., d_e, ...); output: (d_0, ..., d_s * ... * d_e, ...).
        A 0-d x becomes (1,).

    Args:
        start_dim: first axis merged (default 1: keep the batch axis).
        end_dim: last axis merged (default -1).

    Raises:
        IndexError: an axis outside x's dims.  ValueError: ``start_dim`` after ``end_dim``.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1) -> None:
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, x: Tensor) -> Tensor:
        shape = x.shape if x.ndim else (1,)
        s = _dim("Flatten", "start_dim", self.start_dim, len(shape))
        e = _dim("Flatten", "end_dim", self.end_dim, len(shape))
        if s > e:
            raise ValueError(f"Flatten: start_dim={self.start_dim} comes after end_dim={self.end_dim} for a "
                             f"tensor of shape {x.shape}; expected start_dim <= end_dim")
        return x.reshape(*shape[:s], math.prod(shape[s:e + 1]), *shape[e + 1:])

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split axis ``dim`` into ``unflattened_size``, the inverse of :class:`Flatten`.

    Shapes:
        x: (..., d, ...) with d = prod(unflattened_size) at ``dim``; output: (..., *unflattened_size, ...).

    Raises:
        IndexError: ``dim`` outside x's dims.  ValueError: sizes whose product is not d.
    """

    def __init__(self, dim: int, unflattened_size: tuple[int, ...]) -> None:
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, x: Tensor) -> Tensor:
        d = _dim("Unflatten", "dim", self.dim, x.ndim)
        sizes = list(self.unflattened_size)
        if sizes.count(-1) == 1 and math.prod(s for s in sizes if s != -1):
            sizes[sizes.index(-1)] = x.shape[d] // math.prod(s for s in sizes if s != -1)
        if math.prod(sizes) != x.shape[d]:
            raise ValueError(f"Unflatten: unflattened_size={self.unflattened_size} does not split axis {d} of "
                             f"size {x.shape[d]} (tensor of shape {x.shape}); expected sizes whose product is "
                             f"{x.shape[d]}")
        return x.reshape(*x.shape[:d], *sizes, *x.shape[d + 1:])

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"
