"""Adam: per-weight adaptive step sizes from running moments of the gradient."""

from __future__ import annotations

from typing import Any

from ..ops import where
from ..tensor import Tensor
from .optimizer import Optimizer, ParamsT, check_flag, check_hyper, lerp_, square_average_


class Adam(Optimizer):
    """Adam (Kingma & Ba, 2015) with PyTorch's semantics.

    Each weight gets its own step size, scaled by a running estimate of its gradient's
    magnitude: the "per-weight adaptive step sizes" the notes recall when they discuss
    exploding and vanishing gradients (6.390 notes C.6, Vanishing gradients and gating
    mechanisms). Per parameter p with gradient grad, at its step t = 1, 2, ...:

        d     = grad   (-grad with maximize=True)
        d     = d + weight_decay * p             (L2 penalty; with decoupled_weight_decay
                                                  instead p = p * (1 - lr * weight_decay))
        m     = beta1 * m + (1 - beta1) * d              (first moment, m_0 = 0)
        v     = beta2 * v + (1 - beta2) * d^2            (second moment, v_0 = 0)
        v_max = max(v_max, v);  v = v_max                (only with amsgrad=True)
        m_hat = m / (1 - beta1^t),  v_hat = v / (1 - beta2^t)   (bias correction)
        p     = p - lr * m_hat / (sqrt(v_hat) + eps)

    Args:
        params: iterable of parameters, e.g. ``model.parameters()``, or of parameter-group
            dicts.
        lr: step size (>= 0).
        betas: (beta1, beta2), each in [0, 1).
        eps: added to sqrt(v_hat) (>= 0).
        weight_decay: L2 penalty coefficient (>= 0), added to the gradient as in PyTorch.
        amsgrad: divide by the largest v seen so far (Reddi et al., 2018).
        maximize: ascend the objective instead of descending.
        decoupled_weight_decay: shrink the weights directly instead of adding the L2
            gradient (this makes Adam the :class:`AdamW` algorithm, as in PyTorch).

    Raises:
        ValueError: a hyperparameter out of range (name, value and range are given).
    """

    option_names = ("lr", "betas", "eps", "weight_decay", "amsgrad", "maximize", "decoupled_weight_decay")
    late_options = {"amsgrad": False, "maximize": False, "decoupled_weight_decay": False}
    state_names = ("exp_avg", "exp_avg_sq", "max_exp_avg_sq")
    counter_names = ("step",)

    def __init__(
        self,
        params: ParamsT,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0.0,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, decoupled_weight_decay=decoupled_weight_decay))

    def check(self, group: dict[str, Any], where: str) -> None:
        super().check(group, where)
        who = self._who(where)
        betas = group["betas"]
        if not isinstance(betas, (tuple, list)) or len(betas) != 2:
            raise ValueError(f"{who}: betas={betas!r}; expected a pair (beta1, beta2) in [0, 1)")
        group["betas"] = (check_hyper(who, "betas[0]", betas[0], high=1.0), check_hyper(who, "betas[1]", betas[1], high=1.0))
        group["eps"] = check_hyper(who, "eps", group["eps"])
        group["weight_decay"] = check_hyper(who, "weight_decay", group["weight_decay"])
        for name in ("amsgrad", "maximize", "decoupled_weight_decay"):
            group[name] = check_flag(who, name, group[name])

    def required_state(self, group: dict[str, Any]) -> tuple[str, ...]:
        return ("step", "exp_avg", "exp_avg_sq") + (("max_exp_avg_sq",) if group["amsgrad"] else ())

    def update(self, p: Tensor, grad: Tensor, state: dict[str, Any], group: dict[str, Any]) -> None:
        lr, (beta1, beta2), weight_decay = group["lr"], group["betas"], group["weight_decay"]
        d = -grad if group["maximize"] else grad
        step = state["step"] = state.get("step", 0) + 1
        if weight_decay:
            if group["decoupled_weight_decay"]:
                p.mul_(1.0 - lr * weight_decay)
            else:
                d = d.clone().add_(p, alpha=weight_decay)
        # PyTorch's arrangement of the same formulas, so results agree to the last bits
        m = lerp_(self.buffer(p, state, "exp_avg"), d, 1.0 - beta1)
        v = square_average_(self.buffer(p, state, "exp_avg_sq"), d, beta2)
        if group["amsgrad"]:
            v_max = self.buffer(p, state, "max_exp_avg_sq")
            v = v_max.copy_(where(v_max < v, v, v_max))
        correction1 = 1.0 - beta1**step
        correction2 = 1.0 - beta2**step
        denominator = v.sqrt().div_(correction2**0.5).add_(group["eps"])
        p.add_(m / denominator, alpha=-lr / correction1)
