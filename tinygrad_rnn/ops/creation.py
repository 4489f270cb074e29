"""Constructors: tensors made from a shape (zeros, ones, random draws...), not from data.

They are class methods (``Tensor.zeros(2, 3)``), and the ``*_like`` ones instance
methods. Random draws come from the library's one generator (``tr.manual_seed``), made
by the backend of the requested device.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import random
from ..backend import get_backend
from .base import TensorOps, as_shape

if TYPE_CHECKING:
    from ..tensor import Tensor


class CreationOps(TensorOps):
    """Constructors of a Tensor."""

    __slots__ = ()

    @classmethod
    def _filled(cls, name: str, fill: Callable, shape: tuple, requires_grad: bool, device: Any, dtype: Any) -> Tensor:
        """A new leaf: ``fill(backend, shape, dtype)`` on ``device``, float32 unless ``dtype``."""
        backend = get_backend(device or "cpu")
        dtype = backend.dtype(dtype) if dtype is not None else backend.float32
        t = cls._make(fill(backend, as_shape(f"Tensor.{name}", shape), dtype), backend)
        return t.requires_grad_(True) if requires_grad else t

    @classmethod
    def zeros(cls, *shape: Any, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        return cls._filled("zeros", lambda b, s, d: b.zeros(s, d), shape, requires_grad, device, dtype)

    @classmethod
    def ones(cls, *shape: Any, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        return cls._filled("ones", lambda b, s, d: b.ones(s, d), shape, requires_grad, device, dtype)

    @classmethod
    def full(cls, shape: Any, value: float, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """A tensor of ``shape`` filled with the number ``value``."""
        if not isinstance(value, (int, float)):
            raise TypeError(f"Tensor.full: value {value!r} is a {type(value).__name__}; expected a Python number")
        if not isinstance(shape, (int, tuple, list)):
            raise TypeError(f"Tensor.full: shape {shape!r} is a {type(shape).__name__}; expected an int or a tuple of ints")
        try:
            return cls._filled("full", lambda b, s, d: b.full(s, value, d), (shape,) if isinstance(shape, int) else
                               tuple(shape), requires_grad, device, dtype)
        except OverflowError:
            raise ValueError(f"Tensor.full: value {value!r} does not fit in dtype {dtype}; expected a smaller number") from None

    @classmethod
    def randn(cls, *shape: Any, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """Standard normal draws from the library's generator (see ``tr.manual_seed``)."""
        return cls._filled("randn", lambda b, s, d: b.normal(random.generator(), s, d),
                           shape, requires_grad, device, dtype)

    @classmethod
    def rand(cls, *shape: Any, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """Uniform draws on [0, 1) from the library's generator."""
        return cls._filled("rand", lambda b, s, d: b.uniform(random.generator(), 0.0, 1.0, s, d),
                           shape, requires_grad, device, dtype)

    @classmethod
    def uniform(cls, *shape: Any, low: float = 0.0, high: float = 1.0, requires_grad: bool = False,
                device: Any = "cpu", dtype: Any = None) -> Tensor:
        """Uniform draws on [low, high) from the library's generator."""
        for what, bound in (("low", low), ("high", high)):
            if isinstance(bound, bool) or not isinstance(bound, (int, float)) or bound != bound:
                raise ValueError(f"Tensor.uniform: {what}={bound!r}; expected a Python number (not NaN)")
        if low > high:
            raise ValueError(f"Tensor.uniform: low={low} is greater than high={high}; expected low <= high")
        return cls._filled("uniform", lambda b, s, d: b.uniform(random.generator(), low, high, s, d),
                           shape, requires_grad, device, dtype)

    @classmethod
    def eye(cls, n: int, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        return cls._filled("eye", lambda b, s, d: b.eye(s[0], d), (n,), requires_grad, device, dtype)

    @classmethod
    def arange(cls, n: int, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """0, 1, ..., n-1 (int64 unless ``dtype`` is given)."""
        if get_backend(device or "cpu").is_bool(get_backend(device or "cpu").dtype(dtype or "int64")):
            raise TypeError("Tensor.arange: dtype bool; expected an integer or floating dtype")
        return cls._filled("arange", lambda b, s, d: b.arange(s[0], d), (n,), requires_grad, device, dtype or "int64")

    def zeros_like(self) -> Tensor:
        return self._make(self.backend.zeros(self.shape, self.dtype), self.backend)

    def ones_like(self) -> Tensor:
        return self._make(self.backend.ones(self.shape, self.dtype), self.backend)

    @classmethod
    def from_numpy(cls, array: Any) -> Tensor:
        """A CPU tensor that shares ``array``'s memory (``Tensor(array)`` copies): writes to
        one are seen by the other, as with ``torch.from_numpy``."""
        backend = get_backend("cpu")
        if not backend.is_array(array) or array.dtype.kind not in "biuf":
            given = f"an array of dtype {array.dtype}" if backend.is_array(array) else f"a {type(array).__name__}"
            raise TypeError(f"from_numpy: got {given}; expected a numpy.ndarray of bools, ints or floats")
        return cls._make(array, backend)

    # -------------------------------------------------- copies of this tensor
    def to(self, device: Any = None, dtype: Any = None) -> Tensor:
        """This tensor on ``device`` and/or as ``dtype``; differentiable for float casts.

        Moving devices returns a new leaf tensor (moves are not on the tape) that keeps
        ``requires_grad``.
        """
        out = self
        if device is not None and get_backend(device) is not self.backend:
            backend = get_backend(device)
            out = self._make(backend.from_numpy(self.numpy()), backend)
            out.requires_grad = self.requires_grad
        return out if dtype is None else out.astype(dtype)

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def clone(self) -> Tensor:
        """A copy of the data that stays on the tape (gradient passes straight through)."""
        return self * 1.0 if self.requires_grad else self._make(self._data.copy(), self.backend)
