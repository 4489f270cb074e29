"""The library's one random-number generator.

Every random draw (``Tensor.randn``, weight initialisation, dropout masks, sampling
in the examples) comes from this generator, so ``tr.manual_seed(n)`` makes a whole
run reproducible. Draws are made on the host and then moved to the tensor's device,
so the same seed gives the same initial weights on the CPU and on the GPU.
"""

from __future__ import annotations

import operator
from typing import Any

from .backend import host

_rng = host.new_rng(None)


def manual_seed(seed: int) -> None:
    """Reseed the library's generator: every later draw becomes reproducible."""
    global _rng
    try:
        number = operator.index(seed) if not isinstance(seed, bool) else -1  # NumPy ints too
    except TypeError:
        number = -1
    if number < 0:
        raise ValueError(f"manual_seed: expected a non-negative int, got {seed!r}")
    _rng = host.new_rng(number)


def generator() -> Any:
    """The current generator (a host object; pass it to ``backend.host`` draws)."""
    return _rng


def get_rng_state() -> dict:
    """The generator's state as a plain dict (saved in checkpoints)."""
    return host.rng_state(_rng)


def set_rng_state(state: dict) -> None:
    """Restore a state returned by :func:`get_rng_state`.

    Raises:
        ValueError: ``state`` is not such a state.
    """
    try:
        host.set_rng_state(_rng, state)
    except (TypeError, ValueError, KeyError) as e:
        raise ValueError(
            f"set_rng_state: got {type(state).__name__} {state!r:.80}, which the generator refuses ({e!r}); "
            "expected a dict returned by tr.get_rng_state()"
        ) from None
