"""Reductions built from the others: ``var``, ``std``, ``logsumexp``, ``norm``, ``all``, ``any``.

Each is a composite of sum, mean, max and elementwise ops, so its gradient comes from
theirs; only the 2-norm has an op of its own, whose gradient at 0 is 0 (as PyTorch's)
instead of the 0/0 of sqrt(sum(x^2)).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from ..autograd import Function
from .base import TensorOps, axis_args, shape_str
from .movement import reshape
from .reduce import keepdims_shape, mean, normalize_axes, reduce_max, reduce_sum
from .select import Where

if TYPE_CHECKING:
    from ..tensor import Tensor


class Norm2(Function):
    """norm2: y = sqrt(sum of x**2 over ``axes``)
    dx = grad * x / y   (0 where y = 0: x is 0 there)
    """

    reads_output = True

    def forward(self, x: Any, axes: tuple[int, ...], keepdims: bool) -> Any:
        self.axes, self.keepdims = axes, keepdims
        backend = self.backend
        return backend.sqrt(backend.sum(x * x, axis=axes, keepdims=keepdims))

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        x = self.inputs[0]
        if not self.keepdims:
            shape = keepdims_shape(x.shape, self.axes)
            grad, out = reshape(grad, shape), reshape(out, shape)
        safe = Where.apply(out._lift(1.0), out, cond=out.data == 0)  # y = 0 only where x is all 0
        return x * (grad / safe)


def _count(x: Tensor, axes: tuple[int, ...]) -> int:
    n = 1
    for a in axes:
        n *= x.shape[a]
    return n


def variance(x: Tensor, axis: Any, correction: float, keepdims: bool, name: str = "var") -> Tensor:
    """sum((x - mean)^2) / (N - correction) over ``axis`` (NaN where N - correction <= 0, as PyTorch)."""
    axes = normalize_axes(axis, x.ndim, name)
    n = _count(x, axes)
    if n == 0:
        raise ValueError(f"{name}: reducing axis {axis!r} of a tensor of shape {shape_str(x.shape)} covers 0 "
                         "elements; expected at least one")
    centered = x - mean(x, axes, keepdims=True)
    scale = 1.0 / (n - correction) if n - correction > 0 else math.nan
    return reduce_sum(centered * centered, axes, keepdims) * scale


def _correction(name: str, unbiased: Any, correction: Any) -> float:
    if unbiased is not None and correction is not None:
        raise TypeError(f"{name}: got unbiased={unbiased!r} and correction={correction!r}; expected one of them")
    if correction is not None:
        if isinstance(correction, bool) or not isinstance(correction, (int, float)):
            raise TypeError(f"{name}: correction={correction!r}; expected a number (1: Bessel's correction)")
        return float(correction)
    return 1.0 if unbiased is None or unbiased else 0.0


class StatisticsOps(TensorOps):
    """Variance, standard deviation, log-sum-exp, norms and boolean reductions as Tensor methods."""

    __slots__ = ()

    def var(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None,
            axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """Variance over ``dim``, dividing by N - 1 (``unbiased=False`` or ``correction=0``: by N)."""
        if isinstance(unbiased, bool) or unbiased is None:
            dim, keepdim = axis_args("var", dim, keepdim, axis, keepdims)
        else:
            raise TypeError(f"var: unbiased={unbiased!r}; expected True or False (keepdim is the third argument)")
        return variance(self, dim, _correction("var", unbiased, correction), keepdim)

    def std(self, dim: Any = None, unbiased: bool | None = None, keepdim: bool = False, *, correction: Any = None,
            axis: Any = None, keepdims: bool | None = None) -> Tensor:
        """Standard deviation: ``sqrt(var(...))`` (same arguments)."""
        return self.var(dim, unbiased, keepdim, correction=correction, axis=axis, keepdims=keepdims).sqrt()

    def logsumexp(self, dim: Any, keepdim: bool = False, *, axis: Any = None,
                  keepdims: bool | None = None) -> Tensor:
        """log(sum(exp(x))) over ``dim``, without overflow: m + log(sum(exp(x - m))), m the
        (detached) maximum; the gradient is softmax(x)."""
        dim, keepdim = axis_args("logsumexp", dim, keepdim, axis, keepdims)
        axes = normalize_axes(dim, self.ndim, "logsumexp")
        m = reduce_max(self.detach(), axes, keepdims=True)
        m = Where.apply(m._lift(0.0), m, cond=(m.abs() == math.inf).data)  # all -inf: log(0) = -inf, not NaN
        out = (self - m).exp().sum(axes, keepdims=True).log() + m
        return out if keepdim else reshape(out, tuple(d for i, d in enumerate(self.shape) if i not in axes))

    def norm(self, p: Any = "fro", dim: Any = None, keepdim: bool = False) -> Tensor:
        """The vector p-norm over ``dim`` (all elements if None): p = 2 or "fro", 1, inf, or any p > 0."""
        axes = normalize_axes(dim, self.ndim, "norm")
        if p in ("fro", 2, 2.0):
            return self._apply(Norm2, axes=axes, keepdims=keepdim)
        if isinstance(p, bool) or not isinstance(p, (int, float)) or p <= 0 or p != p:
            raise ValueError(f"norm: p={p!r}; expected 'fro', a positive number or math.inf")
        size = self.abs()
        if p == math.inf:
            return reduce_max(size, axes, keepdim)
        if p == 1:
            return reduce_sum(size, axes, keepdim)
        return reduce_sum(size**p, axes, keepdim) ** (1.0 / p)

    def all(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """True where every element over ``dim`` is nonzero (a bool tensor; not differentiable)."""
        return reduce_sum(self.detach() == 0, normalize_axes(dim, self.ndim, "all"), keepdim) == 0

    def any(self, dim: Any = None, keepdim: bool = False) -> Tensor:
        """True where some element over ``dim`` is nonzero (a bool tensor; not differentiable)."""
        return reduce_sum(self.detach() != 0, normalize_axes(dim, self.ndim, "any"), keepdim) > 0

    def count_nonzero(self, dim: Any = None) -> Tensor:
        """The number of nonzero elements over ``dim`` (int64)."""
        return reduce_sum(self.detach() != 0, normalize_axes(dim, self.ndim, "count_nonzero")).long()
