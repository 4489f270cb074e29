"""Loss modules with PyTorch's names, arguments, defaults and input layout.

``criterion = nn.CrossEntropyLoss(ignore_index=PAD); loss = criterion(logits, y)`` as in
a PyTorch script. Unlike the functions of ``nn.functional`` (classes on the last axis),
the class losses here take PyTorch's layout: input (C,), (N, C) or (N, C, d1, ...) with
the classes on axis 1, target (), (N,) or (N, d1, ...). They move the class axis last and
call the functions, so the values, reductions and gradients are those functions'.
Class weights (``weight``, ``pos_weight``) are buffers, as in PyTorch: in
``state_dict()`` and moved by ``to()``.

    >>> from tinygrad_rnn import Tensor, nn
    >>> criterion = nn.CrossEntropyLoss()
    >>> logits = Tensor([[0.0, 0.0], [0.0, 0.0]], requires_grad=True)
    >>> round(criterion(logits, Tensor([0, 1])).item(), 4)   # log 2
    0.6931
"""

from __future__ import annotations

from typing import Any

from ..tensor import Tensor
from . import loss_functions as LF
from .checks import check_reduction, check_smoothing
from .module import Module


class _Loss(Module):
    def __init__(self, size_average: Any = None, reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__()
        name = type(self).__name__
        if size_average is not None or reduce is not None:
            raise TypeError(f"{name}: size_average and reduce are PyTorch's deprecated arguments, not supported "
                            "here; expected reduction='mean', 'sum' or 'none' instead")
        check_reduction(name, reduction)
        self.reduction = reduction

    def _weight_buffer(self, name: str, value: Any) -> None:
        if value is not None and not isinstance(value, Tensor):
            value = Tensor(value)
        self.register_buffer(name, value)


def _classes_last(name: str, x: Any, target: Any) -> tuple[Tensor, Any]:
    """PyTorch's (N, C, d1, ...) input as (N, d1, ..., C); a float target of the input's
    shape (class probabilities) moves along. (C,) and (N, C) are already in place."""
    if not isinstance(x, Tensor) or x.ndim == 0:
        given = x.shape if isinstance(x, Tensor) else type(x).__name__
        raise ValueError(f"{name}: input is {given}; expected a Tensor (C,), (N, C) or (N, C, d1, ...), "
                         "classes on axis 1 as in PyTorch")
    if x.ndim <= 2:
        return x, target
    t = target if isinstance(target, Tensor) else Tensor(target, device=x.device)
    order = (0, *range(2, x.ndim), 1)
    if t.dtype.kind == "f" and t.shape == x.shape:
        return x.transpose(*order), t.transpose(*order)
    if t.dtype.kind in "iu" and t.shape != (x.shape[0], *x.shape[2:]):
        raise ValueError(f"{name}: input has shape {x.shape} (N, C, d1, ...) and target has shape {t.shape}; "
                         f"expected target shape {(x.shape[0], *x.shape[2:])} (N, d1, ...), as in PyTorch")
    return x.transpose(*order), t


class CrossEntropyLoss(_Loss):
    """Softmax cross-entropy of class indices (or class probabilities), PyTorch's layout.

    L_i = -weight[y_i] * log softmax(x_i)[y_i], with label smoothing eps mixing in
    eps / C of every class; "mean" divides by the sum of weight[y_i] over non-ignored
    positions (their count without weights). See ``nn.functional.cross_entropy``.

    Shapes:
        input: (C,), (N, C) or (N, C, d1, ...) - classes on axis 1.
        target: (), (N,) or (N, d1, ...) class indices; or probabilities of the input's shape.
        output: () for "mean" and "sum"; the target's shape (without C) for "none".

    Args:
        weight: optional per-class weights (C,), a buffer.
        size_average, reduce: PyTorch's deprecated arguments; refused unless None.
        ignore_index: a target value that adds no loss and no gradient (PyTorch's -100).
        reduction: "mean", "sum" or "none".
        label_smoothing: eps in [0, 1].

    Raises:
        ValueError, TypeError, IndexError: as ``nn.functional.cross_entropy``, with shapes
            named in PyTorch's layout.
    """

    def __init__(self, weight: Any = None, size_average: Any = None, ignore_index: int = LF.IGNORE_INDEX,
                 reduce: Any = None, reduction: str = "mean", label_smoothing: float = 0.0) -> None:
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)
        self.ignore_index = ignore_index
        self.label_smoothing = check_smoothing(type(self).__name__, label_smoothing)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002 (PyTorch's name)
        x, t = _classes_last("CrossEntropyLoss", input, target)
        return LF.cross_entropy(x, t, self.reduction, self.ignore_index, weight=self.weight,
                                label_smoothing=self.label_smoothing)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices, PyTorch's layout: L_i = -weight[y_i] * x_i[y_i].

    The input holds log-probabilities (e.g. from ``nn.LogSoftmax(dim=1)``). See
    ``nn.functional.nll_loss``.

    Shapes:
        input: (C,), (N, C) or (N, C, d1, ...) - classes on axis 1.
        target: (), (N,) or (N, d1, ...) class indices.
        output: () for "mean" and "sum"; the target's shape for "none".

    Args:
        weight: optional per-class weights (C,), a buffer.
        size_average, reduce: PyTorch's deprecated arguments; refused unless None.
        ignore_index: a target value that adds no loss and no gradient (PyTorch's -100).
        reduction: "mean", "sum" or "none".
    """

    def __init__(self, weight: Any = None, size_average: Any = None, ignore_index: int = LF.IGNORE_INDEX,
                 reduce: Any = None, reduction: str = "mean") -> None:
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)
        self.ignore_index = ignore_index

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        x, t = _classes_last("NLLLoss", input, target)
        return LF.nll_loss(x, t, self.reduction, self.ignore_index, weight=self.weight)


class MSELoss(_Loss):
    """Squared error per entry, L = (input - target)^2, then reduced.

    Shapes:
        input, target: the same shape; output () or that shape for "none".

    Args:
        size_average, reduce: PyTorch's deprecated arguments; refused unless None.
        reduction: "mean", "sum" or "none".
    """

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return LF.mse_loss(input, target, self.reduction)


class BCEWithLogitsLoss(_Loss):
    """Sigmoid cross-entropy, stable for any logits (see
    ``nn.functional.binary_cross_entropy_with_logits``):
    L = -weight [pos_weight y log sigmoid(x) + (1 - y) log(1 - sigmoid(x))].

    Shapes:
        input, target: the same shape (..., C); ``weight`` broadcasts to it,
        ``pos_weight`` (C,) along the last axis; output () or that shape for "none".

    Args:
        weight: optional weight of each entry's loss, a buffer.
        size_average, reduce: PyTorch's deprecated arguments; refused unless None.
        reduction: "mean", "sum" or "none".
        pos_weight: optional weight of the positive examples of each class, a buffer.
    """

    def __init__(self, weight: Any = None, size_average: Any = None, reduce: Any = None,
                 reduction: str = "mean", pos_weight: Any = None) -> None:
        super().__init__(size_average, reduce, reduction)
        self._weight_buffer("weight", weight)
        self._weight_buffer("pos_weight", pos_weight)

    def forward(self, input: Tensor, target: Any) -> Tensor:  # noqa: A002
        return LF.binary_cross_entropy_with_logits(input, target, self.reduction, weight=self.weight,
                                                   pos_weight=self.pos_weight)
