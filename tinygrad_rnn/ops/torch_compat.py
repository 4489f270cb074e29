"""The rest of PyTorch's Tensor vocabulary: method forms of the operators, small
composites, attributes scripts read, and errors that name what is not offered.

Every method here is a spelling of ops defined elsewhere (``x.add(y, alpha=2)`` is
``x + y * 2``, ``x.clamp`` is ``clip``), so nothing here has a backward of its own. The
integer and boolean operators (``// % & | ^ ~``), which have no gradient, are in
``integer.py``.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

from .. import unsupported
from .base import TensorOps, one_axis, shape_str, tensor_arg
from .linalg import matmul

if TYPE_CHECKING:
    from ..tensor import Tensor


class TorchCompatOps(TensorOps):
    """PyTorch's remaining Tensor methods and attributes."""

    __slots__ = ()

    # --------------------------------------------------------- operators as methods
    def add(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self + alpha * other."""
        return self + (other if alpha == 1 else other * alpha)

    def sub(self, other: Any, *, alpha: float = 1) -> Tensor:
        """self - alpha * other."""
        return self - (other if alpha == 1 else other * alpha)

    subtract = sub

    def mul(self, other: Any) -> Tensor:
        return self * other

    multiply = mul

    def div(self, other: Any, *, rounding_mode: str | None = None) -> Tensor:
        """self / other; ``rounding_mode="floor"`` gives ``self // other`` (no gradient)."""
        if rounding_mode is None:
            return self / other
        if rounding_mode == "floor":
            return self // other
        raise ValueError(f"div: rounding_mode={rounding_mode!r}; expected None or 'floor' ('trunc' is not supported)")

    divide = true_divide = div

    def pow(self, exponent: Any) -> Tensor:
        return self**exponent

    def neg(self) -> Tensor:
        return -self

    negative = neg

    def square(self) -> Tensor:
        return self * self

    def reciprocal(self) -> Tensor:
        return 1.0 / self

    def rsqrt(self) -> Tensor:
        return 1.0 / self.sqrt()

    def log1p(self) -> Tensor:
        """log(1 + x) (as that composite: less exact than PyTorch's for |x| below about 1e-8)."""
        return (self + 1.0).log()

    def expm1(self) -> Tensor:
        """exp(x) - 1 (as that composite: less exact than PyTorch's for tiny |x|)."""
        return self.exp() - 1.0

    def sign(self) -> Tensor:
        """-1, 0 or 1 (no gradient: it is 0 almost everywhere)."""
        return self._make(self.backend.sign(self._data), self.backend)

    def clamp(self, min: Any = None, max: Any = None) -> Tensor:  # noqa: A002 (PyTorch's names)
        """``clip(min, max)``; either bound may be None."""
        return self.clip(min, max)

    def clamp_min(self, min: Any) -> Tensor:  # noqa: A002
        return self.clip(min, None)

    def clamp_max(self, max: Any) -> Tensor:  # noqa: A002
        return self.clip(None, max)

    def eq(self, other: Any) -> Tensor:
        return self == other

    def ne(self, other: Any) -> Tensor:
        return self != other

    def lt(self, other: Any) -> Tensor:
        return self < other

    def le(self, other: Any) -> Tensor:
        return self <= other

    def gt(self, other: Any) -> Tensor:
        return self > other

    def ge(self, other: Any) -> Tensor:
        return self >= other

    def isnan(self) -> Tensor:
        return self != self

    def isinf(self) -> Tensor:
        return self.detach().abs() == math.inf

    def isfinite(self) -> Tensor:
        return self.detach().abs() < math.inf  # False for inf and for NaN

    def allclose(self, other: Any, rtol: float = 1e-5, atol: float = 1e-8) -> bool:
        other = tensor_arg("allclose", self, other)
        return bool(((self.detach() - other.detach()).abs() <= atol + rtol * other.detach().abs()).all().item())

    def equal(self, other: Tensor) -> bool:
        """Same shape and the same values."""
        return self.shape == other.shape and bool((self.detach() == other.detach()).all().item())

    def __abs__(self) -> Tensor:
        return self.abs()

    def __pos__(self) -> Tensor:
        return self

    # --------------------------------------------------------- Python numbers
    def __float__(self) -> float:
        return float(self.item())

    def __int__(self) -> int:
        return int(self.item())

    def __index__(self) -> int:
        if not (self.backend.is_integer(self.dtype) or self.backend.is_bool(self.dtype)):
            raise TypeError(f"a tensor of dtype {self.dtype} used as an index; expected an integer tensor")
        return int(self.item())

    def __format__(self, spec: str) -> str:
        """``f"{loss:.3f}"`` formats a one-element tensor's value, as PyTorch does."""
        if spec and self.numel() == 1:
            return format(self.item(), spec)
        return format(str(self), spec)

    # --------------------------------------------------------- matrix products
    def mm(self, other: Tensor) -> Tensor:
        """Matrix product of two 2-D tensors."""
        if self.ndim != 2 or other.ndim != 2:
            raise ValueError(f"mm: shapes {shape_str(self.shape)} and {shape_str(other.shape)}; expected two 2-D "
                             "tensors (use @ or matmul for others)")
        return matmul(self, other)

    def bmm(self, other: Tensor) -> Tensor:
        """Batched matrix product of (B, n, k) and (B, k, m)."""
        if self.ndim != 3 or other.ndim != 3 or self.shape[0] != other.shape[0]:
            raise ValueError(f"bmm: shapes {shape_str(self.shape)} and {shape_str(other.shape)}; expected (B, n, k) "
                             "and (B, k, m)")
        return matmul(self, other)

    def mv(self, vec: Tensor) -> Tensor:
        if self.ndim != 2 or vec.ndim != 1:
            raise ValueError(f"mv: shapes {shape_str(self.shape)} and {shape_str(vec.shape)}; expected a matrix and "
                             "a vector")
        return matmul(self, vec)

    def dot(self, other: Tensor) -> Tensor:
        if self.ndim != 1 or other.ndim != 1:
            raise ValueError(f"dot: shapes {shape_str(self.shape)} and {shape_str(other.shape)}; expected two 1-D "
                             "tensors")
        return matmul(self, other)

    # --------------------------------------------------------- autograd and attributes
    @property
    def grad_fn(self) -> Any:
        """The op that made this tensor (None for a leaf): its ``inputs`` are the tape."""
        return self._ctx

    @property
    def retains_grad(self) -> bool:
        return self._retain

    def detach_(self) -> Tensor:
        """Cut this tensor from the tape in place (it becomes a leaf that does not require grad)."""
        self._ctx, self.requires_grad = None, False
        return self

    @property
    def is_cuda(self) -> bool:
        return self.device == "cuda"

    def get_device(self) -> int:
        """-1 on the CPU, 0 on the GPU (PyTorch's numbering)."""
        return 0 if self.device == "cuda" else -1

    def is_floating_point(self) -> bool:
        return self.backend.is_floating(self.dtype)

    def is_complex(self) -> bool:
        return False

    def element_size(self) -> int:
        """Bytes per element."""
        return self.dtype.itemsize

    @property
    def itemsize(self) -> int:
        return self.dtype.itemsize

    @property
    def nbytes(self) -> int:
        return self.dtype.itemsize * self.numel()

    def nelement(self) -> int:
        return self.numel()

    def ndimension(self) -> int:
        return self.ndim

    def stride(self, dim: int | None = None) -> Any:
        """Steps in elements between neighbours along each axis (the backend array's strides)."""
        strides = getattr(self._data, "strides", None)
        if strides is None:
            raise NotImplementedError(f"stride(): the {self.device!r} backend's arrays do not report strides")
        steps = tuple(s // self.dtype.itemsize for s in strides)
        return steps if dim is None else steps[one_axis(dim, self.ndim, "stride")]

    def pin_memory(self) -> Tensor:
        """The tensor itself: host memory here is ordinary NumPy memory."""
        return self

    def __getattr__(self, name: str) -> Any:
        if name.startswith("_"):  # Python's and NumPy's probes (__array__...), and unset private slots
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        raise unsupported.missing("Tensor", name, unsupported.TENSOR)
