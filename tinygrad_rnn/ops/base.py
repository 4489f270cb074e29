"""What the ops see of a Tensor, and the helpers every ops module shares.

Each ops module defines its ``Function`` classes and a mixin of the Tensor methods
that call them (``ElementwiseOps`` gives ``x.exp()``, ``a + b``...). ``Tensor``
inherits every mixin, so the ops never import ``tensor.py``: they work on the tensors
they are given, through the small interface below.
"""

from __future__ import annotations

import operator
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ..autograd import Function
    from ..tensor import Tensor


class TensorOps:
    """The root of the op mixins, and the interface ops rely on.

    A tensor has ``data`` (a backend array), ``backend``, ``requires_grad``, ``shape``,
    ``ndim``, ``dtype``, ``device``, and three methods:

    * ``x._apply(Op, *others, **params)``: run ``Op`` on ``(x, *others)`` and record it;
    * ``x._make(array, backend)``: a new constant tensor around an array;
    * ``x._lift(value)``: a Python number or array, as a tensor on ``x``'s device.

    ``isinstance(obj, TensorOps)`` is how an op asks "is this a tensor?".
    """

    __slots__ = ()

    if TYPE_CHECKING:
        data: Any
        backend: Any
        requires_grad: bool
        shape: tuple[int, ...]
        ndim: int
        dtype: Any
        device: str

        def _apply(self, op: type[Function], *others: Any, **params: Any) -> Tensor: ...
        def _make(self, data: Any, backend: Any, requires_grad: bool = False) -> Tensor: ...
        def _lift(self, value: Any) -> Tensor: ...


def shape_str(shape: tuple[int, ...]) -> str:
    """(3,) and (2, 4) as Python writes tuples: how every error message shows a shape."""
    return "(" + ", ".join(str(d) for d in shape) + ("," if len(shape) == 1 else "") + ")"


def tensor_arg(name: str, x: Tensor, other: Any) -> Tensor:
    """The other operand of ``x``'s method ``name`` as a tensor on ``x``'s device (a number is
    lifted); a tensor on another device raises, naming both."""
    other = x._lift(other)
    if other.backend is not x.backend:
        raise RuntimeError(f"{name}: tensors on {x.device!r} and {other.device!r}; expected one device")
    return other


def as_shape(name: str, shape: tuple, allow_inferred: bool = False) -> tuple[int, ...]:
    """``f(2, 3)`` or ``f((2, 3))`` -> ``(2, 3)``, checked: ints (NumPy ints too), none
    negative (one ``-1`` when ``allow_inferred``)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    try:
        dims = tuple(operator.index(d) for d in shape if not isinstance(d, bool))
    except TypeError:
        dims = ()
    lowest = -1 if allow_inferred else 0
    if len(dims) != len(shape) or any(d < lowest for d in dims):
        extra = " (one of them may be -1)" if allow_inferred else ""
        raise ValueError(f"{name}: shape {shape!r}: expected non-negative ints{extra}")
    return dims


def dtype_error(name: str, e: Exception, *xs: Tensor) -> Exception:
    """The error for an op the backend refuses on these dtypes (bool minus bool, an integer
    to a negative integer power...): a TypeError, or a ValueError if the backend's was one."""
    dtypes = " and ".join(str(x.dtype) for x in xs)
    kind = ValueError if isinstance(e, (ValueError, OverflowError)) else TypeError
    return kind(
        f"{name}: not defined for tensors of dtype {dtypes} (the backend says: {e}); expected "
        "floating-point tensors (convert with .float(); bools also with .long())"
    )


def one_axis(axis: Any, ndim: int, name: str) -> int:
    """One axis (an int in [-ndim, ndim)) -> a non-negative int; anything else raises."""
    if isinstance(axis, bool) or not isinstance(axis, int) or not -ndim <= axis < ndim:
        raise ValueError(
            f"{name}: axis {axis!r} is out of range for a tensor with {ndim} dimensions; expected an int in "
            f"[{-ndim}, {ndim - 1}]"
        )
    return axis % ndim


def axis_args(name: str, dim: Any, keepdim: Any, axis: Any = None, keepdims: Any = None) -> tuple[Any, bool]:
    """PyTorch's ``dim=``/``keepdim=`` or NumPy's ``axis=``/``keepdims=`` -> ``(axis, keepdims)``.

    Raises:
        TypeError: both spellings of one argument are given.
    """
    if axis is not None:
        if dim is not None:
            raise TypeError(f"{name}: got dim={dim!r} and axis={axis!r}; expected one of them (they are the same)")
        dim = axis
    if keepdims is not None:
        if keepdim:
            raise TypeError(f"{name}: got keepdim and keepdims; expected one of them (they are the same)")
        keepdim = keepdims
    return dim, bool(keepdim)
