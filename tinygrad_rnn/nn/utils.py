"""Training utilities: gradient-norm clipping, padding ragged sequences into a batch, and
reading each sequence's last step back out."""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Sequence
from typing import Any

from ..autograd import no_grad
from ..ops import cat, stack
from ..tensor import Tensor
from .checks import check_lengths, lengths_on

CLIP_EPS = 1e-6  # keeps max_norm / (norm + eps) finite for zero gradients; PyTorch's value


def _tensors(name: str, parameters: Tensor | Iterable[Tensor]) -> list[Tensor]:
    if isinstance(parameters, Tensor):
        return [parameters]
    if hasattr(parameters, "parameters") and callable(parameters.parameters):
        raise TypeError(f"{name}: got a {type(parameters).__name__}; pass model.parameters() instead")
    try:
        params = list(parameters)
    except TypeError:
        raise TypeError(
            f"{name}: got a {type(parameters).__name__}; expected a Tensor or an iterable of Tensors"
        ) from None
    for k, p in enumerate(params):
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: element {k} is a {type(p).__name__}; expected a Tensor")
    return params


def clip_grad_norm_(parameters: Tensor | Iterable[Tensor], max_norm: float) -> float:
    """Rescale the gradients so that their joint L2 norm is at most about ``max_norm``.

    The remedy for exploding gradients: the product of Jacobians in BPTT
    (6.390 notes C.47, Vanishing gradients and gating mechanisms) can grow exponentially
    with the sequence length, and one huge step can undo all of training. Clipping keeps
    the direction of the gradient and caps its length.

    With norm = sqrt(sum over parameters p of sum(p.grad ** 2)) and
    c = max_norm / (norm + 1e-6), every gradient becomes c * p.grad when c < 1, that is
    when norm > max_norm - 1e-6, and is left alone otherwise. This is PyTorch's rule
    (its multiplication by min(c, 1)). Parameters whose ``grad`` is None are skipped.
    The scaled gradients are new tensors assigned to ``p.grad``: the old gradient
    arrays, which other tensors may share, are never written to.

    Args:
        parameters: a Tensor or an iterable of Tensors (e.g. ``model.parameters()``).
        max_norm: the largest norm to let through (>= 0).

    Returns:
        The total norm before clipping, as a Python float.

    Raises:
        ValueError: ``max_norm`` is negative or not a number.
        TypeError: ``parameters`` holds something other than Tensors.
    """
    is_number = isinstance(max_norm, numbers.Real) and not isinstance(max_norm, bool)
    limit = float(max_norm) if is_number else math.nan
    if not limit >= 0:
        raise ValueError(f"clip_grad_norm_: max_norm={max_norm!r}; expected a number >= 0")
    with_grad = [p for p in _tensors("clip_grad_norm_", parameters) if p.grad is not None]
    with no_grad():  # bookkeeping on gradients, never itself differentiated
        squares = 0.0
        for p in with_grad:
            grad = p.grad.double()  # accumulate in float64: one host float per tensor
            squares += float((grad * grad).sum().item())
        total_norm = math.sqrt(squares)
        scale = limit / (total_norm + CLIP_EPS)
        if scale < 1.0:
            for p in with_grad:
                p.grad = p.grad * scale  # a new tensor: the old gradient may be shared
    return total_norm


def pad_sequence(sequences: Sequence[Tensor], padding_value: float = 0, batch_first: bool = False) -> Tensor:
    """Stack sequences of different lengths into one batch, padding the short ones.

    Sequence b, of shape (T_b, ...), fills ``out[:T_b, b]``; ``out[T_b:, b]`` holds
    ``padding_value``. Built from ``cat`` and ``stack``, so gradients flow back to each
    sequence (the padding gets none). The lengths ``[T_b]`` are what recurrent layers
    take as ``lengths=`` to ignore the padding.

    Shapes:
        sequences: B tensors (T_b, *rest), the same ``rest`` for all.
        output: (T_max, B, *rest), or (B, T_max, *rest) with ``batch_first``.

    Raises:
        ValueError: an empty list, a 0-d tensor, or trailing shapes that differ.
        TypeError: an element is not a Tensor, or ``padding_value`` is not a number.

    Example:
        >>> import tinygrad_rnn as tr
        >>> batch = tr.nn.utils.pad_sequence([tr.Tensor([1.0, 2.0, 3.0]), tr.Tensor([4.0])])
        >>> batch.shape, batch.tolist()
        ((3, 2), [[1.0, 4.0], [2.0, 0.0], [3.0, 0.0]])
    """
    if isinstance(sequences, Tensor) or not isinstance(sequences, (list, tuple)):
        raise TypeError(f"pad_sequence: got a {type(sequences).__name__}; expected a list of Tensors")
    if not sequences:
        raise ValueError("pad_sequence: got an empty list; expected at least one sequence")
    if not isinstance(padding_value, (int, float)):
        raise TypeError(f"pad_sequence: padding_value={padding_value!r}; expected a Python number")
    seqs = _tensors("pad_sequence", sequences)
    rest = seqs[0].shape[1:] if seqs[0].ndim else None
    for k, s in enumerate(seqs):
        if s.ndim == 0 or s.shape[1:] != rest:
            raise ValueError(
                f"pad_sequence: sequence {k} has shape {s.shape} and sequence 0 has shape {seqs[0].shape}; "
                "expected shapes (T_b, *rest) with the same rest (and at least 1 dimension)"
            )
    t_max = max(s.shape[0] for s in seqs)
    padded = []
    for s in seqs:
        missing = t_max - s.shape[0]
        if missing:
            try:
                pad = Tensor.full((missing, *s.shape[1:]), padding_value, device=s.device, dtype=s.dtype)
            except ValueError:
                raise ValueError(f"pad_sequence: padding_value={padding_value!r} does not fit in dtype {s.dtype}; "
                                 "expected a smaller number") from None
            s = cat([s, pad], axis=0)
        padded.append(s)
    return stack(padded, axis=0 if batch_first else 1)


def last_step(outputs: Tensor, lengths: Any = None, batch_first: bool = False) -> Tensor:
    """Each sequence's value at its own last step: ``outputs[lengths[b] - 1, b]`` for every b.

    For a padded batch, ``outputs[-1]`` is not the final state: a recurrent layer's
    outputs (``ElmanRNN``'s states s) are 0 past each sequence's length. This picks step
    n^(b) of sequence b instead (the notes' s_{n^(b)}, 6.390 notes C.3), by indexing, so
    the gradient flows back to exactly those entries. Without ``lengths`` it is ``outputs[-1]``.

    Shapes:
        outputs: (T, B, *rest), or (B, T, *rest) with ``batch_first``.  output: (B, *rest).

    Raises:
        TypeError: outputs is not a Tensor; lengths are not ints.
        ValueError: outputs has fewer than 2 axes; lengths are not B ints in 1..T.

    Example:
        >>> import tinygrad_rnn as tr
        >>> s = tr.Tensor([[[1.0], [2.0]], [[3.0], [0.0]]])  # (T=2, B=2, 1): sequence 1 has length 1
        >>> tr.nn.utils.last_step(s, lengths=[2, 1]).tolist()
        [[3.0], [2.0]]
    """
    if not isinstance(outputs, Tensor):
        raise TypeError(f"last_step: outputs is a {type(outputs).__name__}; expected a Tensor")
    if outputs.ndim < 2:
        raise ValueError(f"last_step: outputs has shape {outputs.shape}; expected (T, B, ...) or (B, T, ...)")
    T, B = (outputs.shape[1], outputs.shape[0]) if batch_first else outputs.shape[:2]
    checked = check_lengths("last_step", lengths, T, B)
    if checked is None:  # every sequence runs all T steps
        return outputs[:, T - 1] if batch_first else outputs[T - 1]
    ends, rows = lengths_on(checked, outputs.device).long() - 1, Tensor.arange(B, device=outputs.device)
    return outputs[rows, ends] if batch_first else outputs[ends, rows]
