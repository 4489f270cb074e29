"""PyTorch's package-level functions: ``tr.tensor``, ``tr.zeros(2, 3)``, ``tr.tanh(x)``,
``tr.cat(xs, dim=1)``, ``tr.max(x, dim=0)``...

Each is a thin spelling of a Tensor constructor or method, with PyTorch's signature
(``dim=``/``keepdim=``, ``dtype=``/``device=``/``requires_grad=`` keywords; NumPy's
``axis=`` is accepted too), so a script can say ``torch.`` -> ``tr.`` and little else.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from . import ops, unsupported
from .config import set_grad_enabled
from .tensor import Tensor


# ------------------------------------------------------------------ tensors from data
def tensor(data: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """A new tensor holding a copy of ``data`` (a number, nested list, array or Tensor):
    Python floats become float32, ints int64, bools bool; arrays keep their dtype."""
    return Tensor(data, requires_grad=requires_grad, device=device, dtype=dtype)


def as_tensor(data: Any, dtype: Any = None, device: Any = None) -> Tensor:
    """``data`` itself when it already is a Tensor of that dtype and device, else a new one."""
    if isinstance(data, Tensor) and (device is None or data.device == device) and (
            dtype is None or data.dtype == dtype):
        return data
    return Tensor(data, device=device, dtype=dtype)


def from_dlpack(obj: Any) -> Tensor:
    """A tensor sharing memory with ``obj`` (torch, NumPy, JAX, CuPy...): see ``Tensor.from_dlpack``."""
    return Tensor.from_dlpack(obj)


def is_tensor(obj: Any) -> bool:
    return isinstance(obj, Tensor)


def numel(x: Tensor) -> int:
    return x.numel()


# ------------------------------------------------------------------ tensors from a shape
def zeros(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros of shape ``size`` (``zeros(2, 3)`` or ``zeros((2, 3))``), float32 unless ``dtype``."""
    return Tensor.zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def ones(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor.ones(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def empty(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Zeros: memory is never handed out uninitialised here."""
    return Tensor.zeros(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def full(size: Any, fill_value: Any, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """``size`` filled with ``fill_value``; the dtype follows the value (bool, int64 or
    float32) unless ``dtype`` is given, as in PyTorch."""
    if dtype is None:
        dtype = "bool" if isinstance(fill_value, bool) else "int64" if isinstance(fill_value, int) else None
    if isinstance(fill_value, bool):
        fill_value = int(fill_value)
    return Tensor.full(size, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def rand(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Uniform draws on [0, 1) from the library's generator (``tr.manual_seed``)."""
    return Tensor.rand(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def randn(*size: Any, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    """Standard normal draws from the library's generator (``tr.manual_seed``)."""
    return Tensor.randn(*size, dtype=dtype, device=device, requires_grad=requires_grad)


def randint(low: int, high: int | None = None, size: Any = (), *, dtype: Any = None, device: Any = None,
            requires_grad: bool = False) -> Tensor:
    """Integers uniform on [low, high) (``randint(high, size)``: on [0, high))."""
    if high is not None and not isinstance(high, int) and size == ():  # randint(high, size)
        high, size = None, high
    return Tensor.randint(low, high, size, dtype=dtype, device=device, requires_grad=requires_grad)


def randperm(n: int, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    return Tensor.randperm(n, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start: float, end: float | None = None, step: float = 1, *, dtype: Any = None, device: Any = None,
           requires_grad: bool = False) -> Tensor:
    """start, start + step, ... below ``end``; int64 for ints, else float32 (see ``Tensor.arange``)."""
    return Tensor.arange(start, end, step, dtype=dtype, device=device, requires_grad=requires_grad)


def linspace(start: float, end: float, steps: int, *, dtype: Any = None, device: Any = None,
             requires_grad: bool = False) -> Tensor:
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 0:
        raise ValueError(f"linspace: steps={steps!r}; expected a non-negative int")
    i = Tensor.arange(steps, device=device, dtype="float64")
    values = i * ((end - start) / (steps - 1)) + start if steps > 1 else i + start
    return values.to(dtype or "float32").requires_grad_(requires_grad)


def eye(n: int, m: int | None = None, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:
    out = Tensor.eye(n, device=device, dtype=dtype)
    if m is not None and m != n:
        out = Tensor.eye(max(n, m), device=device, dtype=dtype)[:n, :m].clone()
    return out.requires_grad_(True) if requires_grad else out


def _like(name: str, make: Any, x: Tensor, dtype: Any, device: Any, requires_grad: bool) -> Tensor:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input is a {type(x).__name__}; expected a Tensor")
    out = make(*x.shape, dtype=x.dtype if dtype is None else dtype, device=x.device if device is None else device)
    return out.requires_grad_(True) if requires_grad else out


def zeros_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _like("zeros_like", Tensor.zeros, input, dtype, device, requires_grad)


def ones_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _like("ones_like", Tensor.ones, input, dtype, device, requires_grad)


empty_like = zeros_like


def full_like(input: Tensor, fill_value: Any, *, dtype: Any = None, device: Any = None,  # noqa: A002
              requires_grad: bool = False) -> Tensor:
    return _like("full_like", lambda *s, **k: Tensor.full(s, fill_value, **k), input, dtype, device, requires_grad)


def rand_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _like("rand_like", Tensor.rand, input, dtype, device, requires_grad)


def randn_like(input: Tensor, *, dtype: Any = None, device: Any = None, requires_grad: bool = False) -> Tensor:  # noqa: A002
    return _like("randn_like", Tensor.randn, input, dtype, device, requires_grad)


# ------------------------------------------------------------------ joining and choosing
_UNSET = object()  # axis= not given (None is a value, refused as an axis)

def cat(tensors: Sequence[Tensor], dim: int = 0, *, axis: Any = _UNSET) -> Tensor:
    """Join tensors along an existing ``dim`` (or ``axis``)."""
    return ops.cat(tensors, _dim("cat", dim, axis))


concat = concatenate = cat


def stack(tensors: Sequence[Tensor], dim: int = 0, *, axis: Any = _UNSET) -> Tensor:
    """Join same-shape tensors along a new ``dim`` (or ``axis``)."""
    return ops.stack(tensors, _dim("stack", dim, axis))


def _dim(name: str, dim: Any, axis: Any) -> Any:
    if axis is _UNSET:
        return dim
    if dim != 0:
        raise TypeError(f"{name}: got dim={dim!r} and axis={axis!r}; expected one of them (they are the same)")
    return axis


def where(condition: Any, input: Any = None, other: Any = None) -> Tensor:  # noqa: A002
    """``input`` where ``condition``, else ``other`` (differentiable in both)."""
    if input is None and other is None:
        raise TypeError("tr.where(condition) with one argument (PyTorch's nonzero) is not supported: its result's "
                        "shape depends on the values; index with the mask itself (x[condition]) instead")
    return ops.where(condition, input, other)


def multinomial(input: Tensor, num_samples: int, replacement: bool = False, *, generator: Any = None) -> Tensor:  # noqa: A002
    """Category indices drawn from the weights in ``input`` (see ``Tensor.multinomial``)."""
    return input.multinomial(num_samples, replacement, generator=generator)


def inference_mode(mode: bool = True) -> Any:
    """As ``tr.no_grad()`` (``mode=False``: recording stays on)."""
    return set_grad_enabled(not mode)


# ------------------------------------------------------------------ legacy typed constructors
def _typed(name: str, dtype: str) -> Any:
    def constructor(*args: Any, device: Any = None) -> Tensor:
        if len(args) == 1 and not isinstance(args[0], int):  # FloatTensor([1, 2]): the data
            return Tensor(args[0], device=device, dtype=dtype)
        return Tensor.zeros(*args, device=device, dtype=dtype)  # FloatTensor(2, 3): a shape (zeros here)

    constructor.__name__ = constructor.__qualname__ = name
    constructor.__doc__ = f"PyTorch's legacy ``torch.{name}(data)`` or ``torch.{name}(*shape)`` ({dtype}; a shape gives zeros)."
    return constructor


TYPED = {name: _typed(name, dtype) for name, dtype in (
    ("FloatTensor", "float32"), ("DoubleTensor", "float64"), ("HalfTensor", "float16"), ("LongTensor", "int64"),
    ("IntTensor", "int32"), ("ShortTensor", "int16"), ("ByteTensor", "uint8"), ("BoolTensor", "bool"))}


# ------------------------------------------------------------------ methods as functions
def _method(name: str) -> Any:
    def function(input: Tensor, *args: Any, **kwargs: Any) -> Any:  # noqa: A002
        if not isinstance(input, Tensor):
            raise TypeError(f"tr.{name}: input is a {type(input).__name__}; expected a Tensor (make one with "
                            "tr.tensor(...))")
        return getattr(input, name)(*args, **kwargs)

    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"``tr.{name}(x, ...)`` is ``x.{name}(...)``: see ``Tensor.{name}``."
    return function


METHODS = (
    "tanh", "sigmoid", "relu", "exp", "log", "abs", "sqrt", "rsqrt", "square", "neg", "pow", "sign", "log1p", "expm1",
    "softmax", "log_softmax", "clamp", "clip", "maximum", "minimum", "matmul", "mm", "bmm", "mv", "dot",
    "sum", "mean", "max", "min", "amax", "amin", "argmax", "argmin", "var", "std", "logsumexp", "norm", "all", "any",
    "count_nonzero", "sort", "argsort", "topk", "kthvalue", "gather", "scatter", "scatter_add", "index_select",
    "index_add", "take_along_dim", "masked_fill", "reshape", "flatten", "unflatten", "squeeze", "unsqueeze",
    "transpose", "swapaxes", "permute", "movedim", "t", "narrow", "split", "chunk", "unbind", "flip", "roll",
    "repeat_interleave", "tril", "triu", "cumsum", "clone", "detach", "isnan", "isinf", "isfinite", "allclose",
    "equal", "eq", "ne", "lt", "le", "gt", "ge", "logical_not", "logical_and", "logical_or", "add", "sub", "mul",
    "div",
)
FUNCTIONS = {name: _method(name) for name in METHODS}
"""``tr.tanh``, ``tr.sum``...: each Tensor method of ``METHODS`` as a function (the package exports them)."""


def outer(a: Tensor, b: Tensor) -> Tensor:
    """a[i] * b[j], for 1-D a and b."""
    if a.ndim != 1 or b.ndim != 1:
        raise ValueError(f"outer: shapes {a.shape} and {b.shape}; expected two 1-D tensors")
    return a.unsqueeze(1) * b.unsqueeze(0)


def module_getattr(name: str) -> Any:
    """The package's ``__getattr__``: an error naming the PyTorch idiom, or the closest names."""
    raise unsupported.missing("tinygrad_rnn", name, unsupported.PACKAGE)
