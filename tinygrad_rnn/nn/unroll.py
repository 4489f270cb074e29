"""Unrolling a recurrence over a batch of sequences: input checks, initial states, ragged
lengths, and splitting along time.

Shared by the sequence layers of :mod:`tinygrad_rnn.nn.recurrent`. Everything here is
Tensor ops or constant arrays made through the tensor's backend.
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor


def unbind_time(xs: Tensor) -> list[Tensor]:
    """Split (T, ...) into T tensors of shape (...): the steps of the loop.

    Plain slices: the backward adds each step's gradient into one (T, ...) buffer
    (``GetItem.backward_into``), so this costs O(T), as a hand-written loop would.
    """
    return [xs[t] for t in range(xs.shape[0])]


class LengthMasks:
    """Constant masks for ragged ``lengths``: ``step[t]`` (B, 1) is True while sequence b
    is still running at step t; ``valid`` (T, B, 1) marks the outputs that are kept."""

    def __init__(self, x: Tensor, lengths: list[int]) -> None:
        backend, T, B = x.backend, x.shape[0], x.shape[1]
        ends = backend.asarray(lengths, dtype=backend.int64).reshape(B, 1)
        self.min_length = min(lengths)
        self.step = [ends > t for t in range(T)]
        self.valid = backend.arange(T, backend.int64).reshape(T, 1, 1) < ends.reshape(1, B, 1)


def check_lengths(name: str, lengths: Any, T: int, B: int) -> list[int] | None:
    """``lengths`` as a list of B ints in 1..T; None when there are none or all equal T."""
    if lengths is None:
        return None
    if isinstance(lengths, int) and not isinstance(lengths, bool):
        lengths = [lengths]
    elif hasattr(lengths, "tolist"):  # a Tensor, or a NumPy / PyTorch array
        lengths = lengths.tolist()
    lengths = list(lengths) if isinstance(lengths, (list, tuple)) else [lengths]
    for n in lengths:
        if isinstance(n, bool) or not isinstance(n, int):
            raise TypeError(f"{name}: lengths holds {n!r} ({type(n).__name__}); expected ints, one per sequence")
    if len(lengths) != B:
        raise ValueError(f"{name}: got {len(lengths)} lengths for a batch of {B} sequences; expected {B}")
    bad = [n for n in lengths if not 1 <= n <= T]
    if bad:
        raise ValueError(f"{name}: lengths {lengths} include {bad}; expected every length in 1..{T} (T={T})")
    return None if min(lengths) == T else lengths


def check_input(name: str, x: Any, input_size: int, batch_first: bool) -> tuple[Tensor, bool]:
    """x as time-major (T, B, I), and whether it came unbatched as (T, I).

    Raises:
        ValueError: x is not 2-D or 3-D with ``input_size`` features, or has no time steps.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input x is a {type(x).__name__}; expected a Tensor")
    if x.ndim not in (2, 3) or x.shape[-1] != input_size:
        layout = f"(B, T, {input_size})" if batch_first else f"(T, B, {input_size})"
        raise ValueError(
            f"{name}: input x has shape {x.shape}; expected {layout} or unbatched (T, {input_size}) "
            f"(input_size={input_size}, batch_first={batch_first})"
        )
    unbatched = x.ndim == 2
    if unbatched:
        x = x.reshape(x.shape[0], 1, input_size)
    elif batch_first:
        x = x.transpose(1, 0, 2)
    if x.shape[0] == 0:
        raise ValueError(f"{name}: input x has 0 time steps (time-major shape {x.shape}); expected T >= 1")
    return x, unbatched


def initial_states(name: str, hx: Any, x: Tensor, unbatched: bool, LD: int, H: int,
                   n_states: int) -> list[tuple[Tensor, ...]]:
    """One state tuple, (h,) or (h, c) when ``n_states`` is 2, per layer and direction (LD of them).

    Raises:
        ValueError: hx is not (LD, B, H) ((LD, H) unbatched), or not a pair when it should be.
    """
    B = x.shape[1]
    if hx is None:
        zeros = Tensor.zeros(B, H, device=x.device, dtype=x.dtype)
        return [(zeros,) * n_states] * LD
    if n_states == 2:
        if not isinstance(hx, (tuple, list)) or len(hx) != 2:
            raise ValueError(f"{name}: hx is a {type(hx).__name__}; expected a pair (h0, c0) or None")
        parts = list(zip(("h0", "c0"), hx, strict=True))
    else:
        parts = [("hx", hx)]
    expected = (LD, H) if unbatched else (LD, B, H)
    for what, s in parts:
        if not isinstance(s, Tensor) or s.shape != expected:
            given = s.shape if isinstance(s, Tensor) else type(s).__name__
            raise ValueError(
                f"{name}: {what} has shape {given}; expected {expected} "
                f"(num_layers * num_directions, {'' if unbatched else 'B, '}hidden_size)"
            )
    per_part = [s.reshape(LD, B, H) for _, s in parts]
    return [tuple(s[j] for s in per_part) for j in range(LD)]
