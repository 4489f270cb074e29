"""The losses of ``nn.functional``: the notes' per-element losses, computed for every
position of a batch at once, then reduced:

* ``reduction="none"``: one loss per position, the shape of the target;
* ``reduction="sum"``: their sum;
* ``reduction="mean"``: their mean (over non-ignored positions for the class losses,
  weighted by the class weights when there are any, as PyTorch does).

So the sequence loss and the training objective of the notes are one line each. For one
sequence with logits (T, n) and targets y (T,), the notes' prediction g_t being
softmax(logits_t):

    L_seq = cross_entropy(logits, y, reduction="sum")   # sum_t L_elt(g_t, y_t)  (6.390 notes C.15)

and for q sequences padded to T steps, logits (T, q, n), y (T, q) holding ``PAD``
after each sequence's end:

    J = cross_entropy(logits, y, reduction="sum", ignore_index=PAD) / q   # (6.390 notes C.16)

``reduction="mean"`` would instead divide by the number of real time steps, not by q.
The class losses take the classes on the LAST axis (PyTorch's functions take them on
axis 1; the loss modules of ``nn.loss`` take PyTorch's layout). Every loss is composite
(built from Tensor ops), so its gradient comes from the tape.
"""

from __future__ import annotations

from typing import Any

from ..ops import where
from ..tensor import Tensor
from .checks import (
    check_ignore_index,
    check_reduction,
    check_smoothing,
    class_target,
    constant_weight,
    first_out_of_range,
    float_target,
    is_integer,
)

IGNORE_INDEX = -100  # PyTorch's default ignore_index: never a class, so ignoring it costs nothing


def _reduce(loss: Tensor, reduction: str) -> Tensor:
    if reduction == "sum":
        return loss.sum()
    if reduction == "mean":
        return loss.mean()
    return loss


def _class_indices(name: str, target: Tensor, n_classes: int, ignore: int | None) -> tuple[Tensor, Tensor | None]:
    """Flat int64 class indices, and the mask of positions kept (None when none is ignored).

    An ``ignore_index`` outside [0, n_classes) (PyTorch's -100) can only appear as an
    out-of-range index, so the range check that runs anyway tells whether any position is
    ignored: without one, the loss is the unmasked one, at no cost.

    Raises:
        IndexError: a class index outside [0, n_classes - 1] that is not ``ignore``.
    """
    classes = target.reshape(-1).long()  # 64 bits: uint8 255 stays 255, and -100 compares as -100
    masked = ignore is not None and 0 <= ignore < n_classes
    bad = None if masked else first_out_of_range(classes, n_classes)
    keep = None
    if masked or (ignore is not None and bad == ignore):
        keep = classes != ignore
        classes = where(keep, classes, 0)  # ignored positions read class 0, weighted 0 by the caller
        bad = first_out_of_range(classes, n_classes)
    if bad is not None:
        also = f" (or ignore_index={ignore})" if ignore is not None else ""
        raise IndexError(
            f"{name}: target holds class index {bad}, but the input has n_classes="
            f"{n_classes} on its last axis; expected indices in [0, {n_classes - 1}]{also}"
        )
    return classes, keep


def _nll(name: str, log_probs: Tensor, target: Any, reduction: str, ignore_index: Any,
         weight: Any = None, smoothing: float = 0.0) -> Tensor:
    """L_i = (1 - eps) * w[y_i] * (-log_probs[i, y_i]) + (eps / n) * sum_c w[c] * (-log_probs[i, c]).

    "mean" divides by the sum of w[y_i] over the kept positions (their count without
    weights): PyTorch's rule, also for the smoothing term.
    """
    check_reduction(name, reduction)
    target = class_target(name, log_probs, target)
    ignore = check_ignore_index(name, ignore_index)
    n_classes = log_probs.shape[-1]
    w = constant_weight(name, "weight", weight, log_probs, (n_classes,))
    classes, keep = _class_indices(name, target, n_classes, ignore)
    n = classes.shape[0]
    flat = log_probs.reshape(n, n_classes)
    loss = -flat[Tensor.arange(n, device=log_probs.device), classes]  # L_elt = -log g_t[y_t], shape (n,)
    w_i = None if w is None else w[classes]
    if w_i is not None:
        loss = loss * w_i
    if smoothing:
        spread = -(flat * w).sum(axis=-1) if w is not None else -flat.sum(axis=-1)
        loss = loss * (1.0 - smoothing) + spread * (smoothing / n_classes)
    if keep is not None:
        loss = where(keep, loss, 0.0)
    if reduction == "none":
        return loss.reshape(target.shape)
    if reduction == "sum":
        return loss.sum()
    if w_i is None and keep is None:
        return loss.sum() / n
    total = w_i if w_i is not None else Tensor.ones(n, device=loss.device, dtype=loss.dtype)
    total = where(keep, total, 0.0) if keep is not None else total
    return loss.sum() / total.sum()  # a constant: NaN when every position is ignored, as in PyTorch


def nll_loss(log_probs: Tensor, target: Any, reduction: str = "mean", ignore_index: int | None = IGNORE_INDEX,
             *, weight: Any = None) -> Tensor:
    """Negative log-likelihood of class indices: L = -weight[y] * log_probs[..., y].

    The notes' NLL per-element loss L_elt(g_t, y_t) = -log g_t[y_t] when ``log_probs``
    holds log g_t (e.g. ``g.log()`` of a softmax output, or ``x.log_softmax()``).

    Shapes:
        log_probs: (..., n_classes), classes on the LAST axis (PyTorch puts them on axis 1;
            ``nn.NLLLoss`` takes PyTorch's layout).
        target: (...), integer class indices.  weight: (n_classes,).
        output: () for "mean" and "sum"; (...) for "none" (0 at ignored positions).

    Args:
        log_probs: log-probabilities.
        target: class indices in [0, n_classes - 1] (or ``ignore_index``).
        reduction: "mean", "sum" or "none".
        ignore_index: a target value that contributes no loss and no gradient; "mean"
            averages over the other positions only, as PyTorch does (NaN when all are
            ignored). PyTorch's default, -100; None ignores nothing.
        weight: optional per-class weights (a constant); "mean" then divides by the
            sum of the kept positions' weights, as PyTorch does.

    Returns:
        The reduced loss, or the per-position losses for "none".

    Raises:
        ValueError: an unknown ``reduction``; target shape is not ``log_probs.shape[:-1]``;
            ``weight`` not of shape (n_classes,).
        TypeError: a non-integer target.
        IndexError: a class index outside [0, n_classes - 1] (the value is named).
    """
    return _nll("nll_loss", log_probs, target, reduction, ignore_index, weight)


def cross_entropy(logits: Tensor, target: Any, reduction: str = "mean", ignore_index: int | None = IGNORE_INDEX,
                  *, weight: Any = None, label_smoothing: float = 0.0) -> Tensor:
    """Softmax cross-entropy: L = -log softmax(logits)[..., y] for class indices y.

    With f_o = softmax, g_t = softmax(logits_t) is the notes' prediction and this is
    L_elt(g_t, y_t) = -log g_t[y_t] (the NLL loss the notes pair with softmax), computed
    as ``nll_loss(logits.log_softmax(axis=-1), ...)``: stable for logits of +-1e4 in
    float32, and its gradient is softmax(logits) - onehot(y).

    One sequence, logits (T, n), y (T,):
        L_seq = cross_entropy(logits, y, reduction="sum")                    (6.390 notes C.15)
    q padded sequences, logits (T, q, n), y (T, q) with PAD past each end:
        J = cross_entropy(logits, y, reduction="sum", ignore_index=PAD) / q  (6.390 notes C.16)

    As in PyTorch, the target may instead hold class probabilities p (floats, the
    logits' shape): L = -sum_c weight[c] * p[..., c] * log softmax(logits)[..., c], and
    "mean" divides by the number of positions. ``label_smoothing`` eps replaces the target
    distribution by (1 - eps) * target + eps / n_classes.

    Shapes:
        logits: (..., n_classes), classes on the LAST axis (``nn.CrossEntropyLoss`` takes
            PyTorch's layout, classes on axis 1).
        target: (...) integer class indices, or (..., n_classes) probabilities.
        weight: (n_classes,).  output: () for "mean" and "sum"; (...) for "none".

    Args:
        logits: unnormalised scores.
        target: class indices in [0, n_classes - 1] (or ``ignore_index``), or probabilities.
        reduction: "mean", "sum" or "none".
        ignore_index: a target value that contributes no loss and no gradient; "mean"
            averages over the other positions only (NaN when all are ignored). PyTorch's
            default, -100; None ignores nothing. Unused with probability targets.
        weight: optional per-class weights (a constant); "mean" over class indices then
            divides by the sum of the kept positions' weights, as PyTorch does.
        label_smoothing: eps in [0, 1].

    Returns:
        The reduced loss, or the per-position losses for "none".

    Raises:
        ValueError: an unknown ``reduction`` or ``label_smoothing``; a target shape that
            is neither ``logits.shape[:-1]`` nor ``logits.shape``; a mis-shaped ``weight``.
        TypeError: a float target that is not the logits' shape.
        IndexError: a class index outside [0, n_classes - 1] (the value is named).
    """
    eps = check_smoothing("cross_entropy", label_smoothing)
    if isinstance(target, Tensor) and not is_integer(target) and isinstance(logits, Tensor) \
            and target.shape == logits.shape and logits.ndim > 0:
        return _soft_cross_entropy(logits, target, reduction, weight, eps)
    class_target("cross_entropy", logits, target)  # check before log_softmax, to name this function
    return _nll("cross_entropy", logits.log_softmax(axis=-1), target, reduction, ignore_index, weight, eps)


def _soft_cross_entropy(logits: Tensor, target: Tensor, reduction: str, weight: Any, eps: float) -> Tensor:
    check_reduction("cross_entropy", reduction)
    if target.device != logits.device:
        raise RuntimeError(f"cross_entropy: target is on {target.device!r} but the input is on {logits.device!r}; "
                           "expected one device")
    n_classes = logits.shape[-1]
    w = constant_weight("cross_entropy", "weight", weight, logits, (n_classes,))
    p = target.astype(logits.dtype)
    if eps:
        p = p * (1.0 - eps) + eps / n_classes
    if w is not None:
        p = p * w
    return _reduce(-(logits.log_softmax(axis=-1) * p).sum(axis=-1), reduction)


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
    check_reduction("mse_loss", reduction)
    diff = pred - float_target("mse_loss", pred, target)
    return _reduce(diff * diff, reduction)


def binary_cross_entropy_with_logits(logits: Tensor, target: Any, reduction: str = "mean", *,
                                     weight: Any = None, pos_weight: Any = None) -> Tensor:
    """Sigmoid cross-entropy: L = -w [p y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].

    With softplus(x) = log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), which never
    exponentiates a positive number (logits of +-1e4 stay finite), this is
    L = w [(1 + (p - 1) y) softplus(x) - p y x]; for p = w = 1, softplus(x) - x y. Both
    kinked pieces take their x >= 0 branch at x = 0, so the tape's gradient is
    sigmoid(x) - y everywhere, x = 0 included. With f_o = sigmoid this is the notes'
    NLL loss for a 0/1 target.

    Shapes:
        logits, target: the same shape (...); ``weight`` and ``pos_weight`` broadcast to
        it (``pos_weight`` (n_classes,) weighs each class's positive examples);
        output () or (...) for "none".

    Args:
        logits: unnormalised scores x (the sigmoid's input).
        target: probabilities y in [0, 1] (usually 0/1 labels).
        reduction: "mean", "sum" or "none".
        weight: optional weight w of each entry's loss (a constant).
        pos_weight: optional weight p of the positive term (a constant), PyTorch's.

    Returns:
        The reduced loss, or the per-entry losses for "none".

    Raises:
        ValueError: an unknown ``reduction``; shapes differ (both are named).
    """
    name = "binary_cross_entropy_with_logits"
    check_reduction(name, reduction)
    target = float_target(name, logits, target)
    w = constant_weight(name, "weight", weight, logits, None)
    p = constant_weight(name, "pos_weight", pos_weight, logits, None)
    nonneg = logits.detach() >= 0
    max_x_0 = where(nonneg, logits, 0.0)
    minus_abs_x = where(nonneg, -logits, logits)
    softplus = max_x_0 + (minus_abs_x.exp() + 1.0).log()
    if p is None:
        loss = softplus - logits * target
    else:
        py = p * target
        loss = (py - target + 1.0) * softplus - py * logits
    return _reduce(loss if w is None else loss * w, reduction)
