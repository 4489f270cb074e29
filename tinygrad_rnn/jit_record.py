"""Recording one step for :func:`tinygrad_rnn.jit`, and the recorded program.

:func:`record` binds the arrays (arguments, then every other live tensor), installs the
recording wrappers (backend primitives; ``Optimizer.step`` as an eager region; the range
checks of class indices and lengths as replayed checks), runs the function and builds a
:class:`Program`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from . import backend as backends
from . import random
from .backend import host
from .jit_codegen import compile_program
from .jit_trace import PRIMITIVES, REFUSED, GuardFailed, Recorder, TracedArray, refuse, unwrap
from .nn.checks import widened
from .tensor import Tensor

_KEEP = object()  # eager region: a gradient set by earlier eager code, left as it is


def build(template: Any, arrays: dict) -> Any:
    kind = template[0]
    if kind == "slot":
        return Tensor._make(arrays[template[1]], template[2])
    if kind == "array":
        return arrays[template[1]]
    if kind == "seq":
        return template[1](build(t, arrays) for t in template[2])
    if kind == "dict":
        return {k: build(t, arrays) for k, t in template[1].items()}
    if kind == "leaf":  # an argument returned as it is: this call's argument
        return arrays["leaves"][template[1]]
    return template[1]  # ("same", object): a tensor from before, or a Python value


# ------------------------------------------------------------------ recording
def record(fn: Callable, args: Any, kwargs: Any, leaves: list, substitute: Callable) -> tuple[dict, Any]:
    """Run ``fn`` eagerly on traced arrays; return the parts of a program and the call's result."""
    live = list(backends._BACKENDS.values())
    is_array = [b.is_array for b in live]
    rec = Recorder(lambda x: any(f(x) for f in is_array))
    rec.cleared = set()  # ids of tensors whose .grad a zero_grad() set to None: their old .grad is never read
    bound: dict[int, tuple] = {}  # id(tensor) -> (tensor, its array, its grad)
    by_array: dict[int, TracedArray] = {}

    def bind(t: Any, arr: Any, source: tuple) -> TracedArray:
        traced = by_array.get(id(arr))
        if traced is None:
            traced = by_array[id(arr)] = rec.new(arr, source)
        if isinstance(t, Tensor):
            bound[id(t)] = (t, arr, t.grad)
            t._data = traced
        return traced

    arrays = {id(x): bind(x, x._data if isinstance(x, Tensor) else x, ("arg", k, None)) for k, x in enumerate(leaves)}
    from .nn.module import Module

    objects = gc.get_objects()
    tensors = [o for o in objects if issubclass(type(o), Tensor)]
    modes = [(o, o.training) for o in objects if issubclass(type(o), Module)]
    del objects
    owners = {id(t.grad): t for t in tensors if getattr(t, "grad", None) is not None}
    for t in tensors:
        arr = getattr(t, "_data", None)
        if id(t) not in bound and arr is not None and (host.is_host_array(arr) or rec.is_array(arr)):
            owner = owners.get(id(t))
            bind(t, arr, ("tensor", t, arr) if owner is None else ("grad", owner, (t.shape, t.dtype)))
    undo = [_patch_backend(b) for b in live] + _patch_python()
    Recorder.current = rec
    try:
        result = fn(*substitute(args, arrays), **substitute(kwargs, arrays))
        return _program(rec, result, bound, leaves, modes)
    finally:
        Recorder.current = None
        for restore in undo:
            restore()
        for o in gc.get_objects():
            if issubclass(type(o), Tensor) and type(getattr(o, "_data", None)) is TracedArray:
                o._data = o._data.value


def _program(rec: Recorder, result: Any, bound: dict, leaves: list, modes: list) -> tuple[dict, Any]:
    out_slots: list[int] = []
    values: dict[int, Any] = {}
    position = {id(x): k for k, x in enumerate(leaves)}
    for t, arr, _ in bound.values():
        if type(t._data) is not TracedArray or t._data.value is not arr:
            raise RuntimeError(
                f"tr.jit: the function replaced the array of a tensor of shape {t.shape} (p.data = ..., "
                "load_state_dict, .to()); a replay binds arrays by reference, so expected in-place updates only "
                "(t.copy_(...), optimizer steps)")

    def output(traced: TracedArray) -> int:
        out_slots.append(traced.slot)
        values[traced.slot] = traced.value
        return traced.slot

    def template(x: Any) -> Any:
        if isinstance(x, Tensor):
            if id(x) in bound:
                return ("leaf", position[id(x)]) if id(x) in position else ("same", x)
            if type(x._data) is not TracedArray:
                raise RuntimeError("tr.jit: the function returned a tensor made inside opt.step(), which is not "
                                   "recorded; expected tensors computed by the recorded ops")
            return ("slot", output(x._data), x.backend)
        if type(x) is TracedArray:
            return ("array", output(x))
        if type(x) in (list, tuple):
            return ("seq", type(x), [template(v) for v in x])
        if type(x) is dict:
            return ("dict", {k: template(v) for k, v in x.items()})
        return ("same", x)

    def owner(t: Any) -> tuple:
        return ("arg", position[id(t)]) if id(t) in position else ("tensor", t)

    outputs = template(result)
    grads = []
    for t, _, grad in bound.values():
        if t.grad is not grad and (t.grad is None or type(t.grad._data) is TracedArray):
            grads.append((owner(t), None if t.grad is None else output(t.grad._data)))
    if rec.guard_at is not None and rec.first_write is not None and rec.first_write < rec.guard_at:
        raise RuntimeError("tr.jit: a range check (of class indices or lengths) comes after an in-place update in this function; "
                           "expected the loss (and its checks) before the optimizer step")
    sources = [rec.sources[s] for s in sorted(rec.written) if s in rec.sources]
    bumps = [(kind, a) for kind, a, _ in sources if kind == "tensor" or (kind == "arg" and isinstance(leaves[a], Tensor))]
    params = sorted(s for s in rec.sources if s in rec.used or s in values)
    program = compile_program(rec.steps, params, out_slots)
    nones = [owner(t) for t, _, grad in bound.values() if grad is None and t.grad is not None and id(t) not in rec.cleared]
    return (dict(program=program, params=[rec.sources[s] for s in params], outputs=outputs, out_slots=out_slots,
                 grads=grads, bumps=bumps, has_guard=rec.guard_at is not None, modes=modes, nones=nones),
            build(outputs, {**values, "leaves": leaves}))
# ------------------------------------------------------------ backend patches
def _draw(primitive: Any) -> Any:
    """A random draw replays as a new draw from the library's generator (as it is then)."""
    return lambda rng, *args: primitive(random.generator() if rng is None else rng, *args)


def _fresh(primitive: Any) -> Any:
    """A host array made into a device array: copied at each replay, so writes never reach the constant."""
    return lambda data, *args, **kwargs: primitive(data.copy() if host.is_host_array(data) else data, *args, **kwargs)


def _primitive(name: str, primitive: Any) -> Any:
    fresh = _fresh(primitive)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        rec = Recorder.current
        if rec is None or rec.suspended:
            return primitive(*unwrap(args), **unwrap(kwargs))
        if name in ("normal", "uniform") and args[0] is random.generator():
            out, wrapped = rec.wrap(rec.compute("call", primitive, args, kwargs))
            rec.steps.append(("call", _draw(primitive), (None, *rec.template(args[1:])), rec.template(kwargs), out))
            return wrapped
        if name == "where" and len(args) == 1:
            raise refuse("where(condition) without values (its result's shape depends on the values)")
        constant = name in ("asarray", "from_numpy") and host.is_host_array(args[0])
        return rec.record("call", fresh if constant else primitive, args, kwargs,
                          writes=args[0] if name == "index_add_" else None)
    return wrapper


def _refused(name: str, primitive: Any) -> Any:
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        if Recorder.current is not None and any(type(a) is TracedArray for a in args):
            raise refuse(REFUSED[name])
        return primitive(*args, **kwargs)
    return wrapper


def _patch_backend(backend: Any) -> Callable[[], None]:
    """Replace the backend's primitives by recording wrappers; returns the undo."""
    saved = []
    for name in (*PRIMITIVES, *REFUSED, "is_array"):
        if not hasattr(backend, name):
            continue
        original = getattr(backend, name)
        saved.append((name, name in vars(backend), vars(backend).get(name)))
        if name == "is_array":
            setattr(backend, name, lambda obj, _f=original: _f(obj.value if type(obj) is TracedArray else obj))
        else:
            setattr(backend, name, (_refused if name in REFUSED else _primitive)(name, original))

    return lambda: [setattr(backend, n, v) if own else delattr(backend, n) for n, own, v in saved] and None


def _patch(owner: Any, name: str, replacement: Callable) -> Callable[[], None]:
    original = vars(owner)[name]
    setattr(owner, name, replacement(original))
    return lambda: setattr(owner, name, original)


def _patch_python() -> list[Callable[[], None]]:
    """Optimizer steps become eager regions, scheduler steps replayed calls; range checks
    (class indices, lengths) become replayed checks."""
    from .nn import checks
    from .nn.module import Module
    from .optim.optimizer import Optimizer
    from .optim.scheduler import LRScheduler

    undo = [_patch(Module, "zero_grad", _clearing), _patch(Tensor, "zero_grad", _clearing)]
    for cls in _with_subclasses(Optimizer):
        undo += [_patch(cls, name, wrap) for name, wrap in (("step", _eager_step), ("zero_grad", _clearing))
                 if name in vars(cls)]
    undo += [_patch(cls, "step", _replayed_call) for cls in _with_subclasses(LRScheduler) if "step" in vars(cls)]
    if "first_outside" not in vars(checks):
        raise RuntimeError("tr.jit: nn.checks no longer has first_outside, the range check that recording replaces "
                           "by a replayed check; expected it there (update jit_record.py)")
    undo.append(_patch(checks, "first_outside", _checked_bounds))  # every caller looks it up in checks
    return undo


def _with_subclasses(root: type) -> list[type]:
    """``root`` and every class derived from it, however deep (a user's optimizer too)."""
    classes, found = [root], []
    while classes:
        cls = classes.pop()
        found.append(cls)
        classes += cls.__subclasses__()
    return found


def _clearing(zero_grad: Callable) -> Callable:
    def clearing(obj: Any, *args: Any, **kwargs: Any) -> None:
        if kwargs.get("set_to_none", args[0] if args else True):  # zero_grad(set_to_none=False) keeps .grad
            params = obj.params if hasattr(obj, "params") else obj.parameters() if hasattr(obj, "parameters") else [obj]
            Recorder.current.cleared.update(id(p) for p in params)
        zero_grad(obj, *args, **kwargs)
    return clearing


def _replayed_call(step: Callable) -> Callable:
    """A scheduler's ``step()``: Python only (it sets the groups' lr), so a replay calls it again."""
    def replayed_step(scheduler: Any, *args: Any, **kwargs: Any) -> None:
        rec = Recorder.current
        if rec is None or rec.suspended:
            return step(scheduler, *args, **kwargs)
        if args or kwargs:
            raise RuntimeError(
                f"tr.jit: {type(scheduler).__name__}.step(...) with an argument (a metric or an epoch) inside a "
                "jitted function; a replay could only repeat the recorded value. Expected scheduler.step(metric) "
                "outside the function (after it returns)")
        step(scheduler)
        rec.steps.append(("call", lambda: step(scheduler), (), {}, None))
        return None
    return replayed_step


class _Region:
    """An optimizer step at replay: set each parameter's gradient, then run ``step`` eagerly."""

    def __init__(self, opt: Any, step: Callable) -> None:
        self.opt, self.step = opt, step

    def __call__(self, *grads: Any) -> None:
        if len(self.opt.params) != len(grads):
            raise RuntimeError(f"tr.jit: the optimizer holds {len(self.opt.params)} parameters but had {len(grads)} "
                               "when the step was recorded (add_param_group?); expected fn.reset() after changing "
                               "the optimizer's parameters")
        for p, g in zip(self.opt.params, grads, strict=True):
            if g is not _KEEP:
                p.grad = None if g is None else Tensor._make(g, p.backend)
        self.step(self.opt)


def _eager_step(step: Callable) -> Callable:
    def eager_step(opt: Any, closure: Callable | None = None) -> Any:
        rec = Recorder.current
        if rec is None or rec.suspended:
            return step(opt, closure)
        if closure is not None:
            raise RuntimeError("tr.jit: opt.step(closure) inside a jitted function; the closure's forward and "
                               "backward would run outside the recording. Expected the loss, backward() and "
                               "opt.step() written out in the function")
        grads = [None if p.grad is None else p.grad._data if type(p.grad._data) is TracedArray else _KEEP
                 for p in opt.params]
        touched = [*opt.params, *(p.grad for p in opt.params if p.grad is not None),
                   *(v for state in opt.state for v in state.values() if isinstance(v, Tensor))]
        swapped = [(t, t._data) for t in touched if type(t._data) is TracedArray]
        for t, traced in swapped:
            t._data = traced.value
        rec.suspended = True
        try:
            step(opt)
        finally:
            rec.suspended = False
            for t, traced in swapped:
                if t._data is traced.value:
                    t._data = traced
        if rec.first_write is None:  # the step writes into the parameters (and bumps their versions itself)
            rec.first_write = len(rec.steps)
        rec.steps.append(("call", _Region(opt, step), tuple(rec.template(g) for g in grads), {}, None))
    return eager_step


def _checked_bounds(first_outside: Callable) -> Callable:
    """The range check of class indices (cross_entropy, Embedding) and of lengths given as a
    Tensor (the recurrent and attention layers), as a check the replay repeats.

    Recorded Python only learns "every value is in [low, high]" (else the layer raised);
    a replay checks the same on the new values, and records again (so the eager step
    raises the error, naming the value) when it no longer holds.
    """
    def checked(values: Any, low: int, high: int) -> int | None:
        rec = Recorder.current
        if rec is None or rec.suspended or type(values._data) is not TracedArray:
            return first_outside(values, low, high)
        flat = widened(values)
        if flat.shape[0] == 0:
            return None
        lo, hi = flat.min()._data, flat.max()._data
        scalar = values.backend.scalar
        smallest, largest = int(scalar(unwrap(lo))), int(scalar(unwrap(hi)))
        if smallest < low or largest > high:
            return smallest if smallest < low else largest

        def check(lo: Any, hi: Any) -> None:
            if scalar(lo) < low or scalar(hi) > high:  # out of range now: record again, eagerly, which raises
                raise GuardFailed

        rec.check(check, lo, hi)
        return None
    return checked
