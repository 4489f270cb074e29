"""Stateless functions of layers: losses, dropout, activations by name.

The losses are the notes' per-element losses L_elt(g_t, y_t), computed for every
position of a batch at once, then reduced:

* ``reduction="none"``: one loss per position, the shape of the target;
* ``reduction="sum"``: their sum;
* ``reduction="mean"``: their mean (over non-ignored positions for the class losses).

So the sequence loss and the training objective of the notes are one line each. For one
sequence with logits (T, n) and targets y (T,), the notes' prediction g_t being
softmax(logits_t):

    L_seq = cross_entropy(logits, y, reduction="sum")   # sum_t L_elt(g_t, y_t)  (6.390 notes C.15)

and for q sequences padded to T steps, logits (T, q, n), y (T, q) holding ``PAD``
after each sequence's end:

    J = cross_entropy(logits, y, reduction="sum", ignore_index=PAD) / q   # (6.390 notes C.16)

``reduction="mean"`` would instead divide by the number of real time steps, not by q.
Every loss is composite (built from Tensor ops), so its gradient comes from the tape.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..ops import where
from ..tensor import Tensor
from .attention_functional import attention_weights, lengths_to_padding_mask, scaled_dot_product_attention  # noqa: F401
from .checks import check_ignore_index, first_out_of_range, is_integer
from .transformer_functional import gelu, layer_norm  # noqa: F401 (nn.functional.gelu, as the attention names above)


def dropout(x: Tensor, p: float = 0.5, training: bool = True) -> Tensor:
    """Inverted dropout: zero each entry with probability ``p``, scale the rest by 1/(1-p).

    The identity when ``training`` is False or ``p`` is 0. The mask is drawn on x's device
    from the library's generator (``tr.manual_seed``).

    Raises:
        ValueError: ``p`` is not in [0, 1).
    """
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0.0 <= p < 1.0:
        raise ValueError(f"dropout: p={p!r}; expected a probability in [0, 1)")
    if not isinstance(x, Tensor):
        raise TypeError(f"dropout: x is a {type(x).__name__}; expected a Tensor")
    if not training or p == 0.0:
        return x
    keep = 1.0 - p
    mask = Tensor.rand(*x.shape, device=x.device, dtype=x.dtype) < keep
    return where(mask, x * (1.0 / keep), 0.0)


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


# ------------------------------------------------------------------------- losses
REDUCTIONS = ("mean", "sum", "none")


def _check_reduction(name: str, reduction: Any) -> None:
    if reduction not in REDUCTIONS:
        raise ValueError(f"{name}: reduction={reduction!r}; expected one of {list(REDUCTIONS)}")


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


def _float_target(name: str, x: Tensor, target: Any) -> Tensor:
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


def _class_target(name: str, x: Tensor, target: Any) -> Tensor:
    """Integer class indices, one per position of ``x`` without its last (class) axis."""
    if not isinstance(x, Tensor) or x.ndim == 0 or x.shape[-1] == 0:
        shape = x.shape if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name}: input is {shape}; expected a Tensor (..., n_classes) with n_classes >= 1")
    if not isinstance(target, Tensor):
        target = Tensor(target, device=x.device)
    if target.device != x.device:
        raise RuntimeError(f"{name}: target is on {target.device!r} but the input is on {x.device!r}; expected one device")
    if not is_integer(target):
        raise TypeError(
            f"{name}: target has dtype {target.dtype}; expected integer class indices "
            "(classes are on the last axis of the input)"
        )
    if target.shape != x.shape[:-1]:
        raise ValueError(
            f"{name}: input has shape {x.shape} (classes on the last axis) and target has shape "
            f"{target.shape}; expected target shape {x.shape[:-1]}"
        )
    return target


def _check_classes(name: str, classes: Tensor, n_classes: int, ignore_index: int | None) -> None:
    """Raise ``IndexError`` naming the first out-of-range class index."""
    bad = first_out_of_range(classes, n_classes)
    if bad is not None:
        also = f" (or ignore_index={ignore_index})" if ignore_index is not None else ""
        raise IndexError(
            f"{name}: target holds class index {bad}, but the input has n_classes="
            f"{n_classes} on its last axis; expected indices in [0, {n_classes - 1}]{also}"
        )


def _nll(name: str, log_probs: Tensor, target: Any, reduction: str, ignore_index: int | None) -> Tensor:
    _check_reduction(name, reduction)
    target = _class_target(name, log_probs, target)
    ignore_index = check_ignore_index(name, ignore_index)
    n_classes = log_probs.shape[-1]
    classes = target.reshape(-1).long()  # 64 bits: uint8 255 stays 255, and -100 compares as -100
    n = classes.shape[0]
    if ignore_index is not None:
        keep = classes != ignore_index
        classes = where(keep, classes, 0)  # ignored positions read class 0, weighted 0 below
    _check_classes(name, classes, n_classes, ignore_index)
    rows = Tensor.arange(n, device=log_probs.device)
    loss = -log_probs.reshape(n, n_classes)[rows, classes]  # L_elt = -log g_t[y_t], shape (n,)
    count: Any = n
    if ignore_index is not None:
        loss = where(keep, loss, 0.0)
        count = Tensor.ones(n, device=loss.device, dtype=loss.dtype)
        count = where(keep, count, 0.0).sum()  # a constant: the mean is over non-ignored positions (NaN if none)
    if reduction == "none":
        return loss.reshape(target.shape)
    if reduction == "sum":
        return loss.sum()
    return loss.sum() / count


def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean", ignore_index: int | None = None) -> Tensor:
    """Negative log-likelihood of class indices: L = -log_probs[..., y].

    The notes' NLL per-element loss L_elt(g_t, y_t) = -log g_t[y_t] when ``log_probs``
    holds log g_t (e.g. ``g.log()`` of a softmax output, or ``x.log_softmax()``).

    Shapes:
        log_probs: (..., n_classes), classes on the LAST axis (PyTorch puts them on axis 1).
        target: (...), integer class indices.
        output: () for "mean" and "sum"; (...) for "none" (0 at ignored positions).

    Returns:
        The reduced loss, or the per-position losses for "none".

    Args:
        log_probs: log-probabilities.
        target: class indices in [0, n_classes - 1] (or ``ignore_index``).
        reduction: "mean", "sum" or "none".
        ignore_index: a target value that contributes no loss and no gradient; "mean"
            averages over the other positions only, as PyTorch does (NaN when all are
            ignored).

    Raises:
        ValueError: an unknown ``reduction``; target shape is not ``log_probs.shape[:-1]``.
        TypeError: a non-integer target.
        IndexError: a class index outside [0, n_classes - 1] (the value is named).
    """
    return _nll("nll_loss", log_probs, target, reduction, ignore_index)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean", ignore_index: int | None = None) -> Tensor:
    """Softmax cross-entropy of class indices: L = -log softmax(logits)[..., y].

    With f_o = softmax, g_t = softmax(logits_t) is the notes' prediction and this is
    L_elt(g_t, y_t) = -log g_t[y_t] (the NLL loss the notes pair with softmax), computed
    as ``nll_loss(logits.log_softmax(axis=-1), ...)``: stable for logits of +-1e4 in
    float32, and its gradient is softmax(logits) - onehot(y).

    One sequence, logits (T, n), y (T,):
        L_seq = cross_entropy(logits, y, reduction="sum")                    (6.390 notes C.15)
    q padded sequences, logits (T, q, n), y (T, q) with PAD past each end:
        J = cross_entropy(logits, y, reduction="sum", ignore_index=PAD) / q  (6.390 notes C.16)

    Shapes:
        logits: (..., n_classes), classes on the LAST axis.
        target: (...), integer class indices.
        output: () for "mean" and "sum"; (...) for "none".

    Returns:
        The reduced loss, or the per-position losses for "none".

    Args:
        logits: unnormalised scores.
        target: class indices in [0, n_classes - 1] (or ``ignore_index``).
        reduction: "mean", "sum" or "none".
        ignore_index: a target value that contributes no loss and no gradient; "mean"
            averages over the other positions only (NaN when all are ignored).

    Raises:
        ValueError: an unknown ``reduction``; target shape is not ``logits.shape[:-1]``.
        TypeError: a non-integer target.
        IndexError: a class index outside [0, n_classes - 1] (the value is named).
    """
    _class_target("cross_entropy", logits, target)  # check before log_softmax, to name this function
    return _nll("cross_entropy", logits.log_softmax(axis=-1), target, reduction, ignore_index)


def mse_loss(pred: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Squared error per entry: L = (pred - target)^2.

    The notes' squared per-element loss; ``mse_loss(g, y, reduction="sum")`` over a
    sequence's outputs (T, n) is L_seq = sum_t ||g_t - y_t||^2 (6.390 notes C.15).

    Shapes:
        pred, target: the same shape (...); output () or (...) for "none".

    Args:
        pred: predictions (the notes' g_t).  reduction: "mean", "sum" or "none".
        target: targets y_t (a Tensor, or an array or list, converted to pred's dtype).

    Returns:
        The reduced loss (for "none", one loss per entry, the shape of pred).

    Raises:
        ValueError: an unknown ``reduction``, or pred and target shapes that differ.
    """
    _check_reduction("mse_loss", reduction)
    diff = pred - _float_target("mse_loss", pred, target)
    return _reduce(diff * diff, reduction)


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean") -> Tensor:
    """Sigmoid cross-entropy: L = -[y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].

    Computed as L = max(x, 0) - x y + log(1 + exp(-|x|)), which never exponentiates a
    positive number, so logits of +-1e4 stay finite. Both kinked pieces take their
    x >= 0 branch at x = 0, so the tape's gradient is sigmoid(x) - y everywhere,
    x = 0 included. With f_o = sigmoid this is the notes' NLL loss for a 0/1 target.

    Shapes:
        logits, target: the same shape (...); output () or (...) for "none".

    Args:
        logits: unnormalised scores x (the sigmoid's input).
        target: probabilities y in [0, 1] (usually 0/1 labels).
        reduction: "mean", "sum" or "none".

    Returns:
        The reduced loss, or the per-entry losses for "none".

    Raises:
        ValueError: an unknown ``reduction``; shapes differ (both are named).
    """
    _check_reduction("binary_cross_entropy_with_logits", reduction)
    target = _float_target("binary_cross_entropy_with_logits", logits, target)
    nonneg = logits.detach() >= 0
    max_x_0 = where(nonneg, logits, 0.0)
    minus_abs_x = where(nonneg, -logits, logits)
    loss = max_x_0 - logits * target + (minus_abs_x.exp() + 1.0).log()
    return _reduce(loss, reduction)
