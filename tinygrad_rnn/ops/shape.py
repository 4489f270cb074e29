"""PyTorch's shape methods, built from the movement ops.

``view``, ``unsqueeze``, ``squeeze``, ``flatten`` and ``unflatten`` are reshapes;
``t``, ``permute``, ``swapaxes`` and ``movedim`` are transposes; ``narrow``, ``split``,
``chunk``, ``unbind`` and ``flip`` are slices (``roll`` joins two); ``expand`` is a
broadcast and ``repeat`` a broadcast between two reshapes; ``tril``/``triu`` mask and
``cumsum`` multiplies by a triangle of ones. None of them has a backward of its own:
each gradient is the one of the ops it is built from.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

from .base import TensorOps, one_axis, shape_str
from .indexing import getitem
from .movement import cat, reshape, transpose
from .reduce import broadcast_to

if TYPE_CHECKING:
    from ..tensor import Tensor


def _ints(name: str, values: tuple) -> tuple[int, ...]:
    """``f(1, 2)`` or ``f((1, 2))`` -> ``(1, 2)``; anything but ints raises a TypeError naming ``f``."""
    if len(values) == 1 and isinstance(values[0], (tuple, list)):
        values = tuple(values[0])
    try:
        if any(isinstance(v, bool) for v in values):
            raise TypeError
        return tuple(operator.index(v) for v in values)
    except TypeError:
        raise TypeError(f"{name}: got {values!r}; expected ints") from None


def _sections(x: Tensor, axis: int, sizes: list[int]) -> tuple[Tensor, ...]:
    out, start = [], 0
    for n in sizes:
        out.append(getitem(x, (slice(None),) * axis + (slice(start, start + n),)))
        start += n
    return tuple(out)


def _squeezable_axes(x: Tensor, dim: Any) -> list[int]:
    if dim is None:
        return [i for i, d in enumerate(x.shape) if d == 1]
    dims = dim if isinstance(dim, (tuple, list)) else (dim,)
    axes = [one_axis(d, max(x.ndim, 1), "squeeze") for d in dims]
    return [a for a in axes if x.ndim and x.shape[a] == 1]  # PyTorch: a dim of size > 1 is left as it is


class ShapeOps(TensorOps):
    """Reshapes, transposes and broadcasts under PyTorch's names."""

    __slots__ = ()

    def size(self, dim: int | None = None) -> Any:
        """The shape (PyTorch's ``t.size()``), or the length of axis ``dim``; the element count is ``numel()``."""
        if dim is None:
            return self.shape
        if isinstance(dim, bool) or not isinstance(dim, int) or not -self.ndim <= dim < max(self.ndim, 1):
            raise IndexError(f"size({dim!r}): a tensor of shape {self.shape} has {self.ndim} dimensions; expected an "
                             f"int in [{-self.ndim}, {self.ndim - 1}]")
        return self.shape[dim]

    def numel(self) -> int:
        """The number of elements (the product of the shape)."""
        n = 1
        for d in self.shape:
            n *= d
        return n

    def dim(self) -> int:
        """The number of dimensions (``ndim``)."""
        return self.ndim

    def view(self, *shape: Any) -> Tensor:
        """``reshape``: the same elements in a new shape (one entry may be -1).

        Unlike PyTorch's ``view``, it also works on a transposed tensor (copying when the
        memory layout needs it), and a write into the result reaches ``self`` only if no
        copy was made. ``view(dtype)`` is not supported.
        """
        if len(shape) == 1 and not isinstance(shape[0], (int, tuple, list)) and not hasattr(shape[0], "__index__"):
            raise TypeError(f"view({shape[0]!r}): reinterpreting the bytes as another dtype is not supported; "
                            "expected a shape (convert values with .to(dtype))")
        return reshape(self, *shape)

    def view_as(self, other: Tensor) -> Tensor:
        return reshape(self, other.shape)

    def reshape_as(self, other: Tensor) -> Tensor:
        return reshape(self, other.shape)

    def unsqueeze(self, dim: int) -> Tensor:
        """A new axis of size 1 at position ``dim`` (in [-ndim-1, ndim])."""
        axis = one_axis(dim, self.ndim + 1, "unsqueeze")
        return reshape(self, self.shape[:axis] + (1,) + self.shape[axis:])

    def squeeze(self, dim: Any = None) -> Tensor:
        """Drop the axes of size 1 (only ``dim``, an int or a tuple, if given; a named axis
        whose size is not 1 stays, as in PyTorch)."""
        axes = _squeezable_axes(self, dim)
        return reshape(self, tuple(d for i, d in enumerate(self.shape) if i not in axes)) if axes else self

    def flatten(self, start_dim: int = 0, end_dim: int = -1) -> Tensor:
        """Merge the axes ``start_dim..end_dim`` (inclusive) into one; a 0-d tensor becomes 1-d."""
        if self.ndim == 0:
            return reshape(self, (1,))
        start, end = one_axis(start_dim, self.ndim, "flatten"), one_axis(end_dim, self.ndim, "flatten")
        if start > end:
            raise ValueError(f"flatten: start_dim {start_dim} comes after end_dim {end_dim}; expected start <= end")
        merged = 1
        for d in self.shape[start : end + 1]:
            merged *= d
        return reshape(self, self.shape[:start] + (merged,) + self.shape[end + 1 :])

    def unflatten(self, dim: int, sizes: Any) -> Tensor:
        """Split axis ``dim`` into ``sizes`` (one entry may be -1)."""
        axis = one_axis(dim, self.ndim, "unflatten")
        sizes = _ints("unflatten", (sizes,))
        return reshape(self, self.shape[:axis] + sizes + self.shape[axis + 1 :])

    # ------------------------------------------------------------ transposes
    def t(self) -> Tensor:
        """The matrix transpose of a 2-D tensor (0-d and 1-d tensors come back as they are)."""
        if self.ndim > 2:
            raise ValueError(f"t(): a tensor of shape {shape_str(self.shape)} has {self.ndim} dimensions; expected "
                             "at most 2 (use .transpose(dim0, dim1) or .mT)")
        return transpose(self) if self.ndim == 2 else self

    def permute(self, *dims: Any) -> Tensor:
        """Reorder all axes: ``y.shape[i] = x.shape[dims[i]]``."""
        return transpose(self, *_ints("permute", dims))

    def swapaxes(self, axis0: int, axis1: int) -> Tensor:
        """Exchange two axes (PyTorch's ``transpose(dim0, dim1)``)."""
        return self.transpose(axis0, axis1)

    swapdims = swapaxes

    def movedim(self, source: Any, destination: Any) -> Tensor:
        """Move axes ``source`` to positions ``destination`` (ints or equal-length tuples)."""
        src = [one_axis(d, self.ndim, "movedim") for d in _ints("movedim", (source,))]
        dst = [one_axis(d, self.ndim, "movedim") for d in _ints("movedim", (destination,))]
        if len(src) != len(dst) or len(set(src)) != len(src) or len(set(dst)) != len(dst):
            raise ValueError(f"movedim: source {source!r} and destination {destination!r}; expected as many "
                             "distinct axes in each")
        rest = iter(d for d in range(self.ndim) if d not in src)
        placed = dict(zip(dst, src, strict=True))
        return transpose(self, [placed[i] if i in placed else next(rest) for i in range(self.ndim)])

    @property
    def mT(self) -> Tensor:  # noqa: N802 (PyTorch's name)
        """The last two axes swapped (a batch of matrix transposes)."""
        if self.ndim < 2:
            raise ValueError(f".mT: a tensor of shape {shape_str(self.shape)}; expected at least 2 dimensions")
        return self.swapaxes(-2, -1)

    def contiguous(self) -> Tensor:
        """The tensor itself: the backends lay out memory as each op needs, so there is
        nothing to do (``is_contiguous`` is not tracked)."""
        return self

    # ------------------------------------------------------------ slices and copies
    def narrow(self, dim: int, start: int, length: int) -> Tensor:
        """``self[..., start:start + length, ...]`` along ``dim`` (a view, differentiable)."""
        axis = one_axis(dim, self.ndim, "narrow")
        size = self.shape[axis]
        start, length = _ints("narrow", (start, length))
        if start < 0:
            start += size
        if not 0 <= start <= size or length < 0 or start + length > size:
            raise ValueError(f"narrow: start {start} and length {length} on dimension {axis} of size {size}; "
                             "expected 0 <= start and start + length <= size")
        return getitem(self, (slice(None),) * axis + (slice(start, start + length),))

    def expand(self, *sizes: Any) -> Tensor:
        """Broadcast to ``sizes`` without copying (-1 keeps a size); axes of size 1 and new
        leading axes are repeated. The gradient sums over the copies."""
        sizes = _ints("expand", sizes)
        lead = len(sizes) - self.ndim
        if lead < 0:
            raise ValueError(f"expand{sizes}: fewer sizes than the {self.ndim} dimensions of a tensor of shape "
                             f"{shape_str(self.shape)}; expected at least {self.ndim}")
        shape = tuple(self.shape[i - lead] if s == -1 and i >= lead else s for i, s in enumerate(sizes))
        if any(s < 0 for s in shape):
            raise ValueError(f"expand{sizes}: -1 only keeps an existing dimension; expected sizes >= 0 for the "
                             f"{lead} new leading dimensions")
        if any(d not in (1, s) for d, s in zip(self.shape, shape[lead:], strict=True)):
            raise ValueError(f"expand{sizes}: a tensor of shape {shape_str(self.shape)} cannot grow to "
                             f"{shape_str(shape)}; expected each dimension to stay or to be 1")
        return broadcast_to(self, shape)

    def expand_as(self, other: Tensor) -> Tensor:
        return self.expand(*other.shape)

    def repeat(self, *repeats: Any) -> Tensor:
        """Tile: ``repeats[i]`` copies along axis i (numpy.tile); more repeats than axes add
        leading axes. Built as reshape, broadcast, reshape."""
        repeats = _ints("repeat", repeats)
        if len(repeats) < self.ndim or any(r < 0 for r in repeats):
            raise ValueError(f"repeat{repeats}: expected at least {self.ndim} non-negative counts, one per dimension "
                             f"of a tensor of shape {shape_str(self.shape)}")
        shape = (1,) * (len(repeats) - self.ndim) + self.shape
        spread = reshape(self, tuple(v for d in shape for v in (1, d)))  # (1, d0, 1, d1, ...)
        tiled = broadcast_to(spread, tuple(v for r, d in zip(repeats, shape, strict=True) for v in (r, d)))
        return reshape(tiled, tuple(r * d for r, d in zip(repeats, shape, strict=True)))

    # --------------------------------------------------------- splitting and rearranging
    def split(self, split_size_or_sections: Any, dim: int = 0) -> tuple[Tensor, ...]:
        """Pieces of ``split_size`` along ``dim`` (the last may be smaller), or of the listed sizes."""
        axis = one_axis(dim, self.ndim, "split")
        n = self.shape[axis]
        if isinstance(split_size_or_sections, (list, tuple)):
            sizes = list(split_size_or_sections)
            if sum(sizes) != n or any(s < 0 for s in sizes):
                raise ValueError(f"split: sizes {sizes} for dimension {axis} of size {n}; expected non-negative sizes "
                                 f"adding up to {n}")
        else:
            size = operator.index(split_size_or_sections)
            if size <= 0:
                raise ValueError(f"split: split_size={size}; expected a positive int")
            sizes = [min(size, n - i) for i in range(0, n, size)] or [0]
        return _sections(self, axis, sizes)

    def chunk(self, chunks: int, dim: int = 0) -> tuple[Tensor, ...]:
        """``chunks`` pieces of size ceil(n / chunks) along ``dim`` (fewer if they run out), as PyTorch."""
        if isinstance(chunks, bool) or not isinstance(chunks, int) or chunks <= 0:
            raise ValueError(f"chunk: chunks={chunks!r}; expected a positive int")
        n = self.shape[one_axis(dim, self.ndim, "chunk")]
        return self.split(max(-(-n // chunks), 1), dim)

    def unbind(self, dim: int = 0) -> tuple[Tensor, ...]:
        """The slices along ``dim``, that axis removed."""
        axis = one_axis(dim, self.ndim, "unbind")
        return tuple(getitem(self, (slice(None),) * axis + (i,)) for i in range(self.shape[axis]))

    def flip(self, *dims: Any) -> Tensor:
        """Reverse the order along ``dims``."""
        dims = dims[0] if len(dims) == 1 and isinstance(dims[0], (tuple, list)) else dims
        axes = {one_axis(d, self.ndim, "flip") for d in dims}
        return getitem(self, tuple(slice(None, None, -1) if i in axes else slice(None) for i in range(self.ndim)))

    def roll(self, shifts: Any, dims: Any = None) -> Tensor:
        """Shift elements along ``dims`` (of the flattened tensor if None), wrapping around."""
        if dims is None:
            return self.reshape(-1).roll(shifts, 0).reshape(self.shape)
        shifts = shifts if isinstance(shifts, (tuple, list)) else (shifts,)
        dims = dims if isinstance(dims, (tuple, list)) else (dims,)
        if len(shifts) != len(dims):
            raise ValueError(f"roll: {len(shifts)} shifts and {len(dims)} dims; expected as many of each")
        out = self
        for shift, d in zip(shifts, dims, strict=True):
            axis = one_axis(d, self.ndim, "roll")
            n = self.shape[axis]
            k = shift % n if n else 0
            if k:
                head, tail = _sections(out, axis, [n - k, k])
                out = cat([tail, head], axis)
        return out

    def repeat_interleave(self, repeats: int, dim: int | None = None) -> Tensor:
        """Each element ``repeats`` times in a row along ``dim`` (of the flattened tensor if None)."""
        if isinstance(repeats, bool) or not isinstance(repeats, int) or repeats < 0:
            raise ValueError(f"repeat_interleave: repeats={repeats!r}; expected a non-negative int (per-element "
                             "counts are not supported)")
        x = self.reshape(-1) if dim is None else self
        axis = 0 if dim is None else one_axis(dim, self.ndim, "repeat_interleave")
        spread = x.unsqueeze(axis + 1).expand(*x.shape[: axis + 1], repeats, *x.shape[axis + 1:])
        return spread.flatten(axis, axis + 1)

    def tril(self, diagonal: int = 0) -> Tensor:
        """The lower triangle of the last two axes (j <= i + diagonal); the rest 0."""
        return self._triangle("tril", diagonal, lower=True)

    def triu(self, diagonal: int = 0) -> Tensor:
        """The upper triangle of the last two axes (j >= i + diagonal); the rest 0."""
        return self._triangle("triu", diagonal, lower=False)

    def _triangle(self, name: str, diagonal: int, lower: bool) -> Tensor:
        if self.ndim < 2:
            raise ValueError(f"{name}: a tensor of shape {shape_str(self.shape)}; expected at least 2 dimensions")
        rows, cols = self.shape[-2:]
        i = type(self).arange(rows, device=self.device).reshape(rows, 1)
        j = type(self).arange(cols, device=self.device).reshape(1, cols)
        keep = (j <= i + diagonal) if lower else (j >= i + diagonal)
        return self.masked_fill(~keep, 0)

    def cumsum(self, dim: int) -> Tensor:
        """Running sums along ``dim`` (a matrix product with a triangle of ones: O(n^2), for short axes)."""
        axis = one_axis(dim, max(self.ndim, 1), "cumsum")
        if self.ndim == 0:
            return self
        n = self.shape[axis]
        upper = type(self).ones(n, n, device=self.device, dtype=self.dtype).triu()
        moved = transpose(self, [d for d in range(self.ndim) if d != axis] + [axis])
        return (moved @ upper).movedim(-1, axis)
