"""Checks of an optimizer's arguments: hyperparameters, switches, and the parameters."""

from __future__ import annotations

import math
import numbers
from typing import Any

from ..tensor import Tensor


def check_hyper(optimizer: str, name: str, value: Any, low: float = 0.0, high: float | None = None) -> float:
    """A hyperparameter must be a finite number in [low, high) ([low, inf) without high)."""
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    number = float(value) if is_number else math.nan
    if not (math.isfinite(number) and number >= low and (high is None or number < high)):
        expected = f"[{low}, {high})" if high is not None else f">= {low}"
        raise ValueError(f"{optimizer}: {name}={value!r}; expected a finite number {expected}")
    return number


def check_flag(optimizer: str, name: str, value: Any) -> bool:
    """A switch (``nesterov``, ``amsgrad``, ``maximize``...) must be a bool (or 0/1)."""
    if value is True or value is False or (isinstance(value, numbers.Integral) and value in (0, 1)):
        return bool(value)
    raise ValueError(f"{optimizer}: {name}={value!r}; expected True or False")


def as_groups(optimizer: str, params: Any) -> tuple[list[Any], bool]:
    """``params`` as a list of group dicts, and whether it was a plain iterable of tensors (one group)."""
    if isinstance(params, Tensor) or (hasattr(params, "parameters") and callable(params.parameters)):
        raise TypeError(f"{optimizer}: params is a {type(params).__name__}; expected an iterable of parameters "
                        "such as model.parameters() (or [tensor])")
    if isinstance(params, (set, frozenset, dict)):
        raise TypeError(f"{optimizer}: params is a {type(params).__name__}; expected an ordered iterable (a list "
                        "or model.parameters()), so that the state dict numbers the parameters the same each run")
    try:
        items = list(params)
    except TypeError:
        raise TypeError(f"{optimizer}: params is a {type(params).__name__}; expected an iterable of Tensors") from None
    if not items:
        raise ValueError(f"{optimizer}: got an empty parameter list; expected at least one parameter")
    dicts = [isinstance(item, dict) for item in items]
    if all(dicts):
        return items, False
    if any(dicts):
        raise TypeError(f"{optimizer}: params mixes tensors and dicts; expected either tensors (one group) or "
                        "dicts {'params': ..., option: value} (one per group)")
    return [{"params": items}], True


def collect(optimizer: str, params: Any, where: str) -> list[Tensor]:
    if isinstance(params, Tensor):
        params = [params]
    elif isinstance(params, (set, frozenset)):
        raise TypeError(f"{optimizer}: {where} is a set; expected an ordered iterable of Tensors")
    try:
        params = list(params)
    except TypeError:
        raise TypeError(f"{optimizer}: {where} is a {type(params).__name__}; expected an iterable of Tensors") from None
    out: list[Tensor] = []
    seen: set[int] = set()
    for k, p in enumerate(params):
        if not isinstance(p, Tensor):
            hint = " (named parameters: pass model.parameters())" if isinstance(p, tuple) else ""
            raise TypeError(f"{optimizer}: {where}[{k}] is a {type(p).__name__}; expected a Tensor{hint}")
        if not p.is_leaf:
            raise ValueError(f"{optimizer}: {where}[{k}] was computed by an op; expected a leaf tensor (a parameter)")
        if not p.backend.is_floating(p.dtype):
            raise ValueError(f"{optimizer}: {where}[{k}] has dtype {p.dtype}; expected a floating-point tensor")
        if id(p) not in seen:
            seen.add(id(p))
            out.append(p)
    return out
