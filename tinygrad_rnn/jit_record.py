"""Recording one step for :func:`tinygrad_rnn.jit`, and the recorded program.

:func:`record` binds the arrays (arguments, then every other live tensor), installs the
recording wrappers of :mod:`.jit_patches` (backend primitives; ``Optimizer.step`` as an
eager region; the range checks of class indices and lengths as replayed checks), runs
the function and builds a :class:`Program`.
"""

from __future__ import annotations

import gc
from collections.abc import Callable
from typing import Any

from . import backend as backends
from .backend import host
from .jit_codegen import compile_program
from .jit_patches import patch_backend, patch_python
from .jit_trace import Recorder, TracedArray
from .tensor import Tensor


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
    undo = [patch_backend(b) for b in live] + patch_python()
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
        raise RuntimeError("tr.jit: a range check (of class indices or lengths) comes after an in-place update in "
                           "this function; expected the loss (and its checks) before the optimizer step")
    sources = [rec.sources[s] for s in sorted(rec.written) if s in rec.sources]
    bumps = [(kind, a) for kind, a, _ in sources if kind == "tensor" or (kind == "arg" and isinstance(leaves[a], Tensor))]
    params = sorted(s for s in rec.sources if s in rec.used or s in values)
    program = compile_program(rec.steps, params, out_slots)
    nones = [owner(t) for t, _, grad in bound.values() if grad is None and t.grad is not None and id(t) not in rec.cleared]
    return (dict(program=program, params=[rec.sources[s] for s in params], outputs=outputs, out_slots=out_slots,
                 grads=grads, bumps=bumps, has_guard=rec.guard_at is not None, modes=modes, nones=nones),
            build(outputs, {**values, "leaves": leaves}))
