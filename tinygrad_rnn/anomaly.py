"""Anomaly mode's checks: which op first made a NaN or an Inf, in its forward or backward.

``tr.detect_anomaly()`` (the mode itself lives in ``config``) makes ``Tensor._apply``
check every op's result with :func:`check_finite`, and the backward walk run each op's
backward through :func:`checked_backward`. The first non-finite value raises
``FloatingPointError`` naming the op and, inside a recurrent layer, the layer and the time
step (the label ``anomaly_context`` put on the op). Kept out of ``autograd.py``: the tape
never needs it unless the mode is on, and each check costs a device-to-host copy.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .config import config, using

if TYPE_CHECKING:
    from .autograd import Function
    from .tensor import Tensor


def check_finite(fn: Function, array: Any, phase: str) -> None:
    """Anomaly mode: raise if ``array``, made by ``fn``'s ``phase``, holds a NaN or Inf."""
    backend = fn.backend
    if backend.is_floating(array.dtype) and not backend.all_finite(array):
        details = []
        if phase == "forward" and config.in_backward is not None:  # an op run by another op's backward
            details.append(f"in its {type(fn).__name__}")
            fn, phase = config.in_backward, "backward"
        if getattr(fn, "label", None):
            details.insert(0, fn.label)
        where = f" ({'; '.join(details)})" if details else ""
        raise FloatingPointError(f"anomaly: {type(fn).__name__}.{phase} produced NaN or Inf{where}; expected finite values")


def checked_backward(fn: Function, grad: Tensor, out: Tensor) -> Any:
    """``fn.backward`` in anomaly mode: NaN or Inf made inside, or returned, is fn's."""
    with using(in_backward=fn):
        grads = fn.backward(grad, out)
    for g in grads if isinstance(grads, (tuple, list)) else (grads,):
        if g is not None:
            check_finite(fn, g._data, "backward")
    return grads
