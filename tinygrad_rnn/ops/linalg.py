"""Linear algebra: the (batched) matrix product."""

from __future__ import annotations

from typing import Any

from ..autograd import Function, OuterSum, is_anomaly_enabled, is_grad_enabled
from ..tensor import Tensor
from .movement import _shape_str, reshape
from .reduce import broadcast_shapes, unbroadcast


def _mT(x: Any) -> Any:
    """Swap the last two axes of a backend array (a view, no copy)."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return x.transpose(axes)


class MatMul(Function):
    """matmul: Y = A @ B   (batched over leading axes, which broadcast)
    dA = unbroadcast(grad @ B^T, A.shape)
    dB = unbroadcast(A^T @ grad, B.shape)

    With ``ta``/``tb`` the op reads A^T / B^T instead (Y = op(A) op(B)), so the
    transposes of the backward need no ops of their own:
    dA = grad op(B)^T, or its transpose op(B) grad^T when ``ta``;
    dB = op(A)^T grad, or its transpose grad^T op(A) when ``tb``.
    """

    def forward(self, a: Any, b: Any, ta: bool = False, tb: bool = False) -> Any:
        self.ta, self.tb = ta, tb
        return (_mT(a) if ta else a) @ (_mT(b) if tb else b)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ta, tb = self.ta, self.tb
        grad_a = grad_b = None
        if a.requires_grad:
            grad_a = MatMul.apply(b, grad, ta=tb, tb=True) if ta else MatMul.apply(grad, b, tb=not tb)
            grad_a = unbroadcast(grad_a, a.shape)
        if b.requires_grad:
            if not (ta or is_grad_enabled() or is_anomaly_enabled()) and a.ndim == 2 and b.ndim == 2:
                # dB = A^T grad (or grad^T A when tb), left as factors: a weight used at every
                # time step gets all its products multiplied out as one matmul (autograd.OuterSum).
                factors = (grad.data, a.data) if tb else (a.data, grad.data)
                return grad_a, OuterSum(*factors, like=grad)
            grad_b = MatMul.apply(grad, a, ta=True, tb=ta) if tb else MatMul.apply(a, grad, ta=not ta)
            grad_b = unbroadcast(grad_b, b.shape)
        return grad_a, grad_b


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's rules: 1-D operands are promoted to matrices and the
    added axis removed afterwards; leading (batch) axes broadcast."""
    a_shape, b_shape = a.shape, b.shape
    if len(a_shape) == 2 and len(b_shape) == 2 and a_shape[1] == b_shape[0]:
        return MatMul.apply(a, b)  # the common case, checked
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension, got shapes {_shape_str(a.shape)} "
            f"and {_shape_str(b.shape)}"
        )
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(
            f"matmul: shapes {_shape_str(a.shape)} and {_shape_str(b.shape)} do not multiply; "
            f"expected a.shape[-1] ({a.shape[-1]}) to equal "
            f"b.shape[{-2 if b.ndim > 1 else 0}] ({b.shape[-2 if b.ndim > 1 else 0]})"
        )
    if a.ndim > 2 or b.ndim > 2:
        try:
            broadcast_shapes("matmul (batch axes)", a.shape[:-2], b.shape[:-2])
        except ValueError as e:
            raise ValueError(f"matmul of shapes {_shape_str(a.shape)} and {_shape_str(b.shape)}: {e}") from None
    if a.ndim >= 2 and b.ndim >= 2:
        return MatMul.apply(a, b)
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    y = MatMul.apply(a2, b2)
    if a.ndim == 1:
        y = reshape(y, y.shape[:-2] + y.shape[-1:])
    if b.ndim == 1:
        y = reshape(y, y.shape[:-1])
    return y
