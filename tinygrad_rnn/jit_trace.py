"""The recorder behind :func:`tinygrad_rnn.jit`: traced arrays and the flat program.

While a step is recorded, every tensor's array is wrapped in a :class:`TracedArray`, and
the backends' primitives are replaced (on the backend objects, for the duration of the
recording only) by wrappers. Each array operation, whether a primitive
(``backend.tanh(a)``) or an operator or method of an array (``a @ b``, ``a[i]``,
``a.reshape(...)``, ``a += b``), computes its real result and appends one step to the
:class:`Recorder`: what was called, its arguments (slots of other results, or
constants) and the slot of its result. :func:`.jit_codegen.compile_program` turns the
steps into the source of one Python function, one line per step, whose locals are the
slots.

What a replay cannot repeat is refused at record time with a RuntimeError: reading
array values into Python (``item``, ``bool``, ``tolist``, a copy to the host, NumPy
functions on a traced array) and boolean-mask indexing (its shape depends on values).
"""

from __future__ import annotations

import operator
from typing import Any

from .backend import host

# The backend methods that touch array values; each becomes a recorded step.
PRIMITIVES = ("exp", "log", "tanh", "sqrt", "abs", "sign", "maximum", "minimum", "where", "clip", "matmul", "sum",
              "broadcast_to", "concatenate", "stack", "asarray", "zeros", "ones", "full", "eye", "arange", "normal",
              "uniform", "qr", "erf", "amax", "amin", "argmax", "argmin", "argsort", "index_add", "index_add_",
              "set_writeable", "from_numpy", "synchronize")
REFUSED = {"scalar": "reading a tensor's value as a Python number (.item(), bool(), float())",
           "to_numpy": "copying a tensor to the host (.numpy(), .tolist(), printing)",
           "all_finite": "checking values for NaN/Inf (anomaly mode)",
           "dlpack": "lending a tensor's memory to another library (DLPack)",
           "dlpack_device": "asking where a tensor's memory lives for DLPack",
           "from_dlpack": "importing another library's array (DLPack)"}
_META = ("shape", "ndim", "dtype", "size", "itemsize", "nbytes", "strides")


def refuse(what: str) -> RuntimeError:
    return RuntimeError(
        f"tr.jit: {what} inside a jitted function reads array values into Python while the step is "
        "being recorded; a replay runs no Python per op, so it could not repeat that. Expected only "
        "tensor ops here: move it out of the function (return the tensor and read it after the call)."
    )


def call(fn: Any, *args: Any) -> Any:
    """``fn(*args)`` now; inside a recording, also one step that every replay runs again.

    For calls whose results do not come from array primitives of this process: a
    collective of ``tr.distributed`` returns what the other processes sent. ``fn`` takes
    backend arrays (or tuples of them) and returns an array, a tuple of arrays, or None.
    """
    rec = Recorder.current
    if rec is None or rec.suspended:
        return fn(*args)
    return rec.record("call", fn, args, {})


class GuardFailed(Exception):
    """Raised by a replayed check whose values differ from the recorded ones: record again."""


class Slot:
    """A recorded step's reference to the result of an earlier one (or to an input): slot ``n``."""

    __slots__ = ("n",)

    def __init__(self, n: int) -> None:
        self.n = n


class Recorder:
    """The steps of one recording; ``current`` is the active one (None when not recording)."""

    current: Recorder | None = None

    def __init__(self, is_array: Any) -> None:
        self.steps: list[tuple] = []
        self.n = 0
        self.sources: dict[int, Any] = {}  # slot -> where a replay reads it (inputs, bound tensors)
        self.used: set[int] = set()
        self.written: set[int] = set()  # slots of bound arrays written in place by a step
        self.guard_at: int | None = None  # index of the first check step
        self.first_write: int | None = None  # index of the first step that writes into a bound array
        self.suspended = False  # inside an eager region (optimizer step): run, do not record
        self.is_array = is_array

    def new(self, value: Any, source: Any = None) -> TracedArray:
        t = TracedArray(value, self.n)
        if source is not None:
            self.sources[self.n] = source
        self.n += 1
        return t

    # ------------------------------------------------------------ steps
    def compute(self, kind: str, what: Any, args: tuple, kwargs: dict) -> Any:
        """The real result; a primitive built from others (index_add, uniform) is recorded as one step."""
        suspended, self.suspended = self.suspended, True
        try:
            if kind == "method":
                return getattr(unwrap(args[0]), what)(*unwrap(args[1:]), **unwrap(kwargs))
            return what(*unwrap(args), **unwrap(kwargs))
        finally:
            self.suspended = suspended

    def template(self, x: Any) -> Any:
        """Arguments as recorded: tracers -> their slots, containers recursed, the rest constants."""
        if type(x) is TracedArray:
            self.used.add(x.slot)
            return Slot(x.slot)
        if type(x) in (tuple, list):
            return type(x)(self.template(v) for v in x)
        if type(x) is dict:
            return {k: self.template(v) for k, v in x.items()}
        return x

    def record(self, kind: str, what: Any, args: tuple, kwargs: dict, writes: Any = None) -> Any:
        """Run one operation on the real arrays and append it as a step; return its traced result."""
        result = self.compute(kind, what, args, kwargs)
        if self.suspended:  # an eager region (the optimizer step) met a traced constant: just compute
            return result
        targs, tkw = self.template(args), self.template(kwargs)
        for x in (writes, kwargs.get("out")):
            if type(x) is TracedArray:
                self.write(x.slot)
            elif x is not None:
                raise RuntimeError("tr.jit: an in-place write into an array that is not a tensor's (a constant); "
                                   "expected writes only into tensors")
        for x in (*args, *kwargs.values()):  # an op that returns one of its arguments (a += b, out=)
            if type(x) is TracedArray and x.value is result:
                self.steps.append((kind, what, targs, tkw, None))
                return x
        out, wrapped = self.wrap(result)
        self.steps.append((kind, what, targs, tkw, out))
        return wrapped

    def write(self, slot: int) -> None:
        self.written.add(slot)
        if slot in self.sources and self.first_write is None:
            self.first_write = len(self.steps)

    def wrap(self, result: Any) -> tuple[Any, Any]:
        if type(result) is tuple:
            pairs = [self.wrap(r) for r in result]
            return tuple(p[0] for p in pairs), tuple(p[1] for p in pairs)
        if host.is_host_array(result) or self.is_array(result):
            t = self.new(result)
            return t.slot, t
        return None, result  # a bool or None: not data

    def check(self, fn: Any, *args: Any) -> None:
        """A replayed check: ``fn(*arrays)`` raises GuardFailed when the recorded Python would differ."""
        if self.guard_at is None:
            self.guard_at = len(self.steps)
        self.steps.append(("call", fn, self.template(args), {}, None))


def unwrap(x: Any) -> Any:
    if type(x) is TracedArray:
        return x.value
    if type(x) in (tuple, list):
        return type(x)(unwrap(v) for v in x)
    if type(x) is dict:
        return {k: unwrap(v) for k, v in x.items()}
    return x


def _active() -> Recorder:
    rec = Recorder.current
    if rec is None:
        raise RuntimeError("tr.jit: a traced array was used outside its recording (it escaped the jitted "
                           "function); expected tensors to leave the function only as return values")
    return rec


class TracedArray:
    """A backend array seen by a recording: every operation on it is run and recorded."""

    __slots__ = ("value", "slot")
    __array_ufunc__ = None  # NumPy operators defer to ours (ndarray + traced -> our __radd__)
    __hash__ = None  # type: ignore[assignment]

    def __init__(self, value: Any, slot: int) -> None:
        self.value, self.slot = value, slot

    def __getattr__(self, name: str) -> Any:
        if name in _META:
            return getattr(self.value, name)
        if name == "T":
            return _active().record("call", TRANSPOSE, (self,), {})
        if name in ("item", "tolist", "tobytes", "data", "base", "__array_interface__", "__cuda_array_interface__"):
            raise refuse(f"reading an array's .{name}")
        if not callable(getattr(self.value, name)):
            raise refuse(f"reading the attribute {name!r} of an array")
        return lambda *args, **kwargs: _active().record("method", name, (self, *args), kwargs,
                                                         writes=self if name in ("fill", "sort", "put") else None)

    def __getitem__(self, index: Any) -> Any:
        _check_index(index)
        return _active().record("call", operator.getitem, (self, index), {})

    def __setitem__(self, index: Any, value: Any) -> None:
        _check_index(index)
        _active().record("call", operator.setitem, (self, index, value), {}, writes=self)

    def __len__(self) -> int:
        return len(self.value)

    def __repr__(self) -> str:
        return f"TracedArray(shape={self.shape}, dtype={self.dtype})"

    def __array_function__(self, func: Any, types: Any, args: Any, kwargs: Any) -> Any:
        raise refuse(f"calling numpy.{getattr(func, '__name__', func)} on an array")


def _refusing(what: str) -> Any:
    def method(self: TracedArray, *args: Any, **kwargs: Any) -> Any:
        raise refuse(what)
    return method


for _name, _what in (("array", "converting an array to a NumPy array"), ("int", "int() of an array"),
                     ("bool", "bool() of an array (an `if` on tensor values)"), ("float", "float() of an array"),
                     ("index", "using an array as a Python int"), ("iter", "iterating over an array")):
    setattr(TracedArray, f"__{_name}__", _refusing(_what))


TRANSPOSE = operator.attrgetter("T")


def _check_index(index: Any) -> None:
    for part in index if type(index) is tuple else (index,):
        if type(part) is TracedArray and part.dtype.kind == "b":
            raise refuse("indexing with a boolean mask (its result's shape depends on the values)")


def _binary(op: Any, reflected: bool) -> Any:
    if reflected:
        return lambda self, other: _active().record("call", op, (other, self), {})
    return lambda self, other: _active().record("call", op, (self, other), {})


def _inplace(op: Any) -> Any:
    def method(self: TracedArray, other: Any) -> Any:
        rec = _active()
        result = rec.record("call", op, (self, other), {})
        if result is self:
            rec.write(self.slot)
        return result
    return method


for _name in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor"):
    _op = getattr(operator, _name + "_" if _name in ("and", "or") else _name)
    setattr(TracedArray, f"__{_name}__", _binary(_op, False))
    setattr(TracedArray, f"__r{_name}__", _binary(_op, True))
    setattr(TracedArray, f"__i{_name}__", _inplace(getattr(operator, "i" + _name)))
for _name in ("lt", "le", "gt", "ge", "eq", "ne"):
    setattr(TracedArray, f"__{_name}__", _binary(getattr(operator, _name), False))
def _unary(op: Any) -> Any:
    return lambda self: _active().record("call", op, (self,), {})


for _name in ("neg", "pos", "abs", "invert"):
    setattr(TracedArray, f"__{_name}__", _unary(getattr(operator, _name)))
