"""Elementwise ops: arithmetic with NumPy broadcasting, and the unary functions.

Binary ops broadcast their operands; each operand's gradient is reduced back to its
own shape by ``unbroadcast``. Unary ops save what their derivative needs: often
their own output (exp, tanh, sigmoid, sqrt), which backward receives as ``out``.
"""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..tensor import Tensor
from .reduce import broadcast_shapes, unbroadcast


def _binary(op: type[Function], name: str, a: Tensor, b: Tensor) -> Tensor:
    """Apply a broadcasting op, turning the backend's shape and dtype errors into ours."""
    try:
        return op.apply(a, b)
    except (TypeError, ValueError) as e:
        if a.shape != b.shape:
            broadcast_shapes(name, a.shape, b.shape)  # raises with both shapes named
        raise dtype_error(name, e, a, b) from None


def dtype_error(name: str, e: Exception, *xs: Tensor) -> Exception:
    """The error for an op the backend refuses on these dtypes (bool minus bool, an integer
    to a negative integer power...): a TypeError, or a ValueError if the backend's was one."""
    dtypes = " and ".join(str(x.dtype) for x in xs)
    kind = ValueError if isinstance(e, (ValueError, OverflowError)) else TypeError
    return kind(
        f"{name}: not defined for tensors of dtype {dtypes} (the backend says: {e}); expected "
        "floating-point tensors (convert with .float(); bools also with .long())"
    )


class Add(Function):
    """add: y = a + b
    da = unbroadcast(grad, a.shape)
    db = unbroadcast(grad, b.shape)
    """

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

    def forward(self, x: Any) -> Any:
        return -x

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return -grad


class Exp(Function):
    """exp: y = exp(x)
    dx = grad * y
    """

    def forward(self, x: Any) -> Any:
        return self.inputs[0].backend.exp(x)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad * out


class Log(Function):
    """log: y = log(x)
    dx = grad / x
    """

    def forward(self, x: Any) -> Any:
        return self.inputs[0].backend.log(x)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad / self.inputs[0]


class Tanh(Function):
    """tanh: y = tanh(x)
    dx = grad * (1 - y**2)
    """

    def forward(self, x: Any) -> Any:
        return self.inputs[0].backend.tanh(x)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return TanhGrad.apply(grad, out)


class AddTanh(Function):
    """add_tanh: y = tanh(a + b)   (a recurrent step's z = W x_t + W s_{t-1}, then f_s, as one op)
    da = unbroadcast(grad * (1 - y**2), a.shape)
    db = unbroadcast(grad * (1 - y**2), b.shape)
    """

    def forward(self, a: Any, b: Any) -> Any:
        return self.inputs[0].backend.tanh(a + b)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        grad_z = TanhGrad.apply(grad, out)
        return (
            unbroadcast(grad_z, a.shape) if a.requires_grad else None,
            unbroadcast(grad_z, b.shape) if b.requires_grad else None,
        )


class TanhGrad(Function):
    """tanh_grad: z = grad * (1 - y**2)   (tanh's backward as one op, y = tanh(x))
    dgrad = g2 * (1 - y**2)
    dy = -2 * g2 * grad * y
    """

    def forward(self, grad: Any, y: Any) -> Any:
        return grad * (1 - y * y)

    def backward(self, g2: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, y = self.inputs
        return (
            TanhGrad.apply(g2, y) if grad.requires_grad else None,
            g2 * grad * y * -2.0 if y.requires_grad else None,
        )


class Sigmoid(Function):
    """sigmoid: y = 1 / (1 + exp(-x))   (computed as (1 + tanh(x/2)) / 2: no overflow)
    dx = grad * y * (1 - y)
    """

    def forward(self, x: Any) -> Any:
        return self.inputs[0].backend.tanh(x * 0.5) * 0.5 + 0.5

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return SigmoidGrad.apply(grad, out)


class SigmoidGrad(Function):
    """sigmoid_grad: z = grad * y * (1 - y)   (sigmoid's backward as one op, y = sigmoid(x))
    dgrad = g2 * y * (1 - y)
    dy = g2 * grad * (1 - 2 y)
    """

    def forward(self, grad: Any, y: Any) -> Any:
        return grad * y * (1 - y)

    def backward(self, g2: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        grad, y = self.inputs
        return (
            SigmoidGrad.apply(g2, y) if grad.requires_grad else None,
            g2 * grad * (1.0 - y * 2.0) if y.requires_grad else None,
        )


class Relu(Function):
    """relu: y = max(x, 0)
    dx = grad * [x > 0]
    """

    def forward(self, x: Any) -> Any:
        self.mask = (x > 0).astype(x.dtype)
        return self.inputs[0].backend.maximum(x, 0)  # not x * mask: -inf * 0 would be NaN

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad * grad._const(self.mask)


class Abs(Function):
    """abs: y = |x|
    dx = grad * sign(x)
    """

    def forward(self, x: Any) -> Any:
        self.sign = self.inputs[0].backend.sign(x)
        return x * self.sign

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad * grad._const(self.sign)


class Sqrt(Function):
    """sqrt: y = sqrt(x)
    dx = grad / (2 * y)
    """

    def forward(self, x: Any) -> Any:
        return self.inputs[0].backend.sqrt(x)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad / (out * 2.0)


class Clip(Function):
    """clip: y = min(max(x, lo), hi)
    dx = grad * [lo <= x <= hi]
    """

    def forward(self, x: Any, lo: Any, hi: Any) -> Any:
        self.mask = ((x >= lo) & (x <= hi)).astype(x.dtype)
        return self.inputs[0].backend.clip(x, lo, hi)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad * grad._const(self.mask)


class Where(Function):
    """where: y = a where cond else b   (cond a constant boolean array)
    da = unbroadcast(where(cond, grad, 0), a.shape)
    db = unbroadcast(where(cond, 0, grad), b.shape)
    """

    def forward(self, a: Any, b: Any, cond: Any) -> Any:
        self.cond = cond
        return self.inputs[0].backend.where(cond, a, b)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        zero = grad._const(grad.backend.zeros((), grad.dtype))
        return (
            unbroadcast(Where.apply(grad, zero, cond=self.cond), a.shape) if a.requires_grad else None,
            unbroadcast(Where.apply(zero, grad, cond=self.cond), b.shape) if b.requires_grad else None,
        )


# ------------------------------------------------------------- snake_case wrappers
def add(a: Tensor, b: Tensor) -> Tensor:
    return _binary(Add, "add", a, b)


def sub(a: Tensor, b: Tensor) -> Tensor:
    return _binary(Sub, "sub", a, b)


def mul(a: Tensor, b: Tensor) -> Tensor:
    return _binary(Mul, "mul", a, b)


def div(a: Tensor, b: Tensor) -> Tensor:
    return _binary(Div, "div", a, b)


def pow_(a: Tensor, b: Tensor | float) -> Tensor:
    if isinstance(b, (int, float)) and not isinstance(b, bool):
        try:
            return PowScalar.apply(a, p=b)
        except (TypeError, ValueError, OverflowError) as e:  # an integer tensor to a negative power
            raise dtype_error("pow", e, a) from None
    return _binary(Pow, "pow", a, b)


def neg(x: Tensor) -> Tensor:
    try:
        return Neg.apply(x)
    except TypeError as e:  # -bool
        raise dtype_error("neg", e, x) from None


def exp(x: Tensor) -> Tensor:
    return Exp.apply(x)


def log(x: Tensor) -> Tensor:
    return Log.apply(x)


def tanh(x: Tensor) -> Tensor:
    return Tanh.apply(x)


def add_tanh(a: Tensor, b: Tensor) -> Tensor:
    """tanh(a + b) in one op: the pre-activation sum is never a node of its own."""
    return _binary(AddTanh, "add_tanh", a, b)


def sigmoid(x: Tensor) -> Tensor:
    return Sigmoid.apply(x)


def relu(x: Tensor) -> Tensor:
    return Relu.apply(x)


def abs_(x: Tensor) -> Tensor:
    try:
        return Abs.apply(x)
    except TypeError as e:  # |bool|
        raise dtype_error("abs", e, x) from None


def sqrt(x: Tensor) -> Tensor:
    return Sqrt.apply(x)


def clip(x: Tensor, lo: float | None = None, hi: float | None = None) -> Tensor:
    """Clamp to [lo, hi]; either bound may be None (no bound on that side)."""
    for what, bound in (("lo", lo), ("hi", hi)):
        if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float)) or bound != bound):
            raise TypeError(f"clip: {what}={bound!r}; expected a Python number (not NaN) or None")
    if lo is not None and hi is not None and lo > hi:
        raise ValueError(f"clip: lo={lo} is greater than hi={hi}; expected lo <= hi")
    lo = float("-inf") if lo is None else lo
    hi = float("inf") if hi is None else hi
    try:
        return Clip.apply(x, lo=lo, hi=hi)
    except (TypeError, OverflowError) as e:  # a bound too large for an integer tensor
        raise dtype_error("clip", e, x) from None


def where(cond: Any, a: Tensor, b: Tensor) -> Tensor:
    """Elementwise choice: ``a`` where ``cond`` is true, else ``b``. Differentiable in a, b.

    ``a`` or ``b`` (not both) may be a Python number.
    """
    if not isinstance(a, Tensor) and not isinstance(b, Tensor):
        raise TypeError(
            f"where: a is a {type(a).__name__} and b is a {type(b).__name__}; expected at least one Tensor"
        )
    a = b._lift(a) if not isinstance(a, Tensor) else a
    b = a._lift(b) if not isinstance(b, Tensor) else b
    backend = a.backend
    if isinstance(cond, Tensor):
        if cond.backend is not backend:
            raise RuntimeError(f"where: cond is on {cond.device!r} but a is on {a.device!r}; expected one device")
        cond = cond.data
    elif not backend.is_array(cond):
        given = cond
        try:
            cond = backend.asarray(cond)
        except (TypeError, ValueError):
            cond = None
        if cond is None or cond.dtype.kind not in "biuf":
            raise TypeError(f"where: cond is {given!r}; expected a bool Tensor (or an array or list of bools or numbers)")
    if not backend.is_bool(cond.dtype):
        cond = cond != 0
    try:
        return Where.apply(a, b, cond=cond)
    except ValueError:
        broadcast_shapes("where", tuple(cond.shape), a.shape, b.shape)
        raise
