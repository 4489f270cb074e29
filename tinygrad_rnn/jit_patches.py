"""What a recording of :func:`tinygrad_rnn.jit` replaces while it runs, and how.

* The backends' primitives (``patch_backend``): each call runs and is appended to the
  recording as a step; random draws are recorded as draws (a replay draws again from
  the library's generator); the primitives that read values into Python are refused.
* Python that a replay must repeat or keep (``patch_python``): ``Optimizer.step`` runs
  as an eager region (its step counts and learning rates are Python numbers a program
  would freeze); a scheduler's ``step()`` is called again at every replay; ``zero_grad``
  notes which gradients it cleared; the range check of class indices and of lengths
  given as a Tensor becomes a check every replay repeats.

Each patch returns the function that undoes it; :func:`.jit_record.record` undoes them
all when the recording ends.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import random
from .backend import host
from .jit_trace import PRIMITIVES, REFUSED, GuardFailed, Recorder, TracedArray, refuse, unwrap
from .nn.checks import widened
from .tensor import Tensor

_KEEP = object()  # eager region: a gradient set by earlier eager code, left as it is


# ------------------------------------------------------------------ backends
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


def patch_backend(backend: Any) -> Callable[[], None]:
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


def patch_python() -> list[Callable[[], None]]:
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
