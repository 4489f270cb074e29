"""The backend contract: the short list of array primitives every op is written with.

A backend wraps one array module ("xp"): NumPy on the CPU, CuPy on an NVIDIA GPU.
Ops never import either module; they call the methods below on ``tensor.backend`` and
use the operators every array of both modules supports (``+ - * / ** @``, comparisons,
``a[index]``, ``.shape``, ``.ndim``, ``.dtype``, ``.reshape``, ``.transpose``,
``.astype``, ``.copy``).

NumPy and CuPy share an API, so one class serves both: the subclasses only say where
their arrays live and fill in the few primitives that differ (scatter-add, copies to
and from the host). Adding a primitive means: a method here, a check that both
subclasses still work, and a test in ``tests/backend``.
"""

from __future__ import annotations

from typing import Any

from . import host


class Backend:
    """An array module seen through the primitives the ops need.

    Attributes:
        name: the device string users pass (``"cpu"``, ``"cuda"``).
        xp: the array module (``numpy`` or ``cupy``).
        float32, float64, int64, bool_: the dtype objects of the module.
    """

    name: str = "?"

    def __init__(self, xp: Any) -> None:
        self.xp = xp
        self.float32 = xp.dtype("float32")
        self.float64 = xp.dtype("float64")
        self.int64 = xp.dtype("int64")
        self.bool_ = xp.dtype("bool")
        # Bound once here so the hot path pays a single attribute lookup per call.
        self.exp = xp.exp
        self.log = xp.log
        self.tanh = xp.tanh
        self.sqrt = xp.sqrt
        self.abs = xp.abs
        self.sign = xp.sign
        self.maximum = xp.maximum
        self.minimum = xp.minimum
        self.where = xp.where
        self.clip = xp.clip
        self.matmul = xp.matmul
        self.broadcast_to = xp.broadcast_to
        self.concatenate = xp.concatenate
        self.stack = xp.stack
        self.array_type = xp.ndarray

    # ---------------------------------------------------------------- dtypes
    def dtype(self, dtype: Any) -> Any:
        """Normalise a dtype given as a string, a type or a dtype object.

        Raises:
            TypeError: ``dtype`` names no dtype, or one that is not a number or bool.
        """
        try:
            normal = self.xp.dtype(dtype)
        except (TypeError, ValueError):
            normal = None
        if normal is None or normal.kind not in "biuf":
            raise TypeError(
                f"unknown or unsupported dtype {dtype!r}; expected a real or bool dtype such as "
                "'float32', 'float64', 'int64' or 'bool'"
            )
        return normal

    def is_floating(self, dtype: Any) -> bool:
        return self.xp.dtype(dtype).kind == "f"

    def is_integer(self, dtype: Any) -> bool:
        return self.xp.dtype(dtype).kind in "iu"

    def is_bool(self, dtype: Any) -> bool:
        return self.xp.dtype(dtype).kind == "b"

    def result_type(self, *dtypes: Any) -> Any:
        return self.xp.result_type(*dtypes)

    # -------------------------------------------------------------- creation
    def is_array(self, obj: Any) -> bool:
        """True when ``obj`` is an array of this backend."""
        return isinstance(obj, self.array_type)

    def asarray(self, data: Any, dtype: Any = None) -> Any:
        """Python scalars, nested lists or this backend's arrays -> array."""
        return self.xp.asarray(data, dtype=dtype)

    def zeros(self, shape: tuple[int, ...], dtype: Any) -> Any:
        return self.xp.zeros(shape, dtype=dtype)

    def ones(self, shape: tuple[int, ...], dtype: Any) -> Any:
        return self.xp.ones(shape, dtype=dtype)

    def full(self, shape: tuple[int, ...], value: Any, dtype: Any) -> Any:
        return self.xp.full(shape, value, dtype=dtype)

    def eye(self, n: int, dtype: Any) -> Any:
        return self.xp.eye(n, dtype=dtype)

    def arange(self, n: int, dtype: Any) -> Any:
        return self.xp.arange(n, dtype=dtype)

    # ------------------------------------------------------- random draws
    # ``rng`` is the library's one generator (``tinygrad_rnn.random``). Here the draws are
    # made on the host and moved to the device, so one seed gives the same numbers on
    # every backend; a GPU backend may override these to draw on the device.
    def normal(self, rng: Any, shape: tuple[int, ...], dtype: Any) -> Any:
        """Standard normal draws."""
        return self.from_numpy(host.randn(rng, shape, dtype))

    def uniform(self, rng: Any, low: float, high: float, shape: tuple[int, ...], dtype: Any) -> Any:
        """Uniform draws on [low, high)."""
        return self.from_numpy(host.uniform(rng, low, high, shape, dtype))

    # --------------------------------------------------------- special functions
    def erf(self, a: Any) -> Any:
        """The error function erf(a) = 2/sqrt(pi) * integral_0^a exp(-t^2) dt, elementwise
        (exact GELU needs it; neither array module has it under that name)."""
        raise NotImplementedError

    # ------------------------------------------------------------ linear algebra
    def qr(self, a: Any) -> tuple[Any, Any]:
        """The reduced QR decomposition of a matrix: a = q @ r, q with orthonormal columns."""
        return self.xp.linalg.qr(a)

    # ---------------------------------------------------------- reductions
    def sum(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.sum(a, axis=axis, keepdims=keepdims)

    def amax(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.amax(a, axis=axis, keepdims=keepdims)

    def amin(self, a: Any, axis: Any = None, keepdims: bool = False) -> Any:
        return self.xp.amin(a, axis=axis, keepdims=keepdims)

    def all_finite(self, a: Any) -> bool:
        """One host bool: are all entries finite? (used by anomaly mode)."""
        return bool(self.xp.isfinite(a).all())

    def argmax(self, a: Any, axis: Any = None) -> Any:
        return self.xp.argmax(a, axis=axis)

    def argmin(self, a: Any, axis: Any = None) -> Any:
        return self.xp.argmin(a, axis=axis)

    def argsort(self, a: Any, axis: int, descending: bool = False) -> Any:
        """Indices that sort ``a`` along ``axis``; stable (equal values keep their order),
        descending too. Negating for a descending sort would break unsigned ints and bools,
        so the reversed array is sorted and the indices mapped back."""
        xp = self.xp
        if not descending:
            return xp.argsort(a, axis=axis, kind="stable")
        n = a.shape[axis]
        order = xp.argsort(xp.flip(a, axis=axis), axis=axis, kind="stable")
        return (n - 1) - xp.flip(order, axis=axis)

    # ----------------------------------------------------------- scatter
    def index_add(self, shape: tuple[int, ...], index: Any, values: Any, dtype: Any) -> Any:
        """zeros(shape)[index] += values, with repeated indices accumulating.

        This is the backward of indexing: every place a value was read from gets
        the sum of the gradients of all its reads.
        """
        out = self.zeros(shape, dtype)
        self.index_add_(out, index, values)
        return out

    def index_add_(self, target: Any, index: Any, values: Any) -> None:
        """In place: target[index] += values, with repeated indices accumulating."""
        raise NotImplementedError

    def set_writeable(self, a: Any, flag: bool) -> bool:
        """Make ``a`` read-only (or writable again) where the array module can; returns
        False only when ``a`` cannot be made writable (a view of a read-only array). A
        backend without the notion (CuPy) leaves the array as it is."""
        return True

    # ------------------------------------------------------------- host I/O
    def to_numpy(self, a: Any) -> Any:
        """A host ``numpy.ndarray`` holding a copy (or a view on the CPU) of ``a``."""
        raise NotImplementedError

    def from_numpy(self, host: Any) -> Any:
        """A host ``numpy.ndarray`` -> an array of this backend."""
        raise NotImplementedError

    def scalar(self, a: Any) -> Any:
        """The Python number held by a one-element array."""
        return a.item()

    def synchronize(self) -> None:
        """Wait until the device has finished the work queued so far (host arrays: at once)."""

    # ------------------------------------------------------------- DLPack
    # The zero-copy exchange of arrays between libraries (PyTorch, JAX, CuPy, NumPy).
    def dlpack(self, a: Any, **kwargs: Any) -> Any:
        """``a.__dlpack__(**kwargs)``: a capsule that lends ``a``'s memory to a consumer."""
        return a.__dlpack__(**kwargs)

    def dlpack_device(self, a: Any) -> tuple[int, int]:
        """``a.__dlpack_device__()``: (DLPack device type, device id), e.g. (1, 0) for the CPU."""
        return a.__dlpack_device__()

    def from_dlpack(self, obj: Any) -> Any:
        """An array of this backend sharing the memory of ``obj`` (any object with ``__dlpack__``)."""
        return self.xp.from_dlpack(obj)


def is_basic_index(index: Any) -> bool:
    """True for an index made only of ints, slices, None and Ellipsis.

    Such an index selects each element at most once, so its backward can use a plain
    assignment instead of a (slower) scatter-add.
    """
    parts = index if isinstance(index, tuple) else (index,)
    return all(isinstance(p, (int, slice)) or p is None or p is Ellipsis for p in parts)
