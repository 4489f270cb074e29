"""Argument checks shared by the layers and losses: integers, index ranges, lengths, states,
and the losses' reductions, targets and weights.

Whole numbers are accepted as Python ints or NumPy integer scalars (``np.int64(3)``,
what indexing an array gives), and always come back as Python ints; bools, floats and
strings are refused. Index tensors (token ids, class targets) of any integer dtype are
range-checked in 64 bits, so an ``int8`` id of -128 or a ``uint8`` label of 255 is
judged by its true value, never by one that wrapped around.
"""

from __future__ import annotations

import operator
from typing import Any

from ..tensor import Tensor

INT64_RANGE = (-(2**63), 2**63 - 1)


def as_int(value: Any) -> int | None:
    """``value`` as a Python int if it is a whole-number type (int, NumPy integer), else None.

    A bool is not a number here (``True`` as a size is a mistake), nor a float (3.0).
    """
    if isinstance(value, bool) or isinstance(value, Tensor):
        return None
    try:
        return operator.index(value)  # int and NumPy integers; NumPy's bool and floats refuse
    except TypeError:
        return None


def check_size(layer: str, name: str, value: Any) -> int:
    """A layer size must be a positive int (or NumPy integer); say which one was wrong otherwise.

    Raises:
        ValueError: ``value`` is not a whole number >= 1 (the layer, the name and the value are named).
    """
    size = as_int(value)
    if size is None or size < 1:
        raise ValueError(f"{layer}: {name}={value!r}; expected a positive int")
    return size


def is_integer(t: Tensor) -> bool:
    """Whether t holds integers (indices): its dtype is a signed or unsigned int."""
    return t.dtype.kind in "iu"


def widened(ids: Tensor) -> Tensor:
    """The integer tensor ``ids``, flattened, in a type that holds each of its values exactly.

    int64 holds every value of int8..int64 and uint8..uint32; uint64 stays uint64 (its
    values past 2^63 - 1 would wrap around in int64).
    """
    flat = ids.reshape(-1)
    return flat if ids.dtype.kind == "u" and ids.dtype.itemsize == 8 else flat.long()


def first_outside(values: Tensor, low: int, high: int) -> int | None:
    """The first value of the integer tensor ``values`` outside [low, high] as a Python int; None if none.

    Compares in 64 bits (:func:`widened`), with no arithmetic that could overflow; one
    host round trip. (``tr.jit`` replaces this function while it records by a check that
    every replay repeats on its own values.)
    """
    flat = widened(values)
    if flat.shape[0] == 0:
        return None
    outside = (flat < low).long() + (flat > high).long()  # 1 where out of range (never both)
    value = int(flat[outside.argmax()].item())  # argmax: the first 1, or entry 0 when all are 0
    return None if low <= value <= high else value


def first_out_of_range(ids: Tensor, n: int) -> int | None:
    """The first index of ``ids`` outside [0, n - 1] (class targets, token ids); None if none."""
    return first_outside(ids, 0, n - 1)


def check_ignore_index(name: str, ignore_index: Any) -> int | None:
    """``ignore_index`` as a Python int (None stays None).

    Raises:
        TypeError: it is not a whole number (a string, a bool, a float).
        ValueError: it does not fit in int64, the type targets are compared in.
    """
    if ignore_index is None:
        return None
    value = as_int(ignore_index)
    if value is None:
        raise TypeError(f"{name}: ignore_index={ignore_index!r} ({type(ignore_index).__name__}); "
                        "expected an int (a class index never used as a target, e.g. -100) or None")
    if not INT64_RANGE[0] <= value <= INT64_RANGE[1]:
        raise ValueError(f"{name}: ignore_index={value} does not fit in int64; expected an int in "
                         f"[{INT64_RANGE[0]}, {INT64_RANGE[1]}]")
    return value


def check_lengths(name: str, lengths: Any, T: int, B: int) -> list[int] | Tensor | None:
    """``lengths`` checked: B lengths in 1..T (one int for B = 1), or None.

    A list, tuple or array (NumPy, PyTorch) comes back as a list of Python ints, or None
    when every length is T: the layers branch on these values in Python (they skip the
    steps where every sequence has ended, and mask only where one has). An integer
    Tensor comes back as a (B,) Tensor whose values no Python code reads after this
    check: the layers run all T steps and mask every one, so one ``tr.jit`` recording
    serves every batch of the same padded shape (the check itself is repeated by each
    replay).

    Raises:
        TypeError: lengths are not ints.  ValueError: not B of them, or one not in 1..T.
    """
    if lengths is None:
        return None
    if isinstance(lengths, Tensor):
        return _lengths_tensor(name, lengths, T, B)
    if hasattr(lengths, "tolist"):  # a NumPy / PyTorch array or scalar
        lengths = lengths.tolist()
    if as_int(lengths) is not None and B == 1:
        lengths = [lengths]
    if not isinstance(lengths, (list, tuple)):
        kind = type(lengths).__name__
        raise TypeError(f"{name}: lengths is {lengths!r}; expected a list of {B} ints, got {kind}")
    if B == 0:
        raise ValueError(f"{name}: lengths={list(lengths)!r} for a batch of 0 sequences (x has B = 0); "
                         "expected at least one sequence when lengths are given")
    for n in lengths:
        if as_int(n) is None:
            raise TypeError(f"{name}: lengths holds {n!r} ({type(n).__name__}); expected ints, one per sequence")
    lengths = [as_int(n) for n in lengths]
    if len(lengths) != B:
        raise ValueError(f"{name}: got {len(lengths)} lengths for a batch of {B} sequences; expected {B}")
    bad = [n for n in lengths if not 1 <= n <= T]
    if bad:
        raise ValueError(f"{name}: lengths {lengths} include {bad}; expected every length in 1..T = 1..{T}")
    return None if min(lengths) == T else lengths


def lengths_on(lengths: list[int] | Tensor, device: Any) -> Tensor:
    """Lengths checked by :func:`check_lengths` as a Tensor on ``device`` (a list converted, a
    Tensor moved; inside ``tr.jit`` the move is replayed)."""
    return lengths.to(device) if isinstance(lengths, Tensor) else Tensor(lengths, device=device)


def _lengths_tensor(name: str, lengths: Tensor, T: int, B: int) -> Tensor:
    """An integer Tensor of lengths, checked by shape, dtype and range (values read only by the range check)."""
    if not is_integer(lengths):
        raise TypeError(f"{name}: lengths is a {lengths.dtype} Tensor; expected an integer Tensor of {B} lengths")
    if lengths.ndim == 0 and B == 1:
        lengths = lengths.reshape(1)
    if B == 0:
        raise ValueError(f"{name}: lengths (a Tensor of shape {lengths.shape}) for a batch of 0 sequences "
                         "(x has B = 0); expected at least one sequence when lengths are given")
    if lengths.shape != (B,):
        raise ValueError(f"{name}: lengths is a Tensor of shape {lengths.shape} for a batch of {B} sequences; "
                         f"expected shape ({B},), one length per sequence")
    bad = first_outside(lengths, 1, T)
    if bad is not None:
        raise ValueError(f"{name}: lengths (a Tensor) include {bad}; expected every length in 1..T = 1..{T}")
    return lengths


def check_state(name: str, what: str, s: Any, expected: tuple[int, ...], layout: str) -> Tensor:
    """``s`` if it is a Tensor of shape ``expected`` (else TypeError, ValueError naming ``layout``)."""
    if not isinstance(s, Tensor):
        raise TypeError(f"{name}: {what} is a {type(s).__name__}; expected a Tensor of shape {layout}")
    if s.shape != expected:
        raise ValueError(f"{name}: {what} has shape {s.shape}; expected {layout}")
    return s


# ------------------------------------------------------------------ losses
REDUCTIONS = ("mean", "sum", "none")


def check_reduction(name: str, reduction: Any) -> None:
    """Raise ``ValueError`` unless ``reduction`` is one of :data:`REDUCTIONS` (a tensor there
    is most likely PyTorch's positional ``weight``: the message says so)."""
    if not isinstance(reduction, str) or reduction not in REDUCTIONS:
        hint = (" (PyTorch's third positional argument is weight; here it is reduction: pass weight=...)"
                if isinstance(reduction, Tensor) or hasattr(reduction, "shape") else "")
        raise ValueError(f"{name}: reduction={reduction!r}; expected one of {list(REDUCTIONS)}{hint}")


def float_target(name: str, x: Tensor, target: Any) -> Tensor:
    """A target of the same shape as the prediction ``x`` (arrays and lists are converted)."""
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input is a {type(x).__name__}; expected a Tensor")
    if not isinstance(target, Tensor):
        target = Tensor(target, device=x.device, dtype=x.dtype)
    if target.shape != x.shape:
        raise ValueError(
            f"{name}: input has shape {x.shape} but target has shape {target.shape}; expected equal shapes"
        )
    return target


def constant_weight(name: str, what: str, value: Any, x: Tensor, shape: tuple[int, ...] | None) -> Tensor | None:
    """A weight argument as a constant tensor of x's dtype and device (None stays None)."""
    if value is None:
        return None
    t = value if isinstance(value, Tensor) else Tensor(value, device=x.device)
    if t.device != x.device:
        raise RuntimeError(f"{name}: {what} is on {t.device!r} but the input is on {x.device!r}; expected one device")
    if shape is not None and t.shape != shape:
        raise ValueError(f"{name}: {what} has shape {t.shape}; expected {shape}, one weight per class")
    return t.detach().astype(x.dtype)


def class_target(name: str, x: Tensor, target: Any) -> Tensor:
    """Integer class indices, one per position of ``x`` without its last (class) axis."""
    if not isinstance(x, Tensor) or x.ndim == 0 or x.shape[-1] == 0:
        shape = x.shape if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name}: input is {shape}; expected a Tensor (..., n_classes) with n_classes >= 1")
    if not isinstance(target, Tensor):
        target = Tensor(target, device=x.device)
    if target.device != x.device:
        raise RuntimeError(f"{name}: target is on {target.device!r} but the input is on {x.device!r}; expected one device")
    if not is_integer(target):
        also = " or class probabilities of the input's shape" if name == "cross_entropy" else ""
        raise TypeError(
            f"{name}: target has dtype {target.dtype} and shape {target.shape}; expected integer class indices"
            f"{also} (classes are on the last axis of the input, of shape {x.shape})"
        )
    if target.shape != x.shape[:-1]:
        raise ValueError(
            f"{name}: input has shape {x.shape} (classes on the last axis) and target has shape "
            f"{target.shape}; expected target shape {x.shape[:-1]} (PyTorch's functions take the classes on "
            "axis 1: move them to the last axis, or use nn.CrossEntropyLoss / nn.NLLLoss, which take PyTorch's "
            "layout)"
        )
    return target


def check_smoothing(name: str, label_smoothing: Any) -> float:
    """``label_smoothing`` as a float in [0, 1], else ``ValueError`` naming it."""
    ok = isinstance(label_smoothing, (int, float)) and not isinstance(label_smoothing, bool)
    if not ok or not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"{name}: label_smoothing={label_smoothing!r}; expected a number in [0, 1]")
    return float(label_smoothing)
