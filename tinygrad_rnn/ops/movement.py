"""Movement ops: they move values around without arithmetic.

reshape, transpose, indexing (and its adjoint, scatter-add), concatenation, casts.
Each backward is the opposite movement applied to the gradient.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from ..autograd import Function
from .base import TensorOps, one_axis, shape_str
from .indexing import GetItem, getitem

if TYPE_CHECKING:
    from ..tensor import Tensor


class Reshape(Function):
    """reshape: y = x viewed with a new shape (same elements, row-major order)
    dx = reshape(grad, x.shape)
    """

    reads_inputs = False
    returns_view = True

    def forward(self, x: Any, shape: tuple[int, ...]) -> Any:
        return x.reshape(shape)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return reshape(grad, self.inputs[0].shape)


def reshape(x: Tensor, *shape: Any) -> Tensor:
    """``x`` with shape ``shape`` (one entry may be -1, inferred)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        shape = tuple(operator.index(d) for d in shape)
    except TypeError:
        raise TypeError(f"reshape: shape {shape!r}; expected ints (one of them may be -1)") from None
    if shape == x.shape:
        return x
    known = 1
    for d in shape:
        if d != -1:
            known *= d
    size = x.numel()
    bad = shape.count(-1) > 1 or any(d < -1 for d in shape)
    if not bad and -1 in shape:
        bad = known == 0 or size % known != 0
        if not bad:
            shape = tuple(size // known if d == -1 else d for d in shape)
    elif not bad:
        bad = known != size
    if bad:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {shape_str(x.shape)} ({size} elements) "
            f"into shape {shape_str(shape)}; expected a shape with {size} elements (at most one -1)"
        )
    return x._apply(Reshape, shape=shape)


class Transpose(Function):
    """transpose: y = x with its axes permuted, y.shape[i] = x.shape[axes[i]]
    dx = transpose(grad, inverse permutation of axes)
    """

    reads_inputs = False
    returns_view = True

    def forward(self, x: Any, axes: tuple[int, ...]) -> Any:
        self.axes = axes
        return x.transpose(axes)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        inverse = [0] * len(self.axes)
        for i, a in enumerate(self.axes):
            inverse[a] = i
        return transpose(grad, *inverse)


def transpose(x: Tensor, *axes: Any) -> Tensor:
    """Permute the axes of ``x``; with no ``axes``, reverse them (as NumPy does)."""
    if len(axes) == 1 and isinstance(axes[0], (tuple, list)):
        axes = tuple(axes[0])
    if not axes:
        axes = tuple(range(x.ndim))[::-1]
    n = x.ndim
    try:
        axes = tuple(operator.index(a) for a in axes)
    except TypeError:
        raise TypeError(f"transpose: axes {axes!r}; expected ints, a permutation of range({n})") from None
    if len(axes) != n or any(not -n <= a < n for a in axes) or sorted(a % n for a in axes) != list(range(n)):
        raise ValueError(
            f"transpose: axes {axes} are not a permutation of the {n} axes of a tensor "
            f"of shape {shape_str(x.shape)}"
        )
    axes = tuple(a % n for a in axes)
    if axes == tuple(range(x.ndim)):
        return x
    return x._apply(Transpose, axes=axes)


# ---------------------------------------------------------------- concatenation
class Cat(Function):
    """cat: y = [x_1, x_2, ...] joined along ``axis``
    dx_k = grad[..., offset_k : offset_k + x_k.shape[axis], ...]   (the slice x_k came from)
    """

    reads_inputs = False

    def forward(self, *xs: Any, axis: int) -> Any:
        self.axis = axis
        return self.backend.concatenate(xs, axis=axis)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, ...]:
        grads: list[Tensor | None] = []
        lead = (slice(None),) * self.axis
        start = 0
        for x in self.inputs:
            stop = start + x.shape[self.axis]
            grads.append(grad._apply(GetItem, index=lead + (slice(start, stop),)) if x.requires_grad else None)
            start = stop
        return tuple(grads)


def _check_same_shapes(name: str, tensors: Sequence[Tensor], skip_axis: int | None) -> None:
    first = tensors[0].shape
    for k, t in enumerate(tensors):
        same_rank = len(t.shape) == len(first)
        mismatch = not same_rank or any(
            a != b for i, (a, b) in enumerate(zip(t.shape, first, strict=False)) if i != skip_axis
        )
        if mismatch:
            what = "all dimensions" if skip_axis is None else f"all dimensions except axis {skip_axis}"
            raise ValueError(
                f"{name}: tensor 0 has shape {shape_str(first)} but tensor {k} has shape "
                f"{shape_str(t.shape)}; expected {what} to match"
            )


def _as_tensor_list(name: str, tensors: Any) -> list[Tensor]:
    if isinstance(tensors, TensorOps) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{name}: expected a non-empty list or tuple of Tensors, got {type(tensors).__name__}")
    for k, t in enumerate(tensors):
        if not isinstance(t, TensorOps):
            raise TypeError(f"{name}: element {k} is a {type(t).__name__}; expected a Tensor")
    return list(tensors)


def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis``."""
    tensors = _as_tensor_list("cat", tensors)
    if tensors[0].ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; expected ndim >= 1 (use stack)")
    axis = one_axis(axis, tensors[0].ndim, "cat")
    _check_same_shapes("cat", tensors, axis)
    return tensors[0]._apply(Cat, *tensors[1:], axis=axis)


class Stack(Function):
    """stack: y = [x_1, x_2, ...] joined along a new axis ``axis``
    dx_k = grad[..., k, ...]   (index k on the new axis)
    """

    reads_inputs = False

    def forward(self, *xs: Any, axis: int) -> Any:
        self.axis = axis
        return self.backend.stack(xs, axis=axis)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, ...]:
        lead = (slice(None),) * self.axis
        return tuple(
            grad._apply(GetItem, index=lead + (k,)) if x.requires_grad else None for k, x in enumerate(self.inputs)
        )


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new ``axis``."""
    tensors = _as_tensor_list("stack", tensors)
    _check_same_shapes("stack", tensors, None)
    axis = one_axis(axis, tensors[0].ndim + 1, "stack")
    return tensors[0]._apply(Stack, *tensors[1:], axis=axis)


# ------------------------------------------------------------------------- casts
class Cast(Function):
    """cast: y = x converted to another floating dtype
    dx = cast(grad, x.dtype)
    """

    reads_inputs = False

    def forward(self, x: Any, dtype: Any) -> Any:
        return x.astype(dtype)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return cast(grad, self.inputs[0].dtype)


def cast(x: Tensor, dtype: Any) -> Tensor:
    """``x`` as ``dtype``; differentiable between floating dtypes."""
    dtype = x.backend.dtype(dtype)
    if dtype == x.dtype:
        return x
    if x.requires_grad and not x.backend.is_floating(dtype):
        raise TypeError(f"cast: cannot cast a tensor that requires grad to non-float dtype {dtype}")
    return x._apply(Cast, dtype=dtype)


def to_dtype(x: Tensor, dtype: Any) -> Tensor:
    """``x`` as ``dtype``, PyTorch's way: a cast to floats stays on the tape, one to integers
    or bools leaves it (their values have no gradient)."""
    dtype = x.backend.dtype(dtype)
    return cast(x if x.backend.is_floating(dtype) else x.detach(), dtype)


# ------------------------------------------------------------- the Tensor methods
class MovementOps(TensorOps):
    """Reshapes, transposes, indexing and casts as Tensor methods."""

    __slots__ = ()

    def reshape(self, *shape: Any) -> Tensor:
        return reshape(self, *shape)

    def transpose(self, *axes: Any, dim0: int | None = None, dim1: int | None = None) -> Tensor:
        """``transpose(dim0, dim1)``: swap two axes (PyTorch). Any other number of axes, or
        one tuple, is a permutation of all of them (NumPy); none reverses them."""
        if dim0 is not None or dim1 is not None:
            axes = (*axes, *(d for d in (dim0, dim1) if d is not None))
            if len(axes) != 2:
                raise TypeError(f"transpose: got axes {axes!r}; expected exactly two, dim0 and dim1")
        if len(axes) == 2 and not any(isinstance(a, (bool, tuple, list)) for a in axes):
            try:
                a, b = (one_axis(operator.index(d), max(self.ndim, 1), "transpose") for d in axes)
            except TypeError:
                raise TypeError(f"transpose: axes {axes!r}; expected two ints (dim0, dim1)") from None
            if self.ndim < 2 or a == b:
                return self
            order = list(range(self.ndim))
            order[a], order[b] = b, a
            return transpose(self, order)
        return transpose(self, *axes)

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-D)."""
        return transpose(self)

    def __getitem__(self, index: Any) -> Tensor:
        return getitem(self, index)

    def __iter__(self) -> Any:
        """``for x_t in x``: the sub-tensors along axis 0 (differentiable, as ``x[t]``)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; expected a tensor with at least 1 dimension")
        return (getitem(self, t) for t in range(self.shape[0]))

    def astype(self, dtype: Any) -> Tensor:
        return cast(self, dtype)

    def float(self) -> Tensor:
        return cast(self, "float32")

    def double(self) -> Tensor:
        return cast(self, "float64")

    def half(self) -> Tensor:
        """float16 (NumPy computes in float16 on the CPU: slow, and less exact than on a GPU)."""
        return cast(self, "float16")

    def long(self) -> Tensor:
        """int64 values (not differentiable: an index has no gradient)."""
        return cast(self.detach(), "int64")

    def int(self) -> Tensor:
        """int32 values (not differentiable)."""
        return cast(self.detach(), "int32")

    def short(self) -> Tensor:
        return cast(self.detach(), "int16")

    def bool(self) -> Tensor:
        """True where nonzero (not differentiable)."""
        return cast(self.detach(), "bool")

    def type_as(self, other: Tensor) -> Tensor:
        """This tensor with ``other``'s dtype."""
        return to_dtype(self, other.dtype)
