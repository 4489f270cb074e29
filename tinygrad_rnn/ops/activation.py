"""Softmax and log-softmax: normalised exponentials along one axis, computed stably.

Both subtract the maximum before exponentiating, so logits of 1e4 neither overflow
nor lose the answer.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..tensor import Tensor
from .elementwise import dtype_error
from .reduce import normalize_axes, sum_


class Softmax(Function):
    """softmax: y = exp(x - max x) / sum(exp(x - max x))   along ``axis``
    dx = y * (grad - sum(grad * y, axis))
    """

    def forward(self, x: Any, axis: int) -> Any:
        backend = self.inputs[0].backend
        self.axis = axis
        e = backend.exp(x - backend.amax(x, axis=axis, keepdims=True))
        return e / backend.sum(e, axis=axis, keepdims=True)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return out * (grad - sum_(grad * out, axis=self.axis, keepdims=True))


class LogSoftmax(Function):
    """log_softmax: y = x - max x - log(sum(exp(x - max x)))   along ``axis``
    dx = grad - exp(y) * sum(grad, axis)
    """

    def forward(self, x: Any, axis: int) -> Any:
        backend = self.inputs[0].backend
        self.axis = axis
        shifted = x - backend.amax(x, axis=axis, keepdims=True)
        return shifted - backend.log(backend.sum(backend.exp(shifted), axis=axis, keepdims=True))

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad - out.exp() * sum_(grad, axis=self.axis, keepdims=True)


def _one_axis(x: Tensor, axis: int, name: str) -> int:
    if x.ndim == 0:
        raise ValueError(f"{name}: needs a tensor with at least 1 dimension, got a 0-d tensor")
    if isinstance(axis, (tuple, list)):
        raise ValueError(f"{name}: axis must be a single int, got {axis!r}")
    axis = normalize_axes(axis, x.ndim, name)[0]
    if x.shape[axis] == 0:
        raise ValueError(f"{name}: axis {axis} of a tensor of shape {x.shape} is empty; expected at least one element")
    return axis


def softmax(x: Tensor, axis: int = -1) -> Tensor:
    axis = _one_axis(x, axis, "softmax")
    try:
        return Softmax.apply(x, axis=axis)
    except TypeError as e:  # a bool tensor
        raise dtype_error("softmax", e, x) from None


def log_softmax(x: Tensor, axis: int = -1) -> Tensor:
    axis = _one_axis(x, axis, "log_softmax")
    try:
        return LogSoftmax.apply(x, axis=axis)
    except TypeError as e:  # a bool tensor
        raise dtype_error("log_softmax", e, x) from None
