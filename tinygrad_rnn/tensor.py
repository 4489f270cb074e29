"""Tensor: an array on a backend, plus the links that make up the tape.

A Tensor holds ``data`` (a NumPy or CuPy array), the ``backend`` that owns it,
``requires_grad``, ``grad`` and, for a tensor computed by an op, ``_ctx``: the
:class:`~tinygrad_rnn.autograd.Function` that made it. Its arithmetic, reductions,
reshapes and constructors come from the ops modules' mixins (``x.exp()`` is
``ElementwiseOps.exp``), its hooks from ``tensor_hooks.py``; this file holds what only
a Tensor knows: how to build one, how to run and record an op (:meth:`Tensor._apply`),
and how to start a backward pass.
"""

from __future__ import annotations

import itertools
from typing import Any

from . import anomaly, autograd
from .backend import backend_of, get_backend, host
from .config import ANOMALY, RECORD, VERSION_CLOCK, config
from .devices import device_of
from .ops.activation import ActivationOps
from .ops.convert import ConvertOps
from .ops.creation import CreationOps
from .ops.elementwise import ElementwiseOps
from .ops.gather import GatherOps
from .ops.inplace import InplaceOps
from .ops.integer import IntegerOps
from .ops.linalg import LinalgOps
from .ops.movement import MovementOps
from .ops.reduce import ReduceOps
from .ops.select import SelectOps
from .ops.shape import ShapeOps
from .ops.sort import SortOps
from .ops.statistics import StatisticsOps
from .ops.torch_compat import TorchCompatOps
from .tensor_hooks import TensorHooks

# Creation order. A tensor is always made after the tensors it is computed from, so
# backward can visit tensors in decreasing ``_seq`` and meet each one after all its uses.
_next_seq = itertools.count().__next__


class Tensor(ElementwiseOps, SelectOps, ReduceOps, MovementOps, LinalgOps, ActivationOps, CreationOps, InplaceOps,
             ConvertOps, ShapeOps, GatherOps, SortOps, StatisticsOps, IntegerOps, TensorHooks, TorchCompatOps):
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

    __slots__ = ("_data", "backend", "requires_grad", "grad", "_ctx", "_retain", "_hooks", "_seq", "_version",
                 "_frozen", "_view", "__weakref__")
    __array_priority__ = 1000  # so numpy_array * tensor calls Tensor.__rmul__

    def __init__(self, data: Any, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        if isinstance(data, Tensor):
            source, data = data.backend, data._data
        else:
            source = backend_of(data)
        backend = get_backend(device if device is not None else (source.name if source else "cpu"))
        if source is None:
            try:
                array = host.array_of_numbers(data, float32_for_floats=dtype is None)
            except TypeError:  # look for Tensors only once conversion failed: the scan is slow on big lists
                if isinstance(data, (list, tuple)) and _holds_tensors(data):
                    raise TypeError("Tensor(data): data is a list of Tensors; use tr.stack(tensors) instead") from None
                raise
            data = backend.from_numpy(array)
        elif data.dtype.kind not in "biuf":  # a host array of strings, objects or complex numbers
            raise TypeError(f"Tensor(data): got an array of dtype {data.dtype}; expected numbers (bool, int or float)")
        elif source is not backend:
            data = backend.from_numpy(source.to_numpy(data))
        else:
            data = data.copy()  # Tensor(array) copies, as torch.tensor does (tr.from_numpy shares)
        if dtype is not None:
            dtype = backend.dtype(dtype)
            if data.dtype != dtype:
                data = data.astype(dtype)
        self._data, self.backend, self.requires_grad = data, backend, False
        self.grad = self._ctx = self._hooks = None
        self._retain = self._frozen = False
        self._seq = _next_seq()
        self._version = None
        if requires_grad:
            self.requires_grad_(True)

    @staticmethod
    def _make(data: Any, backend: Any, requires_grad: bool = False) -> Tensor:
        """The one internal constructor: a tensor around a backend array, no copy, no checks."""
        t = Tensor.__new__(Tensor)
        t._data, t.backend, t.requires_grad = data, backend, requires_grad
        t.grad = t._ctx = t._hooks = None
        t._retain = False
        t._frozen = requires_grad  # only leaves are made read-only (see _apply)
        t._seq = _next_seq()
        t._version = None  # version 0; a shared one-element list once it changes
        return t

    def _lift(self, value: Any) -> Tensor:
        """A Python number or an array on the other side of an operator -> Tensor."""
        if isinstance(value, Tensor):
            return value
        if not isinstance(value, (int, float)) or isinstance(value, bool):
            return Tensor(value, device=self.device)
        backend, dtype = self.backend, self.dtype
        if not (isinstance(value, int) or backend.is_floating(dtype)):
            dtype = backend.float32
        # Constants such as the 1.0 in (1 - y) recur at every step: make each once.
        key = (backend.name, value, type(value), dtype)
        const = config.scalars.get(key) if value else None  # 0.0 and -0.0 differ: no cache
        if const is None:
            if len(config.scalars) > 4096:
                config.scalars.clear()
            try:
                const = Tensor._make(backend.asarray(value, dtype=dtype), backend)
            except OverflowError:
                raise ValueError(f"the number {value!r} does not fit in dtype {dtype}; expected a smaller number "
                                 "(or a floating-point tensor)") from None
            config.scalars[key] = const
        return const

    def _apply(self, op: type[autograd.Function], *others: Tensor, **params: Any) -> Tensor:
        """Run ``op`` on ``(self, *others)``; record it on the output if a gradient is wanted.

        This is where the tape is made: the output's ``_ctx`` is the op, and the op's
        ``inputs`` are the tensors it read.
        """
        backend = self.backend
        inputs = (self, *others)
        for t in others:
            if t.backend is not backend:
                devices = ", ".join(x.device for x in inputs)
                raise RuntimeError(f"{op.__name__}: inputs are on different devices ({devices}); expected all "
                                   f"on one device. Move them with .to('{backend.name}').")
        fn = op()
        fn.inputs, fn.backend = inputs, backend
        if not others:  # (spelled out: a comprehension costs more than a small op)
            data = fn.forward(self._data, **params)
        elif len(others) == 1:
            data = fn.forward(self._data, others[0]._data, **params)
        else:
            data = fn.forward(*[t._data for t in inputs], **params)
        mode = config.mode
        if mode & ANOMALY:
            fn.label = config.labels[-1] if config.labels else None
            anomaly.check_finite(fn, data, "forward")
        if mode & RECORD and op.differentiable:
            for t in inputs:
                if t.requires_grad:  # record: the output remembers the op that made it
                    out = Tensor._make(data, backend, True)
                    out._ctx = fn
                    if op.returns_view:  # one array, one version: a write to either is seen
                        out._version = self._version_box()
                        out._view = True  # a write on the tape into a view is refused (ops/inplace.py)
                    fn.clock = VERSION_CLOCK[0]  # backward checks no saved tensor is newer
                    if op.freezes_inputs:  # backward reads the inputs (a view: through its own array)
                        for x in inputs:
                            if not x._frozen:  # a leaf backward will read: read-only from now on
                                x._freeze()
                    return out
        fn.inputs = ()  # nothing will call backward: keep no references alive
        out = Tensor._make(data, backend)
        if op.returns_view:
            out._version = self._version_box()
            out._view = True
        return out

    # ---------------------------------------------------------------- properties
    @property
    def shape(self) -> tuple[int, ...]:
        return self._data.shape  # a tuple on every backend

    @property
    def ndim(self) -> int:
        return self._data.ndim

    @property
    def dtype(self) -> Any:
        return self._data.dtype

    @property
    def device(self) -> Any:
        """Where the data lives, a ``tr.device`` (a ``str``: equal to ``"cpu"`` or ``"cuda"``)."""
        return device_of(self.backend.name)

    @property
    def is_leaf(self) -> bool:
        return self._ctx is None

    def __len__(self) -> int:
        if self.ndim == 0:
            raise TypeError("len() of a 0-d tensor; expected a tensor with at least 1 dimension")
        return self.shape[0]

    def __repr__(self) -> str:
        grad = ", requires_grad=True" if self.requires_grad else ""
        dev = f", device='{self.device}'" if self.device != "cpu" else ""
        body = repr(self.numpy()).replace("array(", "tensor(", 1)
        return body[:-1] + f"{dev}{grad})" if body.endswith(")") else body

    def __bool__(self) -> bool:
        if self.numel() != 1:
            raise ValueError(f"the truth value of a tensor of shape {self.shape} is ambiguous; expected one element")
        return bool(self.item())

    __hash__ = object.__hash__

    # ------------------------------------------------------------- conversions
    def numpy(self) -> Any:
        """A host ``numpy.ndarray`` (a copy on a GPU; on the CPU the tensor's own array,
        read-only for a tensor computed on the tape, as ``.data`` explains)."""
        return self.backend.to_numpy(self.data)

    def item(self) -> Any:
        if self.numel() != 1:
            raise ValueError(f"item(): tensor of shape {self.shape} has {self.numel()} elements; expected exactly 1")
        return self.backend.scalar(self._data)

    def tolist(self) -> Any:
        return self.numpy().tolist()

    def detach(self) -> Tensor:
        """The same data, cut from the tape (shares memory; no grad)."""
        t = Tensor._make(self._data, self.backend)
        t._version = self._version_box()  # one array, one version
        return t

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
    def backward(self, grad: Any = None, create_graph: bool = False, *, gradient: Any = None,
                 retain_graph: bool | None = None) -> None:
        """Accumulate d(self)/d(leaf) * grad into ``.grad`` of every leaf that requires grad.

        Args:
            grad: d(loss)/d(self); may be omitted only for a one-element tensor.
            create_graph: record the backward pass, so the gradients can be
                differentiated again (Hessian-vector products, gradient penalties).
            gradient: PyTorch's name for ``grad``.
            retain_graph: accepted for PyTorch's signature; the tape is always kept.

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
        if gradient is not None:
            if grad is not None:
                raise TypeError("backward(): got grad and gradient; expected one of them (they are the same)")
            grad = gradient
        autograd.backward(self, autograd.seed_grad(self, grad), create_graph=create_graph)

    def zero_grad(self) -> None:
        self.grad = None


def _holds_tensors(data: Any) -> bool:
    return any(isinstance(x, Tensor) or (isinstance(x, (list, tuple)) and _holds_tensors(x)) for x in data)
