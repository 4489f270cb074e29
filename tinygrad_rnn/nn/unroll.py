"""The one unrolled loop of every recurrent layer, and the checks around it.

``ElmanRNN``, ``GatedRNN`` (:mod:`.elman`) and ``RNN``, ``LSTM``, ``GRU``
(:mod:`.recurrent`) differ only in their step, s_t = step(x-terms_t, s_{t-1}). The rest
is here, written once: the checks, the input projection for all time steps in one
matmul, the per-step loop with its anomaly labels, and the rule for a ragged batch
(sequences of different lengths): what x holds past a sequence's length is never read,
outputs there are 0, and the state is carried unchanged after the last step, so the
final state is the state at the sequence's own last step (where a reverse direction
starts) and a padded batch gives, for every sequence, what running it alone gives.

No backward code: back-propagation through time is the tape running backward through
this loop (6.390 notes C.41, Back-propagation through time).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from typing import Any

from ..autograd import anomaly_context, is_anomaly_enabled
from ..ops import cat, stack, where
from ..tensor import Tensor
from .checks import check_lengths, check_state, lengths_on

State = tuple[Tensor, ...]
Step = Callable[[tuple[Tensor, ...], State], State]

_NO_LABEL = contextlib.nullcontext()


def unbind_time(xs: Tensor) -> list[Tensor]:
    """Split (T, ...) into T tensors of shape (...): the steps of the loop.

    Plain slices: the backward adds each step's gradient into one (T, ...) buffer, so
    this costs O(T), as a hand-written loop would.
    """
    return [xs[t] for t in range(xs.shape[0])]


def project(x: Tensor, W: Tensor, b: Tensor | None = None) -> Tensor:
    """W v + b for every row v of x at once: (..., k) -> (..., rows of W).

    Rows are batch entries, so W v is ``v @ W.T``; the leading axes are flattened, so a
    whole (T, B, k) sequence costs one matrix product, before (or after) the loop.
    """
    lead = x.shape[:-1]
    out = x.reshape(-1, x.shape[-1]) @ W.T
    if b is not None:
        out = out + b
    return out.reshape(*lead, W.shape[0])


class Ragged:
    """How far to run a batch whose sequences have ``lengths`` (None: all T steps).

    ``steps`` is the longest length: steps where every sequence has ended are skipped
    (and padded back with zeros by :meth:`pad`); ``min_length`` the shortest: before
    it no sequence has ended, so no step needs a mask. ``running`` (T, B, 1) is True
    while sequence b is running at step t, ``valid`` is its first ``steps`` steps, and
    ``step[t]`` its slice (B, 1).

    Lengths given as a Tensor are never read in Python: all T steps run, each masked
    (``steps`` = T, ``min_length`` = 0). The values are the same; the Python that ran is
    the same for every batch of one shape, which is what a ``tr.jit`` recording needs.
    """

    def __init__(self, T: int, B: int, lengths: list[int] | Tensor | None, device: Any = "cpu") -> None:
        self.T = T
        if isinstance(lengths, Tensor):
            self.steps, self.min_length = T, 0
        else:
            self.steps = T if lengths is None else max(lengths)
            self.min_length = self.steps if lengths is None else min(lengths)
        self.running: Tensor | None = None
        self.valid: Tensor | None = None
        self.step: list[Tensor] = []
        if lengths is not None:
            ends = lengths_on(lengths, device).reshape(1, B, 1)
            self.running = Tensor.arange(T, device=device).reshape(T, 1, 1) < ends
            self.valid = self.trim(self.running)
            self.step = unbind_time(self.valid)

    def trim(self, x: Tensor) -> Tensor:
        """x (T, ...) without the steps where every sequence has ended."""
        return x[: self.steps] if self.steps < x.shape[0] else x

    def pad(self, out: Tensor) -> Tensor:
        """out (steps, ...) padded with zeros back to (T, ...)."""
        if out.shape[0] == self.T:
            return out
        zeros = Tensor.zeros(self.T - out.shape[0], *out.shape[1:], device=out.device, dtype=out.dtype)
        return cat([out, zeros], axis=0)

    def zero_past_ends(self, out: Tensor) -> Tensor:
        """out (steps, B, k) with the entries past each sequence's length set to 0."""
        return out if self.min_length >= out.shape[0] else where(self.valid, out, 0.0)


def unroll(step: Step, inputs: tuple[Tensor, ...], state: State, ragged: Ragged, label: str,
           reverse: bool = False, count_from: int = 0) -> tuple[Tensor, State]:
    """Run ``state = step(inputs_t, state)`` for every t; the per-step loop of every layer.

    Args:
        step: one transition; ``inputs_t`` holds the t-th slice of each of ``inputs`` (the
            parts of the step that depend on x_t only, (steps, B, k) each, computed for all
            t before the loop); ``state`` is a tuple of (B, H) tensors, (s,) or (h, c).
        label: names the step in anomaly mode, with ``{t}`` for the step number, counted
            from ``count_from`` (1 in the notes, 0 in PyTorch).
        reverse: run from the last step to the first.

    Returns:
        ``(outputs, final)``: the first state component at every step, (steps, B, H),
        0 past each sequence's length; the state at each sequence's own last step.
    """
    per_step = list(zip(*(unbind_time(term) for term in inputs), strict=True))
    T = len(per_step)
    anomaly = is_anomaly_enabled()
    outputs: list[Tensor] = [None] * T  # type: ignore[list-item]
    for t in range(T - 1, -1, -1) if reverse else range(T):
        with anomaly_context(label.format(t=t + count_from)) if anomaly else _NO_LABEL:
            new = step(per_step[t], state)
            if t >= ragged.min_length:  # a sequence that has ended keeps its state
                new = tuple(where(ragged.step[t], s_new, s_old) for s_new, s_old in zip(new, state, strict=True))
            state = new
        outputs[t] = state[0]
    return ragged.zero_past_ends(stack(outputs)), state


# ------------------------------------------------------- inputs and initial states
def sequence_batch(name: str, x: Any, input_size: int, lengths: Any, batch_first: bool = False,
                   unbatched_ok: bool = True) -> tuple[Tensor, bool, Ragged]:
    """x as time-major (steps, B, I) with its padding set to 0, whether it came unbatched, its lengths.

    The padding (steps past each sequence's length) becomes exact zeros by ``where``
    before any other op reads x: whatever it holds (NaN, Inf, old data) reaches neither
    an output nor a gradient (0 * NaN would be NaN; ``where`` only selects), x's gradient
    there is exactly 0, and anomaly mode has nothing to report.

    Raises:
        TypeError, ValueError: x is not a (T, B, input_size) Tensor (or (T, input_size)
            when ``unbatched_ok``) with T >= 1; lengths are not B ints in 1..T.
    """
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}: input x is a {type(x).__name__}; expected a Tensor")
    if x.ndim not in ((2, 3) if unbatched_ok else (3,)) or x.shape[-1] != input_size:
        layout = f"(B, T, {input_size})" if batch_first else f"(T, B, {input_size})"
        also = f" or unbatched (T, {input_size})" if unbatched_ok else ""
        raise ValueError(f"{name}: input x has shape {x.shape}; expected {layout}{also} "
                         f"(input_size={input_size}, batch_first={batch_first})")
    unbatched, batch_first = x.ndim == 2, batch_first and x.ndim == 3
    T, B = (x.shape[1], x.shape[0]) if batch_first else (x.shape[0], 1 if unbatched else x.shape[1])
    if T == 0:
        raise ValueError(f"{name}: input x has 0 time steps (x has shape {x.shape}); expected T >= 1")
    ragged = Ragged(T, B, check_lengths(name, lengths, T, B), x.device)
    if ragged.running is not None:  # in x's own layout, so that no op sees the padding first
        running = ragged.running
        x = where(running.reshape(T, 1) if unbatched else running.transpose(1, 0, 2) if batch_first else running,
                  x, 0.0)
    if unbatched:
        x = x.reshape(T, 1, input_size)
    elif batch_first:
        x = x.transpose(1, 0, 2)
    return ragged.trim(x), unbatched, ragged


def initial_state(name: str, hx: Any, like: Tensor, B: int, H: int, parts: int, unbatched: bool,
                  rows: int | None = None) -> State:
    """The initial state given as ``hx``: ``parts`` tensors (h,) or (h, c), zeros for None.

    Each is (rows, B, H) for a layer, a row per layer and direction (rows = L*D), and
    (B, H) for a cell (``rows`` None); unbatched, ``hx`` has no B axis. ValueError: a part
    of the wrong shape, or an LSTM ``hx`` that is not a pair.
    """
    lead = () if rows is None else (rows,)
    if hx is None:
        return (Tensor.zeros(*lead, B, H, device=like.device, dtype=like.dtype),) * parts
    names = ("hx",) if parts == 1 else ("h", "c") if rows is None else ("h0", "c0")
    if parts == 2 and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
        raise ValueError(f"{name}: hx is a {type(hx).__name__}; expected a pair ({names[0]}, {names[1]}) or None")
    expected = (*lead, H) if unbatched else (*lead, B, H)
    layout = str(expected) if rows is None else \
        f"{expected} (num_layers * num_directions, {'' if unbatched else 'B, '}hidden_size)"
    given = tuple(hx) if parts == 2 else (hx,)
    return tuple(check_state(name, what, s, expected, layout).reshape(*lead, B, H)
                 for what, s in zip(names, given, strict=True))
