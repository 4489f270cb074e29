"""Reductions and their adjoint, broadcasting.

``sum`` and ``broadcast_to`` are each other's backward: summing copies an incoming
gradient to every summed element; broadcasting sums the gradients of all the copies.
``unbroadcast`` is the one helper every broadcasting op uses to reduce a gradient
back to its operand's shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

from ..autograd import Function
from .base import TensorOps, axis_args, one_axis, shape_str
from .indexing import along_axis
from .movement import reshape

if TYPE_CHECKING:
    from ..tensor import Tensor


def normalize_axes(axis: Any, ndim: int, name: str) -> tuple[int, ...]:
    """``axis`` (None, an int or a tuple of ints) -> sorted non-negative tuple."""
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (tuple, list)) else (axis,)
    out = []
    for a in axes:
        if isinstance(a, bool) or not isinstance(a, int) or not -max(ndim, 1) <= a < max(ndim, 1):
            raise ValueError(
                f"{name}: axis {axis!r} is out of range for a tensor with {ndim} dimensions; "
                f"expected ints in [{-ndim}, {ndim - 1}]"
            )
        out.append(a % ndim if ndim else 0)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: axis {axis!r} repeats an axis")
    return tuple(sorted(out)) if ndim else ()


def keepdims_shape(shape: tuple[int, ...], axes: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(1 if i in axes else d for i, d in enumerate(shape))


class Sum(Function):
    """sum: y = sum of x over ``axes``
    dx = broadcast_to(grad with the summed axes kept as size 1, x.shape)
    """

    reads_inputs = False

    def forward(self, x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
        self.axes, self.keepdims = axes, keepdims
        return self.backend.sum(x, axis=axes, keepdims=keepdims)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        shape = self.inputs[0].shape
        if not self.keepdims:
            grad = reshape(grad, keepdims_shape(shape, self.axes))
        return broadcast_to(grad, shape)


def reduce_sum(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Sum over ``axis`` (None: all axes; an int or a tuple of ints)."""
    axes = normalize_axes(axis, x.ndim, "sum")
    return x._apply(Sum, axes=axes, keepdims=keepdims)


def mean(x: Tensor, axis: Any = None, keepdims: bool = False) -> Tensor:
    """Mean over ``axis`` (composite: sum, then divide by the count)."""
    axes = normalize_axes(axis, x.ndim, "mean")
    count = 1
    for a in axes:
        count *= x.shape[a]
    if count == 0:
        raise ValueError(f"mean: reducing axis {axis!r} of a tensor of shape {shape_str(x.shape)} averages 0 elements")
    return x._apply(Sum, axes=axes, keepdims=keepdims) * (1.0 / count)


class Max(Function):
    """max: y = max of x over ``axes``   (with ``smallest``: min, the same with the minima)
    dx = broadcast(grad) * [x == y] / (number of maxima)   (ties share the gradient)
    """

    reads_inputs = False

    def forward(self, x: Any, axes: tuple[int, ...], keepdims: bool, smallest: bool = False) -> Any:
        backend = self.backend
        self.axes, self.keepdims = axes, keepdims
        # min is not -max(-x): negating the int8 value -128 overflows back to -128
        y = (backend.amin if smallest else backend.amax)(x, axis=axes, keepdims=True)
        mask = (x == y).astype(x.dtype)
        self.mask = mask / backend.sum(mask, axis=axes, keepdims=True)
        return y if keepdims else y.reshape(tuple(d for i, d in enumerate(x.shape) if i not in axes))

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        shape = self.inputs[0].shape
        if not self.keepdims:
            grad = reshape(grad, keepdims_shape(shape, self.axes))
        return broadcast_to(grad, shape) * grad._make(self.mask, grad.backend)


def reduce_max(x: Tensor, axis: Any = None, keepdims: bool = False, smallest: bool = False,
               name: str | None = None) -> Tensor:
    """Maximum (``smallest``: minimum) over ``axis``; the gradient goes to the extremes
    (split evenly on ties). ``name`` is the caller's, for errors."""
    name = name or ("min" if smallest else "max")
    axes = normalize_axes(axis, x.ndim, name)
    for a in axes:
        if x.shape[a] == 0:
            raise ValueError(f"{name}: axis {a} of a tensor of shape {shape_str(x.shape)} is empty; expected at least "
                             "one element")
    return x._apply(Max, axes=axes, keepdims=keepdims, smallest=smallest)


# ------------------------------------------------------------------- broadcasting
def broadcast_shapes(name: str, *shapes: tuple[int, ...]) -> tuple[int, ...]:
    """NumPy's broadcast rule, with an error that names the op and both shapes."""
    ndim = max(len(s) for s in shapes)
    out = []
    for i in range(-ndim, 0):
        dims = {s[i] for s in shapes if len(s) >= -i and s[i] != 1}
        if len(dims) > 1:
            listed = " and ".join(shape_str(s) for s in shapes)
            raise ValueError(
                f"{name}: shapes {listed} do not broadcast; expected each dimension to match or be 1 "
                f"(dimension {i} is {sorted(dims)})"
            )
        out.append(dims.pop() if dims else 1)
    return tuple(out)


class BroadcastTo(Function):
    """broadcast_to: y = x repeated along new leading axes and along its size-1 axes
    dx = unbroadcast(grad, x.shape)   (sum over the copies)
    """

    reads_inputs = False
    returns_view = True

    def forward(self, x: Any, shape: tuple[int, ...]) -> Any:
        return self.backend.broadcast_to(x, shape)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return unbroadcast(grad, self.inputs[0].shape)


def broadcast_to(x: Tensor, shape: tuple[int, ...]) -> Tensor:
    shape = tuple(shape)
    if x.shape == shape:
        return x
    if broadcast_shapes("broadcast_to", x.shape, shape) != shape:
        raise ValueError(f"broadcast_to: cannot broadcast shape {shape_str(x.shape)} to {shape_str(shape)}")
    return x._apply(BroadcastTo, shape=shape)


def unbroadcast(grad: Tensor, shape: tuple[int, ...]) -> Tensor:
    """Sum ``grad`` down to ``shape``: the gradient of a broadcast operand.

    An operand of shape ``shape`` that was broadcast to ``grad.shape`` was copied along
    the extra leading axes and along its size-1 axes; its gradient is the sum of the
    copies' gradients.
    """
    if grad.shape == shape:
        return grad
    axes = broadcast_axes(grad.shape, shape)
    summed = grad._apply(Sum, axes=axes, keepdims=True) if axes else grad
    return reshape(summed, shape)


def broadcast_axes(big: tuple[int, ...], shape: tuple[int, ...]) -> tuple[int, ...]:
    """The axes of ``big`` along which an operand of ``shape`` was copied by broadcasting:
    the extra leading ones and its size-1 axes (summed over, they undo the broadcast)."""
    lead = len(big) - len(shape)
    return tuple(range(lead)) + tuple(lead + i for i, d in enumerate(shape) if d == 1 and big[lead + i] != 1)


class ArgMax(Function):
    """argmax: y = index of the maximum (``smallest``: minimum) of x along ``axis`` (of the flattened x if None)
    not differentiable: the output is an int64 index
    """

    differentiable = False

    def forward(self, x: Any, axis: int | None, smallest: bool = False) -> Any:
        return (self.backend.argmin if smallest else self.backend.argmax)(x, axis=axis)


def arg_extreme(x: Tensor, axis: Any, keepdims: bool, smallest: bool) -> Tensor:
    """Indices of the first maxima (``smallest``: minima) along one axis, or of the flattened tensor."""
    name = "argmin" if smallest else "argmax"
    if axis is not None:
        axis = one_axis(axis, max(x.ndim, 1), name)
        if x.ndim == 0:
            axis = None  # PyTorch allows dim 0 or -1 on a 0-d tensor
    if (x.numel() if axis is None else x.shape[axis]) == 0:
        raise ValueError(f"{name}: a tensor of shape {shape_str(x.shape)} has no elements along axis={axis}; "
                         "expected some")
    out = x._apply(ArgMax, axis=axis, smallest=smallest)
    if keepdims:
        out = reshape(out, (1,) * x.ndim if axis is None else keepdims_shape(x.shape, (axis,)))
    return out


class ValuesIndices(NamedTuple):
    """What ``max(dim)``, ``min(dim)``, ``sort`` and ``topk`` return, as PyTorch does."""

    values: Any
    indices: Any


def extreme_along(x: Tensor, axis: Any, keepdims: bool, smallest: bool) -> ValuesIndices:
    """``max(dim)``/``min(dim)``: the values and the index of the first maximum along one axis.

    The gradient goes to that one element (PyTorch's rule for ``max(dim)``; ``amax``
    splits it between ties).
    """
    name = "min" if smallest else "max"
    if x.ndim == 0:
        one_axis(axis, 1, name)  # PyTorch allows dim 0 or -1 on a 0-d tensor
        return ValuesIndices(x, x._make(x.backend.asarray(0, dtype=x.backend.int64), x.backend))
    axis = one_axis(axis, x.ndim, name)
    if x.shape[axis] == 0:
        raise ValueError(f"{name}: axis {axis} of a tensor of shape {shape_str(x.shape)} is empty; expected at least "
                         "one element")
    indices = arg_extreme(x, axis, True, smallest)
    values = along_axis(x, indices._data, axis)
    if not keepdims:
        shape = x.shape[:axis] + x.shape[axis + 1:]
        values, indices = reshape(values, shape), reshape(indices, shape)
    return ValuesIndices(values, indices)


# ------------------------------------------------------------- the Tensor methods
class ReduceOps(TensorOps):
    """Reductions as Tensor methods."""

    __slots__ = ()

    # Each takes PyTorch's dim=/keepdim= and NumPy's axis=/keepdims= (dim: None, an int or a tuple).
    def sum(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None,
            keepdims: bool | None = None) -> Tensor:
        """Sum over ``dim`` (all axes if None); ``dtype`` casts first (PyTorch's ``sum(dtype=)``)."""
        dim, keepdim = axis_args("sum", dim, keepdim, axis, keepdims)
        return reduce_sum(self if dtype is None else self.to(dtype), dim, keepdim)

    def mean(self, dim: Any = None, keepdim: bool = False, *, dtype: Any = None, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        dim, keepdim = axis_args("mean", dim, keepdim, axis, keepdims)
        return mean(self if dtype is None else self.to(dtype), dim, keepdim)

    def max(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """PyTorch's three ``max``: ``max()`` the largest element (a tensor; ties share the
        gradient); ``max(dim)`` the named tuple ``(values, indices)`` along one dim (the
        gradient goes to the first maximum); ``max(other)`` the elementwise maximum.
        A tuple of dims (NumPy's ``axis=(0, 1)``) gives the maximum over them, as ``amax``."""
        if isinstance(dim, TensorOps):
            return self.maximum(dim)
        dim, keepdim = axis_args("max", dim, keepdim, axis, keepdims)
        if dim is None or isinstance(dim, (tuple, list)):
            return reduce_max(self, dim, keepdim)
        return extreme_along(self, dim, keepdim, smallest=False)

    def min(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
            keepdims: bool | None = None) -> Any:
        """As :meth:`max`, with minima: ``min()``, ``min(dim) -> (values, indices)``, ``min(other)``."""
        if isinstance(dim, TensorOps):
            return self.minimum(dim)
        dim, keepdim = axis_args("min", dim, keepdim, axis, keepdims)
        if dim is None or isinstance(dim, (tuple, list)):
            return reduce_max(self, dim, keepdim, smallest=True)
        return extreme_along(self, dim, keepdim, smallest=True)

    def amax(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        """Maximum over ``dim`` (None, an int or a tuple); ties share the gradient."""
        dim, keepdim = axis_args("amax", dim, keepdim, axis, keepdims)
        return reduce_max(self, dim, keepdim, name="amax")

    def amin(self, dim: Any = None, keepdim: bool = False, *, axis: Any = None,
             keepdims: bool | None = None) -> Tensor:
        dim, keepdim = axis_args("amin", dim, keepdim, axis, keepdims)
        return reduce_max(self, dim, keepdim, smallest=True, name="amin")

    def argmax(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
               keepdims: bool | None = None) -> Tensor:
        """Indices of the first maxima (int64; not differentiable); ``dim`` None: of the flattened tensor."""
        dim, keepdim = axis_args("argmax", dim, keepdim, axis, keepdims)
        return arg_extreme(self, dim, keepdim, smallest=False)

    def argmin(self, dim: int | None = None, keepdim: bool = False, *, axis: int | None = None,
               keepdims: bool | None = None) -> Tensor:
        """Indices of the first minima (int64; not differentiable)."""
        dim, keepdim = axis_args("argmin", dim, keepdim, axis, keepdims)
        return arg_extreme(self, dim, keepdim, smallest=True)
