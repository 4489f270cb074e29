"""AdamW: Adam whose weight decay shrinks the weights instead of adding to the gradient."""

from __future__ import annotations

from typing import Any

from .adam import Adam
from .optimizer import ParamsT


class AdamW(Adam):
    """AdamW (Loshchilov & Hutter, 2019) with PyTorch's semantics.

    With plain Adam an L2 penalty's gradient ``weight_decay * p`` is divided by
    sqrt(v_hat) like the rest of the gradient, so weights with large gradients are
    barely decayed. AdamW decouples the two: the weights shrink by a fixed fraction
    ``lr * weight_decay`` each step, and the moments see only the loss's gradient. Per
    parameter p with gradient grad, at its step t = 1, 2, ...:

        d     = grad   (-grad with maximize=True)
        p     = p * (1 - lr * weight_decay)              (decoupled weight decay)
        m     = beta1 * m + (1 - beta1) * d              (first moment, m_0 = 0)
        v     = beta2 * v + (1 - beta2) * d^2            (second moment, v_0 = 0)
        v_max = max(v_max, v);  v = v_max                (only with amsgrad=True)
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)   (bias correction)
        p     = p - lr * m_hat / (sqrt(v_hat) + eps)

    It is ``Adam(..., decoupled_weight_decay=True)`` with a default ``weight_decay`` of
    0.01, as in PyTorch; its groups always keep ``decoupled_weight_decay=True``.

    Args:
        params: iterable of parameters, e.g. ``model.parameters()``, or of parameter-group
            dicts.
        lr: step size (>= 0).
        betas: (beta1, beta2), each in [0, 1).
        eps: added to sqrt(v_hat) (>= 0).
        weight_decay: fraction of lr by which the weights shrink per step (>= 0).
        amsgrad: divide by the largest v seen so far.
        maximize: ascend the objective instead of descending.

    Raises:
        ValueError: a hyperparameter out of range (name, value and range are given).

    Example:
        >>> import tinygrad_rnn as tr
        >>> w = tr.Tensor([1.0, -2.0], dtype="float64", requires_grad=True)
        >>> opt = tr.optim.AdamW([w], lr=0.1, weight_decay=0.5)
        >>> w.grad = tr.Tensor([0.0, 0.0], dtype="float64")  # no loss: only the decay acts
        >>> opt.step()
        >>> w.tolist()  # each weight times 1 - 0.1 * 0.5
        [0.95, -1.9]
    """

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True)

    def check(self, group: dict[str, Any], where: str) -> None:
        group["decoupled_weight_decay"] = True  # as PyTorch's AdamW, whatever a loaded state dict says
        super().check(group, where)
