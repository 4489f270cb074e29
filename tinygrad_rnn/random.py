"""The library's global random-number generator, and :class:`Generator` objects of one's own.

Every random draw (``Tensor.randn``, weight initialisation, dropout masks, sampling
in the examples) comes from this generator, so ``tr.manual_seed(n)`` makes a whole
run reproducible. Draws are made on the host and then moved to the tensor's device,
so the same seed gives the same initial weights on the CPU and on the GPU. A
:class:`Generator` (PyTorch's ``torch.Generator``) passed as ``generator=`` draws
apart from the global one, e.g. to shuffle a ``DataLoader`` reproducibly on its own.
"""

from __future__ import annotations

import operator
import secrets
from typing import Any

from .backend import host

_rng = host.new_rng(None)


def _seed_value(fn: str, seed: Any) -> int:
    try:
        number = operator.index(seed) if not isinstance(seed, bool) else -1  # NumPy ints too
    except TypeError:
        number = -1
    if number < 0:
        raise ValueError(f"{fn}: expected a non-negative int, got {seed!r}")
    return number


def manual_seed(seed: int) -> None:
    """Reseed the library's generator: every later draw becomes reproducible."""
    global _rng
    _rng = host.new_rng(_seed_value("manual_seed", seed))


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


# ------------------------------------------------------------------ generators of one's own
DEFAULT_SEED = 67280421310721
"""The seed of a fresh :class:`Generator` (the value PyTorch gives a new ``torch.Generator``)."""


class Generator:
    """A random-number generator of one's own, apart from the library's global one.

    PyTorch's ``torch.Generator``: pass it as ``generator=`` to a ``DataLoader``, a
    ``RandomSampler`` or ``random_split`` to make that shuffle reproducible on its own,
    whatever else draws from the global generator (dropout, initialisation). A fresh
    generator starts from :data:`DEFAULT_SEED`, as a fresh ``torch.Generator`` does, so
    even an unseeded one repeats from run to run.

    The same seed gives the same draws on every run and device (draws are made on the
    host), but not the same draws as PyTorch: its generator is a Mersenne Twister, this
    one NumPy's PCG64, so ``g.manual_seed(0)`` shuffles differently from PyTorch's.

    Args:
        device: where the draws are wanted: ``"cpu"`` or ``"cuda"`` (or an object whose
            ``str`` is one). Draws are made on the host either way; it is kept for
            PyTorch's ``generator.device``.

    Raises:
        ValueError: ``device`` is neither.

    Example:
        >>> import tinygrad_rnn as tr
        >>> g = tr.Generator().manual_seed(0)
        >>> state = g.get_state()
        >>> first = tr.random.permutation_list(5, g)
        >>> _ = g.set_state(state)
        >>> tr.random.permutation_list(5, g) == first
        True
    """

    __slots__ = ("device", "_rng", "_seed")

    def __init__(self, device: Any = "cpu") -> None:
        name = str(device) if device is not None else ""
        if name.split(":")[0] not in ("cpu", "cuda"):
            raise ValueError(f"Generator: device={device!r}; expected 'cpu' or 'cuda'")
        self.device = name
        self._seed = DEFAULT_SEED
        self._rng = host.new_rng(DEFAULT_SEED)

    def manual_seed(self, seed: int) -> Generator:
        """Reseed: every later draw becomes reproducible. Returns the generator itself.

        Raises:
            ValueError: ``seed`` is not a non-negative int.
        """
        self._seed = _seed_value("Generator.manual_seed", seed)
        self._rng = host.new_rng(self._seed)
        return self

    def seed(self) -> int:
        """Reseed from the operating system's entropy; returns the new seed."""
        return self.manual_seed(secrets.randbits(63))._seed

    def initial_seed(self) -> int:
        """The seed given last (by :meth:`manual_seed` or :meth:`seed`), or the default one."""
        return self._seed

    def get_state(self) -> dict:
        """The generator's state as a plain dict (PyTorch returns a byte tensor instead)."""
        return host.rng_state(self._rng)

    def set_state(self, state: dict) -> Generator:
        """Restore a state from :meth:`get_state` (or from ``tr.get_rng_state()``); returns self.

        Raises:
            ValueError: ``state`` is not such a state; the generator is left as it was.
        """
        scratch = host.new_rng(0)
        try:
            host.set_rng_state(scratch, state)
        except (TypeError, ValueError, KeyError, OverflowError) as e:
            raise ValueError(
                f"Generator.set_state: got {type(state).__name__} {state!r:.80}, which the generator refuses "
                f"({e!r}); expected a dict returned by Generator.get_state()"
            ) from None
        self._rng = scratch
        return self

    def __repr__(self) -> str:
        return f"tr.Generator(device={self.device!r}, initial_seed={self._seed})"


def host_rng(generator: Generator | None, fn: str = "generator") -> Any:
    """The host generator that draws for ``generator`` (the library's global one for None).

    Raises:
        TypeError: ``generator`` is neither None nor a :class:`Generator`.
    """
    if generator is None:
        return _rng
    if not isinstance(generator, Generator):
        raise TypeError(f"{fn}: generator is a {type(generator).__module__}.{type(generator).__qualname__}; "
                        "expected a tr.Generator or None (the library's global generator)")
    return generator._rng


def permutation_list(n: int, generator: Generator | None = None, fn: str = "permutation_list") -> list[int]:
    """A random permutation of ``range(n)`` drawn from ``generator``, as Python ints.

    Raises:
        TypeError: ``generator`` is not a :class:`Generator` (``fn`` names the caller).
    """
    return host.permutation(host_rng(generator, fn), n).tolist()


def integers_list(high: int, count: int, generator: Generator | None = None, fn: str = "integers_list") -> list[int]:
    """``count`` ints drawn uniformly from ``range(high)``, with replacement, as Python ints."""
    return host.integers(host_rng(generator, fn), 0, high, (count,)).tolist()
