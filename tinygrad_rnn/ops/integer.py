"""Integer and boolean operators: ``a // b``, ``a % b``, ``a & b``, ``a | b``, ``a ^ b``, ``~a``.

PyTorch's tensors take Python's integer operators, and scripts use them on indices and
masks (``lengths // 2``, ``mask & other_mask``, ``~padded``). They are one op,
:class:`IntegerOp`, which runs the operator on the backend arrays and is never recorded:
integer and boolean results have no gradient. ``logical_not``/``and``/``or`` are the same
operators on ``x != 0``.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..autograd import Function
from .base import TensorOps, tensor_arg

if TYPE_CHECKING:
    from ..tensor import Tensor


class IntegerOp(Function):
    """integer_op: y = a // b, a % b, a & b, a | b, a ^ b or ~a (``test``), elementwise
    not differentiable: integer and boolean results have no gradient
    """

    differentiable = False

    def forward(self, *arrays: Any, fn: Callable) -> Any:
        return fn(*arrays)


class IntegerOps(TensorOps):
    """The Tensor methods of the integer and boolean operators."""

    __slots__ = ()

    def _integer(self, name: str, fn: Callable, *others: Any) -> Tensor:
        others = tuple(tensor_arg(name, self, o) for o in others)
        try:
            return self._apply(IntegerOp, *others, fn=fn)
        except (TypeError, ValueError) as e:
            kinds = " and ".join(str(t.dtype) for t in (self, *others))
            raise TypeError(f"{name}: not defined for tensors of dtype {kinds} ({e}); expected integer or bool "
                            "tensors of shapes that broadcast") from None

    def __floordiv__(self, other: Any) -> Tensor:
        return self._integer("//", operator.floordiv, other)

    def __rfloordiv__(self, other: Any) -> Tensor:
        return tensor_arg("//", self, other)._integer("//", operator.floordiv, self)

    def __mod__(self, other: Any) -> Tensor:
        return self._integer("%", operator.mod, other)

    def __and__(self, other: Any) -> Tensor:
        return self._integer("&", operator.and_, other)

    __rand__ = __and__

    def __or__(self, other: Any) -> Tensor:
        return self._integer("|", operator.or_, other)

    __ror__ = __or__

    def __xor__(self, other: Any) -> Tensor:
        return self._integer("^", operator.xor, other)

    __rxor__ = __xor__

    def __invert__(self) -> Tensor:
        return self._integer("~", operator.invert)

    def logical_not(self) -> Tensor:
        return self == 0

    def logical_and(self, other: Any) -> Tensor:
        return (self != 0) & (tensor_arg("logical_and", self, other) != 0)

    def logical_or(self, other: Any) -> Tensor:
        return (self != 0) | (tensor_arg("logical_or", self, other) != 0)
