"""Linear algebra: the (batched) matrix product."""

from __future__ import annotations

from typing import Any

from ..autograd import Function
from ..tensor import Tensor
from .movement import _shape_str, reshape, swap_last
from .reduce import broadcast_shapes, unbroadcast


class MatMul(Function):
    """matmul: Y = A @ B   (batched over leading axes, which broadcast)
    dA = unbroadcast(grad @ B^T, A.shape)
    dB = unbroadcast(A^T @ grad, B.shape)
    """

    def forward(self, a: Any, b: Any) -> Any:
        return a @ b

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        return (
            unbroadcast(MatMul.apply(grad, swap_last(b)), a.shape) if a.requires_grad else None,
            unbroadcast(MatMul.apply(swap_last(a), grad), b.shape) if b.requires_grad else None,
        )


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's rules: 1-D operands are promoted to matrices and the
    added axis removed afterwards; leading (batch) axes broadcast."""
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
        broadcast_shapes("matmul (batch axes)", a.shape[:-2], b.shape[:-2])
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
