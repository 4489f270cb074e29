"""Tensor: an array on a backend, plus the links that make up the tape.

A Tensor holds ``data`` (a NumPy or CuPy array), the ``backend`` that owns it,
``requires_grad``, ``grad`` and, for a tensor computed by an op, ``_ctx``: the
:class:`~tinygrad_rnn.autograd.Function` that made it. Operators and methods call
the snake_case op wrappers of :mod:`tinygrad_rnn.ops`; no arithmetic happens here.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any

from . import autograd
from . import random as _random
from .backend import backend_of, get_backend, host

# Creation order. A tensor is always made after the tensors it is computed from, so
# backward can visit tensors in decreasing ``_seq`` and meet each one after all its uses.
_next_seq = itertools.count().__next__


class RemovableHandle:
    """Returned by :meth:`Tensor.register_hook`; ``.remove()`` unregisters the hook."""

    def __init__(self, hooks: list, fn: Callable) -> None:
        self._hooks, self._fn = hooks, fn

    def remove(self) -> None:
        if self._fn in self._hooks:
            self._hooks.remove(self._fn)


def _shape_arg(shape: tuple) -> tuple[int, ...]:
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    for d in shape:
        if isinstance(d, bool) or not isinstance(d, int) or d < 0:
            raise ValueError(f"shape {shape!r}: expected non-negative ints")
    return tuple(shape)


class Tensor:
    """An n-dimensional array that records the ops applied to it.

    Args:
        data: a Python scalar or nested list, a NumPy array, a CuPy array or a Tensor.
        requires_grad: track ops on this tensor so ``backward`` can fill ``.grad``.
        device: ``"cpu"`` (NumPy) or ``"cuda"`` (CuPy). ``None`` (the default) keeps an
            array where it is and puts Python data on the CPU.
        dtype: e.g. ``"float32"``. Default: Python floats become float32; arrays keep
            their dtype (float64 stays float64); integers stay integers.

    Raises:
        TypeError: ``requires_grad=True`` on an integer or boolean tensor.
        RuntimeError: ``device="cuda"`` without CuPy or without a GPU.

    Example:
        >>> x = Tensor([1.0, 2.0, 3.0], requires_grad=True)
        >>> (x * x).sum().backward()
        >>> x.grad.tolist()
        [2.0, 4.0, 6.0]
    """

    __slots__ = ("data", "backend", "requires_grad", "grad", "_ctx", "_retain", "_hooks", "_seq", "__weakref__")
    __array_priority__ = 1000  # so numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            source, data = data.backend, data.data
        else:
            source = backend_of(data)
        backend = get_backend(device if device is not None else (source.name if source else "cpu"))
        if source is None:
            from_python = not host.is_host_array(data)
            if from_python and isinstance(data, (list, tuple)) and _holds_tensors(data):
                raise TypeError("Tensor(data): data is a list of Tensors; use tr.stack(tensors) instead")
            try:
                array = host.as_host_array(data)
            except (ValueError, TypeError) as e:
                raise TypeError(
                    f"Tensor(data): cannot make an array from {type(data).__name__} ({e}); expected a "
                    "number, a (nested, rectangular) list of numbers, or an array"
                ) from None
            if array.dtype.kind not in "biuf":
                raise TypeError(
                    f"Tensor(data): got data of dtype {array.dtype} from {type(data).__name__}; "
                    "expected numbers (bool, int or float)"
                )
            if from_python and array.dtype.kind == "f" and dtype is None:
                array = array.astype("float32")  # Python floats default to float32
            data = backend.from_numpy(array)
        else:
            if data.dtype.kind not in "biuf":  # a host array of strings, objects or complex numbers
                raise TypeError(f"Tensor(data): got an array of dtype {data.dtype}; expected numbers (bool, int or float)")
            if source is not backend:
                data = backend.from_numpy(source.to_numpy(data))
        if dtype is not None:
            dtype = backend.dtype(dtype)
            if data.dtype != dtype:
                data = data.astype(dtype)
        self.data = data
        self.backend = backend
        self.grad: Tensor | None = None
        self._ctx: autograd.Function | None = None
        self._retain = False
        self._hooks: list | None = None
        self._seq = _next_seq()
        self.requires_grad = False
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _wrap(data: Any, backend: Any, requires_grad: bool = False) -> Tensor:
        """Fast constructor for op results: no conversion, no checks."""
        t = Tensor.__new__(Tensor)
        t.data = data
        t.backend = backend
        t.requires_grad = requires_grad
        t.grad = None
        t._ctx = None
        t._retain = False
        t._hooks = None
        t._seq = _next_seq()
        return t

    def _const(self, data: Any) -> Tensor:
        """A constant (no grad) tensor on this tensor's device."""
        return Tensor._wrap(data, self.backend, False)

    def _lift(self, other: Any) -> Tensor:
        """Python scalars and arrays on the other side of an operator -> Tensor."""
        if isinstance(other, Tensor):
            return other
        backend = self.backend
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            dtype = self.dtype
            if not (isinstance(other, int) or backend.is_floating(dtype)):
                dtype = backend.float32
            # Constants such as the 1.0 in (1 - y) recur at every step: make each once.
            key = (backend.name, other, type(other), dtype)
            const = _SCALARS.get(key) if other else None  # 0.0 and -0.0 differ: no cache
            if const is None:
                if len(_SCALARS) > 4096:
                    _SCALARS.clear()
                try:
                    const = Tensor._wrap(backend.asarray(other, dtype=dtype), backend)
                except OverflowError:
                    raise ValueError(f"the number {other!r} does not fit in dtype {dtype}; expected a smaller number "
                                     "(or a floating-point tensor)") from None
                _SCALARS[key] = const
            return const
        return Tensor(other, device=self.device)

    # ---------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self.data.shape  # a tuple on every backend

    @property
    def ndim(self) -> int:
        return self.data.ndim

    @property
    def size(self) -> int:
        n = 1
        for d in self.data.shape:
            n *= d
        return n

    @property
    def dtype(self) -> Any:
        return self.data.dtype

    @property
    def device(self) -> str:
        return self.backend.name

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    @property
    def T(self) -> Tensor:
        """All axes reversed (the matrix transpose for 2-D)."""
        return _ops.transpose(self)

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor; expected a tensor with at least 1 dimension")
        return self.shape[0]

    def __iter__(self) -> Any:
        """``for x_t in x``: the sub-tensors along axis 0 (differentiable, as ``x[t]``)."""
        if self.ndim == 0:
            raise TypeError("iteration over a 0-d tensor; expected a tensor with at least 1 dimension")
        return (self[t] for t in range(self.shape[0]))

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        dev = f", device='{self.device}'" if self.device != "cpu" else ""
        body = repr(self.numpy()).replace("array(", "tensor(", 1)
        return body[:-1] + f"{dev}{grad})" if body.endswith(")") else body

    def __bool__(self) -> bool:
        if self.size != 1:
            raise ValueError(
                f"the truth value of a tensor of shape {self.shape} is ambiguous; expected one element"
            )
        return bool(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------- conversions
    def numpy(self) -> Any:
        """A host ``numpy.ndarray`` (a copy when the tensor lives on a GPU)."""
        return self.backend.to_numpy(self.data)

    def item(self) -> Any:
        if self.size != 1:
            raise ValueError(f"item(): tensor of shape {self.shape} has {self.size} elements; expected exactly 1")
        return self.backend.scalar(self.data)

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def to(self, device: Any = None, dtype: Any = None) -> Tensor:
        """This tensor on ``device`` and/or as ``dtype``; differentiable for float casts.

        Moving devices returns a new leaf tensor (moves are not on the tape) that keeps
        ``requires_grad``.
        """
        out = self
        if device is not None and get_backend(device) is not self.backend:
            backend = get_backend(device)
            moved = Tensor._wrap(backend.from_numpy(self.backend.to_numpy(self.data)), backend)
            moved.requires_grad = self.requires_grad
            out = moved
        if dtype is not None:
            out = _ops.cast(out, dtype)
        return out

    def cpu(self) -> Tensor:
        return self.to("cpu")

    def cuda(self) -> Tensor:
        return self.to("cuda")

    def astype(self, dtype: Any) -> Tensor:
        return _ops.cast(self, dtype)

    def float(self) -> Tensor:
        return _ops.cast(self, "float32")

    def double(self) -> Tensor:
        return _ops.cast(self, "float64")

    def long(self) -> Tensor:
        return self._const(self.data.astype(self.backend.int64))

    def detach(self) -> Tensor:
        """The same data, cut from the tape (shares memory; no grad)."""
        return Tensor._wrap(self.data, self.backend)

    def clone(self) -> Tensor:
        """A copy of the data that stays on the tape (gradient passes straight through)."""
        return self * 1.0 if self.requires_grad else Tensor._wrap(self.data.copy(), self.backend)

    def requires_grad_(self, mode: bool = True) -> Tensor:
        """Set ``requires_grad`` in place; only floating tensors can require grad."""
        if mode and not self.backend.is_floating(self.dtype):
            raise TypeError(
                f"requires_grad=True needs a floating-point tensor, got dtype {self.dtype}; "
                "expected float32 or float64 (integer tensors hold indices, which have no gradient)"
            )
        self.requires_grad = bool(mode)
        return self

    # ------------------------------------------------------------------ autograd
    def _default_grad(self) -> Tensor:
        if self.size != 1:
            raise RuntimeError(
                f"backward() on a tensor of shape {self.shape} needs grad= of that shape; "
                "expected a one-element tensor (e.g. a scalar loss) when grad is omitted"
            )
        return Tensor._wrap(self.backend.ones(self.shape, self.dtype), self.backend)

    def _check_grad(self, grad: Any) -> Tensor:
        grad = grad if isinstance(grad, Tensor) else Tensor(grad, device=self.device, dtype=self.dtype)
        if grad.backend is not self.backend:
            raise RuntimeError(f"backward(): grad is on {grad.device!r} but the tensor is on {self.device!r}")
        if grad.shape != self.shape:
            raise ValueError(f"backward(): grad has shape {grad.shape}; expected the tensor's shape {self.shape}")
        return grad

    def backward(self, grad: Any = None, create_graph: bool = False) -> None:
        """Accumulate d(self)/d(leaf) * grad into ``.grad`` of every leaf that requires grad.

        Args:
            grad: d(loss)/d(self); may be omitted only for a one-element tensor.
            create_graph: record the backward pass, so the gradients can be
                differentiated again (Hessian-vector products, gradient penalties).

        Raises:
            RuntimeError: the tensor does not require grad, or ``grad`` is omitted for a
                tensor with more than one element.
            ValueError: ``grad`` has the wrong shape.

        The tape is kept after backward: calling it again adds the same gradients once more.
        """
        if not self.requires_grad:
            raise RuntimeError(
                "backward(): this tensor does not require grad and has no tape; expected a tensor "
                "computed from at least one tensor with requires_grad=True"
            )
        seed = self._default_grad() if grad is None else self._check_grad(grad)
        autograd.run_backward(self, seed, create_graph=create_graph)

    def retain_grad(self) -> None:
        """Keep ``.grad`` on this non-leaf tensor after backward."""
        if not self.requires_grad:
            raise RuntimeError("retain_grad() on a tensor that does not require grad")
        self._retain = True

    def register_hook(self, fn: Callable[[Tensor], Tensor | None]) -> RemovableHandle:
        """Call ``fn(grad)`` when this tensor's gradient is computed.

        ``fn`` may return a replacement gradient. Returns a handle with ``.remove()``.
        """
        if not self.requires_grad:
            raise RuntimeError("register_hook() on a tensor that does not require grad")
        if not callable(fn):
            raise TypeError(f"register_hook(): fn is a {type(fn).__name__}; expected a callable fn(grad)")
        if self._hooks is None:
            self._hooks = []
        self._hooks.append(fn)
        return RemovableHandle(self._hooks, fn)

    def zero_grad(self) -> None:
        self.grad = None

    # ------------------------------------------------------------- constructors
    @staticmethod
    def _new(fill: Callable, shape: tuple, requires_grad: bool, device: Any, dtype: Any) -> Tensor:
        backend = get_backend(device or "cpu")
        dtype = backend.dtype(dtype) if dtype is not None else backend.float32
        t = Tensor._wrap(fill(backend, _shape_arg(shape), dtype), backend)
        if requires_grad:
            t.requires_grad_(True)
        return t

    @staticmethod
    def zeros(*shape: Any, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        return Tensor._new(lambda b, s, d: b.zeros(s, d), shape, requires_grad, device, dtype)

    @staticmethod
    def ones(*shape: Any, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        return Tensor._new(lambda b, s, d: b.ones(s, d), shape, requires_grad, device, dtype)

    @staticmethod
    def full(shape: Any, value: float, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """A tensor of ``shape`` filled with the number ``value``."""
        if not isinstance(value, (int, float)):
            raise TypeError(f"Tensor.full: value {value!r} is a {type(value).__name__}; expected a Python number")
        if not isinstance(shape, (int, tuple, list)):
            raise TypeError(f"Tensor.full: shape {shape!r} is a {type(shape).__name__}; expected an int or a tuple of ints")
        try:
            return Tensor._new(lambda b, s, d: b.full(s, value, d), (shape,) if isinstance(shape, int) else tuple(shape),
                               requires_grad, device, dtype)
        except OverflowError:
            raise ValueError(f"Tensor.full: value {value!r} does not fit in dtype {dtype}; expected a smaller number") from None

    @staticmethod
    def randn(*shape: Any, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """Standard normal draws from the library's generator (see ``tr.manual_seed``)."""
        return Tensor._new(lambda b, s, d: b.from_numpy(host.randn(_random.generator(), s, d)),
                           shape, requires_grad, device, dtype)

    @staticmethod
    def rand(*shape: Any, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """Uniform draws on [0, 1) from the library's generator."""
        return Tensor._new(lambda b, s, d: b.from_numpy(host.rand(_random.generator(), s, d)),
                           shape, requires_grad, device, dtype)

    @staticmethod
    def uniform(*shape: Any, low: float = 0.0, high: float = 1.0, requires_grad: bool = False,
                device: Any = "cpu", dtype: Any = None) -> Tensor:
        """Uniform draws on [low, high) from the library's generator."""
        return Tensor._new(lambda b, s, d: b.from_numpy(host.uniform(_random.generator(), low, high, s, d)),
                           shape, requires_grad, device, dtype)

    @staticmethod
    def eye(n: int, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        return Tensor._new(lambda b, s, d: b.eye(s[0], d), (n,), requires_grad, device, dtype)

    @staticmethod
    def arange(n: int, requires_grad: bool = False, device: Any = "cpu", dtype: Any = None) -> Tensor:
        """0, 1, ..., n-1 (int64 unless ``dtype`` is given)."""
        backend = get_backend(device or "cpu")
        dtype = backend.dtype(dtype or "int64")
        if backend.is_bool(dtype):
            raise TypeError("Tensor.arange: dtype bool; expected an integer or floating dtype")
        t = Tensor._wrap(backend.arange(_shape_arg((n,))[0], dtype), backend)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def zeros_like(self) -> Tensor:
        return Tensor._wrap(self.backend.zeros(self.shape, self.dtype), self.backend)

    def ones_like(self) -> Tensor:
        return Tensor._wrap(self.backend.ones(self.shape, self.dtype), self.backend)

    # ------------------------------------------------------------------ operators
    def __add__(self, other: Any) -> Tensor:
        return _ops.add(self, self._lift(other))

    def __radd__(self, other: Any) -> Tensor:
        return _ops.add(self._lift(other), self)

    def __sub__(self, other: Any) -> Tensor:
        return _ops.sub(self, self._lift(other))

    def __rsub__(self, other: Any) -> Tensor:
        return _ops.sub(self._lift(other), self)

    def __mul__(self, other: Any) -> Tensor:
        return _ops.mul(self, self._lift(other))

    def __rmul__(self, other: Any) -> Tensor:
        return _ops.mul(self._lift(other), self)

    def __truediv__(self, other: Any) -> Tensor:
        return _ops.div(self, self._lift(other))

    def __rtruediv__(self, other: Any) -> Tensor:
        return _ops.div(self._lift(other), self)

    def __pow__(self, other: Any) -> Tensor:
        if isinstance(other, (int, float)) and not isinstance(other, bool):
            return _ops.pow_(self, other)
        return _ops.pow_(self, self._lift(other))

    def __rpow__(self, other: Any) -> Tensor:
        return _ops.pow_(self._lift(other), self)

    def __neg__(self) -> Tensor:
        return _ops.neg(self)

    def __matmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self, self._lift(other))

    def __rmatmul__(self, other: Any) -> Tensor:
        return _ops.matmul(self._lift(other), self)

    def __getitem__(self, index: Any) -> Tensor:
        return _ops.getitem(self, index)

    # Comparisons are not differentiable: they return boolean tensors with no tape.
    def _compare(self, other: Any, op: Callable) -> Tensor:
        other = self._lift(other)
        if other.backend is not self.backend:
            raise RuntimeError(f"comparison between {self.device!r} and {other.device!r} tensors; expected one device")
        try:
            return self._const(op(self.data, other.data))
        except ValueError:
            raise ValueError(
                f"comparison: shapes {self.shape} and {other.shape} do not broadcast; expected each dimension "
                "to match or be 1"
            ) from None

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

    # -------------------------------------------------------------------- methods
    def exp(self) -> Tensor:
        return _ops.exp(self)

    def log(self) -> Tensor:
        return _ops.log(self)

    def tanh(self) -> Tensor:
        return _ops.tanh(self)

    def sigmoid(self) -> Tensor:
        return _ops.sigmoid(self)

    def relu(self) -> Tensor:
        return _ops.relu(self)

    def abs(self) -> Tensor:
        return _ops.abs_(self)

    def sqrt(self) -> Tensor:
        return _ops.sqrt(self)

    def sum(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.sum_(self, axis, keepdims)

    def mean(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.mean(self, axis, keepdims)

    def max(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return _ops.max_(self, axis, keepdims)

    def min(self, axis: Any = None, keepdims: bool = False) -> Tensor:
        return -_ops.max_(-self, axis, keepdims)

    def argmax(self, axis: int | None = None) -> Tensor:
        """Indices of the maxima (int64; not differentiable); ``axis`` None: of the flattened tensor."""
        if axis is not None and (isinstance(axis, bool) or not isinstance(axis, int) or not -self.ndim <= axis < self.ndim):
            raise ValueError(
                f"argmax: axis={axis!r} for a tensor of shape {self.shape}; expected None or an int in "
                f"[{-self.ndim}, {self.ndim - 1}]"
            )
        if (self.size if axis is None else self.shape[axis]) == 0:
            raise ValueError(f"argmax: a tensor of shape {self.shape} has no elements along axis={axis}; expected some")
        return self._const(self.backend.argmax(self.data, axis=axis))

    def reshape(self, *shape: Any) -> Tensor:
        return _ops.reshape(self, *shape)

    def transpose(self, *axes: Any) -> Tensor:
        return _ops.transpose(self, *axes)

    def softmax(self, axis: int = -1) -> Tensor:
        return _ops.softmax(self, axis)

    def log_softmax(self, axis: int = -1) -> Tensor:
        return _ops.log_softmax(self, axis)

    def clip(self, lo: float | None = None, hi: float | None = None) -> Tensor:
        return _ops.clip(self, lo, hi)

    def matmul(self, other: Any) -> Tensor:
        return _ops.matmul(self, self._lift(other))


_SCALARS: dict[tuple, Tensor] = {}  # cached 0-d constants for Python scalars in arithmetic


def _holds_tensors(data: Any) -> bool:
    return any(isinstance(x, Tensor) or (isinstance(x, (list, tuple)) and _holds_tensors(x)) for x in data)


# The ops import Tensor, so they are imported after the class is defined.
from . import ops as _ops  # noqa: E402
