"""Constructors: tensors made from a shape (zeros, ones, random draws...), not from data.

They are class methods (``Tensor.zeros(2, 3)``), and the ``*_like`` ones instance
methods. Random draws come from the library's one generator (``tr.manual_seed``), made
by the backend of the requested device.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .. import random
from ..autograd import Function
from ..backend import get_backend, host
from .base import TensorOps, as_shape

if TYPE_CHECKING:
    from ..tensor import Tensor


class Clone(Function):
    """clone: y = a copy of x (an array of its own)
    dx = grad
    """

    reads_inputs = False

    def forward(self, x: Any) -> Any:
        return x.copy()

    def backward(self, grad: Tensor, out: Tensor) -> Tensor:
        return grad


def _number(name: str, what: str, value: Any) -> float | int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
        raise TypeError(f"{name}: {what}={value!r}; expected a Python number (not NaN)")
    return value


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
    def arange(cls, start: float, end: float | None = None, step: float = 1, *, requires_grad: bool = False,
               device: Any = "cpu", dtype: Any = None) -> Tensor:
        """start, start + step, ... up to but excluding ``end`` (PyTorch's and NumPy's
        ``arange``; ``arange(n)`` is 0..n-1). int64 when all three are ints, else float32,
        unless ``dtype`` is given; values are computed in float64 as start + i * step."""
        if end is None:
            start, end = 0, start
        for what, v in (("start", start), ("end", end), ("step", step)):
            _number("arange", what, v)
        if step == 0 or math.isinf(start) or math.isinf(end):
            raise ValueError(f"arange: start={start}, end={end}, step={step}; expected a nonzero step and finite ends")
        if (end - start) * step < 0:
            raise ValueError(f"arange: start={start}, end={end}, step={step}: the step points away from end; expected "
                             "end - start and step of one sign (PyTorch refuses this too)")
        n = math.ceil((end - start) / step)
        backend = get_backend(device or "cpu")
        dtype = backend.dtype(dtype if dtype is not None else "int64" if all(
            isinstance(v, int) for v in (start, end, step)) else "float32")
        if backend.is_bool(dtype):
            raise TypeError("Tensor.arange: dtype bool; expected an integer or floating dtype")
        if start == 0 and step == 1:
            fill = lambda b, s, d: b.arange(s[0], d)  # noqa: E731
        else:
            fill = lambda b, s, d: (b.arange(s[0], b.float64) * step + start).astype(d)  # noqa: E731
        return cls._filled("arange", fill, (n,), requires_grad, device, dtype)

    @classmethod
    def randint(cls, low: int, high: int | None = None, size: Any = (), *, requires_grad: bool = False,
                device: Any = "cpu", dtype: Any = None) -> Tensor:
        """Integers drawn uniformly from [low, high) (``randint(high, size)``: from [0, high)),
        int64 unless ``dtype`` is given, from the library's generator."""
        if high is None:
            low, high = 0, low
        for what, v in (("low", low), ("high", high)):
            if isinstance(v, bool) or not isinstance(v, int):
                raise TypeError(f"randint: {what}={v!r}; expected an int")
        if low >= high:
            raise ValueError(f"randint: low={low} >= high={high}; expected low < high")
        shape = as_shape("randint", (size,) if isinstance(size, int) else tuple(size))

        def fill(b: Any, s: tuple[int, ...], d: Any) -> Any:  # a uniform draw on [0, high - low), truncated
            return (b.uniform(random.generator(), 0.0, float(high - low), s, b.float64).astype(b.int64) + low).astype(d)
        return cls._filled("randint", fill, shape, requires_grad, device, dtype or "int64")

    @classmethod
    def randperm(cls, n: int, *, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """A random permutation of 0..n-1 (int64 unless ``dtype`` is given)."""
        if isinstance(n, bool) or not isinstance(n, int) or n < 0:
            raise ValueError(f"randperm: n={n!r}; expected a non-negative int")
        return cls._filled("randperm", lambda b, s, d: b.argsort(b.uniform(random.generator(), 0.0, 1.0, s, b.float64),
                                                                 axis=0).astype(d), (n,), requires_grad, device,
                           dtype or "int64")

    # ------------------------------------------------- like this tensor, or a new one
    def _like(self, name: str, fill: Callable, shape: Any, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
        return self._filled(name, fill, tuple(shape), requires_grad, self.device if device is None else device,
                            self.dtype if dtype is None else dtype)

    def zeros_like(self, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._like("zeros_like", lambda b, s, d: b.zeros(s, d), self.shape, dtype, device, requires_grad)

    def ones_like(self, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._like("ones_like", lambda b, s, d: b.ones(s, d), self.shape, dtype, device, requires_grad)

    def new_zeros(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """Zeros of ``size``, with this tensor's dtype and device unless given."""
        return self._like("new_zeros", lambda b, s, d: b.zeros(s, d), as_shape("new_zeros", size), dtype, device,
                          requires_grad)

    def new_ones(self, *size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        return self._like("new_ones", lambda b, s, d: b.ones(s, d), as_shape("new_ones", size), dtype, device,
                          requires_grad)

    new_empty = new_zeros  # no uninitialised memory: zeros

    def new_full(self, size: Any, fill_value: float, *, dtype: Any = None, device: Any = None,
                 requires_grad: bool = False) -> Tensor:
        _number("new_full", "fill_value", fill_value)
        return self._like("new_full", lambda b, s, d: b.full(s, fill_value, d),
                          as_shape("new_full", (size,) if isinstance(size, int) else tuple(size)),
                          dtype, device, requires_grad)

    def new_tensor(self, data: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
        """A copy of ``data`` with this tensor's dtype and device unless given (PyTorch's rule)."""
        return type(self)(data, requires_grad=requires_grad, device=self.device if device is None else device,
                          dtype=self.dtype if dtype is None else dtype)

    @classmethod
    def from_numpy(cls, array: Any) -> Tensor:
        """A CPU tensor that shares ``array``'s memory (``Tensor(array)`` copies): writes to
        one are seen by the other, as with ``torch.from_numpy``."""
        backend = get_backend("cpu")
        if not backend.is_array(array) or array.dtype.kind not in "biuf":
            given = f"an array of dtype {array.dtype}" if backend.is_array(array) else f"a {type(array).__name__}"
            raise TypeError(f"from_numpy: got {given}; expected a numpy.ndarray of bools, ints or floats")
        return cls._make(array, backend)

    def multinomial(self, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:
        """Draw ``num_samples`` category indices per row from the weights in self (1-D: one
        distribution; 2-D: one per row; weights need not sum to 1), from the library's
        generator (or ``generator``). Without ``replacement`` no index repeats in a row.

        Raises:
            ValueError: weights that are negative, not finite or all 0, or more samples
                without replacement than categories with a nonzero weight.
        """
        if self.ndim not in (1, 2) or not self.backend.is_floating(self.dtype):
            raise ValueError(f"multinomial: weights of shape {self.shape} and dtype {self.dtype}; expected a 1-D or "
                             "2-D floating tensor")
        if isinstance(num_samples, bool) or not isinstance(num_samples, int) or num_samples <= 0:
            raise ValueError(f"multinomial: num_samples={num_samples!r}; expected a positive int")
        weights = self.backend.to_numpy(self._data)
        try:
            drawn = host.multinomial(random.host_rng(generator, "multinomial"), weights, num_samples, bool(replacement))
        except ValueError as e:
            raise ValueError(f"multinomial: {e}") from None
        return self._make(self.backend.from_numpy(drawn), self.backend)

    # -------------------------------------------------- copies of this tensor
    def clone(self, *, memory_format: Any = None) -> Tensor:
        """A copy of the data that stays on the tape (gradient passes straight through)."""
        return self._apply(Clone)
