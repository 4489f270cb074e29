"""Movement ops: they move values around without arithmetic.

reshape, transpose, indexing (and its adjoint, scatter-add), concatenation, casts.
Each backward is the opposite movement applied to the gradient.
"""

from __future__ import annotations

import operator
from collections.abc import Sequence
from typing import Any

from ..autograd import Function
from ..tensor import Tensor


def _shape_str(shape: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


class Reshape(Function):
    """reshape: y = x viewed with a new shape (same elements, row-major order)
    dx = reshape(grad, x.shape)
    """

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
    size = x.size
    bad = shape.count(-1) > 1 or any(d < -1 for d in shape)
    if not bad and -1 in shape:
        bad = known == 0 or size % known != 0
        if not bad:
            shape = tuple(size // known if d == -1 else d for d in shape)
    elif not bad:
        bad = known != size
    if bad:
        raise ValueError(
            f"reshape: cannot reshape a tensor of shape {_shape_str(x.shape)} ({size} elements) "
            f"into shape {_shape_str(shape)}; expected a shape with {size} elements (at most one -1)"
        )
    return Reshape.apply(x, shape=shape)


class Transpose(Function):
    """transpose: y = x with its axes permuted, y.shape[i] = x.shape[axes[i]]
    dx = transpose(grad, inverse permutation of axes)
    """

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
            f"of shape {_shape_str(x.shape)}"
        )
    axes = tuple(a % n for a in axes)
    if axes == tuple(range(x.ndim)):
        return x
    return Transpose.apply(x, axes=axes)


def swap_last(x: Tensor) -> Tensor:
    """Transpose the last two axes (matrix transpose of a batch of matrices)."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return Transpose.apply(x, axes=tuple(axes))


# ------------------------------------------------------------------- indexing
def normalize_index(x: Tensor, index: Any) -> Any:
    """Turn Tensors and lists inside an index into arrays of ``x``'s backend."""
    if type(index) is int or type(index) is slice:  # x[t], x[a:b]: nothing to convert
        return index
    parts = index if isinstance(index, tuple) else (index,)
    out = []
    backend = x.backend
    for p in parts:
        if isinstance(p, Tensor):
            if p.backend is not backend:
                raise RuntimeError(
                    f"indexing: the index is on device {p.device!r} but the tensor is on "
                    f"{x.device!r}; expected both on one device"
                )
            if not (backend.is_integer(p.dtype) or backend.is_bool(p.dtype)):
                raise IndexError(f"indexing: index tensors must be integer or bool, got dtype {p.dtype}")
            p = p.data
        elif isinstance(p, list):
            p = backend.asarray(p)
            if p.size and not (backend.is_integer(p.dtype) or backend.is_bool(p.dtype)):
                raise IndexError(f"indexing: index lists must hold integers or bools, got dtype {p.dtype}")
            if not p.size:
                p = p.astype(backend.int64)
        elif backend.is_array(p):
            pass
        elif hasattr(p, "__array__") or hasattr(p, "__cuda_array_interface__"):
            p = backend.from_numpy(p) if backend.name == "cpu" else backend.asarray(p)
        elif not (isinstance(p, (int, slice)) or p is None or p is Ellipsis):
            raise IndexError(
                f"indexing: unsupported index element {p!r} of type {type(p).__name__}; expected "
                "ints, slices, None, Ellipsis, or integer/bool arrays"
            )
        out.append(p)
    return tuple(out) if isinstance(index, tuple) else out[0]


class GetItem(Function):
    """getitem: y = x[index]   (basic slicing or integer/bool-array indexing)
    dx = scatter_add(zeros(x.shape), index, grad)   (repeated indices accumulate)
    """

    def forward(self, x: Any, index: Any) -> Any:
        self.index = index
        return x[index]

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return index_add(grad, self.inputs[0].shape, self.index)

    def backward_into(self, grad: Any, buffer: Any) -> None:
        """Plain-backward shortcut: add ``grad`` straight into x's gradient buffer.

        A loop that reads ``x[t]`` at every step would otherwise build T full-size
        arrays of zeros, one per read: O(T^2) work. Same result, in O(T).
        """
        self.inputs[0].backend.index_add_(buffer, self.index, grad)


class IndexAdd(Function):
    """scatter_add: y = zeros(shape); y[index] += v   (repeated indices accumulate)
    dv = grad[index]
    """

    def forward(self, v: Any, shape: tuple[int, ...], index: Any) -> Any:
        self.index = index
        return self.inputs[0].backend.index_add(shape, index, v, v.dtype)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return GetItem.apply(grad, index=self.index)


def getitem(x: Tensor, index: Any) -> Tensor:
    """``x[index]``, differentiable. Bad indices raise ``IndexError`` naming the shape."""
    index = normalize_index(x, index)
    try:
        return GetItem.apply(x, index=index)
    except IndexError as e:
        raise IndexError(f"indexing a tensor of shape {_shape_str(x.shape)}: {e}") from None
    except (TypeError, ValueError) as e:  # a slice step of 0, ...
        raise IndexError(f"indexing a tensor of shape {_shape_str(x.shape)} with {index!r}: {e}") from None


def index_add(v: Tensor, shape: tuple[int, ...], index: Any) -> Tensor:
    """A tensor of zeros of ``shape`` with ``v`` added at ``index`` (adjoint of getitem)."""
    return IndexAdd.apply(v, shape=tuple(shape), index=index)


# ---------------------------------------------------------------- concatenation
class Cat(Function):
    """cat: y = [x_1, x_2, ...] joined along ``axis``
    dx_k = grad[..., offset_k : offset_k + x_k.shape[axis], ...]   (the slice x_k came from)
    """

    def forward(self, *xs: Any, axis: int) -> Any:
        self.axis = axis
        return self.inputs[0].backend.concatenate(xs, axis=axis)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, ...]:
        grads: list[Tensor | None] = []
        lead = (slice(None),) * self.axis
        start = 0
        for x in self.inputs:
            stop = start + x.shape[self.axis]
            grads.append(GetItem.apply(grad, index=lead + (slice(start, stop),)) if x.requires_grad else None)
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
                f"{name}: tensor 0 has shape {_shape_str(first)} but tensor {k} has shape "
                f"{_shape_str(t.shape)}; expected {what} to match"
            )


def _normalize_axis(axis: int, ndim: int, name: str) -> int:
    if isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}: axis {axis!r} is out of range for tensors with {ndim} dimensions; expected an int in "
            f"[{-ndim}, {ndim - 1}]"
        )
    return axis % ndim


def _as_tensor_list(name: str, tensors: Any) -> list[Tensor]:
    if isinstance(tensors, Tensor) or not isinstance(tensors, (list, tuple)) or not tensors:
        raise TypeError(f"{name}: expected a non-empty list or tuple of Tensors, got {type(tensors).__name__}")
    for k, t in enumerate(tensors):
        if not isinstance(t, Tensor):
            raise TypeError(f"{name}: element {k} is a {type(t).__name__}; expected a Tensor")
    return list(tensors)


def cat(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join tensors along an existing ``axis``."""
    tensors = _as_tensor_list("cat", tensors)
    if tensors[0].ndim == 0:
        raise ValueError("cat: zero-dimensional tensors cannot be concatenated; expected ndim >= 1 (use stack)")
    axis = _normalize_axis(axis, tensors[0].ndim, "cat")
    _check_same_shapes("cat", tensors, axis)
    return Cat.apply(*tensors, axis=axis)


class Stack(Function):
    """stack: y = [x_1, x_2, ...] joined along a new axis ``axis``
    dx_k = grad[..., k, ...]   (index k on the new axis)
    """

    def forward(self, *xs: Any, axis: int) -> Any:
        self.axis = axis
        return self.inputs[0].backend.stack(xs, axis=axis)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, ...]:
        lead = (slice(None),) * self.axis
        return tuple(
            GetItem.apply(grad, index=lead + (k,)) if x.requires_grad else None for k, x in enumerate(self.inputs)
        )


def stack(tensors: Sequence[Tensor], axis: int = 0) -> Tensor:
    """Join same-shape tensors along a new ``axis``."""
    tensors = _as_tensor_list("stack", tensors)
    _check_same_shapes("stack", tensors, None)
    axis = _normalize_axis(axis, tensors[0].ndim + 1, "stack")
    return Stack.apply(*tensors, axis=axis)


# ------------------------------------------------------------------------- casts
class Cast(Function):
    """cast: y = x converted to another floating dtype
    dx = cast(grad, x.dtype)
    """

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
    return Cast.apply(x, dtype=dtype)
