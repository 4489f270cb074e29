"""Elementwise ops: arithmetic with NumPy broadcasting, and the unary functions.

Binary ops broadcast their operands; each operand's gradient is reduced back to its
own shape by ``unbroadcast``. Unary ops save what their derivative needs: often
their own output (exp, tanh, sigmoid, sqrt), which backward receives as ``out``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd import Function
from .base import TensorOps, dtype_error
from .reduce import broadcast_shapes, unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor


def binary(op: type[Function], name: str, a: Tensor, b: Tensor) -> Tensor:
    """Apply a broadcasting op, turning the backend's shape and dtype errors into ours."""
    try:
        return a._apply(op, b)
    except (TypeError, ValueError) as e:
        if a.shape != b.shape:
            broadcast_shapes(name, a.shape, b.shape)  # raises with both shapes named
        raise dtype_error(name, e, a, b) from None


def unary(op: type[Function], name: str, x: Tensor, **params: Any) -> Tensor:
    """Apply a one-input op, turning the backend's dtype errors (``-bool``) into ours."""
    try:
        return x._apply(op, **params)
    except (TypeError, ValueError, OverflowError) as e:
        raise dtype_error(name, e, x) from None


class Add(Function):
    """add: y = a + b
    da = unbroadcast(grad, a.shape)
    db = unbroadcast(grad, b.shape)
    """

    reads_inputs = False

    def forward(self, a: Any, b: Any) -> Any:
        return a + b

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        return (
            unbroadcast(grad, a.shape) if a.requires_grad else None,
            unbroadcast(grad, b.shape) if b.requires_grad else None,
        )


class Sub(Function):
    """sub: y = a - b
    da = unbroadcast(grad, a.shape)
    db = unbroadcast(-grad, b.shape)
    """

    reads_inputs = False

    def forward(self, a: Any, b: Any) -> Any:
        return a - b

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        return (
            unbroadcast(grad, a.shape) if a.requires_grad else None,
            unbroadcast(-grad, b.shape) if b.requires_grad else None,
        )


class Mul(Function):
    """mul: y = a * b
    da = unbroadcast(grad * b, a.shape)
    db = unbroadcast(grad * a, b.shape)
    """

    def forward(self, a: Any, b: Any) -> Any:
        return a * b

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        return (
            unbroadcast(grad * b, a.shape) if a.requires_grad else None,
            unbroadcast(grad * a, b.shape) if b.requires_grad else None,
        )


class Div(Function):
    """div: y = a / b
    da = unbroadcast(grad / b, a.shape)
    db = unbroadcast(-grad * a / b**2, b.shape)
    """

    def forward(self, a: Any, b: Any) -> Any:
        return a / b

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        return (
            unbroadcast(grad / b, a.shape) if a.requires_grad else None,
            unbroadcast(-grad * a / (b * b), b.shape) if b.requires_grad else None,
        )


class Pow(Function):
    """pow: y = a ** b   (tensor exponent)
    da = unbroadcast(grad * b * a ** (b - 1), a.shape)
    db = unbroadcast(grad * y * log(a), b.shape)   (defined for a > 0)
    """

    reads_output = True

    def forward(self, a: Any, b: Any) -> Any:
        return a**b

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        return (
            unbroadcast(grad * b * a ** (b - 1.0), a.shape) if a.requires_grad else None,
            unbroadcast(grad * out * a.log(), b.shape) if b.requires_grad else None,
        )


class PowScalar(Function):
    """pow_scalar: y = x ** p   (p a Python number)
    dx = grad * p * x ** (p - 1)
    """

    def forward(self, x: Any, p: float) -> Any:
        self.p = p
        return x**p

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        p = self.p
        x = self.inputs[0]
        if p == 0:  # y = 1: the formula below would give 0 * x**-1 = NaN at x = 0
            return grad * 0.0
        if p == 2:
            return grad * (x * 2.0)
        return grad * (x ** (p - 1) * float(p))


class Neg(Function):
    """neg: y = -x
    dx = -grad
    """

    reads_inputs = False

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return -grad


class Exp(Function):
    """exp: y = exp(x)
    dx = grad * y
    """

    reads_inputs = False
    reads_output = True

    def forward(self, x: Any) -> Any:
        return self.backend.exp(x)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad * out


class Log(Function):
    """log: y = log(x)
    dx = grad / x
    """

    def forward(self, x: Any) -> Any:
        return self.backend.log(x)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad / self.inputs[0]














class Abs(Function):
    """abs: y = |x|
    dx = grad * sign(x)
    """

    reads_inputs = False

    def forward(self, x: Any) -> Any:
        self.sign = self.backend.sign(x)
        return x * self.sign

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad * grad._make(self.sign, grad.backend)


class Sqrt(Function):
    """sqrt: y = sqrt(x)
    dx = grad / (2 * y)
    """

    reads_inputs = False
    reads_output = True

    def forward(self, x: Any) -> Any:
        return self.backend.sqrt(x)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad / (out * 2.0)









# ------------------------------------------------------------- the Tensor methods
class ElementwiseOps(TensorOps):
    """Arithmetic operators, comparisons and elementwise functions of a Tensor."""

    __slots__ = ()

    def __add__(self, other: Any) -> Tensor:
        return binary(Add, "add", self, self._lift(other))

    def __radd__(self, other: Any) -> Tensor:
        return binary(Add, "add", self._lift(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return binary(Sub, "sub", self, self._lift(other))

    def __rsub__(self, other: Any) -> Tensor:
        return binary(Sub, "sub", self._lift(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return binary(Mul, "mul", self, self._lift(other))

    def __rmul__(self, other: Any) -> Tensor:
        return binary(Mul, "mul", self._lift(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return binary(Div, "div", self, self._lift(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return binary(Div, "div", self._lift(other), self)

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return unary(PowScalar, "pow", self, p=other)
        return binary(Pow, "pow", self, self._lift(other))

    def __rpow__(self, other: Any) -> Tensor:
        return binary(Pow, "pow", self._lift(other), self)

    def __neg__(self) -> Tensor:
        return unary(Neg, "neg", self)

    def exp(self) -> Tensor:
        return self._apply(Exp)

    def log(self) -> Tensor:
        return self._apply(Log)

    def abs(self) -> Tensor:
        return unary(Abs, "abs", self)

    def sqrt(self) -> Tensor:
        return self._apply(Sqrt)



# ---------------------------------------------------------------- functions
