"""A stand-in backend whose arrays refuse to become NumPy arrays, as CuPy's do.

This machine and CI have no GPU, so the CuPy backend cannot run here. What can go
wrong on a GPU that the CPU hides is code outside ``tinygrad_rnn/backend`` treating
arrays as NumPy arrays: calling ``numpy`` on them, mixing them with host arrays, or
relying on implicit conversion. ``StrictArray`` wraps a NumPy array and raises
``TypeError`` on every such use, so running the op and layer suites on
``device="strict"`` proves the package reaches arrays only through its backend.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from tinygrad_rnn.backend.numpy_backend import NumpyBackend


class StrictArray:
    """A NumPy array behind a wall: arithmetic with its own kind or Python scalars only."""

    __slots__ = ("_a",)

    def __init__(self, a: Any) -> None:
        self._a = a

    # What CuPy refuses, this refuses too.
    def __array__(self, *args: Any, **kwargs: Any) -> Any:
        raise TypeError("StrictArray: implicit conversion to a NumPy array is not allowed (as with CuPy)")

    def __iter__(self) -> Any:
        raise TypeError("StrictArray: iterating over a device array is not allowed; index it instead")

    def __repr__(self) -> str:
        return f"StrictArray({self._a!r})"

    # ------------------------------------------------------------------ attributes
    shape = property(lambda self: self._a.shape)
    ndim = property(lambda self: self._a.ndim)
    dtype = property(lambda self: self._a.dtype)
    size = property(lambda self: self._a.size)
    T = property(lambda self: StrictArray(self._a.T))

    def reshape(self, *shape: Any) -> StrictArray:
        return StrictArray(self._a.reshape(*shape))

    def transpose(self, *axes: Any) -> StrictArray:
        return StrictArray(self._a.transpose(*axes))

    def astype(self, dtype: Any, copy: bool = True) -> StrictArray:
        return StrictArray(self._a.astype(dtype, copy=copy))

    def copy(self) -> StrictArray:
        return StrictArray(self._a.copy())

    def item(self) -> Any:
        return self._a.item()

    def all(self, *args: Any, **kwargs: Any) -> Any:
        return StrictArray(np.asarray(self._a.all(*args, **kwargs)))

    def any(self, *args: Any, **kwargs: Any) -> Any:
        return StrictArray(np.asarray(self._a.any(*args, **kwargs)))

    def __bool__(self) -> bool:
        return bool(self._a)

    def __float__(self) -> float:
        return float(self._a)

    def __int__(self) -> int:
        return int(self._a)

    def __len__(self) -> int:
        return len(self._a)

    def __getitem__(self, index: Any) -> StrictArray:
        return _wrap(self._a[_unwrap_index(index)])

    def __setitem__(self, index: Any, value: Any) -> None:
        self._a[_unwrap_index(index)] = _operand(value)

    def __iadd__(self, other: Any) -> StrictArray:
        self._a += _operand(other)
        return self

    def __isub__(self, other: Any) -> StrictArray:
        self._a -= _operand(other)
        return self

    def __imul__(self, other: Any) -> StrictArray:
        self._a *= _operand(other)
        return self

    def __itruediv__(self, other: Any) -> StrictArray:
        self._a /= _operand(other)
        return self


def _operand(x: Any) -> Any:
    """Unwrap the other side of an operator; refuse host arrays."""
    if isinstance(x, StrictArray):
        return x._a
    if isinstance(x, (bool, int, float)):
        return x
    raise TypeError(
        f"StrictArray: operand of type {type(x).__name__} mixed with a device array; expected a "
        "StrictArray or a Python scalar (code outside the backend handled a host array)"
    )


def _wrap(x: Any) -> Any:
    if isinstance(x, (np.ndarray, np.generic)):
        return StrictArray(np.asarray(x))
    if isinstance(x, tuple):
        return tuple(_wrap(v) for v in x)
    return x


def _unwrap(x: Any) -> Any:
    if isinstance(x, StrictArray):
        return x._a
    if isinstance(x, (list, tuple)):
        return type(x)(_unwrap(v) for v in x)
    if isinstance(x, np.ndarray):
        raise TypeError("StrictBackend: got a host numpy array where a device array was expected")
    return x


def _unwrap_index(index: Any) -> Any:
    if isinstance(index, tuple):
        return tuple(_unwrap_index(p) for p in index)
    if isinstance(index, StrictArray):
        return index._a
    if isinstance(index, np.ndarray):
        raise TypeError("StrictArray: indexed with a host numpy array; expected a device array")
    return index


def _binary(name: str) -> Any:
    def method(self: StrictArray, other: Any) -> Any:
        return _wrap(getattr(self._a, name)(_operand(other)))

    method.__name__ = name
    return method


def _unary(name: str) -> Any:
    def method(self: StrictArray) -> Any:
        return _wrap(getattr(self._a, name)())

    method.__name__ = name
    return method


for _name in ("add", "radd", "sub", "rsub", "mul", "rmul", "truediv", "rtruediv", "pow", "rpow",
              "matmul", "rmatmul", "lt", "le", "gt", "ge", "eq", "ne", "and", "rand", "or", "ror",
              "xor", "floordiv", "mod"):
    setattr(StrictArray, f"__{_name}__", _binary(f"__{_name}__"))
for _name in ("neg", "pos", "abs", "invert"):
    setattr(StrictArray, f"__{_name}__", _unary(f"__{_name}__"))
StrictArray.__hash__ = None  # type: ignore[assignment]


# Every array primitive of the backend protocol, wrapped to unwrap its arguments and
# wrap its results.
_PRIMITIVES = (
    "exp", "log", "tanh", "sqrt", "abs", "sign", "maximum", "minimum", "where", "clip", "matmul",
    "broadcast_to", "concatenate", "stack", "zeros", "ones", "full", "eye", "arange", "sum", "amax", "amin",
    "argmax", "index_add_", "all_finite", "set_writeable", "qr", "erf",  # index_add is built from zeros + index_add_
)
_PRIMITIVES += ("argmin", "argsort", "dlpack", "dlpack_device", "from_dlpack")


def _wrap_primitive(fn: Any) -> Any:
    def primitive(*args: Any, **kwargs: Any) -> Any:
        args = tuple(_unwrap(a) for a in args)
        kwargs = {k: _unwrap(v) for k, v in kwargs.items()}
        return _wrap(fn(*args, **kwargs))

    return primitive


class StrictBackend(NumpyBackend):
    """NumPy underneath, ``StrictArray`` on the surface; registered as ``device="strict"``."""

    name = "strict"

    def __init__(self) -> None:
        super().__init__()
        self.array_type = StrictArray
        for name in _PRIMITIVES:
            setattr(self, name, _wrap_primitive(getattr(super(), name, None) or getattr(self, name)))

    def asarray(self, data: Any, dtype: Any = None) -> StrictArray:
        if isinstance(data, StrictArray):
            return StrictArray(np.asarray(data._a, dtype=dtype))
        return StrictArray(np.asarray(data, dtype=dtype))

    def to_numpy(self, a: Any) -> np.ndarray:
        if not isinstance(a, StrictArray):
            raise TypeError(f"StrictBackend.to_numpy: expected a StrictArray, got {type(a).__name__}")
        return a._a.copy()

    def from_numpy(self, host: Any) -> StrictArray:
        return StrictArray(np.array(host))

    def scalar(self, a: Any) -> Any:
        return a.item()
