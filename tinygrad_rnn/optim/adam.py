"""Adam: per-weight adaptive step sizes from running moments of the gradient."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

from ..tensor import Tensor
from .optimizer import Optimizer, check_hyper


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with PyTorch's semantics.

    Each weight gets its own step size, scaled by a running estimate of its gradient's
    magnitude: the "per-weight adaptive step sizes" the notes recall when they discuss
    exploding and vanishing gradients (6.390 notes C.6, Vanishing gradients and gating
    mechanisms). Per parameter p with gradient grad, at its step t = 1, 2, ...:

        d     = grad + weight_decay * p
        m     = beta1 * m + (1 - beta1) * d              (first moment, m_0 = 0)
        v     = beta2 * v + (1 - beta2) * d^2            (second moment, v_0 = 0)
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)   (bias correction)
        p     = p - lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        params: iterable of parameters, e.g. ``model.parameters()``.
        lr: step size (>= 0).
        betas: (beta1, beta2), each in [0, 1).
        eps: added to sqrt(v_hat) (>= 0).
        weight_decay: L2 penalty coefficient (>= 0), added to the gradient as in PyTorch.

    Raises:
        ValueError: a hyperparameter out of range (name, value and range are given).
    """

    hyper_names = ("lr", "betas", "eps", "weight_decay")
    state_names = ("exp_avg", "exp_avg_sq")
    counter_names = ("step",)

    def __init__(
        self,
        params: Iterable[Tensor],
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
    ) -> None:
        super().__init__(params)
        self.lr, self.betas, self.eps, self.weight_decay = lr, betas, eps, weight_decay
        self.validate()

    def validate(self) -> None:
        self.lr = check_hyper("Adam", "lr", self.lr)
        try:
            beta1, beta2 = self.betas
        except (TypeError, ValueError):
            raise ValueError(f"Adam: betas={self.betas!r}; expected a pair (beta1, beta2) in [0, 1)") from None
        self.betas = (check_hyper("Adam", "betas[0]", beta1, high=1.0), check_hyper("Adam", "betas[1]", beta2, high=1.0))
        self.eps = check_hyper("Adam", "eps", self.eps)
        self.weight_decay = check_hyper("Adam", "weight_decay", self.weight_decay)

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any]) -> None:
        beta1, beta2 = self.betas
        d = grad + p * self.weight_decay if self.weight_decay else grad
        step = state["step"] = state.get("step", 0) + 1
        m = self.buffer(p, state, "exp_avg").mul_(beta1).add_(d, alpha=1.0 - beta1)
        v = self.buffer(p, state, "exp_avg_sq").mul_(beta2).add_(d * d, alpha=1.0 - beta2)
        correction1 = 1.0 - beta1**step
        correction2 = 1.0 - beta2**step
        # PyTorch's arrangement of the same formula: lr / c1 * m / (sqrt(v) / sqrt(c2) + eps)
        denominator = v.sqrt().div_(math.sqrt(correction2)).add_(self.eps)
        p.sub_(m.clone().mul_(self.lr / correction1).div_(denominator))
