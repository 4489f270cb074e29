"""Reductions and their adjoint, broadcasting.

``sum`` and ``broadcast_to`` are each other's backward: summing copies an incoming
gradient to every summed element; broadcasting sums the gradients of all the copies.
``unbroadcast`` is the one helper every broadcasting op uses to reduce a gradient
back to its operand's shape.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd import Function
from .base import TensorOps, one_axis, shape_str
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


def reduce_max(x: Tensor, axis: Any = None, keepdims: bool = False, smallest: bool = False) -> Tensor:
    """Maximum (``smallest``: minimum) over ``axis``; the gradient goes to the extremes
    (split evenly on ties)."""
    name = "min" if smallest else "max"
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
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(
        lead + i for i, d in enumerate(shape) if d == 1 and grad.shape[lead + i] != 1
    )
    summed = grad._apply(Sum, axes=axes, keepdims=True) if axes else grad
    return reshape(summed, shape)


class ArgMax(Function):
    """argmax: y = index of the maximum of x along ``axis`` (of the flattened x if None)
    not differentiable: the output is an int64 index
    """

    differentiable = False

    def forward(self, x: Any, axis: int | None) -> Any:
        return self.backend.argmax(x, axis=axis)


# ------------------------------------------------------------- the Tensor methods
class ReduceOps(TensorOps):
    """Reductions as Tensor methods."""

    __slots__ = ()

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return reduce_sum(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return reduce_max(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return reduce_max(self, axis, keepdims, smallest=True)

    def argmax(self, axis: int | None = None) -> Tensor:
        """Indices of the maxima (int64; not differentiable); ``axis`` None: of the flattened tensor."""
        if axis is not None:
            axis = one_axis(axis, self.ndim, "argmax")
        if (self.size if axis is None else self.shape[axis]) == 0:
            raise ValueError(f"argmax: a tensor of shape {self.shape} has no elements along axis={axis}; expected some")
        return self._apply(ArgMax, axis=axis)
