"""Linear algebra: the (batched) matrix product."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..autograd import Function
from .base import TensorOps, shape_str
from .movement import reshape
from .reduce import broadcast_shapes, unbroadcast

if TYPE_CHECKING:
    from ..grad_buffers import GradBuffers
    from ..tensor import Tensor


def _swap_last_axes(x: Any) -> Any:
    """A backend array with its last two axes swapped (a view, no copy)."""
    axes = list(range(x.ndim))
    axes[-1], axes[-2] = axes[-2], axes[-1]
    return x.transpose(axes)


class MatMul(Function):
    """matmul: Y = A @ B   (batched over leading axes, which broadcast)
    dA = unbroadcast(grad @ B^T, A.shape)
    dB = unbroadcast(A^T @ grad, B.shape)

    With ``transpose_a``/``transpose_b`` the op reads A^T / B^T instead (Y = op(A) op(B)),
    so the transposes of the backward need no ops of their own:
    dA = grad op(B)^T, or its transpose op(B) grad^T when ``transpose_a``;
    dB = op(A)^T grad, or its transpose grad^T op(A) when ``transpose_b``.
    """

    def forward(self, a: Any, b: Any, transpose_a: bool = False, transpose_b: bool = False) -> Any:
        self.transpose_a, self.transpose_b = transpose_a, transpose_b
        return (_swap_last_axes(a) if transpose_a else a) @ (_swap_last_axes(b) if transpose_b else b)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        ta, tb = self.transpose_a, self.transpose_b
        grad_a = grad_b = None
        if a.requires_grad:  # grad op(B)^T, or its transpose op(B) grad^T when A is read transposed
            product = b._apply(MatMul, grad, transpose_a=tb, transpose_b=True) if ta else \
                grad._apply(MatMul, b, transpose_b=not tb)
            grad_a = unbroadcast(product, a.shape)
        if b.requires_grad:  # op(A)^T grad, or its transpose grad^T op(A) when B is read transposed
            product = grad._apply(MatMul, a, transpose_a=True, transpose_b=ta) if tb else \
                a._apply(MatMul, grad, transpose_a=not ta)
            grad_b = unbroadcast(product, b.shape)
        return grad_a, grad_b

    def backward_accumulate(self, grad: Tensor, out: Tensor, buffers: GradBuffers) -> None:
        """Plain-backward fast path for 2-D A @ op(B): dB = A^T grad is handed to the
        buffers as its two factors (``GradBuffers.add_product``), so a weight used at
        every time step gets all its products multiplied out as one matmul (C.42)."""
        a, b = self.inputs
        if self.transpose_a or a.ndim != 2 or b.ndim != 2 or not b.requires_grad:
            buffers.add_all(self.inputs, self.backward(grad, out))
            return
        if a.requires_grad:
            buffers.add(a, grad._apply(MatMul, b, transpose_b=not self.transpose_b))
        if self.transpose_b:  # dB = grad^T A
            buffers.add_product(b, grad._data, a._data)
        else:  # dB = A^T grad
            buffers.add_product(b, a._data, grad._data)


def matmul(a: Tensor, b: Tensor) -> Tensor:
    """``a @ b`` with NumPy's rules: 1-D operands are promoted to matrices and the
    added axis removed afterwards; leading (batch) axes broadcast."""
    a_shape, b_shape = a.shape, b.shape
    if len(a_shape) == 2 and len(b_shape) == 2 and a_shape[1] == b_shape[0]:
        return a._apply(MatMul, b)  # the common case, checked
    if a.ndim == 0 or b.ndim == 0:
        raise ValueError(
            f"matmul: operands must have at least 1 dimension, got shapes {shape_str(a.shape)} "
            f"and {shape_str(b.shape)}"
        )
    if a.shape[-1] != b.shape[-2 if b.ndim > 1 else 0]:
        raise ValueError(
            f"matmul: shapes {shape_str(a.shape)} and {shape_str(b.shape)} do not multiply; "
            f"expected a.shape[-1] ({a.shape[-1]}) to equal "
            f"b.shape[{-2 if b.ndim > 1 else 0}] ({b.shape[-2 if b.ndim > 1 else 0]})"
        )
    if a.ndim > 2 or b.ndim > 2:
        try:
            broadcast_shapes("matmul (batch axes)", a.shape[:-2], b.shape[:-2])
        except ValueError as e:
            raise ValueError(f"matmul of shapes {shape_str(a.shape)} and {shape_str(b.shape)}: {e}") from None
    if a.ndim >= 2 and b.ndim >= 2:
        return a._apply(MatMul, b)
    a2 = reshape(a, (1, a.shape[0])) if a.ndim == 1 else a
    b2 = reshape(b, (b.shape[0], 1)) if b.ndim == 1 else b
    y = a2._apply(MatMul, b2)
    if a.ndim == 1:
        y = reshape(y, y.shape[:-2] + y.shape[-1:])
    if b.ndim == 1:
        y = reshape(y, y.shape[:-1])
    return y


def qr(x: Tensor) -> tuple[Tensor, Tensor]:
    """(Q, R) with x = Q R, Q with orthonormal columns, R upper triangular, for a 2-D x.

    Not differentiable: it serves orthogonal initialisation (``nn.init.orthogonal_``).
    """
    if x.ndim != 2:
        raise ValueError(f"qr: x has shape {shape_str(x.shape)}; expected a matrix (2-D)")
    q, r = x.backend.qr(x._data)
    return x._make(q, x.backend), x._make(r, x.backend)


class LinalgOps(TensorOps):
    """The matrix product as Tensor methods and the ``@`` operator."""

    __slots__ = ()

    def matmul(self, other: Any) -> Tensor:
        return matmul(self, self._lift(other))

    def __matmul__(self, other: Any) -> Tensor:
        return matmul(self, self._lift(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return matmul(self._lift(other), self)
