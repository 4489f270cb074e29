"""Stateless functions of layers: losses, dropout, activations by name."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .. import random as _random
from ..backend import host
from ..tensor import Tensor


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each entry with probability ``p``, scale the rest by 1/(1-p).

    The identity when ``training`` is False or ``p`` is 0. The mask comes from the
    library's generator (``tr.manual_seed``).

    Raises:
        ValueError: ``p`` is not in [0, 1).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p={p!r}; expected a probability in [0, 1)")
    if not training or p == 0.0:
        return x
    keep = host.bernoulli(_random.generator(), 1.0 - p, x.shape, x.dtype) / (1.0 - p)
    return x * x._const(x.backend.from_numpy(keep))


_ACTIVATIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "tanh": Tensor.tanh,
    "relu": Tensor.relu,
    "sigmoid": Tensor.sigmoid,
    "identity": lambda x: x,
    "softmax": lambda x: x.softmax(axis=-1),
}


def activation(name_or_fn: Any, allowed: tuple[str, ...], what: str) -> Callable[[Tensor], Tensor]:
    """Resolve an activation given by name (one of ``allowed``) or as a callable.

    Raises:
        ValueError: an unknown name; the message lists the names expected.
    """
    if callable(name_or_fn):
        return name_or_fn
    if name_or_fn not in allowed:
        raise ValueError(f"{what}: unknown activation {name_or_fn!r}; expected one of {list(allowed)} or a callable")
    return _ACTIVATIONS[name_or_fn]
