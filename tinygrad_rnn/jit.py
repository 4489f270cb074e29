"""``tr.jit``: record a whole training step once, then replay it without a tape.

    @tr.jit
    def train_step(x, y):
        opt.zero_grad()
        loss = F.cross_entropy(head(model(x)[0]), y)
        loss.backward()
        opt.step()
        return loss

The first call with a new signature runs the step eagerly while recording every backend
array operation of the forward ops and the backward walk (see :mod:`.jit_trace`); later
calls run the recorded program, one generated Python function with one line per array
operation: no Function objects, no tape, no heap. A replay gives bit-for-bit the eager
step's results on the same backend, because it makes the same backend calls on the same
arrays in the same order.

Binding. Arguments are bound by position (tensors by their array, NumPy arrays as they
are). Every other tensor alive at record time (parameters, cached constants, gradients
from before) is bound by reference: a replay reads ``t._data`` (``p.grad._data`` for a
gradient) and checks first that it is still the array the program was recorded with.
A tensor whose array was replaced (``load_state_dict``, ``.to()``, ``p.data = ...``)
fails that check and the step is recorded again. After a replay, ``.grad`` of every
tensor whose gradient the step set holds the new gradient, and tensors written in place
take a new version, as after the eager step.

The optimizer step is an eager region. ``opt.step()`` inside the function is not
recorded: a replay sets each parameter's ``.grad`` and calls ``opt.step()`` itself.
Optimizers compute Python numbers from Python state (Adam's step counter and bias
corrections, a learning rate changed by a schedule), which a recorded program would
freeze; so the update runs in Python (a few ops per parameter), and the optimizer
state, its counters and ``state_dict()`` are exactly the eager ones.
A learning-rate scheduler's ``step()`` inside the function (it only rewrites the
groups' ``"lr"``) is recorded as a Python call that every replay makes again;
``ReduceLROnPlateau.step(metric)`` and ``opt.step(closure)`` are refused there.

No warm-up call is needed: the first call records (it is an eager step), the second
replays. Random draws (dropout masks) are recorded as draws: a replay draws again from
the library's generator, which advances as in eager mode.

The cache key is everything the recorded Python read: each tensor argument's shape,
dtype, device and requires_grad, NumPy arrays' shapes and dtypes, other arguments by
value (a ``lengths`` list), which arguments are the same tensor, and grad/anomaly mode.
At most ``max_cache`` (default 8) signatures are kept, least recently used dropped first;
``fn.reset()`` drops them all. Before a replay these are checked too, and a change
records the step again (the new program replaces the old one): the bound arrays (above);
every module's ``training`` flag (``model.eval()`` turns dropout off); gradients that
were None when recorded (a backward then stores them; into an existing ``.grad`` it
adds), unless a ``zero_grad()`` inside the function cleared them; and the (min, max) of
class indices that ``cross_entropy`` and ``Embedding`` check, and of lengths given as a
Tensor, replayed as checks.

Refused (RuntimeError at record time): reading values into Python (``.item()``,
``.numpy()``, ``.tolist()``, ``bool(t)``, printing, ``clip_grad_norm_``, which returns a
float; call it outside), boolean-mask indexing, and replacing a tensor's array inside the
function. Returned tensors are new and detached (no tape, requires_grad False). Inside
``tr.detect_anomaly()`` the function runs eagerly, unrecorded.

Not seen, so not replayed: Python side effects of the function or of gradient hooks;
tensors reached through a global or closure variable that is rebound between calls (pass
them as arguments); tensors the function creates and stores outside its return value;
a module attribute other than ``training`` changed between calls. Recording swaps the
arrays of all live tensors and the backends' primitives for its duration: do not use
tensors in other threads while a jitted function records.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from . import random
from .backend import host
from .config import ANOMALY, config
from .jit_record import build, record
from .jit_trace import GuardFailed
from .tensor import Tensor

_LOCK = threading.RLock()
MISS = object()  # what a replay returns when its bindings or checks changed: record again


class Program:
    """One recorded signature: the generated function and how to bind and unpack it."""

    def __init__(self, program: Any, params: list, outputs: Any, out_slots: list, grads: list, bumps: list,
                 has_guard: bool, modes: list, nones: list) -> None:
        self.program, self.params, self.outputs = program, params, outputs
        self.out_slots, self.grads, self.bumps, self.has_guard = out_slots, grads, bumps, has_guard
        self.modes = modes  # (module, training) of every module alive at record time
        self.nones = nones  # tensors whose .grad was None when recorded (backward then stores, not adds)

    def run(self, leaves: list) -> Any:
        for m, training in self.modes:
            if m.training is not training:  # model.train() / .eval() since: dropout differs, record again
                return MISS
        for owner in self.nones:
            if (leaves[owner[1]] if owner[0] == "arg" else owner[1]).grad is not None:
                return MISS
        values = []
        for kind, a, b in self.params:  # ("arg", k, _), ("tensor", t, array), ("grad", owner, (shape, dtype))
            if kind == "arg":
                x = leaves[a]
                values.append(x._data if isinstance(x, Tensor) else x)
            elif kind == "tensor":
                if a._data is not b:
                    return MISS  # the tensor's array was replaced (load_state_dict, .to())
                values.append(b)
            else:
                g = a.grad
                if g is None or g.shape != b[0] or g.dtype != b[1]:
                    return MISS
                values.append(g._data)
        state = random.get_rng_state() if self.has_guard else None
        try:
            results = self.program(*values)
        except GuardFailed:
            random.set_rng_state(state)  # nothing but draws changed before the first check
            return MISS
        arrays = dict(zip(self.out_slots, results, strict=True))
        for owner, slot in self.grads:
            t = leaves[owner[1]] if owner[0] == "arg" else owner[1]
            t.grad = None if slot is None else Tensor._make(arrays[slot], t.backend)
        for owner in self.bumps:
            (leaves[owner[1]] if owner[0] == "arg" else owner[1])._bump_version()
        arrays["leaves"] = leaves
        return build(self.outputs, arrays)




def _flatten(obj: Any, leaves: list, key: list, seen: dict) -> None:
    """The arguments' tensors and arrays -> ``leaves``; what the recorded Python may read -> ``key``."""
    if isinstance(obj, Tensor):
        key.append(("T", obj.shape, str(obj.dtype), obj.device, obj.requires_grad, seen.setdefault(id(obj), len(leaves))))
        leaves.append(obj)
    elif host.is_host_array(obj) and getattr(obj, "ndim", 0) > 0:
        key.append(("A", obj.shape, str(obj.dtype)))
        leaves.append(obj)
    elif type(obj) in (list, tuple):
        key.append((type(obj), len(obj)))
        for x in obj:
            _flatten(x, leaves, key, seen)
    elif type(obj) is dict:
        key.append(("dict", tuple(obj)))
        for x in obj.values():
            _flatten(x, leaves, key, seen)
    else:
        try:
            key.append((type(obj), hash(obj), obj))
        except TypeError:
            raise TypeError(f"tr.jit: an argument of type {type(obj).__name__} is not hashable; expected tensors, "
                            "arrays, numbers, strings or lists/tuples/dicts of them") from None


def _substitute(obj: Any, traced: dict) -> Any:
    """The arguments with each NumPy array replaced by its traced array (tensors are traced in place)."""
    if isinstance(obj, Tensor):
        return obj
    if host.is_host_array(obj) and getattr(obj, "ndim", 0) > 0:
        return traced[id(obj)]
    if type(obj) in (list, tuple):
        return type(obj)(_substitute(x, traced) for x in obj)
    if type(obj) is dict:
        return {k: _substitute(x, traced) for k, x in obj.items()}
    return obj


class jit:  # noqa: N801 (used as a decorator, like a function)
    """Trace ``fn`` (a training step) once per signature and replay it (see the module docstring).

    Args:
        fn: the step.
        max_cache: how many signatures (recorded programs) to keep; more than the shapes a
            run cycles through, or each call records again (ragged batches padded to a
            multiple of 8 steps may need 16 or more).

    Attributes:
        records, replays: how many calls recorded and replayed (for tests and benchmarks).
    """

    def __init__(self, fn: Callable, max_cache: int = 8) -> None:
        if not callable(fn):
            raise TypeError(f"tr.jit: expected a function, got {type(fn).__name__}")
        if isinstance(max_cache, bool) or not isinstance(max_cache, int) or max_cache < 1:
            raise ValueError(f"tr.jit: max_cache={max_cache!r}; expected a positive int")
        self.fn, self.max_cache = fn, max_cache
        self.cache: OrderedDict[tuple, Program] = OrderedDict()
        self.records = self.replays = 0
        self.__wrapped__ = fn
        self.__name__ = getattr(fn, "__name__", "jitted")
        self.__doc__ = getattr(fn, "__doc__", None)

    def reset(self) -> None:
        """Drop every recorded program (the next call records again)."""
        self.cache.clear()

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if config.mode & ANOMALY:  # anomaly mode checks every result in Python: run the step eagerly
            return self.fn(*args, **kwargs)
        leaves: list = []
        key: list = [config.mode]
        _flatten((args, kwargs), leaves, key, {})
        signature = tuple(key)
        program = self.cache.get(signature)
        if program is not None:
            self.cache.move_to_end(signature)
            result = program.run(leaves)
            if result is not MISS:
                self.replays += 1
                return result
        with _LOCK:
            parts, result = record(self.fn, args, kwargs, leaves, _substitute)
        program = Program(**parts)
        self.records += 1
        self.cache[signature] = program
        self.cache.move_to_end(signature)
        while len(self.cache) > self.max_cache:
            self.cache.popitem(last=False)
        return result


