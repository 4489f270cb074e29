"""Choosing between values: comparisons, ``where`` and ``clip``.

Comparisons make boolean tensors and are not differentiable. ``where`` and ``clip``
pass each element's gradient through to the value that was chosen, and nothing to the
others: their backward is the same choice applied to the gradient.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ..autograd import Function
from ..config import config
from .base import TensorOps
from .elementwise import binary, unary
from .reduce import broadcast_shapes, unbroadcast

if TYPE_CHECKING:
    from ..tensor import Tensor

class Compare(Function):
    """compare: y = a < b (or <=, >, >=, ==, !=), a bool tensor
    not differentiable: the output never requires grad
    """

    differentiable = False

    def forward(self, a: Any, b: Any, test: Callable) -> Any:
        return test(a, b)

class Clip(Function):
    """clip: y = min(max(x, lo), hi)
    dx = grad * [lo <= x <= hi]
    """

    reads_inputs = False

    def forward(self, x: Any, lo: Any, hi: Any) -> Any:
        self.mask = ((x >= lo) & (x <= hi)).astype(x.dtype)
        return self.backend.clip(x, lo, hi)

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad * grad._make(self.mask, grad.backend)

class Where(Function):
    """where: y = a where cond else b   (cond a constant boolean array)
    da = unbroadcast(where(cond, grad, 0), a.shape)
    db = unbroadcast(where(cond, 0, grad), b.shape)
    """

    reads_inputs = False

    def forward(self, a: Any, b: Any, cond: Any) -> Any:
        self.cond = cond
        return self.backend.where(cond, a, b)

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        zero = grad._lift(0.0)
        return (
            unbroadcast(Where.apply(grad, zero, cond=self.cond), a.shape) if a.requires_grad else None,
            unbroadcast(Where.apply(zero, grad, cond=self.cond), b.shape) if b.requires_grad else None,
        )


class Maximum(Function):
    """maximum: y = max(a, b)   elementwise
    da = unbroadcast(grad * ([a > b] + [a == b] / 2), a.shape)   (a tie splits the gradient, as PyTorch)
    db = unbroadcast(grad * ([a < b] + [a == b] / 2), b.shape)
    """

    reads_inputs = False

    def forward(self, a: Any, b: Any, smallest: bool = False) -> Any:
        backend = self.backend
        y = (backend.minimum if smallest else backend.maximum)(a, b)
        dtype = y.dtype if backend.is_floating(y.dtype) else backend.float32
        tie = (a == b).astype(dtype) * 0.5
        self.share_a = ((a < b) if smallest else (a > b)).astype(dtype) + tie
        self.share_b = ((a > b) if smallest else (a < b)).astype(dtype) + tie
        return y

    def backward(self, grad: Tensor, out: Tensor) -> tuple[Tensor | None, Tensor | None]:
        a, b = self.inputs
        make = grad._make
        return (
            unbroadcast(grad * make(self.share_a, grad.backend), a.shape) if a.requires_grad else None,
            unbroadcast(grad * make(self.share_b, grad.backend), b.shape) if b.requires_grad else None,
        )


class Minimum(Maximum):
    """minimum: y = min(a, b)   elementwise
    da = unbroadcast(grad * ([a < b] + [a == b] / 2), a.shape)
    db = unbroadcast(grad * ([a > b] + [a == b] / 2), b.shape)
    """

    def forward(self, a: Any, b: Any) -> Any:
        return super().forward(a, b, smallest=True)


def _bool_mask(name: str, x: Tensor, mask: Any) -> Any:
    """A boolean mask Tensor on x's device, as PyTorch requires (not an integer one)."""
    if not isinstance(mask, TensorOps):
        raise TypeError(f"{name}: mask is a {type(mask).__name__}; expected a bool Tensor (e.g. x > 0)")
    if not mask.backend.is_bool(mask.dtype):
        raise TypeError(f"{name}: mask has dtype {mask.dtype}; expected a bool Tensor (convert with .bool())")
    return mask


class SelectOps(TensorOps):
    """Comparisons, clip, maximum/minimum and masked_fill as Tensor methods."""

    __slots__ = ()

    def maximum(self, other: Any) -> Tensor:
        """Elementwise max(self, other), broadcasting (ties split the gradient)."""
        return binary(Maximum, "maximum", self, self._lift(other))

    def minimum(self, other: Any) -> Tensor:
        """Elementwise min(self, other), broadcasting (ties split the gradient)."""
        return binary(Minimum, "minimum", self, self._lift(other))

    def masked_fill(self, mask: Any, value: Any) -> Tensor:
        """``value`` where the bool ``mask`` (broadcast to self's shape) is True, else self.

        ``value`` is a number or a 0-d tensor (which gets the gradient of the places it
        fills); self gets the gradient of the places kept.
        """
        mask = _bool_mask("masked_fill", self, mask)
        if isinstance(value, TensorOps) and value.ndim != 0:
            raise ValueError(f"masked_fill: value has shape {value.shape}; expected a number or a 0-d tensor")
        out = where(mask, value if isinstance(value, TensorOps) else self._lift(value), self)
        if out.shape != self.shape:
            raise ValueError(f"masked_fill: mask of shape {mask.shape} does not broadcast to the tensor's shape "
                             f"{self.shape}; expected it to")
        return out if out.dtype == self.dtype else out.astype(self.dtype)

    def where(self, condition: Any, other: Any) -> Tensor:
        """PyTorch's ``x.where(condition, y)``: self where ``condition``, else ``other``."""
        return where(condition, self, other)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        """Clamp to [lo, hi]; either bound may be None (no bound on that side)."""
        for what, bound in (("lo", lo), ("hi", hi)):
            if bound is not None and (isinstance(bound, bool) or not isinstance(bound, (int, float)) or bound != bound):
                raise TypeError(f"clip: {what}={bound!r}; expected a Python number (not NaN) or None")
        if lo is not None and hi is not None and lo > hi:
            raise ValueError(f"clip: lo={lo} is greater than hi={hi}; expected lo <= hi")
        lo = float("-inf") if lo is None else lo
        hi = float("inf") if hi is None else hi
        return unary(Clip, "clip", self, lo=lo, hi=hi)  # a bound too large for an integer tensor

    # Comparisons are not differentiable: they return boolean tensors with no tape.
    def _compare(self, other: Any, test: Callable) -> Tensor:
        other = self._lift(other)
        if other.backend is not self.backend:
            raise RuntimeError(f"comparison between {self.device!r} and {other.device!r} tensors; expected one device")
        try:
            return self._apply(Compare, other, test=test)
        except ValueError:
            raise ValueError(f"comparison: shapes {self.shape} and {other.shape} do not broadcast; expected each "
                             "dimension to match or be 1") from None

    def __lt__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a < b)

    def __le__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a <= b)

    def __gt__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a > b)

    def __ge__(self, other: Any) -> Tensor:
        return self._compare(other, lambda a, b: a >= b)

    def __eq__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, lambda a, b: a == b)

    def __ne__(self, other: Any) -> Tensor:  # type: ignore[override]
        return self._compare(other, lambda a, b: a != b)

    __hash__ = object.__hash__


def where(cond: Any, a: Tensor, b: Tensor) -> Tensor:
    """Elementwise choice: ``a`` where ``cond`` is true, else ``b``. Differentiable in a, b.

    ``a`` or ``b`` (not both) may be a Python number.
    """
    if not isinstance(a, TensorOps) and not isinstance(b, TensorOps):
        raise TypeError(
            f"where: a is a {type(a).__name__} and b is a {type(b).__name__}; expected at least one Tensor"
        )
    a = b._lift(a) if not isinstance(a, TensorOps) else a
    b = a._lift(b) if not isinstance(b, TensorOps) else b
    backend = a.backend
    if isinstance(cond, TensorOps):
        if cond.backend is not backend:
            raise RuntimeError(f"where: cond is on {cond.device!r} but a is on {a.device!r}; expected one device")
        cond = cond._data
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
        if (a.requires_grad or b.requires_grad) and config.grad_enabled:
            cond = cond.copy()  # backward reads cond: the recorded op keeps its own
        return a._apply(Where, b, cond=cond)
    except ValueError:
        broadcast_shapes("where", tuple(cond.shape), a.shape, b.shape)
        raise
