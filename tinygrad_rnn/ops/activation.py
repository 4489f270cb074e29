"""Activation functions: tanh, sigmoid, relu, GELU, softmax and log-softmax.

tanh and sigmoid save their output y, since their derivatives are functions of y
(1 - y^2 and y (1 - y)); a plain backward computes each as one op (``_TanhGrad``,
``_SigmoidGrad``), which is itself differentiable, so second derivatives work too.
softmax and log-softmax subtract the maximum before exponentiating, so logits of 1e4
neither overflow nor lose the answer.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd import Function
from .base import TensorOps, axis_args
from .elementwise import binary, unary
from .reduce import normalize_axes, unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor

class Tanh(Function):
    """tanh: y = tanh(x)
    dx = grad * (1 - y**2)
    """

    reads_inputs = False
    reads_output = True

    def forward(self, x: Any) -> Any:
        return self.backend.tanh(x)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return _TanhGrad.apply(grad, out)

class AddTanh(Function):
    """add_tanh: y = tanh(a + b)   (a recurrent step's z = W x_t + W s_{t-1}, then f_s, as one op)
    da = unbroadcast(grad * (1 - y**2), a.shape)
    db = unbroadcast(grad * (1 - y**2), b.shape)
    """

    reads_inputs = False
    reads_output = True

    def forward(self, a: Any, b: Any) -> Any:
        return self.backend.tanh(a + b)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        grad_z = _TanhGrad.apply(grad, out)
        return (
            unbroadcast(grad_z, a.shape) if a.requires_grad else None,
            unbroadcast(grad_z, b.shape) if b.requires_grad else None,
        )

class _TanhGrad(Function):
    """tanh_grad: z = grad * (1 - y**2)   (tanh's backward as one op, y = tanh(x))
    dgrad = grad_grad * (1 - y**2)
    dy = -2 * grad_grad * grad * y
    """

    def forward(self, grad: Any, y: Any) -> Any:
        return grad * (1 - y * y)

    def backward(self, grad_grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, y = self.inputs
        return (
            _TanhGrad.apply(grad_grad, y) if grad.requires_grad else None,
            grad_grad * grad * y * -2.0 if y.requires_grad else None,
        )

class Sigmoid(Function):
    """sigmoid: y = 1 / (1 + exp(-x))   (computed as (1 + tanh(x/2)) / 2: no overflow)
    dx = grad * y * (1 - y)
    """

    reads_inputs = False
    reads_output = True

    def forward(self, x: Any) -> Any:
        return self.backend.tanh(x * 0.5) * 0.5 + 0.5

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return _SigmoidGrad.apply(grad, out)

class _SigmoidGrad(Function):
    """sigmoid_grad: z = grad * y * (1 - y)   (sigmoid's backward as one op, y = sigmoid(x))
    dgrad = grad_grad * y * (1 - y)
    dy = grad_grad * grad * (1 - 2 y)
    """

    def forward(self, grad: Any, y: Any) -> Any:
        return grad * y * (1 - y)

    def backward(self, grad_grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, y = self.inputs
        return (
            _SigmoidGrad.apply(grad_grad, y) if grad.requires_grad else None,
            grad_grad * grad * (1.0 - y * 2.0) if y.requires_grad else None,
        )

class Relu(Function):
    """relu: y = max(x, 0)
    dx = grad * [x > 0]
    """

    reads_inputs = False

    def forward(self, x: Any) -> Any:
        self.mask = (x > 0).astype(x.dtype)
        return self.backend.maximum(x, 0)  # not x * mask: -inf * 0 would be NaN

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad * grad._make(self.mask, grad.backend)


class Softmax(Function):
    """softmax: y = exp(x - max x) / sum(exp(x - max x))   along ``axis``
    dx = y * (grad - sum(grad * y, axis))
    """

    reads_inputs = False
    reads_output = True

    def forward(self, x: Any, axis: int) -> Any:
        backend = self.backend
        self.axis = axis
        e = backend.exp(x - backend.amax(x, axis=axis, keepdims=True))
        return e / backend.sum(e, axis=axis, keepdims=True)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return out * (grad - (grad * out).sum(self.axis, keepdims=True))


class LogSoftmax(Function):
    """log_softmax: y = x - max x - log(sum(exp(x - max x)))   along ``axis``
    dx = grad - exp(y) * sum(grad, axis)
    """

    reads_inputs = False
    reads_output = True

    def forward(self, x: Any, axis: int) -> Any:
        backend = self.backend
        self.axis = axis
        shifted = x - backend.amax(x, axis=axis, keepdims=True)
        return shifted - backend.log(backend.sum(backend.exp(shifted), axis=axis, keepdims=True))

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad - out.exp() * grad.sum(self.axis, keepdims=True)


# GELU's constants: 1/sqrt(2), 1/sqrt(2 pi), sqrt(2/pi) and the cubic coefficient of its tanh form.
_INV_SQRT_2 = 0.7071067811865476
_INV_SQRT_2PI = 0.3989422804014327
_SQRT_2_OVER_PI = 0.7978845608028654
_CUBIC = 0.044715


class Gelu(Function):
    """gelu: y = x * Phi(x),  Phi(x) = (1 + erf(x / sqrt 2)) / 2   (tanh: Phi(x) ~ (1 + tanh(u)) / 2, u = sqrt(2/pi) (x + 0.044715 x^3))
    dx = grad * (Phi(x) + x phi(x)),  phi(x) = exp(-x^2/2) / sqrt(2 pi)   (tanh: grad * ((1 + t) + x (1 - t^2) u') / 2, t = tanh(u))
    """

    def forward(self, x: Any, approximate: str) -> Any:
        self.approximate = approximate
        backend = self.backend
        if approximate == "tanh":
            return x * (backend.tanh((x + x * x * x * _CUBIC) * _SQRT_2_OVER_PI) + 1.0) * 0.5
        return x * (backend.erf(x * _INV_SQRT_2) + 1.0) * 0.5

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return _GeluGrad.apply(grad, self.inputs[0], approximate=self.approximate)


class _GeluGrad(Function):
    """gelu_grad: z = grad * gelu'(x)   (gelu's backward as one op)
    dgrad = grad_grad * gelu'(x)
    dx = grad_grad * grad * gelu''(x),  gelu''(x) = phi(x) (2 - x^2)   (tanh: (1 - t^2) (u' + x (u'' - 2 t u'^2) / 2))
    """

    def forward(self, grad: Any, x: Any, approximate: str) -> Any:
        self.approximate = approximate
        backend = self.backend
        if approximate == "tanh":
            t = backend.tanh((x + x * x * x * _CUBIC) * _SQRT_2_OVER_PI)
            du = (x * x * (3.0 * _CUBIC) + 1.0) * _SQRT_2_OVER_PI
            return grad * ((t + 1.0) + x * (1.0 - t * t) * du) * 0.5
        cdf = (backend.erf(x * _INV_SQRT_2) + 1.0) * 0.5
        return grad * (cdf + x * backend.exp(x * x * -0.5) * _INV_SQRT_2PI)

    def backward(self, grad_grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, x = self.inputs
        return (
            _GeluGrad.apply(grad_grad, x, approximate=self.approximate) if grad.requires_grad else None,
            grad_grad * grad * _gelu_curvature(x, self.approximate) if x.requires_grad else None,
        )


def _gelu_curvature(x: Tensor, approximate: str) -> Tensor:
    """gelu''(x), in Tensor ops (so it is differentiable again)."""
    if approximate == "tanh":
        t = ((x + x * x * x * _CUBIC) * _SQRT_2_OVER_PI).tanh()
        du = (x * x * (3.0 * _CUBIC) + 1.0) * _SQRT_2_OVER_PI
        ddu = x * (6.0 * _CUBIC * _SQRT_2_OVER_PI)
        return (1.0 - t * t) * (du + x * (ddu - t * du * du * 2.0) * 0.5)
    return (x * x * -0.5).exp() * _INV_SQRT_2PI * (2.0 - x * x)


def gelu(x: Tensor, approximate: str = "none") -> Tensor:
    """GELU(x) = x * Phi(x), Phi the standard normal CDF (``approximate="tanh"``: its tanh form)."""
    if approximate not in ("none", "tanh"):
        raise ValueError(f"gelu: approximate={approximate!r}; expected 'none' or 'tanh'")
    return unary(Gelu, "gelu", x, approximate=approximate)


def _one_axis(x: Tensor, axis: int, name: str) -> int:
    if x.ndim == 0:
        raise ValueError(f"{name}: needs a tensor with at least 1 dimension, got a 0-d tensor")
    if isinstance(axis, (tuple, list)):
        raise ValueError(f"{name}: axis must be a single int, got {axis!r}")
    axis = normalize_axes(axis, x.ndim, name)[0]
    if x.shape[axis] == 0:
        raise ValueError(f"{name}: axis {axis} of a tensor of shape {x.shape} is empty; expected at least one element")
    return axis


def _dim_or_axis(name: str, dim: Any, axis: Any) -> int:
    """softmax's axis from PyTorch's ``dim=`` or NumPy's ``axis=`` (:func:`axis_args`); -1 when neither."""
    given = axis_args(name, dim, False, axis)[0]
    return -1 if given is None else given


class ActivationOps(TensorOps):
    """The activation functions as Tensor methods."""

    __slots__ = ()

    def tanh(self) -> Tensor:
        return self._apply(Tanh)

    def sigmoid(self) -> Tensor:
        return self._apply(Sigmoid)

    def relu(self) -> Tensor:
        return self._apply(Relu)

    def softmax(self, dim: int | None = None, dtype: Any = None, *, axis: int | None = None) -> Tensor:
        """exp(x) / sum(exp(x)) along ``dim`` (PyTorch) or ``axis`` (default: the last axis);
        ``dtype`` casts first."""
        x = self if dtype is None else self.to(dtype)
        dim = _dim_or_axis("softmax", dim, axis)
        return unary(Softmax, "softmax", x, axis=_one_axis(x, dim, "softmax"))

    def log_softmax(self, dim: int | None = None, dtype: Any = None, *, axis: int | None = None) -> Tensor:
        """x - log(sum(exp(x))) along ``dim`` or ``axis`` (default: the last axis)."""
        x = self if dtype is None else self.to(dtype)
        dim = _dim_or_axis("log_softmax", dim, axis)
        return unary(LogSoftmax, "log_softmax", x, axis=_one_axis(x, dim, "log_softmax"))


def add_tanh(a: Tensor, b: Tensor) -> Tensor:
    """tanh(a + b) in one op: the pre-activation sum is never a node of its own."""
    return binary(AddTanh, "add_tanh", a, b)
